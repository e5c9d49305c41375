import FoundationEssentials
import Glibc
import AishBase

/// The `patterns` of model-mappings.yaml, compiled once per loaded config. Most patterns
/// start with a literal (`^meta-llama/`) or end with one (`\.gguf$`): those literals are
/// checked on the name's bytes before any regex runs, and patterns are found by a hash of
/// the name's leading bytes, so a thousand patterns cost a handful of regex evaluations —
/// done by `PatternMatcher` when it handles the pattern. First match in file order wins.
package final class PatternIndex: @unchecked Sendable {
    package struct Entry {
        package let index: Int
        package let regex: PythonRegex?      // nil: the pattern does not compile (never matches)
        package let fast: PatternMatcher?            // nil: a pattern the byte matcher does not handle
        package let prefix: [UInt8]
        package let suffix: [UInt8]
    }

    package let entries: [Entry]
    /// Patterns whose literal prefix has a given length and hash → their indices, ascending.
    private let byPrefix: [UInt64: [Int]]
    /// The distinct literal-prefix lengths, ascending.
    private let prefixLengths: [Int]
    /// Patterns without a literal prefix: always considered.
    private let unanchored: [Int]
    /// Patterns that failed to compile, with the error text (validate reports them too).
    package let compileErrors: [(index: Int, message: String)]

    package init(patterns: [String]) {
        var entries: [Entry] = []
        var byPrefix: [UInt64: [Int]] = [:]
        var lengths = Set<Int>()
        var unanchored: [Int] = []
        var errors: [(Int, String)] = []
        for (i, p) in patterns.enumerated() {
            var regex: PythonRegex?
            do { regex = try PythonRegex(p) } catch {
                errors.append((i, "pattern '\(p)' does not compile: \(error)"))
            }
            let (prefix, suffix) = Self.literals(of: p)
            entries.append(Entry(index: i, regex: regex, fast: regex == nil ? nil : PatternMatcher(p), prefix: prefix, suffix: suffix))
            if prefix.isEmpty {
                unanchored.append(i)
            } else {
                byPrefix[Self.key(prefix[...]), default: []].append(i)
                lengths.insert(prefix.count)
            }
        }
        self.entries = entries
        self.byPrefix = byPrefix
        self.prefixLengths = lengths.sorted()
        self.unanchored = unanchored
        self.compileErrors = errors
    }

    /// The index of the first pattern (in file order) that matches `name`.
    package func firstMatch(_ name: String) -> Int? {
        var best = Int.max
        var name = name
        let original = name
        name.withUTF8 { bytes in
            // Printable ASCII names (nearly all model names) can use the byte matcher.
            let plain = !bytes.contains(where: { $0 < 0x20 || $0 > 0x7E })
            func full(_ e: Entry) -> Bool {
                guard literalsMatch(e, bytes) else { return false }
                if plain, let fast = e.fast { return fast.matches(bytes) }
                guard let regex = e.regex else { return false }
                return regex.matches(original)
            }
            // Candidates through their literal prefix: hash the name's first L bytes for each L.
            var hash: UInt64 = Self.offsetBasis
            var next = 0
            for (position, byte) in bytes.enumerated() {
                if next == prefixLengths.count { break }
                hash = (hash ^ UInt64(byte)) &* Self.prime
                let length = position + 1
                guard length == prefixLengths[next] else { continue }
                next += 1
                guard let list = byPrefix[Self.mix(hash, length)] else { continue }
                for i in list {
                    if i >= best { break }
                    if full(entries[i]) { best = i; break }
                }
            }
            for i in unanchored {
                if i >= best { break }
                if full(entries[i]) { best = i; break }
            }
        }
        return best == Int.max ? nil : best
    }

    private func literalsMatch(_ e: Entry, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard e.regex != nil, bytes.count >= e.prefix.count, bytes.count >= e.suffix.count else { return false }
        for (k, b) in e.prefix.enumerated() where bytes[k] != b { return false }
        let offset = bytes.count - e.suffix.count
        for (k, b) in e.suffix.enumerated() where bytes[offset + k] != b { return false }
        return true
    }

    // MARK: literal prefixes and suffixes

    private static let metacharacters = Set("\\^$.|?*+()[]{}".utf8)

    /// The literal text every match must start with (only for `^`-anchored patterns) and end
    /// with (only for `$`-anchored ones). Empty when unsure: alternation, inline flags.
    package static func literals(of pattern: String) -> (prefix: [UInt8], suffix: [UInt8]) {
        let p = Array(pattern.utf8)
        if p.contains(UInt8(ascii: "|")) || pattern.contains("(?") { return ([], []) }
        var prefix: [UInt8] = []
        if p.first == UInt8(ascii: "^") {
            var i = 1
            while i < p.count {
                var c = p[i]
                var width = 1
                if c == UInt8(ascii: "\\") {
                    guard i + 1 < p.count, !isAlphanumeric(p[i + 1]) else { break }
                    c = p[i + 1]
                    width = 2
                } else if metacharacters.contains(c) {
                    // A quantifier applies to the literal before it: drop that one.
                    if c == UInt8(ascii: "?") || c == UInt8(ascii: "*") || c == UInt8(ascii: "{") { _ = prefix.popLast() }
                    break
                } else if c >= 0x80 {
                    break   // keep to ASCII: a quantifier after a multibyte character is hard to see here
                }
                prefix.append(c)
                i += width
            }
        }
        var suffix: [UInt8] = []
        if p.count >= 2, p.last == UInt8(ascii: "$"), !isEscaped(p, at: p.count - 1) {
            var i = p.count - 2
            while i >= 0 {
                let c = p[i]
                if isEscaped(p, at: i) {
                    guard !isAlphanumeric(c) else { break }   // \d, \w: a class, not a literal
                    suffix.append(c)
                    i -= 2
                    continue
                }
                if metacharacters.contains(c) || c >= 0x80 { break }
                suffix.append(c)
                i -= 1
            }
            suffix.reverse()
        }
        return (prefix, suffix)
    }

    private static func isEscaped(_ p: [UInt8], at i: Int) -> Bool {
        var n = 0
        var j = i - 1
        while j >= 0, p[j] == UInt8(ascii: "\\") { n += 1; j -= 1 }
        return n % 2 == 1
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    // FNV-1a over the prefix bytes, mixed with the length.
    private static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01B3

    private static func key(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash = offsetBasis
        for b in bytes { hash = (hash ^ UInt64(b)) &* prime }
        return mix(hash, bytes.count)
    }

    private static func mix(_ hash: UInt64, _ length: Int) -> UInt64 { hash ^ (UInt64(length) &* 0x9E37_79B9_7F4A_7C15) }
}
