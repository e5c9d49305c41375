@preconcurrency import CSQLite
import FoundationEssentials
import Glibc
import AishBase

// The only file that touches libsqlite3. Everything above it sees `Database`, `Statement`,
// `SQLValue` and `SQLiteError`; no C type leaves this file.

/// A failed SQLite call: the result code, SQLite's message and the SQL it concerned.
package struct SQLiteError: UserFacingError {
    package var exitCode: ExitCode { .failure }
    package var code: Int32
    package var message: String
    package var sql: String?

    package var description: String {
        guard let sql else { return message }
        return "\(message) (SQLite code \(code)) in: \(sql)"
    }

    /// SQLITE_BUSY / SQLITE_LOCKED (primary codes): another connection holds the lock.
    package var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
    /// SQLITE_AUTH: refused by the authorizer.
    package var isAuthorizationDenied: Bool { code & 0xff == SQLITE_AUTH }
    /// The file is not a database, or is damaged.
    package var isCorrupt: Bool { code & 0xff == SQLITE_NOTADB || code & 0xff == SQLITE_CORRUPT }
    package var isReadOnly: Bool { code & 0xff == SQLITE_READONLY }
    /// SQLITE_INTERRUPT: stopped by `Database.withStopCheck` (Ctrl-C, SIGTERM, a timeout).
    package var isInterrupted: Bool { code & 0xff == SQLITE_INTERRUPT }
}

/// A value bound to or read from a statement.
package enum SQLValue: Equatable, Sendable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    package init(_ s: String?) { self = s.map { .text($0) } ?? .null }
    package init(_ i: Int?) { self = i.map { .int(Int64($0)) } ?? .null }
    package init(_ d: Double?) { self = d.map { .double($0) } ?? .null }
}

