import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishSQLite
@testable import AishSessionLog

@Suite struct SessionLogStoreTests {
    /// latestVersion is written out (so an up-to-date log opens without building the
    /// migrations' SQL); it must be the last migration's, and versions must count up by one.
    @Test func latestVersionIsTheLastMigrations() {
        #expect(SessionLogSchema.latestVersion == SessionLogSchema.migrations.last?.version)
        #expect(SessionLogSchema.migrations.map(\.version) == Array(1...SessionLogSchema.migrations.count))
    }

    @Test func createsAPrivateFileInPrivateDirectoriesInWALMode() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("a/b/aish.db")
        let output = OutputSink(capturing: true)
        let recorder = SessionLogAccess.open(path: path, mode: "script", scriptPath: "smoke.ai", output: output, environment: [:])
        #expect(recorder != nil)
        #expect(output.capturedText == "")
        #expect(mode(of: dir.file("a")) == 0o700)
        #expect(mode(of: dir.file("a/b")) == 0o700)
        #expect(mode(of: path) == 0o600)
        #expect(mode(of: path + "-wal") == 0o600)
        #expect(mode(of: path + "-shm") == 0o600)
        let db = try Database(path: path)
        let s = try db.prepare("PRAGMA journal_mode")
        _ = try s.step()
        #expect(s.string(0) == "wal")
        s.reset()
        #expect(try db.userVersion() == SessionLogSchema.latestVersion)
        let session = try db.prepare("SELECT mode, script_path, aish_version, pid, ended_at FROM sessions")
        #expect(try session.step())
        #expect(session.string(0) == "script")
        #expect(session.string(1) == "smoke.ai")
        #expect(session.string(2) == SessionLogAccess.aishVersion)
        #expect(session.int(3) == Int(getpid()))
        #expect(session.isNull(4))
        session.reset()
        recorder?.endSession()
        #expect(try names(db, "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL") == ["1"])
    }

    @Test func closingLeavesTheWALForTheNextProcessAndLosesNothing() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("aish.db")
        do {
            let log = try SessionLog(path: path)
            try log.beginSession(mode: "command", scriptPath: nil, aishVersion: "t")
            try log.endSession()
        }
        // No checkpoint on close: the WAL (and its header) is reused, not deleted and recreated.
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        do {
            let log = try SessionLog(path: path)
            try log.beginSession(mode: "script", scriptPath: nil, aishVersion: "t")
        }
        let reader = try Database(path: path, readOnly: true)
        #expect(try names(reader, "SELECT mode FROM sessions ORDER BY id") == ["command", "script"])
    }

    @Test func usesAISHDBThenTheDefaultPath() {
        #expect(SessionLogAccess.resolvePath("/x/y.db", environment: ["AISH_DB": "/z.db", "HOME": "/h"]) == "/x/y.db")
        #expect(SessionLogAccess.resolvePath(nil, environment: ["AISH_DB": "/z.db", "HOME": "/h"]) == "/z.db")
        #expect(SessionLogAccess.resolvePath(nil, environment: ["HOME": "/h"]) == "/h/.local/share/aish/aish.db")
        #expect(SessionLogAccess.resolvePath("~/l.db", environment: ["HOME": "/h"]) == "/h/l.db")
    }

    @Test func migratesAnEmptyFile() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("empty.db")
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        let log = try SessionLog(path: path)
        #expect(try log.db.userVersion() == SessionLogSchema.latestVersion)
        let tables = try names(log.db, "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') ORDER BY name")
        for t in ["sessions", "commands", "attempts", "messages", "health_probes", "runs", "service_actions",
                  "metric_samples", "attempts_fts", "attempts_fts_insert", "attempts_fts_delete", "attempts_fts_update",
                  "attempt_rollup", "rollup_state", "attempts_rollup_delete"] {
            #expect(tables.contains(t), "missing \(t)")
        }
    }

    /// A version-1 file made by hand (core tables only, one attempt) gains full-text search,
    /// and the existing row is indexed.
    @Test func migratesFromVersion1() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("v1.db")
        do {
            let db = try Database(path: path)
            try db.execute(SessionLogSchema.v1CoreTables)
            try db.execute("""
                INSERT INTO attempts (request_id, kind, started_at, requested_model, route_reason, provider, backend_model,
                    attempt, status, prompt, reply)
                VALUES ('old', 'chat', '2026-01-01T00:00:00.000Z', 'm', '', 'p', 'm', 1, 'ok', 'an old prompt about glaciers', 'ice')
                """)
            try db.setUserVersion(1)
        }
        let log = try SessionLog(path: path)
        #expect(try log.db.userVersion() == SessionLogSchema.latestVersion)
        let hits = try names(log.db, "SELECT request_id FROM attempts WHERE id IN (SELECT rowid FROM attempts_fts WHERE attempts_fts MATCH 'glaciers')")
        #expect(hits == ["old"])
        // New rows are indexed by the trigger.
        try log.insertAttempt(attempt(request: "new", prompt: "glaciers again"), commandID: nil)
        let both = try names(log.db, "SELECT request_id FROM attempts WHERE id IN (SELECT rowid FROM attempts_fts WHERE attempts_fts MATCH 'glaciers') ORDER BY id")
        #expect(both == ["old", "new"])
    }

    /// Every attempt is indexed for search, once: written one by one, in bulk batches (over
    /// a batch's size), and the rows of a log an older aish wrote.
    @Test func everyNewAttemptIsIndexedOnce() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("v4.db")
        do {
            let db = try Database(path: path)
            for m in SessionLogSchema.migrations where m.version <= 4 { try db.execute(m.sql) }
            try db.setUserVersion(4)
            try db.execute("""
                INSERT INTO attempts (request_id, kind, started_at, requested_model, route_reason, provider, backend_model,
                    attempt, status, prompt, reply)
                VALUES ('v4', 'chat', '2026-01-01T00:00:00.000Z', 'm', '', 'p', 'm', 1, 'ok', 'kelp forests', 'tall kelp')
                """)
        }
        let log = try SessionLog(path: path)
        try log.insertAttempt(attempt(request: "one", prompt: "kelp again", reply: "more kelp"), commandID: nil)
        // Cut into statements of every size (400, 64, 8, 8 and three of one row), in order.
        let bulk = SessionLog.rowsPerInsert + 64 + 2 * 8 + 3
        try log.insertAttempts((0..<bulk).map { attempt(request: "bulk\($0)", prompt: "p\($0)", reply: $0 % 2 == 0 ? "kelp" : "sand") })
        #expect(try names(log.db, "SELECT request_id FROM attempts WHERE request_id LIKE 'bulk%' ORDER BY id") == (0..<bulk).map { "bulk\($0)" })
        func matches(_ query: String) throws -> [String] {
            try names(log.db, "SELECT rowid FROM attempts_fts WHERE attempts_fts MATCH '\(query)' ORDER BY rowid")
        }
        #expect(try matches("kelp").count == 2 + (bulk + 1) / 2)
        #expect(try matches("sand").count == bulk / 2)
        #expect(try matches("p\(bulk - 1)") == ["\(bulk + 2)"])
        let indexed = try names(log.db, "SELECT count(*) FROM attempts_fts WHERE attempts_fts MATCH 'kelp OR sand'")
        #expect(indexed == ["\(2 + bulk)"])
        // The index agrees with the table it points at (FTS5's own check of an external-content index).
        try log.db.execute("INSERT INTO attempts_fts(attempts_fts, rank) VALUES ('integrity-check', 1)")
    }

    /// A version-2 file with attempts gains the daily histograms, filled from its rows:
    /// `stats` read from them agrees with `stats` read row by row.
    @Test func migratesFromVersion2() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("v2.db")
        do {
            let db = try Database(path: path)
            try db.execute(SessionLogSchema.v1CoreTables)
            try db.execute(SessionLogSchema.v2FullTextSearch)
            try db.setUserVersion(2)
        }
        do {
            // Rows written by a version-2 aish.
            let db = try Database(path: path)
            let insert = try db.prepare("""
                INSERT INTO attempts (request_id, kind, started_at, requested_model, route_reason, provider, backend_model,
                    attempt, status, ttft_ms, total_ms, tokens_per_second, prompt, reply)
                VALUES (?, 'chat', ?, ?, '', ?, 'm', 1, ?, ?, ?, ?, 'p', 'r')
                """)
            let day = Date(timeIntervalSince1970: 1_795_700_000)
            for i in 0..<300 {
                let status: AttemptStatus = i % 10 == 0 ? .error : i % 25 == 0 ? .skipped : .ok
                try insert.run([.text("r\(i)"), .text(LogTime.format(day.addingTimeInterval(Double(i) * 600))),
                                .text(i % 3 == 0 ? "a" : "b"), .text(i % 2 == 0 ? "p" : "q"), .text(status.rawValue),
                                status == .error ? .null : .double(Double(20 + i * 7 % 500)),
                                .double(Double(100 + i * 13 % 4000)), status == .ok ? .double(40 + Double(i % 7)) : .null])
            }
        }
        let log = try SessionLog(path: path)
        #expect(try log.db.userVersion() == SessionLogSchema.latestVersion)
        #expect(try names(log.db, "SELECT sum(n) FROM attempt_rollup WHERE metric = 0") == ["294"])
        #expect(try names(log.db, "SELECT sum(n) FROM attempt_rollup WHERE metric = 0 AND bin = 1") == ["30"])
        #expect(try names(log.db, "SELECT count(DISTINCT day) FROM attempt_rollup") == ["3"])
        let reader = try SessionLogReader(path: path)
        for byProvider in [false, true] {
            let exact = try reader.stats(since: nil, byProvider: byProvider)
            let binned = try reader.stats(since: nil, byProvider: byProvider, exactLimit: 0)
            #expect(exact.exact && !binned.exact)
            #expect(exact.groups.map(\.name) == binned.groups.map(\.name))
            for (e, b) in zip(exact.groups + [exact.total], binned.groups + [binned.total]) {
                #expect(e.requests == b.requests && e.errors == b.errors)
                #expect(abs(e.meanTokensPerSecond! - b.meanTokensPerSecond!) < 1e-9)
                let (ep, bp) = (e.latency.percentiles(), b.latency.percentiles())
                for (x, y) in [(ep.p50, bp.p50), (ep.p90, bp.p90), (ep.p99, bp.p99)] {
                    #expect(abs(x - y) / x < 0.02, "\(e.name): exact \(x), from bins \(y)")
                }
            }
        }
        // A --since inside the data: the first, partial day is read row by row.
        let since = Date(timeIntervalSince1970: 1_795_700_000 + 200 * 600)
        let exact = try reader.stats(since: since, byProvider: false)
        let binned = try reader.stats(since: since, byProvider: false, exactLimit: 0)
        #expect(exact.total.requests == binned.total.requests)
        #expect(exact.total.requests == 98)
    }

    @Test func binsAgreeBetweenSQLAndSwift() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let db = try Database(path: dir.file("bins.db"))
        for v in [0, 0.004, 0.01, 0.5, 1, 9.99, 10, 99.5, 100, 123.456, 999.999, 1000, 25_000.5, 1e7] as [Double] {
            let s = try db.prepare("SELECT \(SessionLogSchema.binSQL("?1"))")
            try s.bind([.double(v)])
            _ = try s.step()
            #expect(s.int(0) == LatencyBins.bin(v), "\(v)")
            let (lower, upper) = LatencyBins.range(LatencyBins.bin(v))
            #expect(lower <= v && v < upper, "\(v) in [\(lower), \(upper))")
            if v >= 1 { #expect((upper - lower) / lower <= 0.01 + 1e-12) }
        }
    }

    /// Rows not folded into the histograms yet (another writer's, or fewer than a fold's
    /// worth) are read one by one: stats from the histograms miss nothing.
    @Test func statsFromHistogramsIncludeRowsNotFoldedYet() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("fold.db")
        let log = try SessionLog(path: path)
        try log.insertAttempts((0..<50).map { attempt(request: "bulk\($0)", total: Double(100 + $0)) })
        for i in 0..<5 { try log.insertAttempt(attempt(request: "one\(i)", provider: "other", total: 5000), commandID: nil) }
        try log.db.execute("""
            INSERT INTO attempts (request_id, kind, started_at, requested_model, route_reason, provider, backend_model,
                attempt, status, ttft_ms, total_ms, prompt, reply)
            VALUES ('ext', 'chat', '\(LogTime.format(Date()))', 'llama3', '', 'external', 'x', 1, 'error', NULL, 10, 'p', '')
            """)
        #expect(try names(log.db, "SELECT covered_id FROM rollup_state") == ["50"])
        let reader = try SessionLogReader(path: path)
        // The start of today (UTC): an hour ago is yesterday between midnight and one.
        let today = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        for since in [nil, today] {
            let binned = try reader.stats(since: since, byProvider: true, exactLimit: 0)
            let exact = try reader.stats(since: since, byProvider: true)
            #expect(exact.exact)
            #expect(binned.exact == (since != nil))  // a --since within today reads today's rows one by one
            #expect(binned.groups.map { "\($0.name):\($0.requests):\($0.errors)" } == ["ollama:50:0", "other:5:0", "external:1:1"])
            #expect(exact.groups.map { "\($0.name):\($0.requests):\($0.errors)" } == ["ollama:50:0", "other:5:0", "external:1:1"])
        }
        try log.endSession()
    }

    /// Cache hits (schema 5) count as requests, not as timings, whether `stats` reads rows
    /// or the histograms; a log written at version 4 keeps its folded rows (not hits) and
    /// folds new hits apart; deleting a hit takes it out of the count.
    @Test func cacheHitsAreCountedNotTimedInRowsAndHistograms() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("hits.db")
        do {
            // A version-4 log with one folded, timed row.
            let db = try Database(path: path)
            for m in SessionLogSchema.migrations where m.version <= 4 { try db.execute(m.sql) }
            try db.execute("""
                INSERT INTO attempts (request_id, kind, started_at, requested_model, route_reason, provider, backend_model,
                    attempt, status, ttft_ms, total_ms, tokens_per_second, prompt, reply)
                VALUES ('old', 'chat', '\(LogTime.format(Date()))', 'gw', '', 'gateway', 'g', 1, 'ok', 300, 900, 40, 'p', 'r')
                """)
            for sql in SessionLogSchema.foldRollupSQL(upTo: "(SELECT max(id) FROM attempts)", cacheHits: false) { try db.execute(sql) }
            try db.setUserVersion(4)
        }
        let log = try SessionLog(path: path)
        var hit = attempt(request: "hit", model: "gw", provider: "gateway", ttft: 4, total: 6)
        hit.cacheHit = true
        var miss = attempt(request: "miss", model: "gw", provider: "gateway", ttft: 100, total: 500)
        miss.cacheHit = false
        try log.insertAttempts([hit, hit, miss])
        try log.refreshRollup()
        #expect(try names(log.db, "SELECT metric || ':' || n FROM attempt_rollup WHERE metric IN (2, 4) ORDER BY metric, bin")
                == ["2:1", "2:1", "4:2"])
        let reader = try SessionLogReader(path: path)
        for exactLimit in [0, SessionLogReader.exactStatsLimit] {
            let s = try reader.stats(since: nil, byProvider: false, exactLimit: exactLimit)
            #expect(s.exact == (exactLimit > 0))
            #expect(s.total.requests == 4)
            #expect(s.total.cacheHits == 2)
            #expect(s.total.cacheHitRatio == 0.5)
            let latency = s.total.latency.percentiles()
            #expect(latency.p50 >= 500 && latency.p99 <= 910, "hits (6 ms) are not in the latency: \(latency)")
            #expect(s.total.ttft.percentiles().p50 >= 100)
        }
        try log.db.execute("DELETE FROM attempts WHERE request_id = 'hit' AND id = (SELECT min(id) FROM attempts WHERE request_id = 'hit')")
        #expect(try reader.stats(since: nil, byProvider: false, exactLimit: 0).total.cacheHits == 1)
        try log.endSession()
    }

    @Test func deletingAttemptsKeepsTheHistogramsInStep() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let log = try SessionLog(path: dir.file("del.db"))
        try log.insertAttempts([attempt(request: "a"), attempt(request: "b", status: .error, ttft: nil), attempt(request: "c", ttft: 333)])
        try log.db.execute("DELETE FROM attempts WHERE request_id IN ('a', 'b')")
        #expect(try names(log.db, "SELECT metric || ':' || n || ':' || total FROM attempt_rollup WHERE n > 0 ORDER BY metric")
                == ["0:1:0.0", "1:1:333.0", "2:1:900.0", "3:1:40.0"])
    }

    /// A version-1 log that this process cannot upgrade (read-only): the commands work with
    /// what it has and say what is missing.
    @Test func readingALogNotYetUpgraded() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("old.db")
        do {
            let db = try Database(path: path)
            try db.execute(SessionLogSchema.v1CoreTables)
            try db.execute("""
                INSERT INTO attempts (request_id, kind, started_at, requested_model, route_reason, provider, backend_model,
                    attempt, status, ttft_ms, total_ms, prompt, reply)
                VALUES ('old', 'chat', '2026-01-01T00:00:00.000Z', 'm', '', 'p', 'm', 1, 'ok', 100, 200, 'prompt', 'reply')
                """)
            try db.setUserVersion(1)
        }
        let shell = LogShell(dbPath: path)
        #expect(try shell.run(["stats"]).field("requests") == .int(1))
        #expect(try shell.run(["log"]).field("count") == .int(1))
        #expect(shell.errorText(["log", "-q", "prompt"]) == "log: -q needs the full-text index, which this log has not got yet (schema version 1); it is added the next time aish opens the log for writing")
    }

    @Test func reopeningTheLatestVersionChangesNothing() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("x.db")
        do {
            let log = try SessionLog(path: path)
            try log.insertAttempt(attempt(), commandID: nil)
        }
        let log = try SessionLog(path: path)
        #expect(try log.db.userVersion() == SessionLogSchema.latestVersion)
        #expect(try names(log.db, "SELECT count(*) FROM attempts") == ["1"])
    }

    @Test func aNewerSchemaIsRefusedWithOneWarning() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("future.db")
        do {
            let db = try Database(path: path)
            try db.setUserVersion(99)
        }
        let output = OutputSink(capturing: true)
        #expect(SessionLogAccess.open(path: path, mode: "interactive", scriptPath: nil, output: output, environment: [:]) == nil)
        #expect(output.capturedText == "aish: session log unavailable: \(path): its schema version 99 is newer than this aish supports (6); continuing without a log\n")
    }

    @Test func aGarbageFileGivesOneWarningAndCommandsSayWhy() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("garbage.db")
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        let output = OutputSink(capturing: true)
        #expect(SessionLogAccess.open(path: path, mode: "interactive", scriptPath: nil, output: output, environment: [:]) == nil)
        #expect(output.capturedText == "aish: session log unavailable: \(path): the file is not a valid SQLite database (file is not a database); continuing without a log\n")
        let shell = LogShell(dbPath: path)
        #expect(shell.errorText(["log"]) == "log: session log unavailable: \(path): the file is not a valid SQLite database (file is not a database)")
        #expect(shell.errorText(["sql", "SELECT 1"]) == "sql: session log unavailable: \(path): the file is not a valid SQLite database (file is not a database)")
        // The file is left as it was: aish never overwrites what it cannot read.
        #expect(fileBytes(path) == Data(repeating: 0x41, count: 8192))
    }

    @Test func aReadOnlyFileGivesOneWarning() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("ro.db")
        do { _ = try SessionLog(path: path) }
        try makeReadOnly(path)
        defer { undoReadOnly(path) }
        let output = OutputSink(capturing: true)
        #expect(SessionLogAccess.open(path: path, mode: "interactive", scriptPath: nil, output: output, environment: [:]) == nil)
        #expect(output.capturedText == "aish: session log unavailable: \(path): the file is read-only; continuing without a log\n")
        // Reading still works.
        let shell = LogShell(dbPath: path)
        #expect(try shell.run(["log"]).text == "no request attempts logged\n")
    }

    @Test func aDirectoryThatCannotBeCreatedGivesOneWarning() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let blocker = dir.file("file")
        _ = FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let path = blocker + "/sub/aish.db"
        let output = OutputSink(capturing: true)
        #expect(SessionLogAccess.open(path: path, mode: "interactive", scriptPath: nil, output: output, environment: [:]) == nil)
        #expect(output.capturedText.hasPrefix("aish: session log unavailable: \(path): cannot create directory \(blocker)/sub: "))
        #expect(output.capturedText.hasSuffix("; continuing without a log\n"))
        #expect(output.capturedText.components(separatedBy: "\n").count == 2)
    }

    /// Another process holding the write lock past the busy timeout: one warning, and the
    /// recorder stops trying (so the shell is not slowed by every later write).
    @Test func aLockedDatabaseDisablesTheRecorderAfterOneWarning() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("locked.db")
        let log = try SessionLog(path: path, busyTimeoutMs: 100)
        try log.beginSession(mode: "script", scriptPath: nil, aishVersion: "t")
        let output = OutputSink(capturing: true)
        let recorder = SessionLogRecorder(log: log, secrets: output.secrets, output: output)
        let holder = try Database(path: path)
        try holder.execute("BEGIN IMMEDIATE")
        recorder.recordAttempt(attempt())
        recorder.recordAttempt(attempt())
        _ = recorder.beginCommand(text: "log", sourceFile: nil, line: nil)
        try holder.execute("ROLLBACK")
        #expect(output.capturedText == "aish: session log unavailable: \(path): the database is locked by another process; continuing without a log\n")
        #expect(!recorder.isEnabled)
    }

    @Test func inTransactionRollsBackOnThrow() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let db = try Database(path: dir.file("t.db"))
        try db.execute("CREATE TABLE t (x INTEGER)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.inTransaction {
                try db.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(try names(db, "SELECT count(*) FROM t") == ["0"])
        try db.inTransaction { try db.execute("INSERT INTO t VALUES (2)") }
        #expect(try names(db, "SELECT x FROM t") == ["2"])
    }

    @Test func errorsCarryCodeMessageAndSQL() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let db = try Database(path: dir.file("e.db"))
        do {
            _ = try db.prepare("SELECT nope FROM nowhere")
            Issue.record("prepare should fail")
        } catch let e as SQLiteError {
            #expect(e.code == 1)
            #expect(e.message == "no such table: nowhere")
            #expect(e.sql == "SELECT nope FROM nowhere")
            #expect(e.description == "no such table: nowhere (SQLite code 1) in: SELECT nope FROM nowhere")
        }
    }

    @Test func recordsEveryKindOfRecord() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("all.db")
        let output = OutputSink(capturing: true)
        let recorder = try #require(SessionLogAccess.open(path: path, mode: "script", scriptPath: "t.ai", output: output, environment: [:]))
        let id = recorder.beginCommand(text: "chat hello", sourceFile: "t.ai", line: 3)
        recorder.recordAttempt(attempt(status: .error, http: 503, error: "HTTP 503", ttft: nil, reply: ""))
        recorder.recordAttempt(attempt(provider: "llama-cpp", attempt: 2, status: .partial, reply: "half a rep",
                                       timings: .object([("eval_duration", .int(123))])))
        recorder.recordMessage(MessageRecord(conversationID: "c1", role: "user", content: "hello", model: "llama3", createdAt: Date()))
        recorder.endCommand(id: id, record: CommandRecord(text: "chat hello", sourceFile: "t.ai", line: 3, status: .error,
                                                          durationMs: 812.5, error: "stream broke", startedAt: Date()))
        recorder.recordHealthProbe(HealthProbeRecord(provider: "ollama", url: "http://127.0.0.1:11434/api/tags", ok: false,
                                                     httpStatus: nil, latencyMs: 3.5, error: "connection refused", probedAt: Date()))
        let runID = recorder.recordRun(RunRecord(kind: "bench", parameters: .object([("n", .int(10))]),
                                                 summary: .object([("p50", .double(12.5))]), startedAt: Date(), durationMs: 1000))
        let secondRunID = recorder.recordRun(RunRecord(kind: "drill", parameters: .object([]), summary: .object([]),
                                                       startedAt: Date(), durationMs: 1))
        recorder.recordServiceAction(ServiceActionRecord(action: "restart", service: "ollama", unit: "ollama.service",
                                                         ok: true, output: "", at: Date()))
        recorder.recordMetricSamples([
            MetricSampleRecord(provider: "vllm", name: "requests_running", labels: "{}", value: 2, at: Date()),
            MetricSampleRecord(provider: "vllm", name: "requests_waiting", labels: "{}", value: 0, at: Date()),
        ])
        recorder.endSession()
        #expect(output.capturedText == "")

        let db = try Database(path: path, readOnly: true)
        #expect(try names(db, "SELECT text || '|' || source_file || '|' || line || '|' || status || '|' || duration_ms || '|' || error FROM commands")
                == ["chat hello|t.ai|3|error|812.5|stream broke"])
        #expect(try names(db, "SELECT attempt || provider || status || coalesce(http_status, '') || coalesce(server_timings, '') || reply || (command_id = \(id!)) FROM attempts ORDER BY id")
                == ["1ollamaerror5031", "2llama-cpppartial200{\"eval_duration\":123}half a rep1"])
        #expect(try names(db, "SELECT role || content FROM messages") == ["userhello"])
        #expect(try names(db, "SELECT provider || ok || error FROM health_probes") == ["ollama0connection refused"])
        #expect(try names(db, "SELECT kind || parameters || summary FROM runs WHERE id = \(try #require(runID))")
                == ["bench{\"n\":10}{\"p50\":12.5}"])
        #expect(try names(db, "SELECT kind FROM runs WHERE id = \(try #require(secondRunID))") == ["drill"])
        #expect(try names(db, "SELECT action || service || ok FROM service_actions") == ["restartollama1"])
        #expect(try names(db, "SELECT count(*) FROM metric_samples") == ["2"])
        #expect(try names(db, "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL") == ["1"])
    }

    @Test func aCommandLeftRunningByACrashIsVisible() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("crash.db")
        let recorder = try #require(SessionLogAccess.open(path: path, mode: "script", scriptPath: nil, output: OutputSink(capturing: true), environment: [:]))
        _ = recorder.beginCommand(text: "chat long", sourceFile: nil, line: nil)
        // No endCommand: the process "died". The row is there and says so.
        let db = try Database(path: path, readOnly: true)
        #expect(try names(db, "SELECT status FROM commands") == ["running"])
    }

    func names(_ db: Database, _ sql: String) throws -> [String] {
        let s = try db.prepare(sql)
        var out: [String] = []
        while try s.step() { out.append(s.string(0)) }
        return out
    }
}

/// Root ignores file modes, so as root the file is made immutable instead.
func makeReadOnly(_ path: String) throws {
    if geteuid() == 0 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        p.arguments = ["+i", path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CommandFailure("chattr +i failed") }
    } else {
        chmod(path, 0o400)
    }
}

func undoReadOnly(_ path: String) {
    if geteuid() == 0 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        p.arguments = ["-i", path]
        try? p.run()
        p.waitUntilExit()
    } else {
        chmod(path, 0o600)
    }
}
