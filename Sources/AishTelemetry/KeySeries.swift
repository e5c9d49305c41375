import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// Which server produced a scrape; decides nothing but the label shown, since the key
/// series below are looked up by every known spelling at once.
package enum MetricsBackend: String, Sendable {
    case vllm
    case llamaCpp = "llama.cpp"
    case litellm
    case ollama
    case generic

    package init(providerType: ProviderType, exposition: MetricsExposition?) {
        switch providerType {
        case .vllm: self = .vllm
        case .llamaCpp: self = .llamaCpp
        case .litellm: self = .litellm
        case .ollama: self = .ollama
        default: self = exposition.map(MetricsBackend.detect) ?? .generic
        }
    }

    /// From the series prefixes: `vllm:`, `llamacpp:`, `litellm_`.
    package static func detect(_ e: MetricsExposition) -> MetricsBackend {
        var counts: [MetricsBackend: Int] = [:]
        for f in e.families {
            if f.name.hasPrefix("vllm:") { counts[.vllm, default: 0] += 1 }
            else if f.name.hasPrefix("llamacpp:") { counts[.llamaCpp, default: 0] += 1 }
            else if f.name.hasPrefix("litellm_") { counts[.litellm, default: 0] += 1 }
        }
        return counts.max(by: { $0.value < $1.value })?.key ?? .generic
    }
}

/// How a key series is read from the samples that carry it.
package enum KeySeriesShape: Sendable, Equatable {
    case gaugeSum            // summed over label sets (requests running on every engine)
    case gaugeMax            // highest over label sets (KV-cache usage of the fullest engine)
    case counterSum          // summed counter; `tail` shows its rate
    case histogram           // buckets summed by `le`, shown as p50/p90/p99
    case perLabelSet([String])   // one reading per value of these labels (deployment state)
}

package enum KeySeriesUnit: String, Sendable {
    case count, ratio, seconds, tokensPerSecond, state, bytes
}

/// A normalised series: one name for what vLLM, llama.cpp and LiteLLM each spell their own
/// way. `rawNames` lists the sample names (for histograms, the base name) in order of
/// preference; the first present in a scrape is used, so both an old and a renamed spelling
/// (vLLM's gpu_cache_usage_perc → kv_cache_usage_perc) are read.
package struct KeySeriesDefinition: Sendable {
    package var name: String
    package var meaning: String
    package var shape: KeySeriesShape
    package var unit: KeySeriesUnit
    package var rawNames: [String]
}

