/// Percentiles of already-sorted samples, with linear interpolation between closest ranks
/// (the "R-7" definition used by NumPy and most spreadsheets), so p50 of [1, 2, 3, 4] is 2.5.
/// `p` is 0…100. Used by `stats` and by compare/bench.
package enum Percentiles {
    /// NaN for no samples.
    package static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        precondition((0...100).contains(p), "percentile \(p) outside 0...100")
        let rank = p / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// p50, p90, p99 of unsorted samples.
    package static func summary(_ samples: [Double]) -> (p50: Double, p90: Double, p99: Double) {
        let s = samples.sorted()
        return (percentile(s, 50), percentile(s, 90), percentile(s, 99))
    }
}
