import Foundation
import Testing
@testable import AishBase
@testable import AishTelemetry

@Suite struct KeySeriesTests {
    private func readings(_ fixture: String) throws -> [String: KeyReading] {
        let e = try PrometheusText.parse(try MetricsFixtures.text(fixture), source: fixture)
        var out: [String: KeyReading] = [:]
        for r in KeySeriesCatalog.read(e) { out[r.key] = r }
        return out
    }

    @Test func vllmV1() throws {
        let r = try readings("vllm-v1.prom")
        #expect(r["requests_running"]?.value == 3)
        #expect(r["requests_running"]?.source == "vllm:num_requests_running")
        #expect(r["requests_waiting"]?.value == 1)
        #expect(r["kv_cache_usage"]?.source == "vllm:kv_cache_usage_perc")
        #expect(r["kv_cache_usage"]?.formatted == "43.0%")
        #expect(r["prompt_tokens_total"]?.value == 48213)
        #expect(r["generation_tokens_total"]?.value == 91877)
        #expect(r["requests_total"]?.value == 402, "summed over finished_reason")
        #expect(r["ttft"]?.formatted == "p50 156 ms  p90 438 ms  p99 1.00 s  (n=400)")
        #expect(r["inter_token_latency"]?.source == "vllm:inter_token_latency_seconds")
        #expect(r["e2e_latency"]?.count == 400)
        #expect(r["deployment_state"] == nil)
    }

    @Test func vllmV0SpellingsAreRead() throws {
        let r = try readings("vllm-v0.prom")
        #expect(r["kv_cache_usage"]?.source == "vllm:gpu_cache_usage_perc")
        #expect(r["kv_cache_usage"]?.value == 0.0125)
        #expect(r["inter_token_latency"]?.source == "vllm:time_per_output_token_seconds")
        #expect(r["requests_running"]?.value == 0)
    }

    @Test func llamaCpp() throws {
        let r = try readings("llamacpp-native.prom")
        #expect(r["requests_running"]?.source == "llamacpp:requests_processing")
        #expect(r["requests_running"]?.value == 1)
        #expect(r["requests_waiting"]?.value == 2)
        #expect(r["prompt_tokens_total"]?.value == 6886)
        #expect(r["generation_tokens_total"]?.source == "llamacpp:tokens_predicted_total")
        #expect(r["generation_tokens_per_second"]?.formatted == "80.0 tok/s")
        #expect(r["kv_cache_usage"] == nil, "current llama-server builds no longer export it")
        let older = try readings("llamacpp-kvcache.prom")
        #expect(older["kv_cache_usage"]?.formatted == "2.6%")
    }

    @Test func litellm() throws {
        let r = try readings("litellm.prom")
        #expect(r["requests_total"]?.value == 40)
        #expect(r["requests_total"]?.source == "litellm_proxy_total_requests_metric_total")
        #expect(r["requests_failed_total"]?.value == 2)
        #expect(r["prompt_tokens_total"]?.value == 2380)
        #expect(r["generation_tokens_total"]?.value == 2431)
        #expect(r["total_tokens_total"]?.value == 4811)
        // Two models' buckets merged by `le`: p50 0.5 + 0.5·8/15, p90 1.5 + 0.5·2/4, p99 2 + 0.5·1.6/2.
        #expect(r["e2e_latency"]?.formatted == "p50 767 ms  p90 1.75 s  p99 2.40 s  (n=40)")
        #expect(r["ttft"]?.formatted == "p50 100 ms  p90 420 ms  p99 492 ms  (n=20)")
        let healthy = r[#"deployment_state{api_base="http://127.0.0.1:8080/v1",litellm_model_name="openai/llama-cpp-native"}"#]
        #expect(healthy?.formatted == "0 healthy")
        let down = r[#"deployment_state{api_base="http://127.0.0.1:11434",litellm_model_name="ollama/llama3.1:latest"}"#]
        #expect(down?.formatted == "2 complete outage")
    }

    @Test func backendDetection() throws {
        for (fixture, backend) in [("vllm-v1.prom", MetricsBackend.vllm), ("llamacpp-native.prom", .llamaCpp), ("litellm.prom", .litellm)] {
            let e = try PrometheusText.parse(try MetricsFixtures.text(fixture))
            #expect(MetricsBackend.detect(e) == backend)
            #expect(MetricsBackend(providerType: .openaiCompatible, exposition: e) == backend)
        }
        #expect(MetricsBackend.detect(try PrometheusText.parse("x 1")) == .generic)
    }

    @Test func jsonForms() throws {
        let r = try readings("vllm-v1.prom")
        #expect(r["ttft"]?.json.serialized() == #"{"name":"ttft","source":"vllm:time_to_first_token_seconds","p50_ms":156.25,"p90_ms":437.5,"p99_ms":1000,"count":400,"mean_ms":179.56}"#)
        #expect(r["requests_waiting"]?.json.serialized() == #"{"name":"requests_waiting","source":"vllm:num_requests_waiting","value":1}"#)
    }
}

@Suite struct TerminalDrawingTests {
    @Test func barsToTheEighth() {
        #expect(BlockDrawing.bar(10, maximum: 10, width: 4) == "████")
        #expect(BlockDrawing.bar(5, maximum: 10, width: 4) == "██")
        #expect(BlockDrawing.bar(1, maximum: 10, width: 4) == "▍")     // 3.2 eighths → 3
        #expect(BlockDrawing.bar(0.01, maximum: 10, width: 4) == "▏")  // never invisible
        #expect(BlockDrawing.bar(0, maximum: 10, width: 4) == "")
        #expect(BlockDrawing.bar(20, maximum: 10, width: 4) == "████")
    }

    @Test func sparklines() {
        #expect(BlockDrawing.sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█")
        #expect(BlockDrawing.sparkline([1, nil, 1]) == "▄ ▄")
        #expect(BlockDrawing.sparkline([0, 0]) == "▁▁")
        #expect(BlockDrawing.sparkline([nil, nil]) == "  ")
        #expect(BlockDrawing.sparkline([]) == "")
    }

    @Test func tablesPadAndAlign() {
        var t = ReportTable(["model", "p50"], alignments: [.left, .right])
        t.add(["llama3", "12 ms"])
        t.add(["qwen-long-name", "1.20 s"])
        #expect(t.render() == "model              p50\nllama3           12 ms\nqwen-long-name  1.20 s\n")
    }

    @Test func liveRegionRedrawsInPlace() {
        let sink = OutputSink(capturing: true)
        let region = LiveRegion(output: sink)
        region.draw("a\nb\n", width: nil)
        region.draw("c\nd", width: nil)
        region.draw("0123456789\ne\n", width: 6)
        #expect(sink.capturedText == "\u{1B}[Ja\nb\n\r\u{1B}[2A\u{1B}[Jc\nd\n\r\u{1B}[2A\u{1B}[J01234…\ne\n")
    }
}
