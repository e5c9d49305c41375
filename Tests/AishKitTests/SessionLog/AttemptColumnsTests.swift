import Foundation
import Testing
@testable import AishKit

/// The attempts table is declared once (AttemptColumns); the migrations that build it must
/// agree with that declaration, column for column.
@Suite struct AttemptColumnsTests {
    @Test func migratedTableMatchesTheDeclaration() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let log = try SessionLog(path: dir.file("a.db"))
        let s = try log.db.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info('attempts') ORDER BY cid")
        var migrated: [String] = []
        while try s.step() {
            migrated.append(s.string(0) + " " + s.string(1) + (s.int(2) == 1 ? " NOT NULL" : "") + (s.int(3) == 1 ? " PRIMARY KEY" : ""))
        }
        let declared = AttemptColumns.all.map { c in
            c.name + " " + c.sqlType.replacingOccurrences(of: #" REFERENCES \w+\(id\)"#, with: "", options: .regularExpression)
        }
        #expect(migrated == declared)
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
        #expect(pairs.map(\.0) == AttemptColumns.all.map(\.name))
        #expect(row.json["total_ms"] == .double(40))
    }
}
