import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishGateway
import AishSessionLog
import AishTelemetry

/// `tail metrics [PROVIDER] [--every S]` and `tail requests [-m MODEL] [-p PROVIDER]
/// [--slow MS]`: live views until Ctrl-C at a terminal; bounded plain lines (`--count N`,
/// `--for S`) in scripts and pipes.
package enum TailCommand {
    package static let spec = CommandSpec(
        name: "tail",
        summary: "live view until Ctrl-C: metric rates and sparklines, or new log rows as they land",
        help: """
            tail metrics scrapes /metrics (and Ollama's /api/ps) every S (default 2s) and redraws
            a table in place: gauges as they are, counters as a rate per second, latency
            histograms as the median of the observations since the previous scrape, each with a
            sparkline of its recent values. tail requests prints request attempts as they are
            written to the session log, also by other aish processes (the default view).
            At a terminal both run until Ctrl-C. In a script or a pipe they print plain lines and
            need --count N (updates for metrics, rows for requests) or --for S (a duration).
            --for bounds the whole run, a request still waiting included; a tail metrics in
            which nothing was ever read (every scrape or query failed) fails (exit 1).
            tail metrics --prom reads Prometheus instead (monitoring.prometheus), every S
            (default 5s): every instance it scrapes, rates as Prometheus computes them, trends
            over the last --since (default 5m), latency as p50/p99 over that window; PROVIDER
            may be a job, an instance or a host.
            The fields below are those of tail requests; tail metrics has update_count,
            provider_count (providers, or Prometheus targets with --prom) and updates (each with
            its time and rows; collected in scripts, pipes and under --json, not at a terminal).
            """,
        options: [
            OptionSpec(["--every"], .duration("S"), help: "time between updates (metrics: default 2s; requests: 0.5s)"),
            OptionSpec(["--prom"], help: "metrics: read Prometheus (monitoring.prometheus) instead of scraping",
                       subcommands: ["metrics"]),
            OptionSpec(["--since"], .duration("DURATION"), help: "with --prom: the window of the trends (default 5m)",
                       goesWith: "--prom", subcommands: ["metrics"]),
            OptionSpec(["--count"], .wholeNumber("N"), help: "stop after N updates (metrics) or N rows (requests)"),
            OptionSpec(["--for"], .duration("S"), help: "stop after S (e.g. 30s)"),
            OptionSpec(["-m", "--model"], .text("MODEL"), help: "requests: only this model (requested or backend name)",
                       completion: .dynamic({ ctx in MetricsRouting.modelNames(ctx) }), subcommands: ["requests"]),
            OptionSpec(["-p", "--provider"], .text("PROVIDER"), help: "requests: only this provider",
                       completion: .dynamic({ ctx in (try? ctx.config().providers.providers.map(\.name)) ?? [] }),
                       subcommands: ["requests"]),
            OptionSpec(["--slow"], .milliseconds("MS"), help: "requests: only those slower than MS end to end (e.g. 2s or 500)",
                       subcommands: ["requests"]),
        ],
        // The view is the subcommand word (default requests); PROVIDER follows `metrics`.
        positionals: [
            PositionalSpec(name: "PROVIDER", help: "metrics: one provider", optional: true,
                           completion: .dynamic({ ctx in (try? ctx.config().providers.providers.map(\.name)) ?? [] }),
                           subcommands: ["metrics"]),
        ],
        subcommands: ["metrics", "requests"], defaultSubcommand: "requests", subcommandTitle: "view",
        report: ReportShape(TailRequestsReport.self),
        otherReports: [ReportShape(TailMetricsReport.self, mode: "tail metrics")],
        run: { inv, ctx in try run(inv, ctx) })

    /// When a tail stops.
    package struct Bounds {
        package var count: Int?
        package var seconds: Double?
        package var live: Bool
    }

    package static func bounds(_ inv: Invocation, _ ctx: ShellContext) throws -> Bounds {
        var count: Int?
        if inv.value("--count") != nil {
            let n = try inv.int("--count", default: 0)
            guard n >= 1 else { throw UsageError(message: "tail: --count must be at least 1, got \(n)") }
            count = n
        }
        var seconds: Double?
        if inv.value("--for") != nil {
            let s = try inv.duration("--for", default: 0)
            guard s > 0 else { throw UsageError(message: "tail: --for must be longer than 0") }
            seconds = s
        }
        let live = TerminalCheck(ctx).interactive
        if !live, count == nil, seconds == nil {
            throw UsageError(message: "tail: in a script or pipe, give --count N or --for S (it would never end)")
        }
        return Bounds(count: count, seconds: seconds, live: live)
    }

    package static func run(_ inv: Invocation, _ ctx: ShellContext, config given: AishConfig? = nil) throws -> CommandResult {
        let view = inv.positionals.first ?? "requests"
        switch view {
        case "metrics":
            for o in ["--model", "--provider", "--slow"] where inv.flag(o) {
                throw UsageError(message: "tail metrics: \(o) is for tail requests")
            }
            if inv.flag("--prom") {
                return try tailPrometheus(inv, ctx, target: inv.positionals.dropFirst().first, config: given)
            }
            if inv.value("--since") != nil { throw UsageError(message: "tail metrics: --since goes with --prom", usage: spec.usage) }
            return try tailMetrics(inv, ctx, provider: inv.positionals.dropFirst().first, config: given)
        case "requests":
            guard inv.positionals.count <= 1 else {
                throw UsageError(message: "tail requests: use -p PROVIDER to pick a provider")
            }
            return try TailRequests.run(inv, ctx, bounds: try bounds(inv, ctx))
        default:
            preconditionFailure("tail: '\(view)' passed the subcommand check but is no view")
        }
    }

    package static func tailMetrics(_ inv: Invocation, _ ctx: ShellContext, provider: String?, config given: AishConfig?) throws -> CommandResult {
        let every = try inv.duration("--every", default: 2)
        guard every >= 0.1 else { throw UsageError(message: "tail: --every must be at least 100ms") }
        let bounds = try bounds(inv, ctx)
        let config = try given ?? ctx.config()
        let targets = try ScrapeTarget.targets(in: config, only: provider)
        if targets.isEmpty { throw CommandFailure("tail metrics: no active provider to scrape") }
        let viewState = TailMetricsView()
        let run = updateLoop(ctx, every: every, bounds: bounds,
                             title: { now in "tail metrics — every \(JSONValue.format(every))s, \(TailClock.format(now)) (Ctrl-C to stop)\n" }) { tickStart, stop in
            let results = MetricsScraper.scrape(targets, environment: ctx.environment, interrupt: stop)
            if stop.isRaised { return nil }
            ctx.recorder?.recordMetricSamples(results.flatMap(MetricsReport.samples))
            return TailSample(rows: viewState.update(results, at: tickStart) + gatewayRows(config, only: provider, ctx, interrupt: stop),
                              succeeded: results.contains { $0.error == nil }, error: results.compactMap(\.error).first)
        }
        return CommandResult(report: TailMetricsReport(updateCount: run.ticks, providerCount: targets.count, updates: run.updates,
                                                       printed: run.printed, failure: run.failure(view: "tail metrics", bounds: bounds)))
    }

    /// `tail metrics --prom`: every S, the key series of the last `--since` (default 5m)
    /// from Prometheus: rates computed by Prometheus, trends from its history, so the view is
    /// full from the first frame and covers every instance Prometheus scrapes.
    package static func tailPrometheus(_ inv: Invocation, _ ctx: ShellContext, target: String?, config given: AishConfig?) throws -> CommandResult {
        let every = try inv.duration("--every", default: 5)
        guard every >= 1 else { throw UsageError(message: "tail metrics --prom: --every must be at least 1s (Prometheus scrapes every few seconds)", usage: spec.usage) }
        let window = try inv.duration("--since", default: 300)
        guard window >= 30 else { throw UsageError(message: "tail metrics --prom: --since must be at least 30s", usage: spec.usage) }
        let bounds = try bounds(inv, ctx)
        let config = try given ?? ctx.config()
        let api = try PrometheusMetricsCommand.client(config, ctx, command: "tail metrics --prom")
        var targetsSeen = 0
        let title = { (now: Date) in
            "tail metrics --prom — \(api.baseURL), last \(PrometheusMetricsReport.durationText(window)), every \(JSONValue.format(every))s, \(TailClock.format(now)) (Ctrl-C to stop)\n"
        }
        let run = try updateLoop(ctx, every: every, bounds: bounds, title: title) { _, stop in
            let end = Date()
            let step = max(1, (window / 60).rounded(.up))
            do {
                let report = try PrometheusMetricsCommand.collect(
                    api: api, config: config, window: window, step: step, start: end.addingTimeInterval(-window), end: end,
                    target: target, filter: SeriesFilter(nil), filterText: nil, interrupt: stop)
                if stop.isRaised { return nil }
                targetsSeen = report.targets.count
                // Read when Prometheus answered at least one query (targets down are an answer).
                let answered = report.unreachable == nil && (!report.targets.isEmpty || report.errors.isEmpty)
                return TailSample(rows: prometheusRows(report), succeeded: answered,
                                  error: report.unreachable ?? report.errors.first?.error)
            } catch let e as PrometheusError {
                if stop.isRaised { return nil }
                return TailSample(rows: [TailMetricsView.Row(provider: api.baseURL, series: "", now: "", value: nil, trend: "", error: e.description)],
                                  succeeded: false, error: e.description)
            } catch where stop.isRaised {
                return nil
            }
        }
        return CommandResult(report: TailMetricsReport(updateCount: run.ticks, providerCount: targetsSeen, updates: run.updates,
                                                       printed: run.printed, failure: run.failure(view: "tail metrics --prom", bounds: bounds)))
    }

    /// One update's rows, whether anything in it was read, and its first error.
    package struct TailSample {
        package var rows: [TailMetricsView.Row]
        package var succeeded: Bool
        package var error: String?
    }

    /// How a `tail metrics` run went: what it showed, and whether any update read anything.
    package struct LoopOutcome {
        package var ticks: Int
        package var updates: [JSONValue]
        package var printed: String
        package var succeeded: Int
        package var lastError: String?
        package var deadlinePassed: Bool

        /// A tail in which nothing was ever read failed (exit 1), saying why.
        package func failure(view: String, bounds: Bounds) -> String? {
            guard succeeded == 0 else { return nil }
            if ticks == 0, deadlinePassed, let seconds = bounds.seconds {
                return "\(view): nothing read within --for \(DurationText.seconds(seconds))" + (lastError.map { ": \($0)" } ?? "")
            }
            guard ticks > 0 else { return nil }
            return "\(view): none of \(ticks) update\(ticks == 1 ? "" : "s") read anything" + (lastError.map { " (last error: \($0))" } ?? "")
        }
    }

    /// The loop of both `tail metrics` views: every `every` seconds a sample of rows (nil:
    /// interrupted, stop), shown as a table redrawn in place at a terminal, as plain lines in
    /// scripts and pipes, and kept for `--json`; until Ctrl-C, `--count` or `--for`. `--for`
    /// bounds the whole run: `sample` gets a flag raised at Ctrl-C and when `--for` ends, so a
    /// request in flight then is cut short (and its update dropped).
    /// `sample` gets the monotonic time its tick started.
    private static func updateLoop(_ ctx: ShellContext, every: Double, bounds: Bounds, title: (Date) -> String,
                             sample: (Double, InterruptFlag) throws -> TailSample?) rethrows -> LoopOutcome {
        let region = LiveRegion(output: ctx.output)
        let json = ctx.options.json
        var printed = ""
        var updates: [JSONValue] = []
        var ticks = 0
        var succeeded = 0
        var lastError: String?
        let started = MonotonicClock.now()
        let stop = DeadlineInterrupt(parent: ctx.interrupt, deadline: bounds.seconds.map { started + $0 })
        defer { stop.finish() }
        while !stop.flag.isRaised {
            let tickStart = MonotonicClock.now()
            guard let tick = try sample(tickStart, stop.flag), !stop.flag.isRaised else { break }
            let rows = tick.rows
            ticks += 1
            if tick.succeeded { succeeded += 1 }
            if let e = tick.error { lastError = e }
            let now = Date()
            // A live view can run for days: it keeps no history (Ctrl-C leaves nothing to read).
            if json || !bounds.live {
                updates.append(.object([("at", .string(UTCTime.iso8601(now))),
                                        ("rows", .array(rows.map(jsonRow)))]))
            }
            if json {
                // Printed once, at the end, by the runner.
            } else if bounds.live {
                let width = TerminalSize.columns()
                region.draw(title(now) + TailMetricsView.table(rows, width: width), width: width)
            } else {
                let lines = TailMetricsView.plainLines(rows, at: now)
                ctx.output.write(lines)
                printed += lines
            }
            if let count = bounds.count, ticks >= count { break }
            let next = tickStart + every
            if let seconds = bounds.seconds, next - started > seconds { break }
            if !ctx.sleep(seconds: max(0, next - MonotonicClock.now())) { break }
        }
        // The terminal echoed "^C" after the table: the prompt should start on a line of its own.
        if bounds.live, ctx.interrupt.isRaised { ctx.output.write("\n") }
        return LoopOutcome(ticks: ticks, updates: updates, printed: printed, succeeded: succeeded, lastError: lastError,
                           deadlinePassed: stop.deadlinePassed)
    }

    /// One row per target and series: the last value (rates per second), its trend over
    /// the window; histograms as their p50 and p99 over the window.
    /// The gateway's deployments cooling down now (from its Redis), a row each, beside its
    /// metrics: series `cooldown DEPLOYMENT`, seconds left, and why. Nothing when none is.
    package static func gatewayRows(_ config: AishConfig, only provider: String?, _ ctx: ShellContext,
                            interrupt: InterruptFlag) -> [TailMetricsView.Row] {
        guard let gw = config.providers.providers.first(where: { $0.type == .litellm && $0.isActive }),
              provider == nil || provider == gw.name else { return [] }
        let c = GatewayCooldowns.read(config, environment: ctx.environment, interrupt: interrupt)
        if let e = c.unavailable, c.redis != nil {
            return [TailMetricsView.Row(provider: gw.name, series: "", now: "", value: nil, trend: "", error: e)]
        }
        return c.byID.keys.sorted().map { id in
            let cd = c.byID[id]!
            return TailMetricsView.Row(provider: gw.name, series: "cooldown \(id)", now: "\(Int((cd.seconds ?? 0).rounded(.up))) s",
                                       value: cd.seconds, trend: GatewayState.reasonText(cd).map { LogFormat.preview($0, limit: 60) } ?? "")
        }
    }

    package static func prometheusRows(_ report: PrometheusMetricsReport) -> [TailMetricsView.Row] {
        var rows: [TailMetricsView.Row] = []
        for e in report.errors {
            rows.append(TailMetricsView.Row(provider: report.prometheus, series: "", now: "", value: nil, trend: "", error: e.error))
        }
        for t in report.targets {
            let who = (t.provider ?? t.job) + " " + t.instance
            if t.health == "down" {
                rows.append(TailMetricsView.Row(provider: who, series: "", now: "", value: nil, trend: "",
                                                error: "down" + (t.lastError.map { ": \($0)" } ?? "")))
                continue
            }
            for s in t.series {
                if s.shape == .histogram {
                    let text = [("p50", s.p50Ms), ("p99", s.p99Ms)].map { "\($0.0) \($0.1.map(Format.milliseconds) ?? "-")" }
                        .joined(separator: "  ") + " (n=\(s.count.map { Format.count($0.rounded()) } ?? "0"))"
                    rows.append(TailMetricsView.Row(provider: who, series: s.name, now: text, value: s.p50Ms.map { $0 / 1000 },
                                                    trend: "", error: nil))
                } else {
                    let now = s.last.map(s.format) ?? "-"
                    rows.append(TailMetricsView.Row(provider: who, series: s.name + s.labels, now: now, value: s.last,
                                                    trend: s.trend, error: nil, labels: s.labels))
                }
            }
        }
        return rows
    }

    package static func jsonRow(_ r: TailMetricsView.Row) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("provider", .string(r.provider))]
        if let error = r.error {
            pairs.append(("error", .string(error)))
        } else {
            pairs += [("series", .string(r.series)), ("now", .string(r.now)),
                      ("value", r.value.map { $0.isFinite ? .double($0) : .null } ?? .null)]
        }
        return .object(pairs)
    }
}

