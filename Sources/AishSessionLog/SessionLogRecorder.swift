import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSQLite

/// The `SessionRecorder` the shell gets: redacts secrets with the process's one
/// `SecretFilter` (the output step's), serialises writers (compare and
/// bench may record from several threads), and never throws into its caller. The first
/// failed write prints one warning and turns the recorder off; the shell keeps working.
package final class SessionLogRecorder: SessionRecorder, @unchecked Sendable {
    private let lock = ThreadLock()
    private var log: SessionLog?
    private let secrets: SecretFilter
    private let output: OutputSink
    package let path: String
    /// The command being run, so that its attempts point at it.
    private var currentCommandID: Int64?

    package init(log: SessionLog, secrets: SecretFilter, output: OutputSink) {
        self.log = log
        self.path = log.path
        self.secrets = secrets
        self.output = output
    }

    /// False once a write failed (after the one warning).
    package var isEnabled: Bool { lock.withLock { log != nil } }

    private func perform(_ body: (SessionLog, SecretRedactor) throws -> Void) {
        lock.withLock {
            guard let log else { return }
            do {
                try body(log, secrets.current)
            } catch {
                let reason: String
                switch error {
                case let e as SQLiteError: reason = SessionLog.unavailable(e).reason
                default: reason = String(describing: error)
                }
                output.writeError(SessionLogAccess.warning(path: path, reason: reason))
                self.log = nil
            }
        }
    }

    package func addSecretVariableNames(_ names: [String]) { secrets.addSecretNames(names) }

    package func addSecretValues(_ values: [String]) { secrets.addSecretValues(values) }

    package func beginCommand(text: String, sourceFile: String?, line: Int?) -> Int64? {
        var id: Int64?
        perform { log, r in
            id = try log.beginCommand(text: r.redact(text), sourceFile: sourceFile, line: line, startedAt: Date())
        }
        lock.withLock { currentCommandID = id }
        return id
    }

    package func endCommand(id: Int64?, record: CommandRecord) {
        perform { log, r in
            var redacted = record
            redacted.text = r.redact(record.text)
            redacted.error = r.redact(record.error)
            try log.finishCommand(id: id, record: redacted)
        }
        lock.withLock { if currentCommandID == id { currentCommandID = nil } }
    }

    package func recordAttempt(_ record: AttemptRecord) {
        perform { log, r in try log.insertAttempt(redacted(record, r), commandID: currentCommandID) }
    }

    package func recordAttempts(_ records: [AttemptRecord]) {
        guard !records.isEmpty else { return }
        perform { log, r in try log.insertAttempts(records.map { redacted($0, r) }, commandID: currentCommandID) }
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
        perform { log, r in
            var m = record
            m.content = r.redact(m.content)
            try log.insertMessage(m)
        }
    }

    package func recordHealthProbe(_ record: HealthProbeRecord) {
        perform { log, r in
            var h = record
            h.url = r.redact(h.url)
            h.error = r.redact(h.error)
            try log.insertHealthProbe(h)
        }
    }

    @discardableResult
    package func recordRun(_ record: RunRecord) -> Int64? {
        var id: Int64?
        perform { log, r in
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
        perform { log, r in
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
        perform { log, r in
            var s = record
            s.output = r.redact(s.output)
            try log.insertServiceAction(s)
        }
    }

    package func recordMetricSamples(_ records: [MetricSampleRecord]) {
        perform { log, _ in try log.insertMetricSamples(records) }
    }

    package func endSession() {
        perform { log, _ in try log.endSession() }
    }
}
