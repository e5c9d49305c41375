import Foundation
import Testing
@testable import AishBase
@testable import AishReplay
@testable import AishSessionLog

@Suite struct WordDiffTests {
    @Test func similarityIsTwiceTheCommonWordsOverAllWords() {
        let d = WordDiff(old: "the quick brown fox", new: "the slow brown fox jumps")
        // 3 common words, 4 + 5 words in all.
        #expect(d.similarity == 6.0 / 9.0)
        #expect(d.rendered == "the [-quick-] {+slow+} brown fox {+jumps+}")
        #expect(WordDiff(old: "", new: "").similarity == 1)
        #expect(WordDiff(old: "a b", new: "c d").similarity == 0)
        #expect(WordDiff(old: "a  b\nc", new: "a b c").rendered == "a b c")
    }
}

/// `replay` against fake providers with known replies.
@Suite struct ReplayTests {
    static let mappings = """
        exact_matches:
          old:
            provider: first
            backend_model: first-model
          new:
            provider: second
            backend_model: second-model

        """

    @Test func replaysLoggedPromptsWithTheirSystemPromptAndOptionsAndComparesTheReplies() throws {
        let first = try FakeProviderProcess(["--reply", "The sky is blue today."])
        let second = try FakeProviderProcess(["--reply", "The sky is grey today, sadly."])
        defer { first.stop(); second.stop() }
        let b = try ChatBench(providers: [(name: "first", type: "vllm", url: first.baseURL, extra: ""),
                                          (name: "second", type: "vllm", url: second.baseURL, extra: "")],
                              mappings: Self.mappings)
        defer { b.cleanUp() }
        b.ctx.variables["temperature"] = "0.3"
        b.ctx.variables["max_tokens"] = "64"
        _ = try b.run(["system", "Answer in one sentence."])
        _ = try b.run(["chat", "-m", "old", "What colour is the sky?"])
        let logged = try #require(b.attempts().last)
        #expect(logged.systemPrompt == "Answer in one sentence.")
        #expect(logged.options == #"{"temperature":0.3,"max_tokens":64}"#)

        let r = try b.run(["replay", "--to", "new"])
        #expect(r.status == .ok, "\(r.text)")
        #expect(r.field("prompts") == .int(1))
        #expect(r.field("errors") == .int(0))
        // "The sky is" in common ("today." and "today," differ): 2 × 3 / (5 + 6).
        #expect(r.field("similarity") == .double(0.545))
        let p = try #require(r.field("results")?[0])
        #expect(p["diff"] == .string("The sky is [-blue today.-] {+grey today, sadly.+}"))
        #expect(p["original"]?["reply"] == .string("The sky is blue today."))
        #expect(p["replay"]?["reply"] == .string("The sky is grey today, sadly."))
        #expect(p["replay"]?["provider"] == .string("second"))
        #expect(p["id"] == .int(Int(logged.id)))

        // Sent again with the logged system prompt and options.
        let body = try #require(second.receivedRequests().last?["body"])
        #expect(body["messages"]?[0]?["role"] == .string("system"))
        #expect(body["messages"]?[0]?["content"] == .string("Answer in one sentence."))
        #expect(body["messages"]?[1]?["content"] == .string("What colour is the sky?"))
        #expect(body["temperature"] == .double(0.3))
        #expect(body["max_tokens"] == .int(64))

        // Logged: the replay's attempt and the run.
        #expect(try b.attempts().last?.kind == "replay")
        let reader = try SessionLogReader(path: b.databasePath)
        let s = try reader.db.prepare("SELECT summary FROM runs WHERE kind = 'replay'")
        #expect(try s.step())
        #expect(s.string(0) == #"{"prompts":1,"errors":0,"similarity":0.545,"slower":\#(r.int("slower")!)}"#)
        #expect(r.text.contains("  diff: The sky is [-blue today.-] {+grey today, sadly.+}\n"), "\(r.text)")
        #expect(r.text.contains("\n1 prompt replayed to new: similarity 0.5"), "\(r.text)")
    }

