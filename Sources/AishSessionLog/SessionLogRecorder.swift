import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSQLite

/// The `SessionRecorder` the shell gets: redacts secrets with the process's one
/// `SecretFilter` (the output step's), serialises writers (compare and
/// bench may record from several threads), and never throws into its caller. The first
/// failed write prints one warning and turns the recorder off; the shell keeps working.
package final class SessionLogRecorder: SessionRecorder, Sendable {
    /// The log (nil once a write failed) and the command being run, so that its attempts
    /// point at it. Unchecked: the SQLite connection is only used under this lock.
    private struct State: @unchecked Sendable {
        var log: SessionLog?
        var currentCommandID: Int64?
    }

    private let state: Locked<State>
    private let secrets: SecretFilter
    private let output: OutputSink
    package let path: String

    package init(log: SessionLog, secrets: SecretFilter, output: OutputSink) {
        state = Locked(State(log: log))
        self.path = log.path
        self.secrets = secrets
        self.output = output
    }

    /// False once a write failed (after the one warning).
    package var isEnabled: Bool { state.withLock { $0.log != nil } }

    /// Runs `body` with the log, the redactor and the current command's id, under the lock.
    private func perform(_ body: (SessionLog, SecretRedactor, _ commandID: Int64?) throws -> Void) {
        let redactor = secrets.current
        state.withLock { s in
            guard let log = s.log else { return }
            do {
                try body(log, redactor, s.currentCommandID)
            } catch {
                let reason: String
                switch error {
                case let e as SQLiteError: reason = SessionLog.unavailable(e).reason
                default: reason = String(describing: error)
                }
                output.writeError(SessionLogAccess.warning(path: path, reason: reason))
                s.log = nil
            }
        }
    }

    package func addSecretVariableNames(_ names: [String]) { secrets.addSecretNames(names) }

    package func addSecretValues(_ values: [String]) { secrets.addSecretValues(values) }

    package func beginCommand(text: String, sourceFile: String?, line: Int?) -> Int64? {
        var id: Int64?
        perform { log, r, _ in
            id = try log.beginCommand(text: r.redact(text), sourceFile: sourceFile, line: line, startedAt: Date())
        }
        state.withLock { $0.currentCommandID = id }
        return id
    }

    package func endCommand(id: Int64?, record: CommandRecord) {
        perform { log, r, _ in
            var redacted = record
            redacted.text = r.redact(record.text)
            redacted.error = r.redact(record.error)
            try log.finishCommand(id: id, record: redacted)
        }
        state.withLock { if $0.currentCommandID == id { $0.currentCommandID = nil } }
    }

    package func recordAttempt(_ record: AttemptRecord) {
        perform { log, r, commandID in try log.insertAttempt(redacted(record, r), commandID: commandID) }
    }

    package func recordAttempts(_ records: [AttemptRecord]) {
        guard !records.isEmpty else { return }
        perform { log, r, commandID in try log.insertAttempts(records.map { redacted($0, r) }, commandID: commandID) }
    }

    private func redacted(_ record: AttemptRecord, _ r: SecretRedactor) -> AttemptRecord {
        var a = record
        a.prompt = r.redact(a.prompt)
        a.replyText = r.redact(a.replyText)
        a.error = r.redact(a.error)
        a.routeReason = r.redact(a.routeReason)
        if let timings = a.serverTimings {
            let text = timings.serialized()
            let clean = r.redact(text)
            if clean != text { a.serverTimings = .string(clean) }
        }
        return a
    }

    package func recordMessage(_ record: MessageRecord) {
        perform { log, r, _ in
            var m = record
            m.content = r.redact(m.content)
            try log.insertMessage(m)
        }
    }

    package func recordHealthProbe(_ record: HealthProbeRecord) {
        perform { log, r, _ in
            var h = record
            h.url = r.redact(h.url)
            h.error = r.redact(h.error)
            try log.insertHealthProbe(h)
        }
    }

    @discardableResult
    package func recordRun(_ record: RunRecord) -> Int64? {
        var id: Int64?
        perform { log, r, _ in
            var run = record
            let p = run.parameters.serialized(), s = run.summary.serialized()
            if r.redact(p) != p { run.parameters = .string(r.redact(p)) }
            if r.redact(s) != s { run.summary = .string(r.redact(s)) }
            id = try log.insertRun(run)
        }
        return id
    }

    package func recordBenchRun(_ record: RunRecord, levels: [BenchLevelRecord]) -> Int64? {
        var id: Int64?
        perform { log, r, _ in
            var run = record
            let p = run.parameters.serialized(), s = run.summary.serialized()
            if r.redact(p) != p { run.parameters = .string(r.redact(p)) }
            if r.redact(s) != s { run.summary = .string(r.redact(s)) }
            var clean = levels
            for i in clean.indices { clean[i].stopReason = r.redact(clean[i].stopReason) }
            id = try log.insertBenchRun(run, levels: clean)
        }
        return id
    }

    package func recordServiceAction(_ record: ServiceActionRecord) {
        perform { log, r, _ in
            var s = record
            s.output = r.redact(s.output)
            try log.insertServiceAction(s)
        }
    }

    package func recordMetricSamples(_ records: [MetricSampleRecord]) {
        perform { log, _, _ in try log.insertMetricSamples(records) }
    }

    package func endSession() {
        perform { log, _, _ in try log.endSession() }
    }
}
