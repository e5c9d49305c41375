import Foundation
import Testing
@testable import AishBase
@testable import AishGateway
@testable import AishHTTP
@testable import AishProviders

/// What the gateway is doing, against the real LiteLLM 1.108.7 gateway and Redis of the local
/// stack (scripts/e2e): its response cache seen and kept out of the measurements, its live
/// view (`gateway`), and a real cooldown — a deployment whose backend is down (a closed
/// port), in a group of two, through one of two extra LiteLLM processes over the stack's
/// Redis — seen by `gateway`, `route` and `status`, with the time the other process takes
/// to honour it.
@Suite(.enabled(if: StackProcess.enabled, "needs the real local stack: scripts/e2e runs it (AISH_E2E_STACK=1)"),
       .serialized)
struct GatewayStackTests {
    let aish: StackProcess

    init() throws { aish = try StackProcess() }

    func json(_ run: StackProcess.Run) throws -> JSONValue { try JSONValue.parse(run.stdout) }

    /// A reply served from Redis is marked everywhere, and compare measures the model.
    @Test func cacheHitsAreSeenAndMeasuringBypassesTheCache() throws {
        let prompt = "Name a colour. (\(UUID().uuidString.prefix(8)))"
        // A bound on the reply: unbounded, SmolLM2 once sampled "very" until LiteLLM cut the
        // stream ("The model is repeating the same chunk"), and the first reply was partial.
        let bounded = ["-o", "max_tokens", "32"]
        let first = try json(aish.run(["--json", "chat", "-m", "gateway-native"] + bounded + [prompt]))
        #expect(first["outcome"] == .string("ok"), "\(first.serialized())")
        #expect(first["cache_hit"] == .bool(false))
        let second = try json(aish.run(["--json", "chat", "-m", "gateway-native"] + bounded + [prompt]))
        #expect(second["cache_hit"] == .bool(true), "LiteLLM's Redis cache answers a repeated prompt: \(second.serialized())")
        let third = try aish.run(["chat", "-m", "gateway-native"] + bounded + [prompt])
        #expect(third.stderr.contains(" · cache hit"), "status line: \(third.stderr)")
        let direct = try json(aish.run(["--json", "chat", "-m", "smollm2-native"] + bounded + [prompt]))
        #expect(direct["cache_hit"] == .null)
        let hits = try json(aish.run(["--json", "sql", "SELECT group_concat(coalesce(cache_hit, 'null'), ',') FROM attempts WHERE prompt = '\(prompt)' AND kind = 'chat'"]))
        #expect(hits["value"] == .string("0,1,1,null"), "\(hits.serialized())")

        // compare asks for no-cache and no-store: no hit, and an end-to-end time of the model's order.
        let measured = "Count to five. (\(UUID().uuidString.prefix(8)))"
        let c = try json(aish.run(["--json", "compare", "gateway-native", "smollm2-native", "-n", "3", "-p", measured, "--max-tokens", "16"]))
        #expect(c["models"]?[0]?["cache_hits"] == .int(0), "\(c.serialized())")
        let viaGateway = try #require(c["models"]?[0]?["latency_ms"]?["p50"]?.doubleValue)
        let straight = try #require(c["models"]?[1]?["latency_ms"]?["p50"]?.doubleValue)
        print("compare gateway-native smollm2-native: end-to-end p50 \(viaGateway) ms through the gateway, \(straight) ms direct")
        #expect(viaGateway > straight * 0.5, "through the gateway \(viaGateway) ms vs direct \(straight) ms: not a cache's 5 ms")
        // no-store: compare left nothing behind, so the same request with the cache on is a miss first.
        let cached = try json(aish.run(["--json", "compare", "gateway-native", "-n", "2", "--warmup", "1", "-p", measured,
                                        "--max-tokens", "16", "--cache"]))
        #expect(cached["models"]?[0]?["cache_hits"] == .int(2), "the warm-up stored the reply; both measured requests hit: \(cached.serialized())")
        let warmup = try json(aish.run(["--json", "sql", "SELECT cache_hit FROM attempts WHERE prompt = '\(measured)' AND route_reason LIKE 'compare warm-up%' AND provider = 'litellm_gateway' ORDER BY id DESC LIMIT 1"]))
        #expect(warmup["value"] == .int(0), "compare without --cache stored nothing (no-store): \(warmup.serialized())")

        let stats = try json(aish.run(["--json", "stats"]))
        #expect((stats["cache_hits"]?.intValue ?? 0) >= 4, "\(stats.serialized())")
    }

