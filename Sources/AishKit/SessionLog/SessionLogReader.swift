import Foundation

/// One request attempt as stored.
struct AttemptRow {
    var id: Int64
    var sessionID: Int64?
    var commandID: Int64?
    var requestID: String
    var kind: String
    var startedAt: String
    var requestedModel: String
    var routeReason: String
    var provider: String
    var backendModel: String
    var attempt: Int
    var status: String
    var httpStatus: Int?
    var error: String?
    var ttftMs: Double?
    var totalMs: Double?
    var promptTokens: Int?
    var completionTokens: Int?
    var tokensPerSecond: Double?
    var serverTimings: String?
    var prompt: String
    var reply: String

    static let columns = """
        id, session_id, command_id, request_id, kind, started_at, requested_model, route_reason, provider, \
        backend_model, attempt, status, http_status, error, ttft_ms, total_ms, prompt_tokens, completion_tokens, \
        tokens_per_second, server_timings, prompt, reply
        """

    init(_ s: Statement) {
        id = s.int64(0)
        sessionID = s.isNull(1) ? nil : s.int64(1)
        commandID = s.isNull(2) ? nil : s.int64(2)
        requestID = s.string(3)
        kind = s.string(4)
        startedAt = s.string(5)
        requestedModel = s.string(6)
        routeReason = s.string(7)
        provider = s.string(8)
        backendModel = s.string(9)
        attempt = s.int(10)
        status = s.string(11)
        httpStatus = s.optionalInt(12)
        error = s.optionalString(13)
        ttftMs = s.optionalDouble(14)
        totalMs = s.optionalDouble(15)
        promptTokens = s.optionalInt(16)
        completionTokens = s.optionalInt(17)
        tokensPerSecond = s.optionalDouble(18)
        serverTimings = s.optionalString(19)
        prompt = s.string(20)
        reply = s.string(21)
    }

    var json: JSONValue {
        func num(_ d: Double?) -> JSONValue { d.map { .double($0) } ?? .null }
        func int(_ i: Int?) -> JSONValue { i.map { .int($0) } ?? .null }
        func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        let timings: JSONValue = serverTimings.map { (try? JSONValue.parse($0)) ?? .string($0) } ?? .null
        return .object([
            ("id", .int(Int(id))), ("session_id", int(sessionID.map(Int.init))),
            ("command_id", int(commandID.map(Int.init))), ("request_id", .string(requestID)), ("kind", .string(kind)),
            ("started_at", .string(startedAt)), ("requested_model", .string(requestedModel)),
            ("route_reason", .string(routeReason)), ("provider", .string(provider)),
            ("backend_model", .string(backendModel)), ("attempt", .int(attempt)), ("status", .string(status)),
            ("http_status", int(httpStatus)), ("error", str(error)), ("ttft_ms", num(ttftMs)),
            ("total_ms", num(totalMs)), ("prompt_tokens", int(promptTokens)),
            ("completion_tokens", int(completionTokens)), ("tokens_per_second", num(tokensPerSecond)),
            ("server_timings", timings), ("prompt", .string(prompt)), ("reply", .string(reply)),
        ])
    }
}

struct CommandRow {
    var id: Int64
    var sessionID: Int64?
    var startedAt: String
    var text: String
    var sourceFile: String?
    var line: Int?
    var status: String
    var durationMs: Double?
    var error: String?

    static let columns = "id, session_id, started_at, text, source_file, line, status, duration_ms, error"

    init(_ s: Statement) {
        id = s.int64(0)
        sessionID = s.isNull(1) ? nil : s.int64(1)
        startedAt = s.string(2)
        text = s.string(3)
        sourceFile = s.optionalString(4)
        line = s.optionalInt(5)
        status = s.string(6)
        durationMs = s.optionalDouble(7)
        error = s.optionalString(8)
    }

    var location: String? { sourceFile.map { f in line.map { "\(f):\($0)" } ?? f } }

    var json: JSONValue {
        .object([
            ("id", .int(Int(id))), ("session_id", sessionID.map { .int(Int($0)) } ?? .null),
            ("started_at", .string(startedAt)), ("text", .string(text)),
            ("source_file", sourceFile.map { .string($0) } ?? .null), ("line", line.map { .int($0) } ?? .null),
            ("status", .string(status)), ("duration_ms", durationMs.map { .double($0) } ?? .null),
            ("error", error.map { .string($0) } ?? .null),
        ])
    }
}

struct SessionRow {
    var id: Int64
    var startedAt: String
    var endedAt: String?
    var mode: String
    var scriptPath: String?
    var aishVersion: String
    var host: String
    var pid: Int

