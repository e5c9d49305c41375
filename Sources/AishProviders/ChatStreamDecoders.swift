import AishBase
import AishHTTP

// Decoders for the two streaming chat wire formats. Pure Swift, fed with bytes exactly as
// they arrive (any chunk boundaries); they hold only the current line, never the stream.

/// Why a stream could not be decoded.
package struct StreamDecodeError: UserFacingError, Equatable {
    package var exitCode: ExitCode { .failure }
    package enum Kind: Equatable, Sendable { case malformed, serverError, truncated, lineTooLong }
    package var kind: Kind
    package var message: String

    package var description: String { message }

    package static func malformed(_ line: String, _ reason: String) -> StreamDecodeError {
        StreamDecodeError(kind: .malformed, message: "malformed stream line (\(reason)): \(clip(line))")
    }

    package static func clip(_ s: String) -> String {
        s.utf8.count <= 200 ? s : String(s.prefix(200)) + "… (\(s.utf8.count) bytes)"
    }
}

/// What the server reported about a stream, besides its text.
package struct StreamSummary: Sendable {
    package var model: String?
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var finishReason: String?
    /// llama.cpp's `timings` object, or Ollama's durations and counts.
    package var serverTimings: JSONValue?
    /// The stream reached its proper end (`[DONE]`, a finish reason, or Ollama's done:true).
    package var completed = false
}

/// A decoder for one streamed chat reply.
package protocol ChatStreamDecoder {
    var summary: StreamSummary { get }
    /// Feeds bytes; calls `onText` with each piece of reply text (whole characters).
    mutating func push(_ bytes: [UInt8], onText: (String) throws -> Void) throws
    /// As `push(_:onText:)`, each piece as its UTF-8 (valid, whole characters), good only
    /// during the call: for a caller that keeps bytes, not Strings (bench's load engine).
    mutating func push(_ bytes: [UInt8], onUTF8: (UnsafeBufferPointer<UInt8>) throws -> Void) throws
    /// End of the byte stream: decodes what is left and throws `.truncated` if the
    /// stream stopped before its end.
    mutating func finish(onText: (String) throws -> Void) throws
    /// A whole non-streamed response body (a server that ignored `stream: true`).
    mutating func decodeWhole(_ body: [UInt8], onText: (String) throws -> Void) throws
}

extension ChatStreamDecoder {
    package mutating func push(_ bytes: [UInt8], onUTF8: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        try push(bytes) { (piece: String) in
            var piece = piece
            try piece.withUTF8(onUTF8)
        }
    }
}