    @Test func theGatewaysLiveViewComesFromItAndItsRedis() throws {
        // /health calls every deployment: slow on 2 busy cores, and it has its own bound
        // (--health-timeout, 5 s by default; --timeout is the other requests').
        let run = try aish.run(["--json", "gateway", "--timeout", "60s", "--health-timeout", "60s"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let g = try json(run)
        #expect(g["source"] == .string("gateway"), "\(g.serialized())")
        #expect(g["redis"] == .string("127.0.0.1:6379"))
        #expect(g["redis_error"] == .null)
        #expect(g["replicas"]?[0]?["up"] == .bool(true))
        let deployments = elements(of: g["deployments"])
        let native = try #require(deployments.first { $0["id"] == .string("llama_cpp_native/smollm2-native") }, "\(g.serialized())")
        #expect(native["provider"] == .string("llama_cpp_native"))
        #expect(native["health"] == .string("healthy"), "\(g["notes"]?.serialized() ?? "")")
        let ollama = try #require(deployments.first { $0["id"] == .string("ollama/llama3.2:1b") })
        #expect(ollama["health"] == .string("unhealthy"), "\(g["notes"]?.serialized() ?? "")")
        #expect(g["aliases"]?["chat"] == .string("llama3.2:1b"))
    }

    /// Every name the gateway serves is drilled through it, also those not listed under the
    /// gateway provider in providers.yaml.
    @Test func drillViaGatewayCoversEveryNameItServes() throws {
        let run = try aish.run(["--json", "drill", "llama3.2:1b", "smollm2", "chat", "fast", "--via", "gateway"])
        let d = try json(run)
        for r in elements(of: d["results"]) {
            let error = r["error"]?.stringValue ?? ""
            #expect(!error.contains("no LiteLLM gateway serves"), "\(r.serialized())")
        }
        #expect(elements(of: d["results"]).count == 4)
    }

    /// A real cooldown, through one of two gateway processes over the stack's Redis.
    @Test func aCooldownIsSeenAndHonouredByTheOtherReplica() throws {
        let litellm = aish.root.appendingPathComponent(".stack/venv-litellm/bin/litellm").path
        try #require(FileManager.default.isExecutableFile(atPath: litellm), "no LiteLLM at \(litellm)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aish-gw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dead = FreePort.unused()        // nothing listens: connection refused, as a backend that is down
        let (portA, portB) = (FreePort.unused(), FreePort.unused())
        let key = "sk-e2e-" + UUID().uuidString
        try """
            model_list:
              - model_name: drillpair
                litellm_params: {model: openai/smollm2-135m, api_base: "http://127.0.0.1:8080/v1", api_key: none}
                model_info: {id: llama_cpp_native/drillpair}
              - model_name: drillpair
                litellm_params: {model: openai/smollm2-135m, api_base: "http://127.0.0.1:\(dead)/v1", api_key: none}
                model_info: {id: dead/drillpair}
              - model_name: drillsolo
                litellm_params: {model: openai/smollm2-135m, api_base: "http://127.0.0.1:8080/v1", api_key: none}
                model_info: {id: llama_cpp_native/drillsolo}
            router_settings: {routing_strategy: simple-shuffle, num_retries: 0, enable_weighted_failover: true,
                              allowed_fails: 1, cooldown_time: 20, redis_host: "127.0.0.1", redis_port: 6379}
            general_settings: {master_key: os.environ/LITELLM_MASTER_KEY}
            """.write(toFile: dir + "/litellm.yaml", atomically: true, encoding: .utf8)
        var processes: [Process] = []
        // LiteLLM may outlive SIGTERM (it was found still running after the suite): stop each
        // process, and kill what has not ended within a few seconds.
        defer {
            for p in processes where p.isRunning { p.terminate() }
            let until = Date().addingTimeInterval(5)
            while processes.contains(where: \.isRunning), Date() < until { usleep(50_000) }
            for p in processes where p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
        }
        for port in [portA, portB] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: litellm)
            p.arguments = ["--config", dir + "/litellm.yaml", "--host", "127.0.0.1", "--port", String(port)]
            var env = ProcessInfo.processInfo.environment
            env["LITELLM_MASTER_KEY"] = key
            env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
            p.environment = env
            p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            processes.append(p)
        }
        let a = "http://127.0.0.1:\(portA)", b = "http://127.0.0.1:\(portB)"
        for url in [a, b] { try #require(Self.waitReady(url), "LiteLLM at \(url) did not start in 120 s") }

        // aish's view of these two processes: a litellm provider with a replica, and the stack's Redis.
        try """
            providers:
              llama_cpp_native: {type: llama_cpp, base_url: "http://127.0.0.1:8080", status: active, models: [smollm2-135m]}
              gw: {type: litellm, base_url: "\(a)", status: active, env_var: E2E_GATEWAY_KEY, requires_api_key: true,
                   models: [drillpair, drillsolo], replicas: ["\(b)"]}
            """.write(toFile: dir + "/providers.yaml", atomically: true, encoding: .utf8)
        try "exact_matches:\n  via-drill:\n    provider: gw\n    backend_model: drillpair\n"
            .write(toFile: dir + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        try "monitoring:\n  redis: redis://127.0.0.1:6379\n".write(toFile: dir + "/ports.yaml", atomically: true, encoding: .utf8)
        let env = ["E2E_GATEWAY_KEY": key]

        // B keeps serving the other group, so its view of the cooldowns is warm when A writes one.
        let busy = LockedFlag()
        let background = Thread {
            var i = 0
            while !busy.isSet { _ = Self.chat(b, "drillsolo", key, i); i += 1 }
        }
        background.start()
        defer { busy.set() }
        Thread.sleep(forTimeInterval: 1.5)
        // Through A until LiteLLM writes deployment:dead/drillpair:cooldown (allowed_fails 1: the second failure).
        let redis = try RedisClient(host: "127.0.0.1", port: 6379, timeout: 2, interrupt: InterruptFlag())
        defer { redis.close() }
        var written: Double?
        for i in 0..<60 {
            _ = Self.chat(a, "drillpair", key, i)
            if try redis.get("deployment:dead/drillpair:cooldown") != nil { written = MonotonicClock.now(); break }
        }
        busy.set()
        let t0 = try #require(written, "no cooldown after 60 requests through \(a)")

        // B: when does it stop trying the dead deployment? Its failures count in the rpm key.
        func failures() throws -> Int {
            try redis.scanKeys(matching: "global_router:dead/drillpair:*:rpm:*").keys
                .compactMap { try redis.get($0).flatMap { Int($0) } }.reduce(0, +)
        }
        var lastTry = 0.0
        var sent = 0
        while MonotonicClock.now() - t0 < 3 {
            let before = try failures()
            let at = MonotonicClock.now() - t0
            _ = Self.chat(b, "drillpair", key, 1000 + sent)
            sent += 1
            if try failures() > before { lastTry = at }
        }
        print("replica \(b) sent its last request to the cooled-down deployment \(String(format: "%.3f", lastTry)) s after \(a) wrote the cooldown (\(sent) requests in 3 s)")
        #expect(lastTry < 2.5, "the other replica kept trying the cooled-down deployment for \(lastTry) s")

        let g = try json(aish.run(["--json", "gateway", "--no-health"], config: dir, extra: env))
        let cooled = try #require(elements(of: g["deployments"]).first { $0["id"] == .string("dead/drillpair") }, "\(g.serialized())")
        #expect((cooled["cooldown_s"]?.doubleValue ?? 0) > 0, "\(cooled.serialized())")
        #expect(cooled["cooldown_status"] == .string("500"))
        #expect(cooled["cooldown_reason"]?.stringValue?.hasPrefix("litellm.InternalServerError") == true)
        #expect((cooled["failures"]?.intValue ?? 0) >= 1, "the allowed_fails counter: \(cooled.serialized())")
        #expect(elements(of: g["replicas"]).map { $0["up"] } == [.bool(true), .bool(true)])
        let text = try aish.run(["gateway", "--no-health"], config: dir, extra: env)
        #expect(text.stdout.contains("dead/drillpair: cooled down "), "\(text.stdout)")

        let route = try json(aish.run(["--json", "route", "via-drill"], config: dir, extra: env))
        let deps = elements(of: route["steps"]?[0]?["gateway_deployments"])
        #expect(deps.first { $0["id"] == .string("dead/drillpair") }?["cooldown_s"]?.doubleValue != nil, "\(route.serialized())")
        let routeText = try aish.run(["route", "via-drill"], config: dir, extra: env)
        #expect(routeText.stdout.contains("via gateway: dead/drillpair: cooled down "), "\(routeText.stdout)")
        #expect(routeText.stdout.contains("the gateway skips it"), "\(routeText.stdout)")

        let status = try json(aish.run(["--json", "status"], config: dir, extra: env))
        let ids = elements(of: status["gateway_cooldowns"]?["cooled_down"]).compactMap { $0["id"]?.stringValue }
        #expect(ids.contains("dead/drillpair"), "\(status["gateway_cooldowns"]?.serialized() ?? "null")")
    }

    static func waitReady(_ base: String) -> Bool {
        for _ in 0..<240 {
            if (try? HTTPTransport.fetch(HTTPRequest(url: base + "/health/liveliness", timeouts: HTTPTimeouts(connect: 1, firstByte: 2, idle: 2, total: 2)),
                                         interrupt: nil)) != nil { return true }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return false
    }

    /// One short completion, neither from nor into the cache; the model id that answered.
    static func chat(_ base: String, _ group: String, _ key: String, _ i: Int) -> String? {
        let body: JSONValue = .object([
            ("model", .string(group)), ("messages", .array([.object([("role", "user"), ("content", .string("Say \(i)."))])])),
            ("max_tokens", 2), OpenAICompatibleBackend.noGatewayCache,
        ])
        let r = HTTPRequest.postJSON(url: base + "/v1/chat/completions", body, headers: [("Authorization", "Bearer \(key)")],
                                     timeouts: HTTPTimeouts(connect: 2, firstByte: 30, idle: 30, total: 60), secrets: [key])
        return (try? HTTPTransport.fetch(r, interrupt: nil))?.head.header("x-litellm-model-id")
    }
}

/// A flag one thread sets and another reads.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
