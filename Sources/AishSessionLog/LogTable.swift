import FoundationEssentials
import Glibc
import AishBase
import AishSQLite

/// What writing a record needs besides the record itself: the rows it points at.
package struct LogWriteContext {
    package var sessionID: Int64?
    package var commandID: Int64? = nil
    /// The run a `bench_levels` row belongs to.
    package var runID: Int64? = nil
}

/// One column of a session-log table, declared once: its name, SQL type, how a record is
/// written to it, how a selected row reads it back and its JSON value. `Record` is what the
/// log writes; `Row` what a read builds (the record type itself for tables aish only writes,
/// which then have no `read`/`json`).
package struct LogColumn<Record, Row> {
    package var name: String
    package var sqlType: String
    /// nil for `id`, which SQLite assigns.
    package var write: ((Record, LogWriteContext) -> SQLValue)?
    /// nil when nothing reads the table back into a `Row` (`sql` still shows it).
    package var read: ((inout Row, Statement, Int) -> Void)?
    package var json: ((Row) -> JSONValue)?
    /// The schema version that added the column (a log not yet upgraded reads NULL).
    package var since: Int = 1

    /// The same column, added by the migration to schema version `version`.
    package func added(in version: Int) -> LogColumn {
        var c = self
        c.since = version
        return c
    }
}

/// A value type a column holds: its SQL type, how it is bound, read and shown.
package protocol SQLColumnValue {
    static var sqlType: String { get }
    var sqlValue: SQLValue { get }
    /// nil when the column is NULL.
    static func read(_ s: Statement, _ i: Int) -> Self?
    var json: JSONValue { get }
}

extension String: SQLColumnValue {
    package static var sqlType: String { "TEXT" }
    package var sqlValue: SQLValue { .text(self) }
    package static func read(_ s: Statement, _ i: Int) -> String? { s.optionalString(i) }
    package var json: JSONValue { .string(self) }
}

extension Int: SQLColumnValue {
    package static var sqlType: String { "INTEGER" }
    package var sqlValue: SQLValue { .int(Int64(self)) }
    package static func read(_ s: Statement, _ i: Int) -> Int? { s.optionalInt(i) }
    package var json: JSONValue { .int(self) }
}

extension Int64: SQLColumnValue {
    package static var sqlType: String { "INTEGER" }
    package var sqlValue: SQLValue { .int(self) }
    package static func read(_ s: Statement, _ i: Int) -> Int64? { s.isNull(i) ? nil : s.int64(i) }
    package var json: JSONValue { .int(Int(self)) }
}

extension Double: SQLColumnValue {
    package static var sqlType: String { "REAL" }
    package var sqlValue: SQLValue { .double(self) }
    package static func read(_ s: Statement, _ i: Int) -> Double? { s.optionalDouble(i) }
    package var json: JSONValue { .double(self) }
}

/// Stored as 0 or 1.
extension Bool: SQLColumnValue {
    package static var sqlType: String { "INTEGER" }
    package var sqlValue: SQLValue { .int(self ? 1 : 0) }
    package static func read(_ s: Statement, _ i: Int) -> Bool? { s.isNull(i) ? nil : s.int(i) != 0 }
    package var json: JSONValue { .bool(self) }
}

// Typed builders: each column says its type once, through the Swift type it holds.
extension LogColumn {
    /// A NOT NULL column (`sqlSuffix` adds e.g. a DEFAULT); `row` is where a read row keeps it.
    package static func required<V: SQLColumnValue>(_ name: String, _ row: WritableKeyPath<Row, V>? = nil, sqlSuffix: String = "",
                                            _ write: @escaping (Record) -> V) -> LogColumn {
        LogColumn(name: name, sqlType: V.sqlType + " NOT NULL" + sqlSuffix, write: { r, _ in write(r).sqlValue },
                  read: row.map { kp in { r, s, i in if let v = V.read(s, i) { r[keyPath: kp] = v } } },
                  json: row.map { kp in { $0[keyPath: kp].json } })
    }

    /// A column that may be NULL.
    package static func optional<V: SQLColumnValue>(_ name: String, _ row: WritableKeyPath<Row, V?>? = nil,
                                            _ write: @escaping (Record) -> V?) -> LogColumn {
        LogColumn(name: name, sqlType: V.sqlType, write: { r, _ in write(r)?.sqlValue ?? .null },
                  read: row.map { kp in { r, s, i in r[keyPath: kp] = V.read(s, i) } },
                  json: row.map { kp in { $0[keyPath: kp]?.json ?? .null } })
    }

    /// The row id, which SQLite assigns.
    package static func id(_ row: WritableKeyPath<Row, Int64>? = nil) -> LogColumn {
        LogColumn(name: "id", sqlType: "INTEGER PRIMARY KEY", write: nil,
                  read: row.map { kp in { r, s, i in r[keyPath: kp] = s.int64(i) } },
                  json: row.map { kp in { .int(Int($0[keyPath: kp])) } })
    }

    /// The session the row belongs to (from the write context).
    package static func session(_ row: WritableKeyPath<Row, Int64?>? = nil) -> LogColumn {
        reference("session_id", table: "sessions", row) { $0.sessionID }
    }