/// OpenAI-compatible `text/event-stream` chat completions (OpenAI, vLLM, llama.cpp,
/// LiteLLM): `data: {chunk}` events, `data: [DONE]`, `usage` in the last chunk when
/// `stream_options.include_usage` is set, llama.cpp's `timings`, in-stream `error` objects.
package struct OpenAIStreamDecoder: ChatStreamDecoder {
    private var sse = SSEDecoder()
    package private(set) var summary = StreamSummary()
    /// Chunks read straight from their bytes (`OpenAIChunkSkim`) when they allow it; the
    /// tests turn it off to compare with the general path.
    package var readsDirectly = true
    /// The stream's last chunk read in full: the next ones like it are read against it.
    private var template = OpenAIChunkTemplate()
    /// The template's fields (model, finish reason, usage) are in `summary` and no other
    /// chunk has changed it since: a chunk like the template brings only its text.
    private var templateFieldsApplied = false

    package init() {}

    package mutating func push(_ bytes: [UInt8], onText: (String) throws -> Void) throws {
        try push(bytes) { (piece: UnsafeBufferPointer<UInt8>) in try onText(String(repairingUTF8: piece)) }
    }

    /// The decoder's own way: a chunk read against the template hands over its text's bytes
    /// as they are in the stream when they need no unescaping (no String is made per chunk).
    package mutating func push(_ bytes: [UInt8], onUTF8 onText: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var events = SSEDecoder()
        swap(&events, &sse)
        defer { swap(&events, &sse) }
        do {
            try events.pushRaw(bytes) { event in try self.handle(event, atEnd: false, onText: onText) }
        } catch let e as LineSplitter.LineTooLong {
            throw StreamDecodeError(kind: .lineTooLong, message: "stream line longer than \(e.limit) bytes")
        }
    }

    package mutating func finish(onText: (String) throws -> Void) throws {
        var events = SSEDecoder()
        swap(&events, &sse)
        defer { swap(&events, &sse) }
        try events.finishRaw { event in
            try self.handle(event, atEnd: true) { (piece: UnsafeBufferPointer<UInt8>) in try onText(String(repairingUTF8: piece)) }
        }
        if !summary.completed {
            throw StreamDecodeError(kind: .truncated, message: "stream ended before its end (no [DONE] and no finish_reason)")
        }
    }

    package mutating func decodeWhole(_ body: [UInt8], onText: (String) throws -> Void) throws {
        // Parsed from the bytes as they are: no String of the body, no trimmed copy of it.
        if body.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) {
            let text = { String(decoding: body.prefix(4096), as: UTF8.self) }
            let json: JSONValue
            do {
                json = try JSONValue.parse(bytes: body)
            } catch let e as JSONParseError {
                throw StreamDecodeError.malformed(text(), "not JSON: \(e.reason) at byte \(e.offset)")
            }
            try handle(json, event: nil, data: text) { (piece: UnsafeBufferPointer<UInt8>) in
                try onText(String(repairingUTF8: piece))
            }
        }
        if !summary.completed {
            throw StreamDecodeError(kind: .truncated, message: "response ended before its end (no finish_reason)")
        }
    }

    private mutating func handle(_ event: SSEDecoder.RawEvent, atEnd: Bool,
                                 onText: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        // Read from the event's bytes: a String of every chunk showed in bench's CPU time.
        // Trimmed only when there is something to trim (any non-ASCII edge goes through the
        // full trim of the String: Unicode spaces are several bytes), then read the same way.
        func isBlank(_ b: UInt8?) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || (b ?? 0) >= 0x80 }
        if isBlank(event.data.first) || isBlank(event.data.last) {
            var trimmed = String(decoding: event.data, as: UTF8.self).trimming(.whitespaces)
            try trimmed.withUTF8 { try read($0, event: event.event, atEnd: atEnd, onText: onText) }
            return
        }
        try read(event.data, event: event.event, atEnd: atEnd, onText: onText)
    }

    /// One event's data: `[DONE]`, a chunk the skim reads, or else the JSON tree.
    private mutating func read(_ bytes: UnsafeBufferPointer<UInt8>, event: String?, atEnd: Bool,
                               onText: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if Self.isDone(bytes) {
            summary.completed = true
            return
        }
        if bytes.isEmpty { return }
        if readsDirectly, event != "error" {
            // The template's fields, this chunk's text: no chunk value is made or copied.
            switch template.like(bytes) {
            case let .ascii(range)?:
                try applyTemplate(text: UnsafeBufferPointer(rebasing: bytes[range]), onText: onText)
                return
            case var .decoded(text)?:
                try text.withUTF8 { try applyTemplate(text: $0, onText: onText) }
                return
            case nil:
                break
            }
            if let chunk = template.read(bytes: bytes, knownModel: summary.model) {
                templateFieldsApplied = false
                try Self.apply(chunk, text: nil, to: &summary, onText: onText)
                // Kept as the template (it has one string of text): its fields are in `summary`.
                templateFieldsApplied = chunk.varyingBytes != nil
                return
            }
        }
        templateFieldsApplied = false
        let data = String(decoding: bytes, as: UTF8.self)
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch let e as JSONParseError {
            // An unfinished last line is a cut stream, not a malformed one.
            if atEnd { throw StreamDecodeError(kind: .truncated, message: "stream ended in the middle of an event: \(StreamDecodeError.clip(data))") }
            throw StreamDecodeError.malformed(data, "not JSON: \(e.reason) at byte \(e.offset)")
        }
        try handle(json, event: event, data: { data }, onText: onText)
    }

    /// Whether an event's data is `[DONE]` (compared by hand: the generic comparison with a
    /// String's UTF-8 cost a hundred instructions an event).
    private static func isDone(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count == 6 && bytes[0] == UInt8(ascii: "[") && bytes[1] == UInt8(ascii: "D") && bytes[2] == UInt8(ascii: "O")
            && bytes[3] == UInt8(ascii: "N") && bytes[4] == UInt8(ascii: "E") && bytes[5] == UInt8(ascii: "]")
    }

    private mutating func handle(_ json: JSONValue, event: String?, data: () -> String,
                                 onText: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if event == "error" || json["error"] != nil {
            let message = ServerErrorText.message(in: json) ?? data()
            throw StreamDecodeError(kind: .serverError, message: "the server reported an error in the stream: \(message)")
        }
        guard case .object = json else { throw StreamDecodeError.malformed(data(), "not a JSON object") }
        if let model = json["model"]?.stringValue { summary.model = model }
        if let choice = json["choices"]?[0] {
            if let text = choice["delta"]?["content"]?.stringValue ?? choice["message"]?["content"]?.stringValue
                ?? choice["text"]?.stringValue, !text.isEmpty {
                var text = text
                try text.withUTF8(onText)
            }
            if let reason = choice["finish_reason"]?.stringValue {
                summary.finishReason = reason
                summary.completed = true
            }
        }
        if let usage = json["usage"], case .object = usage {
            summary.promptTokens = usage["prompt_tokens"]?.intValue ?? summary.promptTokens
            summary.completionTokens = usage["completion_tokens"]?.intValue ?? summary.completionTokens
        }
        if let timings = json["timings"], case .object = timings {
            summary.serverTimings = timings
            // llama.cpp counts tokens in its timings even without `usage`.
            if summary.promptTokens == nil { summary.promptTokens = timings["prompt_n"]?.intValue }
            if summary.completionTokens == nil { summary.completionTokens = timings["predicted_n"]?.intValue }
        }
    }
}

