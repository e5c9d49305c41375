import AishBase

/// A matcher for the regex subset routing patterns use — literals, `.`, classes (`[a-z]`,
/// `[^/]`, `\d`, `\w`, `\s`), the quantifiers `* + ? {m,n}`, and the anchors `^ $` — run
/// on the name's bytes. NSRegularExpression costs about 10 µs a call on Linux (it bridges
/// the string and builds match objects); this costs tens of nanoseconds. Patterns with
/// anything else (groups, alternation, lazy quantifiers, flags) and names that are not
/// plain ASCII are left to NSRegularExpression, whose semantics this follows (search, not
/// whole-string match; `.` does not match a newline).
package struct PatternMatcher: Sendable {
    private struct Node: Sendable {
        var set: ByteSet
        var min: Int
        var max: Int          // Int.max: unbounded
    }

    /// 256 bits: which bytes an atom accepts.
    private struct ByteSet: Sendable {
        var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        func contains(_ b: UInt8) -> Bool {
            let mask = UInt64(1) << UInt64(b & 63)
            switch b >> 6 {
            case 0: return bits.0 & mask != 0
            case 1: return bits.1 & mask != 0
            case 2: return bits.2 & mask != 0
            default: return bits.3 & mask != 0
            }
        }

        mutating func insert(_ b: UInt8) {
            let mask = UInt64(1) << UInt64(b & 63)
            switch b >> 6 {
            case 0: bits.0 |= mask
            case 1: bits.1 |= mask
            case 2: bits.2 |= mask
            default: bits.3 |= mask
            }
        }

        mutating func insert(_ range: ClosedRange<UInt8>) { for b in range { insert(b) } }

        mutating func formUnion(_ other: ByteSet) {
            bits = (bits.0 | other.bits.0, bits.1 | other.bits.1, bits.2 | other.bits.2, bits.3 | other.bits.3)
        }

        /// ASCII complement: non-ASCII names never reach this matcher.
        func invertedASCII() -> ByteSet {
            var out = ByteSet()
            for b in UInt8(0)...127 where !contains(b) { out.insert(b) }
            return out
        }

        static func of(_ bytes: UInt8...) -> ByteSet {
            var s = ByteSet()
            for b in bytes { s.insert(b) }
            return s
        }

        static let digits: ByteSet = { var s = ByteSet(); s.insert(0x30...0x39); return s }()
        static let word: ByteSet = {
            var s = digits
            s.insert(0x41...0x5A); s.insert(0x61...0x7A); s.insert(0x5F)
            return s
        }()
        static let space = ByteSet.of(0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D)
        static let anyButNewline: ByteSet = { ByteSet.of(0x0A).invertedASCII() }()
    }

    private let nodes: [Node]
    private let anchoredStart: Bool
    private let anchoredEnd: Bool

    /// nil when the pattern uses something this matcher does not handle.
    package init?(_ pattern: String) {
        let p = Array(pattern.utf8)
        var i = 0
        var nodes: [Node] = []
        var anchoredStart = false
        var anchoredEnd = false
        if p.first == UInt8(ascii: "^") { anchoredStart = true; i = 1 }
        while i < p.count {
            let c = p[i]
            var set: ByteSet
            switch c {
            case UInt8(ascii: "$"):
                guard i == p.count - 1 else { return nil }
                anchoredEnd = true
                i += 1
                continue
            case UInt8(ascii: "."):
                set = ByteSet.anyButNewline
                i += 1
            case UInt8(ascii: "\\"):
                guard i + 1 < p.count, let s = Self.escape(p[i + 1]) else { return nil }
                set = s
                i += 2
            case UInt8(ascii: "["):
                guard let (s, next) = Self.bracket(p, from: i) else { return nil }
                set = s
                i = next
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "|"), UInt8(ascii: "^"),
                 UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"),
                 UInt8(ascii: "]"):
                return nil
            default:
                guard c < 0x80 else { return nil }
                set = ByteSet.of(c)
                i += 1
            }
            var (lo, hi) = (1, 1)
            if i < p.count {
                switch p[i] {
                case UInt8(ascii: "*"): (lo, hi) = (0, Int.max); i += 1
                case UInt8(ascii: "+"): (lo, hi) = (1, Int.max); i += 1
                case UInt8(ascii: "?"): (lo, hi) = (0, 1); i += 1
                case UInt8(ascii: "{"):
                    guard let (a, b, next) = Self.braces(p, from: i) else { return nil }
                    (lo, hi) = (a, b)
                    i = next
                default: break
                }
                // Lazy or possessive quantifiers: leave them to ICU.
                if i < p.count, hi != 1 || lo != 1, p[i] == UInt8(ascii: "?") || p[i] == UInt8(ascii: "+") { return nil }
            }
            nodes.append(Node(set: set, min: lo, max: hi))
        }
        // A search for `.*X` finds a match exactly when a search for `X` does (names here
        // have no newline); dropping the `.*` avoids trying it from every start position.
        if !anchoredStart, let first = nodes.first, first.min == 0, first.max == Int.max,
           (0x20...0x7E).allSatisfy({ first.set.contains(UInt8($0)) }) {
            nodes.removeFirst()
        }
        self.nodes = nodes
        self.anchoredStart = anchoredStart
        self.anchoredEnd = anchoredEnd
    }

    /// Whether the pattern matches somewhere in `bytes` (all ASCII, no newline).
    package func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if anchoredStart { return match(0, bytes, 0) }
        for start in 0...bytes.count where match(0, bytes, start) { return true }
        return false
    }

    private func match(_ n: Int, _ s: UnsafeBufferPointer<UInt8>, _ pos: Int) -> Bool {
        if n == nodes.count { return !anchoredEnd || pos == s.count }
        let node = nodes[n]
        var count = 0
        var p = pos
        // Greedy: take as many as allowed, then give back one at a time.
        while count < node.max, p < s.count, node.set.contains(s[p]) { p += 1; count += 1 }
        while count >= node.min {
            if match(n + 1, s, pos + count) { return true }
            if count == 0 { break }
            count -= 1
        }
        return false
    }

    private static func escape(_ c: UInt8) -> ByteSet? {
        switch c {
        case UInt8(ascii: "d"): return .digits
        case UInt8(ascii: "D"): return ByteSet.digits.invertedASCII()
        case UInt8(ascii: "w"): return .word
        case UInt8(ascii: "W"): return ByteSet.word.invertedASCII()
        case UInt8(ascii: "s"): return .space
        case UInt8(ascii: "S"): return ByteSet.space.invertedASCII()
        default:
            // An escaped punctuation character is itself; escaped letters and digits mean
            // other things (\b, \1, \p…) that are left to ICU.
            let isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            return isAlnum || c >= 0x80 ? nil : .of(c)
        }
    }

    /// `[...]` starting at `i`: the set and the index after `]`.
    private static func bracket(_ p: [UInt8], from start: Int) -> (ByteSet, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count, p[i] == UInt8(ascii: "^") { negate = true; i += 1 }
        var set = ByteSet()
        var first = true
        while i < p.count {
            var c = p[i]
            if c == UInt8(ascii: "]"), !first {
                return (negate ? set.invertedASCII() : set, i + 1)
            }
            first = false
            if c == UInt8(ascii: "[") { return nil }      // POSIX classes, nested sets
            if c == UInt8(ascii: "\\") {
                guard i + 1 < p.count, let e = escape(p[i + 1]) else { return nil }
                i += 2
                // A single escaped character may start a range; a class (\d) may not.
                let single = (0..<128).filter { e.contains(UInt8($0)) }
                if single.count != 1 { set.formUnion(e); continue }
                c = UInt8(single[0])
            } else {
                guard c < 0x80 else { return nil }
                i += 1
            }
            if i + 1 < p.count, p[i] == UInt8(ascii: "-"), p[i + 1] != UInt8(ascii: "]") {
                var hi = p[i + 1]
                var width = 2
                if hi == UInt8(ascii: "\\") {
                    guard i + 2 < p.count, let e = escape(p[i + 2]) else { return nil }
                    let single = (0..<128).filter { e.contains(UInt8($0)) }
                    guard single.count == 1 else { return nil }
                    hi = UInt8(single[0])
                    width = 3
                }
                guard hi < 0x80, hi >= c else { return nil }
                set.insert(c...hi)
                i += width
            } else {
                set.insert(c)
            }
        }
        return nil
    }

    /// `{m}`, `{m,}`, `{m,n}` starting at `i`.
    private static func braces(_ p: [UInt8], from start: Int) -> (Int, Int, Int)? {
        guard let close = p[start...].firstIndex(of: UInt8(ascii: "}")) else { return nil }
        let body = String(decoding: p[(start + 1)..<close], as: UTF8.self)
        let parts = body.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= 2, let lo = Int(parts[0]) else { return nil }
        var hi = lo
        if parts.count == 2 {
            if parts[1].isEmpty { hi = Int.max } else {
                guard let h = Int(parts[1]), h >= lo else { return nil }
                hi = h
            }
        }
        return (lo, hi, close + 1)
    }
}
