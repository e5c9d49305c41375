import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishHTTP
@testable import AishServices
@testable import AishTelemetry

/// The engines' own state in `status`: llama.cpp's /slots, vLLM's /metrics, Ollama's
/// /api/ps, read from the fake provider speaking each (the stack cannot run vLLM or Ollama).
@Suite(.serialized) struct EngineStatusTests {
    func status(_ config: AishConfig, json: Bool = false) throws -> CommandResult {
        let inv = try ServiceCommands.statusSpec.parse(words: [], line: "status", location: nil)
        let empty = try TemporaryDirectory()  // no nvidia-smi on this PATH
        return try ServiceCommands.runStatus(inv, ServiceFixtures.context(path: empty.path, json: json), config: config)
    }

    func provider(_ name: String, _ type: String, _ fake: FakeProviderProcess, health: String? = nil) -> ProviderConfig {
        ServiceFixtures.provider(name, type, baseURL: fake.baseURL, health: health)
    }

    static func chatBody(_ text: String, stream: Bool = false) -> JSONValue {
        .object([("model", "fake-model"), ("stream", .bool(stream)),
                 ("messages", .array([.object([("role", "user"), ("content", .string(text))])]))])
    }

    func engine(_ r: CommandResult, _ row: String) throws -> JSONValue {
        guard case let .array(rows)? = r.data?["services"],
              let found = rows.first(where: { $0["name"]?.stringValue == row }) else {
            throw EngineTestFailure(description: "no row \(row) in \(String(describing: r.data))")
        }
        return try #require(found["engine"])
    }

    @Test func eachEngineSaysItsOwnLoad() throws {
        let llama = try FakeProviderProcess(["--flavor", "llamacpp", "--slots", "2", "--slot-ctx", "4096"])
        defer { llama.stop() }
        let vllm = try FakeProviderProcess(["--flavor", "vllm", "--vllm-metrics", "v1", "--waiting", "2",
                                            "--kv-cache-usage", "0.43"])
        defer { vllm.stop() }
        let ollama = try FakeProviderProcess(["--vram-share", "0.81", "--keep-alive", "300"])
        defer { ollama.stop() }
        // The llama.cpp slot keeps the tokens of its last request: 3 prompt words + 5 reply words.
        let chat = try HTTPTransport.fetch(.postJSON(url: llama.baseURL + "/v1/chat/completions",
                                                     Self.chatBody("one two three")), interrupt: nil)
        #expect(chat.head.status == 200)
        let load = try HTTPTransport.fetch(.postJSON(url: ollama.baseURL + "/api/chat", .object([
            ("model", "llama3:8b"), ("stream", false), ("messages", .array([.object([("role", "user"), ("content", "hi")])])),
        ])), interrupt: nil)
        #expect(load.head.status == 200)

        let config = ServiceFixtures.config(providers: [
            provider("native", "llama_cpp", llama, health: "/health"),
            provider("qwen", "vllm", vllm),
            provider("ollama", "ollama", ollama),
        ])
        let started = Date()
        let r = try status(config)
        #expect(r.status == .ok)
        #expect(Date().timeIntervalSince(started) < 5)

        let native = try engine(r, "native")
        #expect(native["type"] == "llama_cpp")
        #expect(native["provider"] == "native")
        #expect(native["url"] == .string(llama.baseURL + "/slots"))
        #expect(native["reported"] == true)
        #expect(native["error"] == .null)
        #expect(native["slots_total"] == 2)
        #expect(native["slots_busy"] == 0)
        #expect(native["context_used"] == 8)
        #expect(native["context_size"] == 8192)
        #expect(native["requests_running"] == .null)
        #expect(native["models"] == .null)

        let qwen = try engine(r, "qwen")
        #expect(qwen["url"] == .string(vllm.baseURL + "/metrics"))
        #expect(qwen["requests_running"] == 0)
        #expect(qwen["requests_waiting"] == 2)
        #expect(qwen["kv_cache_usage"] == .double(0.43))
        #expect(qwen["slots_total"] == .null)

        let o = try engine(r, "ollama")
        #expect(o["url"] == .string(ollama.baseURL + "/api/ps"))
        let model = try #require(o["models"]?[0])
        #expect(model["name"] == "llama3:8b")
        #expect(model["size_bytes"] == .int(5_137_025_024))
        #expect(model["vram_bytes"] == .int(Int(5_137_025_024 * 0.81)))
        #expect(model["context_length"] == 4096)
        let expires = try #require(model["expires_at"]?.stringValue.flatMap(UTCTime.parseISO8601))
        #expect(abs(expires.timeIntervalSinceNow - 300) < 30)

        let text = r.text
        #expect(text.contains("\nENGINE  TYPE       STATE\n"))
        #expect(text.contains("native  llama_cpp  slots 0/2 busy · context 8/8192 tokens"))
        #expect(text.contains("qwen    vllm       running 0 · waiting 2 · KV cache 43.0%"))
        #expect(text.contains("ollama  ollama     llama3:8b, 4.8 GiB, VRAM 3.9 GiB (81%), context 4096, unloads in "))
    }

