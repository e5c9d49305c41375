import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSQLite

// The reports of `log`, `show`, `stats`, `sql` and `export`, each with its text form.
// Rows of the log (`attempts`, `chain`, `command`, `session`) appear in JSON with the
// log's own column names (the names `sql` and `export` use); the top-level figures use the
// names `expect` reads (`ttft_ms`, `latency_ms`, `tokens`, `provider`). Every field
// is always present: null when unknown.

/// The figures of one attempt that `expect` reads after `log` (the newest listed) and
/// `show` (the one shown), flattened into the report's top level; all null when there is
/// no attempt.
package struct AttemptFigures: Encodable, Sendable {
    package var row: AttemptRow?

    package init(_ r: AttemptRow?) { row = r }

    package enum CodingKeys: String, CodingKey {
        case id, model, provider, attemptStatus = "attempt_status", ttft = "ttft_ms", latency = "latency_ms", tokens, cacheHit = "cache_hit"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(row.map { JSONValue.int(Int($0.id)) } ?? .null, forKey: .id)
        try c.encode(row.map { JSONValue.string($0.requestedModel) } ?? .null, forKey: .model)
        try c.encode(row.map { JSONValue.string($0.provider) } ?? .null, forKey: .provider)
        try c.encode(row.map { JSONValue.string($0.status) } ?? .null, forKey: .attemptStatus)
        try c.encode(row?.ttftMs.map(JSONValue.double) ?? .null, forKey: .ttft)
        try c.encode(row?.totalMs.map(JSONValue.double) ?? .null, forKey: .latency)
        try c.encode(row?.completionTokens.map(JSONValue.int) ?? .null, forKey: .tokens)
        try c.encode(row?.cacheHit.map(JSONValue.bool) ?? .null, forKey: .cacheHit)
    }

    /// The fields, of `which` attempt ("the newest listed attempt").
    package static func fields(of which: String) -> [ReportField] {
        [
            ReportField("id", "id of \(which)"),
            ReportField("model", "requested model of \(which)"),
            ReportField("provider", "provider of \(which)"),
            ReportField("attempt_status", "status of \(which): ok, error, partial, cancelled, timeout or skipped"),
            ReportField("ttft_ms", "time to first token of \(which) (null when none)", unit: "ms"),
            ReportField("latency_ms", "total time of \(which) (null when unknown)", unit: "ms"),
            ReportField("tokens", "completion tokens of \(which) (null when not reported)"),
            ReportField("cache_hit", "whether a LiteLLM gateway answered \(which) from its response cache (null: not a gateway)"),
        ]
    }
}

/// The example attempt of the reports' drift test.
private let exampleAttempt: AttemptRow = {
    var r = AttemptRow()
    r.id = 7
    r.requestID = "req-1"
    r.kind = "chat"
    r.startedAt = "2026-11-27T09:19:11.123Z"
    r.requestedModel = "llama3"
    r.provider = "ollama"
    r.backendModel = "llama3:8b"
    r.attempt = 1
    r.status = "ok"
    r.ttftMs = 120
    r.totalMs = 900
    r.completionTokens = 32
    r.prompt = "hi"
    r.reply = "hello"
    return r
}()

// MARK: log

/// `log`: the request attempts listed, newest first.
package struct LogReport: CommandReport {
    package var rows: [AttemptRow]
    /// What the text says when no row matched ("no request attempts logged\n", and a hint
    /// about a misspelt name).
    package var noneText: String

    package enum CodingKeys: String, CodingKey { case count, attempts }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rows.count, forKey: .count)
        try AttemptFigures(rows.first).encode(to: encoder)
        try c.encode(rows.map(\.json), forKey: .attempts)
    }

    package static let fields = [ReportField("count", "attempts listed (the next seven are null when none)")]
        + AttemptFigures.fields(of: "the newest listed attempt")
        + [ReportField("attempts", "each listed attempt with every column of the log (names as in sql and export)")]

    package static let example = LogReport(rows: [exampleAttempt], noneText: "")

    package func renderText() -> String {
        if rows.isEmpty { return noneText }
        return LogFormat.table(
            ["ID", "TIME", "MODEL → PROVIDER", "STATUS", "TTFT", "LATENCY", "TOKENS", "PROMPT"],
            rows.map { r in
                [String(r.id), LogTime.short(r.startedAt), "\(r.requestedModel) → \(r.provider)", r.status,
                 DurationText.milliseconds(r.ttftMs), DurationText.milliseconds(r.totalMs), r.completionTokens.map(String.init) ?? "-",
                 LogFormat.preview(r.prompt)]
            }, right: [0, 4, 5, 6])
    }
}

