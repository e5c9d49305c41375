import FoundationEssentials
import Glibc

/// `tail metrics [PROVIDER] [--every S]` and `tail requests [-m MODEL] [-p PROVIDER]
/// [--slow MS]`: live views until Ctrl-C at a terminal; bounded plain lines (`--count N`,
/// `--for S`) in scripts and pipes.
enum TailCommand {
    static let spec = CommandSpec(
        name: "tail",
        usage: "tail [metrics [PROVIDER] [--every S] | requests [-m MODEL] [-p PROVIDER] [--slow MS]] [--count N] [--for S]",
        summary: "live view until Ctrl-C: metric rates and sparklines, or new log rows as they land",
        help: """
            tail metrics scrapes /metrics (and Ollama's /api/ps) every S (default 2s) and redraws
            a table in place: gauges as they are, counters as a rate per second, latency
            histograms as the median of the observations since the previous scrape, each with a
            sparkline of its recent values. tail requests prints request attempts as they are
            written to the session log, also by other aish processes (the default view).
            At a terminal both run until Ctrl-C. In a script or a pipe they print plain lines and
            need --count N (updates for metrics, rows for requests) or --for S (a duration).
            Fields for expect: tail metrics: updates, providers; tail requests: count (rows).
            """,
        options: [
            OptionSpec(names: ["--every"], valueName: "S", help: "time between updates (metrics: default 2s; requests: 0.5s)"),
            OptionSpec(names: ["--count"], valueName: "N", help: "stop after N updates (metrics) or N rows (requests)"),
            OptionSpec(names: ["--for"], valueName: "S", help: "stop after S (e.g. 30s)"),
            OptionSpec(names: ["-m", "--model"], valueName: "MODEL", help: "requests: only this model (requested or backend name)",
                       completion: .dynamic({ ctx in MetricsRouting.modelNames(ctx) })),
            OptionSpec(names: ["-p", "--provider"], valueName: "PROVIDER", help: "requests: only this provider",
                       completion: .dynamic({ ctx in (try? ctx.config().providers.providers.map(\.name)) ?? [] })),
            OptionSpec(names: ["--slow"], valueName: "MS", help: "requests: only those slower than MS end to end (e.g. 2s or 500)"),
        ],
        // The view is the subcommand word (default requests); PROVIDER follows `metrics`.
        positionals: [
            PositionalSpec(name: "PROVIDER", help: "metrics: one provider", optional: true,
                           completion: .dynamic({ ctx in (try? ctx.config().providers.providers.map(\.name)) ?? [] })),
        ],
        subcommands: ["metrics", "requests"], defaultSubcommand: "requests", subcommandTitle: "view",
        run: { inv, ctx in try run(inv, ctx) })

    /// When a tail stops.
    struct Bounds {
        var count: Int?
        var seconds: Double?
        var live: Bool
    }

    static func bounds(_ inv: Invocation, _ ctx: ShellContext) throws -> Bounds {
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

    static func run(_ inv: Invocation, _ ctx: ShellContext, config given: AishConfig? = nil) throws -> CommandResult {
        let view = inv.positionals.first ?? "requests"
        switch view {
        case "metrics":
            for o in ["--model", "--provider", "--slow"] where inv.flag(o) {
                throw UsageError(message: "tail metrics: \(o) is for tail requests")
            }
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

    static func tailMetrics(_ inv: Invocation, _ ctx: ShellContext, provider: String?, config given: AishConfig?) throws -> CommandResult {
        let every = try inv.duration("--every", default: 2)
        guard every >= 0.1 else { throw UsageError(message: "tail: --every must be at least 100ms") }
        let bounds = try bounds(inv, ctx)
        let config = try given ?? ctx.config()
        let targets = try ScrapeTarget.targets(in: config, only: provider)
        if targets.isEmpty { return .failure("tail metrics: no active provider to scrape") }
        let viewState = TailMetricsView()
        let region = LiveRegion(output: ctx.output)
        let json = ctx.options.json
        var printed = ""
        var updates: [JSONValue] = []
        var ticks = 0
        let started = Stopwatch.now()
        while !ctx.interrupt.isRaised {
            let tickStart = Stopwatch.now()
            let results = MetricsScraper.scrape(targets, environment: ctx.environment, interrupt: ctx.interrupt)
            if ctx.interrupt.isRaised { break }
            ctx.recorder?.recordMetricSamples(results.flatMap(MetricsReport.samples))
            let rows = viewState.update(results, at: tickStart)
            ticks += 1
            let now = Date()
            if json {
                updates.append(.object([("at", .string(UTCTime.iso8601(now))),
                                        ("rows", .array(rows.map(jsonRow)))]))
            } else if bounds.live {
                region.draw("tail metrics — every \(JSONValue.format(every))s, \(TailClock.format(now)) (Ctrl-C to stop)\n"
                            + TailMetricsView.table(rows))
            } else {
                let lines = TailMetricsView.plainLines(rows, at: now)
                ctx.output.write(lines)
                printed += lines
            }
            if let count = bounds.count, ticks >= count { break }
            let next = tickStart + every
            if let seconds = bounds.seconds, next - started > seconds { break }
            if !ctx.sleep(seconds: max(0, next - Stopwatch.now())) { break }
        }
        // The terminal echoed "^C" after the table: the prompt should start on a line of its own.
        if bounds.live, ctx.interrupt.isRaised { ctx.output.write("\n") }
        let fields: [(String, JSONValue)] = [("updates", .int(ticks)), ("providers", .int(targets.count))]
        var result = CommandResult.ok(printed, fields: fields,
                                      data: .object([("status", .string("ok")), ("updates", .array(updates))]))
        result.alreadyPrinted = true
        return result
    }

    static func jsonRow(_ r: TailMetricsView.Row) -> JSONValue {
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
