/// Text for a terminal in which aish's own control sequences (colour, cursor movement) are
/// kept apart from the text. The output step sanitises the text like any other output and
/// writes the controls as they are; text from outside can never smuggle one in.
package struct TerminalText: Sendable {
    package enum Run: Sendable, Equatable {
        case text(String)
        case control(String)
    }

    package private(set) var runs: [Run] = []

    package init() {}
    package init(_ text: String) { append(text) }

    /// `code` is an SGR parameter list ("31", "1", "2"); the text is followed by a reset.
    package static func styled(_ text: String, _ code: String) -> TerminalText {
        var t = TerminalText()
        t.append(control: TerminalControl.sgr(code))
        t.append(text)
        t.append(control: TerminalControl.reset)
        return t
    }

    package static func control(_ sequence: String) -> TerminalText {
        var t = TerminalText()
        t.append(control: sequence)
        return t
    }

    package mutating func append(_ text: String) {
        guard !text.isEmpty else { return }
        if case let .text(last)? = runs.last { runs[runs.count - 1] = .text(last + text) } else { runs.append(.text(text)) }
    }

    package mutating func append(control sequence: String) { runs.append(.control(sequence)) }

    package mutating func append(_ other: TerminalText) {
        for run in other.runs {
            switch run {
            case let .text(s): append(s)
            case let .control(c): append(control: c)
            }
        }
    }

    package static func + (a: TerminalText, b: TerminalText) -> TerminalText { var t = a; t.append(b); return t }
    package static func + (a: TerminalText, b: String) -> TerminalText { var t = a; t.append(b); return t }
    package static func + (a: String, b: TerminalText) -> TerminalText { TerminalText(a) + b }
    package static func += (a: inout TerminalText, b: TerminalText) { a.append(b) }
    package static func += (a: inout TerminalText, b: String) { a.append(b) }

    /// The text without the controls.
    package var plain: String {
        runs.reduce(into: "") { out, run in if case let .text(s) = run { out += s } }
    }

    /// Text and controls as written to a terminal, the text left as it is (tests, files of
    /// terminal frames).
    package var rendered: String {
        runs.reduce(into: "") { out, run in
            switch run {
            case let .text(s), let .control(s): out += s
            }
        }
    }

    package static func joined(_ parts: [TerminalText], separator: String) -> TerminalText {
        var t = TerminalText()
        for (i, p) in parts.enumerated() {
            if i > 0 { t.append(separator) }
            t.append(p)
        }
        return t
    }
}

/// The control sequences aish itself writes.
package enum TerminalControl {
    package static func sgr(_ code: String) -> String { "\u{1B}[\(code)m" }
    package static let reset = "\u{1B}[0m"
    /// Cursor to the top left.
    package static let home = "\u{1B}[H"
    /// Erase from the cursor to the end of the screen.
    package static let clearToEnd = "\u{1B}[J"
    package static let clearScreen = "\u{1B}[2J"
    /// Back to the start of the line and erase it.
    package static let clearLine = "\r\u{1B}[K"
    package static func up(_ lines: Int) -> String { "\r\u{1B}[\(lines)A" }
}

/// Shows control characters in text from outside (a model's reply, an error body, a label)
/// visibly instead of letting the terminal act on them: ESC becomes `^[`, so an escape
/// sequence shows as `^[]0;title^G` rather than retitling the window, clearing the screen
/// or writing the clipboard (OSC 52). Newline and tab stay; CR stays only before a newline.
/// C1 controls (U+0080–U+009F, which some terminals also act on) and the bidirectional
/// overrides (U+202A–U+202E, U+2066–U+2069, which reorder what is shown) become `<U+XXXX>`.
package enum ControlCharacters {
    /// True when `text` holds nothing to show differently; a byte scan, no copy.
    package static func isClean(_ text: String) -> Bool {
        var text = text
        text.makeContiguousUTF8()
        return text.utf8.withContiguousStorageIfAvailable { isClean($0) } ?? false
    }

    private static func isClean(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < b.count {
            let c = b[i]
            if c < 0x20 {
                if c == 0x0A || c == 0x09 { i += 1; continue }
                if c == 0x0D, i + 1 < b.count, b[i + 1] == 0x0A { i += 1; continue }
                return false
            }
            if c == 0x7F { return false }
            if c == 0xC2, i + 1 < b.count, b[i + 1] >= 0x80, b[i + 1] <= 0x9F { return false }
            if c == 0xE2, i + 2 < b.count {
                let c1 = b[i + 1], c2 = b[i + 2]
                if c1 == 0x80, c2 >= 0xAA, c2 <= 0xAE { return false }
                if c1 == 0x81, c2 >= 0xA6, c2 <= 0xA9 { return false }
            }
            i += 1
        }
        return true
    }

    /// `text` with its control characters made visible.
    package static func visible(_ text: String) -> String {
        if isClean(text) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        let scalars = Array(text.unicodeScalars)
        for (i, u) in scalars.enumerated() {
            let v = u.value
            switch v {
            case 0x0A, 0x09: out.unicodeScalars.append(u)
            case 0x0D where i + 1 < scalars.count && scalars[i + 1] == "\n": out.unicodeScalars.append(u)
            case 0x00..<0x20: out += "^" + String(UnicodeScalar(UInt8(v + 0x40)))
            case 0x7F: out += "^?"
            case 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069:
                out += "<U+" + hex4(v) + ">"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    private static func hex4(_ v: UInt32) -> String {
        let digits = Array("0123456789ABCDEF")
        return String((0..<4).reversed().map { digits[Int((v >> (UInt32($0) * 4)) & 0xF)] })
    }
}
