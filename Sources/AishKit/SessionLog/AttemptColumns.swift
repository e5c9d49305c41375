import FoundationEssentials
import Glibc

/// The attempts table declared once: each column's name, SQL type, how a record is written
/// to it and how a row reads it back, and its JSON value. INSERT, SELECT, the row reader and
/// the JSON form (`log --json`, `show --json`, `export`) all come from this list, and
/// nothing depends on column positions. Adding a column is one entry here plus a migration
/// that adds it (`addColumnSQL`); a test checks that the migrated table and this list agree.
enum AttemptColumns {
    /// What writing a record needs besides the record itself.
    struct WriteContext {
        var sessionID: Int64?
        var commandID: Int64?
    }

    struct Column {
        var name: String
        var sqlType: String
        /// nil for `id`, which SQLite assigns.
        var write: ((AttemptRecord, WriteContext) -> SQLValue)?
        var read: (inout AttemptRow, Statement, Int) -> Void
        var json: (AttemptRow) -> JSONValue
        /// The schema version that added the column (a log not yet upgraded reads NULL).
        var since: Int = 1

        /// `ALTER TABLE … ADD COLUMN …` for a migration that adds this column.
        var addColumnSQL: String { "ALTER TABLE attempts ADD COLUMN \(name) \(sqlType);" }
    }

    // Typed builders: each says the column's type once.
    private static func text(_ name: String, _ kp: WritableKeyPath<AttemptRow, String>,
                             _ write: @escaping (AttemptRecord, WriteContext) -> String) -> Column {
        Column(name: name, sqlType: "TEXT NOT NULL", write: { .text(write($0, $1)) },
               read: { row, s, i in row[keyPath: kp] = s.string(i) }, json: { .string($0[keyPath: kp]) })
    }

    private static func optionalText(_ name: String, _ kp: WritableKeyPath<AttemptRow, String?>,
                                     _ write: @escaping (AttemptRecord) -> String?) -> Column {
        Column(name: name, sqlType: "TEXT", write: { r, _ in SQLValue(write(r)) },
               read: { row, s, i in row[keyPath: kp] = s.optionalString(i) },
               json: { $0[keyPath: kp].map(JSONValue.string) ?? .null })
    }

    private static func optionalInt(_ name: String, _ kp: WritableKeyPath<AttemptRow, Int?>,
                                    _ write: @escaping (AttemptRecord) -> Int?) -> Column {
        Column(name: name, sqlType: "INTEGER", write: { r, _ in SQLValue(write(r)) },
               read: { row, s, i in row[keyPath: kp] = s.optionalInt(i) },
               json: { $0[keyPath: kp].map(JSONValue.int) ?? .null })
    }

    private static func optionalReal(_ name: String, _ kp: WritableKeyPath<AttemptRow, Double?>,
                                     _ write: @escaping (AttemptRecord) -> Double?) -> Column {
        Column(name: name, sqlType: "REAL", write: { r, _ in SQLValue(write(r)) },
               read: { row, s, i in row[keyPath: kp] = s.optionalDouble(i) },
               json: { $0[keyPath: kp].map(JSONValue.double) ?? .null })
    }

    private static func reference(_ name: String, table: String, _ kp: WritableKeyPath<AttemptRow, Int64?>,
                                  _ write: @escaping (WriteContext) -> Int64?) -> Column {
        Column(name: name, sqlType: "INTEGER REFERENCES \(table)(id)",
               write: { _, c in write(c).map { .int($0) } ?? .null },
               read: { row, s, i in row[keyPath: kp] = s.isNull(i) ? nil : s.int64(i) },
               json: { $0[keyPath: kp].map { .int(Int($0)) } ?? .null })
    }