    var json: JSONValue {
        .object([
            ("id", .int(Int(id))), ("started_at", .string(startedAt)), ("ended_at", endedAt.map { .string($0) } ?? .null),
            ("mode", .string(mode)), ("script_path", scriptPath.map { .string($0) } ?? .null),
            ("aish_version", .string(aishVersion)), ("host", .string(host)), ("pid", .int(pid)),
        ])
    }
}

/// Filters of `log`, `export`.
struct AttemptFilter {
    var limit: Int?
    var model: String?
    var provider: String?
    var status: String?
    var since: Date?
    var search: String?
}

/// Per-group figures of `stats`.
struct StatsGroup {
    var name: String
    var requests = 0
    var errors = 0
    var ttft: [Double] = []
    var latency: [Double] = []
    var tokensPerSecondSum = 0.0
    var tokensPerSecondCount = 0

    var errorRate: Double { requests == 0 ? 0 : Double(errors) / Double(requests) }
    var meanTokensPerSecond: Double? { tokensPerSecondCount == 0 ? nil : tokensPerSecondSum / Double(tokensPerSecondCount) }
}

/// The read side: a separate read-only connection (SQLITE_OPEN_READONLY, `query_only`,
/// and an authorizer that refuses anything but reading), shared by `log`, `show`,
/// `stats`, `export` and `sql`.
final class SessionLogReader {
    let path: String
    let db: Database

