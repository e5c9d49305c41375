import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishMeasure
@testable import AishTelemetry

/// `metrics --prom` against the fake Prometheus: each query answered by exact PromQL.
@Suite(.serialized) struct PrometheusMetricsCommandTests {
    private static let window = 600.0

    private static func promql(_ name: String, _ reading: PrometheusKeySeries.Reading) -> String {
        PrometheusKeySeries.queries(window: window, step: 5).first { $0.definition.name == name && $0.reading == reading }!.promql
    }

    private static func fake(_ extra: [String] = []) throws -> MetricsTestServer {
        try MetricsTestServer(script: "Tests/Fixtures/Metrics/fake_prometheus.py", arguments: [
            "--dir", MetricsFixtures.url("PrometheusAPI").path,
            "--route", "keyseries-generation.json", "200", promql("generation_tokens_total", .series),
            "--route", "keyseries-ttft-p50.json", "200", promql("ttft", .quantile(0.5)),
            "--route", "keyseries-up.json", "200", "max by (instance, job) (max_over_time(up[600s]))",
            "--route", "error-execution.json", "422", promql("kv_cache_usage", .series),
        ] + extra)
    }

    private func run(_ words: [String], prometheus: String) throws -> CommandResult {
        let here = SourceLocation(file: "ports.yaml", line: 1, column: 1)
        var config = MetricsTestConfig.config([MetricsTestConfig.provider("vllm-a", .vllm, "http://gpu-1:8000/v1")])
        config.ports.monitoring = MonitoringConfig(prometheus: .init(url: prometheus, origin: "monitoring.prometheus", location: here))
        var options = GlobalOptions()
        options.databasePath = NSTemporaryDirectory() + "aish-prom-none-\(UUID().uuidString).db"
        let ctx = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        let inv = try MetricsCommand.spec.parse(words: words, line: "metrics " + words.joined(separator: " "), location: nil)
        return try MetricsCommand.run(inv, ctx, config: config)
    }

