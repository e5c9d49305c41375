import FoundationEssentials
import Glibc
import AishBase

/// The log's time format: ISO-8601 UTC with milliseconds, fixed width, so that text order
/// is time order ("2026-11-27T09:19:11.123Z"). Formatted by hand: it runs for every row.
package enum LogTime {
    package static func format(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        let seconds = Int(t.rounded(.down))
        var millis = Int(((t - Double(seconds)) * 1000).rounded(.down))
        if millis >= 1000 { millis = 999 }
        if millis < 0 { millis = 0 }
        // The calendar day worked out by hand (days since 1970 to year, month, day; Howard
        // Hinnant's civil_from_days) and the digits written in place: gmtime_r and a String a
        // field cost 10,000 instructions a row, and bench logs tens of thousands of rows a second.
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        let ofDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        guard (0...9999).contains(year) else { return formatThroughLibc(seconds, millis) }
        return String(unsafeUninitializedCapacity: 24) { out in
            func put(_ value: Int, _ width: Int, at end: Int) {
                var v = value
                for i in stride(from: end - 1, through: end - width, by: -1) {
                    out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
            }
            put(year, 4, at: 4)
            out[4] = UInt8(ascii: "-")
            put(month, 2, at: 7)
            out[7] = UInt8(ascii: "-")
            put(day, 2, at: 10)
            out[10] = UInt8(ascii: "T")
            put(ofDay / 3600, 2, at: 13)
            out[13] = UInt8(ascii: ":")
            put(ofDay / 60 % 60, 2, at: 16)
            out[16] = UInt8(ascii: ":")
            put(ofDay % 60, 2, at: 19)
            out[19] = UInt8(ascii: ".")
            put(millis, 3, at: 23)
            out[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// `format` through the C library (a year outside 0–9999, and the tests' reference).
    static func formatThroughLibc(_ whole: Int, _ millis: Int) -> String {
        var seconds = time_t(whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(millis, 3) + "Z"
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Parses the log's own format (and the same without milliseconds).
    package static func parse(_ text: String) -> Date? { parseAbsolute(text, assumeUTC: true) }

    /// `--since`: a duration back from `now` ("90s", "15m", "1h", "2d"), a date
    /// ("2026-11-27", local midnight) or a date-time ("2026-11-27T10:00", "2026-11-27 10:00:00",
    /// local unless it ends in Z).
    package static func parseSince(_ text: String, now: Date = Date()) -> Date? {
        let t = text.trimming(.whitespaces)
        if let first = t.first, first.isNumber, t.count <= 8, !t.contains("-"), !t.contains(":"),
            let seconds = DurationText.seconds(t)
        {
            return now.addingTimeInterval(-seconds)
        }
        return parseAbsolute(t, assumeUTC: false)
    }

    private static func parseAbsolute(_ text: String, assumeUTC: Bool) -> Date? {
        var s = Substring(text)
        var utc = assumeUTC
        if s.hasSuffix("Z") || s.hasSuffix("z") { utc = true; s = s.dropLast() }
        let dateAndTime = s.split(maxSplits: 1, whereSeparator: { $0 == "T" || $0 == " " })
        guard let datePart = dateAndTime.first else { return nil }
        let ymd = datePart.split(separator: "-", omittingEmptySubsequences: false)
        guard ymd.count == 3, let y = Int(ymd[0]), let mo = Int(ymd[1]), let d = Int(ymd[2]),
            ymd[0].count == 4, (1...12).contains(mo), (1...31).contains(d)
        else { return nil }
        var h = 0, mi = 0
        var sec = 0.0
        if dateAndTime.count == 2 {
            let hms = dateAndTime[1].split(separator: ":", omittingEmptySubsequences: false)
            guard (2...3).contains(hms.count), let hh = Int(hms[0]), let mm = Int(hms[1]),
                (0...23).contains(hh), (0...59).contains(mm)
            else { return nil }
            h = hh
            mi = mm
            if hms.count == 3 {
                guard let ss = Double(hms[2]), ss >= 0, ss < 61 else { return nil }
                sec = ss
            }
        }
        var parts = tm()
        parts.tm_year = Int32(y - 1900)
        parts.tm_mon = Int32(mo - 1)
        parts.tm_mday = Int32(d)
        parts.tm_hour = Int32(h)
        parts.tm_min = Int32(mi)
        parts.tm_sec = 0
        parts.tm_isdst = -1
        let base = utc ? timegm(&parts) : mktime(&parts)
        guard base != -1 || (y == 1969) else { return nil }
        return Date(timeIntervalSince1970: Double(base) + sec)
    }

    /// "09:19:11" today, else "11-26 09:19" — for one-line listings.
    package static func short(_ stored: String, now: Date = Date()) -> String {
        guard let date = parse(stored) else { return stored }
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var n = time_t(now.timeIntervalSince1970.rounded(.down))
        var a = tm(), b = tm()
        localtime_r(&t, &a)
        localtime_r(&n, &b)
        let time = pad(Int(a.tm_hour), 2) + ":" + pad(Int(a.tm_min), 2) + ":" + pad(Int(a.tm_sec), 2)
        if a.tm_year == b.tm_year && a.tm_yday == b.tm_yday { return time }
        return pad(Int(a.tm_mon) + 1, 2) + "-" + pad(Int(a.tm_mday), 2) + " " + time
    }
}