    init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw SessionLogUnavailable(reason: "no session log has been written there yet")
        }
        do {
            db = try Database(path: path, readOnly: true)
            try db.execute("PRAGMA query_only = 1")
            db.installReadOnlyAuthorizer()
            let version = try db.userVersion()
            if version == 0 { throw SessionLogUnavailable(reason: "the file holds no session log tables") }
        } catch let e as SQLiteError {
            throw SessionLog.unavailable(e)
        }
    }

    /// Newest first.
    func attempts(_ f: AttemptFilter) throws -> [AttemptRow] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let m = f.model {
            conditions.append("(requested_model = ? OR backend_model = ?)")
            values += [.text(m), .text(m)]
        }
        if let p = f.provider { conditions.append("provider = ?"); values.append(.text(p)) }
        if let s = f.status { conditions.append("status = ?"); values.append(.text(s)) }
        if let since = f.since { conditions.append("started_at >= ?"); values.append(.text(LogTime.format(since))) }
        if let q = f.search {
            conditions.append("id IN (SELECT rowid FROM attempts_fts WHERE attempts_fts MATCH ?)")
            values.append(.text(SessionLogReader.ftsQuery(q)))
        }
        var sql = "SELECT \(AttemptRow.columns) FROM attempts"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY started_at DESC, id DESC"
        if let limit = f.limit { sql += " LIMIT \(limit)" }
        let s = try db.prepare(sql)
        try s.bind(values)
        var rows: [AttemptRow] = []
        while try s.step() { rows.append(AttemptRow(s)) }
        return rows
    }

    /// Calls `body` for every attempt matching `f`, oldest first (for export); stops when
    /// `body` returns false.
    func forEachAttempt(_ f: AttemptFilter, _ body: (AttemptRow) throws -> Bool) throws {
        var sql = "SELECT \(AttemptRow.columns) FROM attempts"
        var values: [SQLValue] = []
        if let since = f.since { sql += " WHERE started_at >= ?"; values.append(.text(LogTime.format(since))) }
        sql += " ORDER BY started_at, id"
        let s = try db.prepare(sql)
        try s.bind(values)
        while try s.step() { if try !body(AttemptRow(s)) { return } }
    }

    /// User words become an FTS5 query that cannot be a syntax error: each word is a
    /// quoted phrase (all must match); a trailing `*` keeps prefix search.
    static func ftsQuery(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).map { word -> String in
            var w = String(word)
            let prefix = w.count > 1 && w.hasSuffix("*")
            if prefix { w.removeLast() }
            return "\"" + w.replacingOccurrences(of: "\"", with: "\"\"") + "\"" + (prefix ? "*" : "")
        }.joined(separator: " ")
    }

    func attempt(id: Int64) throws -> AttemptRow? {
        let s = try db.prepare("SELECT \(AttemptRow.columns) FROM attempts WHERE id = ?")
        try s.bind([.int(id)])
        return try s.step() ? AttemptRow(s) : nil
    }

    func latestAttempt() throws -> AttemptRow? {
        let s = try db.prepare("SELECT \(AttemptRow.columns) FROM attempts ORDER BY started_at DESC, id DESC LIMIT 1")
        return try s.step() ? AttemptRow(s) : nil
    }

    /// Every attempt of one request, in order.
    func chain(requestID: String) throws -> [AttemptRow] {
        let s = try db.prepare("SELECT \(AttemptRow.columns) FROM attempts WHERE request_id = ? ORDER BY attempt, id")
        try s.bind([.text(requestID)])
        var rows: [AttemptRow] = []
        while try s.step() { rows.append(AttemptRow(s)) }
        return rows
    }

    func attempts(commandID: Int64) throws -> [AttemptRow] {
        let s = try db.prepare("SELECT \(AttemptRow.columns) FROM attempts WHERE command_id = ? ORDER BY id")
        try s.bind([.int(commandID)])
        var rows: [AttemptRow] = []
        while try s.step() { rows.append(AttemptRow(s)) }
        return rows
    }

    func command(id: Int64) throws -> CommandRow? {
        let s = try db.prepare("SELECT \(CommandRow.columns) FROM commands WHERE id = ?")
        try s.bind([.int(id)])
        return try s.step() ? CommandRow(s) : nil
    }

    func commands(limit: Int, status: String?, since: Date?, search: String?) throws -> [CommandRow] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let st = status { conditions.append("status = ?"); values.append(.text(st)) }
        if let since { conditions.append("started_at >= ?"); values.append(.text(LogTime.format(since))) }
        if let q = search {
            conditions.append("instr(lower(text), lower(?)) > 0")
            values.append(.text(q))
        }
        var sql = "SELECT \(CommandRow.columns) FROM commands"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY started_at DESC, id DESC LIMIT \(limit)"
        let s = try db.prepare(sql)
        try s.bind(values)
        var rows: [CommandRow] = []
        while try s.step() { rows.append(CommandRow(s)) }
        return rows
    }

    func session(id: Int64) throws -> SessionRow? {
        let s = try db.prepare(
            "SELECT id, started_at, ended_at, mode, script_path, aish_version, host, pid FROM sessions WHERE id = ?")
        try s.bind([.int(id)])
        guard try s.step() else { return nil }
        return SessionRow(
            id: s.int64(0), startedAt: s.string(1), endedAt: s.optionalString(2), mode: s.string(3),
            scriptPath: s.optionalString(4), aishVersion: s.string(5), host: s.string(6), pid: s.int(7))
    }

    /// One pass over the covering index `attempts_started_at`: no table rows are read.
    /// Skipped attempts (never sent) are not requests. Errors are error, timeout and
    /// partial; latency percentiles are over successful attempts, TTFT over any that
    /// produced a first token.
    func stats(since: Date?, byProvider: Bool, interrupt: InterruptFlag? = nil) throws -> (groups: [StatsGroup], total: StatsGroup) {
        let column = byProvider ? "provider" : "requested_model"
        var sql = "SELECT \(column), status, ttft_ms, total_ms, tokens_per_second FROM attempts INDEXED BY attempts_started_at"
        var values: [SQLValue] = []
        if let since {
            sql += " WHERE started_at >= ?"
            values.append(.text(LogTime.format(since)))
        }
        let s = try db.prepare(sql)
        try s.bind(values)
        var list: [StatsGroup] = []
        var index: [String: Int] = [:]
        var total = StatsGroup(name: "all")
        var n = 0
        while try s.step() {
            n += 1
            if n & 0xffff == 0, interrupt?.isRaised == true { throw CommandFailure("stats: interrupted") }
            let status = s.string(1)
            if status == "skipped" { continue }
            let name = s.string(0)
            let i: Int
            if let known = index[name] { i = known } else {
                i = list.count
                index[name] = i
                list.append(StatsGroup(name: name))
            }
            list[i].requests += 1
            total.requests += 1
            if status == "error" || status == "timeout" || status == "partial" {
                list[i].errors += 1
                total.errors += 1
            }
            if let t = s.optionalDouble(2) { list[i].ttft.append(t); total.ttft.append(t) }
            if status == "ok" {
                if let l = s.optionalDouble(3) { list[i].latency.append(l); total.latency.append(l) }
                if let tps = s.optionalDouble(4) {
                    list[i].tokensPerSecondSum += tps
                    list[i].tokensPerSecondCount += 1
                    total.tokensPerSecondSum += tps
                    total.tokensPerSecondCount += 1
                }
            }
        }
        let sorted = list.sorted { $0.requests != $1.requests ? $0.requests > $1.requests : $0.name < $1.name }
        return (sorted, total)
    }
}
