import Foundation
import Testing
@testable import AishBase
@testable import AishChat
@testable import AishMeasure

/// Quick prompt testing as people do it with llm and ollama: stdin as the prompt, `-f FILE`,
/// `-s`/`-o` for one turn, `--no-stream`, `-x` and `-q`, against the fake provider.
@Suite(.serialized) struct QuickPromptTests {
    static let mappings = "exact_matches:\n  m:\n    provider: fake\n    backend_model: fake-model\n"

    /// A bench whose one provider (`fake`, reached as `m`) is `fake`.
    static func bench(_ fake: FakeProviderProcess, type: String = "vllm", json: Bool = false) throws -> ChatBench {
        try ChatBench(providers: [("fake", type, fake.baseURL, "")], mappings: mappings, json: json)
    }

    /// Gives the bench `bytes` as stdin, read from a pipe (a file when larger than a pipe holds).
    @discardableResult
    static func stdin(_ b: ChatBench, _ bytes: [UInt8], offer: StandardInputText.Offer = .firstPrompt) throws -> Int32 {
        let fd: Int32
        if bytes.count < 60_000 {
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            #expect(write(fds[1], bytes, bytes.count) == bytes.count)
            close(fds[1])
            fd = fds[0]
        } else {
            let path = b.directory + "/stdin-\(UUID().uuidString)"
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            fd = open(path, O_RDONLY)
        }
        b.ctx.state(StandardInputText.self) { StandardInputText(fd: fd, offer: offer) }
        return fd
    }

    /// The chat requests' bodies the fake provider received, in order.
    static func bodies(_ fake: FakeProviderProcess) throws -> [JSONValue] {
        try fake.receivedRequests().filter { $0["path"]?.stringValue?.hasSuffix("chat/completions") == true
            || $0["path"]?.stringValue == "/api/chat" }.compactMap { $0["body"] }
    }

    static func lastUserMessage(_ body: JSONValue) -> String? {
        guard case let .array(messages)? = body["messages"] else { return nil }
        return messages.last?["content"]?.stringValue
    }

    static func save(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    // MARK: - stdin

    @Test func stdinAloneIsThePromptAndTheLogKeepsWhatWasSent() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let fd = try Self.stdin(b, Array("some piped text\n".utf8))
        defer { close(fd) }
        let r = try b.run(["chat", "-m", "m"])
        #expect(r.status == .ok)
        #expect(r.reply == "some piped text")
        #expect(Self.lastUserMessage(try Self.bodies(fake)[0]) == "some piped text")
        #expect(try b.attempts().map(\.prompt) == ["some piped text"])
    }

