import FoundationEssentials
import Glibc

/// A JSON value with ordered object keys, so `--json` output is deterministic and reads in
/// the order a command chose.
package enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    package subscript(key: String) -> JSONValue? {
        if case let .object(pairs) = self { return pairs.first(where: { $0.0 == key })?.1 }
        return nil
    }

    package subscript(index: Int) -> JSONValue? {
        if case let .array(items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }

    package var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    package var doubleValue: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }
    package var intValue: Int? {
        switch self {
        case let .int(i): return i
        case let .double(d) where d.rounded() == d && abs(d) < 9e15: return Int(d)
        default: return nil
        }
    }

    /// Text for comparisons in `expect` and for plain display.
    package var displayText: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return JSONValue.format(d)
        case let .string(s): return s
        case .array, .object: return serialized()
        }
    }

    package static func format(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return "null" }
        if d.rounded() == d && abs(d) < 1e15 { return String(Int(d)) }
        var s = cFormat("%.6f", d)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    package func serialized(pretty: Bool = false) -> String {
        String(decoding: serializedUTF8(pretty: pretty), as: UTF8.self)
    }

    /// `serialized(pretty:)` as its UTF-8 bytes (a request body is sent as bytes).
    package func serializedUTF8(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, pretty: pretty, indent: 0)
        return out
    }

    // Written as bytes, a string's plain runs copied whole: appending it to a String a
    // scalar at a time cost hundreds of instructions a byte, and bench builds a request body
    // for every request it sends.
    /// Appends the value's compact serialization to `out`.
    package func write(to out: inout [UInt8]) { write(to: &out, pretty: false, indent: 0) }

    private func write(to out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .int(i): out.append(contentsOf: String(i).utf8)
        case let .double(d): out.append(contentsOf: JSONValue.format(d).utf8)
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(items):
            if items.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { JSONValue.newline(indent + 1, to: &out) }
                item.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { JSONValue.newline(indent, to: &out) }
            out.append(UInt8(ascii: "]"))
        case let .object(pairs):
            if pairs.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { JSONValue.newline(indent + 1, to: &out) }
                JSONValue.writeString(k, to: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                v.write(to: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { JSONValue.newline(indent, to: &out) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A newline and `depth` levels of two-space indent.
    private static func newline(_ depth: Int, to out: inout [UInt8]) {
        out.append(0x0A)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
    }

    /// `s` as a JSON string: `"` and `\` escaped, \n \r \t by name, other control
    /// characters as \u00XX; everything else (non-ASCII too) as it is.
    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var plainFrom = 0
            for i in 0..<bytes.count {
                let b = bytes[i]
                if b >= 0x20, b != UInt8(ascii: "\""), b != UInt8(ascii: "\\") { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainFrom..<i]))
                plainFrom = i + 1
                out.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    ASCIIHex.append(UInt64(b), digits: 2, to: &out)
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainFrom...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses JSON text, keeping object keys in document order.
    package static func parse(_ text: String) throws -> JSONValue {
        var parser = JSONParser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }

    package static func parse<Bytes: Collection>(bytes: Bytes) throws -> JSONValue where Bytes.Element == UInt8 {
        var parser = JSONParser(bytes: Array(bytes))
        return try parser.parseDocument()
    }
}

package struct JSONParseError: UserFacingError {
    package var exitCode: ExitCode { .failure }
    package let offset: Int
    package let reason: String

    package init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    package var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A small strict JSON parser over UTF-8 bytes (RFC 8259), with a nesting limit.
/// JSON string syntax, read in one place for JSONParser and PrometheusAnswerDecoder: the
/// escapes, surrogate pairs (a lone one becomes U+FFFD), and errors with byte offsets.
package enum JSONStringScanner {
    /// A string's content: where it is when it has no escapes, else its decoded bytes.
    package enum Token {
        case raw(Int, Int)
        case decoded([UInt8])
    }

    /// At the opening quote `pos`: the index just past the closing quote when the string has
    /// no escape and no control character (its content is `bytes[pos + 1 ..< end - 1]`), or
    /// nil, and `scan` reads it (or says what is wrong with it). The hot readers call this
    /// first: `scan`'s token, an enum that may carry an array, cost as much as the scan.
    @inline(__always)
    package static func plainEnd(_ bytes: UnsafeBufferPointer<UInt8>, at pos: Int) -> Int? {
        let i = firstSpecial(bytes, from: pos + 1)
        return i < bytes.count && bytes[i] == UInt8(ascii: "\"") ? i + 1 : nil
    }

    /// The index of the first quote, backslash or control byte at or after `i`, or the end.
    @inline(__always)
    private static func firstSpecial(_ bytes: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var i = i
        // Eight bytes at a time while none of them is a quote, a backslash or a control
        // character (string scanning was the largest single share of bench's decoding).
        if let base = bytes.baseAddress {
            while i + 8 <= bytes.count {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if let stop = JSONStringScanner.firstStop(word) { return i + stop }
                i += 8
            }
        }
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { return i }
            i += 1
        }
        return i
    }

    /// At the opening quote `pos`; leaves `pos` after the closing quote.
    package static func scan(_ bytes: UnsafeBufferPointer<UInt8>, at pos: inout Int) throws(JSONParseError) -> Token {
        let start = pos + 1
        pos = firstSpecial(bytes, from: start)
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") {
            pos += 1
            return .raw(start, pos - 1)
        }
        var out = Array(bytes[start..<pos])
        while pos < bytes.count {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; return .decoded(out) }
            if c < 0x20 { throw JSONParseError(offset: pos, reason: "control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { break }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(bytes, at: &pos)
                if (0xD800...0xDBFF).contains(scalar), pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"),
                   bytes[pos + 1] == UInt8(ascii: "u") {
                    pos += 2
                    let low = try hex4(bytes, at: &pos)
                    scalar = (0xDC00...0xDFFF).contains(low) ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                }
                UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { out.append($0) }
            default: throw JSONParseError(offset: pos - 1, reason: "bad escape")
            }
        }
        throw JSONParseError(offset: pos, reason: "unterminated string")
    }

    /// Where in `word` (0–7, in memory order) the first quote, backslash or byte below 0x20
    /// is, or nil. The classic has-zero-byte test on the word XORed with each: it may flag
    /// a byte above a real one, never one below the first, so the lowest flag is exact.
    @inline(__always)
    static func firstStop(_ word: UInt64) -> Int? {
        let w = UInt64(littleEndian: word)   // byte 0 lowest, whatever the machine's order
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeros(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
        // A byte below 0x20: subtracting 0x20 from it borrows into its high bit (for bytes
        // under 0x80; bytes of 0x80 and up have the high bit set and are masked out).
        let control = (w &- ones &* 0x20) & ~w & highs
        let stops = zeros(w ^ (ones &* 0x22)) | zeros(w ^ (ones &* 0x5C)) | control
        return stops == 0 ? nil : stops.trailingZeroBitCount >> 3
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at pos: inout Int) throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw JSONParseError(offset: pos, reason: "truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw JSONParseError(offset: pos, reason: "bad hex digit in \\u escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }
}

package struct JSONParser {
    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0
    package static let maxDepth = 512

    package init(bytes: [UInt8]) { self.bytes = bytes }

    package mutating func parseDocument() throws -> JSONValue {
        skipSpace()
        let value = try parseValue()
        skipSpace()
        if pos != bytes.count { throw JSONParseError(offset: pos, reason: "unexpected trailing characters") }
        return value
    }

    private mutating func skipSpace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 {
            pos += 1
        }
    }

    private mutating func parseValue() throws -> JSONValue {
        guard pos < bytes.count else { throw JSONParseError(offset: pos, reason: "unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        default: return try parseNumber()
        }
    }

    private mutating func expectWord(_ word: StaticString) throws {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard pos + w.count <= bytes.count, bytes[pos..<pos + w.count].elementsEqual(w) else {
            throw JSONParseError(offset: pos, reason: "unexpected character")
        }
        pos += w.count
    }

    private mutating func parseObject() throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        if depth > JSONParser.maxDepth { throw JSONParseError(offset: pos, reason: "nesting deeper than \(JSONParser.maxDepth) levels") }
        pos += 1
        var pairs: [(String, JSONValue)] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw JSONParseError(offset: pos, reason: "expected a string key")
            }
            let key = try parseString()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
                throw JSONParseError(offset: pos, reason: "expected ':'")
            }
            pos += 1
            skipSpace()
            pairs.append((key, try parseValue()))
            skipSpace()
            guard pos < bytes.count else { throw JSONParseError(offset: pos, reason: "unexpected end of input") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
            throw JSONParseError(offset: pos, reason: "expected ',' or '}'")
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        if depth > JSONParser.maxDepth { throw JSONParseError(offset: pos, reason: "nesting deeper than \(JSONParser.maxDepth) levels") }
        pos += 1
        var items: [JSONValue] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try parseValue())
            skipSpace()
            guard pos < bytes.count else { throw JSONParseError(offset: pos, reason: "unexpected end of input") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw JSONParseError(offset: pos, reason: "expected ',' or ']'")
        }
    }

    private mutating func parseString() throws -> String {
        var at = pos
        let token = try bytes.withUnsafeBufferPointer { b throws(JSONParseError) in try JSONStringScanner.scan(b, at: &at) }
        pos = at
        switch token {
        case let .raw(start, end): return String(decoding: bytes[start..<end], as: UTF8.self)
        case let .decoded(b): return String(decoding: b, as: UTF8.self)
        }
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = pos
        var isInteger = true
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        while pos < bytes.count {
            let c = bytes[pos]
            if c >= 0x30 && c <= 0x39 { pos += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+")
                || c == UInt8(ascii: "-")
            {
                isInteger = false
                pos += 1
                continue
            }
            break
        }
        guard pos > start else { throw JSONParseError(offset: pos, reason: "unexpected character") }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if isInteger, let i = Int(text) { return .int(i) }
        guard let d = Double(text) else { throw JSONParseError(offset: start, reason: "bad number '\(text)'") }
        return .double(d)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    package init(stringLiteral value: String) { self = .string(value) }
    package init(integerLiteral value: Int) { self = .int(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(floatLiteral value: Double) { self = .double(value) }
    package init(nilLiteral: ()) { self = .null }
}
