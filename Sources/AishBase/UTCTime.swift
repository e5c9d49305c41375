import FoundationEssentials
import Glibc

/// Dates as aish prints and reads them, formatted by hand (no locale, no ICU): ISO 8601 in UTC,
/// clock times in local time, HTTP dates (RFC 9110) in GMT.
package enum UTCTime {
    /// "2026-11-27T09:19:11Z"; with `milliseconds`, "2026-11-27T09:19:11.123Z". As
    /// ISO8601DateFormatter: the time is rounded to the millisecond, then shown to the second
    /// or the millisecond.
    package static func iso8601(_ date: Date, milliseconds: Bool = false) -> String {
        let total = Int((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = total >= 0 ? total / 1000 : -((-total + 999) / 1000)
        let p = fields(Date(timeIntervalSince1970: Double(seconds)), local: false)
        let text = pad(p.tm_year + 1900, 4) + "-" + pad(p.tm_mon + 1, 2) + "-" + pad(p.tm_mday, 2) + "T"
            + pad(p.tm_hour, 2) + ":" + pad(p.tm_min, 2) + ":" + pad(p.tm_sec, 2)
        return text + (milliseconds ? "." + pad(Int32(total - seconds * 1000), 3) : "") + "Z"
    }

    /// "20261127T091911Z": compact UTC, for file names.
    package static func compact(_ date: Date) -> String {
        let p = fields(date, local: false)
        return pad(p.tm_year + 1900, 4) + pad(p.tm_mon + 1, 2) + pad(p.tm_mday, 2) + "T"
            + pad(p.tm_hour, 2) + pad(p.tm_min, 2) + pad(p.tm_sec, 2) + "Z"
    }

    /// "09:19:11" in local time.
    package static func localClock(_ date: Date) -> String {
        let p = fields(date, local: true)
        return pad(p.tm_hour, 2) + ":" + pad(p.tm_min, 2) + ":" + pad(p.tm_sec, 2)
    }

    /// An RFC 3339 / ISO 8601 internet date-time: "2026-11-27T09:19:11Z",
    /// "2026-11-27T10:19:11.123456+01:00" (fractions of any length; offsets ±HH:MM or ±HHMM).
    package static func parseISO8601(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for k in from..<(from + count) {
                guard b[k] >= 0x30, b[k] <= 0x39 else { return nil }
                v = v * 10 + Int(b[k] - 0x30)
            }
            return v
        }
        func at(_ i: Int, _ c: Character) -> Bool { i < b.count && b[i] == c.asciiValue! }
        guard let y = number(0, 4), at(4, "-"), let mo = number(5, 2), at(7, "-"), let d = number(8, 2),
            at(10, "T") || at(10, "t"), let h = number(11, 2), at(13, ":"), let mi = number(14, 2), at(16, ":"),
            let s = number(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if at(i, ".") {
            i += 1
            let start = i
            var digits = 0, scale = 1.0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if scale < 1e15 { digits = digits * 10 + Int(b[i] - 0x30); scale *= 10 }
                i += 1
            }
            guard i > start else { return nil }
            fraction = Double(digits) / scale
        }
        var offset = 0
        if at(i, "Z") || at(i, "z") {
            i += 1
        } else if at(i, "+") || at(i, "-") {
            let sign = at(i, "-") ? -1 : 1
            guard let oh = number(i + 1, 2) else { return nil }
            var om = 0
            if at(i + 3, ":"), let m = number(i + 4, 2) {
                om = m
                i += 6
            } else if let m = number(i + 3, 2) {
                om = m
                i += 5
            } else {
                return nil
            }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        guard let base = epochSeconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s) else { return nil }
        return Date(timeIntervalSince1970: Double(base - offset) + fraction)
    }

    /// An HTTP date in any of RFC 9110's three forms: "Sun, 06 Nov 1994 08:49:37 GMT",
    /// "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994".
    package static func parseHTTPDate(_ text: String) -> Date? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        func month(_ s: String) -> Int? { months.firstIndex(of: s.lowercased()).map { $0 + 1 } }
        func clock(_ s: String) -> (Int, Int, Int)? {
            let p = s.split(separator: ":", omittingEmptySubsequences: false)
            guard p.count == 3, p.allSatisfy({ $0.count == 2 }), let h = Int(p[0]), let m = Int(p[1]), let sec = Int(p[2]),
                h < 24, m < 60, sec < 61
            else { return nil }
            return (h, m, sec)
        }
        var y = 0, mo = 0, d = 0
        var time: (Int, Int, Int)?
        if words.count == 4, words[3] == "GMT", let dmy = Optional(words[1].split(separator: "-")), dmy.count == 3 {
            // RFC 850: weekday, DD-Mon-YY
            guard let dd = Int(dmy[0]), let m = month(String(dmy[1])), let yy = Int(dmy[2]), dmy[2].count == 2 else { return nil }
            d = dd; mo = m; y = yy < 70 ? 2000 + yy : 1900 + yy   // two-digit years: 1970-2069
            time = clock(words[2])
        } else if words.count == 6, words[5] == "GMT" {
            // IMF-fixdate: weekday, DD Mon YYYY
            guard let dd = Int(words[1]), let m = month(words[2]), let yyyy = Int(words[3]), words[3].count == 4 else { return nil }
            d = dd; mo = m; y = yyyy
            time = clock(words[4])
        } else if words.count == 5 {
            // asctime: weekday Mon D HH:MM:SS YYYY
            guard let m = month(words[1]), let dd = Int(words[2]), let yyyy = Int(words[4]), words[4].count == 4 else { return nil }
            d = dd; mo = m; y = yyyy
            time = clock(words[3])
        }
        guard let (h, mi, s) = time, (1...31).contains(d),
            let base = epochSeconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
        else { return nil }
        return Date(timeIntervalSince1970: Double(base))
    }

    /// Seconds since 1970 of a UTC calendar time (nil for a day the month does not have).
    package static func epochSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int? {
        var p = tm()
        p.tm_year = Int32(year - 1900)
        p.tm_mon = Int32(month - 1)
        p.tm_mday = Int32(day)
        p.tm_hour = Int32(hour)
        p.tm_min = Int32(minute)
        p.tm_sec = Int32(second)
        let t = timegm(&p)
        guard p.tm_mday == Int32(day), p.tm_mon == Int32(month - 1) else { return nil }   // 31 Feb normalised away
        return Int(t)
    }

    private static func fields(_ date: Date, local: Bool) -> tm {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var p = tm()
        if local { localtime_r(&t, &p) } else { gmtime_r(&t, &p) }
        return p
    }

    private static func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