/// One connection (`sqlite3*`), closed in deinit. Used from one thread at a time.
package final class Database {
    package let path: String
    package let busyTimeoutMs: Int32
    private let handle: OpaquePointer
    private var statementCache: [String: Statement] = [:]
    /// Kept alive for the authorizer callback, which receives it as its context pointer.
    private var authorizerState: ReadOnlyAuthorizer?

    /// Opens `path`. `readOnly` uses SQLITE_OPEN_READONLY; otherwise the file is created if
    /// missing. The busy timeout makes a locked database wait instead of failing at once.
    package init(path: String, readOnly: Bool = false, busyTimeoutMs: Int32 = 5000) throws {
        self.path = path
        self.busyTimeoutMs = busyTimeoutMs
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message, sql: nil)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMs)
    }

    deinit {
        statementCache.removeAll()   // finalize before closing
        sqlite3_close_v2(handle)
    }

    /// Leaves the WAL as it is when this connection closes. By default the last connection
    /// to close checkpoints the WAL into the main file and deletes it: two fsyncs and an
    /// unlink, and the next process recreates the WAL (another fsync, plus one of the
    /// directory) — most of the cost of a short `aish -c` run. Committed data is as safe in
    /// the WAL; SQLite's automatic checkpoint (every 1000 pages) still folds it in.
    package func keepWALOnClose() throws {
        let rc = aish_sqlite_no_checkpoint_on_close(handle)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errstr(rc)), sql: nil) }
    }

    /// True when SQLite opened the file read-only (e.g. no write permission).
    package var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    package var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs one or more statements that return no rows needed by the caller.
    package func execute(_ sql: String) throws {
        var remaining = sql
        while true {
            let (statement, tail) = try prepareFirst(remaining)
            if let statement {
                while try statement.step() {}
            }
            guard let tail, !tail.allSatisfy(\.isWhitespace) else { return }
            remaining = tail
        }
    }

    package func prepare(_ sql: String) throws -> Statement {
        let (statement, tail) = try prepareFirst(sql)
        guard let statement else { throw SQLiteError(code: SQLITE_MISUSE, message: "empty statement", sql: sql) }
        if let tail, !Database.isOnlyWhitespaceAndComments(tail) {
            throw SQLiteError(code: SQLITE_MISUSE, message: "only one statement at a time", sql: sql)
        }
        return statement
    }

    /// A prepared statement kept for the life of the connection (hot write paths).
    package func cached(_ sql: String) throws -> Statement {
        if let s = statementCache[sql] {
            s.reset()
            return s
        }
        let s = try prepare(sql)
        statementCache[sql] = s
        return s
    }

    /// Runs `body` in a BEGIN IMMEDIATE transaction: committed if it returns, rolled back
    /// if it throws. BEGIN is retried while another process holds the write lock (the busy
    /// timeout covers most waits; SQLite skips the handler in a few cases, hence the loop).
    package func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try beginImmediate()
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK") }
            throw error
        }
    }

    private func beginImmediate() throws {
        // Bounded in time: when the busy handler already waited its full timeout, the lock
        // is held for long and one more wait is all that is worth it.
        let deadline = Date().addingTimeInterval(Double(busyTimeoutMs) / 1000 + 1)
        var tries = 0
        while true {
            do {
                try execute("BEGIN IMMEDIATE")
                return
            } catch let error as SQLiteError where error.isBusy && Date() < deadline {
                tries += 1
                usleep(useconds_t(min(5_000 * tries, 50_000)))
            }
        }
    }

    /// `PRAGMA user_version`: the schema version the migrations reached.
    package func userVersion() throws -> Int {
        let s = try prepare("PRAGMA user_version")
        _ = try s.step()
        return s.int(0)
    }

    package func setUserVersion(_ v: Int) throws { try execute("PRAGMA user_version = \(v)") }

    /// Refuses, at prepare time, every statement that could change the database or the
    /// connection (writes, DDL, ATTACH/DETACH, PRAGMA assignments). Used by `sql`.
    package func installReadOnlyAuthorizer() {
        let state = ReadOnlyAuthorizer()
        authorizerState = state
        sqlite3_set_authorizer(handle, readOnlyAuthorizerCallback, Unmanaged.passUnretained(state).toOpaque())
    }

    /// Runs `body` with SQLite asking `shouldStop` every few thousand virtual-machine steps;
    /// when it answers true the running statement fails with SQLITE_INTERRUPT. A runaway
    /// query (a recursive CTE that never ends) never returns a row, so checking between
    /// rows is not enough: only SQLite itself can stop it mid-statement.
    package func withStopCheck<T>(_ shouldStop: @escaping () -> Bool, _ body: () throws -> T) throws -> T {
        let check = StopCheck(shouldStop)
        sqlite3_progress_handler(handle, 4096, stopCheckCallback, Unmanaged.passUnretained(check).toOpaque())
        defer {
            sqlite3_progress_handler(handle, 0, nil, nil)
            withExtendedLifetime(check) {}
        }
        return try body()
    }

    /// What the authorizer refused last (e.g. "ATTACH"), for the error message.
    package func takeAuthorizerDenial() -> String? {
        defer { authorizerState?.denied = nil }
        return authorizerState?.denied
    }

    private func prepareFirst(_ sql: String) throws -> (Statement?, String?) {
        var stmt: OpaquePointer?
        var tailText: String?
        let rc = sql.withCString { base -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v2(handle, base, -1, &stmt, &tail)
            if let tail, tail.pointee != 0 { tailText = String(cString: tail) }
            return rc
        }
        guard rc == SQLITE_OK else {
            throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
        }
        return (stmt.map { Statement(handle: $0, sql: sql) }, tailText)
    }

    private static func isOnlyWhitespaceAndComments(_ text: String) -> Bool {
        var rest = Substring(text)
        while true {
            rest = rest.drop(while: { $0.isWhitespace || $0 == ";" })
            if rest.isEmpty { return true }
            if rest.hasPrefix("--") {
                rest = rest.drop(while: { $0 != "\n" })
            } else if rest.hasPrefix("/*") {
                guard let end = rest.rangeOfText("*/") else { return true }
                rest = rest[end.upperBound...]
            } else {
                return false
            }
        }
    }
}

