import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// `aish test`: many `.ai` files, each run by its own aish process (its own session,
/// variables, conversation and router state, so one file cannot leak into another), up to
/// `jobs` at once. Each child writes its results as JSON to a file the parent names
/// (`TestChildChannel`); the parent builds its lines and one JUnit report from them.
/// A file still running after `timeout` is stopped (with everything it started) and fails.
package struct TestRun {
    /// One script's outcome.
    package struct FileResult: Sendable {
        package var file: String
        package var exitCode: Int32
        package var seconds: Double
        package var expectsPassed: Int
        package var expectsFailed: Int
        /// Commands that stopped the script, as the child reported them.
        package var commandErrors: Int
        /// "file:line: expect failed: …", a syntax error, or the first error the child reported.
        package var firstFailure: String?
        /// The child's JUnit `<testsuite>` elements (nil when it reported no results).
        package var junitSuites: String?
        package var stdout: String
        package var stderr: String
        /// Stopped after the per-file timeout; `stdout` and `stderr` are what it wrote until then.
        package var timedOut = false
        package var passed: Bool { exitCode == 0 && !timedOut }
    }

    /// The aish binary the children run (this process's own executable).
    package var executable: String
    /// Options every child gets before `-f FILE`.
    package var childOptions: [String]
    package var environment: [String: String]
    package var jobs: Int
    package var interrupt: InterruptFlag
    /// Seconds one file may run (nil: no limit).
    package var timeout: Double? = TestRun.defaultTimeout

    package static let defaultTimeout = 600.0

    /// `.ai` files named directly, and those under each directory (recursively, sorted).
    /// A name that is neither throws a usage error naming it.
    package static func collectFiles(_ arguments: [String]) throws -> [String] {
        var files: [String] = []
        let fm = FileManager.default
        for argument in arguments {
            var isDirectory: Bool = false
            guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                throw UsageError(message: "test: no such file or directory: \(argument)")
            }
            guard isDirectory else {
                files.append(argument)
                continue
            }
            guard let relatives = try? fm.subpathsOfDirectory(atPath: argument) else {
                throw UsageError(message: "test: cannot read directory \(argument)")
            }
            var found: [String] = []
            for relative in relatives {
                guard relative.hasSuffix(".ai") else { continue }
                let path = (argument.hasSuffix("/") ? argument : argument + "/") + relative
                var dir: Bool = false
                if fm.fileExists(atPath: path, isDirectory: &dir), !dir { found.append(path) }
            }
            if found.isEmpty { throw UsageError(message: "test: no .ai files under \(argument)") }
            files += found.sorted()
        }
        var seen = Set<String>()
        return files.filter { seen.insert($0).inserted }
    }

    /// Runs every file; `onFinished` is called (on this thread) as each one ends, in the
    /// order they finish. Results come back in the order the files were given.
    package func run(_ files: [String], onFinished: (FileResult) -> Void) throws -> [FileResult] {
        let scratch = temporaryDirectory() + "aish-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let environmentList = environment.filter { !TestChildChannel.variables.contains($0.key) }.map { "\($0.key)=\($0.value)" }

        struct Running {
            package var index: Int
            package var child: SpawnedChild
            package var started: Double
            package var results: String
        }
        var results = [FileResult?](repeating: nil, count: files.count)
        var running: [Running] = []
        var next = 0
        let clock = { ProcessInfo.processInfo.systemUptime }
        while next < files.count || !running.isEmpty {
            if interrupt.isRaised {
                for r in running { r.child.stop() }
                throw CommandFailure("test: interrupted")
            }
            while running.count < max(1, jobs), next < files.count {
                let resultsPath = scratch + "/\(next).json"
                let arguments = ["aish"] + childOptions + ["-f", files[next]]
                let channel = ["\(TestChildChannel.resultsVariable)=\(resultsPath)", "\(TestChildChannel.parentVariable)=\(getpid())"]
                do {
                    let child = try SpawnedChild(executable: executable, arguments: arguments, environment: environmentList + channel,
                                                 ownGroup: true)
                    running.append(Running(index: next, child: child, started: clock(), results: resultsPath))
                } catch let e as SpawnFailure {
                    throw CommandFailure("test: cannot run \(executable): \(e.reason)")
                }
                next += 1
            }
            // One short wait on the whole set, then read what each child wrote.
            usleep(5_000)
            var i = 0
            while i < running.count {
                let r = running[i]
                r.child.pump(waitMs: 0)
                var timedOut = false
                if !r.child.hasExited {
                    guard let timeout, clock() - r.started >= timeout else { i += 1; continue }
                    // The file and everything it started (its process group).
                    r.child.stop(grace: 0)
                    timedOut = true
                }
                let drainUntil = Date().addingTimeInterval(2)
                while !r.child.outputClosed, Date() < drainUntil { r.child.pump(waitMs: 10) }
                var result = Self.result(file: files[r.index], child: r.child, seconds: clock() - r.started, resultsPath: r.results)
                if timedOut, let timeout {
                    result.timedOut = true
                    result.exitCode = ExitCode.failure.rawValue
                    result.firstFailure = "timed out after \(DurationText.seconds(timeout)) (test --timeout)"
                }
                results[r.index] = result
                onFinished(result)
                running.remove(at: i)
            }
        }
        return results.map { $0! }
    }

    /// A finished child's outcome, from the results it wrote to its channel; without them
    /// (it was killed, or crashed) only its exit status is known.
    package static func result(file: String, child: SpawnedChild, seconds: Double, resultsPath: String) -> FileResult {
        let stdout = String(decoding: child.stdout, as: UTF8.self)
        let stderr = String(decoding: child.stderr, as: UTF8.self)
        let reported = TestChildChannel.Results.read(resultsPath)
        var result = FileResult(file: file, exitCode: child.exitStatus, seconds: seconds,
                                expectsPassed: reported?.ledger.passed ?? 0, expectsFailed: reported?.ledger.failed ?? 0,
                                commandErrors: reported?.ledger.commandErrors.count ?? 0, firstFailure: nil,
                                junitSuites: reported.map { JUnitMerge.suites(JUnitReport.xml($0.ledger, suiteName: $0.suiteName)) },
                                stdout: stdout, stderr: stderr)
        if !result.passed {
            result.firstFailure = reported?.firstFailure ?? exitDescription(child.exitStatus)
        }
        return result
    }

    /// "exit status 1", or the signal that ended the child ("killed by signal 9").
    package static func exitDescription(_ status: Int32) -> String {
        status > 128 ? "killed by signal \(status - 128)" : "exit status \(status)"
    }

    /// The exit code of the whole run, as for one script: 0 when every file passed, else
    /// that of the first failing file in the order given.
    package static func exitCode(_ results: [FileResult]) -> Int32 {
        results.first(where: { !$0.passed })?.exitCode ?? 0
    }
}