    @Test func wordsThenABlankLineThenStdinAndOnlyTheFirstChatTakesIt() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let fd = try Self.stdin(b, Array("line one\n  indented two\n\n".utf8))
        defer { close(fd) }
        try b.run(["chat", "-m", "m", "Summarize:"])
        try b.run(["chat", "-m", "m", "and", "again"])
        let sent = try Self.bodies(fake).map(Self.lastUserMessage)
        #expect(sent == ["Summarize:\n\nline one\n  indented two", "and again"])
        #expect(try b.attempts().map(\.prompt) == ["Summarize:\n\nline one\n  indented two", "and again"])
        #expect(try b.messages().filter { $0.role == "user" }.map(\.content) == ["Summarize:\n\nline one\n  indented two", "and again"])
    }

    @Test func emptyStdinLeavesTheWordsAloneAndNoWordsIsStillAUsageError() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let fd = try Self.stdin(b, [])
        defer { close(fd) }
        #expect(TestShell(b.ctx).errorText(["chat", "-m", "m"])?.hasPrefix("chat: no prompt.") == true)
        try b.run(["chat", "-m", "m", "just", "words"])
        #expect(try Self.bodies(fake).map(Self.lastUserMessage) == ["just words"])
    }

    @Test func stdinOnlyOnRequestOrNotAtAllIsNotTakenByChat() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        for offer in [StandardInputText.Offer.onRequest, .none] {
            let b = try Self.bench(fake)
            defer { b.cleanUp() }
            let fd = try Self.stdin(b, Array("piped".utf8), offer: offer)
            defer { close(fd) }
            try b.run(["chat", "-m", "m", "words"])
            #expect(Self.lastUserMessage(try Self.bodies(fake).last!) == "words")
            if offer == .onRequest {
                try b.run(["chat", "-m", "m", "-f", "-", "now"])
                #expect(Self.lastUserMessage(try Self.bodies(fake).last!) == "now\n\n--- stdin ---\npiped\n--- end of stdin ---")
            } else {
                #expect(TestShell(b.ctx).errorText(["chat", "-m", "m", "-f", "-", "now"])
                    == "chat: -f -: stdin is not available for a prompt here (it is a terminal, not a pipe or a file, or it carries the commands); pipe the text into: aish chat -f - …")
            }
        }
    }

    @Test func stdinOverTheLimitOrBinaryIsRefusedAndNothingIsSent() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let cases: [([UInt8], String)] = [
            ([UInt8](repeating: 0x61, count: PromptInput.maxBytes + 1),
             "chat: stdin is larger than 1 MiB, the limit on text from stdin and files for one prompt; nothing was sent"),
            (Array("text\0more".utf8), "chat: stdin is binary (a NUL byte at offset 4), not text; nothing was sent"),
            ([0x61, 0xFF, 0xFE, 0x62], "chat: stdin is not UTF-8 text; nothing was sent"),
        ]
        for (bytes, message) in cases {
            let b = try Self.bench(fake)
            defer { b.cleanUp() }
            let fd = try Self.stdin(b, bytes)
            defer { close(fd) }
            do {
                try b.run(["chat", "-m", "m", "Summarize:"])
                Issue.record("no error for \(message)")
            } catch {
                #expect(ErrorText(error) == ErrorText(PromptInputError(message: message)))
                #expect(ErrorText(error).exitCode == 2)
            }
            #expect(try b.attempts().isEmpty)
        }
        #expect(try Self.bodies(fake).isEmpty)
        // Exactly the limit is accepted (a short reply, not the 1 MiB echoed).
        try fake.configure(.object([("echo", false)]))
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let fd = try Self.stdin(b, [UInt8](repeating: 0x61, count: PromptInput.maxBytes))
        defer { close(fd) }
        b.ctx.recorder = nil   // not what is tested here; masking secrets in 1 MiB is slow in a debug build
        let r = try b.run(["chat", "-m", "m"])
        #expect(r.status == .ok)
        #expect(Self.lastUserMessage(try Self.bodies(fake)[0])?.utf8.count == PromptInput.maxBytes)
    }

    // MARK: - files

    @Test func filesAreAttachedInOrderMarkedWithTheirNames() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let main = b.directory + "/main.py", notes = b.directory + "/notes.txt"
        try Self.save("def f():\n    return 1\n", to: main)
        try Self.save("ünïcode notes", to: notes)
        let fd = try Self.stdin(b, Array("from stdin\n".utf8))
        defer { close(fd) }
        try b.run(["chat", "-m", "m", "-f", main, "--file", notes, "review", "this"])
        let expected = "review this\n\nfrom stdin\n\n--- \(main) ---\ndef f():\n    return 1\n--- end of \(main) ---\n\n"
            + "--- \(notes) ---\nünïcode notes\n--- end of \(notes) ---"
        #expect(Self.lastUserMessage(try Self.bodies(fake)[0]) == expected)
        #expect(try b.attempts().map(\.prompt) == [expected])
        // A file alone is a prompt; `-f -` puts stdin in the order given (read once, attached again on request).
        try b.run(["chat", "-m", "m", "-f", notes])
        try b.run(["chat", "-m", "m", "-f", notes, "-f", "-"])
        let later = try Self.bodies(fake).dropFirst().map(Self.lastUserMessage)
        #expect(later == ["--- \(notes) ---\nünïcode notes\n--- end of \(notes) ---",
                          "--- \(notes) ---\nünïcode notes\n--- end of \(notes) ---\n\n--- stdin ---\nfrom stdin\n--- end of stdin ---"])
    }

    @Test func aMissingBinaryOversizedFileOrADirectoryIsRefusedBeforeAnythingIsSent() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let dir = b.directory
        try Self.save("fine", to: dir + "/ok.txt")
        FileManager.default.createFile(atPath: dir + "/image.png", contents: Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x1A]))
        FileManager.default.createFile(atPath: dir + "/latin1.txt", contents: Data([0x63, 0x61, 0x66, 0xE9]))
        FileManager.default.createFile(atPath: dir + "/big.txt", contents: Data(repeating: 0x61, count: PromptInput.maxBytes + 1))
        FileManager.default.createFile(atPath: dir + "/half.txt", contents: Data(repeating: 0x61, count: PromptInput.maxBytes / 2 + 1))
        let cases: [([String], String)] = [
            (["-f", dir + "/missing.txt"], "chat: cannot read '\(dir)/missing.txt': No such file or directory"),
            (["-f", dir + "/image.png"], "chat: '\(dir)/image.png' is binary (a NUL byte at offset 4), not text; nothing was sent"),
            (["-f", dir + "/latin1.txt"], "chat: '\(dir)/latin1.txt' is not UTF-8 text; nothing was sent"),
            (["-f", dir], "chat: '\(dir)' is a directory, not a file"),
            (["-f", dir + "/big.txt"],
             "chat: '\(dir)/big.txt' is larger than 1 MiB, the limit on text from stdin and files for one prompt; nothing was sent"),
            (["-f", dir + "/half.txt", "-f", dir + "/half.txt"],
             "chat: with '\(dir)/half.txt' the text from stdin and files is larger than 1 MiB, the limit for one prompt; nothing was sent"),
            // The good file before the bad one is not sent on its own either.
            (["-f", dir + "/ok.txt", "-f", dir + "/missing.txt"], "chat: cannot read '\(dir)/missing.txt': No such file or directory"),
        ]
        for (options, message) in cases {
            do {
                try b.run(["chat", "-m", "m"] + options + ["look"])
                Issue.record("no error for \(options)")
            } catch {
                #expect(ErrorText(error).message == message)
                #expect(ErrorText(error).exitCode == 2)
            }
        }
        #expect(try Self.bodies(fake).isEmpty)
        #expect(try b.attempts().isEmpty)
        #expect(b.ctx.conversation.turns.isEmpty)
    }

    // MARK: - per-turn options

    @Test func systemAndOptionsForOneTurnAreSentAndLoggedAndDoNotStay() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        try b.run(["system", "the conversation's own"])
        try b.run(["set", "temperature", "0.7"])
        try b.run(["chat", "-m", "m", "-s", "be terse", "-o", "temperature", "0.2", "-o", "max_tokens", "5",
                   "--option", "seed", "-3", "-o", "top_p", "0.5", "hi"])
        try b.run(["chat", "-m", "m", "again"])
        let bodies = try Self.bodies(fake)
        #expect(bodies[0]["messages"]?[0]?["content"] == "be terse")
        #expect(bodies[0]["temperature"] == 0.2)
        #expect(bodies[0]["max_tokens"] == 5)
        #expect(bodies[0]["seed"] == -3)
        #expect(bodies[0]["top_p"] == 0.5)
        #expect(bodies[1]["messages"]?[0]?["content"] == "the conversation's own")
        #expect(bodies[1]["temperature"] == 0.7)
        #expect(bodies[1]["max_tokens"] == nil)
        let rows = try b.attempts()
        #expect(rows.map(\.systemPrompt) == ["be terse", "the conversation's own"])
        #expect(rows[0].options.flatMap { try? JSONValue.parse($0) }
            == .object([("temperature", 0.2), ("max_tokens", 5), ("top_p", 0.5), ("seed", -3)]))
        #expect(rows[1].options.flatMap { try? JSONValue.parse($0) } == .object([("temperature", 0.7)]))
        #expect(b.ctx.conversation.system == "the conversation's own")
        #expect(b.ctx.variables["temperature"] == "0.7")
        #expect(try b.messages().map(\.role) == ["system", "user", "assistant", "system", "user", "assistant"])
    }

    @Test func aBadPerTurnOptionIsAUsageErrorBeforeAnythingIsReadOrSent() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let fd = try Self.stdin(b, Array("piped".utf8))
        defer { close(fd) }
        let shell = TestShell(b.ctx)
        let usage = "\nusage: " + ChatCommands.chat.usage
        #expect(shell.errorText(["chat", "-m", "m", "-o", "temperature", "3", "hi"])
            == "chat: -o temperature must be a number from 0 to 2, got '3'" + usage)
        #expect(shell.errorText(["chat", "-m", "m", "-o", "max_tokens", "0", "hi"])
            == "chat: -o max_tokens must be a whole number above 0, got '0'" + usage)
        #expect(shell.errorText(["chat", "-m", "m", "-o", "temprature", "1", "hi"])
            == "chat: -o: unknown option 'temprature' (did you mean 'temperature'?); the options are temperature, max_tokens, top_p, seed or max_reply_bytes" + usage)
        #expect(shell.errorText(["chat", "-m", "m", "-o", "temperature"])
            == "chat: option '-o' needs values NAME VALUE" + usage)
        #expect(shell.errorText(["chat", "-m", "m", "--option=temperature", "hi"])
            == "chat: option '--option' takes NAME VALUE as separate words" + usage)
        #expect(try Self.bodies(fake).isEmpty)
        // stdin was not read by the failed commands: the next chat still gets it.
        try b.run(["chat", "-m", "m", "now"])
        #expect(Self.lastUserMessage(try Self.bodies(fake)[0]) == "now\n\npiped")
    }

    @Test func noStreamSendsOneRequestWithoutStreamingOnBothWireFormats() throws {
        for type in ["vllm", "ollama"] {
            let fake = try FakeProviderProcess(["--reply", "The whole answer."])
            defer { fake.stop() }
            let b = try Self.bench(fake, type: type)
            defer { b.cleanUp() }
            let r = try b.run(["chat", "-m", "m", "--no-stream", "hi"])
            #expect(r.status == .ok)
            #expect(r.reply == "The whole answer.")
            #expect(r.field("ttft_ms") == .null)
            #expect(b.ctx.output.capturedText.hasPrefix("The whole answer.\nfake · fake-model · "))
            #expect(!b.ctx.output.capturedText.contains("TTFT"))
            #expect(try Self.bodies(fake)[0]["stream"] == false)
            let row = try #require(try b.attempts().first)
            #expect(row.status == "ok")
            #expect(row.ttftMs == nil)
            #expect(row.reply == "The whole answer.")
            #expect(row.options.flatMap { try? JSONValue.parse($0) } == .object([("stream", false)]))
        }
    }

    // MARK: - compare

    @Test func compareTakesStdinFilesASystemPromptAndOptionsForEveryRequest() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let file = b.directory + "/main.py"
        try Self.save("print(1)\n", to: file)
        let fd = try Self.stdin(b, Array("piped".utf8))
        defer { close(fd) }
        let r = try b.run(["compare", "m", "-n", "2", "--warmup", "0", "-p", "Review:", "-f", file, "-s", "be terse",
                           "-o", "temperature", "0.1", "-o", "max_tokens", "9"])
        #expect(r.status == .ok, "\(r.text)")
        let expected = "Review:\n\npiped\n\n--- \(file) ---\nprint(1)\n--- end of \(file) ---"
        let bodies = try Self.bodies(fake)
        #expect(bodies.count == 2)
        for body in bodies {
            #expect(Self.lastUserMessage(body) == expected)
            #expect(body["messages"]?[0]?["content"] == "be terse")
            #expect(body["temperature"] == 0.1)
            #expect(body["max_tokens"] == 9)
        }
        let rows = try b.attempts()
        #expect(rows.map(\.prompt) == [expected, expected])
        #expect(rows.map(\.systemPrompt) == ["be terse", "be terse"])
        // Without -p, stdin alone is the prompt; without either, the default question.
        let c = try Self.bench(fake)
        defer { c.cleanUp() }
        let fd2 = try Self.stdin(c, Array("only stdin".utf8))
        defer { close(fd2) }
        try c.run(["compare", "m", "-n", "1", "--warmup", "0"])
        try c.run(["compare", "m", "-n", "1", "--warmup", "0"])
        #expect(try Self.bodies(fake).suffix(2).map(Self.lastUserMessage) == ["only stdin", CompareCommand.defaultPrompt])
        #expect(TestShell(c.ctx).errorText(["compare", "m", "--max-tokens", "5", "-o", "max_tokens", "9"])
            == "compare: give --max-tokens K or -o max_tokens K, not both\nusage: " + CompareCommand.spec.usage)
        #expect(TestShell(c.ctx).errorText(["compare", "m", "-o", "max_reply_bytes", "4096"])
            == "compare: -o: unknown option 'max_reply_bytes'; the options are temperature, top_p, seed or max_tokens\nusage: "
            + CompareCommand.spec.usage)
    }

    // MARK: - output

    static let codeReply = "Here you go:\n\n```bash\nfor i in 1 2 3; do\n  echo \"$i\"\ndone\n```\n\nThat loops.\n"

    @Test func extractPrintsOnlyTheFirstCodeBlockAndTheWholeReplyIsLogged() throws {
        let fake = try FakeProviderProcess(["--reply", Self.codeReply])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        b.ctx.options.quiet = true
        let r = try b.run(["chat", "-m", "m", "-x", "write a bash loop"])
        #expect(b.ctx.output.capturedText == "for i in 1 2 3; do\n  echo \"$i\"\ndone\n")
        #expect(r.reply == Self.codeReply)
        #expect(r.string("code") == "for i in 1 2 3; do\n  echo \"$i\"\ndone\n")
        #expect(try b.attempts().map(\.reply) == [Self.codeReply])
        // Without -x the field is null.
        #expect(try b.run(["chat", "-m", "m", "again"]).field("code") == .null)
    }

    @Test func extractWithoutACodeBlockPrintsTheWholeReplyAndSaysSo() throws {
        let fake = try FakeProviderProcess(["--reply", "No code here."])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "--extract", "hi"])
        #expect(r.field("code") == .null)
        #expect(b.ctx.output.capturedText.hasPrefix(
            "No code here.\nchat -x: the reply has no fenced code block; all of it was printed\nfake · fake-model · "))
    }

    @Test func quietGivesStdoutTheReplyAloneByteForByte() throws {
        let fake = try FakeProviderProcess(["--reply", "Exactly this."])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        b.ctx.options.quiet = true
        let r = try b.run(["chat", "-m", "m", "hi"])
        #expect(r.status == .ok)
        #expect(b.ctx.output.capturedText == "Exactly this.")
    }

    @Test func jsonGivesTheWholeResultAndPrintsNoReplyText() throws {
        let fake = try FakeProviderProcess(["--reply", Self.codeReply])
        defer { fake.stop() }
        let b = try Self.bench(fake, json: true)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "-x", "loop"])
        #expect(b.ctx.output.capturedText == "")
        #expect(r.reply == Self.codeReply)
        #expect(r.string("code") == "for i in 1 2 3; do\n  echo \"$i\"\ndone\n")
        #expect(r.jsonForm["reply"] == .string(Self.codeReply))
        // `chat --json` on its own line does not stream the reply before the JSON either.
        let c = try Self.bench(fake)
        defer { c.cleanUp() }
        _ = try c.run(["chat", "-m", "m", "--json", "loop"])
        #expect(c.ctx.output.capturedText == "")
    }

    @Test func everyTargetFailingIsStillAFailureWithTheAssembledPromptLogged() throws {
        let fake = try FakeProviderProcess(["--fail-all", "500"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let file = b.directory + "/f.txt"
        try Self.save("body", to: file)
        let r = try b.run(["chat", "-m", "m", "-f", file, "-x", "--no-stream", "hi"])
        #expect(r.status == .error)
        #expect(r.failureExitCode == nil || r.failureExitCode == .failure)
        #expect(try b.attempts().map(\.prompt) == ["hi\n\n--- \(file) ---\nbody\n--- end of \(file) ---"])
        #expect(try b.attempts().map(\.status) == ["error"])
    }
}

/// `chat -x`'s reading of fenced code blocks, one case per kind of fence.
struct FencedCodeTests {
    @Test(arguments: [
        ("text\n```\ncode\n```\n", "code\n"),
        ("```python\nprint(1)\n```", "print(1)\n"),
        ("~~~\ntilde\n~~~\n", "tilde\n"),
        ("````\nhas ``` inside\n````\n", "has ``` inside\n"),
        ("```\nshort close does not end it\n``\nstill\n```\n", "short close does not end it\n``\nstill\n"),
        ("  ```sh\n  indented\n    more\n  ```\n", "indented\n  more\n"),
        ("```\ncut off by max_tokens\n", "cut off by max_tokens\n"),
        ("```\n```\n\n```js\nsecond\n```\n", "second\n"),
        ("```a\none\n```\n```b\ntwo\n```\n", "one\n"),
        ("crlf\r\n```\r\nline\r\n```\r\n", "line\n"),
        ("```\nnot closed by a fence with words\n``` words\n```\n", "not closed by a fence with words\n``` words\n"),
        ("~~~\ntildes are not closed by backticks\n```\n~~~\n", "tildes are not closed by backticks\n```\n"),
    ] as [(String, String)])
    func firstBlock(reply: String, code: String) {
        #expect(FencedCode.first(in: reply) == code)
    }

    @Test(arguments: ["no fence", "inline ```code``` only", "    ```\n    four spaces is indented code\n    ```\n", "``\ntwo\n``", "```\n```\n", ""])
    func noBlock(reply: String) {
        #expect(FencedCode.first(in: reply) == nil)
    }
}

/// Which runs offer stdin to a prompt: only a pipe or a file, only when the commands do not come from it.
struct StandardInputOfferTests {
    @Test func aPipeOrAFileIsOfferedByActionAndATerminalOrDevNullNever() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let pipeFD = fds[0]
        #expect(StandardInputText.offer(for: .command(["chat"]), fd: pipeFD) == .firstPrompt)
        #expect(StandardInputText.offer(for: .commands(text: "chat hi", arguments: []), fd: pipeFD) == .firstPrompt)
        #expect(StandardInputText.offer(for: .script(path: "s.ai", arguments: []), fd: pipeFD) == .onRequest)
        #expect(StandardInputText.offer(for: .standardInput, fd: pipeFD) == .none)
        let file = open("/etc/hostname", O_RDONLY)
        defer { close(file) }
        if file >= 0 { #expect(StandardInputText.offer(for: .command(["chat"]), fd: file) == .firstPrompt) }
        let null = open("/dev/null", O_RDONLY)
        defer { close(null) }
        #expect(StandardInputText.offer(for: .command(["chat"]), fd: null) == .none)
        #expect(StandardInputText.offer(for: .command(["chat"]), fd: 999) == .none)
    }
}
