import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishSessionLog
@testable import AishSQLite

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

@Suite struct FullTextMergeTests {
    /// A new log, and a log whose index has SQLite's default (as an older aish left it), get
    /// the larger merge step when opened for writing; a search still finds every row of many
    /// batches, newest first.
    @Test func theIndexMergesInLargerStepsAndStillFindsEveryRow() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("fts.db")
        func automerge() throws -> Int? {
            let db = try Database(path: path, readOnly: true)
            let s = try db.prepare("SELECT v FROM attempts_fts_config WHERE k = 'automerge'")
            return try s.step() ? s.int(0) : nil
        }
        var log: SessionLog? = try SessionLog(path: path)
        #expect(try automerge() == SessionLogSchema.fullTextAutomerge)
        // Enough single-statement batches that the index merges segments many times.
        var id = 0
        for batch in 0..<300 {
            try log?.insertAttempts((0..<(batch % 7 + 1)).map { i in
                id += 1
                return AttemptRecord(requestID: RequestID.make(), requestedModel: "m", routeReason: "", provider: "p", backendModel: "b",
                                     attempt: 1, status: .ok, prompt: "prompt \(id) word\(id % 5)", replyText: "reply\(id)",
                                     startedAt: Date(timeIntervalSince1970: 1_765_000_000 + Double(id)))
            })
        }
        log = nil
        let db = try Database(path: path)
        try db.execute("DELETE FROM attempts_fts_config WHERE k = 'automerge'")
        #expect(try automerge() == nil)
        log = try SessionLog(path: path)
        #expect(try automerge() == SessionLogSchema.fullTextAutomerge)
        let reader = try SessionLogReader(path: path)
        let found = try reader.attempts(AttemptFilter(search: "word3"))
        #expect(found.map(\.prompt) == stride(from: id, through: 1, by: -1).filter { $0 % 5 == 3 }.map { "prompt \($0) word3" })
        #expect(try reader.attempts(AttemptFilter(limit: 5, search: "reply17")).map(\.prompt) == ["prompt 17 word2"])
    }
}

@Suite struct RequestIDTests {
    /// RFC 9562 appendix A.6's example, with its rand_a as the millisecond's fraction.
    @Test func theRFCsExampleComesOutAsPrinted() {
        let nanoseconds: UInt64 = 0x017F_22E2_79B0 * 1_000_000 + 797_608   // 797,608 ns = 0xCC3 / 4096 ms
        #expect(RequestID.make(unixNanoseconds: nanoseconds, random: 0x18C4_DC0C_0C07_398F << 2)
                    == "017f22e2-79b0-7cc3-98c4-dc0c0c07398f")
    }

    /// Ids made one after another are version 7 UUIDs of now, distinct, and (to the 1/4096
    /// of a millisecond their time keeps) in the order they were made.
    @Test func idsAreVersion7OfNowAndSortInTheOrderMade() throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let ids = (0..<20_000).map { _ in RequestID.make() }
        let after = UInt64(Date().timeIntervalSince1970 * 1000)
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = uuid.uuid
            #expect(bytes.6 >> 4 == 7, "version of \(id)")
            #expect(bytes.8 >> 6 == 0b10, "variant of \(id)")
            let milliseconds = UInt64(id.prefix(8) + id.dropFirst(9).prefix(4), radix: 16) ?? 0
            #expect((before...after + 1).contains(milliseconds), "\(id): \(milliseconds) not in \(before)...\(after)")
        }
        let times = ids.map { $0.prefix(18) }   // milliseconds, version, fraction
        #expect(times == times.sorted())
        #expect(Set(ids.map { $0.suffix(12) }).count > ids.count * 9 / 10, "the tail is random")
    }
}
