import AishBase
import Glibc

/// The fields of one OpenAI streaming chunk that the decoder uses, read straight from its
/// bytes without building a JSON tree: a chunk is parsed per token, and building the tree
/// (a dozen allocations) was most of `bench`'s CPU per request. The whole chunk is still
/// checked as JSON. Anything unusual — not an object, an `error` or `timings` key, a
/// number that is not a plain integer where one is read, deep nesting, a syntax error —
/// gives nil, and the decoder takes the general path, which gives the same result and the
/// same errors as before.
package struct OpenAIChunkSkim {
    /// A string field: absent, a string, or another JSON value (which reads as no string).
    package enum Text: Equatable {
        case absent, other
        case string(String)
        package var value: String? { if case let .string(s) = self { return s }; return nil }
    }

    package var model: Text = .absent
    /// `choices` present with an object first element.
    package var hasChoice = false
    package var deltaContent: Text = .absent
    package var messageContent: Text = .absent
    package var text: Text = .absent
    package var finishReason: Text = .absent
    /// `usage` present as an object.
    package var hasUsage = false
    package var promptTokens: Int?
    package var completionTokens: Int?

    /// The chunk's one string of reply text (delta or message content, or text) as a token
    /// of the chunk's bytes, quotes included; nil when there is none, or more than one.
    /// What two chunks of a stream read alike may differ in (see `OpenAIChunkTemplate`).
    fileprivate var varying: (range: Range<Int>, field: TextField)?
    fileprivate enum TextField { case delta, message, text }
    /// `varying`'s range, for tests.
    package var varyingBytes: Range<Int>? { varying?.range }

    private static let maxDepth = 64

    package static func read(_ data: String) -> OpenAIChunkSkim? {
        var copy = data
        return copy.withUTF8 { read(bytes: $0) }
    }

    /// The chunk in `bytes` (UTF-8 JSON), or nil when the general path must read it.
    /// `knownModel`: the model the stream named so far; the same name in this chunk is
    /// given back as that String rather than made again (a model name is read from every
    /// chunk, and most are longer than a String holds without allocating).
    package static func read(bytes: UnsafeBufferPointer<UInt8>, knownModel: String? = nil) -> OpenAIChunkSkim? {
        var reader = Reader(bytes: bytes)
        reader.knownModel = knownModel
        return reader.chunk()
    }

    /// Notes where a string of text was read; the first one counts (see `chunk()`).
    private mutating func noteText(_ text: Text, _ range: Range<Int>, field: TextField) {
        guard case .string = text, varying == nil else { return }
        varying = (range, field)
    }

    /// A pull reader over the chunk's bytes: a struct walked with loops (a class and a
    /// closure per object cost an allocation per chunk and a call per member).
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var pos = 0
        var depth = 0
        var knownModel: String?

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        struct Invalid: Error {}

        enum Key: UInt16 {
            case model, choices, usage, error, timings, delta, message, content, text, finishReason
            case promptTokens, completionTokens, other
        }

        /// The keys an object has shown so far: one bit a key (a Set hashed every key of
        /// every chunk, a sixth of bench's CPU time).
        struct Keys {
            private var bits: UInt16 = 0
            /// False when `key` was seen before.
            mutating func insert(_ key: Key) -> Bool {
                let bit: UInt16 = 1 << key.rawValue
                defer { bits |= bit }
                return bits & bit == 0
            }
        }

        mutating func chunk() -> OpenAIChunkSkim? {
            var out = OpenAIChunkSkim()
            do {
                space()
                var seen = Keys()
                if try openObject() {
                    repeat {
                        let key = try memberKey()
                        // Only the first occurrence of a key counts, as in JSONValue's lookup.
                        guard seen.insert(key) else { try skipValue(); continue }
                        switch key {
                        case .model: out.model = try text(reusing: knownModel)
                        case .choices: try choices(&out)
                        case .usage: try usage(&out)
                        case .error, .timings: throw Invalid()
                        default: try skipValue()
                        }
                    } while try nextMember()
                }
                space()
                guard pos == bytes.count else { return nil }
            } catch {
                return nil
            }
            // A template needs the one string of text there is: with two, either may differ.
            func isString(_ t: Text) -> Int { t.value == nil ? 0 : 1 }
            if isString(out.deltaContent) + isString(out.messageContent) + isString(out.text) != 1 { out.varying = nil }
            return out
        }

        static func key(_ b: UnsafeBufferPointer<UInt8>.SubSequence) -> Key {
            guard let first = b.first else { return .other }
            // By length and first byte, then one memcmp: most keys of a chunk ("id", "object",
            // "index", "role", ...) are told apart without comparing a byte more.
            func eq(_ s: StaticString, _ key: Key) -> Key {
                let n = s.utf8CodeUnitCount
                return b.count == n && memcmp(b.base.baseAddress! + b.startIndex, s.utf8Start, n) == 0 ? key : .other
            }
            switch (b.count, first) {
            case (4, UInt8(ascii: "t")): return eq("text", .text)
            case (5, UInt8(ascii: "m")): return eq("model", .model)
            case (5, UInt8(ascii: "u")): return eq("usage", .usage)
            case (5, UInt8(ascii: "e")): return eq("error", .error)
            case (5, UInt8(ascii: "d")): return eq("delta", .delta)
            case (7, UInt8(ascii: "c")):
                let choices = eq("choices", .choices)
                return choices != .other ? choices : eq("content", .content)
            case (7, UInt8(ascii: "t")): return eq("timings", .timings)
            case (7, UInt8(ascii: "m")): return eq("message", .message)
            case (13, UInt8(ascii: "f")): return eq("finish_reason", .finishReason)
            case (13, UInt8(ascii: "p")): return eq("prompt_tokens", .promptTokens)
            case (17, UInt8(ascii: "c")): return eq("completion_tokens", .completionTokens)
            default: return .other
            }
        }

        mutating func space() {
            while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 {
                pos += 1
            }
        }

        /// Opens an object at `pos`: true when a member follows, false when it was `{}`.
        mutating func openObject() throws -> Bool {
            try open(UInt8(ascii: "{"), closer: UInt8(ascii: "}"))
        }

        /// Opens an array at `pos`: true when an element follows, false when it was `[]`.
        mutating func openArray() throws -> Bool {
            try open(UInt8(ascii: "["), closer: UInt8(ascii: "]"))
        }

        private mutating func open(_ opener: UInt8, closer: UInt8) throws -> Bool {
            guard pos < bytes.count, bytes[pos] == opener else { throw Invalid() }
            depth += 1
            guard depth <= OpenAIChunkSkim.maxDepth else { throw Invalid() }
            pos += 1
            space()
            if pos < bytes.count, bytes[pos] == closer {
                pos += 1
                depth -= 1
                return false
            }
            return true
        }

        /// A member's key and its colon; `pos` is then at the value.
        mutating func memberKey() throws -> Key {
            space()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw Invalid() }
            let key: Key
            if let end = JSONStringScanner.plainEnd(bytes, at: pos) {
                key = Reader.key(bytes[(pos + 1)..<(end - 1)])
                pos = end
            } else {
                var at = pos
                let token = try JSONStringScanner.scan(bytes, at: &at)
                pos = at
                switch token {
                case let .raw(start, end): key = Reader.key(bytes[start..<end])
                case let .decoded(b): key = b.withUnsafeBufferPointer { Reader.key($0[...]) }
                }
            }
            space()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw Invalid() }
            pos += 1
            space()
            return key
        }

        /// After a member's value: true when another member follows, false at the object's end.
        mutating func nextMember() throws -> Bool { try next(closer: UInt8(ascii: "}")) }

        /// After an element: true when another element follows, false at the array's end.
        mutating func nextElement() throws -> Bool { try next(closer: UInt8(ascii: "]")) }

        private mutating func next(closer: UInt8) throws -> Bool {
            space()
            guard pos < bytes.count else { throw Invalid() }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                space()
                return true
            }
            if bytes[pos] == closer {
                pos += 1
                depth -= 1
                return false
            }
            throw Invalid()
        }

        mutating func text(reusing known: String? = nil) throws -> Text {
            guard pos < bytes.count else { throw Invalid() }
            guard bytes[pos] == UInt8(ascii: "\"") else {
                try skipValue()
                return .other
            }
            var at = pos
            let token = try JSONStringScanner.scan(bytes, at: &at)
            pos = at
            switch token {
            case let .raw(start, end):
                if let known, known.utf8.elementsEqual(bytes[start..<end]) { return .string(known) }
                return .string(String(decoding: bytes[start..<end], as: UTF8.self))
            case let .decoded(b): return .string(String(decoding: b, as: UTF8.self))
            }
        }

        /// A plain integer (what `intValue` reads); anything else defers to the general path.
        mutating func integer() throws -> Int? {
            guard pos < bytes.count else { throw Invalid() }
            if bytes[pos] == UInt8(ascii: "n") { try word("null"); return nil }
            let start = pos
            if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            var value = 0
            var digits = 0
            while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 {
                value = value * 10 + Int(bytes[pos] - 0x30)
                digits += 1
                pos += 1
            }
            guard digits > 0, digits <= 18 else { throw Invalid() }
            if pos < bytes.count, Reader.continuesNumber(bytes[pos], signs: false) { throw Invalid() }
            return bytes[start] == UInt8(ascii: "-") ? -value : value
        }

        mutating func choices(_ out: inout OpenAIChunkSkim) throws {
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "[") else { try skipValue(); return }
            guard try openArray() else { return }
            var index = 0
            repeat {
                defer { index += 1 }
                guard index == 0, pos < bytes.count, bytes[pos] == UInt8(ascii: "{") else { try skipValue(); continue }
                out.hasChoice = true
                var seen = Keys()
                guard try openObject() else { continue }
                repeat {
                    let key = try memberKey()
                    guard seen.insert(key) else { try skipValue(); continue }
                    switch key {
                    case .delta: out.deltaContent = try content(&out, field: .delta)
                    case .message: out.messageContent = try content(&out, field: .message)
                    case .text:
                        let start = pos
                        out.text = try text()
                        out.noteText(out.text, start..<pos, field: .text)
                    case .finishReason: out.finishReason = try text()
                    default: try skipValue()
                    }
                } while try nextMember()
            } while try nextElement()
        }

        /// The `content` of a `delta` or `message` object.
        mutating func content(_ out: inout OpenAIChunkSkim, field: TextField) throws -> Text {
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "{") else { try skipValue(); return .absent }
            var found = Text.absent
            var seen = false
            guard try openObject() else { return found }
            repeat {
                let key = try memberKey()
                if key == .content, !seen {
                    seen = true
                    let start = pos
                    found = try text()
                    out.noteText(found, start..<pos, field: field)
                } else {
                    try skipValue()
                }
            } while try nextMember()
            return found
        }

        mutating func usage(_ out: inout OpenAIChunkSkim) throws {
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "{") else { try skipValue(); return }
            out.hasUsage = true
            var seen = Keys()
            guard try openObject() else { return }
            repeat {
                let key = try memberKey()
                guard seen.insert(key) else { try skipValue(); continue }
                switch key {
                case .promptTokens: out.promptTokens = try integer()
                case .completionTokens: out.completionTokens = try integer()
                default: try skipValue()
                }
            } while try nextMember()
        }

        /// A byte that would make a plain integer a fraction or an exponent (or, with `signs`,
        /// a malformed number): the general parser then decides.
        static func continuesNumber(_ b: UInt8, signs: Bool) -> Bool {
            switch b {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return true
            case UInt8(ascii: "+"), UInt8(ascii: "-"): return signs
            default: return false
            }
        }

        mutating func word(_ w: StaticString) throws {
            let n = w.utf8CodeUnitCount
            guard pos + n <= bytes.count,
                  bytes[pos..<pos + n].elementsEqual(UnsafeBufferPointer(start: w.utf8Start, count: n)) else { throw Invalid() }
            pos += n
        }

        /// Any JSON value, checked but not kept.
        mutating func skipValue() throws {
            guard pos < bytes.count else { throw Invalid() }
            switch bytes[pos] {
            case UInt8(ascii: "{"):
                guard try openObject() else { return }
                repeat {
                    _ = try memberKey()
                    try skipValue()
                } while try nextMember()
            case UInt8(ascii: "["):
                guard try openArray() else { return }
                repeat { try skipValue() } while try nextElement()
            case UInt8(ascii: "\""):
                if let end = JSONStringScanner.plainEnd(bytes, at: pos) {
                    pos = end
                } else {
                    var at = pos
                    _ = try JSONStringScanner.scan(bytes, at: &at)
                    pos = at
                }
            case UInt8(ascii: "t"): try word("true")
            case UInt8(ascii: "f"): try word("false")
            case UInt8(ascii: "n"): try word("null")
            default:
                // A plain integer is checked here; any other number form goes to the general
                // parser, whose rules it then follows.
                let start = pos
                if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                var digits = 0
                while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1; digits += 1 }
                guard digits > 0, digits <= 18, pos > start else { throw Invalid() }
                if pos < bytes.count, Reader.continuesNumber(bytes[pos], signs: true) { throw Invalid() }
            }
        }
    }
}

