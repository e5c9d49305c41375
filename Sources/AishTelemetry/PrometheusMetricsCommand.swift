import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig

/// `metrics --prom [--since 1h] [PROVIDER] [FILTER] [--verbose]`: the key series of
/// `metrics` over a window, from Prometheus, for every instance it scrapes, grouped by host.
package enum PrometheusMetricsCommand {
    package static func run(_ inv: Invocation, _ ctx: ShellContext, config: AishConfig) throws -> CommandResult {
        if inv.flag("--raw") { throw UsageError(message: "metrics: --raw reads /metrics directly; it does not go with --prom") }
        let window = try inv.duration("--since", default: 3600)
        guard window >= 10 else { throw UsageError(message: "metrics --prom: --since must be at least 10s, got '\(inv.value("--since") ?? "")'") }
        let api = try client(config, ctx, command: "metrics --prom")
        let verbose = inv.flag("--verbose")

        var targetName: String?
        var filterText: String?
        var ambiguous = false
        if inv.positionals.count == 2 {
            targetName = inv.positionals[0]
            filterText = inv.positionals[1]
        } else if let only = inv.positionals.first {
            let known = Set(config.providers.providers.map(\.name) + config.ports.services.map(\.name))
            // A provider or port name, or a job, instance or host Prometheus knows: a target;
            // else a filter on the series names.
            if known.contains(only) { targetName = only } else { filterText = only }
            ambiguous = !known.contains(only)
        }

        let end = Date()
        let step = PrometheusKeySeries.step(forWindow: window)
        let start = end.addingTimeInterval(-window)
        var report = try collect(api: api, config: config, window: window, step: step, start: start, end: end,
                                 target: targetName, filter: SeriesFilter(ambiguous ? nil : filterText),
                                 filterText: ambiguous ? nil : filterText, interrupt: ctx.interrupt)
        if ambiguous, let word = filterText {
            let named = report.targets.filter { [$0.job, $0.instance, $0.host].contains(word) }
            if !named.isEmpty {
                report.targets = named
            } else {
                let filter = SeriesFilter(word)
                for i in report.targets.indices {
                    report.targets[i].series = report.targets[i].series.filter { filter.matches($0.name, $0.source) }
                }
                report.filter = word
            }
        }
        report.verbose = verbose
        return CommandResult(report: report)
    }

    /// The Prometheus of the configuration, with its bearer token from the environment.
    package static func client(_ config: AishConfig, _ ctx: ShellContext, command: String) throws -> PrometheusAPI {
        let m = config.monitoring
        guard let prom = m.prometheus else {
            throw CommandFailure("\(command): no Prometheus configured: set monitoring.prometheus in ports.yaml (or give ports.yaml a service named prometheus)")
        }
        var token: String?
        if let v = m.prometheusKeyVariable {
            guard let t = ctx.environment[v], !t.isEmpty else {
                throw CommandFailure("\(command): monitoring.prometheus_key_env names \(v), which is not set in the environment")
            }
            token = t
        }
        return PrometheusAPI(baseURL: prom.url, queryTimeout: m.queryTimeout, bearerToken: token)
    }

    /// Runs every query of the key series (and the target list) at once and shapes the answers.
    package static func collect(api: PrometheusAPI, config: AishConfig?, window: Double, step: Double, start: Date, end: Date,
                        target: String?, filter: SeriesFilter, filterText: String?,
                        interrupt: InterruptFlag) throws -> PrometheusMetricsReport {
        let queries = PrometheusKeySeries.queries(window: window, step: step)
        var batch = queries.map { q -> PrometheusAPI.Query in
            q.reading == .series ? .range(q.promql, start: start, end: end, step: step) : .instant(q.promql, at: end)
        }
        // `up` over the window as well: targets of the window that are gone now still show.
        batch.append(.instant("max by (instance, job) (max_over_time(up[\(PrometheusKeySeries.duration(window))]))", at: end))
        var targets: [PrometheusTarget] = []
        var targetsError: PrometheusError?
        // The target list first (one small answer), then every query in one transfer loop.
        do { targets = try api.targets(interrupt: interrupt) } catch let e as PrometheusError { targetsError = e }
        let answers = targetsError?.kind == .down ? batch.map { _ in Result<PrometheusQueryAnswer, PrometheusError>.failure(targetsError!) }
            : api.queryAll(batch, interrupt: interrupt)
        if interrupt.isRaised { throw CommandFailure("metrics --prom: cancelled") }

        // Prometheus down: every query fails the same way; one line says so.
        if let e = targetsError, e.kind == .down || e.kind == .timeout, answers.allSatisfy({ (try? $0.get()) == nil }) {
            return PrometheusMetricsReport(prometheus: api.baseURL, windowMs: window * 1000, stepMs: step * 1000,
                                           targets: [], errors: [.init(query: nil, error: e.description)],
                                           promql: batch.map(\.promql), unreachable: e.description)
        }

        var table: [PrometheusInstance: [PrometheusMetricsReport.Series]] = [:]
        var health: [PrometheusInstance: PrometheusTarget] = [:]
        for t in targets { health[PrometheusInstance(instance: t.instance, job: t.job)] = t }
        var errors: [PrometheusMetricsReport.QueryError] = []
        if let targetsError { errors.append(.init(query: nil, error: targetsError.description)) }
        if case let .success(a)? = answers.last, let up = try? a.vector() {
            for s in up { table[instance(of: s.labels), default: []] = table[instance(of: s.labels), default: []] }
        }

        // Histograms: percentiles and counts gathered per instance before becoming a row.
        var histograms: [PrometheusInstance: [String: PrometheusMetricsReport.Series]] = [:]
        for (q, answer) in zip(queries, answers) {
            let result: PrometheusQueryAnswer
            switch answer {
            case let .success(a): result = a
            case let .failure(e):
                errors.append(.init(query: q.promql, error: e.description))
                continue
            }
            switch q.reading {
            case .series:
                guard let series = try? result.matrix() else { continue }
                for (key, chosen) in preferred(series.map { ($0.labels, $0) }, order: q.definition.rawNames) {
                    let (inst, labels) = key
                    table[inst, default: []].append(.init(definition: q.definition, source: chosen.source,
                                                          labels: labels, points: chosen.value.points))
                }
            case .quantile, .observations:
                guard let samples = try? result.vector() else { continue }
                for (key, chosen) in preferred(samples.map { ($0.labels, $0) }, order: q.definition.rawNames) {
                    let inst = key.0
                    var row = histograms[inst]?[q.definition.name]
                        ?? .init(definition: q.definition, source: chosen.source, labels: "", points: [])
                    let v = chosen.value.point.value
                    switch q.reading {
                    case .quantile(0.5): row.p50Ms = v.isFinite ? v * 1000 : nil
                    case .quantile(0.9): row.p90Ms = v.isFinite ? v * 1000 : nil
                    case .quantile: row.p99Ms = v.isFinite ? v * 1000 : nil
                    case .observations: row.count = v.isFinite ? v : nil
                    case .series: break
                    }
                    histograms[inst, default: [:]][q.definition.name] = row
                }
            }
        }
        for (inst, rows) in histograms {
            for def in KeySeriesCatalog.all { if let r = rows[def.name] { table[inst, default: []].append(r) } }
        }

        var out: [PrometheusMetricsReport.Target] = []
        for inst in Set(table.keys).union(health.keys).sorted() {
            let provider = config.flatMap { providerName(for: inst, in: $0) }
            if let target, ![provider, inst.job, inst.instance, inst.host].contains(target) { continue }
            let order = Dictionary(uniqueKeysWithValues: KeySeriesCatalog.all.enumerated().map { ($1.name, $0) })
            let series = (table[inst] ?? []).filter { filter.matches($0.name, $0.source) }
                .sorted { (order[$0.name] ?? 0, $0.labels) < (order[$1.name] ?? 0, $1.labels) }
            let h = health[inst]
            out.append(.init(host: inst.host, instance: inst.instance, job: inst.job, provider: provider,
                             health: h?.health.rawValue ?? "gone", lastError: h?.lastError, series: series))
        }
        if let target, out.isEmpty {
            var names = Set(Set(table.keys).union(health.keys).flatMap { [$0.job, $0.instance, $0.host] })
            if let config { names.formUnion(config.providers.providers.map(\.name)) }
            var message = "metrics --prom: Prometheus at \(api.baseURL) scrapes nothing that is '\(target)'"
            if let s = Suggest.closest(to: target, among: Array(names)) { message += " (did you mean '\(s)'?)" }
            throw UsageError(message: message)
        }
        return PrometheusMetricsReport(prometheus: api.baseURL, windowMs: window * 1000, stepMs: step * 1000,
                                       targets: out, errors: errors, promql: batch.map(\.promql), unreachable: nil,
                                       filter: filterText)
    }

    private static func instance(of labels: [MetricLabel]) -> PrometheusInstance {
        PrometheusInstance(instance: labels[label: "instance"] ?? "", job: labels[label: "job"] ?? "")
    }

    /// Per instance (and per extra label set), the answer of the first spelling present.
    private static func preferred<T>(_ items: [([MetricLabel], T)],
                                     order: [String]) -> [((PrometheusInstance, String), (source: String, value: T))] {
        var best: [String: (key: (PrometheusInstance, String), rank: Int, source: String, value: T)] = [:]
        var keys: [String] = []
        for (labels, value) in items {
            let source = labels[label: PrometheusKeySeries.sourceLabel] ?? ""
            let rank = order.firstIndex(of: source) ?? order.count
            let extra = labels.filter { !["instance", "job", PrometheusKeySeries.sourceLabel].contains($0.name) }
            let inst = instance(of: labels)
            let id = inst.instance + "\u{1}" + inst.job + "\u{1}" + extra.canonicalText
            if let b = best[id], b.rank <= rank { continue }
            if best[id] == nil { keys.append(id) }
            best[id] = ((inst, extra.canonicalText), rank, source, value)
        }
        return keys.compactMap { best[$0] }.map { ($0.key, ($0.source, $0.value)) }
    }

    /// The provider of the configuration a target is: same host and port as its base URL
    /// (127.0.0.1 and localhost taken as one), else a provider or port named like the job.
    package static func providerName(for inst: PrometheusInstance, in config: AishConfig) -> String? {
        func local(_ h: String) -> String { ["localhost", "127.0.0.1", "::1"].contains(h) ? "127.0.0.1" : h }
        for p in config.providers.providers {
            guard let u = BaseURL(p.baseURL) else { continue }
            let port = u.port.map(String.init) ?? (u.scheme == "https" ? "443" : "80")
            if local(u.host) == local(inst.host), port == inst.port { return p.name }
        }
        if config.providers.providers.contains(where: { $0.name == inst.job }) { return inst.job }
        if config.ports.services.contains(where: { $0.name == inst.job }) { return inst.job }
        return nil
    }
}

