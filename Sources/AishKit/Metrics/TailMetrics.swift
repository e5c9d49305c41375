import FoundationEssentials
import Glibc

/// The state of `tail metrics` between scrapes: the previous reading of every series (for
/// counter rates and histogram windows) and a short history of each for its sparkline.
final class TailMetricsView {
    static let historyLength = 30

    /// One line of the view: a provider's series and what it shows now.
    struct Row {
        var provider: String
        var series: String
        var now: String
        var value: Double?
        var trend: String
        var error: String?
    }

    private var previous: [String: (KeyReading, Double)] = [:]   // provider|key → reading, monotonic time
    private var history: [String: [Double?]] = [:]
    private var order: [String] = []

    /// Folds one round of scrapes in; returns the rows to show.
    func update(_ results: [ScrapeResult], at time: Double) -> [Row] {
        var rows: [Row] = []
        for r in results {
            if let error = r.error {
                rows.append(Row(provider: r.target.name, series: "", now: "", value: nil, trend: "", error: error))
                continue
            }
            for k in r.readings {
                let id = r.target.name + "|" + k.key
                let before = previous[id]
                previous[id] = (k, time)
                let (label, value, text) = Self.show(k, before: before, now: time)
                if history[id] == nil { order.append(id) }
                var h = history[id, default: []]
                h.append(value)
                if h.count > Self.historyLength { h.removeFirst(h.count - Self.historyLength) }
                history[id] = h
                rows.append(Row(provider: r.target.name, series: label, now: text, value: value,
                                trend: BlockDrawing.sparkline(h), error: nil))
            }
        }
        return rows
    }

    /// Gauges as they are; counters as a rate since the previous scrape (the first scrape
    /// shows the total); histograms as the median of the observations made since then.
    static func show(_ k: KeyReading, before: (KeyReading, Double)?, now: Double) -> (String, Double?, String) {
        let name = k.name + k.labels
        switch k.shape {
        case .counterSum:
            guard let v = k.value else { return (name, nil, "-") }
            guard let (old, t) = before, let ov = old.value,
                let rate = CounterRate.perSecond(from: ov, to: v, seconds: now - t)
            else { return (name, nil, "total \(Format.count(v))") }
            return (name, rate, Format.rate(rate))
        case .histogram:
            let label = k.name + " p50" + k.labels
            guard let (old, _) = before, let oldBuckets = old.buckets, let newBuckets = k.buckets,
                let window = HistogramQuantile.delta(newBuckets, minus: oldBuckets)
            else {
                let p50 = k.quantile(0.5)
                return (label, p50, p50.map { "\(Format.seconds($0)) (all time)" } ?? "no observations")
            }
            let observed = window.last?.cumulativeCount ?? 0
            guard observed > 0 else { return (label, nil, "no new observations") }
            let p50 = HistogramQuantile.quantile(0.5, buckets: window)
            return (label, p50, "\(Format.seconds(p50)) (\(Format.count(observed)) new)")
        default:
            return (name, k.value, k.formatted)
        }
    }

    static func table(_ rows: [Row]) -> String {
        var t = ReportTable(["PROVIDER", "SERIES", "NOW", "TREND"])
        for r in rows {
            if let error = r.error { t.add([r.provider, "error: " + error, "", ""]) } else { t.add([r.provider, r.series, r.now, r.trend]) }
        }
        return t.render()
    }

    /// Lines for scripts and pipes: `09:41:02 vllm requests_running 3`.
    static func plainLines(_ rows: [Row], at date: Date) -> String {
        let stamp = TailClock.format(date)
        return rows.map { r in
            r.error.map { "\(stamp) \(r.provider) error: \($0)" } ?? "\(stamp) \(r.provider) \(r.series) \(r.now)"
        }.joined(separator: "\n") + "\n"
    }
}

enum TailClock {
    /// Local time of day, as a person watching a live view reads it.
    static func format(_ date: Date) -> String {
        UTCTime.localClock(date)
    }
}
