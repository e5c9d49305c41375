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
            Fields for expect: levels, requests, errors, rps (the best level's), tokens, ttft and
            latency (the first level's p50, ms).
            """,
        options: [
            OptionSpec(names: ["-n", "--requests"], valueName: "N", help: "requests per concurrency level (default 20)"),
            OptionSpec(names: ["-c", "--concurrency"], valueName: "C1,C2,...", help: "concurrency levels (default 1)"),
            OptionSpec(names: ["--duration"], valueName: "S", help: "run each level for S (e.g. 10s) instead of N requests"),
            OptionSpec(names: ["--max-tokens"], valueName: "K", help: "max_tokens of each request (default 64)"),
            OptionSpec(names: ["-p", "--prompt"], valueName: "PROMPT", help: "the prompt (default: a short question)"),
            OptionSpec(names: ["--server-side"], valueName: nil, help: "also show what Prometheus recorded for the same window (monitoring.prometheus)"),
            OptionSpec(names: ["--verbose"], valueName: nil, help: "with --server-side: show the PromQL sent"),
        ],
        positionals: [
            PositionalSpec(name: "MODEL", help: "model name or alias, as for chat",
                           completion: .dynamic({ ctx in MetricsRouting.modelNames(ctx) })),
        ],
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
        let requester = try given ?? MetricsRouting.requester(for: s.model, kind: "bench", ctx: ctx)
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
        var json = report(s, levels)
        ctx.recorder?.recordRun(RunRecord(kind: "bench", parameters: parameters(s), summary: json, startedAt: startedAt,
                                          durationMs: wall * 1000))

        var text = table(s, levels)
        if inv.flag("--server-side") {
            let view = ServerSideView.fetch(try ctx.config(), ctx, runStart: startedAt, runEnd: Date())
            text += "\n" + view.text(verbose: inv.flag("--verbose"))
            if case var .object(pairs) = json { pairs.append(("server_side", view.json)); json = .object(pairs) }
        }
        let all = levels.flatMap(\.samples)
        let overall = SampleSummary(all)
        var fields: [(String, JSONValue)] = [
            ("levels", .int(levels.count)), ("requests", .int(overall.requests)), ("errors", .int(overall.errors)),
            ("rps", .double(LatencySummary.round(levels.map(\.requestsPerSecond).max() ?? 0, 2))),
            ("tokens", .int(overall.outputTokens)),
        ]
        if let t = levels.first?.summary.ttft?.p50 { fields.append(("ttft", .double(LatencySummary.round(t, 2)))) }
        if let l = levels.first?.summary.latency?.p50 { fields.append(("latency", .double(LatencySummary.round(l, 2)))) }
        if ctx.interrupt.isRaised {
            return .failure("bench: cancelled after \(all.filter { $0.errorKind != "cancelled" }.count) requests", text: text,
                            fields: fields, data: json.replacingStatus("error"))
        }
        if overall.ok == 0 {
            let first = all.first(where: { !$0.ok })?.error ?? "no request was sent"
            return .failure("bench: every request failed (\(overall.errorKindsText)): \(first)", text: text, fields: fields,
                            data: json.replacingStatus("error"))
        }
        return .ok(text, fields: fields, data: json)
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
