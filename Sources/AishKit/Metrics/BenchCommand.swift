import FoundationEssentials
import Glibc

/// `bench MODEL -n N -c C1[,C2...] [--duration S] [--max-tokens K] [-p PROMPT]`: a closed
/// loop of streamed requests at each concurrency.
enum BenchCommand {
    static let spec = CommandSpec(
        name: "bench",
        usage: "bench MODEL [-n N] [-c C1,C2,...] [--duration S] [--max-tokens K] [-p PROMPT] [--server-side]",
        summary: "load a model at given concurrencies: requests/s, tokens/s, TTFT and latency percentiles, errors by kind",
        help: """
            For each concurrency C, C workers each send a streamed request as soon as their previous
            one ends (a closed loop), until N requests have been sent at that level (default 20),
            or S seconds have passed with --duration (both: whichever comes first). Workers are
            threads of their own, so the load generator is not what limits the figures.
            Per level: requests/s and output tokens/s over the level's wall time, p50/p90/p99 of
            time to first token and of end-to-end latency, and the errors by kind. Requests go
            through the router like chat's. Each request and the summary are written to the log.
            Error kinds are those of compare (see help compare).
            --server-side adds what Prometheus recorded over the same window (monitoring.prometheus):
            per target, requests, TTFT and end-to-end p50/p90/p99 and output tokens/s, beside
            aish's client-side figures; in --json under server_side.
            """,
        options: [
            OptionSpec(names: ["-n", "--requests"], valueName: "N", help: "requests per concurrency level (default 20)"),
            OptionSpec(names: ["-c", "--concurrency"], valueName: "C1,C2,...", help: "concurrency levels (default 1)"),
            OptionSpec(names: ["--duration"], valueName: "S", help: "run each level for S (e.g. 10s) instead of N requests"),
            OptionSpec(names: ["--max-tokens"], valueName: "K", help: "max_tokens of each request (default 64)"),
            OptionSpec(names: ["-p", "--prompt"], valueName: "PROMPT", help: "the prompt (default: a short question)"),
            OptionSpec(names: ["--server-side"], valueName: nil, help: "also show what Prometheus recorded for the same window (monitoring.prometheus)"),
            OptionSpec(names: ["--verbose"], valueName: nil, help: "with --server-side: show the PromQL sent"),
            OptionSpec(names: ["--cache"], valueName: nil,
                       help: "let a LiteLLM gateway answer from its response cache (hits are counted apart, not timed)"),
        ],
        positionals: [
            PositionalSpec(name: "MODEL", help: "model name or alias, as for chat",
                           completion: .dynamic({ ctx in MetricsRouting.modelNames(ctx) })),
        ],
        report: ReportShape(BenchReport.self),
        run: { inv, ctx in try run(inv, ctx) })

    struct Settings: Sendable {
        var model: String
        var requests: Int?
        var duration: Double?
        var concurrencies: [Int]
        var maxTokens: Int
        var prompt: String
    }

    struct Level: Sendable {
        var concurrency: Int
        var samples: [RequestSample]
        var wallSeconds: Double
        var summary: SampleSummary { SampleSummary(samples) }
        var requestsPerSecond: Double { wallSeconds > 0 ? Double(samples.filter(\.ok).count) / wallSeconds : 0 }
        var outputTokensPerSecond: Double { wallSeconds > 0 ? Double(summary.outputTokens) / wallSeconds : 0 }
    }

    static func settings(_ inv: Invocation) throws -> Settings {
        var requests: Int? = try inv.int("--requests", default: 20)
        var duration: Double?
        if inv.value("--duration") != nil {
            let d = try inv.duration("--duration", default: 0)
            guard d > 0 else { throw UsageError(message: "bench: --duration must be longer than 0") }
            duration = d
            if inv.value("--requests") == nil { requests = nil }
        }
        if let requests, requests < 1 { throw UsageError(message: "bench: -n must be at least 1, got \(requests)") }
        var levels: [Int] = []
        for part in (inv.value("--concurrency") ?? "1").split(separator: ",", omittingEmptySubsequences: false) {
            guard let c = Int(part.trimming(.whitespaces)), c >= 1, c <= 1024 else {
                throw UsageError(message: "bench: -c takes concurrencies from 1 to 1024 separated by commas, got '\(inv.value("--concurrency") ?? "")'")
            }
            levels.append(c)
        }
        let maxTokens = try inv.int("--max-tokens", default: CompareCommand.defaultMaxTokens)
        guard maxTokens >= 1 else { throw UsageError(message: "bench: --max-tokens must be at least 1, got \(maxTokens)") }
        return Settings(model: inv.positionals[0], requests: requests, duration: duration, concurrencies: levels,
                        maxTokens: maxTokens, prompt: inv.value("--prompt") ?? CompareCommand.defaultPrompt)
    }

