import Foundation
import Testing
@testable import AishBase
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
