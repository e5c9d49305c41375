import FoundationEssentials
import Glibc
import AishBase

/// The key series of `metrics` (KeySeriesCatalog) as PromQL, for every instance a
/// Prometheus scrapes: gauges and rates over a window as range queries, histogram
/// percentiles over the whole window as instant queries. Each alternative spelling of a
/// series is tagged with an `aish_source` label, so the answer says which one a server
/// exports and the first spelling present wins per instance (as a direct scrape reads it).
package enum PrometheusKeySeries {
    package static let sourceLabel = "aish_source"
    package static let groupLabels = ["instance", "job"]

    package enum Reading: Sendable, Equatable {
        case series                   // gauges, rates, per-label states: a range query
        case quantile(Double)         // a histogram percentile over the window: instant
        case observations             // a histogram's observation count over the window: instant
    }

    package struct Query: Sendable {
        package var definition: KeySeriesDefinition
        package var reading: Reading
        package var promql: String
    }

    /// The window's step: Prometheus's usual 5 s scrape interval, coarser for long windows
    /// (at most ~720 points a series).
    package static func step(forWindow seconds: Double) -> Double {
        max(5, (seconds / 720).rounded(.up))
    }

    /// A duration PromQL accepts: whole seconds.
    package static func duration(_ seconds: Double) -> String { "\(Int(seconds.rounded(.up)))s" }

    package static func queries(window: Double, step: Double) -> [Query] {
        var out: [Query] = []
        let rateWindow = duration(max(4 * step, 20))
        let by = groupLabels.joined(separator: ", ")
        for def in KeySeriesCatalog.all {
            func tagged(_ expr: String, _ raw: String) -> String {
                #"label_replace(\#(expr), "\#(sourceLabel)", "\#(raw)", "", "")"#
            }
            func alternatives(_ make: (String) -> String) -> String {
                def.rawNames.map { tagged(make($0), $0) }.joined(separator: " or ")
            }
            switch def.shape {
            case .gaugeSum:
                out.append(Query(definition: def, reading: .series, promql: alternatives { "sum by (\(by)) (\($0))" }))
            case .gaugeMax:
                out.append(Query(definition: def, reading: .series, promql: alternatives { "max by (\(by)) (\($0))" }))
            case .counterSum:
                out.append(Query(definition: def, reading: .series,
                                 promql: alternatives { "sum by (\(by)) (rate(\($0)[\(rateWindow)]))" }))
            case let .perLabelSet(keys):
                let labels = (groupLabels + keys).joined(separator: ", ")
                out.append(Query(definition: def, reading: .series, promql: alternatives { "max by (\(labels)) (\($0))" }))
            case .histogram:
                let w = duration(window)
                for q in [0.5, 0.9, 0.99] {
                    out.append(Query(definition: def, reading: .quantile(q), promql: alternatives {
                        "histogram_quantile(\(JSONValue.format(q)), sum by (\(by), le) (increase(\($0)_bucket[\(w)])))"
                    }))
                }
                out.append(Query(definition: def, reading: .observations,
                                 promql: alternatives { "sum by (\(by)) (increase(\($0)_count[\(w)]))" }))
            }
        }
        return out
    }
}

/// Where a target's series come from: one scraped instance.
package struct PrometheusInstance: Hashable, Sendable, Comparable {
    package var instance: String
    package var job: String

    /// The host part of `instance` (`gpu-2:8000` → `gpu-2`, `[::1]:9090` → `::1`).
    package var host: String {
        if instance.hasPrefix("["), let close = instance.firstIndex(of: "]") {
            return String(instance[instance.index(after: instance.startIndex)..<close])
        }
        if let colon = instance.lastIndex(of: ":"), instance[instance.index(after: colon)...].allSatisfy(\.isNumber) {
            return String(instance[..<colon])
        }
        return instance
    }

    package var port: String? {
        guard let colon = instance.lastIndex(of: ":") else { return nil }
        let p = instance[instance.index(after: colon)...]
        return !p.isEmpty && p.allSatisfy(\.isNumber) ? String(p) : nil
    }

    package static func < (a: PrometheusInstance, b: PrometheusInstance) -> Bool {
        (a.host, a.job, a.instance) < (b.host, b.job, b.instance)
    }
}
