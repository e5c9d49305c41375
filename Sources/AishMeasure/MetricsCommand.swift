import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishSessionLog
import AishTelemetry

/// `metrics [PROVIDER] [FILTER] [--raw]`: one scrape of each provider's /metrics, shown
/// under normalised names (or raw), recorded as metric samples in the session log.
package enum MetricsCommand {
    package static let spec = CommandSpec(
        name: "metrics",
        summary: "scrape Prometheus /metrics (vLLM, llama.cpp, LiteLLM) and show key series under normalised names",
        help: """
            Reads /metrics of each active provider (or of PROVIDER) once, in parallel, and shows
            the key series under one set of names whatever the server: requests_running,
            requests_waiting, kv_cache_usage, ttft / e2e_latency / inter_token_latency (p50, p90,
            p99 from the histogram buckets), token totals, and LiteLLM's deployment_state.
            Both spellings of renamed series are read (vLLM gpu_cache_usage_perc and
            kv_cache_usage_perc). Ollama has no /metrics: its loaded models, their size, VRAM
            share and unload time come from /api/ps, and its request count, errors, TTFT,
            latency, tokens/s and cold loads of the last hour from the session log.
            FILTER is a regular expression (or plain text) matched against the series names.
            --raw prints every sample as scraped. LiteLLM needs its master key: from the
            provider's env_var, else $LITELLM_MASTER_KEY. Values are recorded in the session log.
            --prom reads the same series from Prometheus instead (monitoring.prometheus in
            ports.yaml), over the window of --since (default 1h), for every instance it scrapes,
            grouped by host with the targets of a host side by side: gauges as their last value,
            maximum and a trend line, counters as per-second rates, histograms as p50/p90/p99
            over the whole window. PROVIDER may then also be a job, an instance or a host.
            --verbose shows the PromQL. The fields below are those of a scrape; with --prom the
            fields are prometheus, window_ms (ms), step_ms (ms), targets, errors and promql.
            """,
        options: [
            OptionSpec(["--raw"], help: "every sample as scraped, not only the key series", alternatives: "source"),
            OptionSpec(["--prom"], help: "read the series from Prometheus (monitoring.prometheus) over a window, for every instance it scrapes",
                       alternatives: "source"),
            OptionSpec(["--since"], .duration("DURATION"), help: "with --prom: the window, back from now (default 1h)", goesWith: "--prom"),
            OptionSpec(["--verbose"], help: "with --prom: show the PromQL sent", goesWith: "--prom"),
        ],
        positionals: [
            PositionalSpec(name: "PROVIDER", help: "one provider (default: every active one); with --prom also a job, an instance or a host", optional: true,
                           completion: .dynamic({ ctx in (try? ctx.config().providers.providers.map(\.name)) ?? [] })),
            PositionalSpec(name: "FILTER", help: "regular expression or text matched against series names", optional: true),
        ],
        report: ReportShape(MetricsScrapeReport.self),
        otherReports: [ReportShape(PrometheusMetricsReport.self, mode: "metrics --prom")],
        run: { inv, ctx in try run(inv, ctx) })

    /// `config` is given by tests; else the session's configuration.
    package static func run(_ inv: Invocation, _ ctx: ShellContext, config given: AishConfig? = nil) throws -> CommandResult {
        let config = try given ?? ctx.config()
        if inv.flag("--prom") { return try PrometheusMetricsCommand.run(inv, ctx, config: config) }
        for o in ["--since", "--verbose"] where inv.options[o] != nil {
            throw UsageError(message: "metrics: \(o) goes with --prom", usage: spec.usage)
        }
        var providerName: String?
        var filterText: String?
        let known = Set(config.providers.providers.map(\.name) + config.ports.services.map(\.name))
        if inv.positionals.count == 2 {
            providerName = inv.positionals[0]
            filterText = inv.positionals[1]
        } else if let only = inv.positionals.first {
            if known.contains(only) { providerName = only } else { filterText = only }
        }
        let targets = try ScrapeTarget.targets(in: config, only: providerName)
        if targets.isEmpty { throw CommandFailure("metrics: no active provider to scrape") }
        let filter = SeriesFilter(filterText)
        var results = MetricsScraper.scrape(targets, environment: ctx.environment, interrupt: ctx.interrupt)
        if ctx.interrupt.isRaised { throw CommandFailure("metrics: cancelled") }
        let logPath = SessionLogAccess.resolvePath(ctx.options.databasePath, environment: ctx.environment)
        for i in results.indices where results[i].target.kind == .ollamaPS && results[i].ok {
            results[i].readings += LoggedProviderFigures.readings(provider: results[i].target.name, logPath: logPath)
        }
        ctx.recorder?.recordMetricSamples(results.flatMap(MetricsReport.samples))
        var report = MetricsScrapeReport(results, raw: inv.flag("--raw"), filter: filter)
        if let filterText, !results.contains(where: { MetricsReport.matchCount($0, raw: inv.flag("--raw"), filter: filter) > 0 }),
            let s = Suggest.closest(to: filterText, among: Array(known))
        {
            report.hint = "no series match '\(filterText)' (did you mean provider '\(s)'?)"
        }
        return CommandResult(report: report)
    }
}

