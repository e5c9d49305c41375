import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishSessionLog

@Suite struct LogTimeTests {
    /// The calendar worked out by hand agrees with the C library's gmtime_r, to the
    /// millisecond (cut, not rounded), before and after 1970, on leap days and at the edges
    /// of years; a year past 9999 goes through the C library.
    @Test func formatAgreesWithTheCLibrary() {
        func reference(_ date: Date) -> String {
            let t = date.timeIntervalSince1970
            let whole = Int(t.rounded(.down))
            let millis = min(999, max(0, Int(((t - Double(whole)) * 1000).rounded(.down))))
            return LogTime.formatThroughLibc(whole, millis)
        }
        var random = SplitMix64(seed: 27)
        var times: [Double] = [0, -0.001, -1, 86_399.9999, 951_782_400, 951_868_799.5, 4_107_542_400, -2_203_891_200,
                               1_709_164_800.25, 253_402_300_799.999, 253_402_300_800]
        for _ in 0..<20_000 {
            times.append(Double(random.next() % 10_000_000_000) / 1000 - 2_500_000_000)
        }
        for t in times {
            let date = Date(timeIntervalSince1970: t)
            #expect(LogTime.format(date) == reference(date), "t = \(t)")
        }
        #expect(LogTime.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(LogTime.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        #expect(LogTime.format(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
    }
}

@Suite struct RollupFoldTests {
    /// The log writer sums new rows into the daily histograms itself; the result must be what
    /// `foldRollupSQL` (the migrations' set-based fold) makes of the same rows: every status,
    /// cache hits, missing timings, several days, models and providers, in three batches and
    /// one-row inserts (which fold every `rowsPerFold` rows).
    @Test func theWritersFoldMatchesTheSQLFold() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let log = try SessionLog(path: dir.file("fold.db"))
        var random = SplitMix64(seed: 7)
        func pick<T>(_ xs: [T]) -> T { xs[Int(random.next() % UInt64(xs.count))] }
        let statuses: [AttemptStatus] = [.ok, .ok, .ok, .error, .partial, .cancelled, .timeout, .skipped]
        func rows(_ n: Int) -> [AttemptRecord] {
            (0..<n).map { i in
                let day = Double(random.next() % 3) * 86_400
                var r = AttemptRecord(requestID: "r\(i)", requestedModel: pick(["m", "a-much-longer-model-name"]), routeReason: "",
                                      provider: pick(["p", "q"]), backendModel: "b", attempt: 1, status: pick(statuses),
                                      ttftMs: random.next() % 4 == 0 ? nil : Double(random.next() % 100_000) / 7,
                                      totalMs: random.next() % 4 == 0 ? nil : Double(random.next() % 1_000_000) / 3,
                                      tokensPerSecond: random.next() % 3 == 0 ? nil : Double(random.next() % 5000) / 9,
                                      prompt: "p", replyText: "r", startedAt: Date(timeIntervalSince1970: 1_765_000_000 + day))
                r.cacheHit = [nil, false, true][Int(random.next() % 3)]
                return r
            }
        }
        try log.insertAttempts(rows(500))
        try log.insertAttempts(rows(73))
        for r in rows(300) { try log.insertAttempt(r, commandID: nil) }
        try log.insertAttempts(rows(9))
        try log.refreshRollup()
        func histograms() throws -> [String] {
            let s = try log.db.prepare("SELECT day, requested_model, provider, metric, bin, n, total FROM attempt_rollup ORDER BY 1, 2, 3, 4, 5")
            var out: [String] = []
            while try s.step() {
                out.append("\(s.string(0)) \(s.string(1)) \(s.string(2)) \(s.int(3)) \(s.int(4)) n=\(s.int(5)) total=\((s.double(6) * 1000).rounded() / 1000)")
            }
            return out
        }
        let written = try histograms()
        #expect(written.count > 40, "\(written.count) bins")
        try log.db.execute("DELETE FROM attempt_rollup; UPDATE rollup_state SET covered_id = 0")
        for sql in SessionLogSchema.foldRollupSQL(upTo: "(SELECT max(id) FROM attempts)") { try log.db.execute(sql) }
        #expect(try histograms() == written)
    }
}
