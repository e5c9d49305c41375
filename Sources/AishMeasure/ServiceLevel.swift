import FoundationEssentials
import Glibc
import AishBase

/// Service-level objectives for `bench --slo 'ttft_p95<=200ms,itl_p95<=50ms,e2e_p99<=2s'`:
/// each target is a measure, a percentile and a bound. A level meets the SLO when every
/// measure's percentile over its requests is within bound and no request failed beyond the
/// share the percentile allows; a request is "good" when each of its measures is within
/// every bound (a failed request is never good). Goodput is good requests per second.
package struct ServiceLevel: Sendable, Equatable {
    package enum Measure: String, Sendable, CaseIterable {
        case ttft, itl, icl, tpot, e2e
    }

    package struct Target: Sendable, Equatable {
        package var measure: Measure
        package var percentile: Double
        package var boundMs: Double
        /// As written: "ttft_p95<=200ms".
        package var text: String
    }

    package var targets: [Target]

    package static func parse(_ text: String) throws -> ServiceLevel {
        func bad(_ why: String) -> UsageError {
            UsageError(message: "bench: --slo \(why), e.g. 'ttft_p95<=200ms,itl_p95<=50ms,e2e_p99<=2s', got '\(text)'")
        }
        var targets: [Target] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let term = raw.trimming(.whitespaces)
            guard let le = term.rangeOfText("<=") else { throw bad("takes MEASURE_pNN<=DURATION terms") }
            let name = term[..<le.lowerBound].trimming(.whitespaces)
            let bound = term[le.upperBound...].trimming(.whitespaces)
            let parts = name.split(separator: "_")
            guard parts.count == 2, let measure = Measure(rawValue: String(parts[0])) else {
                throw bad("measures are ttft, itl, icl, tpot and e2e")
            }
            guard parts[1].hasPrefix("p"), let p = Double(parts[1].dropFirst()), p > 0, p <= 100 else {
                throw bad("takes a percentile such as p95 after the measure")
            }
            guard let seconds = DurationText.seconds(String(bound)), seconds > 0 else {
                throw bad("takes a duration such as 200ms or 2s as the bound")
            }
            targets.append(Target(measure: measure, percentile: p, boundMs: seconds * 1000,
                                  text: "\(name)<=\(bound)"))
        }
        return ServiceLevel(targets: targets)
    }

    package static func value(_ measure: Measure, of s: RequestSample) -> Double? {
        switch measure {
        case .ttft: return s.ttftMs
        case .itl: return s.itlMs
        case .icl: return s.iclMs
        case .tpot: return s.tpotMs
        case .e2e: return s.totalMs
        }
    }

    /// Whether one request met every bound (a measure it has no value for, such as the
    /// inter-token latency of a one-token reply, does not count against it).
    package func isGood(_ s: RequestSample) -> Bool {
        guard s.ok else { return false }
        return targets.allSatisfy { t in (ServiceLevel.value(t.measure, of: s) ?? 0) <= t.boundMs }
    }

    /// How a level did against the SLO.
    package struct Verdict: Sendable {
        /// Share of requests that met every bound (failed requests count as misses).
        package var attainment: Double
        package var goodRequests: Int
        /// The targets the level broke, as written, in the SLO's order.
        package var brokenBy: [String]
        package var met: Bool { brokenBy.isEmpty }
    }

    /// Judges a level's requests. A target is broken when its percentile over the level's
    /// requests (failed requests counted as infinitely slow) is above its bound.
    package func judge(_ samples: [RequestSample]) -> Verdict {
        let good = samples.filter(isGood).count
        var broken: [String] = []
        for t in targets {
            let values = samples.map { s -> Double in
                guard s.ok else { return .infinity }
                return ServiceLevel.value(t.measure, of: s) ?? 0
            }.sorted()
            guard !values.isEmpty else { broken.append(t.text); continue }
            // Nearest rank, so an infinite (failed) sample is never interpolated.
            let rank = max(0, Int((t.percentile / 100 * Double(values.count)).rounded(.up)) - 1)
            if values[min(rank, values.count - 1)] > t.boundMs { broken.append(t.text) }
        }
        return Verdict(attainment: samples.isEmpty ? 0 : Double(good) / Double(samples.count), goodRequests: good,
                       brokenBy: broken)
    }
}

/// `bench --find-max`: which load to try next. Brackets by doubling from `start` until a
/// level breaks the SLO (halving instead when the first one does), then bisects between the
/// highest load that met it and the lowest that broke it: to one for concurrency, to within
/// 10% for rates.
package struct LoadSearch: Sendable {
    package let axis: BenchCommand.SearchAxis
    package let start: Double
    package let ceiling: Double
    package private(set) var feasible: Double?
    package private(set) var infeasible: Double?
    /// A load met the SLO above one that broke it: the server is not monotonic here.
    package private(set) var monotonic = true
    private var tried: Set<Double> = []

    package init(axis: BenchCommand.SearchAxis, start: Double, ceiling: Double) {
        self.axis = axis
        self.start = max(axis == .concurrency ? 1 : 0.01, start)
        self.ceiling = ceiling
    }

    private func rounded(_ x: Double) -> Double {
        axis == .concurrency ? x.rounded(.down) : (x * 100).rounded() / 100
    }

    /// The next load to try, or nil when the search is done.
    package mutating func next() -> Double? {
        guard monotonic else { return nil }
        var x: Double
        switch (feasible, infeasible) {
        case (nil, nil):
            x = start
        case let (good?, nil):
            x = min(ceiling, rounded(good * 2))
        case let (nil, bad?):
            x = rounded(bad / 2)
            if axis == .concurrency ? x < 1 : x < start / 1024 { return nil }
        case let (good?, bad?):
            if axis == .concurrency ? bad - good <= 1 : (bad - good) / good <= 0.1 { return nil }
            x = rounded((good + bad) / 2)
        }
        guard !tried.contains(x) else { return nil }
        tried.insert(x)
        return x
    }

    package mutating func record(_ load: Double, met: Bool) {
        if met {
            if let bad = infeasible, load >= bad { monotonic = false }
            feasible = max(feasible ?? load, load)
        } else {
            if let good = feasible, load <= good { monotonic = false }
            infeasible = min(infeasible ?? load, load)
        }
    }
}
