import FoundationEssentials

// Foundation's string conveniences that FoundationEssentials does not have (they live in the
// ICU-backed part of Foundation). Same results as Foundation's for what aish uses them for;
// literal searches compare Unicode scalars, as NSString's literal search does, not Characters
// (so "\n" is found inside "\r\n").

/// The sets `trimming(_:)` strips: CharacterSet's `.whitespaces`, `.whitespacesAndNewlines`,
/// or a given list of characters.
package struct TrimSet: Sendable {
    package let contains: @Sendable (Unicode.Scalar) -> Bool

    /// Horizontal whitespace: space separators (Zs) and tab.
    package static let whitespaces = TrimSet { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
    /// Whitespace and line breaks (U+000A–U+000D, U+0085, U+2028, U+2029).
    package static let whitespacesAndNewlines = TrimSet {
        switch $0.value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: return true
        default: return $0 == "\t" || $0.properties.generalCategory == .spaceSeparator
        }
    }

    package static func characters(_ list: String) -> TrimSet {
        let scalars = Set(list.unicodeScalars)
        return TrimSet { scalars.contains($0) }
    }
}

extension StringProtocol {
    /// The text without leading and trailing scalars of `set`.
    package func trimming(_ set: TrimSet) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !set.contains($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !set.contains($0) })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// Every occurrence of `target` replaced by `replacement` (a literal, scalar-wise search).
    package func replacingAll(_ target: String, with replacement: String) -> String {
        let text = String(self)
        guard !target.isEmpty else { return text }
        var out = ""
        var rest = text[...]
        while let r = rest.rangeOfText(target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }

    /// The first occurrence of `target` (a literal, scalar-wise search), as Foundation's
    /// `range(of:)` without options.
    package func rangeOfText(_ target: String) -> Range<Index>? {
        let t = Array(target.unicodeScalars)
        guard let head = t.first else { return nil }
        let scalars = unicodeScalars
        var i = scalars.startIndex
        while i != scalars.endIndex {
            if scalars[i] == head {
                var j = i
                var k = 0
                while k < t.count, j != scalars.endIndex, scalars[j] == t[k] {
                    j = scalars.index(after: j)
                    k += 1
                }
                if k == t.count { return i..<j }
            }
            i = scalars.index(after: i)
        }
        return nil
    }

    /// The last occurrence of `target`, as Foundation's `range(of:options: .backwards)`.
    package func lastRangeOfText(_ target: String) -> Range<Index>? {
        var found: Range<Index>?
        var rest = self[...]
        while let r = rest.rangeOfText(target) {
            found = r
            rest = rest[rest.unicodeScalars.index(after: r.lowerBound)...]
        }
        return found
    }

    /// Foundation's `padding(toLength:withPad:startingAt: 0)`: cut or padded with `pad` to
    /// `length` UTF-16 units.
    package func padded(toLength length: Int, with pad: Character = " ") -> String {
        let units = utf16.count
        if units == length { return String(self) }
        if units > length { return String(decoding: Array(utf16.prefix(length)), as: UTF16.self) }
        return String(self) + String(repeating: pad, count: length - units)
    }

    /// Spaces added on the right up to `width` characters; longer text is kept whole (columns).
    package func padded(to width: Int) -> String {
        count >= width ? String(self) : String(self) + String(repeating: " ", count: width - count)
    }

    /// Spaces added on the left up to `width` characters; longer text is kept whole (numbers).
    package func leftPadded(to width: Int) -> String {
        count >= width ? String(self) : String(repeating: " ", count: width - count) + String(self)
    }
}

/// Path text as NSString's `lastPathComponent` and `deletingLastPathComponent` give it.
package enum PathText {
    /// "/a/b/" → "b", "/" → "/", "" → "".
    package static func lastComponent(_ path: String) -> String {
        let trimmed = stripTrailingSlashes(path)
        if trimmed == "/" { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// "/a/b" → "/a", "/a" → "/", "a" → "", "a/b/" → "a".
    package static func deletingLastComponent(_ path: String) -> String {
        let trimmed = stripTrailingSlashes(path)
        if trimmed == "/" { return "/" }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        if slash == trimmed.startIndex { return "/" }
        return stripTrailingSlashes(String(trimmed[..<slash]))
    }

    private static func stripTrailingSlashes(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}

extension String {
    /// Whether the text starts with `prefix` (lowercase ASCII) in any case of its ASCII
    /// letters. Compared as bytes: lowercasing a header or a content type made a String for
    /// every response.
    package func hasPrefix(asciiCaseInsensitive prefix: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        return utf8.count >= p.count
            && zip(utf8, p).allSatisfy { $0 == $1 || ($0 >= 0x41 && $0 <= 0x5A && $0 + 0x20 == $1) }
    }
}

extension String {
    /// The text of UTF-8 `bytes`, invalid sequences replaced by U+FFFD: the same String as
    /// `String(decoding:as:)`. A short ASCII text is made in place without a validation
    /// pass (a streamed token is usually a few ASCII bytes, and decoding it was a sixth of
    /// the cost of reading its chunk).
    package init(repairingUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count <= 15, let base = bytes.baseAddress else {
            self = String(decoding: bytes, as: UTF8.self)
            return
        }
        self = String(unsafeUninitializedCapacity: bytes.count) { buffer in
            buffer.baseAddress!.initialize(from: base, count: bytes.count)
            return bytes.count
        }
    }
}
