import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishSQLite
@testable import AishSessionLog

@Suite struct RedactionTests {
    @Test func masksSecretLookingVariablesProviderVariablesAndTokenPatterns() {
        var r = SecretRedactor(environment: [
            "OPENAI_API_KEY": "sk-live-0123456789abcdef", "GITHUB_TOKEN": "ghp_abcdefghij", "DB_PASSWORD": "hunter22",
            "PROVIDER_CRED": "plainvalue99", "HOME": "/root", "SHORT_KEY": "ab",
        ])
        #expect(r.redact("curl -H 'x: sk-live-0123456789abcdef' and ghp_abcdefghij") == "curl -H 'x: ***' and ***")
        #expect(r.redact("password hunter22!") == "password ***!")
        #expect(r.redact("plainvalue99 stays until named") == "plainvalue99 stays until named")
        r.addSecretNames(["PROVIDER_CRED"])
        #expect(r.redact("plainvalue99 is masked now") == "*** is masked now")
        #expect(r.redact("home is /root") == "home is /root")
        #expect(r.redact("ab is too short to be a secret") == "ab is too short to be a secret")
        #expect(r.redact("Authorization: Bearer abc.def-ghi_jkl") == "Authorization: Bearer ***")
        #expect(r.redact("bearer   tok123 rest") == "bearer   *** rest")
        #expect(r.redact("key sk-proj-ABCDEFGH12345678 end") == "key *** end")
        #expect(r.redact("task-list and sk-short") == "task-list and sk-short")
        #expect(r.redact("a Bearer") == "a Bearer")
        #expect(r.redact("naïve résumé ✓") == "naïve résumé ✓")
    }

    /// The key is in the environment, typed in a command, pasted into a prompt, echoed in a
    /// reply and an error: none of it reaches the database file or its WAL.
    @Test func aKeyFromTheEnvironmentNeverReachesTheFile() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("secret.db")
        let key = "sk-test-9f8e7d6c5b4a39281706"
        let other = "tok-0a1b2c3d4e5f"
        let env = ["OPENAI_API_KEY": key, "LITELLM_MASTER_KEY": other, "HOME": dir.path]
        let output = OutputSink(capturing: true)
        let recorder = try #require(SessionLogAccess.open(path: path, mode: "script", scriptPath: nil, output: output, environment: env))
        recorder.addSecretVariableNames(["OPENAI_API_KEY"])
        let id = recorder.beginCommand(text: "set api_key \(key)", sourceFile: "k.ai", line: 1)
        recorder.recordAttempt(attempt(error: "401 for key \(key)", prompt: "my key is \(key) and \(other)",
                                       reply: "you said \(key)", timings: .object([("echo", .string(key))])))
        recorder.recordMessage(MessageRecord(conversationID: "c", role: "user", content: "key \(key)", model: nil, createdAt: Date()))
        recorder.recordAttempts([attempt(request: "b1", prompt: "batch \(key)"), attempt(request: "b2", reply: "Bearer \(other)")])
        recorder.recordHealthProbe(HealthProbeRecord(provider: "p", url: "http://h/?key=\(other)", ok: false, httpStatus: 401,
                                                     latencyMs: 1, error: "Bearer \(other) rejected", probedAt: Date()))
        recorder.recordServiceAction(ServiceActionRecord(action: "start", service: "s", unit: "u", ok: true, output: "env \(key)", at: Date()))
        recorder.endCommand(id: id, record: CommandRecord(text: "set api_key \(key)", sourceFile: "k.ai", line: 1, status: .error,
                                                          durationMs: 1, error: "bad key \(key)", startedAt: Date()))
        // Before the checkpoint the rows are in the WAL; check it and the main file.
        let wal = fileBytes(path + "-wal")
        #expect(wal.count > 0)
        #expect(!wal.contains(key))
        #expect(!wal.contains(other))
        #expect(!wal.contains("9f8e7d6c5b4a"))
        #expect(wal.contains("my key is *** and ***"))
        recorder.endSession()
        let shell = LogShell(dbPath: path)
        #expect(try shell.run(["sql", "SELECT text FROM commands"]).field("value") == .string("set api_key ***"))
        #expect(try shell.run(["sql", "SELECT reply FROM attempts WHERE request_id = 'r1'"]).field("value") == .string("you said ***"))
        #expect(try shell.run(["sql", "SELECT group_concat(prompt || '|' || reply || '|' || (command_id = \(id!)), ';') FROM attempts WHERE request_id LIKE 'b%'"]).field("value")
                == .string("batch ***|waves fold into foam|1;write a haiku about the ocean|Bearer ***|1"))
        let db = try Database(path: path)
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let main = fileBytes(path)
        #expect(!main.contains(key))
        #expect(!main.contains(other))
        #expect(main.contains("set api_key ***"))
        #expect(output.capturedText == "")
    }
}

