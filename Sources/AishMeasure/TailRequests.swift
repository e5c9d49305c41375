import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSessionLog

/// `tail requests`: request attempts as they are written to the session log, by this aish
/// or any other process using the same file. The log is read on its own read-only
/// connection and polled by row id (WAL lets it read while writers write).
package enum TailRequests {
    package static func run(_ inv: Invocation, _ ctx: ShellContext, bounds: TailCommand.Bounds) throws -> CommandResult {
        let every = try inv.duration("--every", default: 0.5)
        guard every >= 0.05 else { throw UsageError(message: "tail: --every must be at least 50ms") }
        let slowMs = try slowThreshold(inv.value("--slow"))
        let model = inv.value("--model")
        let provider = inv.value("--provider")

        let path = SessionLogAccess.resolvePath(ctx.options.databasePath, environment: ctx.environment)
        let reader: SessionLogReader
        do { reader = try SessionLogReader(path: path) } catch {
            throw CommandFailure("tail requests: session log unavailable: \(path): \(error)")
        }
        let newRows = try reader.db.prepare("SELECT \(reader.attemptColumns) FROM attempts WHERE id > ? ORDER BY id LIMIT 1000")
        var lastID = try startID(reader)

        var printed = ""
        var shown: [JSONValue] = []
        var count = 0
        let started = MonotonicClock.now()
        let json = ctx.options.json
        if bounds.live {
            ctx.output.write("tail requests — new attempts in \(path) (Ctrl-C to stop)\n")
        }
        loop: while !ctx.interrupt.isRaised {
            let rows: [AttemptRow]
            do {
                newRows.reset()
                try newRows.bind([.int(lastID)])
                var batch: [AttemptRow] = []
                while try newRows.step() { batch.append(AttemptRow(newRows)) }
                rows = batch
            } catch {
                throw CommandFailure("tail requests: reading \(path) failed: \(error)")
            }
            for r in rows {
                lastID = max(lastID, r.id)
                guard matches(r, model: model, provider: provider, slowMs: slowMs) else { continue }
                count += 1
                // A live tail can run for days: only a bounded one keeps its rows.
                if json || !bounds.live { shown.append(r.json) }
                if !json {
                    let line = self.line(r) + "\n"
                    ctx.output.write(line)
                    printed += line
                }
                if let n = bounds.count, count >= n { break loop }
            }
            if rows.count == 1000 { continue }   // more are waiting: no pause
            let elapsed = MonotonicClock.now() - started
            if let seconds = bounds.seconds, elapsed >= seconds { break }
            let pause = bounds.seconds.map { min(every, max(0, $0 - elapsed)) } ?? every
            if !ctx.sleep(seconds: pause) { break }
        }
        // The terminal echoed "^C" after the last row: the prompt should start on a line of its own.
        if bounds.live, ctx.interrupt.isRaised { ctx.output.write("\n") }
        return CommandResult(report: TailRequestsReport(count: count, attempts: shown, printed: printed))
    }

    /// Rows already in the log are history (`log` shows them); the tail starts after them.
    package static func startID(_ reader: SessionLogReader) throws -> Int64 {
        let s = try reader.db.prepare("SELECT COALESCE(MAX(id), 0) FROM attempts")
        return try s.step() ? s.int64(0) : 0
    }

    /// `--slow 500` (milliseconds), `--slow 2s`, `--slow 750ms`.
    package static func slowThreshold(_ raw: String?) throws -> Double? {
        guard let raw else { return nil }
        if let ms = Double(raw), ms >= 0 { return ms }
        if let s = DurationText.seconds(raw) { return s * 1000 }
        throw UsageError(message: "tail: --slow takes milliseconds or a duration such as 2s, got '\(raw)'")
    }

    package static func matches(_ r: AttemptRow, model: String?, provider: String?, slowMs: Double?) -> Bool {
        if let model, r.requestedModel != model, r.backendModel != model { return false }
        if let provider, r.provider != provider { return false }
        if let slowMs { guard let total = r.totalMs, total >= slowMs else { return false } }
        return true
    }

    /// `#42 09:41:02 smart → backup ok ttft 120ms total 1.20s 64 tok [compare] "In two sentences…"`
    package static func line(_ r: AttemptRow) -> String {
        var s = "#\(r.id) \(LogTime.short(r.startedAt)) \(r.requestedModel) → \(r.provider.isEmpty ? "-" : r.provider) \(r.status)"
        if let h = r.httpStatus, r.status != "ok" { s += " http \(h)" }
        s += " ttft \(DurationText.milliseconds(r.ttftMs)) total \(DurationText.milliseconds(r.totalMs))"
        if let t = r.completionTokens { s += " \(t) tok" }
        if r.kind != "chat" { s += " [\(r.kind)]" }
        if let e = r.error, r.status != "ok" {
            s += " " + LogFormat.preview(e, limit: 80)
        } else {
            s += " \"" + LogFormat.preview(r.prompt, limit: 40) + "\""
        }
        return s
    }
}