/// `log --commands`: the commands listed, newest first.
package struct LogCommandsReport: CommandReport {
    package var rows: [CommandRow]
    package var noneText: String

    package enum CodingKeys: String, CodingKey { case count, commands }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rows.count, forKey: .count)
        try c.encode(rows.map(\.json), forKey: .commands)
    }

    package static let fields = [
        ReportField("count", "commands listed"),
        ReportField("commands", "each listed command with every column of the log's commands table"),
    ]

    package static let example = LogCommandsReport(
        rows: [CommandRow(id: 3, sessionID: 1, startedAt: "2026-11-27T09:19:11.123Z", text: "health", sourceFile: nil, line: nil,
                          status: "ok", durationMs: 12, error: nil)],
        noneText: "")

    package func renderText() -> String {
        if rows.isEmpty { return noneText }
        return LogFormat.table(
            ["ID", "TIME", "STATUS", "DURATION", "SOURCE", "COMMAND"],
            rows.map { c in
                ["cmd:\(c.id)", LogTime.short(c.startedAt), c.status, DurationText.milliseconds(c.durationMs),
                 c.location ?? "-", LogFormat.preview(c.text, limit: 60)]
            }, right: [0, 3])
    }
}

// MARK: show

/// `show [ID]`: one attempt, the attempts of its request, its command and session.
package struct ShowAttemptReport: CommandReport {
    package var row: AttemptRow
    package var chain: [AttemptRow]
    package var command: CommandRow?
    package var session: SessionRow?

    package enum CodingKeys: String, CodingKey { case requestID = "request_id", attempt, chain, command, session }

    package func encode(to encoder: any Encoder) throws {
        try AttemptFigures(row).encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(row.requestID, forKey: .requestID)
        try c.encode(row.json, forKey: .attempt)
        try c.encode(chain.map(\.json), forKey: .chain)
        try c.encode(command?.json ?? .null, forKey: .command)
        try c.encode(session?.json ?? .null, forKey: .session)
    }

    package static let fields = AttemptFigures.fields(of: "the attempt shown") + [
        ReportField("request_id", "the request the attempt belongs to"),
        ReportField("attempt", "the attempt with every column of the log"),
        ReportField("chain", "every attempt of the same request, in order"),
        ReportField("command", "the command that made it (null when not logged)"),
        ReportField("session", "its session (null when not logged)"),
    ]

    package static let example = ShowAttemptReport(row: exampleAttempt, chain: [exampleAttempt], command: nil, session: nil)

    package func renderText() -> String {
        let r = row
        var t = "attempt \(r.id) · request \(r.requestID) · attempt \(r.attempt) of \(chain.count)\n"
        var info: [(String, String)] = [
            ("time", r.startedAt), ("kind", r.kind),
            ("model", "\(r.requestedModel) → \(r.provider)" + (r.backendModel != r.requestedModel ? " (backend model \(r.backendModel))" : "")),
            ("route", r.routeReason.isEmpty ? "-" : r.routeReason),
            ("status", r.status + (r.httpStatus.map { " · HTTP \($0)" } ?? "")
                + (r.cacheHit == true ? " · cache hit (the gateway's response cache answered)" : "")),
        ]
        if let e = r.error { info.append(("error", e)) }
        info += [
            ("ttft", DurationText.milliseconds(r.ttftMs)), ("latency", DurationText.milliseconds(r.totalMs)),
            ("tokens", "\(r.promptTokens.map(String.init) ?? "-") prompt · \(r.completionTokens.map(String.init) ?? "-") completion · \(LogFormat.rate(r.tokensPerSecond)) tok/s"),
        ]
        if let st = r.serverTimings { info.append(("server", st)) }
        if let g = r.gateway {
            var parts = ["→ \(g.deployment ?? "?")"]
            if let m = g.modelGroup { parts.append("model group \(m)") }
            if let b = g.apiBase { parts.append(b) }
            if let n = g.attemptedFallbacks { parts.append("\(n) fallback\(n == 1 ? "" : "s")") }
            if let n = g.attemptedRetries { parts.append("\(n) retr\(n == 1 ? "y" : "ies")") }
            if let o = g.overheadMs { parts.append("overhead \(DurationText.milliseconds(o))") }
            if let t = g.responseMs { parts.append("backend response \(DurationText.milliseconds(t))") }
            info.append(("gateway", parts.joined(separator: " · ")))
        }
        if let sp = r.systemPrompt { info.append(("system", LogFormat.preview(sp, limit: 80))) }
        if let o = r.options { info.append(("options", o)) }
        if let s = session {
            var parts = ["\(s.id)", s.mode]
            if let p = s.scriptPath { parts.append(p) }
            parts += ["aish \(s.aishVersion)", s.host, "pid \(s.pid)"]
            info.append(("session", parts.joined(separator: " · ")))
        }
        if let c = command {
            var parts = ["cmd:\(c.id)", LogFormat.preview(c.text, limit: 60)]
            if let loc = c.location { parts.append(loc) }
            parts += [c.status, DurationText.milliseconds(c.durationMs)]
            info.append(("command", parts.joined(separator: " · ")))
        }
        t += LogFormat.aligned(info)
        if chain.count > 1 {
            t += "\nattempts of this request:\n"
            t += LogFormat.indentedTable(LogFormat.table(
                ["", "ID", "#", "PROVIDER", "BACKEND MODEL", "STATUS", "TTFT", "LATENCY", "ERROR"],
                chain.map { a in
                    [a.id == r.id ? ">" : "", String(a.id), String(a.attempt), a.provider, a.backendModel,
                     a.status + (a.httpStatus.map { " \($0)" } ?? ""), DurationText.milliseconds(a.ttftMs),
                     DurationText.milliseconds(a.totalMs), a.error.map { LogFormat.preview($0, limit: 60) } ?? ""]
                }, right: [1, 2, 6, 7]))
        }
        t += "\nprompt:\n" + LogFormat.indented(r.prompt)
        let replyLabel = r.status == "ok" ? "reply" : "partial reply (\(r.status))"
        t += "\n\(replyLabel):\n" + LogFormat.indented(r.reply)
        return t
    }
}