/// One JUnit report of the children's results (each rendered by `JUnitReport`).
package enum JUnitMerge {
    /// The `<testsuite>` elements of one rendered report.
    package static func suites(_ xml: String) -> String {
        guard let open = xml.rangeOfText("<testsuites"), let openEnd = xml[open.upperBound...].firstIndex(of: ">"),
              let close = xml.lastRangeOfText("</testsuites>")
        else { return "" }
        var inner = String(xml[xml.index(after: openEnd)..<close.lowerBound])
        while inner.hasPrefix("\n") { inner.removeFirst() }
        return inner
    }

    /// One JUnit document for the whole run. A file that failed without a failing test case
    /// of its own (a syntax error, a command that stopped it before any expect) gets one
    /// test case with the error, so CI never shows it as passed.
    package static func xml(_ results: [TestRun.FileResult], name: String) -> String {
        var tests = 0, failures = 0, errors = 0
        var body = ""
        for r in results {
            var suites = r.junitSuites ?? ""
            if !r.passed && r.expectsFailed == 0 && r.commandErrors == 0 {
                let message = r.firstFailure ?? "exit status \(r.exitCode)"
                let file = JUnitReport.escape(r.file), time = cFormat("%.3f", r.seconds)
                suites = "  <testsuite name=\"\(file)\" tests=\"1\" failures=\"0\" errors=\"1\" time=\"\(time)\">\n"
                    + "    <testcase name=\"run \(file)\" classname=\"\(file)\" file=\"\(file)\" time=\"\(time)\">\n"
                    + "      <error message=\"\(JUnitReport.escape(message))\">"
                    + JUnitReport.escape(message + "\n(exit status \(r.exitCode))") + "</error>\n"
                    + "    </testcase>\n  </testsuite>\n"
                tests += 1
                errors += 1
            } else {
                tests += r.expectsPassed + r.expectsFailed + r.commandErrors
                failures += r.expectsFailed
                errors += r.commandErrors
            }
            body += suites
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"\(JUnitReport.escape(name))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
            + body + "</testsuites>\n"
    }
}

/// What `test` prints, as text or JSON, and what `expect` reads.
package struct TestRunReport: CommandReport, NilEncodesAsNull {
    package struct File: Encodable, Sendable, NilEncodesAsNull {
        package var file: String
        package var result: String          // passed, failed
        package var exitCode: Int
        package var timeMs: Double
        package var expectsPassed: Int
        package var expectsFailed: Int
        package var firstFailure: String?
        package var timedOut = false
        /// What a file stopped by --timeout had printed (stdout, then stderr); null otherwise.
        package var output: String? = nil

        package enum CodingKeys: String, CodingKey {
            case file, result, exitCode = "exit_code", timeMs = "time_ms", expectsPassed = "expects_passed"
            case expectsFailed = "expects_failed", firstFailure = "first_failure", timedOut = "timed_out", output
        }
    }

    package var files: Int
    package var passed: Int
    package var failed: Int
    package var jobs: Int
    package var wallMs: Double
    package var exitCode: Int
    package var junit: String?
    package var results: [File]
    /// The per-file lines were printed as the files finished.
    package var printedLines = false

    package enum CodingKeys: String, CodingKey {
        case files, passed, failed, jobs, wallMs = "wall_ms", exitCode = "exit_code", junit, results
    }

    package static let fields = [
        ReportField("files", "scripts run"),
        ReportField("passed", "scripts that exited 0"),
        ReportField("failed", "scripts that did not"),
        ReportField("jobs", "scripts run at once"),
        ReportField("wall_ms", "time for the whole run", unit: "ms"),
        ReportField("exit_code", "the run's exit code: 0, else the first failing file's (1 command, 2 syntax, 3 config, 4 expect)"),
        ReportField("junit", "the JUnit file written, or null"),
        ReportField("results", "per file: file, result, exit_code, time_ms, expects_passed, expects_failed, first_failure, timed_out, output (what a file stopped by --timeout had printed, else null)"),
    ]

    package static let example = TestRunReport(
        files: 1, passed: 1, failed: 0, jobs: 1, wallMs: 120, exitCode: 0, junit: nil,
        results: [File(file: "smoke.ai", result: "passed", exitCode: 0, timeMs: 120, expectsPassed: 3, expectsFailed: 0,
                       firstFailure: nil)])

    package static func line(_ f: File) -> String {
        let mark = f.result == "passed" ? "PASS" : "FAIL"
        var s = "\(mark)  \(f.file)  \(cFormat("%.2fs", f.timeMs / 1000))"
        if f.result == "passed" {
            s += "  (\(f.expectsPassed) expect\(f.expectsPassed == 1 ? "" : "s"))"
        } else {
            s += "  exit \(f.exitCode)"
            if let first = f.firstFailure { s += ": \(first)" }
            if f.timedOut {
                let lines = (f.output ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                    .map(String.init).reversed().drop { $0.isEmpty }.reversed()
                s += lines.isEmpty ? "\n    (no output)" : "; its output so far:\n" + lines.map { "    " + $0 }.joined(separator: "\n")
            }
        }
        return s
    }

    package var summary: String {
        "\(passed) passed, \(failed) failed (\(files) file\(files == 1 ? "" : "s"), \(cFormat("%.2fs", wallMs / 1000)), \(jobs) at once)"
    }

    package func renderText() -> String {
        var out = printedLines ? "" : results.map(Self.line).joined(separator: "\n") + "\n"
        out += summary
        if let junit { out += "\nJUnit report: \(junit)" }
        return out
    }

    package var failureMessage: String? {
        failed == 0 ? nil : "test: \(failed) of \(files) file\(files == 1 ? "" : "s") failed"
    }

    package var failureExitCode: ExitCode? { ExitCode(rawValue: Int32(exitCode)) ?? .failure }
}
