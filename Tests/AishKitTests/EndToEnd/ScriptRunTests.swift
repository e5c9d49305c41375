import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import AishBase
@testable import AishScript
@testable import AishShell

/// Script files run by the binary and checked against expected output files:
/// `NAME.ai` → `NAME.out` (stdout) and `NAME.err` (stderr, empty when absent). A first-line
/// comment `# options: ...` gives aish options, `# args: ...` the script's arguments.
@Suite struct ScriptRunTests {
    /// Expected exit code of each fixture; a new fixture must be listed here.
    static let exitCodes: [String: Int32] = [
        "basics": 0, "expect_fail": 4, "syntax_error": 2, "unknown_command": 2, "continue": 4,
        "expect_error": 0, "source": 0, "recursion": 2, "heredoc_unterminated": 2, "exit_code": 3, "json": 0,
        "unknown_option": 2, "bom": 0,
    ]

    static var fixtureNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: BinaryHarness.fixtures)) ?? []
        return names.filter { $0.hasSuffix(".ai") }.map { String($0.dropLast(3)) }.sorted()
    }

    @Test func everyFixtureHasAnExitCode() {
        #expect(Set(Self.fixtureNames) == Set(Self.exitCodes.keys))
    }

    @Test(arguments: fixtureNames)
    func fixture(_ name: String) throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let dir = BinaryHarness.fixtures
        let script = try String(contentsOfFile: "\(dir)/\(name).ai", encoding: .utf8)
        var options: [String] = []
        var args: [String] = []
        for line in script.split(separator: "\n").prefix(3) {
            if line.hasPrefix("# options:") { options = try words(String(line.dropFirst(10))) }
            if line.hasPrefix("# args:") { args = try words(String(line.dropFirst(7))) }
        }
        let run = try aish.run(options + ["-f", "\(name).ai"] + args, cwd: dir)
        let expectedOut = try String(contentsOfFile: "\(dir)/\(name).out", encoding: .utf8)
        let expectedErr = (try? String(contentsOfFile: "\(dir)/\(name).err", encoding: .utf8)) ?? ""
        #expect(run.stdout == expectedOut)
        #expect(run.stderr == expectedErr)
        #expect(run.code == Self.exitCodes[name])
    }

    private func words(_ text: String) throws -> [String] {
        let commands = try ScriptParser.parse("x " + text, file: "header")
        return commands[0].words.dropFirst().compactMap(\.literalText)
    }

    @Test func junitReportIsValidXML() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let report = aish.home + "/report.xml"
        let run = try aish.run(["--continue-on-error", "--junit", report, "-f", "continue.ai"], cwd: BinaryHarness.fixtures)
        #expect(run.code == 4)
        let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: report))
        let cases = try doc.nodes(forXPath: "//testcase").compactMap { $0 as? XMLElement }
        #expect(cases.map { $0.attribute(forName: "name")?.stringValue ?? "" }
            == ["expect contains still", "expect contains nope"])
        #expect(cases.map { $0.attribute(forName: "line")?.stringValue ?? "" } == ["4", "5"])
        #expect(cases.map { $0.attribute(forName: "file")?.stringValue ?? "" } == ["continue.ai", "continue.ai"])
        #expect(cases[1].elements(forName: "failure").first?.attribute(forName: "message")?.stringValue
            == #"expect failed: contains nope (actual: "still running")"#)
    }

    @Test func shebangLineRunsTheScript() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let path = aish.home + "/hello.ai"
        try "#!/usr/bin/env -S aish -f\necho hello $1\nexpect contains hello\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        let run = try aish.run(["there"], executable: path)
        #expect(run.stdout == "hello there\n1 passed, 0 failed\n")
        #expect(run.code == 0)
    }
}

