import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig

/// `compare --server-side` and `bench --server-side`: what the servers themselves recorded
/// (Prometheus's series over the run's window) next to aish's client-side figures. It never
/// fails the command: an unreachable Prometheus is one line.
package struct ServerSideView: Sendable {
    package struct Row: Sendable {
        package var target: String
        package var requests: Double?
        package var ttft: [Double?]          // p50, p90, p99 in ms
        package var e2e: [Double?]
        package var generationRate: Double?  // output tokens/s, mean over the window
    }

    package var prometheus: String
    package var start: Date
    package var end: Date
    package var rows: [Row]
    package var error: String?
    package var promql: [String]

    package init(prometheus: String, start: Date, end: Date, rows: [Row], error: String? = nil, promql: [String]) {
        self.prometheus = prometheus
        self.start = start
        self.end = end
        self.rows = rows
        self.error = error
        self.promql = promql
    }

    /// Waits (at most ~12 s) until Prometheus has scraped every up target after `runEnd`, so
    /// the last requests are in, then reads the key series from `runStart` to now.
    package static func fetch(_ config: AishConfig, _ ctx: ShellContext, runStart: Date, runEnd: Date) -> ServerSideView {
        let api: PrometheusAPI
        do { api = try PrometheusMetricsCommand.client(config, ctx, command: "server side") } catch {
            return ServerSideView(prometheus: "-", start: runStart, end: runEnd, rows: [], error: "\(error)", promql: [])
        }
        let deadline = Date().addingTimeInterval(12)
        while Date() < deadline, !ctx.interrupt.isRaised {
            guard let targets = try? api.targets(interrupt: ctx.interrupt) else { break }
            let pending = targets.filter { $0.health == .up && ($0.lastScrape ?? .distantPast) <= runEnd }
            if pending.isEmpty { break }
            if !ctx.sleep(seconds: 0.5) { break }
        }
        let end = Date()
        let window = max(10, end.timeIntervalSince(runStart).rounded(.up))
        let step = 5.0
        do {
            let report = try PrometheusMetricsCommand.collect(
                api: api, config: config, window: window, step: step, start: end.addingTimeInterval(-window), end: end,
                target: nil, filter: SeriesFilter(nil), filterText: nil, interrupt: ctx.interrupt)
            if let unreachable = report.unreachable {
                return ServerSideView(prometheus: api.baseURL, start: runStart, end: end, rows: [], error: unreachable,
                                      promql: report.promql)
            }
            return ServerSideView(prometheus: api.baseURL, start: runStart, end: end, rows: rows(report),
                                  error: report.errors.first?.error, promql: report.promql)
        } catch {
            return ServerSideView(prometheus: api.baseURL, start: runStart, end: end, rows: [], error: "\(error)", promql: [])
        }
    }

    /// Targets that did something in the window: requests observed or tokens generated.
    package static func rows(_ report: PrometheusMetricsReport) -> [Row] {
        var out: [Row] = []
        for t in report.targets {
            func s(_ name: String) -> PrometheusMetricsReport.Series? { t.series.first { $0.name == name && $0.labels.isEmpty } }
            let ttft = s("ttft"), e2e = s("e2e_latency")
            let gen = s("generation_tokens_total")?.avg
            let requests = e2e?.count ?? ttft?.count
            guard (requests ?? 0) > 0 || (gen ?? 0) > 0 else { continue }
            out.append(Row(target: (t.provider ?? t.job) + " " + t.instance, requests: requests,
                           ttft: [ttft?.p50Ms, ttft?.p90Ms, ttft?.p99Ms], e2e: [e2e?.p50Ms, e2e?.p90Ms, e2e?.p99Ms],
                           generationRate: gen))
        }
        return out
    }

    package func text(verbose: Bool) -> String {
        var out = "server side (Prometheus \(prometheus), \(UTCTime.localClock(start))–\(UTCTime.localClock(end))):\n"
        if let error { out += "  \(error)\n" }
        if verbose { out += promql.map { "  PromQL: \($0)\n" }.joined() }
        if rows.isEmpty {
            if error == nil { out += "  no server recorded requests or tokens in the window\n" }
            return out
        }
        func triple(_ v: [Double?]) -> String {
            v.allSatisfy({ $0 == nil }) ? "-" : v.map { $0.map(Format.milliseconds) ?? "-" }.joined(separator: " / ")
        }
        var t = ReportTable(["TARGET", "REQUESTS", "TTFT p50/p90/p99", "E2E p50/p90/p99", "OUTPUT TOK/S"])
        for r in rows {
            t.add([r.target, r.requests.map { Format.count($0.rounded()) } ?? "-", triple(r.ttft), triple(r.e2e),
                   r.generationRate.map { cFormat("%.1f", $0) } ?? "-"])
        }
        return out + t.render(indent: "  ")
    }

    package var json: JSONValue {
        func num(_ v: Double?) -> JSONValue { v.map { .double(LatencySummary.round($0, 2)) } ?? .null }
        return .object([
            ("prometheus", .string(prometheus)),
            ("error", error.map(JSONValue.string) ?? .null),
            ("targets", .array(rows.map { r in
                .object([("target", .string(r.target)), ("requests", num(r.requests)),
                         ("ttft_p50_ms", num(r.ttft[0])), ("ttft_p90_ms", num(r.ttft[1])), ("ttft_p99_ms", num(r.ttft[2])),
                         ("e2e_p50_ms", num(r.e2e[0])), ("e2e_p90_ms", num(r.e2e[1])), ("e2e_p99_ms", num(r.e2e[2])),
                         ("output_tokens_per_second", num(r.generationRate))])
            })),
        ])
    }
}