extension OpenAIStreamDecoder {
    /// A chunk like the template: its text, and the template's fields unless they are in
    /// `summary` already (setting them again per chunk, and copying the template's chunk to
    /// do it, showed in bench's CPU time). The same updates, in the same order, as `apply`.
    private mutating func applyTemplate(text: UnsafeBufferPointer<UInt8>,
                                        onText: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if templateFieldsApplied {
            if template.chunk.hasChoice, !text.isEmpty { try onText(text) }
            return
        }
        try Self.apply(template.chunk, text: text, to: &summary, onText: onText)
        templateFieldsApplied = true
    }

    /// A chunk read by `OpenAIChunkSkim`: the same updates as the general path below makes
    /// from the JSON tree. `text`: the chunk's text when it was read against a template
    /// (`chunk` is then the template's).
    fileprivate static func apply(_ chunk: OpenAIChunkSkim, text like: UnsafeBufferPointer<UInt8>?,
                                  to summary: inout StreamSummary,
                                  onText: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if let model = chunk.model.value { summary.model = model }
        if chunk.hasChoice {
            if let like {
                if !like.isEmpty { try onText(like) }
            } else if var text = chunk.deltaContent.value ?? chunk.messageContent.value ?? chunk.text.value, !text.isEmpty {
                try text.withUTF8(onText)
            }
            if let reason = chunk.finishReason.value {
                summary.finishReason = reason
                summary.completed = true
            }
        }
        if chunk.hasUsage {
            summary.promptTokens = chunk.promptTokens ?? summary.promptTokens
            summary.completionTokens = chunk.completionTokens ?? summary.completionTokens
        }
    }
}

/// Ollama's newline-delimited JSON (`/api/chat`, `/api/generate`): one object per line,
/// `message.content` (or `response`) pieces, a last object with `done: true` and the
/// server's counts and durations (nanoseconds), or `{"error": "…"}`.
package struct OllamaStreamDecoder: ChatStreamDecoder {
    private var lines = LineSplitter()

    package init() {}

    package private(set) var summary = StreamSummary()
    package static let timingKeys = ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration",
                             "eval_count", "eval_duration"]

    package mutating func push(_ bytes: [UInt8], onText: (String) throws -> Void) throws {
        var splitter = LineSplitter(maxLineBytes: lines.maxLineBytes)
        swap(&splitter, &lines)
        defer { swap(&splitter, &lines) }
        do {
            try splitter.push(bytes) { line in try self.handle(line, atEnd: false, onText: onText) }
        } catch let e as LineSplitter.LineTooLong {
            throw StreamDecodeError(kind: .lineTooLong, message: "stream line longer than \(e.limit) bytes")
        }
    }

    package mutating func finish(onText: (String) throws -> Void) throws {
        var splitter = LineSplitter(maxLineBytes: lines.maxLineBytes)
        swap(&splitter, &lines)
        defer { swap(&splitter, &lines) }
        try splitter.finish { line in try self.handle(line, atEnd: true, onText: onText) }
        if !summary.completed {
            throw StreamDecodeError(kind: .truncated, message: "stream ended before its end (no object with done:true)")
        }
    }

    package mutating func decodeWhole(_ body: [UInt8], onText: (String) throws -> Void) throws {
        try push(body + [0x0A], onText: onText)
        try finish(onText: onText)
    }

    private mutating func handle(_ line: ArraySlice<UInt8>, atEnd: Bool, onText: (String) throws -> Void) throws {
        let text = String(decoding: line, as: UTF8.self)
        if text.allSatisfy({ $0.isWhitespace }) { return }
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch let e as JSONParseError {
            if atEnd { throw StreamDecodeError(kind: .truncated, message: "stream ended in the middle of a line: \(StreamDecodeError.clip(text))") }
            throw StreamDecodeError.malformed(text, "not JSON: \(e.reason) at byte \(e.offset)")
        }
        guard case .object = json else { throw StreamDecodeError.malformed(text, "not a JSON object") }
        if let error = json["error"] {
            let message = error.stringValue ?? ServerErrorText.message(in: json) ?? text
            throw StreamDecodeError(kind: .serverError, message: "the server reported an error in the stream: \(message)")
        }
        if let model = json["model"]?.stringValue { summary.model = model }
        if let piece = json["message"]?["content"]?.stringValue ?? json["response"]?.stringValue, !piece.isEmpty {
            try onText(piece)
        }
        if json["done"] == .bool(true) {
            summary.completed = true
            summary.finishReason = json["done_reason"]?.stringValue ?? "stop"
            summary.promptTokens = json["prompt_eval_count"]?.intValue
            summary.completionTokens = json["eval_count"]?.intValue
            let timings = OllamaStreamDecoder.timingKeys.compactMap { k in json[k].map { (k, $0) } }
            if !timings.isEmpty { summary.serverTimings = .object(timings) }
        }
    }
}