/// One prepared statement (`sqlite3_stmt*`), finalized in deinit. Parameters are 1-based,
/// columns 0-based, as in SQLite.
package final class Statement {
    package let sql: String
    private let handle: OpaquePointer

    fileprivate init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// True when SQLite says the statement cannot change the database file.
    package var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }

    package func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    package func bind(_ values: [SQLValue]) throws {
        for (i, v) in values.enumerated() { try bind(v, at: Int32(i + 1)) }
    }

    package func bind(_ value: SQLValue, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(handle, index)
        case let .int(i): rc = sqlite3_bind_int64(handle, index, i)
        case let .double(d): rc = sqlite3_bind_double(handle, index, d)
        case let .text(s): rc = sqlite3_bind_text(handle, index, s, -1, aish_sqlite_transient())
        case let .blob(b):
            rc = b.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), aish_sqlite_transient()) }
        }
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    /// Advances; true when a row is available.
    @discardableResult
    package func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let e = error(rc)
            sqlite3_reset(handle)
            throw e
        }
    }

    /// Binds, runs to completion, resets (for INSERT/UPDATE). Long texts are bound without
    /// a copy (SQLITE_STATIC), pinned while the statement runs; the bindings are cleared
    /// before the pointers go. A 1 MiB reply would otherwise be copied once more per INSERT.
    package func run(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        try bindPinned(values[...], from: 1) { while try step() {} }
    }

    /// Texts at least this long are bound in place by `run`.
    private static let pinnedTextBytes = 4096

    private func bindPinned(_ values: ArraySlice<SQLValue>, from index: Int32, then body: () throws -> Void) throws {
        var index = index
        var rest = values
        while let value = rest.first {
            rest = rest.dropFirst()
            if case var .text(s) = value, s.utf8.count >= Self.pinnedTextBytes {
                let position = index
                let remaining = rest
                try s.withUTF8 { bytes in
                    let rc = sqlite3_bind_text(handle, position, UnsafeRawPointer(bytes.baseAddress!)
                        .assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
                    guard rc == SQLITE_OK else { throw error(rc) }
                    try bindPinned(remaining, from: position + 1, then: body)
                }
                return
            }
            try bind(value, at: index)
            index += 1
        }
        try body()
    }

    package var columnCount: Int { Int(sqlite3_column_count(handle)) }
    package func columnName(_ i: Int) -> String { String(cString: sqlite3_column_name(handle, Int32(i))) }
    package func isNull(_ i: Int) -> Bool { sqlite3_column_type(handle, Int32(i)) == SQLITE_NULL }
    package func int(_ i: Int) -> Int { Int(sqlite3_column_int64(handle, Int32(i))) }
    package func int64(_ i: Int) -> Int64 { sqlite3_column_int64(handle, Int32(i)) }
    package func double(_ i: Int) -> Double { sqlite3_column_double(handle, Int32(i)) }
    package func string(_ i: Int) -> String {
        guard let p = sqlite3_column_text(handle, Int32(i)) else { return "" }
        let n = Int(sqlite3_column_bytes(handle, Int32(i)))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    package func optionalString(_ i: Int) -> String? { isNull(i) ? nil : string(i) }
    package func optionalDouble(_ i: Int) -> Double? { isNull(i) ? nil : double(i) }
    package func optionalInt(_ i: Int) -> Int? { isNull(i) ? nil : int(i) }

    package func value(_ i: Int) -> SQLValue {
        switch sqlite3_column_type(handle, Int32(i)) {
        case SQLITE_INTEGER: return .int(int64(i))
        case SQLITE_FLOAT: return .double(double(i))
        case SQLITE_TEXT: return .text(string(i))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(handle, Int32(i)))
            guard n > 0, let p = sqlite3_column_blob(handle, Int32(i)) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    private func error(_ rc: Int32) -> SQLiteError {
        let db = sqlite3_db_handle(handle)
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        return SQLiteError(code: rc, message: message, sql: sql)
    }
}

/// The question `withStopCheck` asks, kept alive for the progress callback.
private final class StopCheck {
    let shouldStop: () -> Bool
    init(_ shouldStop: @escaping () -> Bool) { self.shouldStop = shouldStop }
}

/// Non-zero stops the statement (SQLITE_INTERRUPT).
private let stopCheckCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { context in
    guard let context else { return 0 }
    return Unmanaged<StopCheck>.fromOpaque(context).takeUnretainedValue().shouldStop() ? 1 : 0
}

/// Remembers what the read-only authorizer refused, so `sql` can say so.
private final class ReadOnlyAuthorizer {
    var denied: String?
}

/// Pragmas that take an argument but only read (`PRAGMA table_info(attempts)`).
private let readingPragmasWithArgument: Set<String> = [
    "table_info", "table_xinfo", "index_info", "index_xinfo", "index_list", "foreign_key_list",
    "foreign_key_check", "integrity_check", "quick_check", "table_list", "pragma_list", "function_list",
    "module_list", "collation_list", "database_list", "compile_options",
]

private let schemaTables: Set<String> = ["sqlite_master", "sqlite_temp_master", "sqlite_schema", "sqlite_temp_schema"]

/// Non-capturing, as the C API requires; context arrives through `context`.
private let readOnlyAuthorizerCallback: @convention(c) (
    UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
    UnsafePointer<CChar>?
) -> Int32 = { context, action, arg1, arg2, _, _ in
    func deny(_ what: String) -> Int32 {
        if let context { Unmanaged<ReadOnlyAuthorizer>.fromOpaque(context).takeUnretainedValue().denied = what }
        return SQLITE_DENY
    }
    let first = arg1.map { String(cString: $0) } ?? ""
    switch action {
    case SQLITE_SELECT, SQLITE_READ, SQLITE_FUNCTION, SQLITE_RECURSIVE:
        return SQLITE_OK
    case SQLITE_INSERT where schemaTables.contains(first), SQLITE_UPDATE where schemaTables.contains(first),
        SQLITE_DELETE where schemaTables.contains(first):
        // Schema bookkeeping: SQLite checks it while connecting virtual tables (FTS5), and
        // before the CREATE/DROP/ALTER check that refuses a real schema change. Direct
        // writes to the schema table are refused by SQLite itself (and the file is read-only).
        return SQLITE_OK
    case SQLITE_PRAGMA:
        let name = first.lowercased()
        if let arg2, !readingPragmasWithArgument.contains(name) {
            return deny("PRAGMA \(first) = \(String(cString: arg2))")
        }
        return SQLITE_OK
    case SQLITE_ATTACH: return deny("ATTACH")
    case SQLITE_DETACH: return deny("DETACH")
    case SQLITE_INSERT: return deny("INSERT")
    case SQLITE_UPDATE: return deny("UPDATE")
    case SQLITE_DELETE: return deny("DELETE")
    case SQLITE_TRANSACTION: return deny("transaction control")
    case SQLITE_SAVEPOINT: return deny("SAVEPOINT")
    case SQLITE_ALTER_TABLE: return deny("ALTER TABLE")
    case SQLITE_REINDEX: return deny("REINDEX")
    case SQLITE_ANALYZE: return deny("ANALYZE")
    case SQLITE_CREATE_INDEX, SQLITE_CREATE_TABLE, SQLITE_CREATE_TEMP_INDEX, SQLITE_CREATE_TEMP_TABLE,
        SQLITE_CREATE_TEMP_TRIGGER, SQLITE_CREATE_TEMP_VIEW, SQLITE_CREATE_TRIGGER, SQLITE_CREATE_VIEW,
        SQLITE_CREATE_VTABLE:
        return deny("CREATE")
    case SQLITE_DROP_INDEX, SQLITE_DROP_TABLE, SQLITE_DROP_TEMP_INDEX, SQLITE_DROP_TEMP_TABLE,
        SQLITE_DROP_TEMP_TRIGGER, SQLITE_DROP_TEMP_VIEW, SQLITE_DROP_TRIGGER, SQLITE_DROP_VIEW, SQLITE_DROP_VTABLE:
        return deny("DROP")
    default:
        return deny("this statement")
    }
}
