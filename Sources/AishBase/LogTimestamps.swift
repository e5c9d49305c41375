import FoundationEssentials
import Glibc

/// ISO 8601 timestamps as Ollama writes them (fractions of any length, any offset).
package enum LogTimestamps {
    package static func parse(_ text: String) -> Date? {
        // Fractions beyond milliseconds are dropped (as ISO8601DateFormatter did: it read at most 3 digits).
        var s = text
        if let dot = s.firstIndex(of: "."), let end = s[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let digits = s[s.index(after: dot)..<end]
            s.replaceSubrange(dot..<end, with: "." + String(digits.prefix(3)).padded(toLength: 3, with: "0"))
        }
        return UTCTime.parseISO8601(s)
    }
}