/// `show cmd:ID`: one command and the attempts it made. `attempts` is the list (as
/// --json always had it); the number is `attempt_count`.
package struct ShowCommandReport: CommandReport {
    package var command: CommandRow
    package var attempts: [AttemptRow]
    package var session: SessionRow?

    package enum CodingKeys: String, CodingKey {
        case id, commandStatus = "command_status", attemptCount = "attempt_count", latency = "latency_ms", command, attempts, session
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(command.id, forKey: .id)
        try c.encode(command.status, forKey: .commandStatus)
        try c.encode(attempts.count, forKey: .attemptCount)
        try c.encode(command.durationMs.map(JSONValue.double) ?? .null, forKey: .latency)
        try c.encode(command.json, forKey: .command)
        try c.encode(attempts.map(\.json), forKey: .attempts)
        try c.encode(session?.json ?? .null, forKey: .session)
    }

    package static let fields = [
        ReportField("id", "the command's id (cmd:ID)"),
        ReportField("command_status", "running, ok or error"),
        ReportField("attempt_count", "request attempts the command made"),
        ReportField("latency_ms", "how long the command ran (null while running)", unit: "ms"),
        ReportField("command", "the command with every column of the log"),
        ReportField("attempts", "the attempts it made, each with every column of the log"),
        ReportField("session", "its session (null when not logged)"),
    ]

    package static let example = ShowCommandReport(
        command: LogCommandsReport.example.rows[0], attempts: [exampleAttempt], session: nil)

    package func renderText() -> String {
        let c = command
        var t = "command cmd:\(c.id) · \(c.status) · \(DurationText.milliseconds(c.durationMs))\n"
        var info: [(String, String)] = [("time", c.startedAt), ("text", c.text)]
        if let loc = c.location { info.append(("source", loc)) }
        if let e = c.error { info.append(("error", e)) }
        if let s = session {
            info.append(("session", ["\(s.id)", s.mode, s.scriptPath, "aish \(s.aishVersion)", s.host, "pid \(s.pid)"]
                .compactMap { $0 }.joined(separator: " · ")))
        }
        t += LogFormat.aligned(info)
        if !attempts.isEmpty {
            t += "\nrequest attempts:\n"
            t += LogFormat.indentedTable(LogFormat.table(
                ["ID", "MODEL → PROVIDER", "#", "STATUS", "TTFT", "LATENCY", "TOKENS"],
                attempts.map { a in
                    [String(a.id), "\(a.requestedModel) → \(a.provider)", String(a.attempt), a.status,
                     DurationText.milliseconds(a.ttftMs), DurationText.milliseconds(a.totalMs), a.completionTokens.map(String.init) ?? "-"]
                }, right: [0, 2, 4, 5, 6]))
        }
        return t
    }
}