    /// Runs every level; `progress(level, done)` on the calling thread.
    static func runLevels(_ s: Settings, requester: ModelRequester, interrupt: InterruptFlag,
                          progress: (Int, Int) -> Void) -> [Level] {
        var levels: [Level] = []
        for c in s.concurrencies {
            if interrupt.isRaised { break }
            let (samples, wall) = LoadGenerator.run(concurrency: c, requests: s.requests, duration: s.duration,
                                                    interrupt: interrupt, progress: { progress(c, $0) }) { _, sequence in
                RequestMeasurement.measure(model: s.model, sequence: sequence, warmup: false, prompt: s.prompt,
                                           maxTokens: s.maxTokens, requester: requester, interrupt: interrupt)
            }
            levels.append(Level(concurrency: c, samples: samples, wallSeconds: wall))
        }
        return levels
    }

    /// `requester` is given by tests; else the model is routed as `chat` routes it.
    static func run(_ inv: Invocation, _ ctx: ShellContext, requester given: ModelRequester? = nil) throws -> CommandResult {
        let s = try settings(inv)
        let requester = try given ?? MetricsRouting.requester(for: s.model, kind: "bench", ctx: ctx,
                                                               useGatewayCache: inv.flag("--cache"))
        let progress = ProgressLine(output: ctx.output, enabled: TerminalCheck(ctx).stderrIsTerminal)
        let startedAt = Date()
        let began = MonotonicClock.now()
        let levels = runLevels(s, requester: requester, interrupt: ctx.interrupt) { c, done in
            progress.update("bench \(s.model): concurrency \(c), \(done)\(s.requests.map { "/\($0)" } ?? "") requests…")
        }
        progress.clear()
        let wall = MonotonicClock.now() - began

        for level in levels {
            for sample in level.samples {
                for record in RequestMeasurement.attemptRecords(sample, kind: "bench", prompt: s.prompt) {
                    ctx.recorder?.recordAttempt(record)
                }
            }
        }
        ctx.recorder?.recordRun(RunRecord(kind: "bench", parameters: parameters(s), summary: report(s, levels),
                                          startedAt: startedAt, durationMs: wall * 1000))
        var serverSide: ServerSideView?
        if inv.flag("--server-side") {
            serverSide = ServerSideView.fetch(try ctx.config(), ctx, runStart: startedAt, runEnd: Date())
        }
        let all = levels.flatMap(\.samples)
        let overall = SampleSummary(all)
        var failure: String?
        if ctx.interrupt.isRaised {
            failure = "bench: cancelled after \(all.filter { $0.errorKind != "cancelled" }.count) requests"
        } else if overall.ok == 0 {
            let first = all.first(where: { !$0.ok })?.error ?? "no request was sent"
            failure = "bench: every request failed (\(overall.errorKindsText)): \(first)"
        }
        return CommandResult(report: BenchReport(settings: s, levels: levels, serverSide: serverSide,
                                                 verbose: inv.flag("--verbose"), failure: failure))
    }

    static func table(_ s: Settings, _ levels: [Level]) -> String {
        var head = "bench \(s.model): "
        if let n = s.requests { head += "\(n) requests" }
        if let d = s.duration { head += (s.requests == nil ? "" : " or ") + "\(JSONValue.format(d))s" }
        head += " per level, max_tokens \(s.maxTokens)\n"
        var t = ReportTable(["CONC", "REQS", "OK", "ERR", "REQ/S", "TOK/S", "TTFT p50", "p90", "p99", "LATENCY p50", "p90", "p99"],
                          alignments: [.right, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right])
        for level in levels {
            let sum = level.summary
            func ms(_ l: LatencySummary?) -> [String] {
                l.map { [Format.milliseconds($0.p50), Format.milliseconds($0.p90), Format.milliseconds($0.p99)] } ?? ["-", "-", "-"]
            }
            t.add(["\(level.concurrency)", "\(sum.requests)", "\(sum.ok)", "\(sum.errors)",
                   cFormat("%.1f", level.requestsPerSecond), cFormat("%.1f", level.outputTokensPerSecond)]
                  + ms(sum.ttft) + ms(sum.latency))
        }
        var out = head + t.render()
        for level in levels where level.summary.errors > 0 {
            out += "concurrency \(level.concurrency): errors: \(level.summary.errorKindsText)\n"
        }
        for level in levels where level.summary.cacheHits > 0 {
            out += "concurrency \(level.concurrency): \(level.summary.cacheHits) of \(level.summary.ok) answered from the "
                + "gateway's response cache (counted in OK, left out of the timings)\n"
        }
        return out
    }

    static func parameters(_ s: Settings) -> JSONValue {
        .object([("model", .string(s.model)), ("requests", s.requests.map { .int($0) } ?? .null),
                 ("duration_s", s.duration.map { .double($0) } ?? .null),
                 ("concurrency", .array(s.concurrencies.map { .int($0) })), ("max_tokens", .int(s.maxTokens)),
                 ("prompt", .string(s.prompt))])
    }

