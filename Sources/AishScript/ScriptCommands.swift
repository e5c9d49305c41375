import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSessionLog

/// Commands about scripts as a whole: `test`.
package enum ScriptCommands {
    package static let all: [CommandSpec] = [test]

    package static let test = CommandSpec(
        name: "test",
        summary: "run many .ai scripts, each in its own session, in parallel: a line per file and one summary",
        help: """
            Runs each FILE, and every .ai file under each DIR (recursively, in name order), as
            its own `aish -f FILE` process with this session's --config, --db and variables, up
            to N at once (--jobs, default the number of CPUs). A line per file as it finishes:
            PASS or FAIL, its time, and for a failure the first error with its file:line. Then
            one summary line 'N passed, N failed'. --junit FILE writes one JUnit report with
            every file's expects (a file that broke before any expect is one error case).
            The exit code is that of one script: 0 when every file passed, else the exit code of
            the first failing file in the order given (1 a command failed, 2 syntax error,
            3 configuration invalid, 4 an expect failed). Without FILE: the directory `tests`.
            A file still running after --timeout (default 10m; 0: none) is stopped, with every
            process it started, and fails (exit 1) with what it printed until then. Each file's
            results come back as JSON on a channel of their own; killed, this run takes the
            files it started with it.
            """,
        options: [
            OptionSpec(["-j", "--jobs"], .wholeNumber("N"), help: "scripts run at once (default: the number of CPUs)"),
            OptionSpec(["--timeout"], .duration("S"), help: "stop and fail a file that runs longer than S (default 10m; 0: none)"),
            OptionSpec(["--junit"], .path("FILE"), help: "write one JUnit XML report"),
        ],
        positionals: [PositionalSpec(name: "FILE|DIR", help: ".ai files or directories", optional: true, variadic: true,
                                     completion: .files)],
        report: ReportShape(TestRunReport.self),
        run: { inv, ctx in try runTest(inv, ctx) })

    package static func runTest(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let jobs = try inv.int("--jobs", default: ProcessInfo.processInfo.activeProcessorCount)
        guard jobs >= 1 else { throw UsageError(message: "test: --jobs takes a number of 1 or more, got \(jobs)", usage: test.usage) }
        let timeout = try inv.duration("--timeout", default: TestRun.defaultTimeout)
        let files = try TestRun.collectFiles(inv.positionals.isEmpty ? ["tests"] : inv.positionals)
        guard let executable = SelfExecutable.path else {
            throw CommandFailure("test: cannot find the aish executable to run the scripts with (/proc/self/exe)")
        }
        var options = ["--no-color"]
        if let config = ctx.options.configDirectory { options += ["--config", config] }
        options += ["--db", SessionLogAccess.resolvePath(ctx.options.databasePath, environment: ctx.environment)]
        if ctx.options.continueOnError { options.append("--continue-on-error") }
        for name in ctx.variables.keys.sorted() { options += ["--var", "\(name)=\(ctx.variables[name]!)"] }

        let json = ctx.options.json || inv.flag("--json")
        let runner = TestRun(executable: executable, childOptions: options, environment: ctx.environment, jobs: jobs,
                             interrupt: ctx.interrupt, timeout: timeout > 0 ? timeout : nil)
        let started = ProcessInfo.processInfo.systemUptime
        let results = try runner.run(files) { r in
            if !json { ctx.output.write(TestRunReport.line(entry(r)) + "\n") }
        }
        let wall = (ProcessInfo.processInfo.systemUptime - started) * 1000
        let junit = inv.value("--junit")
        if let junit {
            do {
                // Private: a failed expect's message may quote a reply.
                try OutputFile.write(ctx.output.forFile(JUnitMerge.xml(results, name: "aish test")), to: junit, privacy: .privateToUser)
            } catch {
                throw CommandFailure("test: cannot write JUnit report '\(junit)': \(error)")
            }
        }
        let passed = results.filter(\.passed).count
        let report = TestRunReport(
            files: results.count, passed: passed, failed: results.count - passed, jobs: min(jobs, max(1, files.count)),
            wallMs: wall.rounded(), exitCode: Int(TestRun.exitCode(results)), junit: junit, results: results.map(entry),
            printedLines: !json)
        return CommandResult(report: report)
    }

    package static func entry(_ r: TestRun.FileResult) -> TestRunReport.File {
        TestRunReport.File(file: r.file, result: r.passed ? "passed" : "failed", exitCode: Int(r.exitCode),
                           timeMs: (r.seconds * 1000).rounded(), expectsPassed: r.expectsPassed,
                           expectsFailed: r.expectsFailed, firstFailure: r.firstFailure, timedOut: r.timedOut,
                           output: r.timedOut ? r.stdout + r.stderr : nil)
    }
}

/// The running aish binary, for commands that start more of it (`test`).
package enum SelfExecutable {
    package static var path: String? {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        let argv0 = CommandLine.arguments.first ?? ""
        return argv0.contains("/") ? argv0 : nil
    }
}
