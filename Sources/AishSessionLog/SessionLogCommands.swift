import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSQLite

/// `log`, `show`, `stats`, `sql`, `export`: reading the session log (SPEC §6).
package enum SessionLogCommands {
    package static let all: [CommandSpec] = [log, show, stats, sql, export]

    private static let statusWords = ["ok", "error", "partial", "cancelled", "timeout", "skipped"]
    private static let timeoutOption = OptionSpec(["--timeout"], .duration("S"),
        help: "stop the read after S (default 10s in scripts, -c and pipes; none at the terminal; 0 = none)")
    private static let sinceOption = OptionSpec(["--since"], .text("T"), help: "only rows since a time: 1h, 30m, 2d, 2026-11-27 or 2026-11-27T10:00")

    // MARK: log

    package static let log = CommandSpec(
        name: "log",
        summary: "list logged request attempts, newest first",
        help: """
            One line per request attempt: id, time, model → provider, status, time to first token, \
            total latency, completion tokens and the first words of the prompt. -q searches prompts \
            and replies (full-text: every word must appear; word* matches a prefix). --commands \
            lists commands instead (-q then matches their text). `show ID` prints one in full.
            """,
        options: [
            OptionSpec(["-n", "--limit"], .wholeNumber("N"), help: "how many rows (default 20)"),
            OptionSpec(["-m", "--model"], .text("MODEL"), help: "requested or backend model"),
            OptionSpec(["-p", "--provider"], .text("PROVIDER"), help: "provider name"),
            OptionSpec(["--status"], .oneOf(statusWords), help: "only attempts (or commands) with this status"),
            sinceOption,
            OptionSpec(["-q", "--query"], .text("TEXT"), help: "full-text search over prompts and replies"),
            OptionSpec(["--commands"], help: "list commands instead of request attempts"),
            timeoutOption,
        ],
        report: ReportShape(LogReport.self),
        otherReports: [ReportShape(LogCommandsReport.self, mode: "log --commands")],
        run: { inv, ctx in try runLog(inv, ctx) })

    package static func runLog(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let limit = try inv.int("--limit", default: 20)
        guard limit > 0 else { throw UsageError(message: "log: -n takes a positive number, got \(limit)") }
        let since = try parseSince(inv, command: "log")
        let reader = try openReader(ctx, command: "log")
        let budget = try ReadBudget(inv, ctx, command: "log")
        return try budget.run(reader, interrupt: ctx.interrupt) {
            try runLog(inv, reader, limit: limit, since: since)
        }
    }

    private static func runLog(_ inv: Invocation, _ reader: SessionLogReader, limit: Int, since: Date?) throws -> CommandResult {
        if inv.flag("--commands") { return try listCommands(reader, inv, limit: limit, since: since) }
        let filter = AttemptFilter(
            limit: limit, model: inv.value("--model"), provider: inv.value("--provider"), status: inv.value("--status"),
            since: since, search: inv.value("--query").flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 })
        let rows = try query("log", reader.path) { try reader.attempts(filter) }
        var none = ""
        if rows.isEmpty {
            none = isFiltered(inv) ? "no logged request attempts match\n" : "no request attempts logged\n"
            none += try query("log", reader.path) { try unknownNameHint(reader, model: filter.model, provider: filter.provider) }
        }
        return CommandResult(report: LogReport(rows: rows, noneText: none))
    }

    /// A -p/-m name the log has never seen is likely a typo: say so, with the closest name.
    private static func unknownNameHint(_ reader: SessionLogReader, model: String?, provider: String?) throws -> String {
        guard model != nil || provider != nil else { return "" }
        let known = try reader.loggedNames()
        var hint = ""
        for (what, name, names) in [("provider", provider, known.providers), ("model", model, known.models)] {
            guard let name, !names.contains(name) else { continue }
            hint += "no attempt in the log names \(what) '\(name)'"
            if let s = Suggest.closest(to: name, among: names) { hint += " — did you mean '\(s)'?" }
            hint += "\n"
        }
        return hint
    }

    private static func isFiltered(_ inv: Invocation) -> Bool {
        ["--model", "--provider", "--status", "--since", "--query"].contains { inv.value($0) != nil }
    }

    private static func listCommands(_ reader: SessionLogReader, _ inv: Invocation, limit: Int, since: Date?) throws
        -> CommandResult
    {
        let statusFilter = inv.value("--status")
        let rows = try query("log", reader.path) {
            try reader.commands(limit: limit, status: statusFilter, since: since, search: inv.value("--query"))
        }
        let none = rows.isEmpty ? (isFiltered(inv) ? "no logged commands match\n" : "no commands logged\n") : ""
        return CommandResult(report: LogCommandsReport(rows: rows, noneText: none))
    }

    // MARK: show

    package static let show = CommandSpec(
        name: "show",
        summary: "everything about one request attempt (default: the newest) or one command",
        help: """
            For an attempt: when and how it was routed, provider and backend model, status, HTTP \
            status, error, timings, tokens, server-side timings, the prompt and the reply (or the \
            partial reply of a failed stream), every attempt of the same request, and the command \
            that made it. `show cmd:ID` shows a command and the attempts it made.
            """,
        positionals: [PositionalSpec(name: "ID | cmd:ID", help: "attempt id from `log`, or cmd: and a command id", optional: true)],
        report: ReportShape(ShowAttemptReport.self),
        otherReports: [ReportShape(ShowCommandReport.self, mode: "show cmd:ID")],
        run: { inv, ctx in try runShow(inv, ctx) })

    package static func runShow(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let arg = inv.positionals.first ?? "last"
        if arg.hasPrefix("cmd:") {
            guard let id = Int64(arg.dropFirst(4)), id > 0 else {
                throw UsageError(message: "show: '\(arg)' is not a command id (cmd:N)")
            }
            let reader = try openReader(ctx, command: "show")
            return try showCommand(reader, id: id)
        }
        let reader = try openReader(ctx, command: "show")
        let row: AttemptRow
        if arg == "last" {
            guard let r = try query("show", reader.path, { try reader.latestAttempt() }) else {
                throw CommandFailure("show: no request attempts logged yet")
            }
            row = r
        } else {
            guard let id = Int64(arg), id > 0 else {
                throw UsageError(message: "show: '\(arg)' is not an attempt id (a number from `log`, or cmd:N)")
            }
            guard let r = try query("show", reader.path, { try reader.attempt(id: id) }) else {
                throw CommandFailure("show: no request attempt with id \(id)")
            }
            row = r
        }
        return try showAttempt(reader, row)
    }

    private static func showAttempt(_ reader: SessionLogReader, _ r: AttemptRow) throws -> CommandResult {
        let chain = try query("show", reader.path) { try reader.chain(requestID: r.requestID) }
        let command = try r.commandID.flatMap { id in try query("show", reader.path) { try reader.command(id: id) } }
        let session = try r.sessionID.flatMap { id in try query("show", reader.path) { try reader.session(id: id) } }

        return CommandResult(report: ShowAttemptReport(row: r, chain: chain, command: command, session: session))
    }

    private static func showCommand(_ reader: SessionLogReader, id: Int64) throws -> CommandResult {
        guard let c = try query("show", reader.path, { try reader.command(id: id) }) else {
            throw CommandFailure("show: no command with id cmd:\(id)")
        }
        let attempts = try query("show", reader.path) { try reader.attempts(commandID: id) }
        let session = try c.sessionID.flatMap { sid in try query("show", reader.path) { try reader.session(id: sid) } }
        return CommandResult(report: ShowCommandReport(command: c, attempts: attempts, session: session))
    }

    // MARK: stats

    package static let stats = CommandSpec(
        name: "stats",
        summary: "per model or provider: requests, error rate, TTFT and latency p50/p90/p99, tokens/s",
        help: """
            Counts every request attempt sent (skipped ones are not). Errors are error, timeout \
            and partial attempts; cancelled ones are counted but are not errors. TTFT percentiles \
            cover every attempt that produced a first token, latency and tokens/s the successful \
            ones. The last line sums all groups. Over more than 20,000 attempts the percentiles \
            come from daily histograms the log keeps (bins about 1% wide), so they are within \
            about 1% of the exact values; the output says so.
            With --by provider, requests a LiteLLM gateway answered are split by its \
            x-litellm-overhead-duration-ms header into the gateway's own time (GATEWAY) and the \
            rest of the latency (BACKEND: the backend and the network), p50 in the table and \
            p50/p90/p99 in --json.
            """,
        options: [
            sinceOption,
            OptionSpec(["--by"], .oneOf(["model", "provider"]), help: "group by requested model (default) or provider"),
            timeoutOption,
        ],
        report: ReportShape(StatsReport.self),
        run: { inv, ctx in try runStats(inv, ctx) })

    package static func runStats(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let by = inv.value("--by") ?? "model"  // model or provider: the parser refuses any other
        let since = try parseSince(inv, command: "stats")
        let reader = try openReader(ctx, command: "stats")
        let budget = try ReadBudget(inv, ctx, command: "stats")
        let (groups, total, exact) = try budget.run(reader, interrupt: ctx.interrupt) {
            try query("stats", reader.path) {
                try reader.stats(since: since, byProvider: by == "provider", interrupt: ctx.interrupt)
            }
        }
        // --by provider: what the gateway's own overhead header says of its share.
        let split = by == "provider" ? try query("stats", reader.path) { try reader.gatewaySplit(since: since) } : [:]
        var allOverhead: [Double] = [], allBackend: [Double] = []
        for name in split.keys.sorted() { allOverhead += split[name]!.overhead; allBackend += split[name]!.backend }
        func group(_ g: StatsGroup, splitOf name: String?) -> StatsReport.Group {
            var overhead: [Double] = allOverhead, backend: [Double] = allBackend
            if let name { (overhead, backend) = split[name] ?? ([], []) }
            let hasSplitData = !overhead.isEmpty
            return StatsReport.Group(
                name: g.name, requests: g.requests, errors: g.errors, errorRate: g.errorRate,
                ttft: .init(g.ttft.percentiles()), latency: .init(g.latency.percentiles()), tokensPerSecond: g.meanTokensPerSecond,
                gatewayOverhead: hasSplitData ? .init(Percentiles.summary(overhead)) : nil,
                backendLatency: hasSplitData ? .init(Percentiles.summary(backend)) : nil,
                cacheHits: g.cacheHits, cacheHitRatio: g.cacheHitRatio)
        }
        return CommandResult(report: StatsReport(
            by: by, since: since, sinceText: since == nil ? nil : inv.value("--since"),
            groups: groups.map { group($0, splitOf: $0.name) }, total: group(total, splitOf: nil), exact: exact))
    }

    // MARK: sql

    package static let sql = CommandSpec(
        name: "sql",
        summary: "run one read-only SQL statement over the session log",
        help: """
            Tables: sessions, commands, attempts (with attempts_fts for full-text MATCH), messages, \
            health_probes, runs, service_actions, metric_samples. The query runs on a separate \
            read-only connection: SQLite itself refuses writes, schema changes, ATTACH and PRAGMA \
            assignments. Quote the query so the shell passes it as one word, e.g. \
            sql 'SELECT provider, count(*) FROM attempts GROUP BY provider'. A single-value \
            answer is the field value (sql 'SELECT count(*) FROM attempts' then expect value > 0).
            Ctrl-C stops a running query; --timeout bounds it (default 10s outside the terminal).
            """,
        options: [timeoutOption],
        positionals: [PositionalSpec(name: "QUERY", variadic: true)],
        report: ReportShape(SQLReport.self),
        run: { inv, ctx in try runSQL(inv, ctx) })

    /// Rows shown as text; --json returns them all.
    package static let sqlTextRowLimit = 1000

    package static func runSQL(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let text = inv.positionals.joined(separator: " ").trimming(.whitespacesAndNewlines)
        guard !text.isEmpty else { throw UsageError(message: "sql: a query is needed") }
        let reader = try openReader(ctx, command: "sql")
        let budget = try ReadBudget(inv, ctx, command: "sql")
        return try budget.run(reader, interrupt: ctx.interrupt) { try runSQL(text, reader, ctx) }
    }

    private static func runSQL(_ text: String, _ reader: SessionLogReader, _ ctx: ShellContext) throws -> CommandResult {
        let statement: Statement
        do {
            statement = try reader.db.prepare(text)
        } catch let e as SQLiteError {
            if e.isAuthorizationDenied, let what = reader.db.takeAuthorizerDenial() {
                throw CommandFailure("sql: refused: \(what) is not allowed (the session log is read-only here)")
            }
            throw CommandFailure("sql: \(e.message)")
        }
        _ = reader.db.takeAuthorizerDenial()
        guard statement.isReadOnly else {
            throw CommandFailure("sql: refused: the statement would write (the session log is read-only here)")
        }
        let columns = (0..<statement.columnCount).map { statement.columnName($0) }
        var rows: [[SQLValue]] = []
        var count = 0
        // Text mode keeps what the table shows; --json keeps every row.
        let keep = ctx.options.json ? Int.max : sqlTextRowLimit
        do {
            while try statement.step() {
                count += 1
                if count & 0x3ff == 0, ctx.interrupt.isRaised { throw CommandFailure("sql: interrupted") }
                if rows.count < keep { rows.append((0..<columns.count).map { statement.value($0) }) }
            }
        } catch let e as SQLiteError where !e.isInterrupted {
            throw CommandFailure("sql: \(e.message)")
        }
        return CommandResult(report: SQLReport(columns: columns, count: count, rows: rows))
    }

    // MARK: export

    package static let export = CommandSpec(
        name: "export",
        summary: "write logged request attempts to a JSON or CSV file",
        help: """
            Every request attempt (oldest first) with all its columns, including prompt and reply. \
            The format follows the file's extension unless --format says otherwise (JSON by \
            default). The file is created private (0600): it holds prompts and replies.
            """,
        options: [
            OptionSpec(["--format"], .oneOf(["json", "csv"]), help: "file format"),
            sinceOption,
            OptionSpec(["--timeout"], .duration("S"), help: "stop after S, leaving the file incomplete (default: none; Ctrl-C stops it)"),
        ],
        positionals: [PositionalSpec(name: "FILE", help: "the file to write", completion: .files)],
        report: ReportShape(ExportReport.self),
        run: { inv, ctx in try runExport(inv, ctx) })

    package static func runExport(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let file = inv.positionals[0]
        // json or csv: the parser refuses any other --format.
        let format = inv.value("--format") ?? (file.lowercased().hasSuffix(".csv") ? "csv" : "json")
        let since = try parseSince(inv, command: "export")
        let reader = try openReader(ctx, command: "export")
        let out: OutputFile
        do { out = try OutputFile(path: file, privacy: .privateToUser) } catch {
            throw CommandFailure("export: cannot write \(file): \(error)")
        }
        // What leaves aish for a file is masked like the terminal's output (rows are masked
        // already when logged; a log written before a secret was known is not).
        let secrets = ctx.output.secrets
        func write(_ text: String) throws {
            do { try out.write(secrets.redact(text)) } catch { throw CommandFailure("export: cannot write \(file): \(error)") }
        }
        // A big export is legitimately slow: no default time limit, only the one asked for.
        let budget = try ReadBudget(inv, ctx, command: "export", scriptDefault: nil, incompleteFile: file)
        var count = 0
        let columns = AttemptColumns.table.columns.map(\.name)
        try write(format == "csv" ? columns.joined(separator: ",") + "\r\n" : "[")
        do {
          try budget.run(reader, interrupt: ctx.interrupt) {
          try query("export", reader.path) {
            try reader.forEachAttempt(AttemptFilter(since: since)) { row in
                if count & 0x3ff == 0, ctx.interrupt.isRaised { throw ReadBudget.Stopped(message: "export: interrupted; \(file) is incomplete") }
                if format == "csv" {
                    guard case let .object(pairs) = row.json else { return true }
                    let line = pairs.map { (_, v) -> String in
                        switch v {
                        case .null: return ""
                        case let .string(s): return LogFormat.csvField(s)
                        default: return LogFormat.csvField(v.displayText)
                        }
                    }.joined(separator: ",")
                    try write(line + "\r\n")
                } else {
                    try write((count == 0 ? "\n" : ",\n") + row.json.serialized())
                }
                count += 1
                return true
            }
          }
        }
        } catch let stopped as ReadBudget.Stopped {
            // Stopped by Ctrl-C or --timeout: what was read is kept, as the message says.
            do { try out.commit() } catch { throw CommandFailure("export: cannot write \(file): \(error)") }
            throw CommandFailure(stopped.message)
        }
        if format == "json" { try write(count == 0 ? "]\n" : "\n]\n") }
        do { try out.commit() } catch { throw CommandFailure("export: cannot write \(file): \(error)") }
        return CommandResult(report: ExportReport(count: count, file: file, format: format))
    }

    // MARK: shared

    private static func parseSince(_ inv: Invocation, command: String) throws -> Date? {
        guard let raw = inv.value("--since") else { return nil }
        guard let date = LogTime.parseSince(raw) else {
            throw UsageError(message: "\(command): --since takes a duration back from now (30m, 1h, 2d), a date (2026-11-27) or a date and time (2026-11-27T10:00), got '\(raw)'")
        }
        return date
    }

    /// The read-only connection of this shell, opened on first use.
    package static func openReader(_ ctx: ShellContext, command: String) throws -> SessionLogReader {
        let path = SessionLogAccess.resolvePath(ctx.options.databasePath, environment: ctx.environment)
        let cache = ctx.state(SessionLogReaderCache.self) { SessionLogReaderCache() }
        if let r = cache.reader, r.path == path { return r }
        do {
            let r = try SessionLogReader(path: path)
            cache.reader = r
            return r
        } catch let e as SessionLogUnavailable {
            throw CommandFailure("\(command): session log unavailable: \(path): \(e.reason)")
        }
    }

    /// Runs a read, turning SQLite failures into "COMMAND: session log unavailable: …".
    private static func query<T>(_ command: String, _ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as SQLiteError where !e.isInterrupted {
            let reason = e.isCorrupt || e.isBusy ? SessionLog.unavailable(e).reason : e.description
            throw CommandFailure("\(command): session log unavailable: \(path): \(reason)")
        }
    }
}

