import Foundation
import Testing
@testable import AishBase
@testable import AishTelemetry

@Suite struct StatisticsTests {
    @Test func percentilesInterpolateBetweenClosestRanks() {
        #expect(Percentiles.percentile([1, 2, 3, 4], 50) == 2.5)
        #expect(abs(Percentiles.percentile([1, 2, 3, 4], 90) - 3.7) < 1e-12)
        #expect(abs(Percentiles.percentile([1, 2, 3, 4], 99) - 3.97) < 1e-12)
        #expect(Percentiles.percentile([7], 99) == 7)
        #expect(Percentiles.percentile([1, 2, 3], 0) == 1)
        #expect(Percentiles.percentile([1, 2, 3], 100) == 3)
    }

    @Test func summaryOfOneToHundred() throws {
        let s = try #require(LatencySummary((1...100).map(Double.init).shuffled()))
        #expect(s.count == 100)
        #expect(s.mean == 50.5)
        #expect(s.min == 1)
        #expect(s.max == 100)
        #expect(s.p50 == 50.5)
        #expect(abs(s.p90 - 90.1) < 1e-9)
        #expect(abs(s.p99 - 99.01) < 1e-9)
        #expect(abs(s.p95 - 95.05) < 1e-9)
        #expect(abs(s.p999 - 99.901) < 1e-9)
        // Population standard deviation of 1...100: √((100² − 1)/12).
        #expect(abs(s.stddev - ((100.0 * 100 - 1) / 12).squareRoot()) < 1e-9)
        let json = s.json()
        #expect(json["p95"] == .double(95.05) && json["p999"] == .double(99.9) && json["stddev"] == .double(28.87))
        #expect(LatencySummary([7])?.stddev == 0)
    }

    @Test func summaryIgnoresNonFiniteAndEmpty() {
        #expect(LatencySummary([]) == nil)
        #expect(LatencySummary([.nan, .infinity]) == nil)
        #expect(LatencySummary([.nan, 3])?.count == 1)
    }

    private func buckets(_ pairs: [(Double, Double)]) -> [HistogramBucket] {
        pairs.map { HistogramBucket(upperBound: $0.0, cumulativeCount: $0.1) }
    }

    @Test func histogramQuantileInterpolatesInsideTheBucket() {
        // 100 observations: 10 in (0, 0.1], 40 in (0.1, 0.5], 50 in (0.5, 1].
        let b = buckets([(0.1, 10), (0.5, 50), (1, 100), (.infinity, 100)])
        #expect(HistogramQuantile.quantile(0.5, buckets: b) == 0.5)
        #expect(abs(HistogramQuantile.quantile(0.3, buckets: b) - 0.3) < 1e-12)   // 0.1 + 0.4 * 20/40
        #expect(abs(HistogramQuantile.quantile(0.9, buckets: b) - 0.9) < 1e-12)   // 0.5 + 0.5 * 40/50
        #expect(abs(HistogramQuantile.quantile(0.05, buckets: b) - 0.05) < 1e-12) // first bucket starts at 0
    }

    @Test func histogramQuantileEdgeCases() {
        let b = buckets([(1, 1), (2, 2), (.infinity, 10)])
        #expect(HistogramQuantile.quantile(0.99, buckets: b) == 2, "rank in +Inf bucket: highest finite bound")
        #expect(HistogramQuantile.quantile(-0.1, buckets: b) == -.infinity)
        #expect(HistogramQuantile.quantile(1.1, buckets: b) == .infinity)
        #expect(HistogramQuantile.quantile(.nan, buckets: b).isNaN)
        #expect(HistogramQuantile.quantile(0.5, buckets: buckets([(1, 1), (2, 2)])).isNaN, "no +Inf bucket")
        #expect(HistogramQuantile.quantile(0.5, buckets: buckets([(1, 0), (.infinity, 0)])).isNaN, "no observations")
        #expect(HistogramQuantile.quantile(0.5, buckets: buckets([(.infinity, 4)])).isNaN, "one bucket")
        // Unsorted input and a count that goes down (a racing scrape) are repaired.
        let messy = buckets([(.infinity, 100), (1, 100), (0.5, 50), (0.1, 60)])
        #expect(HistogramQuantile.quantile(0.6, buckets: messy) == 0.1)
        #expect(HistogramQuantile.quantile(0.8, buckets: messy) == 0.75)
        // Negative bound in the first bucket answers the bound.
        #expect(HistogramQuantile.quantile(0.1, buckets: buckets([(-1, 5), (0, 10), (.infinity, 10)])) == -1)
    }

    @Test func histogramQuantileAgainstKnownData() {
        // 1000 evenly spread latencies in (0, 2.5] s, bucketed at vLLM's bounds: linear
        // interpolation recovers the true percentile wherever a bucket is evenly filled.
        let data = (1...1000).map { Double($0) / 400 }
        let bounds: [Double] = [0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, .infinity]
        let b = bounds.map { bound in HistogramBucket(upperBound: bound, cumulativeCount: Double(data.filter { $0 <= bound }.count)) }
        for (q, want) in [(0.5, 1.25), (0.9, 2.25), (0.25, 0.625), (0.99, 2.475)] {
            let got = HistogramQuantile.quantile(q, buckets: b)
            #expect(abs(got - want) < 0.01, "q=\(q): got \(got), want \(want)")
        }
    }

    @Test func vllmFixtureQuantiles() throws {
        let e = try PrometheusText.parse(try MetricsFixtures.text("vllm-v1.prom"))
        let h = try #require(e.histogram(named: "vllm:time_to_first_token_seconds").first)
        #expect(h.labels == [MetricLabel(name: "engine", value: "0"), MetricLabel(name: "model_name", value: "Qwen/Qwen2.5-7B-Instruct")])
        #expect(h.count == 400)
        #expect(abs(h.quantile(0.5) - 0.15625) < 1e-12)   // rank 200: 0.1 + 0.15 * 60/160
        #expect(abs(h.quantile(0.9) - 0.4375) < 1e-12)    // rank 360: 0.25 + 0.25 * 60/80
        #expect(abs(h.quantile(0.99) - 1.0) < 1e-12)      // rank 396: 0.75 + 0.25 * 4/4
    }

    @Test func bucketDeltasAndMerging() {
        let earlier = buckets([(0.1, 1), (1, 5), (.infinity, 6)])
        let later = buckets([(0.1, 3), (1, 9), (.infinity, 12)])
        #expect(HistogramQuantile.delta(later, minus: earlier) == buckets([(0.1, 2), (1, 4), (.infinity, 6)]))
        #expect(HistogramQuantile.delta(earlier, minus: later) == nil, "a reset is not a delta")
        #expect(HistogramQuantile.merge([earlier, later]) == buckets([(0.1, 4), (1, 14), (.infinity, 18)]))
    }

    @Test func counterRatesHandleResets() {
        #expect(CounterRate.perSecond(from: 100, to: 150, seconds: 2) == 25)
        #expect(CounterRate.perSecond(from: 100, to: 30, seconds: 2) == 15, "reset: the later value is the increase")
        #expect(CounterRate.perSecond(from: 1, to: 2, seconds: 0) == nil)
        #expect(CounterRate.perSecond(from: .nan, to: 2, seconds: 1) == nil)
    }
}