    @Test func aBusySlotAndARunningRequestAreSeenWhileTheyRun() throws {
        let llama = try FakeProviderProcess(["--flavor", "llamacpp", "--slots", "4", "--first-token-delay", "4"])
        defer { llama.stop() }
        let vllm = try FakeProviderProcess(["--flavor", "vllm", "--first-token-delay", "4"])
        defer { vllm.stop() }
        // One request in flight at each, held by the first-token delay.
        let group = DispatchGroup()
        for fake in [llama, vllm] {
            group.enter()
            Thread.detachNewThread {
                _ = try? HTTPTransport.fetch(.postJSON(url: fake.baseURL + "/v1/chat/completions",
                                                       Self.chatBody("a b c d e f", stream: true)), interrupt: nil)
                group.leave()
            }
        }
        defer { group.wait() }
        try waitUntil { try llama.receivedRequests().contains { $0["path"] == "/v1/chat/completions" } }
        try waitUntil { try vllm.receivedRequests().contains { $0["path"] == "/v1/chat/completions" } }

        let config = ServiceFixtures.config(providers: [
            provider("native", "llama_cpp", llama, health: "/health"), provider("qwen", "vllm", vllm),
        ])
        let r = try status(config)
        let native = try engine(r, "native")
        #expect(native["slots_busy"] == 1)
        #expect(native["slots_total"] == 4)
        #expect(native["context_used"] == 6)   // the prompt, nothing generated yet
        #expect(try engine(r, "qwen")["requests_running"] == 1)
        #expect(r.text.contains("native  llama_cpp  slots 1/4 busy · context 6/8192 tokens"))
    }

    @Test func anEngineThatDoesNotSayIsNotReportedAndStatusStillSucceeds() throws {
        // The Python llama.cpp server has no /slots (404); llama-server with --no-slots answers 501.
        let python = try FakeProviderProcess(["--flavor", "generic"])
        defer { python.stop() }
        let noSlots = try FakeProviderProcess(["--flavor", "llamacpp", "--slots", "0"])
        defer { noSlots.stop() }
        // A vLLM whose /metrics has no vLLM series (another server on its port).
        let other = try FakeProviderProcess(["--flavor", "llamacpp"])
        defer { other.stop() }
        // An engine that does not answer within the limit: every answer waits 5 s.
        let slow = try FakeProviderProcess(["--flavor", "llamacpp", "--fault", "delay-headers=5"])
        defer { slow.stop() }
        let config = ServiceFixtures.config(providers: [
            provider("python", "llama_cpp", python, health: "/health"),
            provider("noslots", "llama_cpp", noSlots, health: "/health"),
            provider("notvllm", "vllm", other),
            provider("slow", "llama_cpp", slow, health: "/health"),
            ServiceFixtures.provider("down", "vllm", baseURL: "http://127.0.0.1:\(FakeProviderProcess.unusedPort())"),
        ])
        let started = Date()
        let r = try status(config)
        let took = Date().timeIntervalSince(started)
        #expect(r.status == .ok)
        // The health checks' 2 s bound the snapshot; the engines were asked beside them.
        #expect(took < 4)

        let p = try engine(r, "python")
        #expect(p["reported"] == false)
        #expect(p["error"] == .string("GET \(python.baseURL)/slots: HTTP 404 Not Found: File Not Found"))
        #expect(p["slots_total"] == .null)
        let n = try engine(r, "noslots")
        #expect(n["error"] == .string("GET \(noSlots.baseURL)/slots: HTTP 501 Not Implemented: This server does not support slots endpoint. Start it with `--slots`"))
        let v = try engine(r, "notvllm")
        #expect(v["error"] == .string("GET \(other.baseURL)/metrics: no vllm:num_requests_running, vllm:num_requests_waiting or KV-cache series"))
        let s = try engine(r, "slow")
        #expect(s["reported"] == false)
        #expect(s["error"]?.stringValue?.hasPrefix("GET \(slow.baseURL)/slots: ") == true)
        // Nothing listens: no engine to ask (null, as a field that does not apply).
        #expect(try engine(r, "down") == .null)

        #expect(r.text.contains("python   llama_cpp  not reported: GET \(python.baseURL)/slots: HTTP 404 Not Found: File Not Found"))
        #expect(r.text.contains("noslots  llama_cpp  not reported: GET \(noSlots.baseURL)/slots: HTTP 501 Not Implemented: "))
    }

