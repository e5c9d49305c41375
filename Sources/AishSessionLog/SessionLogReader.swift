import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSQLite

/// One request attempt as stored. Its columns, how they are read and their JSON keys are
/// declared once in `AttemptColumns`.
package struct AttemptRow {
    package var id: Int64 = 0
    package var sessionID: Int64?
    package var commandID: Int64?
    package var requestID = ""
    package var kind = ""
    package var startedAt = ""
    package var requestedModel = ""
    package var routeReason = ""
    package var provider = ""
    package var backendModel = ""
    package var attempt = 0
    package var status = ""
    package var httpStatus: Int?
    package var error: String?
    package var ttftMs: Double?
    package var totalMs: Double?
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var tokensPerSecond: Double?
    package var serverTimings: String?
    package var prompt = ""
    package var reply = ""
    package var systemPrompt: String?
    /// The sampling options sent, as JSON text.
    package var options: String?
    package var gateway: GatewayInfo?
    /// Answered from a LiteLLM gateway's response cache (nil: not through a gateway, or an older log).
    package var cacheHit: Bool?

    package static var columns: String { AttemptColumns.table.selectList }

    package static func selectList(schemaVersion: Int, prefix: String = "") -> String {
        AttemptColumns.table.selectList(schemaVersion: schemaVersion, prefix: prefix)
    }

    package init() {}

    /// A row selected with `columns` (or `selectList`).
    package init(_ s: Statement) { AttemptColumns.table.read(s, into: &self) }

    package var json: JSONValue { AttemptColumns.table.json(self) }
}

/// One command as stored (`LogTables.commands`); also what the log writes for one.
package struct CommandRow {
    package var id: Int64 = 0
    package var sessionID: Int64?
    package var startedAt = ""
    package var text = ""
    package var sourceFile: String?
    package var line: Int?
    /// running, ok or error.
    package var status = "running"
    package var durationMs: Double?
    package var error: String?

    package static var columns: String { LogTables.commands.selectList }

    package init() {}

    package init(id: Int64, sessionID: Int64?, startedAt: String, text: String, sourceFile: String?, line: Int?, status: String,
         durationMs: Double?, error: String?) {
        (self.id, self.sessionID, self.startedAt, self.text, self.sourceFile) = (id, sessionID, startedAt, text, sourceFile)
        (self.line, self.status, self.durationMs, self.error) = (line, status, durationMs, error)
    }

    /// A row selected with `columns`.
    package init(_ s: Statement) { LogTables.commands.read(s, into: &self) }

    package var location: String? { sourceFile.map { f in line.map { "\(f):\($0)" } ?? f } }

    package var json: JSONValue { LogTables.commands.json(self) }
}

/// One session as stored (`LogTables.sessions`); also what the log writes for one.
package struct SessionRow {
    package var id: Int64 = 0
    package var startedAt = ""
    package var endedAt: String?
    package var mode = ""
    package var scriptPath: String?
    package var aishVersion = ""
    package var host = ""
    package var pid = 0

    package static var columns: String { LogTables.sessions.selectList }

    package init() {}

    /// A row selected with `columns`.
    package init(_ s: Statement) { LogTables.sessions.read(s, into: &self) }

    package var json: JSONValue { LogTables.sessions.json(self) }
}

/// Filters of `log`, `export`.
package struct AttemptFilter {
    package var limit: Int?
    /// chat, compare, bench, drill, replay…
    package var kind: String? = nil
    package var model: String?
    package var provider: String?
    package var status: String?
    package var since: Date?
    package var search: String?

    package init(limit: Int? = nil, kind: String? = nil, model: String? = nil, provider: String? = nil,
                 status: String? = nil, since: Date? = nil, search: String? = nil) {
        self.limit = limit
        self.kind = kind
        self.model = model
        self.provider = provider
        self.status = status
        self.since = since
        self.search = search
    }

}