/// What `metrics --prom` found: per scraped target, the key series over the window.
package struct PrometheusMetricsReport: CommandReport {
    package struct Series: Encodable, Sendable {
        package var name: String
        package var source: String
        package var unit: String
        package var kind: String
        package var labels: String
        /// Gauges as read; counters as a per-second rate.
        package var last: Double?
        package var min: Double?
        package var max: Double?
        package var avg: Double?
        package var points: [PrometheusPoint]
        package var p50Ms: Double?
        package var p90Ms: Double?
        package var p99Ms: Double?
        /// Histogram observations in the window.
        package var count: Double?
        package var unitKind: KeySeriesUnit
        package var shape: KeySeriesShape

        package init(definition def: KeySeriesDefinition, source: String, labels: String, points: [PrometheusPoint]) {
            name = def.name
            self.source = source
            unitKind = def.unit
            shape = def.shape
            switch def.shape {
            case .counterSum: unit = "per_second"; kind = "rate"
            case .histogram: unit = "ms"; kind = "histogram"
            case .perLabelSet: unit = def.unit.rawValue; kind = "state"
            case .gaugeSum, .gaugeMax: unit = def.unit.rawValue; kind = "gauge"
            }
            self.labels = labels
            self.points = points
            let finite = points.map(\.value).filter(\.isFinite)
            last = points.last.map(\.value).flatMap { $0.isFinite ? $0 : nil }
            min = finite.min()
            max = finite.max()
            avg = finite.isEmpty ? nil : finite.reduce(0, +) / Double(finite.count)
        }

        package enum CodingKeys: String, CodingKey {
            case name, source, kind, unit, labels, last, min, max, avg, samples
            case p50Ms = "p50_ms", p90Ms = "p90_ms", p99Ms = "p99_ms", count
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(source, forKey: .source)
            try c.encode(kind, forKey: .kind)
            try c.encode(unit, forKey: .unit)
            if !labels.isEmpty { try c.encode(labels, forKey: .labels) }
            func num(_ v: Double?) -> JSONValue { v.map { .double(LatencySummary.round($0, 6)) } ?? .null }
            if shape == .histogram {
                try c.encode(num(p50Ms), forKey: .p50Ms)
                try c.encode(num(p90Ms), forKey: .p90Ms)
                try c.encode(num(p99Ms), forKey: .p99Ms)
                try c.encode(num(count), forKey: .count)
            } else {
                try c.encode(num(last), forKey: .last)
                try c.encode(num(min), forKey: .min)
                try c.encode(num(max), forKey: .max)
                try c.encode(num(avg), forKey: .avg)
                try c.encode(points.count, forKey: .samples)
            }
        }

        /// A value as `metrics` prints it; rates per second.
        package func format(_ v: Double) -> String {
            switch shape {
            case .counterSum: return Format.rate(v)
            default: return Format.value(v, unit: unitKind)
            }
        }

        /// Twelve ticks over the window (each the mean of its share of the points).
        package var trend: String {
            let n = 12
            guard points.count > 1 else { return "" }
            var cells: [Double?] = []
            for i in 0..<n {
                let lo = i * points.count / n, hi = Swift.max(lo + 1, (i + 1) * points.count / n)
                let slice = points[lo..<Swift.min(hi, points.count)].map(\.value).filter(\.isFinite)
                cells.append(slice.isEmpty ? nil : slice.reduce(0, +) / Double(slice.count))
            }
            return BlockDrawing.sparkline(cells)
        }
    }

    package struct Target: Encodable, Sendable, NilEncodesAsNull {
        package var host: String
        package var instance: String
        package var job: String
        package var provider: String?
        /// up, down, unknown; `gone` when Prometheus no longer scrapes it (it did in the window).
        package var health: String
        package var lastError: String?
        package var series: [Series]

        package enum CodingKeys: String, CodingKey { case host, instance, job, provider, health, lastError = "last_error", series }
    }

    package struct QueryError: Encodable, Sendable {
        package var query: String?
        package var error: String
    }

    package var prometheus: String
    package var windowMs: Double
    package var stepMs: Double
    package var targets: [Target]
    package var errors: [QueryError]
    package var promql: [String]
    /// Set when Prometheus could not be reached at all: the command failed.
    package var unreachable: String?
    package var filter: String? = nil
    package var verbose = false

    package enum CodingKeys: String, CodingKey {
        case prometheus, windowMs = "window_ms", stepMs = "step_ms", targets, errors, promql
    }

    package static let fields = [
        ReportField("prometheus", "the Prometheus queried"),
        ReportField("window_ms", "how far back the series go", unit: "ms"),
        ReportField("step_ms", "the resolution of the series", unit: "ms"),
        ReportField("targets", "each scraped target: host, instance, job, provider, health, last_error, series (name, source, kind, unit, last/min/max/avg and samples, or p50_ms/p90_ms/p99_ms/count)"),
        ReportField("errors", "queries that failed: query (PromQL), error"),
        ReportField("promql", "every query sent"),
    ]

    package static let example = PrometheusMetricsReport(
        prometheus: "http://127.0.0.1:9090", windowMs: 600_000, stepMs: 5000,
        targets: [Target(host: "127.0.0.1", instance: "127.0.0.1:8080", job: "llama_cpp_native", provider: "llama_cpp_native",
                         health: "up", lastError: nil, series: [])],
        errors: [], promql: ["up"], unreachable: nil)

    package var failureMessage: String? {
        if let unreachable { return "metrics --prom: \(unreachable)" }
        if targets.isEmpty, !errors.isEmpty { return "metrics --prom: every query failed" }
        return nil
    }

    package func renderText() -> String {
        var out = "Prometheus \(prometheus) · last \(Self.durationText(windowMs / 1000)), step \(Self.durationText(stepMs / 1000))"
        let up = targets.filter { $0.health == "up" }.count
        out += " · \(targets.count) target\(targets.count == 1 ? "" : "s"), \(up) up\n"
        if let unreachable {
            out += "error: \(unreachable)\n"
            if verbose { out += promql.map { "  PromQL: \($0)\n" }.joined() }
            return out
        }
        for e in errors {
            out += "error: \(e.error)\n"
            if verbose, let q = e.query { out += "  PromQL: \(q)\n" }
        }
        if verbose, errors.isEmpty {
            out += "PromQL sent:\n" + promql.map { "  \($0)\n" }.joined()
        }
        let hosts = Dictionary(grouping: targets, by: \.host)
        for host in hosts.keys.sorted() {
            let ts = hosts[host]!
            out += "\n\(host)\n"
            var rowKeys: [(String, String)] = []   // (row label, series key)
            var seen = Set<String>()
            for def in KeySeriesCatalog.all {
                for t in ts {
                    for s in t.series where s.name == def.name {
                        let key = s.name + s.labels
                        if seen.insert(key).inserted {
                            if s.shape == .histogram {
                                for p in ["p50", "p90", "p99", "n"] { rowKeys.append(("\(s.name) \(p)", key + "|" + p)) }
                            } else {
                                rowKeys.append((s.name + s.labels, key))
                            }
                        }
                    }
                }
            }
            var table = ReportTable(["SERIES"] + ts.map { t in t.job + (t.provider.map { $0 == t.job ? "" : " (\($0))" } ?? "")
                + (t.instance.isEmpty ? "" : " \(t.instance.hasPrefix(host) ? String(t.instance.dropFirst(host.count)) : t.instance)") })
            table.add(["target"] + ts.map { t in t.health + (t.lastError.map { ": \(Self.clip($0, 40))" } ?? "") })
            for (label, key) in rowKeys {
                table.add([label] + ts.map { t in Self.cell(t, key: key) })
            }
            out += table.render(indent: "  ")
            for t in ts where t.series.isEmpty && t.health != "down" {
                let why = filter != nil ? "no key series matches '\(filter!)'" : "none of aish's key series (other exporters, or renamed metrics: see --verbose for the names queried)"
                out += "  \(t.job) \(t.instance): \(why)\n"
            }
        }
        if targets.isEmpty, errors.isEmpty {
            out += "Prometheus scraped nothing in the window\n"
        }
        return out
    }

    private static func cell(_ t: Target, key: String) -> String {
        let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
        guard let s = t.series.first(where: { $0.name + $0.labels == parts[0] }) else { return "-" }
        if parts.count == 2 {
            switch parts[1] {
            case "p50": return s.p50Ms.map(Format.milliseconds) ?? "-"
            case "p90": return s.p90Ms.map(Format.milliseconds) ?? "-"
            case "p99": return s.p99Ms.map(Format.milliseconds) ?? "-"
            default: return s.count.map { Format.count($0.rounded()) } ?? "-"
            }
        }
        guard let last = s.last else { return "-" }
        var text = s.format(last)
        if let max = s.max, s.format(max) != text { text += " (max \(s.format(max)))" }
        let trend = s.trend
        if !trend.isEmpty { text += " " + trend }
        return text
    }

    package static func durationText(_ seconds: Double) -> String {
        if seconds >= 86400, seconds.truncatingRemainder(dividingBy: 86400) == 0 { return "\(Int(seconds / 86400))d" }
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return "\(JSONValue.format(seconds))s"
    }

    private static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }
}