// MARK: stats

/// `stats`: per model or provider, and over all of them. Every row has the same figures
/// under the same names, null where there is no data; the top level repeats those of
/// `total`, which is what `expect` reads.
package struct StatsReport: CommandReport {
    /// p50, p90 and p99 of one figure, in ms (NaN when no attempt had it).
    package struct Percentiles3: Sendable {
        package var p50: Double
        package var p90: Double
        package var p99: Double
        package init(_ t: (p50: Double, p90: Double, p99: Double)) {
            p50 = t.p50
            p90 = t.p90
            p99 = t.p99
        }
    }

    package struct Group: Encodable, Sendable {
        package var name: String
        package var requests: Int
        package var errors: Int
        package var errorRate: Double
        package var ttft: Percentiles3
        package var latency: Percentiles3
        package var tokensPerSecond: Double?
        /// With --by provider: the gateway's own time and the rest, over the attempts a
        /// LiteLLM gateway answered with its overhead header (nil when none).
        package var gatewayOverhead: Percentiles3?
        package var backendLatency: Percentiles3?
        /// Answered from a LiteLLM gateway's response cache: counted in `requests`, left out
        /// of the TTFT, latency and tokens/s figures.
        package var cacheHits: Int = 0
        package var cacheHitRatio: Double = 0

        package enum CodingKeys: String, CodingKey {
            case name, requests, errors, errorRate = "error_rate", cacheHits = "cache_hits",
                 cacheHitRatio = "cache_hit_ratio", ttft = "ttft_ms", ttftP90 = "ttft_p90_ms", ttftP99 = "ttft_p99_ms",
                 latency = "latency_ms", latencyP90 = "latency_p90_ms", latencyP99 = "latency_p99_ms",
                 tokensPerSecond = "tokens_per_second",
                 gatewayOverhead = "gateway_overhead_ms", gatewayOverheadP90 = "gateway_overhead_p90_ms",
                 gatewayOverheadP99 = "gateway_overhead_p99_ms", backendLatency = "backend_latency_ms",
                 backendLatencyP90 = "backend_latency_p90_ms", backendLatencyP99 = "backend_latency_p99_ms"
        }

        package func encode(to encoder: any Encoder) throws { try encode(to: encoder, withName: true) }

        /// The top level has the figures without the name.
        package func encode(to encoder: any Encoder, withName: Bool) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            func put(_ v: Double?, _ key: CodingKeys) throws {
                if let v, v.isFinite { try c.encode(v, forKey: key) } else { try c.encodeNil(forKey: key) }
            }
            if withName { try c.encode(name, forKey: .name) }
            try c.encode(requests, forKey: .requests)
            try c.encode(errors, forKey: .errors)
            try c.encode(errorRate, forKey: .errorRate)
            try c.encode(cacheHits, forKey: .cacheHits)
            try c.encode(cacheHitRatio, forKey: .cacheHitRatio)
            try put(ttft.p50, .ttft)
            try put(ttft.p90, .ttftP90)
            try put(ttft.p99, .ttftP99)
            try put(latency.p50, .latency)
            try put(latency.p90, .latencyP90)
            try put(latency.p99, .latencyP99)
            try put(tokensPerSecond, .tokensPerSecond)
            try put(gatewayOverhead?.p50, .gatewayOverhead)
            try put(gatewayOverhead?.p90, .gatewayOverheadP90)
            try put(gatewayOverhead?.p99, .gatewayOverheadP99)
            try put(backendLatency?.p50, .backendLatency)
            try put(backendLatency?.p90, .backendLatencyP90)
            try put(backendLatency?.p99, .backendLatencyP99)
        }
    }

    /// "model" or "provider".
    package var by: String
    package var since: Date?
    /// The --since text as typed, for the text form.
    package var sinceText: String?
    package var groups: [Group]
    package var total: Group
    /// False when percentiles come from the histogram bins (a large log).
    package var exact: Bool

    package enum CodingKeys: String, CodingKey { case by, since, percentiles, groups, total }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(by, forKey: .by)
        try c.encode(since.map { JSONValue.string(LogTime.format($0)) } ?? .null, forKey: .since)
        try total.encode(to: encoder, withName: false)
        try c.encode(exact ? "exact" : "histogram", forKey: .percentiles)
        try c.encode(groups, forKey: .groups)
        try c.encode(total, forKey: .total)
    }

    package static let fields = [
        ReportField("by", "model or provider"),
        ReportField("since", "the start of the period (null: the whole log)"),
        ReportField("requests", "attempts sent, over all groups (skipped ones are not)"),
        ReportField("errors", "error, timeout and partial attempts"),
        ReportField("error_rate", "errors / requests, 0 to 1"),
        ReportField("cache_hits", "requests a LiteLLM gateway answered from its response cache (not in the timings)"),
        ReportField("cache_hit_ratio", "cache_hits / requests, 0 to 1"),
        ReportField("ttft_ms", "time to first token, p50 (null when no attempt had one)", unit: "ms"),
        ReportField("ttft_p90_ms", "time to first token, p90", unit: "ms"),
        ReportField("ttft_p99_ms", "time to first token, p99", unit: "ms"),
        ReportField("latency_ms", "latency of successful attempts, p50", unit: "ms"),
        ReportField("latency_p90_ms", "latency, p90", unit: "ms"),
        ReportField("latency_p99_ms", "latency, p99", unit: "ms"),
        ReportField("tokens_per_second", "mean tokens/s of successful attempts"),
        ReportField("gateway_overhead_ms", "--by provider: the gateway's own time, p50 (null but for gateway rows)", unit: "ms"),
        ReportField("gateway_overhead_p90_ms", "gateway overhead, p90", unit: "ms"),
        ReportField("gateway_overhead_p99_ms", "gateway overhead, p99", unit: "ms"),
        ReportField("backend_latency_ms", "--by provider: latency less the gateway's overhead, p50", unit: "ms"),
        ReportField("backend_latency_p90_ms", "backend latency, p90", unit: "ms"),
        ReportField("backend_latency_p99_ms", "backend latency, p99", unit: "ms"),
        ReportField("percentiles", "exact, or histogram over more than 20,000 attempts (within about 1%)"),
        ReportField("groups", "per model or provider: name and the figures above"),
        ReportField("total", "over all groups: the same (name all)"),
    ]

    package static let example: StatsReport = {
        let p = Percentiles3((100, 200, 300))
        let g = Group(name: "ollama", requests: 2, errors: 0, errorRate: 0, ttft: p, latency: p, tokensPerSecond: 40,
                      gatewayOverhead: p, backendLatency: p)
        var total = g
        total.name = "all"
        return StatsReport(by: "provider", since: nil, sinceText: nil, groups: [g], total: total, exact: true)
    }()

    package func renderText() -> String {
        if total.requests == 0 {
            return "no request attempts logged" + (sinceText.map { " since \($0)" } ?? "") + "\n"
        }
        let showSplit = total.gatewayOverhead != nil
        let showHits = total.cacheHits > 0
        let rows = (groups + [total]).map { g -> [String] in
            var row = [g.name, String(g.requests), LogFormat.percent(g.errorRate)]
            if showHits { row += [g.cacheHits == 0 ? "-" : "\(g.cacheHits) (\(LogFormat.percent(g.cacheHitRatio)))"] }
            row += [DurationText.milliseconds(g.ttft.p50), DurationText.milliseconds(g.ttft.p90), DurationText.milliseconds(g.ttft.p99),
                       DurationText.milliseconds(g.latency.p50), DurationText.milliseconds(g.latency.p90), DurationText.milliseconds(g.latency.p99),
                       LogFormat.rate(g.tokensPerSecond)]
            if showSplit {
                row += [g.gatewayOverhead.map { DurationText.milliseconds($0.p50) } ?? "-",
                        g.backendLatency.map { DurationText.milliseconds($0.p50) } ?? "-"]
            }
            return row
        }
        var headers = [by.uppercased(), "REQUESTS", "ERRORS"]
        if showHits { headers += ["CACHE HITS"] }
        headers += ["TTFT p50", "p90", "p99", "LATENCY p50", "p90", "p99", "TOK/S"]
        if showSplit { headers += ["GATEWAY p50", "BACKEND p50"] }
        var text = LogFormat.table(headers, rows, right: Set(1..<headers.count))
        if showHits {
            text += "(CACHE HITS: answered from a LiteLLM gateway's response cache; counted in REQUESTS, "
                + "left out of TTFT, LATENCY and TOK/S, which measure the models)\n"
        }
        if showSplit {
            text += "(GATEWAY: the gateway's own overhead from its x-litellm-overhead-duration-ms header; BACKEND: the rest of the latency)\n"
        }
        if !exact { text += "(percentiles from histogram bins about 1% wide: more than \(SessionLogReader.exactStatsLimit) attempts)\n" }
        return text
    }
}