    /// A reference to another table's row, written from the context.
    package static func reference(_ name: String, table: String, _ row: WritableKeyPath<Row, Int64?>?,
                          _ write: @escaping (LogWriteContext) -> Int64?) -> LogColumn {
        LogColumn(name: name, sqlType: "INTEGER REFERENCES \(table)(id)", write: { _, c in write(c).map { .int($0) } ?? .null },
                  read: row.map { kp in { r, s, i in r[keyPath: kp] = Int64.read(s, i) } },
                  json: row.map { kp in { $0[keyPath: kp].map { .int(Int($0)) } ?? .null } })
    }
}

/// A session-log table declared once. INSERT, UPDATE, SELECT, the row reader and the JSON
/// form all come from its column list, so nothing depends on column positions. Adding a
/// column is one entry (`.added(in: N)`) plus a migration that adds it (`addColumnSQL`); a
/// test checks that the migrated tables and these declarations agree. (Sendable: it is
/// immutable, and its closures are pure functions of their arguments.)
package struct LogTable<Record, Row>: @unchecked Sendable {
    package let name: String
    /// In table order (the order of the migrations that built it).
    package let columns: [LogColumn<Record, Row>]
    /// The columns a record writes (all but `id`).
    package let written: [LogColumn<Record, Row>]
    /// INSERT of one record: a constant, so the log's statement cache prepares it once.
    package let insertSQL: String
    /// "id, session_id, …" for SELECT on a log at the current schema version.
    package let selectList: String

    package init(_ name: String, _ columns: [LogColumn<Record, Row>]) {
        self.name = name
        self.columns = columns
        written = columns.filter { $0.write != nil }
        selectList = columns.map(\.name).joined(separator: ", ")
        insertSQL = Self.insertSQL(name, written, rows: 1)
    }

    /// INSERT of `rows` records in one statement (bulk loads).
    package func insertSQL(rows: Int) -> String { Self.insertSQL(name, written, rows: rows) }

    private static func insertSQL(_ name: String, _ written: [LogColumn<Record, Row>], rows: Int) -> String {
        let placeholders = "(" + Array(repeating: "?", count: written.count).joined(separator: ", ") + ")"
        return "INSERT INTO \(name) (" + written.map(\.name).joined(separator: ", ") + ") VALUES "
            + Array(repeating: placeholders, count: rows).joined(separator: ", ")
    }

    /// The values of `record` for `insertSQL`, in its order.
    package func values(_ record: Record, _ context: LogWriteContext) -> [SQLValue] {
        written.map { $0.write!(record, context) }
    }

    /// `UPDATE … SET a = ?, b = ? WHERE id = ?` of the named columns, and the values of a
    /// record for it (the row id last).
    package func update(setting names: [String]) -> LogUpdate<Record, Row> {
        let set = names.map { n -> LogColumn<Record, Row> in
            guard let c = written.first(where: { $0.name == n }) else { preconditionFailure("\(name) has no column \(n)") }
            return c
        }
        return LogUpdate(sql: "UPDATE \(name) SET " + set.map { "\($0.name) = ?" }.joined(separator: ", ") + " WHERE id = ?",
                         columns: set)
    }

    /// The select list for a log at `schemaVersion` (columns added later read NULL);
    /// `prefix` qualifies the names for joins ("a.").
    package func selectList(schemaVersion: Int, prefix: String = "") -> String {
        columns.map { $0.since <= schemaVersion ? prefix + $0.name : "NULL" }.joined(separator: ", ")
    }

    /// Reads a row selected with `selectList` into `row`.
    package func read(_ s: Statement, into row: inout Row) {
        for (i, c) in columns.enumerated() { c.read?(&row, s, i) }
    }

    /// The row as JSON, keyed by column name, in table order.
    package func json(_ row: Row) -> JSONValue {
        .object(columns.compactMap { c in c.json.map { (c.name, $0(row)) } })
    }

    /// `CREATE TABLE` with every declared column: what the migrations, applied in order, build.
    package var createSQL: String {
        "CREATE TABLE \(name) (" + columns.map { "\($0.name) \($0.sqlType)" }.joined(separator: ", ") + ")"
    }

    /// What the schema test compares with the migrated table.
    package var shape: LogTableShape { LogTableShape(name: name, createSQL: createSQL, columnNames: columns.map(\.name)) }

    /// `ALTER TABLE … ADD COLUMN …` for the migration that adds column `column`.
    package func addColumnSQL(_ column: String) -> String {
        guard let c = columns.first(where: { $0.name == column }) else { preconditionFailure("\(name) has no column \(column)") }
        return "ALTER TABLE \(name) ADD COLUMN \(c.name) \(c.sqlType);"
    }
}

/// An UPDATE of some columns of a row by id.
package struct LogUpdate<Record, Row>: @unchecked Sendable {
    package let sql: String
    package let columns: [LogColumn<Record, Row>]

    package func values(_ record: Record, id: Int64, _ context: LogWriteContext) -> [SQLValue] {
        columns.map { $0.write!(record, context) } + [.int(id)]
    }
}

/// A table's declaration without its Swift types: for the test that holds the migrations
/// to the declarations.
package struct LogTableShape: Sendable {
    package var name: String
    package var createSQL: String
    package var columnNames: [String]
}
