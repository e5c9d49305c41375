/// A regular expression written in Python `re` syntax (the deployment's routing patterns are
/// read by LiteLLM's Python), run by the standard library's `Regex` engine — no ICU, so no
/// Foundation NSRegularExpression. The pattern is first rewritten where the two syntaxes mean
/// different things, so that matches are Python's:
///
/// - `$` (without the m flag) matches at the end or before a final newline; `\Z` only at the end;
/// - `.` (without the s flag) matches anything but `\n`;
/// - in a class, a leading `]` and a `[`, `&`, `~`, `|` are literal characters;
/// - escapes Python knows (`\d \w \s \b \A \Z \x.. \u.... \N{..}`, octal, backreferences,
///   escaped punctuation) keep their meaning; other letters after `\` are errors, as in Python.
///
/// Matching is by Unicode scalar (Python matches code points, not grapheme clusters), and `\b`
/// is the simple `\w`/`\W` boundary. Python constructs this engine lacks are reported as
/// unsupported rather than silently treated differently: lookbehind `(?<=` `(?<!`, conditionals
/// `(?(1)..)`, and the ASCII flag `(?a)`.
package final class PythonRegex: @unchecked Sendable {   // Regex is immutable; its lazy program is built thread-safely
    package struct Failure: Error, CustomStringConvertible {
        package enum Kind: Sendable { case invalid, unsupported }
        package var kind: Kind
        package var message: String
        package var description: String { message }
    }

    package let pattern: String
    private let regex: Regex<AnyRegexOutput>

    package init(_ pattern: String) throws(Failure) {
        self.pattern = pattern
        let translated = try Self.translate(pattern)
        do {
            regex = try Regex(translated).matchingSemantics(.unicodeScalar).wordBoundaryKind(.simple)
        } catch {
            throw Failure(kind: .invalid, message: "\(error)")
        }
    }

    /// What validate says about a pattern that does not compile.
    package static func problem(in pattern: String) -> String {
        do {
            _ = try PythonRegex(pattern)
            return "pattern '\(pattern)' compiles"
        } catch where error.kind == .unsupported {
            return "pattern '\(pattern)' uses \(error.message), Python regex syntax aish does not support (the pattern never matches)"
        } catch {
            return "pattern '\(pattern)' is not a valid regular expression"
        }
    }

    /// A match anywhere in `text` (Python's `re.search`).
    package func matches(_ text: String) -> Bool { (try? regex.firstMatch(in: text)) != nil }

    // MARK: Python syntax → Swift Regex syntax

    private static let pythonEscapeLetters = Set("abBdDfnrsStvwWxuUNAZ")
    private static let classEscapeLetters = Set("abdDfnrsStvwWxuUN")

    package static func translate(_ pattern: String) throws(Failure) -> String {
        let p = Array(pattern.unicodeScalars)
        var out = ""
        var i = 0
        let flags = globalFlags(p)
        if flags.contains("a") { throw unsupported("the ASCII flag '(?a)'") }
        if flags.contains("L") { throw invalid("the locale flag '(?L)' cannot be used with text") }
        let multiline = flags.contains("m")
        let dotAll = flags.contains("s")

        func hex(_ s: Unicode.Scalar) -> String { "\\x{" + String(s.value, radix: 16) + "}" }
        func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
        func isOctal(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x37 }

        /// The escape at p[i] (a backslash); returns the Swift text and advances i.
        func escape(inClass: Bool) throws(Failure) -> String {
            guard i + 1 < p.count else { throw invalid("a pattern may not end with '\\' (offset \(i))") }
            let c = p[i + 1]
            let start = i
            i += 2
            if isDigit(c) {
                // Octal: \0, \0o, \0oo, or three octal digits; else (outside a class) a backreference.
                var digits = String(c)
                if c == "0" || inClass {
                    while digits.count < 3, i < p.count, isOctal(p[i]) { digits.unicodeScalars.append(p[i]); i += 1 }
                    guard let v = UInt32(digits, radix: 8), v <= 0o377 else { throw invalid("bad octal escape '\\\(digits)' at offset \(start)") }
                    return "\\x{" + String(v, radix: 16) + "}"
                }
                if i + 1 < p.count, isOctal(c), isOctal(p[i]), isOctal(p[i + 1]) {
                    digits.unicodeScalars.append(p[i]); digits.unicodeScalars.append(p[i + 1]); i += 2
                    guard let v = UInt32(digits, radix: 8), v <= 0o377 else { throw invalid("bad octal escape '\\\(digits)' at offset \(start)") }
                    return "\\x{" + String(v, radix: 16) + "}"
                }
                if i < p.count, isDigit(p[i]) { digits.unicodeScalars.append(p[i]); i += 1 }
                return "\\g{" + digits + "}"
            }
            guard c.isASCII, c.properties.isAlphabetic else { return hex(c) }   // escaped punctuation: literal
            let letter = Character(c)
            guard (inClass ? classEscapeLetters : pythonEscapeLetters).contains(letter) else {
                throw invalid("bad escape '\\\(letter)' at offset \(start)")
            }
            switch letter {
            case "Z": return "\\z"
            case "v": return "\\x{b}"
            case "a": return "\\x{7}"
            case "b" where inClass: return "\\x{8}"
            case "x", "u", "U":
                let width = letter == "x" ? 2 : letter == "u" ? 4 : 8
                guard i + width <= p.count, p[i..<(i + width)].allSatisfy({ $0.properties.isASCIIHexDigit }) else {
                    throw invalid("incomplete escape '\\\(letter)' at offset \(start)")
                }
                let digits = String(String.UnicodeScalarView(p[i..<(i + width)]))
                i += width
                guard let v = UInt32(digits, radix: 16), Unicode.Scalar(v) != nil else {
                    throw invalid("bad escape '\\\(letter)\(digits)' at offset \(start)")
                }
                return "\\x{" + String(v, radix: 16) + "}"
            default:
                return "\\" + String(letter)
            }
        }

        while i < p.count {
            let c = p[i]
            switch c {
            case "\\":
                out += try escape(inClass: false)
            case "[":
                out += "["
                i += 1
                if i < p.count, p[i] == "^" { out += "^"; i += 1 }
                if i < p.count, p[i] == "]" { out += "\\]"; i += 1 }   // a leading ']' is literal
                var closed = false
                while i < p.count {
                    let d = p[i]
                    if d == "]" { out += "]"; i += 1; closed = true; break }
                    if d == "\\" { out += try escape(inClass: true); continue }
                    if d == "[" || d == "&" || d == "~" || d == "|" { out += "\\" + String(d) } else { out.unicodeScalars.append(d) }
                    i += 1
                }
                guard closed else { throw invalid("unterminated character set at offset \(i)") }
            case "(":
                if i + 1 < p.count, p[i + 1] == "?" {
                    let rest = String(String.UnicodeScalarView(p[(i + 2)...].prefix(2)))
                    if rest.hasPrefix("<=") || rest.hasPrefix("<!") { throw unsupported("lookbehind '(?\(rest)' at offset \(i)") }
                    if rest.hasPrefix("(") { throw unsupported("a conditional group '(?(' at offset \(i)") }
                    if rest.hasPrefix("<") { throw invalid("unknown extension '(?<' at offset \(i) (named groups are '(?P<name>...)')") }
                    if rest.hasPrefix("#") {   // a comment: dropped
                        guard let end = p[i...].firstIndex(of: ")") else { throw invalid("missing ')' for the comment at offset \(i)") }
                        i = end + 1
                        continue
                    }
                    if let first = rest.unicodeScalars.first, "aiLmsux-".unicodeScalars.contains(first) {
                        // Inline flags; 'u' (Unicode, Python's default for text) is dropped.
                        var j = i + 2
                        var kept = ""
                        while j < p.count, p[j] != ")", p[j] != ":" {
                            if p[j] == "a" { throw unsupported("the ASCII flag '(?a)' at offset \(i)") }
                            if p[j] == "L" { throw invalid("the locale flag '(?L)' cannot be used with text") }
                            if p[j] != "u" { kept.unicodeScalars.append(p[j]) }
                            j += 1
                        }
                        guard j < p.count else { throw invalid("missing ')' for the flags at offset \(i)") }
                        if kept.isEmpty || kept == "-" {
                            if p[j] == ")" { i = j + 1; continue }   // "(?u)": nothing left
                            out += "(?:"
                        } else {
                            out += "(?" + kept + String(Character(p[j]))
                        }
                        i = j + 1
                        continue
                    }
                }
                out += "("
                i += 1
            case "$":
                out += multiline ? "$" : "\\Z"
                i += 1
            case ".":
                out += dotAll ? "." : "[^\\n]"
                i += 1
            default:
                out.unicodeScalars.append(c)
                i += 1
            }
        }
        return out
    }

    /// Flags set anywhere by a `(?flags)` or `(?flags:...)` group (scoped flags count too:
    /// only used to choose how `$` and `.` are written, where the broader reading is safe).
    private static func globalFlags(_ p: [Unicode.Scalar]) -> Set<Character> {
        var flags = Set<Character>()
        var i = 0
        var escaped = false
        while i + 2 < p.count {
            defer { i += 1 }
            if escaped { escaped = false; continue }
            if p[i] == "\\" { escaped = true; continue }
            guard p[i] == "(", p[i + 1] == "?" else { continue }
            var j = i + 2
            var on = true
            while j < p.count, "aiLmsux-".unicodeScalars.contains(p[j]) {
                if p[j] == "-" { on = false } else if on { flags.insert(Character(p[j])) }
                j += 1
            }
        }
        return flags
    }

    private static func invalid(_ message: String) -> Failure { Failure(kind: .invalid, message: message) }
    /// `what` names the construct ("lookbehind '(?<=' at offset 3"); validate words the rest.
    private static func unsupported(_ what: String) -> Failure { Failure(kind: .unsupported, message: what) }
}