    @Test func systemAndOptionsGivenToReplayStandInForTheLoggedOnes() throws {
        let first = try FakeProviderProcess(["--reply", "The sky is blue."])
        let second = try FakeProviderProcess(["--reply", "Blue."])
        defer { first.stop(); second.stop() }
        let b = try ChatBench(providers: [(name: "first", type: "vllm", url: first.baseURL, extra: ""),
                                          (name: "second", type: "vllm", url: second.baseURL, extra: "")],
                              mappings: Self.mappings)
        defer { b.cleanUp() }
        _ = try b.run(["chat", "-m", "old", "-s", "Answer in one sentence.", "-o", "temperature", "0.3",
                       "-o", "seed", "7", "What colour is the sky?"])
        let r = try b.run(["replay", "--to", "new", "-s", "One word.", "-o", "temperature", "0", "--no-stream"])
        #expect(r.status == .ok, "\(r.text)")
        let body = try #require(second.receivedRequests().last?["body"])
        #expect(body["messages"]?[0]?["content"] == .string("One word."))
        #expect(body["temperature"] == .double(0))
        #expect(body["seed"] == .int(7))   // not given: the logged one
        #expect(body["stream"] == .bool(false))
        let replayed = try #require(b.attempts().last)
        #expect(replayed.kind == "replay")
        #expect(replayed.systemPrompt == "One word.")
        #expect(replayed.options == #"{"temperature":0.0,"seed":7,"stream":false}"# || replayed.options == #"{"temperature":0,"seed":7,"stream":false}"#)
        #expect(TestShell(b.ctx).errorText(["replay", "--to", "new", "-o", "top_p", "0"])
            == "replay: -o top_p must be a number above 0, at most 1, got '0'\nusage: " + ReplayCommands.replay.usage)
    }

    @Test func aPromptTheTargetCannotAnswerIsAnErrorAndTheRestGoOn() throws {
        let first = try FakeProviderProcess(["--reply", "one two three"])
        defer { first.stop() }
        let deadPort = FakeProviderProcess.unusedPort()
        let b = try ChatBench(providers: [(name: "first", type: "vllm", url: first.baseURL, extra: ""),
                                          (name: "second", type: "vllm", url: "http://127.0.0.1:\(deadPort)", extra: "")],
                              mappings: Self.mappings + """
                                  patterns:
                                    - pattern: "^p-.*"
                                      provider: first

                                  """)
        defer { b.cleanUp() }
        _ = try b.run(["chat", "-m", "old", "first prompt"])
        _ = try b.run(["chat", "-m", "old", "second prompt"])
        let ids = try b.attempts().map { String($0.id) }
        let r = try b.run(["replay"] + ids + ["--to", "new"])
        #expect(r.status == .error)
        #expect(r.field("prompts") == .int(2))
        #expect(r.field("errors") == .int(2))
        #expect(r.field("similarity") == .null)
        #expect(r.error == "replay: 2 of 2 prompts not answered by new")
        // Identical replies are similarity 1; the same prompts to the first provider by pattern.
        let same = try b.run(["replay"] + ids + ["--to", "p-first-model"])
        #expect(same.status == .ok, "\(same.text)")
        #expect(same.field("similarity") == .double(1))
    }

    @Test func aPromptWhoseModelIsNoLongerConfiguredIsNotedAndReplayed() throws {
        let first = try FakeProviderProcess(["--reply", "same words"])
        defer { first.stop() }
        let b = try ChatBench(providers: [(name: "first", type: "vllm", url: first.baseURL, extra: ""),
                                          (name: "second", type: "vllm", url: first.baseURL, extra: "")],
                              mappings: Self.mappings)
        defer { b.cleanUp() }
        _ = try b.run(["chat", "-m", "old", "hello"])
        // The config changes: 'old' is gone.
        try Self.mappings.replacingOccurrences(of: "  old:\n    provider: first\n    backend_model: first-model\n", with: "")
            .write(toFile: b.directory + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        let r = try b.run(["replay", "--to", "new", "-m", "old"])
        #expect(r.status == .ok, "\(r.text)")
        #expect(r.field("results")?[0]?["note"] == .string("the original model 'old' is unknown to the current config"))
        #expect(r.text.contains("  note: the original model 'old' is unknown to the current config\n"))
    }

    @Test func noMatchingPromptsAndMissingTargetAreClearErrors() throws {
        let b = try ChatBench(providers: [(name: "first", type: "vllm", url: "http://127.0.0.1:1", extra: "")],
                              mappings: Self.mappings)
        defer { b.cleanUp() }
        let usage = try #require(throws: UsageError.self) { try b.run(["replay"]) }
        #expect(usage.message == "replay: which model? give --to MODEL")
        let none = try #require(throws: CommandFailure.self) { try b.run(["replay", "--to", "new"]) }
        #expect(none.message == "replay: no logged prompts match (answered chat requests)")
    }
}
