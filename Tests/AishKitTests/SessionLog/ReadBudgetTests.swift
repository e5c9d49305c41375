import Foundation
import Testing
@testable import AishBase
@testable import AishBenchmarks
@testable import AishCommand
@testable import AishSessionLog

/// Reads of the log that could run for minutes (issue 16.1): Ctrl-C and SIGTERM stop the
/// statement in flight, `--timeout` bounds it, 10 s by default outside the terminal.
@Suite(.serialized) struct ReadBudgetTests {
    static let runaway = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"

    /// A log with 20,000 attempts: big enough that a whole scan takes many SQLite steps.
    static func bigLog(_ dir: TempDir) throws -> String {
        let path = dir.file("big.db")
        try SessionLogBenchmark.generateSyntheticAttempts(path: path, count: 20_000)
        return path
    }

    @Test func sqlTimeoutStopsARunawayQuery() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = try Self.bigLog(dir)
        let shell = LogShell(dbPath: path)
        #expect(shell.errorText(["sql", "--timeout", "200ms", Self.runaway])
            == "sql: stopped after 200ms (--timeout); narrow the query or give a longer --timeout")
        // The connection is usable afterwards, and a quick query is not affected.
        let ok = try shell.run(["sql", "--timeout", "5s", "SELECT count(*) FROM attempts"])
        #expect(ok.fields.first { $0.0 == "value" }?.1 == .int(20_000))
    }

    @Test func interruptStopsEachReadMidStatement() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = try Self.bigLog(dir)
        let shell = LogShell(dbPath: path)
        shell.ctx.interrupt.raise()
        #expect(shell.errorText(["sql", Self.runaway]) == "sql: interrupted")
        // Every match of a common word, none with the status asked for: a full scan.
        #expect(shell.errorText(["log", "-q", "the", "--status", "skipped"]) == "log: interrupted")
        #expect(shell.errorText(["stats"]) == "stats: interrupted")
        let file = dir.file("out.json")
        #expect(shell.errorText(["export", file]) == "export: interrupted; \(file) is incomplete")
    }

    @Test func exportTakesATimeout() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = try Self.bigLog(dir)
        let shell = LogShell(dbPath: path)
        let file = dir.file("out.csv")
        let r = try shell.run(["export", "--timeout", "0", file])
        #expect(r.fields.first { $0.0 == "count" }?.1 == .int(20_000))
        #expect(shell.errorText(["export", "--timeout", "soon", file])
            == "export: --timeout takes a duration such as 500ms, 2s or 1m, got 'soon'\n"
            + "usage: export FILE [--format json|csv] [--since T] [--timeout S]")
    }

    @Test func defaultIsTenSecondsOutsideTheTerminalOnly() throws {
        let spec = SessionLogCommands.sql
        let inv = try spec.parse(words: ["SELECT 1"], line: "sql SELECT 1", location: nil)
        var options = GlobalOptions()
        let script = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag())
        #expect(try ReadBudget(inv, script, command: "sql").seconds == 10)
        options.interactive = true
        let terminal = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag())
        #expect(try ReadBudget(inv, terminal, command: "sql").seconds == nil)
        let explicit = try spec.parse(words: ["--timeout", "0", "SELECT 1"], line: "", location: nil)
        #expect(try ReadBudget(explicit, script, command: "sql").seconds == nil)
    }

    /// The binary: SIGINT ends a script with 130, SIGTERM with 143, while SQLite is busy in
    /// one statement that would never return a row.
    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func signalEndsARunawayQuery(signal: Int32, code: Int32) throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        _ = try aish.run(["-c", "echo make the log"])
        let running = try aish.start(["-c", "echo started; sql --timeout 0 '\(Self.runaway)'; echo after"])
        running.waitForStdout("started\n")
        usleep(300_000)  // into the query
        kill(running.process.processIdentifier, signal)
        // Bounded wait: a query that ignores the signal fails the test instead of hanging it.
        let stillRunning = running.finish(within: 20)
        #expect(!stillRunning)
        #expect(running.process.terminationStatus == code)
        #expect(running.stdout == "started\n")
        #expect(running.stderr == "aish: sql: interrupted\n")
    }
}