/// Exit codes and messages for bad input and each way of invoking aish.
@Suite struct InvocationTests {
    func withAish(_ body: (BinaryHarness) throws -> Void) throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        try body(aish)
    }

    @Test func commandsFromDashC() throws {
        try withAish { aish in
            let run = try aish.run(["--var", "who=you", "-c", "echo hi $who $1; expect contains hi", "arg"])
            #expect(run.stdout == "hi you arg\n1 passed, 0 failed\n")
            #expect(run.code == 0)
            let fail = try aish.run(["-c", "echo a; sleep x; echo b"])
            #expect(fail.stdout == "a\n")
            #expect(fail.stderr == "aish: sleep: 'x' is not a duration such as 500ms, 2s or 1m\nusage: sleep DURATION\n")
            #expect(fail.code == 2)
            // Unknown commands and options are found before anything runs (issue 16.4).
            let unknown = try aish.run(["-c", "echo a; provders; echo b"])
            #expect(unknown.stdout == "")
            #expect(unknown.stderr == "-c:1:9: error: unknown command 'provders' — did you mean 'providers'? (type 'help' for the list)\necho a; provders; echo b\n        ^\n")
            #expect(unknown.code == 2)
            let option = try aish.run(["-c", "echo a\nlog --limt 3"])
            #expect(option.stdout == "")
            #expect(option.stderr == "-c:2:5: error: log: unknown option '--limt' (did you mean '--limit'?)\nlog --limt 3\n    ^\n")
            #expect(option.code == 2)
            let value = try aish.run(["-c", "echo a; log -n"])
            #expect(value.stderr == "-c:1:13: error: log: option '-n' needs a value N\necho a; log -n\n            ^\n")
            let assertion = try aish.run(["-c", "echo a; expect ttft ~ 3"])
            #expect(assertion.stdout == "")
            #expect(assertion.stderr == "-c:1:16: error: expect: unknown assertion 'ttft ~ 3'\necho a; expect ttft ~ 3\n               ^\n")
            #expect(assertion.code == 2)
        }
    }

    @Test func commandsFromAPipe() throws {
        try withAish { aish in
            let run = try aish.run([], stdin: "echo one\necho <<EOF\nmulti\nline\nEOF\nexpect contains multi\necho \\\n  joined\n")
            #expect(run.stdout == "one\nmulti\nline\njoined\n1 passed, 0 failed\n")
            #expect(run.stderr == "")
            #expect(run.code == 0)
            let bad = try aish.run([], stdin: "echo ok\nprovders\necho no\n")
            #expect(bad.stdout == "ok\n")
            #expect(bad.stderr.hasPrefix("<stdin>:2: error: unknown command 'provders'"))
            #expect(bad.code == 2)
            let syntax = try aish.run([], stdin: "echo ok\necho 'open\n")
            #expect(syntax.stderr == "<stdin>:2:6: error: unterminated single quote\necho 'open\n     ^\n")
            #expect(syntax.code == 2)
        }
    }

    @Test func commandForm() throws {
        try withAish { aish in
            let run = try aish.run(["echo", "a b", "--no-color"])
            #expect(run.stdout == "a b\n")
            let help = try aish.run(["help", "sleep"])
            #expect(help.stdout.hasPrefix("usage: sleep DURATION\n"))
        }
    }

    @Test func badFilesAndOptions() throws {
        try withAish { aish in
            symlink(aish.home + "/loop-b.ai", aish.home + "/loop-a.ai")
            symlink(aish.home + "/loop-a.ai", aish.home + "/loop-b.ai")
            let loop = try aish.run(["-f", "loop-a.ai"])
            #expect(loop.stderr == "aish: cannot read script 'loop-a.ai': symbolic link loop\n")
            #expect(loop.code == 2)
            let missing = try aish.run(["-f", "nope.ai"])
            #expect(missing.stderr == "aish: cannot read script 'nope.ai': no such file\n")
            #expect(missing.code == 2)
            let dir = try aish.run(["-f", aish.home])
            #expect(dir.stderr == "aish: cannot read script '\(aish.home)': it is a directory, not a script file\n")
            #expect(dir.code == 2)
            _ = FileManager.default.createFile(atPath: aish.home + "/bin.ai", contents: Data([0x65, 0x63, 0x00, 0x01]))
            let binary = try aish.run(["-f", "bin.ai"])
            #expect(binary.stderr == "bin.ai:1:3: error: binary file (NUL byte), not an aish script\n")
            #expect(binary.code == 2)
            let option = try aish.run(["--contineu-on-error", "-c", "echo x"])
            #expect(option.stderr == "aish: unknown option '--contineu-on-error' — did you mean '--continue-on-error'?\nTry 'aish --help'.\n")
            #expect(option.code == 2)
            let version = try aish.run(["--version"])
            #expect(version.stdout == "aish \(AishMain.version)\n")
            let help = try aish.run(["--help"])
            #expect(help.stdout.hasPrefix("usage: aish [OPTIONS]"))
        }
    }

    /// Ctrl-C (SIGINT → 130) and SIGTERM (→ 143) cancel the running command and stop the script.
    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func signalCancelsTheCommandAndStopsTheScript(signal: Int32, code: Int32) throws {
        try withAish { aish in
            let running = try aish.start(["-c", "echo started; sleep 60s; echo after"])
            running.waitForStdout("started\n")
            usleep(100_000)  // into the sleep
            kill(running.process.processIdentifier, signal)
            running.finish()
            #expect(running.process.terminationReason == .exit)
            #expect(running.process.terminationStatus == code)
            #expect(running.stdout == "started\n")
            #expect(running.stderr == "aish: sleep: interrupted\n")
        }
    }

    /// A UTF-8 byte-order mark before the first command is dropped whichever way the
    /// commands come in: a file, `source`, `-c`, a pipe, the command form.
    @Test func byteOrderMarkBeforeTheFirstCommandInEveryInput() throws {
        try withAish { aish in
            let bom = "\u{FEFF}"
            try (bom + "echo first\necho second\n").write(toFile: aish.home + "/bom.ai", atomically: true, encoding: .utf8)
            let ways: [(String, [String], String?)] = [
                ("-f", ["-f", "bom.ai"], nil),
                ("source", ["-c", "source bom.ai"], nil),
                ("-c", ["-c", bom + "echo first; echo second"], nil),
                ("pipe", [], bom + "echo first\necho second\n"),
                ("command form", [bom + "echo", "first"], nil),
            ]
            for (way, arguments, stdin) in ways {
                let run = try aish.run(arguments, stdin: stdin)
                #expect(run.stderr == "", "\(way): \(run.stderr)")
                #expect(run.stdout.hasPrefix("first\n"), "\(way): \(run.stdout)")
                #expect(run.code == 0, "\(way)")
            }
        }
    }

    /// A broken file named by `source` stops the run before anything of the sourcing script
    /// or line has run, whichever way the commands come in, also when it is sourced by a
    /// sourced file; a file that is not there yet is read when `source` is reached.
    @Test func aBrokenSourcedFileStopsTheRunBeforeAnythingRuns() throws {
        try withAish { aish in
            try "echo from broken\necho 'open\n".write(toFile: aish.home + "/broken.ai", atomically: true, encoding: .utf8)
            try "echo in lib\nsource broken.ai\n".write(toFile: aish.home + "/lib.ai", atomically: true, encoding: .utf8)
            try "echo first\nsource lib.ai\n".write(toFile: aish.home + "/main.ai", atomically: true, encoding: .utf8)
            try "echo a\nsource a.ai\n".write(toFile: aish.home + "/a.ai", atomically: true, encoding: .utf8)
            let ways: [(String, [String], String?)] = [
                ("-f", ["-f", "main.ai"], nil),
                ("-c", ["-c", "echo first; source broken.ai"], nil),
                ("pipe", [], "echo first; source broken.ai\n"),
                ("command form", ["source", "lib.ai"], nil),
            ]
            for (way, arguments, stdin) in ways {
                let run = try aish.run(arguments, stdin: stdin)
                #expect(run.stdout == "", "\(way): \(run.stdout)")
                #expect(run.stderr.hasPrefix("broken.ai:2:6: error: unterminated single quote"), "\(way): \(run.stderr)")
                #expect(run.code == 2, "\(way)")
            }
            // Not there yet: read when reached.
            let missing = try aish.run(["-c", "echo first; source later.ai"])
            #expect(missing.stdout == "first\n")
            #expect(missing.code == 2)
            // A file that sources itself is checked once, then stopped by the nesting limit.
            let cycle = try aish.run(["-q", "-f", "a.ai"])
            #expect(cycle.stderr.contains("nesting limit"), "\(cycle.stderr)")
        }
    }

    @Test func oneMegabyteLine() throws {
        try withAish { aish in
            let big = String(repeating: "y", count: 1 << 20)
            try "echo \(big)\nexpect contains yyy\n".write(toFile: aish.home + "/big.ai", atomically: true, encoding: .utf8)
            let run = try aish.run(["-q", "-f", "big.ai"])
            #expect(run.stdout == big + "\n")
            #expect(run.code == 0)
        }
    }
}