    static func report(_ s: Settings, _ levels: [Level]) -> JSONValue {
        .object([
            ("status", .string("ok")), ("model", .string(s.model)), ("parameters", parameters(s)),
            ("levels", .array(levels.map { level in
                var pairs: [(String, JSONValue)] = [
                    ("concurrency", .int(level.concurrency)),
                    ("wall_ms", .double(LatencySummary.round(level.wallSeconds * 1000, 1))),
                    ("requests_per_second", .double(LatencySummary.round(level.requestsPerSecond, 2))),
                    ("output_tokens_per_second", .double(LatencySummary.round(level.outputTokensPerSecond, 2))),
                ]
                pairs += level.summary.json()
                return .object(pairs)
            })),
        ])
    }
}

/// What `bench` prints, as text or JSON, and what `expect` reads: totals, the best level's
/// requests/s and the first level's medians, then the parameters and each level's figures.
struct BenchReport: CommandReport {
    var model: String
    var levelCount: Int
    var requests: Int
    var errors: Int
    var rps: Double
    var tokens: Int
    /// The first level's medians.
    var ttft: Double?
    var latency: Double?
    var parameters: JSONValue
    var levels: JSONValue
    var serverSide: ServerSideView?

    // Not encoded: what the text is drawn from.
    var settings: BenchCommand.Settings
    var measured: [BenchCommand.Level]
    var verbose: Bool
    var failure: String?

    init(settings: BenchCommand.Settings, levels: [BenchCommand.Level], serverSide: ServerSideView? = nil,
         verbose: Bool = false, failure: String? = nil) {
        let overall = SampleSummary(levels.flatMap(\.samples))
        model = settings.model
        levelCount = levels.count
        requests = overall.requests
        errors = overall.errors
        rps = LatencySummary.round(levels.map(\.requestsPerSecond).max() ?? 0, 2)
        tokens = overall.outputTokens
        ttft = levels.first?.summary.ttft.map { LatencySummary.round($0.p50, 2) }
        latency = levels.first?.summary.latency.map { LatencySummary.round($0.p50, 2) }
        let summary = BenchCommand.report(settings, levels)
        parameters = summary["parameters"] ?? .null
        self.levels = summary["levels"] ?? .array([])
        self.serverSide = serverSide
        self.settings = settings
        measured = levels
        self.verbose = verbose
        self.failure = failure
    }

    enum CodingKeys: String, CodingKey {
        case model, levelCount = "level_count", requests, errors, rps, tokens, ttft, latency, parameters, levels
        case serverSide = "server_side"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(levelCount, forKey: .levelCount)
        try c.encode(requests, forKey: .requests)
        try c.encode(errors, forKey: .errors)
        try c.encode(rps, forKey: .rps)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(ttft, forKey: .ttft)
        try c.encode(latency, forKey: .latency)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(levels, forKey: .levels)
        // Only asked for with --server-side.
        if let serverSide { try c.encode(serverSide.json, forKey: .serverSide) }
    }

    var failureMessage: String? { failure }

    static let fields = [
        ReportField("model", "the model loaded"),
        ReportField("level_count", "concurrency levels run"),
        ReportField("requests", "requests sent, all levels"),
        ReportField("errors", "failed requests, all levels"),
        ReportField("rps", "the best level's successful requests per second"),
        ReportField("tokens", "output tokens, all levels"),
        ReportField("ttft", "the first level's median time to first token; null without a success", unit: "ms"),
        ReportField("latency", "the first level's median end-to-end latency; null without a success", unit: "ms"),
        ReportField("parameters", "model, requests, duration_s, concurrency, max_tokens, prompt"),
        ReportField("levels", "per level: concurrency, wall_ms, requests_per_second, output_tokens_per_second, requests, ok, errors, error_kinds, ttft_ms, inter_token_ms, latency_ms, tokens_per_second, output_tokens, cold_loads"),
        ReportField("server_side", "with --server-side: what Prometheus recorded over the run (prometheus, error, targets)"),
    ]

    static var example: BenchReport {
        let settings = BenchCommand.Settings(model: "m", requests: 1, duration: nil, concurrencies: [1], maxTokens: 8, prompt: "hi")
        return BenchReport(settings: settings, levels: [BenchCommand.Level(concurrency: 1, samples: [], wallSeconds: 1)],
                           serverSide: ServerSideView(prometheus: "http://127.0.0.1:9090", start: Date(timeIntervalSince1970: 0),
                                                      end: Date(timeIntervalSince1970: 1), rows: [], error: nil, promql: []))
    }

    func renderText() -> String {
        var text = BenchCommand.table(settings, measured)
        if let serverSide { text += "\n" + serverSide.text(verbose: verbose) }
        return text
    }
}