package enum KeySeriesCatalog {
    package static let all: [KeySeriesDefinition] = [
        .init(name: "requests_running", meaning: "requests being processed", shape: .gaugeSum, unit: .count,
              rawNames: ["vllm:num_requests_running", "llamacpp:requests_processing"]),
        .init(name: "requests_waiting", meaning: "requests queued", shape: .gaugeSum, unit: .count,
              rawNames: ["vllm:num_requests_waiting", "llamacpp:requests_deferred"]),
        .init(name: "kv_cache_usage", meaning: "KV-cache in use (fullest engine)", shape: .gaugeMax, unit: .ratio,
              rawNames: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "llamacpp:kv_cache_usage_ratio"]),
        .init(name: "ttft", meaning: "time to first token", shape: .histogram, unit: .seconds,
              rawNames: ["vllm:time_to_first_token_seconds", "litellm_llm_api_time_to_first_token_metric"]),
        .init(name: "e2e_latency", meaning: "end-to-end request latency", shape: .histogram, unit: .seconds,
              rawNames: ["vllm:e2e_request_latency_seconds", "litellm_request_total_latency_metric"]),
        .init(name: "inter_token_latency", meaning: "gap between output tokens", shape: .histogram, unit: .seconds,
              rawNames: ["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"]),
        .init(name: "queue_time", meaning: "time waiting before processing", shape: .histogram, unit: .seconds,
              rawNames: ["vllm:request_queue_time_seconds"]),
        .init(name: "llm_api_latency", meaning: "latency of the backend call behind the gateway", shape: .histogram,
              unit: .seconds, rawNames: ["litellm_llm_api_latency_metric"]),
        .init(name: "requests_total", meaning: "requests finished", shape: .counterSum, unit: .count,
              rawNames: ["vllm:request_success_total", "litellm_proxy_total_requests_metric_total",
                         "litellm_requests_metric_total"]),
        .init(name: "requests_failed_total", meaning: "requests failed", shape: .counterSum, unit: .count,
              rawNames: ["litellm_proxy_failed_requests_metric_total"]),
        .init(name: "prompt_tokens_total", meaning: "prompt tokens processed", shape: .counterSum, unit: .count,
              rawNames: ["vllm:prompt_tokens_total", "llamacpp:prompt_tokens_total",
                         "litellm_input_tokens_metric_total", "litellm_input_tokens_total"]),
        .init(name: "generation_tokens_total", meaning: "output tokens generated", shape: .counterSum, unit: .count,
              rawNames: ["vllm:generation_tokens_total", "llamacpp:tokens_predicted_total",
                         "litellm_output_tokens_metric_total", "litellm_output_tokens_total"]),
        .init(name: "total_tokens_total", meaning: "prompt + output tokens", shape: .counterSum, unit: .count,
              rawNames: ["litellm_total_tokens_metric_total", "litellm_total_tokens_total"]),
        .init(name: "prompt_tokens_per_second", meaning: "average prompt throughput", shape: .gaugeMax,
              unit: .tokensPerSecond, rawNames: ["llamacpp:prompt_tokens_seconds"]),
        .init(name: "generation_tokens_per_second", meaning: "average generation throughput", shape: .gaugeMax,
              unit: .tokensPerSecond, rawNames: ["llamacpp:predicted_tokens_seconds"]),
        .init(name: "preemptions_total", meaning: "requests preempted", shape: .counterSum, unit: .count,
              rawNames: ["vllm:num_preemptions_total"]),
        .init(name: "deployment_state", meaning: "0 healthy, 1 partial outage, 2 complete outage",
              shape: .perLabelSet(["litellm_model_name", "api_base"]), unit: .state,
              rawNames: ["litellm_deployment_state"]),
    ]

    /// Reads every key series present in a scrape, in catalog order.
    package static func read(_ e: MetricsExposition) -> [KeyReading] {
        var out: [KeyReading] = []
        for def in all {
            for raw in def.rawNames {
                let readings = read(def, raw: raw, from: e)
                if !readings.isEmpty {
                    out.append(contentsOf: readings)
                    break
                }
            }
        }
        return out
    }

    private static func read(_ def: KeySeriesDefinition, raw: String, from e: MetricsExposition) -> [KeyReading] {
        func reading(_ value: Double?, labels: String = "") -> KeyReading {
            KeyReading(name: def.name, source: raw, shape: def.shape, unit: def.unit, labels: labels, value: value)
        }
        switch def.shape {
        case .gaugeSum, .counterSum:
            let samples = e.samples(named: raw).filter { !$0.value.isNaN }
            if samples.isEmpty { return [] }
            return [reading(samples.reduce(0) { $0 + $1.value })]
        case .gaugeMax:
            let samples = e.samples(named: raw).filter { !$0.value.isNaN }
            guard let m = samples.map(\.value).max() else { return [] }
            return [reading(m)]
        case .histogram:
            let series = e.histogram(named: raw)
            if series.isEmpty { return [] }
            var r = reading(nil)
            r.buckets = HistogramQuantile.merge(series.map(\.buckets))
            r.count = series.compactMap(\.count).reduce(0, +)
            r.sum = series.compactMap(\.sum).reduce(0, +)
            return [r]
        case let .perLabelSet(keys):
            return e.samples(named: raw).map { s in
                let picked = keys.compactMap { k in s.labels[label: k].map { MetricLabel(name: k, value: $0) } }
                return reading(s.value, labels: (picked.isEmpty ? s.labels : picked).canonicalText)
            }
        }
    }
}

