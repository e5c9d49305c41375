import Foundation
import Testing
@testable import AishBase
@testable import AishGateway

/// `gateway`, `route` and `status` reading the Router's keys from a real redis-server, seeded
/// with the values LiteLLM 1.108.7 wrote on the local stack (a dict's repr, its exception
/// masked; a counter; this minute's rpm). The real-stack tier (GatewayStackTests) makes
/// LiteLLM write them itself.
@Suite(.serialized) struct GatewayStateTests {
    static let cooldownValue = "{'exception_received': 'litellm.InternalServerError: InternalServerError: "
        + "*********************************************', 'status_code': '500', 'timestamp': 1796624715.0218754, 'cooldown_time': 30}"

    @Test func theReprLiteLLMStoresIsRead() throws {
        let v = try PythonLiteral.parse(Self.cooldownValue)
        #expect(v["status_code"] == .string("500"))
        #expect(v["cooldown_time"] == .int(30))
        #expect(v["timestamp"]?.doubleValue == 1796624715.0218754)
        let c = GatewayState.cooldown(value: Self.cooldownValue, ttl: nil, now: 1796624715.0218754 + 6)
        #expect(c.status == "500")
        #expect(c.reason == "litellm.InternalServerError: InternalServerError:…")
        #expect(c.seconds.map { abs($0 - 24) < 0.001 } == true, "seconds left from the value when there is no TTL")
        #expect(try PythonLiteral.parse(#"{"a": [1, 2.5, true, null], 'b': ('x', None, False), 'c': 'it\'s'}"#)
                == .object([("a", .array([.int(1), .double(2.5), .bool(true), .null])),
                            ("b", .array([.string("x"), .null, .bool(false)])), ("c", .string("it's"))]))
        #expect(throws: PythonLiteral.Malformed.self) { try PythonLiteral.parse("{'a': ") }
        #expect(GatewayState.minuteKey(Date(timeIntervalSince1970: 6 * 3600 + 5 * 60 + 59)) == "06-05")
    }

    @Test func cooldownsFailuresAndRPMAreShownBesideTheDeployments() throws {
        guard let redis = try RedisTestServer.real() else { Issue.record("redis-server is not installed"); return }
        defer { redis.stop() }
        let backend = try FakeProviderProcess(["--reply", "ok"])
        let spare = try FakeProviderProcess(["--reply", "ok"])
        let gateway = try FakeProviderProcess(["--reply", "ok", "--gateway", "{}"])
        defer { backend.stop(); spare.stop(); gateway.stop() }
        let b = try ChatBench(providers: [(name: "one", type: "llama_cpp", url: backend.baseURL, extra: ""),
                                          (name: "two", type: "llama_cpp", url: spare.baseURL, extra: ""),
                                          (name: "gw", type: "litellm", url: gateway.baseURL, extra: "")],
                              mappings: """
                                  load_balancing:
                                    pair:
                                      providers:
                                        - provider: one
                                          weight: 0.5
                                        - provider: two
                                          weight: 0.5
                                  exact_matches:
                                    via-gw:
                                      provider: gw
                                      backend_model: pair

                                  """, json: true)
        defer { b.cleanUp() }
        try "monitoring:\n  redis: redis://127.0.0.1:\(redis.port)\n".write(toFile: b.directory + "/ports.yaml", atomically: true, encoding: .utf8)

        // No key yet: nothing is cooling down, and the note says why nothing was found.
        let quiet = try b.run(["gateway", "--no-health"])
        #expect(quiet.field("cooled_down") == .int(0))
        #expect(quiet.field("redis") == .string("127.0.0.1:\(redis.port)"))

        // The keys as LiteLLM 1.108.7 writes them (written here by the test; aish only reads).
        let client = try RedisClient(host: "127.0.0.1", port: redis.port, timeout: 2, interrupt: InterruptFlag())
        defer { client.close() }
        _ = try client.command(["SET", "deployment:two/pair:cooldown", Self.cooldownValue, "PX", "24000"])
        _ = try client.command(["SET", "deployment:two/pair:allowed_fails", "2", "PX", "24000"])
        _ = try client.command(["SET", "global_router:two/pair:openai/two-model:rpm:\(GatewayState.minuteKey(Date()))", "5", "EX", "60"])
        _ = try client.command(["SET", String(repeating: "ab", count: 32), "{}"])   // a response-cache entry

        let r = try b.run(["gateway", "--no-health"])
        #expect(r.field("cooled_down") == .int(1))
        #expect(r.field("cache_entries") == .int(1))
        #expect(r.field("source") == .string("config"), "the fake gateway has no /model/info: the generated file's deployments")
        let deployments = r.data?["deployments"]
        let two = (0..<2).compactMap { deployments?[$0] }.first { $0["id"] == .string("two/pair") }
        #expect(two?["provider"] == .string("two"))
        #expect((two?["cooldown_s"]?.doubleValue ?? 0) > 20)
        #expect(two?["cooldown_status"] == .string("500"))
        #expect(two?["cooldown_reason"] == .string("litellm.InternalServerError: InternalServerError:…"))
        #expect(two?["failures"] == .int(2))
        #expect(two?["rpm"] == .int(5))
        let one = (0..<2).compactMap { deployments?[$0] }.first { $0["id"] == .string("one/pair") }
        #expect(one?["cooldown_s"] == .null)

        let route = try b.run(["route", "via-gw"])
        let deps = route.data?["steps"]?[0]?["gateway_deployments"]
        #expect(deps?[1]?["id"] == .string("two/pair"))
        #expect(deps?[1]?["cooldown_reason"] == .string("500 litellm.InternalServerError: InternalServerError:…"))
        #expect(deps?[0]?["cooldown_s"] == .null)
        let routePair = try b.run(["route", "pair"])
        let stepTwo = (0..<2).compactMap { routePair.data?["steps"]?[$0] }.first { $0["provider"] == .string("two") }
        #expect(stepTwo?["deployment_id"] == .string("two/pair"))
        #expect((stepTwo?["cooldown_s"]?.doubleValue ?? 0) > 20, "\(routePair.data?.serialized() ?? "")")

        // Redis down: said, and the rest still shown.
        redis.stop()
        let down = try b.run(["gateway", "--no-health"])
        #expect(down.field("redis_error")?.stringValue?.contains("connect") == true, "\(down.data?.serialized() ?? "")")
        #expect(down.field("cooled_down") == .int(0))
        guard case let .array(notes)? = down.field("notes") else { Issue.record("no notes"); return }
        #expect(notes.contains { $0.stringValue?.contains("cooldowns, failure counts, rpm/tpm and the cache size are unknown") == true })
        let routeDown = try b.run(["route", "pair"])
        guard case let .array(routeNotes)? = routeDown.data?["notes"] else { Issue.record("no route notes"); return }
        #expect(routeNotes.contains { $0.stringValue?.hasPrefix("the gateway's cooldowns are unknown: redis 127.0.0.1:") == true })
    }

    /// LiteLLM's /health answers when its slowest deployment has: the command gives it
    /// --health-timeout, says so in a note, and shows everything else.
    @Test func aSlowHealthCheckIsCutShortAndSaidInANote() throws {
        let health = #"{"healthy_endpoints": [{"model": "openai/one-model", "api_base": "http://x"}], "unhealthy_endpoints": []}"#
        let backend = try FakeProviderProcess(["--reply", "ok"])
        let gateway = try FakeProviderProcess(["--reply", "ok", "--litellm-health", health, "--litellm-health-delay", "3"])
        defer { backend.stop(); gateway.stop() }
        let b = try ChatBench(providers: [(name: "one", type: "llama_cpp", url: backend.baseURL, extra: ""),
                                          (name: "gw", type: "litellm", url: gateway.baseURL, extra: "")],
                              mappings: """
                                  exact_matches:
                                    via-gw:
                                      provider: gw
                                      backend_model: one-model

                                  """, json: true)
        defer { b.cleanUp() }
        let r = try b.run(["gateway", "--health-timeout", "500ms"])
        #expect(r.field("gateway") == .string("gw"))
        guard case let .array(replicas)? = r.field("replicas") else { Issue.record("no replicas"); return }
        #expect(replicas.first?["up"] == .bool(true), "the processes are still probed and shown")
        guard case let .array(notes)? = r.field("notes") else { Issue.record("no notes"); return }
        #expect(notes.contains { $0.stringValue == "LiteLLM's /health gave no answer within 0.5 s (it waits for a reply from every "
            + "deployment, and a busy backend holds it up): health unknown; --health-timeout S waits longer" },
                "\(r.data?.serialized() ?? "")")
        #expect(throws: UsageError.self) { try b.run(["gateway", "--health-timeout", "0"]) }
    }
}
