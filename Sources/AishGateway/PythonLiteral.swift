import FoundationEssentials
import AishBase

/// Reads the Python literals LiteLLM leaves in Redis: its synchronous cache writes store
/// `str(value)`, so a cooldown entry is a dict's repr (`{'status_code': '500', 'timestamp':
/// 1765090000.5, …}`), not JSON. Strings (single or double quoted, with backslash escapes),
/// int and float numbers, True/False/None, dicts, lists and tuples; JSON is read too.
package enum PythonLiteral {
    package struct Malformed: Error, CustomStringConvertible {
        package var description: String
    }

    package static func parse(_ text: String) throws -> JSONValue {
        var p = Reader(Array(text.unicodeScalars))
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.atEnd else { throw Malformed(description: "unexpected text at offset \(p.i)") }
        return v
    }

    private struct Reader {
        let s: [Unicode.Scalar]
        var i = 0
        init(_ s: [Unicode.Scalar]) { self.s = s }

        var atEnd: Bool { i >= s.count }

        mutating func skipSpace() {
            while i < s.count, s[i] == " " || s[i] == "\n" || s[i] == "\t" || s[i] == "\r" { i += 1 }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 32 else { throw Malformed(description: "nested too deeply") }
            skipSpace()
            guard i < s.count else { throw Malformed(description: "the text ends where a value should be") }
            let c = s[i]
            switch c {
            case "{": return try container(close: "}", depth: depth, dict: true)
            case "[": return try container(close: "]", depth: depth, dict: false)
            case "(": return try container(close: ")", depth: depth, dict: false)
            case "'", "\"": return .string(try string())
            default:
                var word = ""
                while i < s.count, !",:}])".unicodeScalars.contains(s[i]), s[i] != " " { word.unicodeScalars.append(s[i]); i += 1 }
                switch word {
                case "True", "true": return .bool(true)
                case "False", "false": return .bool(false)
                case "None", "null": return .null
                default:
                    if let n = Int(word) { return .int(n) }
                    if let d = Double(word) { return .double(d) }
                    throw Malformed(description: "'\(word)' is not a value")
                }
            }
        }

        mutating func container(close: Unicode.Scalar, depth: Int, dict: Bool) throws -> JSONValue {
            i += 1
            var pairs: [(String, JSONValue)] = []
            var items: [JSONValue] = []
            while true {
                skipSpace()
                guard i < s.count else { throw Malformed(description: "'\(close)' is missing") }
                if s[i] == close { i += 1; break }
                if dict {
                    let key = try value(depth: depth + 1)
                    skipSpace()
                    guard i < s.count, s[i] == ":" else { throw Malformed(description: "':' expected at offset \(i)") }
                    i += 1
                    let v = try value(depth: depth + 1)
                    pairs.append((key.stringValue ?? key.displayText, v))
                } else {
                    items.append(try value(depth: depth + 1))
                }
                skipSpace()
                if i < s.count, s[i] == "," { i += 1 }
            }
            return dict ? .object(pairs) : .array(items)
        }

        mutating func string() throws -> String {
            let quote = s[i]
            i += 1
            var out = String.UnicodeScalarView()
            while i < s.count {
                let c = s[i]
                i += 1
                if c == quote { return String(out) }
                guard c == "\\" else { out.append(c); continue }
                guard i < s.count else { break }
                let e = s[i]
                i += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "x", "u", "U":
                    let n = e == "x" ? 2 : e == "u" ? 4 : 8
                    guard i + n <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + n)])), radix: 16),
                          let scalar = Unicode.Scalar(v) else { throw Malformed(description: "bad \\\(e) escape") }
                    out.append(scalar)
                    i += n
                default: out.append(e)
                }
            }
            throw Malformed(description: "a string is not closed")
        }
    }
}
