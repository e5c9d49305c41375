import FoundationEssentials
import Glibc
import AishBase

/// The log's time format: ISO-8601 UTC with milliseconds, fixed width, so that text order
/// is time order ("2026-11-27T09:19:11.123Z"). Formatted by hand: it runs for every row.
package enum LogTime {
    package static func format(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var seconds = time_t(t.rounded(.down))
        var millis = Int(((t - Double(seconds)) * 1000).rounded(.down))
        if millis >= 1000 { millis = 999 }
        if millis < 0 { millis = 0 }
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
