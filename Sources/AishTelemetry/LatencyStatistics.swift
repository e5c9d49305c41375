import FoundationEssentials
import Glibc
import AishBase

/// count, mean, standard deviation, min, max and p50/p90/p95/p99/p99.9 of one measure
/// (TTFT, latency, tokens/s…): the percentiles SLOs are written in, and those guidellm and
/// aiperf report.
package struct LatencySummary: Sendable, Equatable {
    package var count: Int
    package var mean: Double
    /// Population standard deviation.
    package var stddev: Double
    package var min: Double
    package var max: Double
    package var p50: Double
    package var p90: Double
    package var p95: Double
    package var p99: Double
    package var p999: Double

    /// nil when there is nothing to summarise. NaN and infinite samples are ignored.
    package init?(_ samples: [Double]) {
        let values = samples.filter(\.isFinite).sorted()
        guard !values.isEmpty else { return nil }
        count = values.count
        let mean = values.reduce(0, +) / Double(values.count)
        self.mean = mean
        stddev = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
        min = values.first!
        max = values.last!
        p50 = Percentiles.percentile(values, 50)
        p90 = Percentiles.percentile(values, 90)
        p95 = Percentiles.percentile(values, 95)
        p99 = Percentiles.percentile(values, 99)
        p999 = Percentiles.percentile(values, 99.9)
    }

    /// JSON with every figure rounded to `digits` decimals (milliseconds keep 0.01 ms).
    package func json(digits: Int = 2) -> JSONValue {
        .object([
            ("count", .int(count)),
            ("p50", .double(Self.round(p50, digits))), ("p90", .double(Self.round(p90, digits))),
            ("p95", .double(Self.round(p95, digits))), ("p99", .double(Self.round(p99, digits))),
            ("p999", .double(Self.round(p999, digits))), ("mean", .double(Self.round(mean, digits))),
            ("stddev", .double(Self.round(stddev, digits))),
            ("min", .double(Self.round(min, digits))), ("max", .double(Self.round(max, digits))),
        ])
    }

    package static func round(_ v: Double, _ digits: Int) -> Double {
        let f = pow(10, Double(digits))
        return (v * f).rounded() / f
    }
}

/// `histogram_quantile` as Prometheus computes it from cumulative buckets: find the bucket
/// holding the rank and interpolate linearly inside it, assuming the observations are spread
/// evenly between its bounds. The lowest bucket starts at 0 (latencies are not negative);
/// a rank in the +Inf bucket answers the highest finite bound.
package enum HistogramQuantile {
    package static func quantile(_ q: Double, buckets input: [HistogramBucket]) -> Double {
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        // Sort, merge equal bounds, and repair counts that go down (a scrape that raced an update).
        var buckets: [HistogramBucket] = []
        for b in input.sorted(by: { $0.upperBound < $1.upperBound }) where !b.upperBound.isNaN {
            if let last = buckets.last, last.upperBound == b.upperBound {
                buckets[buckets.count - 1].cumulativeCount = Swift.max(last.cumulativeCount, b.cumulativeCount)
            } else {
                buckets.append(b)
            }
        }
        for i in buckets.indices.dropFirst() where buckets[i].cumulativeCount < buckets[i - 1].cumulativeCount {
            buckets[i].cumulativeCount = buckets[i - 1].cumulativeCount
        }
        guard buckets.count >= 2, buckets.last!.upperBound == .infinity else { return .nan }
        let total = buckets.last!.cumulativeCount
        guard total > 0 else { return .nan }
        var rank = q * total
        let b = buckets.firstIndex(where: { $0.cumulativeCount >= rank })!
        if b == buckets.count - 1 { return buckets[buckets.count - 2].upperBound }
        if b == 0, buckets[0].upperBound <= 0 { return buckets[0].upperBound }
        var start = 0.0
        let end = buckets[b].upperBound
        var count = buckets[b].cumulativeCount
        if b > 0 {
            start = buckets[b - 1].upperBound
            count -= buckets[b - 1].cumulativeCount
            rank -= buckets[b - 1].cumulativeCount
        }
        if count == 0 { return end }
        return start + (end - start) * (rank / count)
    }

    /// Bucket counts of `later` minus `earlier` (what happened between two scrapes), or nil
    /// when the bounds differ or a count went down (the server restarted).
    package static func delta(_ later: [HistogramBucket], minus earlier: [HistogramBucket]) -> [HistogramBucket]? {
        guard later.count == earlier.count else { return nil }
        var out: [HistogramBucket] = []
        for (l, e) in zip(later, earlier) {
            guard l.upperBound == e.upperBound, l.cumulativeCount >= e.cumulativeCount else { return nil }
            out.append(HistogramBucket(upperBound: l.upperBound, cumulativeCount: l.cumulativeCount - e.cumulativeCount))
        }
        return out
    }

    /// Buckets of several series added bound by bound (`sum by (le)`); series whose bounds
    /// differ from the first are merged at the bounds they share.
    package static func merge(_ series: [[HistogramBucket]]) -> [HistogramBucket] {
        var byBound: [Double: Double] = [:]
        for s in series { for b in s { byBound[b.upperBound, default: 0] += b.cumulativeCount } }
        return byBound.keys.sorted().map { HistogramBucket(upperBound: $0, cumulativeCount: byBound[$0]!) }
    }
}

/// Per-second rates of counters between two scrapes. A counter that went down was reset
/// (the server restarted), so the later value is the increase since the reset — the same
/// assumption Prometheus' `rate()` makes.
package enum CounterRate {
    package static func increase(from earlier: Double, to later: Double) -> Double {
        later >= earlier ? later - earlier : later
    }

    package static func perSecond(from earlier: Double, to later: Double, seconds: Double) -> Double? {
        guard seconds > 0, earlier.isFinite, later.isFinite else { return nil }
        return increase(from: earlier, to: later) / seconds
    }
}
