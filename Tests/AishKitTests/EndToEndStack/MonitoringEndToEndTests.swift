import Foundation
import Testing
@testable import AishBase
@testable import AishConfig

/// The stack's real Prometheus and Redis (scripts/stack up): series of the gateway and the
/// native server appear in Prometheus after a few requests, a target taken down shows as
/// down, and the gateway caches its answers in Redis.
@Suite(.enabled(if: StackProcess.enabled, "needs the real local stack: scripts/e2e runs it (AISH_E2E_STACK=1)"),
       .serialized)
struct MonitoringEndToEndTests {
    let aish = try! StackProcess()

    /// Polls `body` every second until it returns a value or `seconds` pass.
    private func eventually<T>(_ seconds: Double, _ body: () throws -> T?) rethrows -> T? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let v = try body() { return v }
            if Date() > deadline { return nil }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    private func target(_ report: JSONValue, job: String) -> JSONValue? {
        elements(of: report["targets"]).first { $0["job"]?.stringValue == job }
    }

    private func series(_ target: JSONValue?, _ name: String) -> JSONValue? {
        elements(of: target?["series"]).first { $0["name"]?.stringValue == name }
    }

    @Test func prometheusShowsTheGatewayAndTheNativeServerSideBySide() throws {
        let warm = try aish.run(["-c", """
            set max_tokens 16
            chat -m smollm2-native Say one.
            chat -m gateway-native Say two.
            chat -m gateway-python Say three.
            """])
        #expect(warm.status == 0, "\(warm.stderr)")
        // Prometheus scrapes every 5 s; rates need two scrapes after the requests.
        let report = try eventually(40) { () -> JSONValue? in
            let run = try aish.run(["--json", "metrics", "--prom", "--since", "10m"])
            guard run.status == 0, let r = try? JSONValue.parse(run.stdout) else { return nil }
            let native = series(target(r, job: "llama_cpp_native"), "generation_tokens_total")
            let gateway = series(target(r, job: "litellm_gateway"), "e2e_latency")
            guard (native?["max"]?.doubleValue ?? 0) > 0, (gateway?["count"]?.doubleValue ?? 0) > 0 else { return nil }
            return r
        }
        let r = try #require(report, "the series of the native server and the gateway did not appear in Prometheus within 40 s")
        #expect(target(r, job: "llama_cpp_native")?["health"]?.stringValue == "up")
        #expect(target(r, job: "litellm_gateway")?["health"]?.stringValue == "up")
        #expect(target(r, job: "litellm_gateway")?["provider"]?.stringValue == "litellm_gateway")
        #expect(series(target(r, job: "llama_cpp_native"), "generation_tokens_total")?["source"]?.stringValue
            == "llamacpp:tokens_predicted_total")
        #expect(r["errors"] == .array([]), "\(r["errors"]?.serialized() ?? "")")

        // The text form: one host, the two targets side by side in one table.
        let text = try aish.run(["metrics", "--prom", "--since", "10m"])
        #expect(text.status == 0, "\(text.stderr)")
        let header = text.stdout.split(separator: "\n").first { $0.contains("SERIES") }.map(String.init) ?? ""
        #expect(header.contains("litellm_gateway") && header.contains("llama_cpp_native"), "\(text.stdout)")

        let verbose = try aish.run(["metrics", "--prom", "--since", "10m", "--verbose", "llama_cpp_native"])
        #expect(verbose.stdout.contains("PromQL sent:"))
        #expect(verbose.stdout.contains("llamacpp:tokens_predicted_total"))
    }

    @Test func statusShowsPrometheusTargets() throws {
        let run = try aish.run(["--json", "status"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let r = try JSONValue.parse(run.stdout)
        let jobs = Set(elements(of: r["prometheus"]?["targets"]).compactMap { $0["job"]?.stringValue })
        #expect(jobs.isSuperset(of: ["prometheus", "litellm_gateway", "llama_cpp_native"]), "\(jobs)")
        let services = Set(elements(of: r["services"]).compactMap { $0["name"]?.stringValue })
        #expect(services.isSuperset(of: ["prometheus", "redis"]))
        #expect(elements(of: r["services"]).filter { ["prometheus", "redis"].contains($0["name"]?.stringValue ?? "") }
            .allSatisfy { $0["state"]?.stringValue == "up" })
    }

    /// A target of its own (a fake provider, added through the stack's file_sd directory),
    /// scraped while it runs and shown down once it stops.
    @Test func aTargetTakenDownShowsAsDown() throws {
        let fake = try MetricsTestServer.fakeProvider(["--flavor", "vllm"])
        let dir = aish.root.appendingPathComponent(".stack/prometheus/targets")
        let file = dir.appendingPathComponent("e2e-\(fake.port).json")
        let instance = "127.0.0.1:\(fake.port)"
        try #"[{"targets": ["\#(instance)"], "labels": {"job": "e2e_fake"}}]"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file); fake.stop() }

        func health() throws -> String? {
            let run = try aish.run(["--json", "status"])
            guard let r = try? JSONValue.parse(run.stdout) else { return nil }
            return elements(of: r["prometheus"]?["targets"]).first { $0["instance"]?.stringValue == instance }?["health"]?.stringValue
        }
        let up = try eventually(30) { try health() == "up" ? true : nil }
        #expect(up == true, "Prometheus did not scrape the added target within 30 s")
        fake.stop()
        let down = try eventually(30) { try health() == "down" ? true : nil }
        #expect(down == true, "the stopped target did not show as down within 30 s")
        let text = try aish.run(["status"])
        let line = text.stdout.split(separator: "\n").first { $0.contains(instance) }.map(String.init) ?? ""
        #expect(line.contains("down") && line.contains("connection refused"), "\(text.stdout)")
    }

    /// The gateway answers a repeated request from Redis: the cache holds keys afterwards.
    @Test func theGatewayCachesInRedis() throws {
        let prompt = "Name a colour. (\(UUID().uuidString.prefix(8)))"
        for _ in 0..<2 {
            let run = try aish.run(["-c", "set max_tokens 8; chat -m gateway-python \(prompt)"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let config = ConfigLoader.load(directory: aish.configDirectory).config
        let redis = try #require(config.monitoring.redisHostPort)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["redis-cli", "-h", redis.host, "-p", String(redis.port), "dbsize"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let keys = Int(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(keys > 0, "Redis holds no keys after two identical requests through the gateway")
    }
}
