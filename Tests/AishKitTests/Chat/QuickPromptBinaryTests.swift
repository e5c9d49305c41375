import Foundation
import Testing
@testable import AishBase

/// The quick-prompt habits end to end, through the built binary and its real stdin:
/// `echo … | aish chat`, `aish -c`, `aish -q chat … > out`, `aish chat -f FILE`, a script
/// (Tests/Fixtures/QuickPrompt/quick-prompt.ai), and `echo CMD | aish` still reading commands.
@Suite(.serialized) struct QuickPromptBinaryTests {
    /// A config whose alias `m` goes to `fake`.
    static func config(_ aish: BinaryHarness, _ fake: FakeProviderProcess) throws -> String {
        let config = aish.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try """
            providers:
              fake:
                type: vllm
                base_url: \(fake.baseURL)
                status: active
                models:
                  - name: fake-model

            """.write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try "exact_matches:\n  m:\n    provider: fake\n    backend_model: fake-model\n"
            .write(toFile: config + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        return config
    }

    /// The last user message of each chat request the fake received.
    static func sent(_ fake: FakeProviderProcess) throws -> [String] {
        try QuickPromptTests.bodies(fake).compactMap(QuickPromptTests.lastUserMessage)
    }

    @Test func pipedTextFollowsTheWordsAndQuietStdoutIsTheReplyAlone() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let config = try Self.config(aish, fake)
        let run = try aish.run(["--config", config, "-q", "chat", "-m", "m", "Summarize:"], stdin: "some piped text\n")
        #expect(run.code == 0, "\(run.stderr)")
        #expect(run.stdout == "Summarize:\n\nsome piped text")
        #expect(run.stderr == "")
        #expect(try Self.sent(fake) == ["Summarize:\n\nsome piped text"])
        // Without -q: the reply, a newline, and the status line on stderr.
        let loud = try aish.run(["--config", config, "chat", "-m", "m"], stdin: "only stdin")
        #expect(loud.stdout == "only stdin\n")
        #expect(loud.stderr.hasPrefix("fake · fake-model · TTFT "))
        let log = try aish.run(["--json", "log", "-n", "1"])
        #expect(log.stdout.contains("\"prompt\":\"only stdin\""))
    }

    @Test func commandsFromAPipeAreStillCommandsAndAScriptTakesStdinOnlyWhenAsked() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let config = try Self.config(aish, fake)
        let piped = try aish.run(["--config", config], stdin: "chat -m m hi there\nproviders\n")
        #expect(piped.code == 0, "\(piped.stderr)")
        #expect(piped.stdout.hasPrefix("hi there\nNAME"))
        #expect(try Self.sent(fake) == ["hi there"])

        let script = aish.home + "/s.ai"
        try "chat -m m words only\nchat -m m -f - with stdin\n".write(toFile: script, atomically: true, encoding: .utf8)
        let run = try aish.run(["--config", config, "-q", "-f", script], stdin: "the log\n")
        #expect(run.code == 0, "\(run.stderr)")
        #expect(try Self.sent(fake) == ["hi there", "words only", "with stdin\n\n--- stdin ---\nthe log\n--- end of stdin ---"])
    }

    @Test func dashCRunsTakeStdinInTheFirstChatAndChatDashFIsNotAScript() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let config = try Self.config(aish, fake)
        let run = try aish.run(["--config", config, "-q", "-c", "chat -m m -s 'be terse' -o temperature 0.1 one; chat -m m two"],
                               stdin: "piped")
        #expect(run.code == 0, "\(run.stderr)")
        #expect(run.stdout == "one\n\npipedtwo")
        let bodies = try QuickPromptTests.bodies(fake)
        #expect(bodies[0]["messages"]?[0]?["content"] == "be terse")
        #expect(bodies[0]["temperature"] == 0.1)
        #expect(bodies[1]["temperature"] == nil)

        let file = aish.home + "/x.txt"
        try "attached".write(toFile: file, atomically: true, encoding: .utf8)
        let attach = try aish.run(["--config", config, "chat", "-f", file, "-m", "m", "review"])
        #expect(attach.code == 0, "\(attach.stderr)")
        #expect(attach.stdout == "review\n\n--- \(file) ---\nattached\n--- end of \(file) ---\n")
    }

    @Test func exitCodesForABadInputABadOptionAndEveryTargetFailing() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let config = try Self.config(aish, fake)
        let binary = try aish.run(["--config", config, "chat", "-m", "m", "look"], stdin: "a\0b")
        #expect(binary.code == 2)
        #expect(binary.stderr == "aish: chat: stdin is binary (a NUL byte at offset 1), not text; nothing was sent\n")
        let missing = try aish.run(["--config", config, "chat", "-m", "m", "-f", "nope.txt", "look"])
        #expect(missing.code == 2)
        #expect(missing.stderr == "aish: chat: cannot read 'nope.txt': No such file or directory\n")
        let option = try aish.run(["--config", config, "chat", "-m", "m", "-o", "top_p", "2", "look"])
        #expect(option.code == 2)
        #expect(option.stderr.hasPrefix("aish: chat: -o top_p must be a number above 0, at most 1, got '2'\nusage: chat "))
        #expect(try Self.sent(fake).isEmpty)
        try fake.configure(.object([("fail_all", 503)]))
        let failed = try aish.run(["--config", config, "-q", "chat", "-m", "m", "-x", "look"])
        #expect(failed.code == 1)
        #expect(failed.stdout == "")
        #expect(failed.stderr.contains("'m' failed on every target"))
    }

    @Test func theQuickPromptScriptRunsAgainstTheFakeProvider() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--reply", QuickPromptTests.codeReply])
        defer { fake.stop() }
        let config = try Self.config(aish, fake)
        let dir = TestPaths.inPackage("Tests/Fixtures/QuickPrompt")
        let run = try aish.run(["--config", config, "-f", "quick-prompt.ai"], stdin: "ERROR disk full\n", cwd: dir)
        #expect(run.code == 0, "\(run.stdout)\n\(run.stderr)")
        let expected = try String(contentsOfFile: dir + "/quick-prompt.out", encoding: .utf8)
        #expect(run.stdout == expected)
        let bodies = try QuickPromptTests.bodies(fake)
        #expect(bodies.count == 3)
        #expect(bodies[0]["messages"]?[0]?["content"] == "You are a terse reviewer.")
        #expect(bodies[0]["max_tokens"] == 64)
        #expect(bodies[1]["stream"] == false)
        #expect(QuickPromptTests.lastUserMessage(bodies[2]) == "What failed?\n\n--- stdin ---\nERROR disk full\n--- end of stdin ---")
    }
}
