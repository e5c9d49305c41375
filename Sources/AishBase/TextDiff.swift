/// A line-based unified diff (longest common subsequence), for `config diff`.
package enum TextDiff {
    package enum Edit: Equatable { case same(String), removed(String), added(String) }

    /// Unified diff text, or "" when the texts are equal.
    package static func unified(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
        let a = lines(old), b = lines(new)
        if a == b { return "" }
        let edits = diff(a, b)
        var out = "--- \(oldName)\n+++ \(newName)\n"
        // Group edits into hunks with `context` unchanged lines around each change.
        var i = 0
        let changeIdx = edits.indices.filter { if case .same = edits[$0] { return false }; return true }
        var hunkStart = 0
        while i < changeIdx.count {
            var lo = max(0, changeIdx[i] - context)
            lo = max(lo, hunkStart)
            var hi = min(edits.count, changeIdx[i] + context + 1)
            var j = i + 1
            while j < changeIdx.count, changeIdx[j] - context <= hi { hi = min(edits.count, changeIdx[j] + context + 1); j += 1 }
            // Line numbers at `lo`.
            var oldLine = 1, newLine = 1
            for e in edits[..<lo] {
                switch e {
                case .same: oldLine += 1; newLine += 1
                case .removed: oldLine += 1
                case .added: newLine += 1
                }
            }
            var oldCount = 0, newCount = 0
            var body = ""
            for e in edits[lo..<hi] {
                switch e {
                case let .same(s): body += " \(s)\n"; oldCount += 1; newCount += 1
                case let .removed(s): body += "-\(s)\n"; oldCount += 1
                case let .added(s): body += "+\(s)\n"; newCount += 1
                }
            }
            out += "@@ -\(oldCount == 0 ? oldLine - 1 : oldLine),\(oldCount) +\(newCount == 0 ? newLine - 1 : newLine),\(newCount) @@\n" + body
            hunkStart = hi
            i = j
        }
        return out
    }

    /// (added, removed) line counts.
    package static func counts(old: String, new: String) -> (added: Int, removed: Int) {
        var added = 0, removed = 0
        for e in diff(lines(old), lines(new)) {
            switch e {
            case .added: added += 1
            case .removed: removed += 1
            case .same: break
            }
        }
        return (added, removed)
    }

    private static func lines(_ s: String) -> [String] {
        if s.isEmpty { return [] }
        var parts = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// The edits turning `a` into `b` (longest common subsequence); also used on words by `replay`.
    package static func diff(_ a: [String], _ b: [String]) -> [Edit] {
        // Trim the common prefix and suffix; the table then covers only the changed middle.
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        let x = Array(a[prefix..<(a.count - suffix)]), y = Array(b[prefix..<(b.count - suffix)])
        let n = x.count, m = y.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    table[i][j] = x[i] == y[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
                }
            }
        }
        var edits: [Edit] = a[..<prefix].map { .same($0) }
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, x[i] == y[j] { edits.append(.same(x[i])); i += 1; j += 1 }
            else if i < n, j == m || table[i + 1][j] >= table[i][j + 1] { edits.append(.removed(x[i])); i += 1 }
            else { edits.append(.added(y[j])); j += 1 }
        }
        edits.append(contentsOf: a[(a.count - suffix)...].map { .same($0) })
        return edits
    }
}

/// Aligned columns for `config show`.
package struct TextTable {
    package var headers: [String]
    package var rows: [[String]] = []

    package init(headers: [String], rows: [[String]] = []) {
        self.headers = headers
        self.rows = rows
    }

    package mutating func add(_ row: [String]) { rows.append(row) }

    package var rendered: String {
        var widths = headers.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var s = ""
            for (i, c) in cells.enumerated() {
                if i == cells.count - 1 { s += c } else { s += c + String(repeating: " ", count: widths[i] - c.count + 2) }
            }
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