/// The value of one key series in one scrape.
package struct KeyReading: Sendable {
    package var name: String
    package var source: String          // the raw series it was read from
    package var shape: KeySeriesShape
    package var unit: KeySeriesUnit
    package var labels: String          // "" or `{api_base="…",litellm_model_name="…"}` for per-label readings
    package var value: Double?
    package var buckets: [HistogramBucket]? = nil
    package var count: Double? = nil
    package var sum: Double? = nil
    /// Replaces the formatted value (Ollama's loaded models).
    package var display: String? = nil

    package init(name: String, source: String, shape: KeySeriesShape, unit: KeySeriesUnit, labels: String,
                 value: Double? = nil, buckets: [HistogramBucket]? = nil, count: Double? = nil, sum: Double? = nil,
                 display: String? = nil) {
        self.name = name
        self.source = source
        self.shape = shape
        self.unit = unit
        self.labels = labels
        self.value = value
        self.buckets = buckets
        self.count = count
        self.sum = sum
        self.display = display
    }

    package var key: String { name + labels }
    package var isCounter: Bool { shape == .counterSum }

    package func quantile(_ q: Double) -> Double? {
        guard let buckets, (count ?? 1) > 0 else { return nil }
        let v = HistogramQuantile.quantile(q, buckets: buckets)
        return v.isNaN ? nil : v
    }

    /// The value as a person reads it: "43.1%", "p50 120 ms  p90 480 ms  p99 950 ms  (n=1234)".
    package var formatted: String {
        if let display { return display }
        switch shape {
        case .histogram:
            guard let p50 = quantile(0.5), let p90 = quantile(0.9), let p99 = quantile(0.99) else { return "no observations" }
            return "p50 \(Format.seconds(p50))  p90 \(Format.seconds(p90))  p99 \(Format.seconds(p99))  (n=\(Format.count(count ?? 0)))"
        default:
            guard let value else { return "-" }
            return Format.value(value, unit: unit)
        }
    }

    /// JSON for `metrics --json`.
    package var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("name", .string(name)), ("source", .string(source))]
        if !labels.isEmpty { pairs.append(("labels", .string(labels))) }
        switch shape {
        case .histogram:
            for (k, q) in [("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)] {
                pairs.append((k, quantile(q).map { .double(LatencySummary.round($0 * 1000, 2)) } ?? .null))
            }
            pairs.append(("count", count.map { JSONValue.double($0) } ?? .null))
            if let sum, let count, count > 0 { pairs.append(("mean_ms", .double(LatencySummary.round(sum / count * 1000, 2)))) }
        default:
            pairs.append(("value", value.map { $0.isFinite ? JSONValue.double($0) : .string(PrometheusText.formatValue($0)) } ?? .null))
            if unit == .state, let value { pairs.append(("state", .string(Format.deploymentState(value)))) }
            if let display { pairs.append(("text", .string(display))) }
        }
        return .object(pairs)
    }
}

/// How figures are printed across the metrics commands.
package enum Format {
    package static func seconds(_ s: Double) -> String { milliseconds(s * 1000) }

    package static func milliseconds(_ ms: Double) -> String { DurationText.milliseconds(ms, fine: true) }

    package static func count(_ v: Double) -> String {
        if !v.isFinite { return PrometheusText.formatValue(v) }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return cFormat("%.2f", v)
    }

    package static func rate(_ v: Double) -> String {
        if v >= 100 { return cFormat("%.0f/s", v) }
        if v >= 10 { return cFormat("%.1f/s", v) }
        return cFormat("%.2f/s", v)
    }

    package static func bytes(_ v: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var x = v
        var i = 0
        while x >= 1024, i < units.count - 1 { x /= 1024; i += 1 }
        return i == 0 ? "\(Int(x)) B" : cFormat("%.1f", x) + " " + units[i]
    }

    package static func deploymentState(_ v: Double) -> String {
        switch v {
        case 0: return "healthy"
        case 1: return "partial outage"
        case 2: return "complete outage"
        default: return "unknown (\(count(v)))"
        }
    }

    package static func value(_ v: Double, unit: KeySeriesUnit) -> String {
        switch unit {
        case .count: return count(v)
        case .ratio: return v.isFinite ? cFormat("%.1f%%", v * 100) : PrometheusText.formatValue(v)
        case .seconds: return seconds(v)
        case .tokensPerSecond: return v.isFinite ? cFormat("%.1f tok/s", v) : PrometheusText.formatValue(v)
        case .state: return "\(count(v)) \(deploymentState(v))"
        case .bytes: return bytes(v)
        }
    }
}

extension Format {
    /// "4m 12s", "2h 5m", "3d 4h".
    package static func age(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86400)d \(s % 86400 / 3600)h"
    }
}
