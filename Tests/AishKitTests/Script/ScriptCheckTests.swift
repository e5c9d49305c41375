import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishScript
@testable import AishSessionLog

/// What is checked before a script runs, and the files around it (issue 16.4).
@Suite struct ScriptCheckTests {
    /// Every script the project ships passes the check (it must not refuse good scripts).
    @Test func shippedScriptsPassTheCheck() throws {
        let root = String(try TestPaths.existing("examples").dropLast("/examples".count))
        var files = try FileManager.default.contentsOfDirectory(atPath: root + "/examples").map { root + "/examples/" + $0 }
        let fixtures = BinaryHarness.fixtures
        let broken: Set<String> = ["unknown_command.ai", "unknown_option.ai", "syntax_error.ai", "heredoc_unterminated.ai"]
        files += try FileManager.default.contentsOfDirectory(atPath: fixtures).filter { !broken.contains($0) }.map { fixtures + "/" + $0 }
        for file in files where file.hasSuffix(".ai") {
            #expect(throws: Never.self, "\(file)") { _ = try ScriptFile.load(path: file, registry: .standard) }
        }
    }

    @Test func optionsAreCheckedAsTheCommandWouldParseThem() throws {
        func problem(_ line: String) throws -> String? {
            let commands = try ScriptParser.parse(line, file: "t.ai")
            do {
                try ScriptCheck.check(commands, registry: .standard, text: line)
                return nil
            } catch let e as ScriptSyntaxError {
                return "\(e.location.column): \(e.message)"
            }
        }
        #expect(try problem("chat -m x --modle y hi") == "11: chat: unknown option '--modle' (did you mean '--model'?)")
        #expect(try problem("log --limit=3 --commands") == nil)
        #expect(try problem("log --commands=yes") == "5: log: option '--commands' takes no value")
        #expect(try problem("sql SELECT -1") == nil)              // a negative number is a positional
        #expect(try problem("chat -- --not-an-option") == nil)    // `--` ends options
        #expect(try problem("log -m --weird") == nil)             // the value of -m, whatever it looks like
        #expect(try problem("$CMD --anything") == nil)            // decided when it runs
        #expect(try problem("log --modl=$M") == "5: log: unknown option '--modl' (did you mean '--model'?)")
        #expect(try problem("echo --whatever") == nil)            // echo takes every word as it is
        #expect(try problem("expect ok") == nil)
        #expect(try problem("expect contains") == "8: expect: 'contains' needs a TEXT")
        #expect(try problem("expect contains $X") == nil)
    }

    @Test func byteOrderMarkIsDropped() throws {
        let data = Data([0xEF, 0xBB, 0xBF]) + Data("echo hi\n".utf8)
        #expect(try ScriptFile.decode(data, path: "b.ai") == "echo hi\n")
    }

    /// libyaml reads a byte-order mark itself; the config's positions stay right.
    @Test func configWithByteOrderMarkLoads() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let clean = try TestPaths.existing("Tests/Fixtures/Config/clean")
        for name in ["providers.yaml", "model-mappings.yaml", "ports.yaml"] {
            let data = try #require(FileManager.default.contents(atPath: clean + "/" + name))
            try (Data([0xEF, 0xBB, 0xBF]) + data).write(to: URL(fileURLWithPath: dir.file(name)))
        }
        let loaded = ConfigLoader.load(directory: dir.path)
        #expect(loaded.usable)
        #expect(loaded.findings.filter { $0.severity == .error }.isEmpty, "\(loaded.findings)")
        #expect(loaded.config.providers.providers.count == ConfigLoader.load(directory: clean).config.providers.providers.count)
    }
}

/// An existing log that others can read is made private, and aish says so once.
@Suite struct LogFileModeTests {
    @Test func openLogIsTightenedTo0600WithOneNotice() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("open.db")
        let first = OutputSink(capturing: true)
        SessionLogAccess.open(path: path, mode: "script", scriptPath: nil, output: first, environment: [:])?.endSession()
        #expect(first.capturedText == "")
        chmod(path, 0o644)
        let second = OutputSink(capturing: true)
        SessionLogAccess.open(path: path, mode: "script", scriptPath: nil, output: second, environment: [:])?.endSession()
        #expect(second.capturedText == "aish: session log \(path) was readable by others (mode 0644); it is now private (0600)\n")
        #expect(mode(of: path) == 0o600)
        let third = OutputSink(capturing: true)
        SessionLogAccess.open(path: path, mode: "script", scriptPath: nil, output: third, environment: [:])?.endSession()
        #expect(third.capturedText == "")
    }
}
