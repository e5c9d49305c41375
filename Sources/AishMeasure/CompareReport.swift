import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSessionLog
import AishTelemetry

/// What `compare` prints, as text or JSON, and what `expect` reads: the totals and the
/// slowest model's medians first, then the run's parameters and each model's figures.
/// The text, JSON (also the run's summary in the log) and CSV forms are built here.
package struct CompareReport: CommandReport {
    package var modelCount: Int
    package var requests: Int
    package var errors: Int
    package var wallMs: Double
    package var tokens: Int
    /// The slowest model's medians.
    package var ttft: Double?
    package var latency: Double?
    package var parameters: JSONValue
    package var models: JSONValue
    package var serverSide: ServerSideView?

    // Not encoded: what the text is drawn from.
    package var settings: CompareRun.Settings
    package var results: [CompareRun.ModelResult]
    package var wallSeconds: Double
    package var barChart: Bool
    package var verbose: Bool
    package var failure: String?

    package init(settings: CompareRun.Settings, results: [CompareRun.ModelResult], wallSeconds: Double,
         serverSide: ServerSideView? = nil, verbose: Bool = false, barChart: Bool = false, failure: String? = nil) {
        let summaries = results.map(\.summary)
        modelCount = results.count
        requests = summaries.map(\.requests).reduce(0, +)
        errors = summaries.map(\.errors).reduce(0, +)
        wallMs = LatencySummary.round(wallSeconds * 1000, 1)
        tokens = summaries.map(\.outputTokens).reduce(0, +)
        ttft = summaries.compactMap { $0.ttft?.p50 }.max().map { LatencySummary.round($0, 2) }
        latency = summaries.compactMap { $0.latency?.p50 }.max().map { LatencySummary.round($0, 2) }
        let summary = Self.json(settings, results, wallSeconds: wallSeconds)
        parameters = summary["parameters"] ?? .null
        models = summary["models"] ?? .array([])
        self.serverSide = serverSide
        self.settings = settings
        self.results = results
        self.wallSeconds = wallSeconds
        self.barChart = barChart
        self.verbose = verbose
        self.failure = failure
    }

    package enum CodingKeys: String, CodingKey {
        case modelCount = "model_count", requests, errors, wallMs = "wall_ms", tokens, ttft = "ttft_ms", latency = "latency_ms", parameters, models
        case serverSide = "server_side"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelCount, forKey: .modelCount)
        try c.encode(requests, forKey: .requests)
        try c.encode(errors, forKey: .errors)
        try c.encode(wallMs, forKey: .wallMs)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(ttft, forKey: .ttft)
        try c.encode(latency, forKey: .latency)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(models, forKey: .models)
        // Only asked for with --server-side.
        if let serverSide { try c.encode(serverSide.json, forKey: .serverSide) }
    }

    package var failureMessage: String? { failure }

    package static let fields = [
        ReportField("model_count", "models compared"),
        ReportField("requests", "measured requests, all models (warm-ups not counted)"),
        ReportField("errors", "failed measured requests"),
        ReportField("wall_ms", "wall time of the run", unit: "ms"),
        ReportField("tokens", "output tokens of the successful requests"),
        ReportField("ttft_ms", "the slowest model's median time to first token; null without a success", unit: "ms"),
        ReportField("latency_ms", "the slowest model's median end-to-end latency; null without a success", unit: "ms"),
        ReportField("parameters", "models, n, warmup, parallel, prompt, max_tokens"),
        ReportField("models", "per model: providers, requests, ok, errors, error_kinds, ttft_ms, itl_ms, icl_ms, tpot_ms, latency_ms and tokens_per_second (count, p50, p90, p99, mean, min, max), output_tokens, tokens_counted_by, tokens_per_chunk, token_mismatch, cold_loads"),
        ReportField("server_side", "with --server-side: what Prometheus recorded over the run (prometheus, error, targets)"),
    ]

    package static var example: CompareReport {
        let settings = CompareRun.Settings(models: ["a"], requests: 1, warmup: 0, parallel: false, prompt: "hi", maxTokens: 8)
        return CompareReport(settings: settings, results: [CompareRun.ModelResult(model: "a", samples: [])], wallSeconds: 1,
                             serverSide: ServerSideView(prometheus: "http://127.0.0.1:9090", start: Date(timeIntervalSince1970: 0),
                                                        end: Date(timeIntervalSince1970: 1), rows: [], error: nil, promql: []))
    }

    package func renderText() -> String {
        let mode = settings.parallel ? "in parallel" : "one after another"
        var text = "compare: \(settings.requests) request\(settings.requests == 1 ? "" : "s") per model"
        if settings.warmup > 0 { text += " after \(settings.warmup) warm-up" }
        text += ", max_tokens \(settings.maxTokens ?? 0), \(mode), wall \(Format.milliseconds(wallSeconds * 1000))\n"
        text += Self.table(results)
        if barChart { text += "\n" + Self.barChart(results) }
        let notes = Self.notes(results)
        if !notes.isEmpty { text += "\n" + notes }
        if let serverSide { text += "\n" + serverSide.text(verbose: verbose) }
        return text
    }

    package static func table(_ results: [CompareRun.ModelResult]) -> String {
        var t = ReportTable(["MODEL", "OK", "ERR", "MEASURE", "P50", "P90", "P99"],
                          alignments: [.left, .right, .right, .left, .right, .right, .right])
        for r in results {
            let s = r.summary
            let rows: [(String, LatencySummary?, (Double) -> String)] = [
                ("ttft", s.ttft, Format.milliseconds), ("itl", s.itl, Format.milliseconds), ("icl", s.icl, Format.milliseconds),
                ("end-to-end", s.latency, Format.milliseconds), ("tokens/s", s.tokensPerSecond, { cFormat("%.1f", $0) }),
            ]
            for (i, row) in rows.enumerated() {
                let head = i == 0 ? [r.model + (r.coldLoads.isEmpty ? "" : " *"), "\(s.ok)", "\(s.errors)"] : ["", "", ""]
                let cells = row.1.map { [row.2($0.p50), row.2($0.p90), row.2($0.p99)] } ?? ["-", "-", "-"]
                t.add(head + [row.0] + cells)
            }
        }
        return t.render()
    }

    /// Horizontal bars of each model's medians (terminal only).
    package static func barChart(_ results: [CompareRun.ModelResult], width: Int = 30) -> String {
        let charts: [(String, (SampleSummary) -> Double?, (Double) -> String)] = [
            ("median TTFT", { $0.ttft?.p50 }, Format.milliseconds),
            ("median end-to-end", { $0.latency?.p50 }, Format.milliseconds),
            ("median tokens/s", { $0.tokensPerSecond?.p50 }, { cFormat("%.1f", $0) }),
        ]
        let nameWidth = results.map(\.model.count).max() ?? 0
        var out = ""
        for (title, pick, format) in charts {
            let values = results.map { pick($0.summary) }
            guard let maximum = values.compactMap({ $0 }).max(), maximum > 0 else { continue }
            out += title + "\n"
            for (r, v) in zip(results, values) {
                let name = r.model.padded(toLength: nameWidth)
                let bar = v.map { BlockDrawing.bar($0, maximum: maximum, width: width) } ?? ""
                let pad = String(repeating: " ", count: max(0, width - bar.count))
                out += "  \(name)  \(bar)\(pad) \(v.map(format) ?? "no data")\n"
            }
        }
        return out
    }

    package static func notes(_ results: [CompareRun.ModelResult]) -> String {
        var out = ""
        for r in results {
            if !r.coldLoads.isEmpty { out += "* \(r.model): cold load (\(r.coldLoads.joined(separator: "; ")))\n" }
            let s = r.summary
            if s.cacheHits > 0 {
                out += "\(r.model): \(s.cacheHits) of \(s.ok) answered from the gateway's response cache "
                    + "(counted in OK, left out of the timings)\n"
            }
            if let note = s.tokens.note(r.model) { out += note + "\n" }
            if s.errors > 0 {
                out += "\(r.model): \(s.errors) of \(s.requests) failed: \(s.errorKindsText)"
                if let first = r.measured.first(where: { !$0.ok })?.error { out += " — first: \(first)" }
                out += "\n"
            }
        }
        return out
    }

    package static func json(_ settings: CompareRun.Settings, _ results: [CompareRun.ModelResult], wallSeconds: Double) -> JSONValue {
        .object([
            ("parameters", parameters(settings)),
            ("wall_ms", .double(LatencySummary.round(wallSeconds * 1000, 1))),
            ("models", .array(results.map { r in
                var pairs: [(String, JSONValue)] = [("model", .string(r.model))]
                let providers = Array(Set(r.measured.compactMap(\.provider))).sorted()
                pairs.append(("providers", .array(providers.map { .string($0) })))
                pairs += r.summary.json()
                pairs.removeAll { $0.0 == "cold_loads" }
                pairs.append(("cold_loads", .array(r.coldLoads.map { .string($0) })))
                return .object(pairs)
            })),
        ])
    }

    package static func parameters(_ s: CompareRun.Settings) -> JSONValue {
        .object([("models", .array(s.models.map { .string($0) })), ("n", .int(s.requests)), ("warmup", .int(s.warmup)),
                 ("parallel", .bool(s.parallel)), ("prompt", .string(s.prompt)),
                 ("max_tokens", s.maxTokens.map { .int($0) } ?? .null)])
    }

    /// One row per request, warm-ups included and marked.
    package static func csv(_ results: [CompareRun.ModelResult]) -> String {
        var out = "model,request,warmup,ok,error_kind,provider,backend_model,ttft_ms,itl_ms,icl_ms,tpot_ms,total_ms,output_tokens,tokens_counted_by,chunks,tokens_per_second,cold_load,started_at\n"
        func num(_ v: Double?) -> String { v.map { cFormat("%.3f", $0) } ?? "" }
        for r in results {
            for s in r.samples {
                let cells = [
                    r.model, "\(s.sequence + 1)", s.warmup ? "1" : "0", s.ok ? "1" : "0", s.errorKind ?? "",
                    s.provider ?? "", s.backendModel ?? "", num(s.ttftMs), num(s.itlMs), num(s.iclMs), num(s.tpotMs),
                    num(s.totalMs), s.outputTokens.map(String.init) ?? "", s.tokenSource?.rawValue ?? "", "\(s.chunks)",
                    num(s.tokensPerSecond), s.coldLoad ? "1" : "0",
                    UTCTime.iso8601(s.startedAt, milliseconds: true),
                ]
                out += cells.map(LogFormat.csvField).joined(separator: ",") + "\n"
            }
        }
        return out
    }
}