/// What `tail metrics` leaves when it stops. Its lines were printed while it ran (a plain
/// line per series and update in scripts and pipes); the text is those lines again, for
/// `expect contains`.
package struct TailMetricsReport: CommandReport {
    package var updateCount: Int
    package var providerCount: Int
    /// Each update: `at` (UTC) and its `rows` (provider, series, now, value, or error).
    package var updates: [JSONValue]
    package var printed: String
    /// Why the tail failed: no update read anything (nil when one did).
    package var failure: String? = nil

    package enum CodingKeys: String, CodingKey { case updateCount = "update_count", providerCount = "provider_count", updates }

    package static let fields = [
        ReportField("update_count", "updates shown"),
        ReportField("provider_count", "providers scraped (with --prom: Prometheus targets seen)"),
        ReportField("updates", "each update: at, rows (provider, series, now, value, or error); empty at a terminal"),
    ]
    package static let example = TailMetricsReport(updateCount: 1, providerCount: 1, updates: [
        .object([("at", "2026-11-29T10:00:00Z"), ("rows", .array([.object([
            ("provider", "vllm"), ("series", "requests_running"), ("now", "0"), ("value", .double(0))])]))]),
    ], printed: "")

    package var alreadyPrinted: Bool { true }
    package var failureMessage: String? { failure }
    package func renderText() -> String { printed }
}

/// What `tail requests` leaves when it stops: the rows were printed as they landed.
package struct TailRequestsReport: CommandReport {
    package var count: Int
    /// The rows shown, as `log --json` gives them; empty at a terminal.
    package var attempts: [JSONValue]
    package var printed: String

    package enum CodingKeys: String, CodingKey { case count, attempts }

    package static let fields = [
        ReportField("count", "rows shown"),
        ReportField("attempts", "the rows shown, with every column; empty at a terminal"),
    ]
    package static let example = TailRequestsReport(count: 1, attempts: [.object([("id", 1), ("provider", "ollama")])], printed: "")

    package var alreadyPrinted: Bool { true }
    package func renderText() -> String { printed }
}
