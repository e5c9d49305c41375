import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishProviders

/// What one streamChat call produced.
struct ChatOutcome {
    var events: [String] = []      // "opened", or the text pieces
    var summary: ChatCompletionSummary?
    var error: ProviderError?
    var text: String { events.filter { $0 != "<opened>" }.joined() }
}

func chat(_ provider: ProviderConfig, model: String = "fake-model", prompt: String = "hi there", maxTokens: Int? = nil,
          environment: [String: String] = [:], interrupt: InterruptFlag = InterruptFlag()) -> ChatOutcome {
    var out = ChatOutcome()
    let backend = ProviderClients.backend(for: provider, environment: environment)
    let request = ChatRequest(model: model, messages: [ChatMessage(role: "user", content: prompt)], maxTokens: maxTokens)
    do {
        out.summary = try backend.streamChat(request, provider: provider, interrupt: interrupt) { event in
            switch event {
            case .opened: out.events.append("<opened>")
            case let .text(t): out.events.append(t)
            }
        }
    } catch let e as ProviderError {
        out.error = e
    } catch {
        Issue.record("expected a ProviderError, got \(error)")
    }
    return out
}

@Suite(.serialized) struct ProviderClientTests {
    @Test func openAICompatibleStreamWithUsage() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let o = chat(fake.provider(type: .vllm))
        #expect(o.error == nil)
        #expect(o.events == ["<opened>", "Hello", " from", " the", " fake", " provider."])
        #expect(o.summary?.text == "Hello from the fake provider.")
        #expect(o.summary?.promptTokens == 2)
        #expect(o.summary?.completionTokens == 5)
        #expect(o.summary?.finishReason == "stop")
        #expect(o.summary?.httpStatus == 200)
        let sent = try fake.receivedRequests()
        #expect(sent.count == 1)
        #expect(sent[0]["path"] == "/v1/chat/completions")
        #expect(sent[0]["body"]?["stream"] == true)
        #expect(sent[0]["body"]?["stream_options"]?["include_usage"] == true)
        #expect(sent[0]["body"]?["messages"] == .array([.object([("role", "user"), ("content", "hi there")])]))
    }

    @Test func baseURLEndingInV1IsNotDoubled() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let o = chat(fake.provider(type: .openaiCompatible, baseSuffix: "/v1"))
        #expect(o.text == "Hello from the fake provider.")
        #expect(try fake.receivedRequests()[0]["path"] == "/v1/chat/completions")
    }

    @Test func maxTokensLimitsTheReply() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let o = chat(fake.provider(type: .llamaCpp), maxTokens: 1)
        #expect(o.text == "Hello")
        #expect(o.summary?.finishReason == "length")
        #expect(try fake.receivedRequests()[0]["body"]?["max_tokens"] == 1)
    }

    @Test func llamaCppTimings() throws {
        let fake = try FakeProviderProcess(["--flavor", "llamacpp"])
        defer { fake.stop() }
        let o = chat(fake.provider(type: .llamaCpp))
        #expect(o.summary?.serverTimings?["predicted_n"] == 5)
    }

    @Test func ollamaNativeChat() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let o = chat(fake.provider(type: .ollama), prompt: "ping pong", maxTokens: 5)
        #expect(o.error == nil)
        #expect(o.events == ["<opened>", "ping", " pong"])
        #expect(o.summary?.completionTokens == 2)
        #expect(o.summary?.promptTokens == 2)
        #expect(o.summary?.serverTimings?["eval_duration"] == 50_000_000)
        #expect(o.summary?.serverTimings?["load_duration"] == 2_000_000)
        let sent = try fake.receivedRequests()[0]
        #expect(sent["path"] == "/api/chat")
        #expect(sent["body"]?["options"]?["num_predict"] == 5)
    }

    @Test func faultsBecomeProviderErrors() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let p = fake.provider(type: .vllm, timeouts: ProviderTimeouts(connect: 2, firstToken: 0.5, idle: 0.5))
        let url = "POST \(fake.baseURL)/v1/chat/completions"

        var o = chat(p, model: "fault:429:retry=2")
        #expect(o.error?.kind == .rateLimited(retryAfter: 2))
        #expect(o.error?.httpStatus == 429)
        #expect(o.events.isEmpty)

        o = chat(p, model: "fault:500")
        #expect(o.error?.kind == .http(status: 500))
        #expect(o.error?.message == "\(url): HTTP 500 Internal Server Error: fake provider: injected 500")

        o = chat(p, model: "fault:503-loading")
        #expect(o.error?.message == "\(url): HTTP 503 Service Unavailable: Loading model")

        o = chat(p, model: "fault:truncate=2")
        #expect(o.error?.kind == .truncatedStream)
        #expect(o.error?.partialText == "Hello from")
        #expect(o.error?.message.hasPrefix("\(url): stream ended before its end (the connection broke during the response: ") == true)

        o = chat(p, model: "fault:malformed")
        #expect(o.error?.kind == .malformedStream)
        #expect(o.error?.partialText == "Hello")
        #expect(o.error?.message == "\(url): malformed stream line (not JSON: unexpected character at byte 13): {\"choices\": [oops")

        o = chat(p, model: "fault:error-in-stream")
        #expect(o.error?.kind == .other)
        #expect(o.error?.message == "\(url): the server reported an error in the stream: fake in-stream error")

        o = chat(p, model: "fault:html")
        #expect(o.error?.kind == .malformedStream)
        #expect(o.error?.message == "\(url): the answer is text/html; charset=utf-8, not a stream of chat events")

        o = chat(p, model: "fault:slow-first=3")
        #expect(o.error?.kind == .firstByteTimeout)
        #expect(o.error?.message == "\(url): no data within 0.5s (first-byte timeout)")

        o = chat(p, model: "fault:stall-after=2")
        #expect(o.error?.kind == .idleTimeout)
        #expect(o.error?.partialText == "Hello from")
        #expect(o.error?.message == "\(url): stalled: no data for 0.5s (idle timeout)")
    }

    @Test func awkwardButValidStreams() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        for type in [ProviderType.vllm, .ollama] {
            let p = fake.provider(type: type)
            #expect(chat(p, model: "fault:split-utf8").text == "héllo wörld 😀 ok")
            #expect(chat(p, model: "fault:bad-utf8").text == "Hellobad \u{FFFD}\u{FFFD} bytes from the fake provider.")
            #expect(chat(p, model: "fault:no-newline").summary?.text == "Hello from the fake provider.")
            let big = chat(p, model: "fault:big-line")
            #expect(big.error == nil)
            #expect(big.text.utf8.count == (1 << 20) + "Hello from the fake provider.".utf8.count)
        }
        #expect(chat(fake.provider(type: .vllm), model: "fault:crlf").text == "Hello from the fake provider.")
    }

    @Test func ollamaFaults() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let p = fake.provider(type: .ollama)
        let url = "POST \(fake.baseURL)/api/chat"
        var o = chat(p, model: "fault:500")
        #expect(o.error?.message == "\(url): HTTP 500 Internal Server Error: fake provider: injected 500")
        o = chat(p, model: "fault:malformed")
        #expect(o.error?.message == "\(url): malformed stream line (not JSON: unexpected character at byte 12): {\"message\": oops")
        o = chat(p, model: "fault:truncate=1")
        #expect(o.error?.kind == .truncatedStream)
        #expect(o.error?.partialText == "Hello")
    }

    @Test func connectionRefused() {
        let port = FakeProviderProcess.unusedPort()
        let o = chat(FakeProviderProcess.provider(name: "down", baseURL: "http://127.0.0.1:\(port)"))
        #expect(o.error?.kind == .connectionFailed)
        #expect(o.error?.isRetryableElsewhere == true)
    }

    @Test func missingAPIKeyNamesTheVariable() {
        let p = FakeProviderProcess.provider(name: "openai", type: .openai, baseURL: "https://api.openai.com/v1",
                                             envVar: "OPENAI_API_KEY", requiresAPIKey: true)
        let o = chat(p, environment: [:])
        #expect(o.error?.kind == .missingAPIKey)
        #expect(o.error?.message == "provider 'openai' needs an API key: set the environment variable OPENAI_API_KEY")
    }

    @Test func apiKeyIsSentAsBearerAndNeverShown() throws {
        let fake = try FakeProviderProcess(["--require-key", "sk-right-key"])
        defer { fake.stop() }
        let p = fake.provider(type: .openai, envVar: "FAKE_KEY", requiresAPIKey: true)
        let ok = chat(p, environment: ["FAKE_KEY": "sk-right-key"])
        #expect(ok.text == "Hello from the fake provider.")
        #expect(try fake.receivedRequests()[0]["headers"]?["Authorization"] == "Bearer sk-right-key")

        let wrong = chat(p, environment: ["FAKE_KEY": "sk-wrong-key"])
        #expect(wrong.error?.kind == .http(status: 401))
        #expect(wrong.error?.message == "POST \(fake.baseURL)/v1/chat/completions: HTTP 401 Unauthorized: Incorrect API key provided")
        #expect(wrong.error?.message.contains("sk-wrong-key") == false)
    }

    @Test func cancellationMidStream() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let flag = InterruptFlag()
        var o = ChatOutcome()
        let took = elapsed {
            raise(flag, after: 0.5)
            o = chat(fake.provider(type: .vllm), model: "fault:stall-after=1", interrupt: flag)
        }
        #expect(o.error?.kind == .cancelled)
        #expect(o.error?.partialText == "Hello")
        #expect(o.error?.isRetryableElsewhere == false)
        #expect(took < 1.5)
    }

    @Test func threeDelayedChatsOverlap() throws {
        let fake = try FakeProviderProcess(["--first-token-delay", "1"])
        defer { fake.stop() }
        let p = fake.provider(type: .vllm)
        let group = DispatchGroup()
        let lengths = Mutex3()
        let took = elapsed {
            for _ in 0..<3 {
                group.enter()
                Thread.detachNewThread {
                    lengths.append(chat(p).text.count)
                    group.leave()
                }
            }
            group.wait()
        }
        #expect(lengths.values == [29, 29, 29])
        #expect(took < 2.5, "three 1 s chats took \(took) s")
    }

    @Test func endpointsJoinPaths() {
        let v1 = ProviderEndpoints(baseURL: "https://api.openai.com/v1/")
        #expect(v1.chatCompletions == "https://api.openai.com/v1/chat/completions")
        #expect(v1.openAIModels == "https://api.openai.com/v1/models")
        #expect(v1.metrics == "https://api.openai.com/metrics")
        let plain = ProviderEndpoints(baseURL: "http://127.0.0.1:8000")
        #expect(plain.chatCompletions == "http://127.0.0.1:8000/v1/chat/completions")
        #expect(plain.ollamaTags == "http://127.0.0.1:8000/api/tags")
        let vllm = FakeProviderProcess.provider(name: "v", type: .vllm, baseURL: "http://h:1/v1")
        #expect(ProviderEndpoints(vllm).health(for: vllm) == "http://h:1/health")
        var llama = FakeProviderProcess.provider(name: "l", type: .llamaCpp, baseURL: "http://h:2", healthEndpoint: "/v1/models")
        #expect(ProviderEndpoints(llama).health(for: llama) == "http://h:2/v1/models")
        llama.healthEndpoint = nil
        llama.type = .litellm
        #expect(ProviderEndpoints(llama).health(for: llama) == "http://h:2/health/liveliness")
    }
}