/// Samples of one figure (TTFT or latency): exact values, or histogram bins for a large log.
package struct Distribution {
    package var samples: [Double] = []
    /// Bin (`LatencyBins.bin`) → count.
    package var bins: [Int: Int] = [:]

    package var count: Int { samples.count + bins.values.reduce(0, +) }
    package var isExact: Bool { bins.isEmpty }

    /// p50, p90, p99: exact (linear interpolation) when all samples are at hand, else from
    /// the bins, interpolating inside the bin that holds the rank (within about 1%).
    package func percentiles() -> (p50: Double, p90: Double, p99: Double) {
        if bins.isEmpty { return Percentiles.summary(samples) }
        var all = bins
        for v in samples { all[LatencyBins.bin(v), default: 0] += 1 }
        let ordered = all.sorted { $0.key < $1.key }
        let total = ordered.reduce(0) { $0 + $1.value }
        func at(_ p: Double) -> Double {
            let rank = p / 100 * Double(total - 1)
            var seen = 0
            for (bin, n) in ordered {
                if Double(seen + n) > rank {
                    let (lower, upper) = LatencyBins.range(bin)
                    return lower + (upper - lower) * ((rank - Double(seen) + 0.5) / Double(n))
                }
                seen += n
            }
            return LatencyBins.range(ordered.last!.key).upper
        }
        return (at(50), at(90), at(99))
    }
}

/// The histogram bins of the `attempt_rollup` table (see `SessionLogSchema.binSQL`).
package enum LatencyBins {
    package static func bin(_ value: Double) -> Int {
        let digits = String(Int(max(value, 0) * 100))
        return digits.count * 1000 + Int(digits.prefix(3))!
    }

    /// The values a bin holds: [lower, upper).
    package static func range(_ bin: Int) -> (lower: Double, upper: Double) {
        let digits = bin / 1000, lead = bin % 1000
        var scale = 1.0
        for _ in 0..<max(0, digits - 3) { scale *= 10 }
        return (Double(lead) * scale / 100, Double(lead + 1) * scale / 100)
    }
}

/// Per-group figures of `stats`.
package struct StatsGroup {
    package var name: String
    package var requests = 0
    package var errors = 0
    package var ttft = Distribution()
    package var latency = Distribution()
    package var tokensPerSecondSum = 0.0
    package var tokensPerSecondCount = 0
    /// Requests a LiteLLM gateway answered from its response cache: counted as requests,
    /// left out of TTFT, latency and tokens/s (they measure the cache, not the model).
    package var cacheHits = 0

    package var cacheHitRatio: Double { requests == 0 ? 0 : Double(cacheHits) / Double(requests) }
    package var errorRate: Double { requests == 0 ? 0 : Double(errors) / Double(requests) }
    package var meanTokensPerSecond: Double? { tokensPerSecondCount == 0 ? nil : tokensPerSecondSum / Double(tokensPerSecondCount) }
}

