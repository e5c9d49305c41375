import FoundationEssentials
import Dispatch
import Glibc

/// Sends the same prompt to several models and keeps every request's timings. Models run
/// one after another, or each on its own thread with `parallel` (wall time ≈ the slowest
/// model, not the sum). The calling thread only waits and reports progress, so Ctrl-C is
/// noticed within 100 ms.
struct CompareRun {
    struct Settings: Sendable {
        var models: [String]
        var requests: Int
        var warmup: Int
        var parallel: Bool
        var prompt: String
        var maxTokens: Int?
    }

    struct ModelResult: Sendable {
        var model: String
        /// Warm-ups first, then the measured requests, in order.
        var samples: [RequestSample]
        var measured: [RequestSample] { samples.filter { !$0.warmup } }
        var summary: SampleSummary { SampleSummary(measured) }
        /// Cold loads seen in any request, warm-ups included (that is where they happen).
        var coldLoads: [String] { SampleSummary(samples).coldLoads }
    }

    var settings: Settings
    var requesters: [ModelRequester]

    /// `progress(done, total)` is called on the calling thread about ten times a second.
    func run(interrupt: InterruptFlag, progress: (Int, Int) -> Void) -> (results: [ModelResult], wallSeconds: Double) {
        precondition(requesters.count == settings.models.count, "one requester per model")
        let perModel = settings.warmup + settings.requests
        let total = perModel * settings.models.count
        let collected = CollectedSamples(models: settings.models.count)
        let started = MonotonicClock.now()
        let group = DispatchGroup()
        let settings = self.settings
        let requesters = self.requesters

        @Sendable func runModel(_ m: Int) {
            for i in 0..<perModel {
                if interrupt.isRaised { return }
                let warmup = i < settings.warmup
                let sample = RequestMeasurement.measure(
                    model: settings.models[m], sequence: warmup ? i : i - settings.warmup, warmup: warmup,
                    prompt: settings.prompt, maxTokens: settings.maxTokens, requester: requesters[m], interrupt: interrupt)
                collected.add(sample, model: m)
            }
        }

        let lanes: [[Int]] = settings.parallel ? settings.models.indices.map { [$0] } : [Array(settings.models.indices)]
        for lane in lanes {
            group.enter()
            WorkerThread.start {
                defer { group.leave() }
                for m in lane { runModel(m) }
            }
        }
        while group.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            progress(collected.count, total)
        }
        progress(collected.count, total)
        let wall = MonotonicClock.now() - started
        let results = settings.models.enumerated().map { m, name in ModelResult(model: name, samples: collected.samples(of: m)) }
        return (results, wall)
    }
}

/// Samples per model, filled from the worker threads.
private final class CollectedSamples: Sendable {
    private let state: Locked<(byModel: [[RequestSample]], done: Int)>

    init(models: Int) { state = Locked((Array(repeating: [], count: models), 0)) }

    func add(_ s: RequestSample, model: Int) {
        state.withLock {
            $0.byModel[model].append(s)
            $0.done += 1
        }
    }

    var count: Int { state.withLock { $0.done } }
    func samples(of model: Int) -> [RequestSample] { state.withLock { $0.byModel[model] } }
}

/// Text, JSON and CSV forms of a compare run.
enum CompareReport {
    static func table(_ results: [CompareRun.ModelResult]) -> String {
        var t = ReportTable(["MODEL", "OK", "ERR", "MEASURE", "P50", "P90", "P99"],
                          alignments: [.left, .right, .right, .left, .right, .right, .right])
        for r in results {
            let s = r.summary
            let rows: [(String, LatencySummary?, (Double) -> String)] = [
                ("ttft", s.ttft, Format.milliseconds), ("inter-token", s.interToken, Format.milliseconds),
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
    static func barChart(_ results: [CompareRun.ModelResult], width: Int = 30) -> String {
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

    static func notes(_ results: [CompareRun.ModelResult]) -> String {
        var out = ""
        for r in results {
            if !r.coldLoads.isEmpty { out += "* \(r.model): cold load (\(r.coldLoads.joined(separator: "; ")))\n" }
            let s = r.summary
            if s.errors > 0 {
                out += "\(r.model): \(s.errors) of \(s.requests) failed: \(s.errorKindsText)"
                if let first = r.measured.first(where: { !$0.ok })?.error { out += " — first: \(first)" }
                out += "\n"
            }
        }
        return out
    }

    static func json(_ settings: CompareRun.Settings, _ results: [CompareRun.ModelResult], wallSeconds: Double) -> JSONValue {
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

    static func parameters(_ s: CompareRun.Settings) -> JSONValue {
        .object([("models", .array(s.models.map { .string($0) })), ("n", .int(s.requests)), ("warmup", .int(s.warmup)),
                 ("parallel", .bool(s.parallel)), ("prompt", .string(s.prompt)),
                 ("max_tokens", s.maxTokens.map { .int($0) } ?? .null)])
    }

    /// One row per request, warm-ups included and marked.
    static func csv(_ results: [CompareRun.ModelResult]) -> String {
        var out = "model,request,warmup,ok,error_kind,provider,backend_model,ttft_ms,inter_token_ms,total_ms,output_tokens,tokens_per_second,cold_load,started_at\n"
        func num(_ v: Double?) -> String { v.map { cFormat("%.3f", $0) } ?? "" }
        for r in results {
            for s in r.samples {
                let cells = [
                    r.model, "\(s.sequence + 1)", s.warmup ? "1" : "0", s.ok ? "1" : "0", s.errorKind ?? "",
                    s.provider ?? "", s.backendModel ?? "", num(s.ttftMs), num(s.interTokenMs), num(s.totalMs),
                    s.outputTokens.map(String.init) ?? "", num(s.tokensPerSecond), s.coldLoad ? "1" : "0",
                    UTCTime.iso8601(s.startedAt, milliseconds: true),
                ]
                out += cells.map(LogFormat.csvField).joined(separator: ",") + "\n"
            }
        }
        return out
    }
}
