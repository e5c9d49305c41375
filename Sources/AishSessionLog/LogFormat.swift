import AishBase

/// Text helpers for the log commands' output.
package enum LogFormat {
    package static func rate(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return cFormat("%.1f", v)
    }

    package static func percent(_ fraction: Double) -> String { cFormat("%.1f%%", fraction * 100) }

    /// The first words of a text on one line, at most `limit` characters.
    package static func preview(_ text: String, limit: Int = 48) -> String {
        let words = text.split(whereSeparator: \.isWhitespace)
        var out = ""
        for w in words {
            let next = out.isEmpty ? String(w) : out + " " + w
            if next.count > limit {
                if out.isEmpty { return String(next.prefix(limit - 1)) + "…" }
                return out + " …"
            }
            out = next
        }
        return out
    }

    /// Left-aligned columns (right-aligned where `right` says), two spaces apart; the last
    /// column is not padded.
    package static func table(_ header: [String], _ rows: [[String]], right: Set<Int> = []) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for r in all { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for r in all {
            var line = ""
            for (i, c) in r.enumerated() {
                let last = i == r.count - 1
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                if right.contains(i) { line += pad + c } else { line += last ? c : c + pad }
                if !last { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// Indents every line of a block of text.
    package static func indented(_ text: String, by prefix: String = "  ") -> String {
        if text.isEmpty { return prefix + "(empty)\n" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n") + "\n"
    }

    /// "key  value" lines, keys padded to the longest.
    package static func aligned(_ info: [(String, String)]) -> String {
        let width = info.map(\.0.count).max() ?? 0
        return info.map { k, v in k.padded(toLength: width) + "  " + v + "\n" }.joined()
    }

    /// A table (of `table`) indented by two spaces.
    package static func indentedTable(_ table: String) -> String {
        table.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
    }

    /// RFC 4180 field.
    package static func csvField(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
        }
        return s
    }
}
