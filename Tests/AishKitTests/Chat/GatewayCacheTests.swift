import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishProviders

/// Replies a LiteLLM gateway serves from its response cache: seen (the log's `cache_hit`,
/// `show`, chat's status line and field), counted apart by `stats`, and never what
/// `compare` measures unless `--cache` asks for it. The fake gateway keeps a response cache
/// as LiteLLM 1.108 does (a repeated request answers with x-litellm-cache-key; the body's
/// `cache: {no-cache, no-store}` skips the lookup and the write); the real-stack tier checks
/// the same against LiteLLM itself.
@Suite struct GatewayCacheTests {
    static func bench(_ backend: FakeProviderProcess, _ gateway: FakeProviderProcess, json: Bool = false) throws -> ChatBench {
        try ChatBench(providers: [(name: "native", type: "llama_cpp", url: backend.baseURL, extra: ""),
                                  (name: "gw", type: "litellm", url: gateway.baseURL, extra: "")],
                      mappings: """
                          exact_matches:
                            via-gw:
                              provider: gw
                              backend_model: grp
                            direct:
                              provider: native
                              backend_model: native-model

                          """, json: json)
    }

    static func gateway(backend: FakeProviderProcess) throws -> FakeProviderProcess {
        try FakeProviderProcess(["--reply", "cached words", "--gateway", JSONValue.object([
            ("groups", .object([("grp", .string(backend.baseURL + "/v1"))])), ("cache", true),
        ]).serialized()])
    }

    @Test func aChatAnsweredFromTheCacheIsMarkedEverywhere() throws {
        let backend = try FakeProviderProcess(["--reply", "from the backend"])
        let gateway = try Self.gateway(backend: backend)
        defer { backend.stop(); gateway.stop() }
        let b = try Self.bench(backend, gateway)
        defer { b.cleanUp() }

        let first = try b.run(["chat", "-m", "via-gw", "Say hello."])
        #expect(first.field("cache_hit") == .bool(false))
        #expect(!b.ctx.output.capturedText.contains("cache hit"))
        try b.run(["reset"])
        let second = try b.run(["chat", "-m", "via-gw", "Say hello."])
        #expect(second.field("cache_hit") == .bool(true))
        #expect(b.ctx.output.capturedText.hasSuffix(" · via gateway → native · cache hit\n"), "\(b.ctx.output.capturedText)")
        let direct = try b.run(["chat", "-m", "direct", "Say hello."])
        #expect(direct.field("cache_hit") == .null)

        let rows = try b.attempts()
        #expect(rows.map(\.cacheHit) == [false, true, nil])
        let show = try b.run(["show", String(rows[1].id)])
        #expect(show.field("cache_hit") == .bool(true))
        #expect(show.text.contains("status   ok · HTTP 200 · cache hit (the gateway's response cache answered)"), "\(show.text)")
        let log = try b.run(["log", "-n", "1", "-m", "via-gw"])
        #expect(log.field("cache_hit") == .bool(true))
        #expect(log.data?["attempts"]?[0]?["cache_hit"] == .bool(true))
        #expect(try b.run(["show", String(rows[2].id)]).field("cache_hit") == .null)

        // stats: the hit is a request, not a timing.
        let stats = try b.run(["stats"])
        guard case let .array(groups)? = stats.data?["groups"] else { Issue.record("no groups"); return }
        let viaGW = try #require(groups.first { $0["name"] == .string("via-gw") })
        #expect(viaGW["requests"] == .int(2))
        #expect(viaGW["cache_hits"] == .int(1))
        #expect(viaGW["cache_hit_ratio"] == .double(0.5))
        #expect(viaGW["latency_ms"] == .double(rows[0].totalMs!), "only the uncached attempt is timed")
        #expect(stats.field("cache_hits") == .int(1))
        #expect(stats.text.contains("CACHE HITS"), "\(stats.text)")
        #expect(stats.text.contains("1 (50.0%)"), "\(stats.text)")
        #expect(stats.text.contains("left out of TTFT, LATENCY and TOK/S"), "\(stats.text)")
    }

    @Test func compareAsksTheGatewayNotToUseItsCacheUnlessToldTo() throws {
        let backend = try FakeProviderProcess(["--reply", "from the backend"])
        let gateway = try Self.gateway(backend: backend)
        defer { backend.stop(); gateway.stop() }
        let b = try Self.bench(backend, gateway, json: true)
        defer { b.cleanUp() }

        // Same prompt 4 times (1 warm-up): no-cache and no-store, so never a hit.
        let measured = try b.run(["compare", "via-gw", "direct", "-n", "3", "-p", "Same prompt."])
        #expect(measured.status == .ok)
        #expect(measured.data?["models"]?[0]?["cache_hits"] == .int(0))
        #expect(measured.data?["models"]?[1]?["cache_hits"] == .int(0))
        #expect(try b.attempts().filter { $0.provider == "gw" }.allSatisfy { $0.cacheHit == false })
        // Nothing was stored either: the first request with the cache on is a miss.
        let cached = try b.run(["compare", "via-gw", "-n", "3", "--warmup", "1", "-p", "Same prompt.", "--cache"])
        let m = try #require(cached.data?["models"]?[0])
        #expect(m["cache_hits"] == .int(3), "the warm-up stored it; every measured request is a hit")
        #expect(m["ok"] == .int(3))
        #expect(m["latency_ms"] == .null, "hits are not timed")
        #expect(try b.attempts().filter { $0.provider == "gw" }.map(\.cacheHit).suffix(4) == [false, true, true, true])
    }

    @Test func theCacheControlsGoOnlyToAGateway() {
        var r = ChatRequest(model: "m", messages: [ChatMessage(role: "user", content: "hi")], temperature: nil,
                            maxTokens: nil, topP: nil, seed: nil)
        r.bypassGatewayCache = true
        let toGateway = OpenAICompatibleBackend.body(r, gateway: true)
        #expect(toGateway["cache"] == .object([("no-cache", true), ("no-store", true)]))
        #expect(OpenAICompatibleBackend.body(r, gateway: false)["cache"] == nil)
        r.bypassGatewayCache = false
        #expect(OpenAICompatibleBackend.body(r, gateway: true)["cache"] == nil)
    }

    @Test func theCacheKeyHeaderMarksAHit() {
        let hit = GatewayInfo(headers: [("x-litellm-cache-key", "5f3c1a"), ("x-litellm-model-id", "None")])
        #expect(hit?.cacheHit == true)
        let miss = GatewayInfo(headers: [("x-litellm-model-group", "g"), ("x-litellm-cache-key", "None")])
        #expect(miss?.cacheHit == false)
    }
}
