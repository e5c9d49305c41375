import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishHTTP
import AishConfig
import AishSessionLog
import AishTelemetry

/// When a bench level ends before its time.
///
/// - Saturation (open loops: a closed loop holds its backlog at C by construction): the
///   requests waiting (in flight plus the client's queue) and the wait from a request's
///   scheduled time to its first token both keep growing. The level so far is cut into three
///   equal spans of time; it is saturated when the mean backlog rises from span to span and
///   ends at least twice the first span's (and 4 requests more), and the median wait of the
///   requests that ended in each span rises likewise and ends at least twice the first's (or
///   no request ended in the last span at all). Checked four times a second once the level
///   has run `minimumSeconds` after its ramp-up.
/// - An error rate: more than `maxErrorRate` of the counted requests that ended failed, once
///   `minimumRequests` have ended.
struct EarlyStop {
    struct Rules: Sendable, Equatable {
        var saturation = false
        var maxErrorRate: Double? = nil
    }

    static let minimumSeconds = 3.0
    static let minimumRequests = 10
    static let interval = 0.25

    let rules: Rules
    private var backlog: [(t: Double, n: Int)] = []
    private var waits: [(t: Double, ms: Double)] = []
    private var ended = 0
    private var failed = 0
    private var lastCheck = -Double.infinity

    init(_ rules: Rules) { self.rules = rules }

    var isActive: Bool { rules.saturation || rules.maxErrorRate != nil }

    /// A counted request ended; `waitedMs`: from its scheduled time to its first token (or end).
    mutating func finished(_ s: RequestSample, waitedMs: Double, at t: Double) {
        guard isActive else { return }
        ended += 1
        if !s.ok { failed += 1 }
        if rules.saturation, s.ok { waits.append((t, waitedMs)) }
    }

    /// When the loop must wake to check next (infinity when nothing is checked).
    func nextCheck(after now: Double) -> Double {
        rules.saturation ? max(now, lastCheck + Self.interval) : .infinity
    }

    /// The reason to stop now, or nil.
    mutating func check(now: Double, countedFrom: Double, backlog current: Int) -> String? {
        if let limit = rules.maxErrorRate, ended >= Self.minimumRequests, Double(failed) / Double(ended) > limit {
            return "error rate " + Self.percent(Double(failed) / Double(ended)) + " over \(ended) requests, above the limit of "
                + Self.percent(limit)
        }
        guard rules.saturation, now >= lastCheck + Self.interval else { return nil }
        lastCheck = now
        guard now >= countedFrom else { return nil }
        backlog.append((now, current))
        return Self.saturation(backlog: backlog, waits: waits, from: countedFrom, now: now)
    }

    /// The saturation rule over what a level has seen so far (pure, for the tests).
    static func saturation(backlog: [(t: Double, n: Int)], waits: [(t: Double, ms: Double)], from start: Double,
                           now: Double) -> String? {
        let span = (now - start) / 3
        guard now - start >= minimumSeconds, span > 0 else { return nil }
        func third(_ t: Double) -> Int { min(2, max(0, Int((t - start) / span))) }
        var b: [[Double]] = [[], [], []]
        for x in backlog where x.t >= start { b[third(x.t)].append(Double(x.n)) }
        guard b.allSatisfy({ !$0.isEmpty }) else { return nil }
        let mean = b.map { $0.reduce(0, +) / Double($0.count) }
        guard mean[0] < mean[1], mean[1] < mean[2], mean[2] >= 2 * mean[0], mean[2] >= mean[0] + 4 else { return nil }
        var w: [[Double]] = [[], [], []]
        for x in waits where x.t >= start { w[third(x.t)].append(x.ms) }
        let backlogText = "requests waiting " + cFormat("%.0f", mean[0]) + " → " + cFormat("%.0f", mean[2])
        if w[2].isEmpty { return "saturated: \(backlogText), and none ended in the last \(Format.seconds(span))" }
        guard !w[0].isEmpty, !w[1].isEmpty else { return nil }
        let median = w.map { Percentiles.percentile($0.sorted(), 50) }
        guard median[0] < median[1], median[1] < median[2], median[2] >= 2 * median[0] else { return nil }
        return "saturated: \(backlogText), wait to first token p50 " + Format.milliseconds(median[0]) + " → "
            + Format.milliseconds(median[2])
    }

    static func percent(_ x: Double) -> String { cFormat("%.0f%%", x * 100) }
}
