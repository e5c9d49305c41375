import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishProviders
import AishTelemetry
import AishSessionLog

/// `bench MODEL`: streamed load on a model, level by level, closed loop, open loop or the
/// logged traffic replayed, a level's requests driven from event loops, one per core
/// (`LoadEngine`). Its options are declared in `spec` (`help bench` shows them).
package enum BenchCommand {
    package static let spec = CommandSpec(
        name: "bench",
        summary: "load a model at given concurrencies or request rates: requests/s, tokens/s, TTFT and latency percentiles, errors by kind",
        help: """
            Closed loop (-c, the default): for each concurrency C, C requests are kept in flight;
            each one that ends is followed at once by the next, until N requests have been sent at
            that level (default 20), or S seconds have passed with --duration (both: whichever
            comes first).
            Open loop (--rate R): requests are sent at R per second whether or not earlier ones
            have ended, evenly spaced or, with --poisson, as a Poisson process (exponential gaps
            from --seed, default 1, so a run can be repeated), or with --burstiness B in bursts
            (gamma gaps of shape B: 1 is Poisson, 0.25 bursty, 4 nearly even, the mean rate the
            same, as vllm bench serve draws them); --max-concurrency M caps the
            requests in flight, and the rest wait in the client's queue (queue time). Each rate
            level reports the rate asked for and the rate achieved, the send lag (how late the
            generator sent each request, p50/p99) and flags the level when the generator fell
            behind (send lag p99 over 10 ms).
            --sweep N: a synchronous level (one request at a time), a throughput level (closed
            loop at --max-concurrency, default 64), then N rates evenly between the two rates
            measured. --slo 'ttft_p95<=200ms,itl_p95<=50ms,e2e_p99<=2s' judges each level: the share
            of requests within every bound (failed ones miss), goodput (such requests per second)
            and the targets the level broke. --find-max concurrency|rate searches for the highest
            load that meets the SLO: doubling from 1 (or the first -c / --rate) until a level
            breaks it, then bisecting; it reports feasible_max, infeasible_min and broken_by.
            --ramp-up S raises the load from nothing over S seconds (the rate linearly,
            or the workers one after another); requests sent meanwhile are logged, not counted.
            A level's requests are driven by event loops on libcurl's multi interface (connections
            reused, each SSE chunk decoded as it arrives, timed when its bytes were read off the
            socket, and every latency counted from when the request went out on a kept-alive
            connection; a new connection's handshake counts): one loop per core,
            at most one per eight requests in flight; --threads N sets how many (1 on a machine
            the server shares). Each request goes to the first available target of the
            model's route (load-balancing strategies pick per request) and on to the next
            target before its first token, as chat does. Per level: requests/s and output
            tokens/s over the level's wall time, p50/p90/p99 of time to first token and of
            end-to-end latency, and the errors by kind (those of compare: see help compare).
            Each request and the summary are written to the log, in batches during the run
            (when 256 MiB of rows wait to be written, the load waits for the log:
            held_for_log_s).
            --server-side adds what Prometheus recorded over the same window (monitoring.prometheus):
            per target, requests, TTFT and end-to-end p50/p90/p99 and output tokens/s, beside
            aish's client-side figures; in --json under server_side.
            Per token and per chunk: ITL is the time from the first text chunk to the last over the
            tokens generated after the first chunk, counted by the server (usage, asked for with
            stream_options.include_usage; Ollama's eval_count), ICL the mean gap between chunks;
            a reply whose server count differs from its chunks is noted. What is sent: -p PROMPT,
            --prompts FILE (a prompt a line, or JSON lines with "prompt"), --prompt-tokens N[,SD]
            (synthetic prompts of about N tokens, measured with the server's /tokenize where it has
            one, else estimated), --from-log (the logged chat prompts, at their logged arrival times
            scaled by --time-scale: 0.5 replays twice as fast), --trace FILE (a trace's requests at
            its timestamps: JSON lines with timestamp in ms and prompt or input_length, optionally
            output_length, as aiperf's mooncake_trace); each request's text starts with a
            tag of its own unless --same-prompt, so a prefix cache cannot flatter repeats;
            -o temperature|top_p|seed VALUE goes with every request (--seed is the arrivals').
            --output-tokens N asks for N tokens (max_tokens, and ignore_eos on llama.cpp and vLLM;
            replies that end sooner are counted). --warmup N sends N requests first, not counted.
            A rate level stops early when it saturates (requests waiting and the wait to the first
            token both keep growing; --no-early-stop keeps it going), any level when more than
            --max-error-rate of its requests failed. Every run is a row of the log with its levels
            (its run_id); --compare RUN_ID|last sets this run beside an earlier one (rps_change,
            ttft_change, itl_change, latency_change for expect). --out FILE writes the JSON report,
            --csv FILE a row per level, --requests-jsonl FILE a JSON line per request; --chart draws
            latency against throughput (on a terminal it is drawn for more than one level).
            """,
        options: [
            OptionSpec(["-n", "--requests"], .wholeNumber("N"), help: "requests per level (default 20)"),
            OptionSpec(["-c", "--concurrency"], .text("C1,C2,..."), help: "closed loop at these concurrencies (default 1)",
                       alternatives: "load"),
            OptionSpec(["--rate"], .text("R1,R2,..."), help: "open loop at these request rates (requests/s)", alternatives: "load"),
            OptionSpec(["--poisson"], help: "with --rate or --sweep: Poisson arrivals instead of evenly spaced", goesWith: "--rate"),
            OptionSpec(["--burstiness"], .text("B"), help: "with --rate or --sweep: gamma-distributed gaps of shape B (1: Poisson, below 1 burstier, above 1 more even)",
                       goesWith: "--rate"),
            OptionSpec(["--seed"], .text("SEED"), help: "with --poisson, --burstiness or --prompt-tokens: the random seed of the arrivals and of the prompts' words (default 1)"),
            OptionSpec(["--sweep"], .wholeNumber("N"), help: "synchronous, throughput, then N rates between them", alternatives: "load"),
            OptionSpec(["--from-log"], help: "replay the logged chat prompts at their arrival times", alternatives: "load"),
            OptionSpec(["--since"], .text("T"), help: "with --from-log: prompts logged since T (1h, 2d, 2026-11-27…)", goesWith: "--from-log"),
            OptionSpec(["-m", "--model"], .text("MODEL"), help: "with --from-log: prompts logged for this requested or backend model",
                       goesWith: "--from-log"),
            OptionSpec(["--time-scale"], .number("X"), help: "with --from-log or --trace: multiply the gaps between arrivals by X (default 1)",
                       goesWith: "--from-log"),
            OptionSpec(["--trace"], .path("FILE"),
                       help: "replay a trace: JSON lines with timestamp (ms) and prompt or input_length, optionally output_length",
                       alternatives: "load"),
            OptionSpec(["--max-concurrency"], .wholeNumber("M"), help: "with --rate: at most M in flight; with --sweep: the throughput level's concurrency (default 64); with --find-max concurrency: the highest to try (default 1024)"),
            OptionSpec(["--slo"], .text("SPEC"), help: "judge each level, e.g. 'ttft_p95<=200ms,e2e_p99<=2s' (measures ttft, itl, icl, tpot, e2e)"),
            OptionSpec(["--find-max"], .oneOf(["concurrency", "rate"]), help: "with --slo: search for the highest load that meets it",
                       goesWith: "--slo"),
            OptionSpec(["--ramp-up"], .duration("S"), help: "raise the load over S (e.g. 2s) before counting"),
            OptionSpec(["--threads"], .wholeNumber("N"), help: "event-loop threads that send (default: one per core, at most one per 4 in flight)"),
            OptionSpec(["--duration"], .duration("S"), help: "run each level for S (e.g. 10s) instead of N requests"),
            OptionSpec(["--warmup"], .wholeNumber("N"), help: "N requests before the first level, not counted (default 0)"),
            OptionSpec(["--max-error-rate"], .number("X"), help: "stop a level when more than X (0 to 1) of its requests failed"),
            OptionSpec(["--no-early-stop"], help: "run rate levels to the end even when they saturate"),
            OptionSpec(["--max-tokens"], .wholeNumber("K"), help: "max_tokens of each request (default 64)", alternatives: "output"),
            OptionSpec(["-o", "--option"], .text("NAME VALUE"),
                       help: "temperature, top_p or seed (the server's sampling seed, not --seed) of every request (repeatable)",
                       completion: .words(CompareCommand.optionNames), repeatable: true, arity: 2),
            OptionSpec(["--output-tokens"], .wholeNumber("N"), help: "ask for N output tokens (max_tokens and ignore_eos)",
                       alternatives: "output"),
            OptionSpec(["-p", "--prompt"], .text("PROMPT"), help: "the prompt (default: a short question)", alternatives: "prompt"),
            OptionSpec(["--prompts"], .path("FILE"), help: "prompts from FILE: one a line, or JSON lines with \"prompt\"",
                       alternatives: "prompt"),
            OptionSpec(["--prompt-tokens"], .text("N[,SD]"), help: "synthetic prompts of N tokens (standard deviation SD)",
                       alternatives: "prompt"),
            OptionSpec(["--same-prompt"], help: "send the prompt as it is (no per-request tag: the prefix cache may answer)"),
            OptionSpec(["--out"], .path("FILE"), help: "write the JSON report to FILE"),
            OptionSpec(["--csv"], .path("FILE"), help: "write one CSV row per level to FILE"),
            OptionSpec(["--requests-jsonl"], .path("FILE"), help: "write one JSON line per request to FILE"),
            OptionSpec(["--chart"], help: "draw latency against throughput"),
            OptionSpec(["--compare"], .text("RUN_ID|last"), help: "set this run beside an earlier bench run of the log"),
            OptionSpec(["--server-side"], help: "also show what Prometheus recorded for the same window (monitoring.prometheus)"),
            OptionSpec(["--verbose"], help: "with --server-side: show the PromQL sent", goesWith: "--server-side"),
            OptionSpec(["--cache"], help: "let a LiteLLM gateway answer from its response cache (hits are counted apart, not timed)"),
        ],
        positionals: [
            PositionalSpec(name: "MODEL", help: "model name or alias, as for chat",
                           completion: .dynamic({ ctx in MetricsRouting.modelNames(ctx) })),
        ],
        report: ReportShape(BenchReport.self),
        run: { inv, ctx in try run(inv, ctx) })

    /// The send lag p99 above which a rate level is flagged: the generator fell behind.
    package static let behindLagMs = 10.0
    /// The throughput level's concurrency in a sweep without --max-concurrency.
    package static let sweepConcurrency = 64

    package struct Settings: Sendable {
        package var model: String
        package var requests: Int?
        package var duration: Double?
        package var concurrencies: [Int]
        package var maxTokens: Int
        package var prompt: String
        package var rates: [Double] = []
        package var poisson = false
        /// -o temperature, top_p, seed: sent with every request.
        package var sampling = ChatOptions()
        /// --burstiness: the gamma shape of the gaps between arrivals (nil: not given).
        package var burstiness: Double? = nil
        /// `prompt` to every request, tagged (when no workload was built: tests).
        var defaultWorkload: BenchWorkload {
            BenchWorkload(source: .fixed(prompt), distinct: true, maxTokens: maxTokens, sampling: sampling)
        }
        /// How an open loop's arrivals are spaced: nil evenly, else gamma gaps of this shape.
        var arrivalBurstiness: Double? { burstiness ?? (poisson ? 1 : nil) }
        /// The mode of an open-loop level of these settings.
        var rateMode: Mode {
            switch arrivalBurstiness {
            case nil: .constant
            case 1: .poisson
            default: .bursty
            }
        }
        package var seed: UInt64 = 1
        package var maxConcurrency: Int? = nil
        /// Event-loop threads that send a level's requests (nil: one per core, at most one per
        /// four in flight).
        package var threads: Int? = nil
        package var sweep: Int? = nil
        package var rampUp: Double = 0
        package var slo: ServiceLevel? = nil
        /// --find-max: search the highest concurrency or rate that meets the SLO.
        package var findMax: SearchAxis? = nil
        /// What is sent (see `BenchWorkload`); nil: `prompt` to every request, tagged.
        var workload: BenchWorkload? = nil
        var workloadSpec = WorkloadSpec()
        var warmup = 0
        var stop = EarlyStop.Rules()
        var outputs = BenchOutputs()
        /// --compare: a run id, or "last".
        var baseline: String? = nil
    }

    package enum SearchAxis: String, Sendable { case concurrency, rate }

    /// The most levels a --find-max search runs.
    package static let maxSearchLevels = 16

    /// What kind of load a level was.
    package enum Mode: String, Sendable {
        case closed, synchronous, throughput, constant, poisson, bursty, replay
    }

    package struct Level: Sendable {
        /// In flight at most: the closed loop's concurrency, or a rate level's cap (nil: none).
        package var concurrency: Int?
        package var samples: [RequestSample] { didSet { summarize() } }
        package var wallSeconds: Double
        package var mode: Mode = .closed
        package var requestedRate: Double? = nil
        package var achievedRate: Double? = nil
        package var maxInFlight: Int = 0
        package var unsent: Int = 0
        package var verdict: ServiceLevel.Verdict? = nil
        /// Why the level ended before its time (saturation, the error rate).
        var stopReason: String? = nil
        /// Event-loop threads that sent the level's requests.
        var threads = 1
        /// --output-tokens N: successful replies with fewer tokens (the server did not ignore EOS).
        var shortReplies: Int? = nil
        /// Seconds the level sent nothing new because the session log's writer was behind.
        var heldForLogSeconds = 0.0
        /// A rate level's arrivals: nil evenly spaced, else the gamma shape of their gaps.
        var burstiness: Double? = nil

        package init(concurrency: Int?, samples: [RequestSample], wallSeconds: Double, mode: Mode = .closed,
             requestedRate: Double? = nil, achievedRate: Double? = nil, maxInFlight: Int = 0, unsent: Int = 0) {
            self.concurrency = concurrency
            self.samples = samples
            counted = []
            summary = SampleSummary([])
            self.wallSeconds = wallSeconds
            self.mode = mode
            self.requestedRate = requestedRate
            self.achievedRate = achievedRate
            self.maxInFlight = maxInFlight
            self.unsent = unsent
            summarize()
        }

        /// The requests counted (not those of the ramp-up), and their summary: worked out
        /// again only when `samples` changes (a report reads them many times, and copying tens
        /// of thousands of samples each time held a level's report back by seconds).
        package private(set) var counted: [RequestSample]
        package private(set) var summary: SampleSummary

        private mutating func summarize() {
            counted = samples.contains(where: \.rampUp) ? samples.filter { !$0.rampUp } : samples
            summary = SampleSummary(counted)
        }

        package var requestsPerSecond: Double { wallSeconds > 0 ? Double(counted.count(where: \.ok)) / wallSeconds : 0 }
        package var outputTokensPerSecond: Double { wallSeconds > 0 ? Double(summary.outputTokens) / wallSeconds : 0 }
        package var sendLag: LatencySummary? { LatencySummary(counted.compactMap(\.sendLagMs)) }
        package var queue: LatencySummary? { LatencySummary(counted.compactMap(\.queueMs)) }
        package var isOpenLoop: Bool { requestedRate != nil }
        /// The generator sent late: only an open loop has a schedule to fall behind.
        package var generatorBehind: Bool? {
            guard isOpenLoop else { return nil }
            return (sendLag?.p99 ?? 0) > BenchCommand.behindLagMs
        }

        /// Requests per second that met every bound of the SLO.
        package var goodput: Double? {
            guard let verdict, wallSeconds > 0 else { return nil }
            return Double(verdict.goodRequests) / wallSeconds
        }

        /// "c=4", "5/s", "5/s poisson ≤8", "5/s burst 0.25", "sync".
        package var label: String {
            switch mode {
            case .synchronous: return "sync"
            case .closed, .throughput: return "c=\(concurrency ?? 0)"
            case .replay:
                return "replay" + (concurrency.map { " ≤\($0)" } ?? "")
            case .constant, .poisson, .bursty:
                var s = Format.rate(requestedRate ?? 0)
                if mode == .poisson { s += " poisson" }
                if mode == .bursty, let b = burstiness { s += " burst " + cFormat("%g", b) }
                if let c = concurrency { s += " ≤\(c)" }
                return s
            }
        }
    }

    package static func settings(_ inv: Invocation) throws -> Settings {
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
        var maxTokens = try inv.int("--max-tokens", default: CompareCommand.defaultMaxTokens)
        guard maxTokens >= 1 else { throw UsageError(message: "bench: --max-tokens must be at least 1, got \(maxTokens)") }
        let options = try ChatOptions.from(variables: [:], overrides: inv.values("--option"), command: "bench",
                                           allowed: CompareCommand.optionNames)
        if let k = options.maxTokens {
            if inv.value("--max-tokens") != nil || inv.value("--output-tokens") != nil {
                throw UsageError(message: "bench: give -o max_tokens K or --max-tokens K or --output-tokens N, one of them")
            }
            maxTokens = k
        }
        var s = Settings(model: inv.positionals[0], requests: requests, duration: duration, concurrencies: levels,
                         maxTokens: maxTokens, prompt: inv.value("--prompt") ?? CompareCommand.defaultPrompt)
        s.sampling = options
        s.sampling.maxTokens = nil   // it is s.maxTokens
        if let raw = inv.value("--rate") {
            if inv.value("--concurrency") != nil { throw UsageError(message: "bench: -c (closed loop) and --rate (open loop) exclude each other") }
            for part in raw.split(separator: ",", omittingEmptySubsequences: false) {
                guard let r = Double(part.trimming(.whitespaces)), r.isFinite, r > 0, r <= 1_000_000 else {
                    throw UsageError(message: "bench: --rate takes request rates per second above 0 separated by commas, got '\(raw)'")
                }
                s.rates.append(r)
            }
            s.concurrencies = []
        }
        if inv.value("--sweep") != nil {
            if inv.value("--concurrency") != nil || inv.value("--rate") != nil {
                throw UsageError(message: "bench: --sweep chooses its own levels: leave out -c and --rate")
            }
            let n = try inv.int("--sweep", default: 0)
            guard n >= 1, n <= 100 else { throw UsageError(message: "bench: --sweep takes 1 to 100 rates, got \(n)") }
            s.sweep = n
            s.concurrencies = []
        }
        let openLoop = !s.rates.isEmpty || s.sweep != nil
        if inv.flag("--poisson") {
            guard openLoop else { throw UsageError(message: "bench: --poisson needs --rate or --sweep") }
            s.poisson = true
        }
        if let raw = inv.value("--burstiness") {
            guard openLoop else { throw UsageError(message: "bench: --burstiness needs --rate or --sweep") }
            guard let b = Double(raw.trimming(.whitespaces)), b.isFinite, b >= 0.01, b <= 100 else {
                throw UsageError(message: "bench: --burstiness takes a number from 0.01 to 100 (1 is Poisson), got '\(raw)'")
            }
            if s.poisson, b != 1 {
                throw UsageError(message: "bench: --poisson is --burstiness 1; give one of them")
            }
            s.burstiness = b
        }
        if let raw = inv.value("--seed") {
            guard s.arrivalBurstiness != nil || inv.value("--prompt-tokens") != nil else {
                throw UsageError(message: "bench: --seed needs --poisson, --burstiness or --prompt-tokens")
            }
            guard let seed = UInt64(raw) else { throw UsageError(message: "bench: --seed takes a whole number from 0, got '\(raw)'") }
            s.seed = seed
        }
        if inv.value("--max-concurrency") != nil {
            guard openLoop || inv.value("--find-max") != nil || inv.flag("--from-log") || inv.value("--trace") != nil else {
                throw UsageError(message: "bench: --max-concurrency needs --rate, --sweep, --find-max, --from-log or --trace (with -c the concurrency is fixed)")
            }
            let m = try inv.int("--max-concurrency", default: 0)
            guard m >= 1, m <= 1024 else { throw UsageError(message: "bench: --max-concurrency takes 1 to 1024, got \(m)") }
            s.maxConcurrency = m
        }
        if let spec = inv.value("--slo") { s.slo = try ServiceLevel.parse(spec) }
        if let raw = inv.value("--find-max") {
            guard let axis = SearchAxis(rawValue: raw) else {
                throw UsageError(message: "bench: --find-max takes concurrency or rate, got '\(raw)'")
            }
            guard s.slo != nil else { throw UsageError(message: "bench: --find-max needs --slo (the targets the load must meet)") }
            guard s.sweep == nil else { throw UsageError(message: "bench: --find-max and --sweep exclude each other") }
            if axis == .concurrency, !s.rates.isEmpty { throw UsageError(message: "bench: --find-max concurrency searches closed loops: leave out --rate") }
            if axis == .rate, inv.value("--concurrency") != nil { throw UsageError(message: "bench: --find-max rate searches open loops: leave out -c") }
            s.findMax = axis
        }
        if inv.value("--threads") != nil {
            let n = try inv.int("--threads", default: 0)
            guard n >= 1, n <= 64 else { throw UsageError(message: "bench: --threads takes 1 to 64, got \(n)") }
            s.threads = n
        }
        if inv.value("--ramp-up") != nil {
            let r = try inv.duration("--ramp-up", default: 0)
            guard r >= 0 else { throw UsageError(message: "bench: --ramp-up must not be negative") }
            s.rampUp = r
        }
        try parseWorkload(inv, into: &s)
        return s
    }

    /// Runs every level; `progress(label, done)` on the calling thread; `onSample` sees each
    /// request as it ends (on the engine's thread); while `holdBack` is true (the log's
    /// writer is behind) no new request is sent.
    package static func runLevels(_ s: Settings, requester: ModelRequester, interrupt: InterruptFlag,
                          onSample: @escaping (RequestSample) -> Void = { _ in },
                          holdBack: @escaping @Sendable () -> Bool = { false },
                          progress: (String, Int) -> Void) -> [Level] {
        var levels: [Level] = []
        func level(_ shape: LoadShape, mode: Mode) -> Level {
            var plan = LoadPlan(shape: shape, requests: s.requests, duration: s.duration, rampUp: s.rampUp)
            plan.stop = s.stop
            plan.threads = s.threads
            var label = ""
            var rate: Double?
            var burstiness: Double?
            var cap: Int?
            switch shape {
            case let .closed(c):
                cap = c
                label = mode == .synchronous ? "synchronous" : "concurrency \(c)"
                plan.stop.saturation = false   // a closed loop holds its backlog at C
            case let .rate(r, b, _, m): rate = r; burstiness = b; cap = m; label = "rate \(Format.rate(r))"
            case let .replay(offsets, m): cap = m; label = "replay"; plan.requests = offsets.count; plan.duration = nil
            }
            let run = measure(plan, s, requester: requester, interrupt: interrupt, onSample: onSample, holdBack: holdBack) {
                progress(label, $0)
            }
            var l = Level(concurrency: cap, samples: run.samples, wallSeconds: run.wallSeconds, mode: mode, requestedRate: rate,
                          achievedRate: run.achievedRate, maxInFlight: run.maxInFlight, unsent: run.unsent)
            l.stopReason = run.stopReason
            l.threads = run.threads
            l.heldForLogSeconds = run.heldSeconds
            l.burstiness = burstiness
            if let n = s.workloadSpec.outputTokens {
                l.shortReplies = l.counted.count { $0.ok && ($0.outputTokens ?? 0) < n }
            }
            l.verdict = s.slo?.judge(l.counted)
            return l
        }
        if s.warmup > 0, !interrupt.isRaised {
            // Sent one at a time before the first level; logged as warm-up, counted nowhere.
            var plan = LoadPlan(shape: .closed(concurrency: 1), requests: s.warmup, duration: nil)
            plan.stop = EarlyStop.Rules()
            _ = measure(plan, s, requester: requester, interrupt: interrupt, warmup: true, onSample: onSample, holdBack: holdBack) {
                progress("warm-up", $0)
            }
        }
        if let offsets = s.workload?.replayOffsets {
            levels.append(level(.replay(offsets: offsets, maxConcurrency: s.maxConcurrency), mode: .replay))
            return levels
        }
        func rateShape(_ r: Double) -> LoadShape {
            .rate(perSecond: r, burstiness: s.arrivalBurstiness, seed: s.seed, maxConcurrency: s.maxConcurrency)
        }
        if let axis = s.findMax {
            var search = LoadSearch(axis: axis, start: axis == .rate ? (s.rates.first ?? 1) : Double(s.concurrencies.first ?? 1),
                                    ceiling: axis == .concurrency ? Double(s.maxConcurrency ?? 1024) : 1_000_000)
            while let load = search.next(), levels.count < maxSearchLevels, !interrupt.isRaised {
                let l = axis == .rate ? level(rateShape(load), mode: s.rateMode)
                    : level(.closed(concurrency: Int(load)), mode: .closed)
                levels.append(l)
                search.record(load, met: l.verdict?.met ?? false)
            }
            return levels
        }
        if let n = s.sweep {
            levels.append(level(.closed(concurrency: 1), mode: .synchronous))
            if interrupt.isRaised { return levels }
            levels.append(level(.closed(concurrency: s.maxConcurrency ?? sweepConcurrency), mode: .throughput))
            let low = levels[0].requestsPerSecond, high = levels[1].requestsPerSecond
            // Nothing succeeded: there is no rate to sweep between.
            guard low > 0, high > 0 else { return levels }
            for i in 1...n {
                if interrupt.isRaised { break }
                let r = min(low, high) + (max(low, high) - min(low, high)) * Double(i) / Double(n + 1)
                levels.append(level(rateShape(LatencySummary.round(r, 2)), mode: s.rateMode))
            }
            return levels
        }
        for r in s.rates {
            if interrupt.isRaised { break }
            levels.append(level(rateShape(r), mode: s.rateMode))
        }
        for c in s.concurrencies {
            if interrupt.isRaised { break }
            levels.append(level(.closed(concurrency: c), mode: .closed))
        }
        return levels
    }

    /// One level through the load engine, or, for a requester that can only send blocking
    /// requests, the closed loop on threads.
    package static func measure(_ plan: LoadPlan, _ s: Settings, requester: ModelRequester, interrupt: InterruptFlag,
                        warmup: Bool = false, onSample: @escaping (RequestSample) -> Void,
                        holdBack: @escaping @Sendable () -> Bool = { false }, progress: (Int) -> Void) -> LoadRun {
        if let wire = requester.wire {
            let workload = s.workload ?? s.defaultWorkload
            var run = LoadEngine.run(plan: plan, model: s.model, workload: workload, wire: wire, interrupt: interrupt,
                                     onSample: { sample in
                                         var x = sample
                                         if warmup { x.rampUp = true }
                                         onSample(x)
                                     }, holdBack: holdBack, progress: progress)
            if warmup { run.samples = run.samples.map { var x = $0; x.rampUp = true; return x } }
            return run
        }
        guard case let .closed(c) = plan.shape else { preconditionFailure("an open loop needs a requester with a wire target") }
        let workload = s.workload ?? s.defaultWorkload
        var (samples, wall) = LoadGenerator.run(concurrency: c, requests: plan.requests, duration: plan.duration,
                                                interrupt: interrupt, progress: progress) { _, sequence in
            let p = workload.prompt(sequence: sequence)
            var sample = RequestMeasurement.measure(model: s.model, sequence: sequence, warmup: false, prompt: p.text,
                                                    maxTokens: p.maxTokens ?? s.maxTokens, requester: requester, interrupt: interrupt)
            sample.prompt = p.text
            return sample
        }
        if warmup { samples = samples.map { var x = $0; x.rampUp = true; return x } }
        samples.forEach(onSample)
        return LoadRun(samples: samples, wallSeconds: wall, achievedRate: nil, maxInFlight: c, unsent: 0, threads: c)
    }

    /// `requester` is given by tests; else the model is routed as `chat` routes it.
    package static func run(_ inv: Invocation, _ ctx: ShellContext, requester given: ModelRequester? = nil) throws -> CommandResult {
        var s = try settings(inv)
        // The load engine sends the workload's options; a requester without a wire sends these.
        let requester = try given ?? MetricsRouting.requester(for: s.model, kind: "bench", ctx: ctx, options: s.sampling,
                                                               useGatewayCache: inv.flag("--cache"))
        if requester.wire == nil, !s.rates.isEmpty || s.sweep != nil || s.workloadSpec.replays {
            throw CommandFailure("bench: an open loop needs a model aish can reach directly")
        }
        // Read before the run: a --compare that names no run fails at once.
        let baseline = try s.baseline.map { try BenchBaseline.load($0, model: s.model, ctx: ctx) }
        try buildWorkload(&s, requester: requester, ctx: ctx)
        if let offsets = s.workload?.replayOffsets,
           let notice = replayNotice(model: s.model, offsets: offsets, timeScale: s.workloadSpec.timeScale) {
            ctx.output.writeError(notice)
        }
        let progress = ProgressLine(output: ctx.output, enabled: TerminalCheck(ctx).stderrIsTerminal)
        let startedAt = Date()
        let began = MonotonicClock.now()
        // Rows go to the log in batches from a thread of their own while the load runs.
        let rows = ctx.recorder.map { AttemptRowWriter(recorder: $0, kind: "bench", prompt: s.workload?.description ?? s.prompt) }
        let levels = runLevels(s, requester: requester, interrupt: ctx.interrupt, onSample: { rows?.add($0) },
                               holdBack: { rows?.isFull ?? false }) { label, done in
            progress.update("bench \(s.model): \(label), \(done)\(s.requests.map { "/\($0)" } ?? "") requests…")
        }
        rows?.finish()
        progress.clear()
        let wall = MonotonicClock.now() - began

        let runID = ctx.recorder?.recordBenchRun(RunRecord(kind: "bench", parameters: parameters(s), summary: report(s, levels),
                                                           startedAt: startedAt, durationMs: wall * 1000),
                                                 levels: BenchResults.levelRecords(levels))
        var serverSide: ServerSideView?
        if inv.flag("--server-side") {
            serverSide = ServerSideView.fetch(try ctx.config(), ctx, runStart: startedAt, runEnd: Date())
        }
        let all = allSamples(levels)
        let overall = SampleSummary(all)
        var failure: String?
        if ctx.interrupt.isRaised {
            failure = "bench: cancelled after \(all.count { $0.errorKind != "cancelled" }) requests"
        } else if overall.ok == 0 {
            let first = all.first(where: { !$0.ok })?.error ?? "no request was sent"
            failure = "bench: every request failed (\(overall.errorKindsText)): \(first)"
        }
        var report = BenchReport(settings: s, levels: levels, serverSide: serverSide, verbose: inv.flag("--verbose"),
                                 failure: failure)
        report.runID = runID
        if let baseline { report.compare(with: baseline) }
        report.chart = s.outputs.chart || (TerminalCheck(ctx).stdoutIsTerminal && levels.count > 1)
        try BenchResults.write(report, s.outputs, ctx: ctx)
        return CommandResult(report: report)
    }

    /// What a replay of ten seconds or more says before it starts (on stderr, whether or not
    /// a progress line is shown): it keeps the log's gaps, so a log spanning hours replays for
    /// hours, scaled.
    static func replayNotice(model: String, offsets: [Double], timeScale: Double) -> String? {
        guard let span = offsets.last, span >= 10 else { return nil }
        return "bench \(model): replaying \(offsets.count) logged requests over \(DurationText.seconds(span)) "
            + "(time scale \(JSONValue.format(timeScale)); --time-scale or --since shortens it, Ctrl-C stops it)\n"
    }

    /// Every level's samples in one array; one level's are its own (a long run's levels
    /// hold hundreds of thousands, and each copy of them costs hundreds of megabytes).
    static func allSamples(_ levels: [Level]) -> [RequestSample] {
        levels.count == 1 ? levels[0].samples : levels.flatMap(\.samples)
    }

    package static func table(_ s: Settings, _ levels: [Level]) -> String {
        var head = "bench \(s.model): "
        if let n = s.requests { head += "\(n) requests" }
        if let d = s.duration { head += (s.requests == nil ? "" : " or ") + "\(JSONValue.format(d))s" }
        if s.workloadSpec.replays {
            head = "bench \(s.model): \(s.workload?.replayOffsets?.count ?? 0) \(s.workloadSpec.fromLog ? "logged" : "traced") requests replayed, time scale "
                + JSONValue.format(s.workloadSpec.timeScale)
        } else {
            head += " per level"
        }
        head += ", max_tokens \(s.maxTokens)"
        if s.workloadSpec.outputTokens != nil { head += " (--output-tokens, ignore_eos \(s.workloadSpec.ignoreEOS ?? "not sent"))" }
        if s.rampUp > 0 { head += ", ramp-up \(JSONValue.format(s.rampUp))s" }
        if s.warmup > 0 { head += ", \(s.warmup) warm-up" }
        head += "\n"
        if let (mean, sd) = s.workloadSpec.promptTokens {
            head += "prompts: synthetic, \(mean)\(sd > 0 ? " ± \(sd)" : "") tokens, "
                + (s.workloadSpec.promptTokensCountedBy == "tokenize" ? "measured with the server's /tokenize"
                   : "estimated (\(s.workloadSpec.tokenizeNote ?? "no /tokenize"))") + "\n"
        }
        func ms(_ l: LatencySummary?) -> [String] {
            l.map { [Format.milliseconds($0.p50), Format.milliseconds($0.p90), Format.milliseconds($0.p99)] } ?? ["-", "-", "-"]
        }
        let open = levels.contains { $0.isOpenLoop || $0.mode != .closed }
        var headers = ["CONC", "REQS", "OK", "ERR", "REQ/S", "TOK/S", "TTFT p50", "p90", "p99", "ITL p50", "p99", "LATENCY p50", "p90", "p99"]
        if open { headers = ["LOAD", "SENT/S"] + headers.dropFirst() + ["LAG p99", "QUEUE p99"] }
        var t = ReportTable(headers, alignments: headers.map { _ in .right })
        for level in levels {
            let sum = level.summary
            var row = [open ? level.label : "\(level.concurrency ?? 0)"]
            if open { row.append(level.achievedRate.map { cFormat("%.1f", $0) } ?? "-") }
            row += ["\(sum.requests)", "\(sum.ok)", "\(sum.errors)",
                    cFormat("%.1f", level.requestsPerSecond), cFormat("%.1f", level.outputTokensPerSecond)]
                + ms(sum.ttft) + [sum.itl.map { Format.milliseconds($0.p50) } ?? "-", sum.itl.map { Format.milliseconds($0.p99) } ?? "-"]
                + ms(sum.latency)
            if open {
                row.append(level.sendLag.map { Format.milliseconds($0.p99) } ?? "-")
                row.append(level.queue.map { Format.milliseconds($0.p99) } ?? "-")
            }
            t.add(row)
        }
        var out = head + t.render()
        for level in levels {
            let name = open ? level.label : "concurrency \(level.concurrency ?? 0)"
            if level.summary.errors > 0 { out += "\(name): errors: \(level.summary.errorKindsText)\n" }
            if level.generatorBehind == true, let lag = level.sendLag {
                out += "\(name): the load generator fell behind (send lag p99 \(Format.milliseconds(lag.p99)))\n"
            }
            if let v = level.verdict {
                out += "\(name): SLO \(v.met ? "met" : "broken by " + v.brokenBy.joined(separator: ", ")); "
                    + cFormat("%.0f%%", v.attainment * 100) + " of requests within every bound, goodput "
                    + cFormat("%.2f/s", level.goodput ?? 0) + "\n"
            }
            if let reason = level.stopReason { out += "\(name): stopped early: \(reason)\n" }
            if level.heldForLogSeconds > 0 {
                out += "\(name): the session log fell behind: no new request was sent for "
                    + cFormat("%.1f s", level.heldForLogSeconds) + " while its writer caught up\n"
            }
            if level.unsent > 0 {
                out += "\(name): \(level.unsent) scheduled requests not sent before the level"
                    + (level.stopReason == nil ? "'s time was up\n" : " stopped\n")
            }
            if let short = level.shortReplies, short > 0, let n = s.workloadSpec.outputTokens {
                out += "\(name): \(short) of \(level.summary.ok) replies ended before \(n) tokens (ignore_eos \(s.workloadSpec.ignoreEOS ?? "not sent"))\n"
            }
        }
        // Said once for the run: it is the server's way of streaming, not a level's.
        let answered = levels.lazy.flatMap(\.counted).filter { $0.ok && $0.cacheHit != true }
        let lone = levels.count == 1 ? (open ? levels[0].label : "concurrency \(levels[0].concurrency ?? 0)") : "all levels"
        if let note = TokenCounts(answered).note(lone) { out += note + "\n" }
        for level in levels where level.summary.cacheHits > 0 {
            out += "\(level.label): \(level.summary.cacheHits) of \(level.summary.ok) answered from the "
                + "gateway's response cache (counted in OK, left out of the timings)\n"
        }
        return out
    }

    package static func parameters(_ s: Settings) -> JSONValue {
        .object([("model", .string(s.model)), ("requests", s.requests.map { .int($0) } ?? .null),
                 ("duration_s", s.duration.map { .double($0) } ?? .null),
                 ("concurrency", .array(s.concurrencies.map { .int($0) })), ("max_tokens", .int(s.maxTokens)),
                 ("prompt", .string(s.prompt)),
                 ("rate", .array(s.rates.map { .double($0) })), ("poisson", .bool(s.arrivalBurstiness == 1)),
                 ("burstiness", s.arrivalBurstiness.map { .double($0) } ?? .null),
                 ("seed", s.arrivalBurstiness != nil || s.workloadSpec.promptTokens != nil ? .int(Int(truncatingIfNeeded: s.seed)) : .null),
                 ("max_concurrency", s.maxConcurrency.map { .int($0) } ?? .null),
                 ("threads", s.threads.map { .int($0) } ?? .null),
                 ("sweep", s.sweep.map { .int($0) } ?? .null), ("ramp_up_s", .double(s.rampUp)),
                 ("slo", s.slo.map { .string($0.targets.map(\.text).joined(separator: ",")) } ?? .null),
                 ("find_max", s.findMax.map { .string($0.rawValue) } ?? .null)] + workloadParameters(s))
    }

    /// What is sent, as the run's parameters record it.
    private static func workloadParameters(_ s: Settings) -> [(String, JSONValue)] {
        [("prompt_source", .string(s.workloadSpec.fromLog ? "log" : s.workloadSpec.tracePath != nil ? "trace" : s.workloadSpec.promptsFile != nil ? "file"
                                      : s.workloadSpec.promptTokens != nil ? "synthetic" : "prompt")),
         ("prompts_file", (s.workloadSpec.promptsFile ?? s.workloadSpec.tracePath).map { .string($0) } ?? .null),
         ("prompt_tokens", s.workloadSpec.promptTokens.map { .string("\($0.mean),\($0.stdev)") } ?? .null),
         ("prompt_tokens_counted_by", s.workloadSpec.promptTokensCountedBy.map { .string($0) } ?? .null),
         ("output_tokens", s.workloadSpec.outputTokens.map { .int($0) } ?? .null),
         ("ignore_eos", s.workloadSpec.ignoreEOS.map { .string($0) } ?? .null),
         // As chat logs a request's options (temperature, top_p, seed; null when none).
         ("options", ChatRequest(model: s.model, messages: [], temperature: s.sampling.temperature, maxTokens: nil,
                                 topP: s.sampling.topP, seed: s.sampling.seed, stream: true).optionsJSON ?? .null),
         ("distinct_prompts", .bool(!s.workloadSpec.samePrompt && !s.workloadSpec.fromLog
                                    && (s.workloadSpec.tracePath == nil || s.workloadSpec.promptTokensCountedBy != nil))),
         ("since", s.workloadSpec.since.map { .string(LogTime.format($0)) } ?? .null),
         ("time_scale", s.workloadSpec.replays ? .double(s.workloadSpec.timeScale) : .null),
         ("warmup", .int(s.warmup)),
         ("max_error_rate", s.stop.maxErrorRate.map { .double($0) } ?? .null),
         ("early_stop", .bool(s.stop.saturation))]
    }

    package static func report(_ s: Settings, _ levels: [Level]) -> JSONValue {
        .object([
            ("status", .string("ok")), ("model", .string(s.model)), ("parameters", parameters(s)),
            ("levels", .array(levels.map { level in
                var pairs: [(String, JSONValue)] = [
                    ("concurrency", level.concurrency.map { .int($0) } ?? .null),
                    ("mode", .string(level.mode.rawValue)),
                    ("requested_rate", level.requestedRate.map { .double($0) } ?? .null),
                    ("burstiness", level.burstiness.map { .double($0) } ?? .null),
                    ("achieved_rate", level.achievedRate.map { .double(LatencySummary.round($0, 2)) } ?? .null),
                    ("wall_ms", .double(LatencySummary.round(level.wallSeconds * 1000, 1))),
                    ("requests_per_second", .double(LatencySummary.round(level.requestsPerSecond, 2))),
                    ("output_tokens_per_second", .double(LatencySummary.round(level.outputTokensPerSecond, 2))),
                ]
                pairs += level.summary.json()
                pairs += [
                    ("send_lag_ms", level.sendLag?.json(digits: 3) ?? .null),
                    ("queue_ms", level.queue?.json() ?? .null),
                    ("generator_behind", level.generatorBehind.map { .bool($0) } ?? .null),
                    ("max_in_flight", .int(level.maxInFlight)),
                    ("client_threads", .int(level.threads)),
                    ("ramp_up_requests", .int(level.samples.count - level.counted.count)),
                    ("unsent", .int(level.unsent)),
                    ("slo_attainment", level.verdict.map { .double(LatencySummary.round($0.attainment, 4)) } ?? .null),
                    ("goodput", level.goodput.map { .double(LatencySummary.round($0, 2)) } ?? .null),
                    ("slo_met", level.verdict.map { .bool($0.met) } ?? .null),
                    ("slo_broken_by", level.verdict.map { .array($0.brokenBy.map { .string($0) }) } ?? .null),
                    ("stopped_early", .bool(level.stopReason != nil)),
                    ("stop_reason", level.stopReason.map { .string($0) } ?? .null),
                    ("short_replies", level.shortReplies.map { .int($0) } ?? .null),
                    ("held_for_log_s", .double(LatencySummary.round(level.heldForLogSeconds, 3))),
                ]
                return .object(pairs)
            })),
        ])
    }
}

