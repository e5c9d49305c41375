import FoundationEssentials
import Glibc
import AishBase
import AishTelemetry

/// The state of `tail metrics` between scrapes: the previous reading of every series (for
/// counter rates and histogram windows) and a short history of each for its sparkline.
package final class TailMetricsView {
    package static let historyLength = 30

    /// One line of the view: a provider's series and what it shows now.
    package struct Row {
        package var provider: String
        package var series: String
        package var now: String
        package var value: Double?
        package var trend: String
        package var error: String?
        /// The label set that ends `series` (`{a="x",b="y"}`, "" for none): a terminal shows
        /// only the labels that tell the provider's series of one name apart.
        package var labels: String = ""
    }

    private var previous: [String: (KeyReading, Double)] = [:]   // provider|key → reading, monotonic time
    private var history: [String: [Double?]] = [:]
    private var order: [String] = []

    /// Folds one round of scrapes in; returns the rows to show.
    package func update(_ results: [ScrapeResult], at time: Double) -> [Row] {
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
                                trend: BlockDrawing.sparkline(h), error: nil, labels: k.labels))
            }
        }
        return rows
    }

    /// Gauges as they are; counters as a rate since the previous scrape (the first scrape
    /// shows the total); histograms as the median of the observations made since then.
    package static func show(_ k: KeyReading, before: (KeyReading, Double)?, now: Double) -> (String, Double?, String) {
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

    /// The live view's table. `width`: the terminal's columns; the table then fits in
    /// them with its TREND column whole: label sets keep only the labels that tell series
    /// apart, and SERIES, PROVIDER and NOW are cut with "…" where that is not enough (the
    /// full label set is in `--json` and in the plain lines). An error row is one line of
    /// its own that does not widen the columns.
    package static func table(_ rows: [Row], width: Int? = nil) -> String {
        let short = shortLabels(rows)
        let series = zip(rows, short).map { r, s in s.map { $0.base + $0.labels.canonicalText } ?? r.series }
        let data = rows.indices.filter { rows[$0].error == nil }
        func widest(_ header: String, _ cell: (Int) -> String) -> Int { data.map { cell($0).count }.reduce(header.count, max) }
        var provider = widest("PROVIDER") { rows[$0].provider }
        var seriesWidth = widest("SERIES") { series[$0] }
        var now = widest("NOW") { rows[$0].now }
        var trend = widest("TREND") { rows[$0].trend }
        // A line as long as the terminal is wide would wrap (LiveRegion cuts it): one less.
        let limit = width.map { $0 - 1 }
        if let limit {
            var over = provider + seriesWidth + now + trend + 6 - limit
            func shrink(_ column: inout Int, to least: Int) {
                guard over > 0, column > least else { return }
                let by = min(over, column - least)
                column -= by
                over -= by
            }
            // The provider repeats on its every row: it gives way first.
            shrink(&provider, to: 16)
            shrink(&seriesWidth, to: 24)
            shrink(&now, to: 8)
            shrink(&provider, to: 8)
            shrink(&seriesWidth, to: 8)
            shrink(&trend, to: 5)
        }
        var t = ReportTable(["PROVIDER", "SERIES", "NOW", "TREND"])
        for (i, r) in rows.enumerated() {
            guard r.error == nil else { t.add(["", "", "", ""]); continue }
            let cell = short[i].map { fit(base: $0.base, labels: $0.labels, width: seriesWidth) } ?? clip(series[i], seriesWidth)
            t.add([clip(r.provider, provider), cell, clip(r.now, now), String(r.trend.suffix(trend))])
        }
        var lines = t.render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, r) in rows.enumerated() {
            guard let error = r.error else { continue }
            let line = r.provider + "  error: " + error
            lines[i + 1] = limit.map { clip(line, $0) } ?? line
        }
        return lines.joined(separator: "\n")
    }

    /// `s` in at most `n` characters, cut with "…".
    package static func clip(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(max(0, n - 1))) + "…"
    }

    /// Each row's series with only the labels that tell apart the provider's series of the
    /// same name: a label with one value across all of them is left out (a lone series
    /// keeps none).
    package static func shortSeries(_ rows: [Row]) -> [String] {
        zip(rows, shortLabels(rows)).map { r, short in short.map { $0.base + $0.labels.canonicalText } ?? r.series }
    }

    /// The series name and the labels `shortSeries` keeps; nil for an error row or a
    /// label set it cannot read (shown as it is).
    package static func shortLabels(_ rows: [Row]) -> [(base: String, labels: [MetricLabel])?] {
        let parsed = rows.map { r -> (base: String, labels: [MetricLabel])? in
            guard r.error == nil else { return nil }
            if r.labels.isEmpty { return (r.series, []) }
            guard r.series.hasSuffix(r.labels), let labels = LabelSetText.parse(r.labels) else { return nil }
            return (String(r.series.dropLast(r.labels.count)), labels)
        }
        var groups: [String: [Int]] = [:]
        for (i, p) in parsed.enumerated() {
            if let p { groups[rows[i].provider + "\u{0}" + p.base, default: []].append(i) }
        }
        var out = parsed
        for members in groups.values {
            let names = Set(members.flatMap { parsed[$0]!.labels.map(\.name) })
            let constant = names.filter { name in
                let values = members.map { parsed[$0]!.labels[label: name] }
                return values.allSatisfy { $0 != nil && $0 == values[0] }
            }
            for i in members { out[i]!.labels.removeAll { constant.contains($0.name) } }
        }
        return out
    }

    /// A series in `width` characters: label values lose their beginning first (where
    /// URLs and paths share a prefix, the end tells them apart: `…0.1:8000/v1`), then the
    /// text is cut at the end.
    package static func fit(base: String, labels: [MetricLabel], width: Int) -> String {
        var labels = labels
        var text = base + labels.canonicalText
        while text.count > width {
            guard let i = labels.indices.max(by: { labels[$0].value.count < labels[$1].value.count }),
                  labels[i].value.count > 4 else { break }
            let cut = min(text.count - width, labels[i].value.count - 4)
            labels[i].value = "…" + String(labels[i].value.dropFirst(cut + (labels[i].value.hasPrefix("…") ? 0 : 1)))
            text = base + labels.canonicalText
        }
        return clip(text, width)
    }

    /// Lines for scripts and pipes: `09:41:02 vllm requests_running 3`.
    package static func plainLines(_ rows: [Row], at date: Date) -> String {
        let stamp = TailClock.format(date)
        return rows.map { r in
            r.error.map { "\(stamp) \(r.provider) error: \($0)" } ?? "\(stamp) \(r.provider) \(r.series) \(r.now)"
        }.joined(separator: "\n") + "\n"
    }
}

