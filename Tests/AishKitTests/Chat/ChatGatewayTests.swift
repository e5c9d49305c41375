import Foundation
import Testing
@testable import AishBase
@testable import AishCommand

/// A chat answered through a gateway that sends LiteLLM's x-litellm-* headers: the
/// deployment is named in the status line, the fields and the log, and `stats --by
/// provider` splits the gateway's overhead from the rest.
@Suite struct ChatGatewayTests {
    @Test func theDeploymentThatAnsweredIsShownFieldedAndLogged() throws {
        let backend = try FakeProviderProcess(["--reply", "from the backend"])
        let gateway = try FakeProviderProcess(["--reply", "hello via the gateway", "--gateway", JSONValue.object([
            ("groups", .object([("grp", .string(backend.baseURL.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/v1/"))])),
            ("overhead_ms", .double(4.5)), ("response_ms", .double(12.25)),
        ]).serialized()])
        defer { backend.stop(); gateway.stop() }
        let b = try ChatBench(providers: [(name: "native", type: "llama_cpp", url: backend.baseURL, extra: ""),
                                          (name: "gw", type: "litellm", url: gateway.baseURL, extra: "")],
                              mappings: """
                                  exact_matches:
                                    via-gw:
                                      provider: gw
                                      backend_model: grp
                                    direct:
                                      provider: native
                                      backend_model: native-model

                                  """)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "via-gw", "Say hello."])
        #expect(r.status == .ok)
        #expect(r.string("gateway_deployment") == "native")
        #expect(r.string("gateway_model_group") == "grp")
        #expect(r.int("gateway_fallbacks") == 0)
        #expect(r.field("gateway_overhead_ms") == .double(4.5))
        let status = b.ctx.output.capturedText
        #expect(status.contains("gw · grp · TTFT "), "\(status)")
        #expect(status.hasSuffix(" · via gateway → native\n"), "\(status)")
        // A direct answer has the same fields, null.
        let direct = try b.run(["chat", "-m", "direct", "Say hello."])
        #expect(direct.field("gateway_deployment") == .null)

        let row = try #require(b.attempts().first)
        #expect(row.gateway == GatewayInfo(modelGroup: "grp", modelID: "id-grp",
                                           apiBase: backend.baseURL.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/v1/",
                                           attemptedFallbacks: 0, attemptedRetries: 0, overheadMs: 4.5, responseMs: 12.25,
                                           deployment: "native"))
        let show = try b.run(["show", String(row.id)])
        #expect(show.text.contains("gateway  → native · model group grp · "), "\(show.text)")

        let stats = try b.run(["stats", "--by", "provider"])
        #expect(stats.field("gateway_overhead_ms") == .double(4.5))
        let latency = try #require(row.totalMs)
        #expect(stats.field("backend_latency_ms") == .double(max(0, latency - 4.5)))
        #expect(stats.text.contains("GATEWAY p50  BACKEND p50"), "\(stats.text)")
        let json = try #require(stats.data)
        #expect(json["groups"]?[0]?["gateway_overhead_ms"] == .double(4.5))
        #expect(json["groups"]?[1]?["gateway_overhead_ms"] == .null)
    }

    @Test func headersParseAsLiteLLMSendsThem() {
        let g = GatewayInfo(headers: [("x-litellm-model-group", "smollm2-native"), ("x-litellm-model-id", "abc123"),
                                      ("x-litellm-model-api-base", "http://127.0.0.1:8080/v1"),
                                      ("x-litellm-attempted-fallbacks", "1"), ("x-litellm-attempted-retries", "0"),
                                      ("x-litellm-overhead-duration-ms", "3.917"), ("x-litellm-response-duration-ms", "None")])
        #expect(g?.attemptedFallbacks == 1)
        #expect(g?.responseMs == nil)
        let p = FakeProviderProcess.provider(name: "llama_cpp_native", type: .llamaCpp, baseURL: "http://localhost:8080")
        #expect(g?.resolvingDeployment([p]).deployment == "llama_cpp_native")
        #expect(g?.resolvingDeployment([]).deployment == "smollm2-native")
        #expect(GatewayInfo(headers: [("content-type", "text/event-stream")]) == nil)
    }
}