@Suite struct ConcurrencyTests {
    /// Several connections (one per thread, as separate aish processes would have) writing
    /// the same file at once: every row arrives.
    @Test func threadsWithTheirOwnConnectionsAllSucceed() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("threads.db")
        _ = try SessionLog(path: path)
        let writers = 6, rowsEach = 150
        let failures = FailureList()
        let group = DispatchGroup()
        for w in 0..<writers {
            group.enter()
            Thread {
                defer { group.leave() }
                let output = OutputSink(capturing: true)
                guard let recorder = SessionLogAccess.open(path: path, mode: "script", scriptPath: "w\(w)", output: output, environment: [:]) else {
                    failures.add("writer \(w) could not open: \(output.capturedText)")
                    return
                }
                for i in 0..<rowsEach {
                    let id = recorder.beginCommand(text: "chat \(w)-\(i)", sourceFile: nil, line: nil)
                    recorder.recordAttempt(attempt(request: "w\(w)-\(i)"))
                    recorder.endCommand(id: id, record: CommandRecord(text: "chat \(w)-\(i)", status: .ok, durationMs: 1, startedAt: Date()))
                }
                recorder.endSession()
                if !output.capturedText.isEmpty { failures.add("writer \(w): \(output.capturedText)") }
            }.start()
        }
        group.wait()
        #expect(failures.all == [])
        let db = try Database(path: path, readOnly: true)
        #expect(try count(db, "SELECT count(*) FROM attempts") == writers * rowsEach)
        #expect(try count(db, "SELECT count(DISTINCT request_id) FROM attempts") == writers * rowsEach)
        #expect(try count(db, "SELECT count(*) FROM commands WHERE status = 'ok'") == writers * rowsEach)
        #expect(try count(db, "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL") == writers)
        #expect(try count(db, "SELECT count(*) FROM attempts_fts WHERE attempts_fts MATCH 'ocean'") == writers * rowsEach)
    }

    /// Other processes (Python's sqlite3, its own SQLite build, default journal settings
    /// of the file) writing while this process writes, on a file none of them created yet.
    @Test func separateProcessesWritingAtOnceAllSucceed() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("procs.db")
        let processes = 3, rowsEach = 400
        // The Python writers wait for the schema, then insert one row per transaction.
        let script = """
            import os, sqlite3, sys, time
            path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
            for _ in range(500):
                # Connecting to a missing file would create it (0644): aish creates it (0600).
                if not os.path.exists(path):
                    time.sleep(0.01)
                    continue
                try:
                    c = sqlite3.connect(path, timeout=10, isolation_level=None)
                    if c.execute("PRAGMA user_version").fetchone()[0] >= 2: break
                    c.close()
                except sqlite3.DatabaseError:
                    pass
                time.sleep(0.01)
            for i in range(n):
                for attempt in range(100):
                    try:
                        c.execute("BEGIN IMMEDIATE")
                        c.execute("INSERT INTO attempts (request_id, kind, started_at, requested_model, route_reason, provider, backend_model, attempt, status, prompt, reply) VALUES (?, 'chat', '2026-11-27T00:00:00.000Z', 'm', '', 'py', 'm', 1, 'ok', 'python prompt', 'python reply')", (f"{tag}-{i}",))
                        c.execute("COMMIT")
                        break
                    except sqlite3.OperationalError:
                        try: c.execute("ROLLBACK")
                        except sqlite3.OperationalError: pass
                        time.sleep(0.01)
                else:
                    sys.exit(f"{tag}: gave up on row {i}")
            """
        var children: [Process] = []
        for p in 0..<processes {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            child.arguments = ["-c", script, path, "py\(p)", String(rowsEach)]
            try child.run()
            children.append(child)
        }
        let output = OutputSink(capturing: true)
        let recorder = try #require(SessionLogAccess.open(path: path, mode: "script", scriptPath: nil, output: output, environment: [:]))
        for i in 0..<rowsEach { recorder.recordAttempt(attempt(request: "swift-\(i)")) }
        for child in children { child.waitUntilExit() }
        #expect(children.allSatisfy { $0.terminationStatus == 0 })
        #expect(output.capturedText == "")
        let db = try Database(path: path, readOnly: true)
        #expect(try count(db, "SELECT count(*) FROM attempts") == (processes + 1) * rowsEach)
        #expect(try count(db, "SELECT count(*) FROM attempts WHERE provider = 'py'") == processes * rowsEach)
        #expect(try count(db, "SELECT count(DISTINCT request_id) FROM attempts") == (processes + 1) * rowsEach)
        #expect(try count(db, "SELECT count(*) FROM attempts_fts WHERE attempts_fts MATCH 'python'") == processes * rowsEach)
        let check = try db.prepare("PRAGMA integrity_check")
        _ = try check.step()
        #expect(check.string(0) == "ok")
    }

    /// A batch that fails half-way (here: a killed process is simulated by an error) leaves
    /// nothing half-written.
    @Test func aFailedBatchLeavesNoPartialRows() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let log = try SessionLog(path: dir.file("batch.db"))
        try log.insertAttempts([attempt(request: "keep")])
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try log.db.inTransaction {
                try log.db.cached("INSERT INTO sessions (started_at, mode, aish_version, host, pid) VALUES ('t', 'm', 'v', 'h', 1)").run([])
                throw Interrupted()
            }
        }
        #expect(try count(log.db, "SELECT count(*) FROM sessions") == 0)
        #expect(try count(log.db, "SELECT count(*) FROM attempts") == 1)
    }

    func count(_ db: Database, _ sql: String) throws -> Int {
        let s = try db.prepare(sql)
        _ = try s.step()
        return s.int(0)
    }
}

final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}