package enum TailClock {
    /// Local time of day, as a person watching a live view reads it.
    package static func format(_ date: Date) -> String {
        UTCTime.localClock(date)
    }
}

/// A label set as `canonicalText` writes it: `{a="x",b="y \\"q\\""}`.
package enum LabelSetText {
    /// The labels, unescaped; nil when the text is not of that form.
    package static func parse(_ text: String) -> [MetricLabel]? {
        var chars = Array(text)
        guard chars.first == "{", chars.last == "}" else { return nil }
        chars = Array(chars.dropFirst().dropLast())
        var labels: [MetricLabel] = []
        var i = 0
        while i < chars.count {
            var name = ""
            while i < chars.count, chars[i] != "=" { name.append(chars[i]); i += 1 }
            guard i + 1 < chars.count, chars[i + 1] == "\"", !name.isEmpty else { return nil }
            i += 2
            var value = ""
            var closed = false
            while i < chars.count {
                let c = chars[i]
                i += 1
                if c == "\"" { closed = true; break }
                if c == "\\", i < chars.count {
                    let e = chars[i]
                    i += 1
                    value.append(e == "n" ? "\n" : e)
                } else {
                    value.append(c)
                }
            }
            guard closed else { return nil }
            labels.append(MetricLabel(name: name, value: value))
            if i < chars.count {
                guard chars[i] == "," else { return nil }
                i += 1
            }
        }
        return labels
    }
}
