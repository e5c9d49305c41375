import Foundation
import Testing
@testable import AishBase

/// aish's replacements for the ICU-backed parts of Foundation give Foundation's results.
@Suite struct EssentialsTests {
    @Test func trimmingAsCharacterSet() {
        for s in ["  a b \t", "\u{3000}x\u{00A0}", "\n a \n", "", "   ", "x"] {
            #expect(s.trimming(.whitespaces) == s.trimmingCharacters(in: .whitespaces), "\(s.debugDescription)")
            #expect(s.trimming(.whitespacesAndNewlines) == s.trimmingCharacters(in: .whitespacesAndNewlines), "\(s.debugDescription)")
        }
        #expect("\"'x'\"".trimming(.characters("\"'")) == "x")
    }

    @Test func replacingAndSearchingAreLiteralAndScalarWise() {
        for (s, t, r) in [("a\r\nb", "\n", " "), ("x\"y\"", "\"", "\"\""), ("aaa", "aa", "b"), ("", "x", "y"), ("é", "e", "E")] {
            #expect(s.replacingAll(t, with: r) == s.replacingOccurrences(of: t, with: r), "\(s.debugDescription)")
        }
        let s = "Failed to connect after 12 ms: refused"
        let r = try! #require(s.rangeOfText(" after "))
        #expect(s[r.upperBound...].hasPrefix("12 ms"))
        #expect("abc".rangeOfText("x") == nil)
    }

    @Test func lastOccurrenceAsFoundationBackwards() {
        for (s, t) in [("<a></a><b></a>", "</a>"), ("aaaa", "aa"), ("abc", "x"), ("", "x"), ("éé", "é")] {
            let lean = s.lastRangeOfText(t).map { s.distance(from: s.startIndex, to: $0.lowerBound) }
            let foundation = s.range(of: t, options: .backwards).map { s.distance(from: s.startIndex, to: $0.lowerBound) }
            #expect(lean == foundation, "\(s.debugDescription) \(t.debugDescription)")
        }
    }

    @Test func paddingAsNSString() {
        for (s, n) in [("ab", 5), ("abcdef", 3), ("", 2), ("é", 3)] {
            #expect(s.padded(toLength: n) == s.padding(toLength: n, withPad: " ", startingAt: 0))
        }
        #expect("12".padded(toLength: 3, with: "0") == "120")
    }

    @Test func pathComponentsAsNSString() {
        for p in ["/a/b", "/a/b/", "/a", "/", "", "a/b//", "//x"] {   // Foundation traps on "a"
            #expect(PathText.lastComponent(p) == (p as NSString).lastPathComponent, "\(p)")
            #expect(PathText.deletingLastComponent(p) == (p as NSString).deletingLastPathComponent, "\(p)")
        }
        #expect(PathText.lastComponent("a") == "a")
        #expect(PathText.deletingLastComponent("a") == "")
    }

    @Test func cFormatAsStringFormat() {
        for v in [0.0, 1.25, 2.5, -3.75, 1234.5678, 0.05, 1e9] {
            for f in ["%.0f ms", "%.1f", "%.2f s", "%.3f", "%.6f", "%.1f%%"] {
                #expect(cFormat(f, v) == String(format: f, v), "\(f) \(v)")
            }
        }
        #expect(cFormat("%02x", 10) == "0a")
        #expect(cFormat("\\u%04x", 31) == "\\u001f")
        #expect(cFormat("%dh %02dm", 3, 7) == "3h 07m")
        #expect(cFormat("%.1f", 1.0).count == 3)
    }

    @Test func utcTimesAsISO8601DateFormatter() {
        let iso = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for t in [0.0, 1_795_960_751.1239, 1_700_000_000.999, 1_700_000_000.9996, 951_782_400.5, -0.5, 1_700_000_000.0005] {
            let d = Date(timeIntervalSince1970: t)
            #expect(UTCTime.iso8601(d) == iso.string(from: d))
            #expect(UTCTime.iso8601(d, milliseconds: true) == fractional.string(from: d))
        }
        for s in ["2026-11-27T09:19:11Z", "2026-11-27T10:19:11.123+01:00", "2026-11-27T04:19:11.5-0500", "2024-02-29T00:00:00Z"] {
            let mine = UTCTime.parseISO8601(s)
            let theirs = s.contains(".") ? fractional.date(from: s) : iso.date(from: s)
            #expect(mine != nil && theirs != nil && abs(mine!.timeIntervalSince(theirs!)) < 0.0005, "\(s)")
        }
        for bad in ["2026-11-27", "2026-13-01T00:00:00Z", "2026-11-27T09:19:11", "2026-02-30T00:00:00Z", "x"] {
            #expect(UTCTime.parseISO8601(bad) == nil, "\(bad)")
        }
        #expect(UTCTime.compact(Date(timeIntervalSince1970: 1_795_960_751)) == "20261129T135911Z")
    }

    @Test func httpDatesInAllThreeForms() {
        let expected = Date(timeIntervalSince1970: 784_111_777)   // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(UTCTime.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(UTCTime.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(UTCTime.parseHTTPDate("Sun Nov  6 08:49:37 1994") == expected)
        #expect(UTCTime.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 PST") == nil)
        #expect(UTCTime.parseHTTPDate("soon") == nil)
    }

    @Test func localClockAsDateFormatter() {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "HH:mm:ss"
        let d = Date(timeIntervalSince1970: 1_795_960_751.7)
        #expect(UTCTime.localClock(d) == f.string(from: d))
    }

    @Test func fileErrorsNameTheSystemsReason() {
        do {
            _ = try Data(contentsOf: URL(fileURLWithPath: "/nonexistent/aish-file"))
            Issue.record("read a missing file")
        } catch {
            #expect(describeFileError(error) == "No such file or directory")
        }
    }
}

@Suite struct WorkerThreadTests {
    /// A named thread shows its name where `top -H` reads it (the first 15 bytes).
    @Test func aNamedThreadShowsItsName() {
        let seen = Locked<[String]>([])
        let done = DispatchSemaphore(value: 0)
        for name in ["aish-log", "aish-load 12345678"] {
            WorkerThread.start(name: name) {
                let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                seen.withLock { $0.append(comm.trimmingCharacters(in: .newlines)) }
                done.signal()
            }
            done.wait()
        }
        #expect(seen.withLock { $0 } == ["aish-log", "aish-load 12345"])
    }
}
