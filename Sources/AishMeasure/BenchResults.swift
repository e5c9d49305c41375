import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishHTTP
import AishConfig
import AishSessionLog
import AishTelemetry

/// What a bench run leaves behind: its levels in the session log, the files it was asked to
/// write (`--out`, `--csv`, `--requests-jsonl`), each through `OutputFile` with secrets masked.
enum BenchResults {
    static func levelRecords(_ levels: [BenchCommand.Level]) -> [BenchLevelRecord] {
        levels.enumerated().map { i, l in
            let s = l.summary
            return BenchLevelRecord(level: i, mode: l.mode.rawValue, concurrency: l.concurrency, requestedRate: l.requestedRate,
                                    achievedRate: l.achievedRate, wallMs: l.wallSeconds * 1000, requests: s.requests, ok: s.ok,
                                    errors: s.errors, requestsPerSecond: l.requestsPerSecond,
                                    outputTokensPerSecond: l.outputTokensPerSecond, ttftP50Ms: s.ttft?.p50, ttftP99Ms: s.ttft?.p99,
                                    itlP50Ms: s.itl?.p50, itlP99Ms: s.itl?.p99, iclP50Ms: s.icl?.p50, tpotP50Ms: s.tpot?.p50,
                                    latencyP50Ms: s.latency?.p50, latencyP99Ms: s.latency?.p99, goodput: l.goodput,
                                    sloMet: l.verdict?.met, stopReason: l.stopReason)
        }
    }

    static let csvHeader = "level,mode,load,concurrency,requested_rate,achieved_rate,wall_ms,requests,ok,errors,requests_per_second,output_tokens_per_second,ttft_p50_ms,ttft_p99_ms,itl_p50_ms,itl_p99_ms,icl_p50_ms,tpot_p50_ms,latency_p50_ms,latency_p99_ms,goodput,slo_met,stopped_early,stop_reason,ttft_p95_ms,itl_p95_ms,latency_p95_ms"