    @Test func seriesOfEveryInstanceGroupedByHost() throws {
        let server = try Self.fake()
        defer { server.stop() }
        let r = try run(["--prom", "--since", "10m"], prometheus: server.baseURL)
        #expect(r.status == .ok, "\(r.text)")
        let data = try #require(r.data)
        #expect(data["window_ms"] == .int(600_000))
        #expect(data["step_ms"] == .int(5000))
        let targets = elements(of: data["targets"])
        // The recorded targets.json (127.0.0.1:1 down, :19090 up) and the three of `up`.
        #expect(targets.compactMap { $0["instance"]?.stringValue } == ["127.0.0.1:1", "127.0.0.1:19090", "gpu-1:8000", "gpu-2:8080", "gpu-3:8000"])
        let gpu1 = try #require(targets.first { $0["instance"]?.stringValue == "gpu-1:8000" })
        #expect(gpu1["provider"]?.stringValue == "vllm-a")
        #expect(gpu1["health"]?.stringValue == "gone")
        let gen = try #require(elements(of: gpu1["series"]).first { $0["name"]?.stringValue == "generation_tokens_total" })
        #expect(gen["source"]?.stringValue == "vllm:generation_tokens_total")
        #expect(gen["kind"]?.stringValue == "rate")
        #expect(gen["last"] == .double(8))
        #expect(gen["max"] == .double(12.5))
        #expect(gen["samples"] == .int(4))
        let ttft = try #require(elements(of: gpu1["series"]).first { $0["name"]?.stringValue == "ttft" })
        #expect(ttft["p50_ms"] == .double(125))
        #expect(ttft["p90_ms"] == .null)
        // gpu-2 exports two spellings: the first in the catalog's order wins.
        let gpu2 = try #require(targets.first { $0["instance"]?.stringValue == "gpu-2:8080" })
        let gen2 = elements(of: gpu2["series"]).filter { $0["name"]?.stringValue == "generation_tokens_total" }
        #expect(gen2.count == 1)
        #expect(gen2.first?["source"]?.stringValue == "llamacpp:tokens_predicted_total")
        // NaN percentiles (no observations) are null, not a number.
        #expect(elements(of: gpu2["series"]).first { $0["name"]?.stringValue == "ttft" }?["p50_ms"] == .null)
        // The query that failed is one error line, with its PromQL.
        let errors = elements(of: data["errors"])
        #expect(errors.count == 1)
        #expect(errors.first?["query"]?.stringValue == Self.promql("kv_cache_usage", .series))
        #expect(errors.first?["error"]?.stringValue?.hasPrefix("Prometheus at \(server.baseURL) could not execute the query: found duplicate series") == true)

        // Text: one block per host; gpu-2 and gpu-1 apart; the failure as one line.
        let lines = r.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "Prometheus \(server.baseURL) · last 10m, step 5s · 5 targets, 1 up")
        #expect(lines[1].hasPrefix("error: Prometheus at \(server.baseURL) could not execute the query: "))
        #expect(lines.contains("gpu-1"))
        #expect(lines.contains("gpu-2"))
        #expect(lines.contains("127.0.0.1"))
        #expect(lines.contains { $0.hasPrefix("  generation_tokens_total") && $0.contains("8.00/s (max 12.5/s)") })
        #expect(lines.contains { $0.hasPrefix("  ttft p50") && $0.contains("125 ms") })
        #expect(!r.text.contains("PromQL"))
    }

    @Test func verboseShowsThePromQLOfAFailure() throws {
        let server = try Self.fake()
        defer { server.stop() }
        let r = try run(["--prom", "--since", "10m", "--verbose", "gpu-1"], prometheus: server.baseURL)
        #expect(r.text.contains("\n  PromQL: \(Self.promql("kv_cache_usage", .series))\n"))
        // A host named as PROVIDER keeps only its targets.
        #expect(elements(of: r.data?["targets"]).compactMap { $0["instance"]?.stringValue } == ["gpu-1:8000"])
    }

    @Test func prometheusDownIsOneLine() throws {
        let port = ChildProcess.closedPort()
        let r = try run(["--prom"], prometheus: "http://127.0.0.1:\(port)")
        #expect(r.status == .error)
        #expect(r.error?.hasPrefix("metrics --prom: Prometheus at http://127.0.0.1:\(port) is down: connection failed: ") == true)
        #expect(r.text.split(separator: "\n").count == 2)
    }

    @Test func usageErrors() throws {
        #expect(throws: UsageError.self) { try run(["--since", "1h"], prometheus: "http://127.0.0.1:9") }
        #expect(throws: UsageError.self) { try run(["--prom", "--since", "5s"], prometheus: "http://127.0.0.1:9") }
        #expect(throws: UsageError.self) { try run(["--prom", "--raw"], prometheus: "http://127.0.0.1:9") }
    }

    /// `tail metrics --prom` in a script: the same series each update, as plain lines.
    @Test func tailPrintsThePrometheusSeriesEachUpdate() throws {
        // tail's step over 10m is 10 s, so the rate query differs from metrics --prom's.
        let rate = PrometheusKeySeries.queries(window: Self.window, step: 10).first { $0.definition.name == "generation_tokens_total" }!
        let server = try Self.fake(["--route", "keyseries-generation.json", "200", rate.promql])
        defer { server.stop() }
        let here = SourceLocation(file: "ports.yaml", line: 1, column: 1)
        var config = MetricsTestConfig.config([MetricsTestConfig.provider("vllm-a", .vllm, "http://gpu-1:8000/v1")])
        config.ports.monitoring = MonitoringConfig(prometheus: .init(url: server.baseURL, origin: "monitoring.prometheus", location: here))
        let ctx = ShellContext(options: GlobalOptions(), output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        let words = ["metrics", "--prom", "--since", "10m", "--count", "2", "--every", "1s"]
        let r = try TailCommand.run(try TailCommand.spec.parse(words: words, line: "tail", location: nil), ctx, config: config)
        #expect(r.status == .ok, "\(r.text)")
        #expect(r.field("update_count") == .int(2))
        #expect(r.field("provider_count") == .int(5))
        let lines = ctx.output.capturedText.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" }
        #expect(lines == r.text.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" })
        let perUpdate = lines.count / 2
        #expect(lines.count == 2 * perUpdate && Array(lines[..<perUpdate]) == Array(lines[perUpdate...]), "\(lines)")
        #expect(Array(lines[2..<perUpdate]) == ["vllm-a gpu-1:8000 ttft p50 125 ms  p99 - (n=0)", "vllm-a gpu-1:8000 generation_tokens_total 8.00/s",
                                                "llama gpu-2:8080 ttft p50 -  p99 - (n=0)", "llama gpu-2:8080 generation_tokens_total 30.0/s"])
        #expect(lines[0].hasPrefix("\(server.baseURL) error: Prometheus at \(server.baseURL) could not execute the query: found duplicate series"))
        #expect(lines[1].hasPrefix("llama-server 127.0.0.1:1 error: down: "))
    }

    @Test func queriesReadEverySpellingTagged() {
        let qs = PrometheusKeySeries.queries(window: 3600, step: 5)
        let kv = qs.first { $0.definition.name == "kv_cache_usage" }!
        #expect(kv.promql == #"label_replace(max by (instance, job) (vllm:kv_cache_usage_perc), "aish_source", "vllm:kv_cache_usage_perc", "", "") or label_replace(max by (instance, job) (vllm:gpu_cache_usage_perc), "aish_source", "vllm:gpu_cache_usage_perc", "", "") or label_replace(max by (instance, job) (llamacpp:kv_cache_usage_ratio), "aish_source", "llamacpp:kv_cache_usage_ratio", "", "")"#)
        let rate = qs.first { $0.definition.name == "prompt_tokens_total" }!
        #expect(rate.promql.hasPrefix(#"label_replace(sum by (instance, job) (rate(vllm:prompt_tokens_total[20s])), "aish_source""#))
        #expect(qs.filter { $0.definition.name == "ttft" }.map(\.reading) == [.quantile(0.5), .quantile(0.9), .quantile(0.99), .observations])
        #expect(PrometheusKeySeries.step(forWindow: 3600) == 5)
        #expect(PrometheusKeySeries.step(forWindow: 86400) == 120)
        #expect(PrometheusInstance(instance: "gpu-2:8000", job: "j").host == "gpu-2")
        #expect(PrometheusInstance(instance: "[::1]:9090", job: "j").host == "::1")
        #expect(PrometheusInstance(instance: "node.local", job: "j").host == "node.local")
    }
}
