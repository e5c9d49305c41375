import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishHTTP
@testable import AishMeasure
@testable import AishSessionLog

@Suite(.serialized) struct MetricsCommandTests {
    private func run(_ words: [String], config: AishConfig, environment: [String: String] = [:],
                     recorder: RecordingRecorder? = nil, db: String? = nil) throws -> CommandResult {
        var options = GlobalOptions()
        options.databasePath = db ?? NSTemporaryDirectory() + "aish-metrics-none-\(UUID().uuidString).db"
        let ctx = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(),
                               environment: environment)
        ctx.recorder = recorder
        let inv = try MetricsCommand.spec.parse(words: words, line: "metrics " + words.joined(separator: " "), location: nil)
        return try MetricsCommand.run(inv, ctx, config: config)
    }

    /// One non-streamed chat request, so that the fake provider's counters and histograms move.
    private func chat(_ server: MetricsTestServer, path: String = "/v1/chat/completions", model: String = "fake-model") throws {
        let body: JSONValue = .object([("model", .string(model)), ("stream", .bool(false)),
                                       ("messages", .array([.object([("role", "user"), ("content", "hi there")])]))])
        let r = try HTTPTransport.fetch(.postJSON(url: server.baseURL + path, body), interrupt: nil)
        #expect(r.head.status == 200)
    }

    @Test func vllmKeySeriesUnderNormalisedNames() throws {
        let server = try MetricsTestServer.fakeProvider(["--flavor", "vllm", "--first-token-delay", "0.05"])
        defer { server.stop() }
        try chat(server)
        try chat(server)
        let config = MetricsTestConfig.config([MetricsTestConfig.provider("vllm", .vllm, server.baseURL + "/v1")])
        let recorder = RecordingRecorder()
        let r = try run([], config: config, recorder: recorder)
        #expect(r.status == .ok)
        #expect(r.text.hasPrefix("vllm (vllm) \(server.baseURL)/metrics  "))
        let rows = Self.words(r.text)
        #expect(rows[1] == ["SERIES", "VALUE", "SOURCE"])
        #expect(rows.contains(["requests_running", "0", "vllm:num_requests_running"]))
        #expect(rows.contains(["kv_cache_usage", "12.5%", "vllm:gpu_cache_usage_perc"]))
        #expect(rows.contains(where: { $0.first == "ttft" && $0.contains("(n=2)") && $0.last == "vllm:time_to_first_token_seconds" }))
        let ttft = try #require(Self.series(r, provider: 0, named: "ttft"))
        let p50 = try #require(ttft["p50_ms"]?.doubleValue), p99 = try #require(ttft["p99_ms"]?.doubleValue)
        #expect(p50 > 0 && p50 <= p99)
        let kv = recorder.metricSamples.first(where: { $0.name == "kv_cache_usage" })
        #expect(kv?.provider == "vllm")
        #expect(kv?.value == 0.125)
        let count = recorder.metricSamples.first(where: { $0.name == "ttft_count" })
        #expect(count?.value == 2)
        #expect(r.field("errors") == .int(0))
    }

    @Test func filterAndRaw() throws {
        let server = try MetricsTestServer.fakeProvider(["--flavor", "llamacpp"])
        defer { server.stop() }
        let config = MetricsTestConfig.config([MetricsTestConfig.provider("native", .llamaCpp, server.baseURL)])
        let filtered = try run(["native", "requests_"], config: config)
        #expect(filtered.text.split(separator: "\n").dropFirst().map(String.init) == [
            "  SERIES            VALUE  SOURCE",
            "  requests_running  0      llamacpp:requests_processing",
            "  requests_waiting  0      llamacpp:requests_deferred",
        ])
        let raw = try run(["--raw", "^llamacpp:(kv|requests_d)"], config: config)
        #expect(raw.text.split(separator: "\n").dropFirst().map(String.init) == [
            "  llamacpp:kv_cache_usage_ratio 0.125",
            "  llamacpp:requests_deferred 0",
        ])
        let none = try run(["natve"], config: config)
        #expect(none.text.hasSuffix("  (no series matches)\nno series match 'natve' (did you mean provider 'native'?)\n"))
    }

    @Test func litellmFollowsTheRedirectWithTheKey() throws {
        let key = "sk-test-0123456789"
        let server = try MetricsTestServer.litellmMetrics(key: key)
        defer { server.stop() }
        let config = MetricsTestConfig.config([MetricsTestConfig.provider("gateway", .litellm, server.baseURL, envVar: "GATEWAY_KEY")])
        let r = try run(["gateway"], config: config, environment: ["GATEWAY_KEY": key])
        #expect(r.status == .ok)
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines.contains(where: { $0.hasPrefix("  e2e_latency ") && $0.contains("p50 767 ms  p90 1.75 s  p99 2.40 s  (n=40)") }))
        #expect(lines.contains(where: { $0.contains(#"deployment_state{api_base="http://127.0.0.1:11434",litellm_model_name="ollama/llama3.1:latest"}"#) && $0.contains("2 complete outage") }))
        #expect(lines.contains(where: { $0.hasPrefix("  requests_total ") && $0.contains(" 40 ") }))
        let json = r.data?.serialized() ?? ""
        #expect(r.text.contains(key) == false)
        #expect(json.contains(key) == false)

        let denied = try run(["gateway"], config: config)
        #expect(denied.status == .error)
        #expect(denied.error == "metrics: GET \(server.baseURL)/metrics: HTTP 401 Unauthorized: Authentication Error, No api key passed in. (LiteLLM's /metrics needs the master key in $GATEWAY_KEY)")
    }

    @Test func llamaCppWithoutMetricsSaysHowToGetThem() throws {
        let server = try MetricsTestServer.litellmMetrics(key: "unused")   // answers 404 for other paths
        defer { server.stop() }
        let config = MetricsTestConfig.config([MetricsTestConfig.provider("py", .llamaCpp, server.baseURL + "/py/v1")])
        let r = try run([], config: config)
        #expect(r.status == .error)
        #expect(r.error == "metrics: GET \(server.baseURL)/py/metrics: HTTP 404 Not Found: Not Found (llama-server serves /metrics when started with --metrics; the Python server has none)")
    }

    @Test func gatewayFromThePortRegistry() throws {
        let key = "sk-master-abcdef"
        let server = try MetricsTestServer.litellmMetrics(key: key)
        defer { server.stop() }
        let here = SourceLocation(file: "ports.yaml", line: 1, column: 1)
        let config = MetricsTestConfig.config([], ports: [PortService(name: "litellm_gateway", port: server.port, proto: "http",
                                                                      required: true, serviceUnit: nil, healthCheck: nil, location: here)])
        let r = try run(["litellm_gateway", "total"], config: config, environment: ["LITELLM_MASTER_KEY": key])
        #expect(r.status == .ok)
        #expect(r.text.contains("total_tokens_total"))
    }

    @Test func downProviderIsAnErrorRowNotAFailureOfTheRest() throws {
        let server = try MetricsTestServer.fakeProvider(["--flavor", "vllm"])
        defer { server.stop() }
        let closedPort = try Self.unusedPort()
        let config = MetricsTestConfig.config([
            MetricsTestConfig.provider("up", .vllm, server.baseURL),
            MetricsTestConfig.provider("down", .llamaCpp, "http://127.0.0.1:\(closedPort)"),
            MetricsTestConfig.provider("off", .vllm, "http://127.0.0.1:\(closedPort)", status: .disabled),
        ])
        let r = try run([], config: config)
        #expect(r.status == .ok)
        #expect(r.field("provider_count") == .int(2))
        try ReportAgreement.check(r, ["provider_count", "errors", "providers"], report: ReportShape(MetricsScrapeReport.self))
        #expect(r.field("errors") == .int(1))
        #expect(r.text.contains("down (llama.cpp) http://127.0.0.1:\(closedPort)/metrics\n  error: GET http://127.0.0.1:\(closedPort)/metrics: connection failed:"))
        let only = try run(["down"], config: config)
        #expect(only.status == .error)
        #expect(throws: UsageError.self) { try run(["nope", "x"], config: config) }
        do { _ = try run(["dwn", "x"], config: config) } catch let e as UsageError {
            #expect(e.message == "metrics: no provider named 'dwn' — did you mean 'down'?")
        }
    }

    @Test func ollamaFromApiPs() throws {
        let server = try MetricsTestServer.fakeProvider()
        defer { server.stop() }
        try chat(server, path: "/api/chat")
        let config = MetricsTestConfig.config([MetricsTestConfig.provider("ollama", .ollama, server.baseURL)])
        // What aish measured earlier goes into the figures: two requests, one of them a cold load.
        let db = TailRequestsTests.temporaryDB()
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + s) } }
        var cold = TailRequestsTests.attempt("llama3", provider: "ollama", totalMs: 4000)
        cold.serverTimings = .object([("load_duration", .int(3_200_000_000))])
        try SessionLog(path: db).insertAttempts([cold, TailRequestsTests.attempt("llama3", provider: "ollama", totalMs: 1000),
                                                 TailRequestsTests.attempt("llama3", provider: "other", totalMs: 10)])
        let r = try run(["ollama"], config: config, db: db)
        #expect(r.status == .ok)
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("ollama (ollama) \(server.baseURL)/api/ps"))
        #expect(lines.contains(where: { $0.hasPrefix("  models_loaded ") && $0.contains(" 1 ") }))
        #expect(lines.contains(where: { $0.contains(#"loaded_model{model="fake-model"}"#) && $0.contains("4.8 GiB, VRAM 4.8 GiB (100%), unloads in ") }))
        let rows = Self.words(r.text)
        #expect(rows.contains(["requests_logged", "2", "session", "log,", "last", "hour"]))
        #expect(rows.contains(["cold_loads_logged", "1", "session", "log,", "last", "hour"]))
        #expect(rows.contains(where: { $0.first == "e2e_latency_logged" && Array($0[1...3]) == ["p50", "2.50", "s"] }))
    }

    @Test func malformedScrapeNamesLineAndColumn() throws {
        let text = "ok 1\nbad{a=\"x\" 2\n"
        let target = ScrapeTarget(name: "x", type: .vllm, url: "http://h/metrics", kind: .prometheus, keyVariable: nil, connectTimeout: 1)
        let response = HTTPResponse(head: HTTPResponseHead(status: 200, headers: []), body: Array(text.utf8),
                                    timings: TransferTimings(headers: 0, firstByte: 0, total: 0.001, bodyBytes: text.utf8.count))
        let r = MetricsScraper.interpret(target, .success(response), at: Date())
        #expect(r.error == "http://h/metrics:2:11: expected ',' or '}' after the value of label 'a'")
    }

    @Test func metricsURLs() {
        #expect(ScrapeTarget.rootURL("http://h:8001/v1") == "http://h:8001")
        #expect(ScrapeTarget.rootURL("http://h:8001/v1/") == "http://h:8001")
        #expect(ScrapeTarget.rootURL("http://h/vllm/v1") == "http://h/vllm")
        #expect(ScrapeTarget.rootURL("http://h:8080") == "http://h:8080")
    }

    /// The text's lines split into words, for comparisons that do not depend on column widths.
    static func words(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    static func series(_ r: CommandResult, provider: Int, named name: String) -> JSONValue? {
        guard case let .array(items)? = r.data?["providers"]?[provider]?["series"] else { return nil }
        return items.first(where: { $0["name"]?.stringValue == name })
    }

    static func unusedPort() throws -> Int { FreePort.unused() }
}
