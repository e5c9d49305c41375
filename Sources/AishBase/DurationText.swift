/// Durations as text: parsed from "500ms", "2s", "1.5s", "3m", "1h" or a bare number of
/// seconds, and written the one way output shows them: "250 ms", "1.25 s".
package enum DurationText {
    /// A measured time: "3 ms", "250 ms", "1.25 s"; "-" when unknown. `fine` keeps more
    /// digits below 100 ms ("4.25 ms", "12.5 ms") for per-token figures.
    package static func milliseconds(_ ms: Double?, fine: Bool = false) -> String {
        guard let ms else { return "-" }
        guard ms.isFinite else { return ms.isNaN ? "-" : (ms > 0 ? "+Inf" : "-Inf") }
        if ms.magnitude >= 999.5 { return cFormat("%.2f s", ms / 1000) }
        if fine, ms.magnitude < 10 { return cFormat("%.2f ms", ms) }
        if fine, ms.magnitude < 100 { return cFormat("%.1f ms", ms) }
        return "\(Int(ms.rounded())) ms"
    }

    /// A duration someone chose (a timeout, an interval, a wait): "200 ms", "30 s", "1.5 s",
    /// then "12m", "3h 04m" — as few digits as it was given with.
    package static func seconds(_ s: Double) -> String {
        if s < 1 { return milliseconds(s * 1000) }
        if s < 60 { return s == s.rounded() ? "\(Int(s)) s" : cFormat("%.1f s", s) }
        return uptime(s)
    }

    /// "45s", "12m", "3h 04m", "2d 05h": the uptime column.
    package static func uptime(_ s: Double) -> String {
        let total = Int(max(0, s))
        let d = total / 86400, h = total % 86400 / 3600, m = total % 3600 / 60
        if d > 0 { return cFormat("%dd %02dh", d, h) }
        if h > 0 { return cFormat("%dh %02dm", h, m) }
        if m > 0 { return "\(m)m" }
        return "\(total)s"
    }

    package static func seconds(_ text: String) -> Double? {
        let t = text.trimming(.whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count)), v >= 0 { return v * factor }
            return nil
        }
        if let v = Double(t), v >= 0 { return v }
        return nil
    }
}