    /// One row per level.
    static func csv(_ levels: [BenchCommand.Level]) -> String {
        func num(_ v: Double?) -> String { v.map { cFormat("%.3f", $0) } ?? "" }
        var out = csvHeader + "\n"
        for (r, l) in zip(levelRecords(levels), levels) {
            let cells = ["\(r.level + 1)", r.mode, l.label, r.concurrency.map(String.init) ?? "", num(r.requestedRate),
                         num(r.achievedRate), num(r.wallMs), "\(r.requests)", "\(r.ok)", "\(r.errors)", num(r.requestsPerSecond),
                         num(r.outputTokensPerSecond), num(r.ttftP50Ms), num(r.ttftP99Ms), num(r.itlP50Ms), num(r.itlP99Ms),
                         num(r.iclP50Ms), num(r.tpotP50Ms), num(r.latencyP50Ms), num(r.latencyP99Ms), num(r.goodput),
                         r.sloMet.map { $0 ? "1" : "0" } ?? "", r.stopReason == nil ? "0" : "1", r.stopReason ?? "",
                         // p95s last: the columns before keep their places.
                         num(l.summary.ttft?.p95), num(l.summary.itl?.p95), num(l.summary.latency?.p95)]
            out += cells.map(LogFormat.csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    /// One JSON object a line per request, warm-ups and ramp-up included and marked.
    static func requestLines(_ levels: [BenchCommand.Level]) -> String {
        var out = ""
        for (i, l) in levels.enumerated() {
            for s in l.samples {
                func ms(_ v: Double?) -> JSONValue { v.map { .double(LatencySummary.round($0, 3)) } ?? .null }
                let line: JSONValue = .object([
                    ("level", .int(i + 1)), ("load", .string(l.label)), ("sequence", .int(s.sequence + 1)),
                    ("started_at", .string(UTCTime.iso8601(s.startedAt, milliseconds: true))),
                    ("counted", .bool(!s.rampUp)), ("ok", .bool(s.ok)), ("error_kind", s.errorKind.map { .string($0) } ?? .null),
                    ("error", s.error.map { .string($0) } ?? .null), ("provider", s.provider.map { .string($0) } ?? .null),
                    ("ttft_ms", ms(s.ttftMs)), ("itl_ms", ms(s.itlMs)), ("icl_ms", ms(s.iclMs)), ("tpot_ms", ms(s.tpotMs)),
                    ("latency_ms", ms(s.totalMs)), ("output_tokens", s.outputTokens.map { .int($0) } ?? .null),
                    ("tokens_counted_by", s.tokenSource.map { .string($0.rawValue) } ?? .null), ("chunks", .int(s.chunks)),
                    ("prompt_tokens", s.promptTokens.map { .int($0) } ?? .null),
                    ("queue_ms", ms(s.queueMs)), ("send_lag_ms", ms(s.sendLagMs)),
                ])
                out += line.serialized() + "\n"
            }
        }
        return out
    }

    /// Writes the files the options named; a file that cannot be written fails the command.
    static func write(_ report: BenchReport, _ outputs: BenchOutputs, ctx: ShellContext) throws {
        func put(_ text: @autoclosure () throws -> String, _ path: String?, _ privacy: OutputFile.Privacy) throws {
            guard let path else { return }
            do { try OutputFile.write(ctx.output.forFile(try text()), to: path, privacy: privacy) } catch {
                throw CommandFailure("bench: cannot write \(path): \(error)")
            }
        }
        try put(try JSONValueEncoder.encode(report).serialized() + "\n", outputs.json, .keepMode)
        try put(csv(report.measured), outputs.csv, .keepMode)
        // Error texts can hold what a server echoed back: private, as exports are.
        try put(requestLines(report.measured), outputs.requests, .privateToUser)
    }
}

/// An earlier bench run read back from the log for `--compare`.
struct BenchBaseline: Sendable {
    var id: Int64
    var parameters: JSONValue
    var summary: JSONValue

    /// `which`: a run id, or "last" (the newest bench run of `model`).
    static func load(_ which: String, model: String, ctx: ShellContext) throws -> BenchBaseline {
        let reader = try SessionLogCommands.openReader(ctx, command: "bench")
        let run: LoggedBenchRun?
        do {
            run = try reader.benchRun(id: which == "last" ? nil : Int64(which), model: model)
        } catch {
            throw CommandFailure("bench: session log unavailable: \(reader.path): \(error)")
        }
        guard let run else {
            throw CommandFailure(which == "last" ? "bench: --compare last: the log has no earlier bench run of \(model)"
                                                 : "bench: --compare: no bench run with id \(which) in the log")
        }
        return BenchBaseline(id: run.id, parameters: run.parameters, summary: run.summary)
    }
}

/// This run against an earlier one: per level (matched by position) each figure's value
/// then and now and its change as a fraction ((now − then) / then).
struct BenchComparison: Sendable {
    var baselineID: Int64
    var differingParameters: [String]
    var rpsChange: Double?
    var ttftChange: Double?
    var itlChange: Double?
    var latencyChange: Double?
    var rows: [Row]

    struct Row: Sendable {
        var load: String
        var baselineLoad: String?
        var figures: [(name: String, then: Double?, now: Double?)]
    }

    static func change(_ then: Double?, _ now: Double?) -> Double? {
        guard let then, let now, then != 0 else { return nil }
        return LatencySummary.round((now - then) / then, 4)
    }

    static let figures: [(name: String, path: [String])] = [
        ("requests_per_second", ["requests_per_second"]), ("ttft_p50_ms", ["ttft_ms", "p50"]), ("ttft_p99_ms", ["ttft_ms", "p99"]),
        ("itl_p50_ms", ["itl_ms", "p50"]), ("latency_p50_ms", ["latency_ms", "p50"]), ("latency_p99_ms", ["latency_ms", "p99"]),
        ("errors", ["errors"]),
    ]

    static func value(_ level: JSONValue, _ path: [String]) -> Double? {
        var v: JSONValue? = level
        for key in path { v = v?[key] }
        return v?.doubleValue
    }

    init(baseline: BenchBaseline, report: BenchReport) {
        baselineID = baseline.id
        var differing: [String] = []
        if case let .object(now) = report.parameters {
            for (key, value) in now where key != "prompt" && baseline.parameters[key] != value { differing.append(key) }
        }
        differingParameters = differing
        func levels(_ v: JSONValue?) -> [JSONValue] { if case let .array(a)? = v { return a }; return [] }
        let then = levels(baseline.summary["levels"])
        let now = levels(report.levels)
        rows = now.enumerated().map { i, l in
            let old: JSONValue? = then.indices.contains(i) ? then[i] : nil
            return Row(load: report.measured.indices.contains(i) ? report.measured[i].label : "\(i + 1)",
                       baselineLoad: old.map(Self.label),
                       figures: Self.figures.map { f in (f.name, old.flatMap { Self.value($0, f.path) }, Self.value(l, f.path)) })
        }
        let bestThen = then.compactMap { Self.value($0, ["requests_per_second"]) }.max()
        rpsChange = Self.change(bestThen, report.rps)
        ttftChange = Self.change(then.first.flatMap { Self.value($0, ["ttft_ms", "p50"]) }, report.ttft)
        itlChange = Self.change(then.first.flatMap { Self.value($0, ["itl_ms", "p50"]) }, report.itl)
        latencyChange = Self.change(then.first.flatMap { Self.value($0, ["latency_ms", "p50"]) }, report.latency)
    }

    /// A logged level's load as the table names it.
    static func label(_ level: JSONValue) -> String {
        let mode = level["mode"]?.stringValue ?? ""
        switch mode {
        case "synchronous": return "sync"
        case "replay": return "replay"
        case "constant", "poisson", "bursty":
            var s = Format.rate(level["requested_rate"]?.doubleValue ?? 0)
            if mode == "poisson" { s += " poisson" }
            if mode == "bursty", let b = level["burstiness"]?.doubleValue { s += " burst " + cFormat("%g", b) }
            if let c = level["concurrency"]?.intValue { s += " ≤\(c)" }
            return s
        default: return "c=\(level["concurrency"]?.intValue ?? 0)"
        }
    }

    var json: JSONValue {
        func num(_ v: Double?) -> JSONValue { v.map { .double(LatencySummary.round($0, 2)) } ?? .null }
        return .object([
            ("baseline_run", .int(Int(baselineID))),
            ("differing_parameters", .array(differingParameters.map { .string($0) })),
            ("levels", .array(rows.map { r in
                .object([("load", .string(r.load)), ("baseline_load", r.baselineLoad.map { .string($0) } ?? .null)]
                    + r.figures.map { f in
                        (f.name, .object([("baseline", num(f.then)), ("now", num(f.now)), ("change", num(Self.change(f.then, f.now)))]))
                    })
            })),
        ])
    }

    var text: String {
        var out = "against run \(baselineID)"
        if !differingParameters.isEmpty { out += " (parameters differ: \(differingParameters.joined(separator: ", ")))" }
        out += "\n"
        var t = ReportTable(["LOAD", "WAS", "REQ/S", "TTFT p50", "ITL p50", "LATENCY p99", "ERR"],
                            alignments: [.left, .left, .right, .right, .right, .right, .right])
        func cell(_ f: (name: String, then: Double?, now: Double?)) -> String {
            guard let now = f.now else { return "-" }
            let shown = f.name == "requests_per_second" ? cFormat("%.1f", now) : f.name == "errors" ? "\(Int(now))" : Format.milliseconds(now)
            guard let c = Self.change(f.then, now) else { return shown }
            return shown + " (" + (c >= 0 ? "+" : "") + cFormat("%.0f%%", c * 100) + ")"
        }
        for r in rows {
            let by = Dictionary(r.figures.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            t.add([r.load, r.baselineLoad ?? "-", cell(by["requests_per_second"]!), cell(by["ttft_p50_ms"]!), cell(by["itl_p50_ms"]!),
                   cell(by["latency_p99_ms"]!), cell(by["errors"]!)])
        }
        return out + t.render()
    }
}

extension BenchReport {
    mutating func compare(with baseline: BenchBaseline) {
        comparison = BenchComparison(baseline: baseline, report: self)
    }
}

/// Latency against throughput, one point per level (its median end-to-end latency over its
/// output tokens/s), in a grid of characters: where latency turns up while throughput stops
/// growing is the knee.
enum BenchChart {
    static func draw(_ levels: [BenchCommand.Level], width: Int = 48, height: Int = 12) -> String? {
        let points = levels.enumerated().compactMap { i, l -> (Int, Double, Double)? in
            guard let latency = l.summary.latency?.p50, l.outputTokensPerSecond > 0 else { return nil }
            return (i, l.outputTokensPerSecond, latency)
        }
        guard points.count >= 2 else { return nil }
        let xMax = points.map(\.1).max()! * 1.05, yMax = points.map(\.2).max()! * 1.05
        let plot = BlockDrawing.plot(points.map { (x: $0.1, y: $0.2, mark: mark($0.0)) }, xMax: xMax, yMax: yMax,
                                     width: width, height: height, yLabel: Format.milliseconds(yMax),
                                     xLabel: cFormat("%.1f tok/s", xMax))
        return "median latency against output tokens/s (levels 1-9, then a-z)\n" + plot
    }

    static func mark(_ i: Int) -> Character {
        let marks = Array("123456789abcdefghijklmnopqrstuvwxyz")
        return i < marks.count ? marks[i] : "+"
    }
}