/// What `metrics` (a direct scrape) prints, as text or JSON, and what `expect` reads: the
/// counts first, then each provider's key series (or, with --raw, every sample).
package struct MetricsScrapeReport: CommandReport {
    package struct Sample: Encodable, Sendable {
        package var name: String
        package var labels: String
        /// A number, or "NaN", "+Inf", "-Inf" as written.
        package var value: JSONValue
    }

    package struct Entry: Encodable, Sendable {
        package var provider: String
        package var type: String
        package var backend: String
        package var url: String
        package var ok: Bool
        package var latencyMs: Double?
        package var error: String?
        package var samples: [Sample]?
        package var series: [JSONValue]?

        package enum CodingKeys: String, CodingKey {
            case provider, type, backend, url, ok, latencyMs = "latency_ms", error, samples, series
        }
    }

    package var providerCount: Int
    package var errors: Int
    package var providers: [Entry]

    // Not encoded: what the text is drawn from.
    package var results: [ScrapeResult]
    package var raw: Bool
    package var filter: SeriesFilter
    /// A line after the output (a FILTER that looks like a misspelt provider).
    package var hint: String?

    package enum CodingKeys: String, CodingKey { case providerCount = "provider_count", errors, providers }

    package init(_ results: [ScrapeResult], raw: Bool, filter: SeriesFilter) {
        self.results = results
        self.raw = raw
        self.filter = filter
        providerCount = results.count
        errors = results.filter { !$0.ok }.count
        providers = results.map { r in
            var e = Entry(provider: r.target.name, type: r.target.type.rawValue, backend: r.backend.rawValue,
                          url: r.target.url, ok: r.ok, latencyMs: r.latencyMs.map { LatencySummary.round($0, 2) })
            if let error = r.error {
                e.error = error
            } else if raw, let x = r.exposition {
                e.samples = x.allSamples.filter { filter.matches($0.name) }.map { s in
                    Sample(name: s.name, labels: s.labels.canonicalText,
                           value: s.value.isFinite ? .double(s.value) : .string(PrometheusText.formatValue(s.value)))
                }
            } else {
                e.series = r.readings.filter { filter.matches($0.name, $0.source) }.map(\.json)
            }
            return e
        }
    }

    /// Fails only when no provider could be read.
    package var failureMessage: String? {
        guard errors == providerCount else { return nil }
        return "metrics: " + (results.count == 1 ? (results[0].error ?? "scrape failed") : "every scrape failed")
    }

    package static let fields = [
        ReportField("provider_count", "providers scraped"),
        ReportField("errors", "providers that could not be read"),
        ReportField("providers", "per provider: provider, type, backend, url, ok, latency_ms, and error, series (key series) or samples (--raw)"),
    ]

    package static var example: MetricsScrapeReport {
        let target = ScrapeTarget(name: "vllm", type: .vllm, url: "http://127.0.0.1:8001/metrics", kind: .prometheus,
                                  keyVariable: nil, connectTimeout: 1)
        return MetricsScrapeReport([ScrapeResult(target: target, backend: .vllm, exposition: nil, readings: [], error: nil,
                                                 latencyMs: 3, at: Date(timeIntervalSince1970: 0))],
                                   raw: false, filter: SeriesFilter(nil))
    }

    package func renderText() -> String {
        var text = ""
        for r in results {
            text += MetricsReport.header(r)
            if let error = r.error {
                text += "  error: \(error)\n"
            } else if raw, let e = r.exposition {
                let samples = e.allSamples.filter { filter.matches($0.name) }
                for s in samples {
                    text += "  \(s.name)\(s.labels.canonicalText) \(PrometheusText.formatValue(s.value))"
                    if let ts = s.timestampMs { text += " \(ts)" }
                    text += "\n"
                }
                if samples.isEmpty { text += "  (no sample matches)\n" }
            } else {
                let readings = r.readings.filter { filter.matches($0.name, $0.source) }
                if readings.isEmpty {
                    text += r.readings.isEmpty ? "  (no known series; try --raw)\n" : "  (no series matches)\n"
                } else {
                    var table = ReportTable(["SERIES", "VALUE", "SOURCE"])
                    for k in readings { table.add([k.name + k.labels, k.formatted, k.source]) }
                    text += table.render(indent: "  ")
                }
            }
        }
        if let hint { text += hint + "\n" }
        return text
    }
}

/// Pieces of the scrape's output that `tail metrics` shares.
package enum MetricsReport {
    package static func header(_ r: ScrapeResult) -> String {
        var h = "\(r.target.name) (\(r.backend.rawValue)) \(r.target.url)"
        if let ms = r.latencyMs { h += "  \(Format.milliseconds(ms))" }
        return h + "\n"
    }

    package static func matchCount(_ r: ScrapeResult, raw: Bool, filter: SeriesFilter) -> Int {
        if raw { return r.exposition?.allSamples.filter { filter.matches($0.name) }.count ?? 0 }
        return r.readings.filter { filter.matches($0.name, $0.source) }.count
    }

    /// What goes to the session log: each key series' value; histograms as p50/p90/p99 in
    /// seconds and their observation count.
    package static func samples(_ r: ScrapeResult) -> [MetricSampleRecord] {
        var out: [MetricSampleRecord] = []
        for k in r.readings {
            if k.shape == .histogram {
                for (suffix, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
                    if let v = k.quantile(q) {
                        out.append(MetricSampleRecord(provider: r.target.name, name: "\(k.name)_\(suffix)_seconds",
                                                      labels: k.labels, value: v, at: r.at))
                    }
                }
                if let c = k.count {
                    out.append(MetricSampleRecord(provider: r.target.name, name: "\(k.name)_count", labels: k.labels,
                                                  value: c, at: r.at))
                }
            } else if let v = k.value {
                out.append(MetricSampleRecord(provider: r.target.name, name: k.name, labels: k.labels, value: v, at: r.at))
            }
        }
        return out
    }
}