/// The last chunk of a stream the skim read in full, and how it read: the next chunk whose
/// bytes are the same outside its string of reply text is read by comparing those bytes
/// and scanning that string alone. A server streams chunks that differ only in their text
/// (same id, model, created, index, finish_reason null), so most of a stream's chunks are
/// two memcmp and a short scan rather than a walk of every key and value.
///
/// Reading the same bytes around a valid string token gives the same JSON with the same
/// structure, so the result is what a full read gives: the fields outside the text are
/// the template's, the text is the new token's.
package struct OpenAIChunkTemplate {
    private var bytes: [UInt8] = []
    /// The chunk the bytes read as (none yet while its `varying` is nil).
    package private(set) var chunk = OpenAIChunkSkim()
    /// Chunks read in full so far (for tests: the rest were read against the template).
    package private(set) var fullReads = 0

    package init() {}

    /// The text of a chunk like the template.
    package enum LikeText {
        /// ASCII without escapes, at these bytes of the chunk (most tokens: no String is made).
        case ascii(Range<Int>)
        /// Any other text, decoded (invalid UTF-8 repaired as `String(decoding:as:)` does).
        case decoded(String)
    }

    /// The text of `new` when it is a chunk like the template (its other fields are the
    /// template's `chunk`), or nil when it must be read in full.
    package func text(ofLike new: UnsafeBufferPointer<UInt8>) -> String? {
        switch like(new) {
        case nil: return nil
        case let .ascii(range)?: return String(repairingUTF8: UnsafeBufferPointer(rebasing: new[range]))
        case let .decoded(text)?: return text
        }
    }

    /// `text(ofLike:)`, without a String when the text is plain ASCII: `new` is like the
    /// template when it has the template's bytes before and after its string token at the
    /// template's text.
    package func like(_ new: UnsafeBufferPointer<UInt8>) -> LikeText? {
        guard let range = chunk.varying?.range else { return nil }
        let start = range.lowerBound
        let suffix = bytes.count - range.upperBound
        // The bytes before the token and its opening quote.
        guard new.count >= start + 2 + suffix, let base = new.baseAddress,
              bytes.withUnsafeBufferPointer({ memcmp(base, $0.baseAddress!, start + 1) == 0 }) else { return nil }
        // The token: without escapes in most chunks (no token value is made), else scanned.
        var end = start
        var token: JSONStringScanner.Token?
        if let plain = JSONStringScanner.plainEnd(new, at: start) {
            end = plain
        } else {
            guard let scanned = try? JSONStringScanner.scan(new, at: &end) else { return nil }
            token = scanned
        }
        guard new.count - end == suffix,
              bytes.withUnsafeBufferPointer({ memcmp(base + end, $0.baseAddress! + range.upperBound, suffix) == 0 }) else { return nil }
        switch token {
        case nil, .raw?:
            let text = (start + 1)..<(end - 1)
            if UnsafeBufferPointer(rebasing: new[text]).allSatisfy({ $0 < 0x80 }) { return .ascii(text) }
            return .decoded(String(decoding: new[text], as: UTF8.self))
        case let .decoded(b)?:
            return .decoded(String(decoding: b, as: UTF8.self))
        }
    }

    /// The chunk in `bytes` read in full (as `OpenAIChunkSkim.read`), kept as the template
    /// when it has one string of text.
    package mutating func read(bytes new: UnsafeBufferPointer<UInt8>, knownModel: String?) -> OpenAIChunkSkim? {
        guard let read = OpenAIChunkSkim.read(bytes: new, knownModel: knownModel) else { return nil }
        fullReads += 1
        if read.varying != nil {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: new)
            chunk = read
        }
        return read
    }
}