    /// In table order (the order of the migrations that built it).
    nonisolated(unsafe) static let all: [Column] = [
        Column(name: "id", sqlType: "INTEGER PRIMARY KEY", write: nil,
               read: { row, s, i in row.id = s.int64(i) }, json: { .int(Int($0.id)) }),
        reference("session_id", table: "sessions", \.sessionID) { $0.sessionID },
        reference("command_id", table: "commands", \.commandID) { $0.commandID },
        text("request_id", \.requestID) { r, _ in r.requestID },
        text("kind", \.kind) { r, _ in r.kind },
        text("started_at", \.startedAt) { r, _ in LogTime.format(r.startedAt) },
        text("requested_model", \.requestedModel) { r, _ in r.requestedModel },
        text("route_reason", \.routeReason) { r, _ in r.routeReason },
        text("provider", \.provider) { r, _ in r.provider },
        text("backend_model", \.backendModel) { r, _ in r.backendModel },
        Column(name: "attempt", sqlType: "INTEGER NOT NULL", write: { r, _ in .int(Int64(r.attempt)) },
               read: { row, s, i in row.attempt = s.int(i) }, json: { .int($0.attempt) }),
        text("status", \.status) { r, _ in r.status.rawValue },
        optionalInt("http_status", \.httpStatus) { $0.httpStatus },
        optionalText("error", \.error) { $0.error },
        optionalReal("ttft_ms", \.ttftMs) { $0.ttftMs },
        optionalReal("total_ms", \.totalMs) { $0.totalMs },
        optionalInt("prompt_tokens", \.promptTokens) { $0.promptTokens },
        optionalInt("completion_tokens", \.completionTokens) { $0.completionTokens },
        optionalReal("tokens_per_second", \.tokensPerSecond) { $0.tokensPerSecond },
        {
            // Stored as JSON text; shown as the JSON value it holds.
            var c = optionalText("server_timings", \.serverTimings) { $0.serverTimings.map { $0.serialized() } }
            c.json = { row in row.serverTimings.map { (try? JSONValue.parse($0)) ?? .string($0) } ?? .null }
            return c
        }(),
        text("prompt", \.prompt) { r, _ in r.prompt },
        text("reply", \.reply) { r, _ in r.replyText },
        // Schema version 4: what `replay` resends, and what the gateway said it did.
        v4(optionalText("system_prompt", \.systemPrompt) { $0.systemPrompt }),
        {
            var c = v4(optionalText("options", \.options) { $0.options.map { $0.serialized() } })
            c.json = { row in row.options.map { (try? JSONValue.parse($0)) ?? .string($0) } ?? .null }
            return c
        }(),
        gateway("gateway_deployment", "TEXT", \.deployment),
        gateway("gateway_model_group", "TEXT", \.modelGroup),
        gateway("gateway_model_id", "TEXT", \.modelID),
        gateway("gateway_api_base", "TEXT", \.apiBase),
        gateway("gateway_fallbacks", "INTEGER", \.attemptedFallbacks),
        gateway("gateway_retries", "INTEGER", \.attemptedRetries),
        gateway("gateway_overhead_ms", "REAL", \.overheadMs),
        gateway("gateway_response_ms", "REAL", \.responseMs),
    ]

    private static func v4(_ c: Column) -> Column {
        var c = c
        c.since = 4
        return c
    }

    /// A column of the gateway's headers (schema version 4); a row with none of them has no `gateway`.
    private static func gateway<V: SQLColumnValue>(_ name: String, _ sqlType: String,
                                                   _ kp: WritableKeyPath<GatewayInfo, V?>) -> Column {
        Column(name: name, sqlType: sqlType, write: { r, _ in V.sqlValue(r.gateway?[keyPath: kp]) },
               read: { row, s, i in
                   guard let v = V.read(s, i) else { return }
                   var g = row.gateway ?? GatewayInfo()
                   g[keyPath: kp] = v
                   row.gateway = g
               },
               json: { $0.gateway?[keyPath: kp].map(V.json) ?? .null }, since: 4)
    }

    /// The select list for a log at `schemaVersion` (columns added later read NULL);
    /// `prefix` qualifies the names for joins ("a.").
    static func selectList(schemaVersion: Int, prefix: String = "") -> String {
        all.map { $0.since <= schemaVersion ? prefix + $0.name : "NULL" }.joined(separator: ", ")
    }

    /// "id, session_id, …" for SELECT on a log at the current schema version.
    static let selectList = all.map(\.name).joined(separator: ", ")
    /// The same, qualified for joins (`a` is attempts).
    static let prefixedSelectList = all.map { "a." + $0.name }.joined(separator: ", ")

    /// The columns a record writes, and the INSERT statement for them.
    nonisolated(unsafe) static let written = all.filter { $0.write != nil }
    static let insertSQL = insertSQL(rows: 1)

    /// INSERT of `rows` records in one statement (bulk loads).
    static func insertSQL(rows: Int) -> String {
        let placeholders = "(" + Array(repeating: "?", count: written.count).joined(separator: ", ") + ")"
        return "INSERT INTO attempts (" + written.map(\.name).joined(separator: ", ") + ") VALUES "
            + Array(repeating: placeholders, count: rows).joined(separator: ", ")
    }

    static func values(_ r: AttemptRecord, _ context: WriteContext) -> [SQLValue] {
        written.map { $0.write!(r, context) }
    }
}

/// The value types of the gateway columns: how each is bound, read and shown.
protocol SQLColumnValue {
    static func sqlValue(_ v: Self?) -> SQLValue
    static func read(_ s: Statement, _ i: Int) -> Self?
    static func json(_ v: Self) -> JSONValue
}

extension String: SQLColumnValue {
    static func sqlValue(_ v: String?) -> SQLValue { SQLValue(v) }
    static func read(_ s: Statement, _ i: Int) -> String? { s.optionalString(i) }
    static func json(_ v: String) -> JSONValue { .string(v) }
}

extension Int: SQLColumnValue {
    static func sqlValue(_ v: Int?) -> SQLValue { SQLValue(v) }
    static func read(_ s: Statement, _ i: Int) -> Int? { s.optionalInt(i) }
    static func json(_ v: Int) -> JSONValue { .int(v) }
}

extension Double: SQLColumnValue {
    static func sqlValue(_ v: Double?) -> SQLValue { SQLValue(v) }
    static func read(_ s: Statement, _ i: Int) -> Double? { s.optionalDouble(i) }
    static func json(_ v: Double) -> JSONValue { .double(v) }
}