// MARK: sql

/// `sql QUERY`: the rows of one read-only statement.
package struct SQLReport: CommandReport {
    package var columns: [String]
    /// Rows the statement returned.
    package var count: Int
    /// The rows kept: every row under --json; in text mode the first `SessionLogCommands.sqlTextRowLimit`, as the table shows.
    package var rows: [[SQLValue]]

    /// A single value (`sql 'SELECT count(*) …'`) is what `expect value == N` tests.
    package var value: JSONValue? {
        guard count == 1, columns.count == 1, let only = rows.first?.first else { return nil }
        return SQLReport.json(only)
    }

    package enum CodingKeys: String, CodingKey { case columns, count, value, rows }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(columns, forKey: .columns)
        try c.encode(count, forKey: .count)
        try c.encode(value ?? .null, forKey: .value)
        try c.encode(rows.map { JSONValue.object(zip(columns, $0).map { ($0, SQLReport.json($1)) }) }, forKey: .rows)
    }

    package static let fields = [
        ReportField("columns", "the result's column names"),
        ReportField("count", "rows returned"),
        ReportField("value", "the answer when it is a single value (one row, one column); else null"),
        ReportField("rows", "each row as an object by column name (in text mode the first 1000, as shown)"),
    ]

    package static let example = SQLReport(columns: ["n"], count: 1, rows: [[.int(4)]])

    package func renderText() -> String {
        guard !columns.isEmpty else { return "" }
        let shown = rows.prefix(SessionLogCommands.sqlTextRowLimit)
        var out = LogFormat.table(columns, shown.map { $0.map(SQLReport.text) })
        if count > shown.count {
            out += "(\(count) rows; the first \(shown.count) shown — add LIMIT, or use --json or export)\n"
        } else {
            out += "(\(count) row\(count == 1 ? "" : "s"))\n"
        }
        return out
    }

    package static func json(_ v: SQLValue) -> JSONValue {
        switch v {
        case .null: return .null
        case let .int(i): return .int(Int(i))
        case let .double(d): return .double(d)
        case let .text(s): return .string(s)
        case let .blob(b): return .string(b.map { cFormat("%02x", $0) }.joined())
        }
    }

    package static func text(_ v: SQLValue) -> String {
        switch v {
        case .null: return "NULL"
        case let .int(i): return String(i)
        case let .double(d): return JSONValue.format(d)
        case let .text(s): return s.replacingAll("\n", with: "\\n")
        case let .blob(b): return "x'" + b.map { cFormat("%02x", $0) }.joined() + "'"
        }
    }
}

// MARK: export

/// `export FILE`: what was written where.
package struct ExportReport: CommandReport {
    package var count: Int
    package var file: String
    package var format: String

    package static let fields = [
        ReportField("count", "request attempts written"),
        ReportField("file", "the file written"),
        ReportField("format", "json or csv"),
    ]

    package static let example = ExportReport(count: 4, file: "attempts.csv", format: "csv")

    package func renderText() -> String {
        "exported \(count) request attempt\(count == 1 ? "" : "s") to \(file) (\(format))\n"
    }
}