    @Test func aRowWithoutAnEngineProviderHasNoEngineBlock() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let config = ServiceFixtures.config(providers: [provider("gw", "litellm", fake, health: "/health/liveliness")])
        let r = try status(config)
        #expect(try engine(r, "gw") == .null)
        #expect(!r.text.contains("ENGINE"))
    }

    func waitUntil(_ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try condition() { return }
            usleep(50_000)
        }
        throw EngineTestFailure(description: "condition not met within 10 s")
    }
}

/// The three answers as the engines write them, including forms the fake does not.
@Suite struct EngineAnswerTests {
    let llama = EngineProbe.Target(kind: .llamaCpp, provider: ServiceFixtures.provider("l", baseURL: "http://h"))

    @Test func slotsOfTheDocumentedFormWithoutTokenCounts() throws {
        // The server README's example: next_token an object, no n_prompt_tokens.
        let json = try JSONValue.parse("""
            [{"id":0,"id_task":135,"n_ctx":65536,"speculative":false,"is_processing":true,"params":{"n_predict":-1},
              "next_token":{"has_next_token":true,"has_new_line":false,"n_remain":-1,"n_decoded":0}},
             {"id":1,"id_task":0,"n_ctx":65536,"speculative":false,"is_processing":false,"params":{},
              "next_token":{"has_next_token":true,"has_new_line":false,"n_remain":-1,"n_decoded":0}}]
            """)
        let s = try #require(EngineProbe.slots(json))
        #expect(s == EngineState.Slots(total: 2, busy: 1, contextUsed: nil, contextSize: 131_072))
        let e = EngineState(kind: .llamaCpp, provider: "l", url: "u", slots: s)
        #expect(StatusRendering.engineText(e, now: Date()) == ["slots 1/2 busy · context size 131072 tokens (in use not reported)"])
        // A slot that never had a task holds nothing; one that had, without the count, an unknown number.
        let unused = #"{"id":0,"n_ctx":10,"is_processing":false}"#
        let used = #"{"id":1,"n_ctx":10,"is_processing":false,"id_task":7,"n_prompt_tokens":4}"#
        let older = #"{"id":2,"n_ctx":10,"is_processing":true,"id_task":8}"#
        #expect(EngineProbe.slots(try JSONValue.parse("[\(unused),\(used)]"))?.contextUsed == 4)
        #expect(EngineProbe.slots(try JSONValue.parse("[\(unused),\(used),\(older)]"))?.contextUsed == nil)
        #expect(EngineProbe.slots(try JSONValue.parse("[]")) == EngineState.Slots(total: 0, busy: 0, contextUsed: nil, contextSize: 0))
    }

    @Test func answersOfAnotherFormAreNotReportedWithWhy() {
        for body in [#"{"slots":[]}"#, #"[{"id":0}]"#, "<html>login</html>", #"[1,2]"#] {
            let e = EngineProbe.interpret(llama, url: "http://h/slots", body: Array(body.utf8))
            #expect(e.slots == nil)
            #expect(e.error?.hasPrefix("GET http://h/slots: not a llama.cpp slot list: ") == true, "\(body)")
        }
        let ollama = EngineProbe.Target(kind: .ollama, provider: ServiceFixtures.provider("o", "ollama", baseURL: "http://h"))
        for body in [#"{"models":{}}"#, #"{"models":[{"size":1}]}"#, "[]"] {
            let e = EngineProbe.interpret(ollama, url: "http://h/api/ps", body: Array(body.utf8))
            #expect(e.error?.hasPrefix("GET http://h/api/ps: not an Ollama model list: ") == true, "\(body)")
        }
        let vllm = EngineProbe.Target(kind: .vllm, provider: ServiceFixtures.provider("v", "vllm", baseURL: "http://h"))
        let broken = EngineProbe.interpret(vllm, url: "http://h/metrics", body: Array("ok 1\nbad{a=\"x\" 2\n".utf8))
        #expect(broken.error?.hasPrefix("GET http://h/metrics:2:") == true, "\(broken.error ?? "")")
    }