/// What `bench` prints, as text or JSON, and what `expect` reads: totals, the best level's
/// requests/s and the first level's medians, then the parameters and each level's figures.
package struct BenchReport: CommandReport {
    package var model: String
    package var levelCount: Int
    package var requests: Int
    package var errors: Int
    package var rps: Double
    package var tokens: Int
    /// The first level's medians.
    package var ttft: Double?
    /// The first level's median inter-token latency.
    var itl: Double?
    package var latency: Double?
    package var parameters: JSONValue
    package var levels: JSONValue
    /// --find-max: the highest load that met the SLO, the lowest that broke it, the target
    /// that load broke first, and whether every load below a broken one met it.
    package var feasibleMax: Double?
    package var infeasibleMin: Double?
    package var brokenBy: String?
    package var monotonic: Bool?
    /// This run's row in the session log (null without a log).
    var runID: Int64? = nil
    /// --compare: the earlier run, and this run's change against it (see `BenchBaseline`).
    var comparison: BenchComparison? = nil
    package var serverSide: ServerSideView?
    /// Draw latency against throughput under the table.
    var chart = false

    // Not encoded: what the text is drawn from.
    package var settings: BenchCommand.Settings
    package var measured: [BenchCommand.Level]
    package var verbose: Bool
    package var failure: String?

    package init(settings: BenchCommand.Settings, levels: [BenchCommand.Level], serverSide: ServerSideView? = nil,
         verbose: Bool = false, failure: String? = nil) {
        let overall = SampleSummary(BenchCommand.allSamples(levels))
        model = settings.model
        levelCount = levels.count
        requests = overall.requests
        errors = overall.errors
        rps = LatencySummary.round(levels.map(\.requestsPerSecond).max() ?? 0, 2)
        tokens = overall.outputTokens
        ttft = levels.first?.summary.ttft.map { LatencySummary.round($0.p50, 2) }
        itl = levels.first?.summary.itl.map { LatencySummary.round($0.p50, 2) }
        latency = levels.first?.summary.latency.map { LatencySummary.round($0.p50, 2) }
        let summary = BenchCommand.report(settings, levels)
        parameters = summary["parameters"] ?? .null
        self.levels = summary["levels"] ?? .array([])
        if let axis = settings.findMax {
            let judged = levels.compactMap { l -> (load: Double, verdict: ServiceLevel.Verdict)? in
                guard let v = l.verdict, let load = axis == .rate ? l.requestedRate : l.concurrency.map(Double.init) else { return nil }
                return (load, v)
            }
            feasibleMax = judged.filter(\.verdict.met).map(\.load).max()
            let broken = judged.filter { !$0.verdict.met }
            let best = feasibleMax
            let above = broken.filter { best == nil || $0.load > best! }
            if let lowest = above.min(by: { $0.load < $1.load }) {
                infeasibleMin = lowest.load
                brokenBy = lowest.verdict.brokenBy.first
            }
            monotonic = above.count == broken.count
        }
        self.serverSide = serverSide
        self.settings = settings
        measured = levels
        self.verbose = verbose
        self.failure = failure
    }

    package enum CodingKeys: String, CodingKey {
        case model, levelCount = "level_count", requests, errors, rps, tokens, ttft = "ttft_ms", itl = "itl_ms", latency = "latency_ms"
        case parameters, levels
        case feasibleMax = "feasible_max", infeasibleMin = "infeasible_min", brokenBy = "broken_by", monotonic
        case runID = "run_id", baselineRun = "baseline_run", rpsChange = "rps_change", ttftChange = "ttft_change"
        case itlChange = "itl_change", latencyChange = "latency_change", comparison
        case serverSide = "server_side"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(levelCount, forKey: .levelCount)
        try c.encode(requests, forKey: .requests)
        try c.encode(errors, forKey: .errors)
        try c.encode(rps, forKey: .rps)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(ttft, forKey: .ttft)
        try c.encode(itl, forKey: .itl)
        try c.encode(latency, forKey: .latency)
        try c.encode(parameters, forKey: .parameters)
        try c.encode(levels, forKey: .levels)
        try c.encode(feasibleMax, forKey: .feasibleMax)
        try c.encode(infeasibleMin, forKey: .infeasibleMin)
        try c.encode(brokenBy, forKey: .brokenBy)
        try c.encode(monotonic, forKey: .monotonic)
        try c.encode(runID, forKey: .runID)
        try c.encode(comparison?.baselineID, forKey: .baselineRun)
        try c.encode(comparison?.rpsChange, forKey: .rpsChange)
        try c.encode(comparison?.ttftChange, forKey: .ttftChange)
        try c.encode(comparison?.itlChange, forKey: .itlChange)
        try c.encode(comparison?.latencyChange, forKey: .latencyChange)
        try c.encode(comparison?.json, forKey: .comparison)
        // Only asked for with --server-side.
        if let serverSide { try c.encode(serverSide.json, forKey: .serverSide) }
    }

    package var failureMessage: String? { failure }

    package static let fields = [
        ReportField("model", "the model loaded"),
        ReportField("level_count", "levels run"),
        ReportField("requests", "requests sent, all levels"),
        ReportField("errors", "failed requests, all levels"),
        ReportField("rps", "the best level's successful requests per second"),
        ReportField("tokens", "output tokens, all levels"),
        ReportField("ttft_ms", "the first level's median time to first token; null without a success", unit: "ms"),
        ReportField("itl_ms", "the first level's median inter-token latency (per token, from the server's count); null without one", unit: "ms"),
        ReportField("latency_ms", "the first level's median end-to-end latency; null without a success", unit: "ms"),
        ReportField("parameters", "model, requests, duration_s, concurrency, max_tokens, prompt, rate, poisson, burstiness, seed, max_concurrency, sweep, ramp_up_s, slo, find_max, prompt_source, prompts_file, prompt_tokens, prompt_tokens_counted_by, output_tokens, ignore_eos, options, distinct_prompts, since, time_scale, warmup, max_error_rate, early_stop"),
        ReportField("levels", "per level: concurrency, mode, requested_rate, burstiness, achieved_rate, wall_ms, requests_per_second, output_tokens_per_second, requests, ok, errors, error_kinds, ttft_ms, itl_ms, icl_ms, tpot_ms, latency_ms, tokens_per_second, output_tokens, tokens_counted_by, tokens_per_chunk, token_mismatch, prompt_tokens, cold_loads, cache_hits, send_lag_ms, queue_ms, generator_behind, max_in_flight, client_threads, ramp_up_requests, unsent, slo_attainment, goodput, slo_met, slo_broken_by, stopped_early, stop_reason, short_replies, held_for_log_s"),
        ReportField("feasible_max", "with --find-max: the highest concurrency or rate (requests/s) that met the SLO; null when none did"),
        ReportField("infeasible_min", "with --find-max: the lowest load above feasible_max that broke the SLO; null when none did"),
        ReportField("broken_by", "with --find-max: the first target infeasible_min broke, as written in --slo"),
        ReportField("monotonic", "with --find-max: false when a load broke the SLO below one that met it"),
        ReportField("run_id", "this run's row in the session log's runs table (its levels are in bench_levels); null without a log"),
        ReportField("baseline_run", "with --compare: the earlier run's id"),
        ReportField("rps_change", "with --compare: the best level's requests/s against the earlier run's, as a fraction (0.1 = 10% more)"),
        ReportField("ttft_change", "with --compare: the first level's median TTFT against the earlier run's, as a fraction"),
        ReportField("itl_change", "with --compare: the first level's median ITL against the earlier run's, as a fraction"),
        ReportField("latency_change", "with --compare: the first level's median end-to-end latency against the earlier run's, as a fraction"),
        ReportField("comparison", "with --compare: baseline_run, differing_parameters and per level load, baseline_load and each figure's baseline, now and change"),
        ReportField("server_side", "with --server-side: what Prometheus recorded over the run (prometheus, error, targets)"),
    ]

    package static var example: BenchReport {
        let settings = BenchCommand.Settings(model: "m", requests: 1, duration: nil, concurrencies: [1], maxTokens: 8, prompt: "hi")
        return BenchReport(settings: settings, levels: [BenchCommand.Level(concurrency: 1, samples: [], wallSeconds: 1)],
                           serverSide: ServerSideView(prometheus: "http://127.0.0.1:9090", start: Date(timeIntervalSince1970: 0),
                                                      end: Date(timeIntervalSince1970: 1), rows: [], error: nil, promql: []))
    }

    package func renderText() -> String {
        var text = BenchCommand.table(settings, measured)
        if chart, let drawn = BenchChart.draw(measured) { text += "\n" + drawn }
        if let comparison { text += "\n" + comparison.text }
        if let runID { text += "run \(runID) in the session log\n" }
        if let axis = settings.findMax {
            func load(_ v: Double?) -> String {
                guard let v else { return "none" }
                return axis == .rate ? Format.rate(v) : "concurrency \(Int(v))"
            }
            text += "highest load meeting the SLO: \(load(feasibleMax)); lowest breaking it: \(load(infeasibleMin))"
            if let brokenBy { text += " (broke \(brokenBy) first)" }
            text += "\n"
            if monotonic == false { text += "not monotonic: a lower load broke the SLO that a higher one met; the figures above say where\n" }
        }
        if let serverSide { text += "\n" + serverSide.text(verbose: verbose) }
        return text
    }
}