/// The read side: a separate read-only connection (SQLITE_OPEN_READONLY, `query_only`,
/// and an authorizer that refuses anything but reading), shared by `log`, `show`,
/// `stats`, `export` and `sql`.
package final class SessionLogReader {
    package let path: String
    package let db: Database
    /// An older aish's log, not yet upgraded (this process could not write it): the
    /// commands use what it has.
    package let schemaVersion: Int
    /// What `AttemptRow` reads, for this log's schema version.
    package private(set) var attemptColumns = AttemptRow.columns

    package init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw SessionLogUnavailable(reason: "no session log has been written there yet")
        }
        do {
            db = try Database(path: path, readOnly: true)
            try db.execute("PRAGMA query_only = 1")
            db.installReadOnlyAuthorizer()
            schemaVersion = try db.userVersion()
            if schemaVersion == 0 { throw SessionLogUnavailable(reason: "the file holds no session log tables") }
            attemptColumns = AttemptRow.selectList(schemaVersion: schemaVersion)
        } catch let e as SQLiteError {
            throw SessionLog.unavailable(e)
        }
    }

    /// Newest first. A search walks the full-text index newest first (by rowid, which is
    /// insertion order) and stops at the limit, instead of collecting every match.
    package func attempts(_ f: AttemptFilter) throws -> [AttemptRow] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        var from = "attempts a"
        var order = "a.started_at DESC, a.id DESC"
        if let q = f.search {
            guard schemaVersion >= 2 else {
                throw CommandFailure("log: -q needs the full-text index, which this log has not got yet (schema version \(schemaVersion)); it is added the next time aish opens the log for writing")
            }
            from = "attempts_fts CROSS JOIN attempts a ON a.id = attempts_fts.rowid"
            conditions.append("attempts_fts MATCH ?")
            values.append(.text(SessionLogReader.ftsQuery(q)))
            order = "attempts_fts.rowid DESC"
        }
        if let m = f.model {
            conditions.append("(a.requested_model = ? OR a.backend_model = ?)")
            values += [.text(m), .text(m)]
        }
        if let p = f.provider { conditions.append("a.provider = ?"); values.append(.text(p)) }
        if let s = f.status { conditions.append("a.status = ?"); values.append(.text(s)) }
        if let k = f.kind { conditions.append("a.kind = ?"); values.append(.text(k)) }
        if let since = f.since { conditions.append("a.started_at >= ?"); values.append(.text(LogTime.format(since))) }
        var sql = "SELECT \(AttemptRow.selectList(schemaVersion: schemaVersion, prefix: "a.")) FROM \(from)"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY \(order)"
        if let limit = f.limit { sql += " LIMIT \(limit)" }
        let s = try db.prepare(sql)
        try s.bind(values)
        var rows: [AttemptRow] = []
        while try s.step() { rows.append(AttemptRow(s)) }
        return rows
    }

    /// Calls `body` for every attempt matching `f`, oldest first (for export); stops when
    /// `body` returns false.
    package func forEachAttempt(_ f: AttemptFilter, _ body: (AttemptRow) throws -> Bool) throws {
        var sql = "SELECT \(attemptColumns) FROM attempts"
        var values: [SQLValue] = []
        if let since = f.since { sql += " WHERE started_at >= ?"; values.append(.text(LogTime.format(since))) }
        sql += " ORDER BY started_at, id"
        let s = try db.prepare(sql)
        try s.bind(values)
        while try s.step() { if try !body(AttemptRow(s)) { return } }
    }

    /// User words become an FTS5 query that cannot be a syntax error: each word is a
    /// quoted phrase (all must match); a trailing `*` keeps prefix search.
    package static func ftsQuery(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).map { word -> String in
            var w = String(word)
            let prefix = w.count > 1 && w.hasSuffix("*")
            if prefix { w.removeLast() }
            return "\"" + w.replacingAll("\"", with: "\"\"") + "\"" + (prefix ? "*" : "")
        }.joined(separator: " ")
    }

    package func attempt(id: Int64) throws -> AttemptRow? {
        let s = try db.prepare("SELECT \(attemptColumns) FROM attempts WHERE id = ?")
        try s.bind([.int(id)])
        return try s.step() ? AttemptRow(s) : nil
    }

    package func latestAttempt() throws -> AttemptRow? {
        let s = try db.prepare("SELECT \(attemptColumns) FROM attempts ORDER BY started_at DESC, id DESC LIMIT 1")
        return try s.step() ? AttemptRow(s) : nil
    }

    /// Every attempt of one request, in order.
    package func chain(requestID: String) throws -> [AttemptRow] {
        let s = try db.prepare("SELECT \(attemptColumns) FROM attempts WHERE request_id = ? ORDER BY attempt, id")
        try s.bind([.text(requestID)])
        var rows: [AttemptRow] = []
        while try s.step() { rows.append(AttemptRow(s)) }
        return rows
    }

    /// Every provider and every model (requested or backend) the log has attempts for: what
    /// a `log -p`/`-m` that matched nothing is compared with to suggest a name.
    package func loggedNames() throws -> (providers: [String], models: [String]) {
        func strings(_ sql: String) throws -> [String] {
            let s = try db.prepare(sql)
            var out: [String] = []
            while try s.step() { out.append(s.string(0)) }
            return out
        }
        return (try strings("SELECT DISTINCT provider FROM attempts ORDER BY provider"),
                try strings("SELECT requested_model FROM attempts UNION SELECT backend_model FROM attempts ORDER BY 1"))
    }

    package func attempts(commandID: Int64) throws -> [AttemptRow] {
        let s = try db.prepare("SELECT \(attemptColumns) FROM attempts WHERE command_id = ? ORDER BY id")
        try s.bind([.int(commandID)])
        var rows: [AttemptRow] = []
        while try s.step() { rows.append(AttemptRow(s)) }
        return rows
    }

    package func command(id: Int64) throws -> CommandRow? {
        let s = try db.prepare("SELECT \(CommandRow.columns) FROM commands WHERE id = ?")
        try s.bind([.int(id)])
        return try s.step() ? CommandRow(s) : nil
    }

    package func commands(limit: Int, status: String?, since: Date?, search: String?) throws -> [CommandRow] {
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

    package func session(id: Int64) throws -> SessionRow? {
        let s = try db.prepare("SELECT \(SessionRow.columns) FROM sessions WHERE id = ?")
        try s.bind([.int(id)])
        return try s.step() ? SessionRow(s) : nil
    }

    /// Up to this many attempts `stats` reads row by row (exact percentiles); above it, it
    /// reads the daily histograms of `attempt_rollup`, plus the rows of a partial first day.
    package static let exactStatsLimit = 20_000

    package func stats(since: Date?, byProvider: Bool, exactLimit: Int = exactStatsLimit, interrupt: InterruptFlag? = nil) throws
        -> (groups: [StatsGroup], total: StatsGroup, exact: Bool)
    {
        let column = byProvider ? "provider" : "requested_model"
        var acc = StatsAccumulator()
        if schemaVersion < 3 {
            // No histograms yet: every row, exactly.
            try scanRows(column: column, index: "attempts_started_at", since.map { _ in ["started_at >= ?"] } ?? [],
                         since.map { [.text(LogTime.format($0))] } ?? [], into: &acc, interrupt: interrupt)
            return (acc.groups.sorted { $0.requests != $1.requests ? $0.requests > $1.requests : $0.name < $1.name }, acc.total, true)
        }
        let firstDay = since.map { String(LogTime.format($0).prefix(10)) }
        let covered = try scalar("SELECT covered_id FROM rollup_state")
        let unfolded = try scalar("SELECT coalesce(max(id), 0) FROM attempts") - covered
        let folded = try scalar("SELECT coalesce(sum(n), 0) FROM attempt_rollup WHERE metric = 0 AND day >= ?",
                                [.text(firstDay ?? "")])
        if folded + max(0, unfolded) <= exactLimit {
            var conditions: [String] = []
            var values: [SQLValue] = []
            if let since { conditions.append("started_at >= ?"); values.append(.text(LogTime.format(since))) }
            try scanRows(column: column, index: "attempts_started_at", conditions, values, into: &acc, interrupt: interrupt)
        } else {
            var fullDaysFrom = ""
            if let since, let firstDay {
                // The first day counts from `since` on: its folded rows are read one by one.
                let nextDay = LogTime.parse(firstDay + "T00:00:00.000Z")!.addingTimeInterval(86_400)
                fullDaysFrom = String(LogTime.format(nextDay).prefix(10))
                try scanRows(column: column, index: "attempts_started_at", ["started_at >= ?", "started_at < ?", "id <= ?"],
                             [.text(LogTime.format(since)), .text(LogTime.format(nextDay)), .int(Int64(covered))],
                             into: &acc, interrupt: interrupt)
            }
            // Rows not folded yet, one by one.
            var conditions = ["id > ?"]
            var values: [SQLValue] = [.int(Int64(covered))]
            if let since { conditions.append("started_at >= ?"); values.append(.text(LogTime.format(since))) }
            try scanRows(column: column, index: nil, conditions, values, into: &acc, interrupt: interrupt)

            let s = try db.prepare("SELECT \(column), metric, bin, n, total FROM attempt_rollup WHERE day >= ?")
            try s.bind([.text(fullDaysFrom)])
            var lastName = ""
            var i = -1
            while try s.step() {
                let n = s.int(3)
                guard n > 0 else { continue }
                let name = s.string(0)
                if name != lastName || i < 0 {
                    i = acc.index(name)
                    lastName = name
                }
                let bin = s.int(2)
                switch s.int(1) {
                case 0: acc.add(i) { g in g.requests += n; if bin == 1 { g.errors += n } }
                case 1: acc.add(i) { g in g.ttft.bins[bin, default: 0] += n }
                case 2: acc.add(i) { g in g.latency.bins[bin, default: 0] += n }
                case 3:
                    let sum = s.double(4)
                    acc.add(i) { g in g.tokensPerSecondSum += sum; g.tokensPerSecondCount += n }
                case 4: acc.add(i) { g in g.cacheHits += n }
                default: break
                }
            }
        }
        let sorted = acc.groups.sorted { $0.requests != $1.requests ? $0.requests > $1.requests : $0.name < $1.name }
        return (sorted, acc.total, acc.total.ttft.isExact && acc.total.latency.isExact)
    }

    /// Per provider, over successful attempts a gateway answered with its overhead header:
    /// the gateway's own time and the rest (total − overhead: the backend and the network).
    package func gatewaySplit(since: Date?) throws -> [String: (overhead: [Double], backend: [Double])] {
        guard schemaVersion >= 4 else { return [:] }
        var sql = """
            SELECT provider, gateway_overhead_ms, total_ms FROM attempts INDEXED BY attempts_gateway
            WHERE gateway_overhead_ms IS NOT NULL AND status = 'ok' AND total_ms IS NOT NULL
            """ + (schemaVersion >= 5 ? " AND cache_hit IS NOT 1" : "")
        var values: [SQLValue] = []
        if let since { sql += " AND started_at >= ?"; values.append(.text(LogTime.format(since))) }
        let s = try db.prepare(sql)
        try s.bind(values)
        var out: [String: (overhead: [Double], backend: [Double])] = [:]
        while try s.step() {
            let overhead = s.double(1)
            out[s.string(0), default: ([], [])].overhead.append(overhead)
            out[s.string(0), default: ([], [])].backend.append(max(0, s.double(2) - overhead))
        }
        return out
    }

    private func scalar(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        let s = try db.prepare(sql)
        try s.bind(values)
        return try s.step() ? s.int(0) : 0
    }

    /// Rows matching `conditions`, through the covering index `attempts_started_at` when
    /// named (no table reads). Skipped attempts (never sent) are not requests; errors are
    /// error, timeout and partial; latency and tokens/s count successful attempts, TTFT any
    /// that produced a first token; cache hits are counted, not timed.
    private func scanRows(column: String, index: String?, _ conditions: [String], _ values: [SQLValue],
                          into acc: inout StatsAccumulator, interrupt: InterruptFlag?) throws
    {
        let cacheHit = schemaVersion >= 5 ? "cache_hit" : "NULL"
        var sql = "SELECT \(column), status, ttft_ms, total_ms, tokens_per_second, \(cacheHit) FROM attempts"
        if let index { sql += " INDEXED BY \(index)" }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        let s = try db.prepare(sql)
        try s.bind(values)
        var n = 0
        while try s.step() {
            n += 1
            if n & 0xffff == 0, interrupt?.isRaised == true { throw CommandFailure("stats: interrupted") }
            let status = s.string(1)
            if status == "skipped" { continue }
            let i = acc.index(s.string(0))
            let isError = status == "error" || status == "timeout" || status == "partial"
            let hit = s.optionalInt(5) == 1
            let ttft = hit ? nil : s.optionalDouble(2)
            let latency = status == "ok" && !hit ? s.optionalDouble(3) : nil
            let tps = status == "ok" && !hit ? s.optionalDouble(4) : nil
            acc.add(i) { g in
                g.requests += 1
                if isError { g.errors += 1 }
                if hit { g.cacheHits += 1 }
                if let ttft { g.ttft.samples.append(ttft) }
                if let latency { g.latency.samples.append(latency) }
                if let tps {
                    g.tokensPerSecondSum += tps
                    g.tokensPerSecondCount += 1
                }
            }
        }
    }
}

/// Groups by name, plus the total over all of them.
package struct StatsAccumulator {
    package var groups: [StatsGroup] = []
    package var total = StatsGroup(name: "all")
    private var indexByName: [String: Int] = [:]

    package mutating func index(_ name: String) -> Int {
        if let i = indexByName[name] { return i }
        groups.append(StatsGroup(name: name))
        indexByName[name] = groups.count - 1
        return groups.count - 1
    }

    /// Applies `change` to group `i` and to the total.
    package mutating func add(_ i: Int, _ change: (inout StatsGroup) -> Void) {
        change(&groups[i])
        change(&total)
    }
}