    @Test func vllmFixturesOfBothVersions() throws {
        let v0 = try PrometheusText.parse(String(contentsOfFile: TestPaths.existing("Tests/Fixtures/Metrics/vllm-v0.prom"), encoding: .utf8))
        #expect(EngineProbe.queue(v0) == EngineState.Queue(running: 0, waiting: 0, kvCacheUsage: 0.0125))
        let v1 = try PrometheusText.parse(String(contentsOfFile: TestPaths.existing("Tests/Fixtures/Metrics/vllm-v1.prom"), encoding: .utf8))
        #expect(EngineProbe.queue(v1) == EngineState.Queue(running: 3, waiting: 1, kvCacheUsage: 0.4296875))
        // Two engines (data parallel): requests add up, the KV cache is the fullest one's.
        let two = try PrometheusText.parse("""
            vllm:num_requests_running{engine="0",model_name="m"} 2
            vllm:num_requests_running{engine="1",model_name="m"} 5
            vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.2
            vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.7
            """)
        #expect(EngineProbe.queue(two) == EngineState.Queue(running: 7, waiting: nil, kvCacheUsage: 0.7))
        let e = EngineState(kind: .vllm, provider: "v", url: "u", queue: EngineProbe.queue(two))
        #expect(StatusRendering.engineText(e, now: Date()) == ["running 7 · waiting - · KV cache 70.0%"])
    }

    @Test func ollamaDocumentedExample() throws {
        let json = try JSONValue.parse("""
            {"models":[{"name":"gemma3","model":"gemma3","size":6591830464,"digest":"a2af",
              "details":{"parent_model":"","format":"gguf","family":"gemma3","families":["gemma3"],
                         "parameter_size":"4.3B","quantization_level":"Q4_K_M"},
              "expires_at":"2025-10-17T16:47:07.93355-07:00","size_vram":5333539264,"context_length":4096},
             {"name":"tiny","model":"tiny","size":1000,"size_vram":0,"expires_at":"2318-11-29T17:00:00Z"}]}
            """)
        let models = try #require(EngineProbe.loadedModels(json))
        #expect(models.count == 2)
        #expect(models[0].expiresAt == UTCTime.parseISO8601("2025-10-17T23:47:07.933Z"))
        let now = try #require(UTCTime.parseISO8601("2025-10-17T23:43:00Z"))
        let e = EngineState(kind: .ollama, provider: "o", url: "u", models: models)
        #expect(StatusRendering.engineText(e, now: now) == [
            "gemma3, 6.1 GiB, VRAM 5.0 GiB (81%), context 4096, unloads in 4m 8s",
            "tiny, 1000 B, VRAM 0 B (0%), unloads in 107057d 17h",
        ])
        #expect(StatusRendering.engineText(EngineState(kind: .ollama, provider: "o", url: "u", models: []), now: now)
                == ["no model loaded"])
    }

    @Test func theEngineBlockFitsTheWidth() {
        var row = ServiceObservation(
            service: MonitoredService(name: "ollama", host: "127.0.0.1", port: 11434, healthURL: nil, unit: nil,
                                      unitLocation: nil, providers: ["ollama"], fromPortsFile: false, required: false),
            state: .up, listenAddresses: ["127.0.0.1:11434"], health: nil, process: nil)
        row.engine = EngineState(kind: .ollama, provider: "ollama", url: "u", models: [
            EngineState.LoadedModel(name: "qwen2.5-coder:32b-instruct-q8_0", sizeBytes: 40 << 30, vramBytes: 24 << 30,
                                    expiresAt: nil, contextLength: 32768),
            EngineState.LoadedModel(name: "llama3", sizeBytes: 5 << 30, vramBytes: 5 << 30, expiresAt: nil, contextLength: nil),
        ])
        let snapshot = StatusSnapshot(takenAt: Date(), services: [row], gpu: .absent(reason: "no GPU"))
        let lines = StatusRendering.engineLines(snapshot, width: 60)
        #expect(lines == [
            "",
            "ENGINE  TYPE    STATE",
            "ollama  ollama  qwen2.5-coder:32b-instruct-q8_0, 40.0 GiB, …",
            "                llama3, 5.0 GiB, VRAM 5.0 GiB (100%)",
        ])
        #expect(lines.allSatisfy { $0.count <= 60 })
    }
}

struct EngineTestFailure: Error, CustomStringConvertible {
    var description: String
}
