import Foundation
import Testing
@testable import AishBase
@testable import AishChat

@Suite struct ChatStatusLineTests {
    @Test func statusLineSaysWhoAnsweredHowFastAndAnyFallback() {
        var o = ChatTurn.Outcome(status: .ok)
        o.provider = "ollama"
        o.backendModel = "llama3.1:latest"
        o.ttftMs = 212.4
        o.latencyMs = 1430
        o.completionTokens = 57
        o.tokensReported = true
        o.tokensPerSecond = 46.84
        #expect(ChatCommands.statusLine(o) == "ollama · llama3.1:latest · TTFT 212 ms · 1.43 s · 57 tokens · 46.8 tok/s")
        o.fallbackFrom = ("vllm-qwen", "HTTP 500")
        o.tokensReported = false
        #expect(ChatCommands.statusLine(o)
                == "ollama · llama3.1:latest · TTFT 212 ms · 1.43 s · ~57 tokens · 46.8 tok/s (fallback from vllm-qwen: HTTP 500)")
        var partial = ChatTurn.Outcome(status: .partial)
        partial.provider = "p"
        partial.backendModel = "m"
        partial.ttftMs = 5
        partial.latencyMs = 40
        partial.completionTokens = 1
        #expect(ChatCommands.statusLine(partial) == "p · m · TTFT 5 ms · 40 ms · ~1 token · broke off")
    }

    @Test func optionsFromVariables() throws {
        let o = try ChatOptions.from(variables: ["temperature": "0.5", "max_tokens": "10", "top_p": "1", "seed": "-3", "other": "x"])
        #expect(o == ChatOptions(temperature: 0.5, maxTokens: 10, topP: 1, seed: -3))
        #expect(try ChatOptions.from(variables: [:]) == ChatOptions())
        for (name, value, expected) in [("max_tokens", "0", "a whole number above 0"), ("top_p", "0", "a number above 0, at most 1"),
                                        ("seed", "1.5", "a whole number"), ("temperature", "2.5", "a number from 0 to 2")] {
            do {
                _ = try ChatOptions.from(variables: [name: value])
                Issue.record("\(name)=\(value) accepted")
            } catch let e as UsageError {
                #expect(e.message == "chat: \(name) must be \(expected), got '\(value)' (change it with: set \(name) VALUE)")
            }
        }
    }
}