/// How long a read of the log may run. Ctrl-C and SIGTERM always stop it (SQLite is asked
/// to stop the statement in flight); `--timeout` bounds it, by default 10 s outside the
/// interactive shell, where no one is there to press Ctrl-C.
package struct ReadBudget {
    /// A read stopped by Ctrl-C, SIGTERM or `--timeout` (an export keeps what it wrote).
    package struct Stopped: UserFacingError {
        package var message: String
        package var exitCode: ExitCode { .failure }
        package var description: String { message }
    }

    package static let scriptDefaultSeconds = 10.0

    package var command: String
    package var seconds: Double?
    package var label: String
    package var incompleteFile: String?

    package init(_ inv: Invocation, _ ctx: ShellContext, command: String,
         scriptDefault: Double? = ReadBudget.scriptDefaultSeconds, incompleteFile: String? = nil) throws {
        self.command = command
        self.incompleteFile = incompleteFile
        if let raw = inv.value("--timeout") {
            guard let s = DurationText.seconds(raw) else {
                throw UsageError(message: "\(command): --timeout takes a duration such as 500ms, 10s or 1m (0 for none), got '\(raw)'")
            }
            seconds = s > 0 ? s : nil
            label = raw
        } else {
            seconds = ctx.options.interactive ? nil : scriptDefault
            label = seconds.map { JSONValue.format($0) + "s" } ?? ""
        }
    }

    package func run<T>(_ reader: SessionLogReader, interrupt: InterruptFlag, _ body: () throws -> T) throws -> T {
        let deadline = seconds.map { MonotonicClock.now() + $0 }
        let timedOut = { deadline.map { MonotonicClock.now() > $0 } ?? false }
        let incomplete = incompleteFile.map { "; \($0) is incomplete" } ?? ""
        do {
            return try reader.db.withStopCheck({ interrupt.isRaised || timedOut() }, body)
        } catch let e as SQLiteError where e.isInterrupted {
            if !interrupt.isRaised && timedOut() {
                throw Stopped(message: "\(command): stopped after \(label) (--timeout)\(incomplete); narrow the query or give a longer --timeout")
            }
            throw Stopped(message: "\(command): interrupted\(incomplete)")
        }
    }
}

package final class SessionLogReaderCache {
    package var reader: SessionLogReader?
}

