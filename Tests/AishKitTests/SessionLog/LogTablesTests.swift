import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishSQLite
@testable import AishSessionLog

/// Each table the session log writes rows to is declared once (`LogTables`,
/// `AttemptColumns`); the migrations that build the tables must agree with those
/// declarations, column for column, in a new log and in an old one brought up to date.
@Suite struct LogTablesTests {
    /// name, type, not null, default and primary key of each column; then the foreign keys.
    private func schema(_ db: Database, _ table: String) throws -> [String] {
        var out: [String] = []
        let columns = try db.prepare("SELECT name, type, \"notnull\", coalesce(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid")
        try columns.bind([.text(table)])
        while try columns.step() { out.append((0..<5).map { columns.value($0) }.map(SQLReport.text).joined(separator: " ")) }
        let keys = try db.prepare("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list(?) ORDER BY \"from\"")
        try keys.bind([.text(table)])
        while try keys.step() { out.append("\(keys.string(0)) → \(keys.string(1))(\(keys.string(2)))") }
        return out
    }

    /// A log made by a version-1 aish (the first migration only), opened by this one.
    private func upgradedFromVersion1(_ dir: TempDir) throws -> SessionLog {
        let path = dir.file("v1.db")
        do {
            let db = try Database(path: path)
            try db.execute(SessionLogSchema.v1CoreTables)
            try db.setUserVersion(1)
        }
        return try SessionLog(path: path)
    }

    @Test(arguments: ["new", "upgraded"])
    func migratedTablesMatchTheDeclarations(log kind: String) throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let log = kind == "new" ? try SessionLog(path: dir.file("a.db")) : try upgradedFromVersion1(dir)
        let declared = try Database(path: dir.file("declared.db"))
        for table in LogTables.all {
            try declared.execute(table.createSQL)
            #expect(try schema(log.db, table.name) == (try schema(declared, table.name)), "\(table.name)")
        }
        // Every table of rows is declared; the rest are the full-text index and the
        // histograms, which set-based SQL maintains.
        let s = try log.db.prepare("""
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'attempts_fts%'
            AND name NOT IN ('attempt_rollup', 'rollup_state') ORDER BY name
            """)
        var tables: [String] = []
        while try s.step() { tables.append(s.string(0)) }
        #expect(tables == LogTables.all.map(\.name).sorted())
    }

    /// What is written reads back, and the JSON keys are the column names.
    @Test func writtenRecordReadsBackByName() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("b.db")
        let log = try SessionLog(path: path)
        try log.insertAttempts([attempt(request: "r9", provider: "p1", http: 503, error: "boom", ttft: 12.5, total: 40)])
        let row = try #require(try SessionLogReader(path: path).attempts(AttemptFilter()).first)
        #expect(row.requestID == "r9")
        #expect(row.provider == "p1")
        #expect(row.httpStatus == 503)
        #expect(row.error == "boom")
        #expect(row.ttftMs == 12.5)
        guard case let .object(pairs) = row.json else { Issue.record("not an object"); return }
        #expect(pairs.map(\.0) == AttemptColumns.table.columns.map(\.name))
        #expect(row.json["total_ms"] == .double(40))
    }

    /// Sessions and commands, written by the log, read back into their rows by name.
    @Test func sessionsAndCommandsReadBack() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("c.db")
        let log = try SessionLog(path: path)
        try log.beginSession(mode: "script", scriptPath: "t.ai", aishVersion: "9.9")
        let running = try log.beginCommand(text: "health", sourceFile: "t.ai", line: 4, startedAt: Date())
        let done = try log.beginCommand(text: "chat hi", sourceFile: nil, line: nil, startedAt: Date())
        try log.finishCommand(id: done, record: CommandRecord(text: "chat hi", sourceFile: nil, line: nil, status: .error,
                                                              durationMs: 12.5, error: "boom", startedAt: Date()))
        // A command whose start was not logged is inserted whole when it finishes.
        try log.finishCommand(id: nil, record: CommandRecord(text: "echo x", sourceFile: "t.ai", line: 9, status: .ok,
                                                             durationMs: 1, error: nil, startedAt: Date()))
        try log.endSession()
        let reader = try SessionLogReader(path: path)
        let session = try #require(try reader.session(id: 1))
        #expect(session.mode == "script" && session.scriptPath == "t.ai" && session.aishVersion == "9.9")
        #expect(session.pid == Int(getpid()) && session.endedAt != nil)
        guard case let .object(sessionPairs) = session.json else { Issue.record("not an object"); return }
        #expect(sessionPairs.map(\.0) == LogTables.sessions.columns.map(\.name))

        let first = try #require(try reader.command(id: running))
        #expect(first.status == "running" && first.durationMs == nil && first.location == "t.ai:4" && first.sessionID == 1)
        let second = try #require(try reader.command(id: done))
        #expect(second.status == "error" && second.durationMs == 12.5 && second.error == "boom" && second.text == "chat hi")
        let third = try #require(try reader.commands(limit: 10, status: "ok", since: nil, search: nil).first)
        #expect(third.text == "echo x" && third.line == 9 && third.sessionID == 1)
        #expect(second.json["duration_ms"] == .double(12.5))
        guard case let .object(commandPairs) = second.json else { Issue.record("not an object"); return }
        #expect(commandPairs.map(\.0) == LogTables.commands.columns.map(\.name))
    }

    /// Adding a column is one declaration: its migration (`addColumnSQL`), INSERT, SELECT
    /// and JSON follow, and a log not yet migrated reads it as NULL.
    @Test func aColumnAddedLaterIsOneDeclaration() throws {
        struct Probe { var id: Int64 = 0; var name = ""; var weight: Double? }
        let table = LogTable<Probe, Probe>("probes", [
            .id(\.id),
            .required("name", \.name) { $0.name },
            LogColumn.optional("weight", \.weight) { $0.weight }.added(in: 2),
        ])
        let dir = TempDir()
        defer { dir.cleanup() }
        let db = try Database(path: dir.file("p.db"))
        try db.execute("CREATE TABLE probes (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")  // version 1
        var old = Probe()
        let s1 = try db.prepare("SELECT \(table.selectList(schemaVersion: 1)) FROM probes")
        try db.execute("INSERT INTO probes (name) VALUES ('before')")
        #expect(try s1.step())
        table.read(s1, into: &old)
        #expect(old.name == "before" && old.weight == nil)

        try db.execute(table.addColumnSQL("weight"))  // the migration to version 2
        #expect(table.addColumnSQL("weight") == "ALTER TABLE probes ADD COLUMN weight REAL;")
        try db.prepare(table.insertSQL).run(table.values(Probe(name: "after", weight: 2.5), LogWriteContext(sessionID: nil)))
        let s2 = try db.prepare("SELECT \(table.selectList) FROM probes WHERE name = 'after'")
        #expect(try s2.step())
        var new = Probe()
        table.read(s2, into: &new)
        #expect(new.weight == 2.5 && new.id == 2)
        #expect(table.json(new).serialized() == #"{"id":2,"name":"after","weight":2.5}"#)
    }
}
