import Foundation
import Testing
@testable import AishBase

/// The session log through the real `aish` binary.
@Suite struct SessionLogBinaryTests {
    @Test func aCorruptLogWarnsOnceAndTheShellKeepsWorking() throws {
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let db = h.home + "/aish.db"
        try Data(repeating: 0x5a, count: 4096).write(to: URL(fileURLWithPath: db))
        // The command that needs the log fails and says why (and, as any failure, ends -c).
        let run = try h.run(["-c", "echo one; echo two; sql 'SELECT 1'"])
        #expect(run.stdout == "one\ntwo\n")
        #expect(run.stderr == """
            aish: session log unavailable: \(db): the file is not a valid SQLite database (file is not a database); continuing without a log
            aish: sql: session log unavailable: \(db): the file is not a valid SQLite database (file is not a database)

            """)
        #expect(run.code == 1)
        let ok = try h.run(["-c", "echo fine"])
        #expect(ok.code == 0)
        #expect(ok.stdout == "fine\n")
        #expect(ok.stderr.components(separatedBy: "\n").filter { $0.contains("session log unavailable") }.count == 1)
        #expect(fileBytes(db) == Data(repeating: 0x5a, count: 4096))
    }

    @Test func aReadOnlyLogWarnsOnceAndTheShellKeepsWorking() throws {
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let db = h.home + "/aish.db"
        #expect(try h.run(["-c", "echo first"]).code == 0)
        try makeReadOnly(db)
        defer { undoReadOnly(db) }
        let run = try h.run(["-c", "echo second; log --commands -n 1"])
        #expect(run.code == 0)
        #expect(run.stderr == "aish: session log unavailable: \(db): the file is read-only; continuing without a log\n")
        #expect(run.stdout.hasPrefix("second\n"))
        #expect(run.stdout.contains("echo first"))   // reading still works
    }

    @Test func aScriptAssertsOnTheLogWithExpect() throws {
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let script = h.home + "/log.ai"
        try """
            echo hello
            log --commands -n 5
            expect ok
            expect count == 2
            sql 'SELECT count(*) FROM commands WHERE source_file IS NOT NULL'
            expect value == 5
            show cmd:1
            expect json command.text == "echo hello"
            stats --by provider
            expect requests == 0
            log -q nothing
            expect count == 0
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try h.run(["-f", script])
        #expect(run.stdout.hasSuffix("6 passed, 0 failed\n"), "\(run.stdout)\(run.stderr)")
        #expect(run.code == 0)
        #expect(run.stdout.contains("cmd:1  "))
        let json = try h.run(["--json", "-c", "show cmd:1"])
        let parsed = try JSONValue.parse(json.stdout)
        #expect(parsed["command"]?["source_file"] == .string(script))
        #expect(parsed["command"]?["line"] == .int(1))
        #expect(parsed["session"]?["mode"] == .string("script"))
    }

    /// Parallel CI jobs on one log: several aish processes at once, every command logged.
    @Test func parallelProcessesAllWriteEveryRow() throws {
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let processes = 5, commandsEach = 40
        let commands = (0..<commandsEach).map { "echo p$1-\($0)" }.joined(separator: "; ")
        let results = FailureList()
        let group = DispatchGroup()
        for p in 0..<processes {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    let run = try h.run(["-c", commands, "\(p)"])
                    if run.code != 0 || !run.stderr.isEmpty { results.add("process \(p): \(run.code) \(run.stderr)") }
                } catch {
                    results.add("process \(p): \(error)")
                }
            }.start()
        }
        group.wait()
        #expect(results.all == [])
        let count = try h.run(["--json", "-c", "sql \"SELECT count(*) AS n, count(DISTINCT session_id) AS s FROM commands WHERE text LIKE 'echo p%'\""])
        let parsed = try JSONValue.parse(count.stdout)
        #expect(parsed["rows"]?[0]?["n"] == .int(processes * commandsEach))
        #expect(parsed["rows"]?[0]?["s"] == .int(processes))
    }
}
