import Testing
@testable import AishBase
@testable import AishHTTP
@testable import AishProviders

/// The outcome of decoding one byte stream fed in the given chunks.
struct DecodeOutcome: Equatable {
    var text: String
    var pieces: Int
    var error: StreamDecodeError?
    var completed: Bool
    var promptTokens: Int?
    var completionTokens: Int?
    var finishReason: String?
    var serverTimings: JSONValue?
}

/// `viaUTF8`: the pieces are taken as bytes (`push(_:onUTF8:)`, the load engine's way), and
/// each must be valid UTF-8.
func decode<D: ChatStreamDecoder>(_ make: () -> D, _ chunks: [[UInt8]], viaUTF8: Bool = false,
                                  sourceLocation: Testing.SourceLocation = #_sourceLocation) -> DecodeOutcome {
    var d = make()
    var text = ""
    var pieces = 0
    var error: StreamDecodeError?
    do {
        for c in chunks {
            if viaUTF8 {
                try d.push(c) { (piece: UnsafeBufferPointer<UInt8>) in
                    guard let valid = String(validating: piece, as: UTF8.self) else {
                        Issue.record("piece \(Array(piece)) is not valid UTF-8", sourceLocation: sourceLocation)
                        return
                    }
                    text += valid
                    pieces += 1
                }
            } else {
                try d.push(c) { text += $0; pieces += 1 }
            }
        }
        try d.finish { text += $0; pieces += 1 }
    } catch let e as StreamDecodeError {
        error = e
    } catch {
        Issue.record("unexpected error type: \(error)")
    }
    let s = d.summary
    return DecodeOutcome(text: text, pieces: pieces, error: error, completed: s.completed, promptTokens: s.promptTokens,
                         completionTokens: s.completionTokens, finishReason: s.finishReason, serverTimings: s.serverTimings)
}

/// Feeds `bytes` whole, byte by byte, at every single split point, and (for small inputs)
/// at every pair of split points, taking the pieces as Strings and as bytes; every way must
/// give the same outcome, which is returned.
func decodeEverySplit<D: ChatStreamDecoder>(_ make: () -> D, _ bytes: [UInt8],
                                            sourceLocation: Testing.SourceLocation = #_sourceLocation) -> DecodeOutcome {
    let whole = decode(make, [bytes])
    var reference = whole
    reference.pieces = 0  // piece count may differ only in how text is grouped, never in text
    func check(_ chunks: [[UInt8]]) {
        for viaUTF8 in [false, true] {
            var o = decode(make, chunks, viaUTF8: viaUTF8, sourceLocation: sourceLocation)
            o.pieces = 0
            if o != reference {
                Issue.record("split \(chunks.map(\.count))\(viaUTF8 ? " (pieces as bytes)" : "") gave \(o) instead of \(reference)",
                             sourceLocation: sourceLocation)
            }
        }
    }
    check(bytes.map { [$0] })
    let n = bytes.count
    for i in 0...n { check([Array(bytes[..<i]), Array(bytes[i...])]) }
    if n <= 160 {
        for i in 0...n { for j in i...n { check([Array(bytes[..<i]), Array(bytes[i..<j]), Array(bytes[j...])]) } }
    }
    return whole
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct OpenAIStreamDecoderTests {
    static let normal = """
        : keep-alive comment
        event: message
        id: 7
        data: {"choices":[{"delta":{"role":"assistant","content":""}}]}

        data: {"choices":[{"delta":{"content":"héllo"}}]}

        data: {"choices":[{"delta":{"content":" 😀"},"finish_reason":null}]}

        data: {"choices":[{"delta":{},"finish_reason":"stop"}]}

        data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}

        data: [DONE]


        """

    @Test func normalStreamInEveryChunking() {
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(Self.normal))
        #expect(o.text == "héllo 😀")
        #expect(o.pieces == 2)
        #expect(o.error == nil)
        #expect(o.completed)
        #expect(o.finishReason == "stop")
        #expect(o.promptTokens == 5)
        #expect(o.completionTokens == 2)
    }

    @Test func crlfLineEndings() {
        let text = Self.normal.replacingOccurrences(of: "\n", with: "\r\n")
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(text))
        #expect(o.text == "héllo 😀")
        #expect(o.completed)
    }

    @Test func multiLineEventJoinsDataLines() {
        let s = "data: {\"choices\":[{\"delta\":\ndata: {\"content\":\"a\\nb\"}}]}\n\ndata: [DONE]\n\n"
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o.text == "a\nb")
        #expect(o.completed)
    }

    @Test func missingFinalNewline() {
        let s = "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]"
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o == DecodeOutcome(text: "ok", pieces: 1, error: nil, completed: true))
    }

    @Test func truncatedBetweenEvents() {
        let s = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o.text == "Hel")
        #expect(o.error == StreamDecodeError(kind: .truncated, message: "stream ended before its end (no [DONE] and no finish_reason)"))
    }

    @Test func truncatedInsideAnEvent() {
        let s = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"del"
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o.text == "Hel")
        #expect(o.error == StreamDecodeError(kind: .truncated, message: "stream ended in the middle of an event: {\"choices\":[{\"del"))
    }

    @Test func malformedLineIsReportedWithItsText() {
        let s = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\": [oops\n\ndata: [DONE]\n\n"
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o.text == "a")
        #expect(o.error?.kind == .malformed)
        #expect(o.error?.message == "malformed stream line (not JSON: unexpected character at byte 13): {\"choices\": [oops")
    }

    @Test func errorObjectInStream() {
        let s = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}\n\n"
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o.text == "a")
        #expect(o.error == StreamDecodeError(kind: .serverError, message: "the server reported an error in the stream: out of memory"))
    }

    @Test func invalidUTF8BecomesReplacementCharacters() {
        var b = bytes("data: {\"choices\":[{\"delta\":{\"content\":\"bad ")
        b += [0xFF, 0xFE]
        b += bytes(" bytes\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
        let o = decodeEverySplit(OpenAIStreamDecoder.init, b)
        #expect(o.text == "bad \u{FFFD}\u{FFFD} bytes")
        #expect(o.completed)
    }

    /// The same in chunks read against the one before (the template's path), where ASCII
    /// text is handed over as its bytes: invalid bytes are repaired there too.
    @Test func invalidUTF8InLikeChunksBecomesReplacementCharacters() {
        func chunk(_ text: [UInt8]) -> [UInt8] {
            bytes("data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"") + text + bytes("\"}}]}\n\n")
        }
        let b = chunk(bytes("ok ")) + chunk(bytes("bad ") + [0xFF, 0xC3] + bytes(" end")) + chunk(bytes(" é"))
            + bytes("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
        let o = decodeEverySplit(OpenAIStreamDecoder.init, b)
        #expect(o.text == "ok bad \u{FFFD}\u{FFFD} end é")
        #expect(o.completed)
    }

    @Test func utf8CharacterSplitAcrossChunksIsWhole() {
        // Split inside the 4-byte emoji explicitly: the text never holds half a character.
        let b = bytes("data: {\"choices\":[{\"delta\":{\"content\":\"😀\"}}]}\n\ndata: [DONE]\n\n")
        let emojiStart = b.firstIndex(of: 0xF0)!
        let o = decode(OpenAIStreamDecoder.init, [Array(b[..<(emojiStart + 2)]), Array(b[(emojiStart + 2)...])])
        #expect(o.text == "😀")
        #expect(o.pieces == 1)
    }

    @Test func oneMegabyteLine() {
        let big = String(repeating: "x", count: 1 << 20)
        let s = "data: {\"choices\":[{\"delta\":{\"content\":\"\(big)\"}}]}\n\ndata: [DONE]\n\n"
        let b = bytes(s)
        let chunks = stride(from: 0, to: b.count, by: 16384).map { Array(b[$0..<min($0 + 16384, b.count)]) }
        let o = decode(OpenAIStreamDecoder.init, chunks)
        #expect(o.text.utf8.count == 1 << 20)
        #expect(o.error == nil)
        #expect(o.completed)
    }

    @Test func lineLongerThanTheLimitIsAnError() {
        var d = OpenAIStreamDecoder()
        #expect(throws: StreamDecodeError(kind: .lineTooLong, message: "stream line longer than 16777216 bytes")) {
            try d.push([UInt8](repeating: 0x61, count: (16 << 20) + 1)) { (_: String) in }
        }
    }

    @Test func llamaCppTimingsAndNoUsage() {
        let s = """
            data: {"choices":[{"delta":{"content":"Hi"}}]}

            data: {"choices":[{"delta":{},"finish_reason":"length"}],"timings":{"prompt_n":3,"prompt_ms":12.5,"predicted_n":1,"predicted_ms":40.0}}

            data: [DONE]


            """
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o.text == "Hi")
        #expect(o.finishReason == "length")
        #expect(o.promptTokens == 3)
        #expect(o.completionTokens == 1)
        #expect(o.serverTimings == .object([("prompt_n", 3), ("prompt_ms", 12.5), ("predicted_n", 1), ("predicted_ms", 40.0)]))
    }

    @Test func aChunkLikeTheTemplateAfterAnotherChunkBringsTheTemplatesFieldsAgain() {
        // The third chunk is read against the first; the second, read in full, changed the
        // usage in between: the third's own usage must count, as the JSON path counts it.
        let s = """
            data: {"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}

            data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":9}}

            data: {"choices":[{"delta":{"content":"b"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}

            data: [DONE]


            """
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o.text == "ab")
        #expect(o.promptTokens == 1)
        #expect(o.completionTokens == 1)
        let general = decode({ var d = OpenAIStreamDecoder(); d.readsDirectly = false; return d }, [bytes(s)])
        #expect(general == o)
    }

    @Test func finishReasonWithoutDoneIsComplete() {
        let s = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n"
        let o = decodeEverySplit(OpenAIStreamDecoder.init, bytes(s))
        #expect(o.completed)
        #expect(o.error == nil)
    }

    @Test func nonStreamedResponseBody() throws {
        var d = OpenAIStreamDecoder()
        var text = ""
        try d.decodeWhole(bytes(#"{"choices":[{"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":1}}"#)) { text += $0 }
        #expect(text == "whole")
        #expect(d.summary.completionTokens == 1)
    }
}

@Suite struct OllamaStreamDecoderTests {
    static let normal = """
        {"model":"llama3.1","created_at":"2025-10-19T12:00:00Z","message":{"role":"assistant","content":"héllo"},"done":false}
        {"model":"llama3.1","created_at":"2025-10-19T12:00:00Z","message":{"role":"assistant","content":" 😀"},"done":false}
        {"model":"llama3.1","created_at":"2025-10-19T12:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":5000,"load_duration":100,"prompt_eval_count":7,"prompt_eval_duration":200,"eval_count":2,"eval_duration":300}

        """

    @Test func normalStreamInEveryChunking() {
        let o = decodeEverySplit(OllamaStreamDecoder.init, bytes(Self.normal))
        #expect(o.text == "héllo 😀")
        #expect(o.error == nil)
        #expect(o.completed)
        #expect(o.finishReason == "stop")
        #expect(o.promptTokens == 7)
        #expect(o.completionTokens == 2)
        #expect(o.serverTimings == .object([("total_duration", 5000), ("load_duration", 100), ("prompt_eval_count", 7),
                                            ("prompt_eval_duration", 200), ("eval_count", 2), ("eval_duration", 300)]))
    }

    @Test func missingFinalNewline() {
        let s = "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"message\":{\"content\":\"\"},\"done\":true,\"eval_count\":1}"
        let o = decodeEverySplit(OllamaStreamDecoder.init, bytes(s))
        #expect(o.text == "a")
        #expect(o.completed)
        #expect(o.completionTokens == 1)
    }

    @Test func truncatedBetweenLines() {
        let o = decodeEverySplit(OllamaStreamDecoder.init, bytes("{\"message\":{\"content\":\"Hel\"},\"done\":false}\n"))
        #expect(o.text == "Hel")
        #expect(o.error == StreamDecodeError(kind: .truncated, message: "stream ended before its end (no object with done:true)"))
    }

    @Test func truncatedInsideALine() {
        let o = decodeEverySplit(OllamaStreamDecoder.init, bytes("{\"message\":{\"content\":\"Hel\"},\"done\":false}\n{\"message\":{\"con"))
        #expect(o.text == "Hel")
        #expect(o.error == StreamDecodeError(kind: .truncated, message: "stream ended in the middle of a line: {\"message\":{\"con"))
    }

    @Test func malformedLineIsReportedWithItsText() {
        let s = "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"message\": oops\n{\"done\":true}\n"
        let o = decodeEverySplit(OllamaStreamDecoder.init, bytes(s))
        #expect(o.text == "a")
        #expect(o.error?.message == "malformed stream line (not JSON: unexpected character at byte 12): {\"message\": oops")
    }

    @Test func errorObject() {
        let o = decodeEverySplit(OllamaStreamDecoder.init, bytes("{\"error\":\"model 'x' not found\"}\n"))
        #expect(o.error == StreamDecodeError(kind: .serverError, message: "the server reported an error in the stream: model 'x' not found"))
    }

    @Test func invalidUTF8() {
        var b = bytes("{\"message\":{\"content\":\"bad ")
        b += [0xFF, 0xFE]
        b += bytes(" bytes\"},\"done\":false}\n{\"done\":true}\n")
        let o = decodeEverySplit(OllamaStreamDecoder.init, b)
        #expect(o.text == "bad \u{FFFD}\u{FFFD} bytes")
        #expect(o.completed)
    }

    @Test func blankLinesAreIgnoredAndGenerateResponsesWork() {
        let o = decodeEverySplit(OllamaStreamDecoder.init, bytes("\n{\"response\":\"gen\",\"done\":false}\r\n\n{\"done\":true}\n"))
        #expect(o.text == "gen")
        #expect(o.completed)
    }

    @Test func oneMegabyteLine() {
        let big = String(repeating: "y", count: 1 << 20)
        let b = bytes("{\"message\":{\"content\":\"\(big)\"},\"done\":false}\n{\"done\":true}\n")
        let chunks = stride(from: 0, to: b.count, by: 10000).map { Array(b[$0..<min($0 + 10000, b.count)]) }
        let o = decode(OllamaStreamDecoder.init, chunks)
        #expect(o.text.utf8.count == 1 << 20)
        #expect(o.completed)
    }
}

@Suite struct SSEDecoderTests {
    @Test func fieldsCommentsAndIDs() throws {
        var d = SSEDecoder()
        var events: [SSEEvent] = []
        try d.push(bytes(": hello\nevent: ping\nid: 42\ndata:no-space\ndata:  two spaces\nretry: 100\n\n\n")) { events.append($0) }
        try d.finish { events.append($0) }
        #expect(events == [SSEEvent(event: "ping", data: "no-space\n two spaces", id: "42")])
    }

    /// Events of one data line and a blank line are handed over as they lie in a push; the
    /// others, and any event cut by a push's end, line by line. Both ways give the same events.
    @Test func everyKindOfEventInEveryChunking() throws {
        let stream = bytes("data: one\n\nevent: named\ndata:two\n\nid: 9\ndata: three\n\ndata: four\r\n\r\n"
            + "data: five\r\n\ndata: six\ndata: more\n\n: comment\ndata: seven\n\n\n\ndata\n\ndata:\n\ndata:  \n\n"
            + "retry: 5\ndata: eight\n\nevent: x\n\ndata: nine\n\n")
        let expected = [SSEEvent(event: nil, data: "one", id: nil), SSEEvent(event: "named", data: "two", id: nil),
                        SSEEvent(event: nil, data: "three", id: "9"), SSEEvent(event: nil, data: "four", id: "9"),
                        SSEEvent(event: nil, data: "five", id: "9"), SSEEvent(event: nil, data: "six\nmore", id: "9"),
                        SSEEvent(event: nil, data: "seven", id: "9"), SSEEvent(event: nil, data: "", id: "9"),
                        SSEEvent(event: nil, data: "", id: "9"), SSEEvent(event: nil, data: " ", id: "9"),
                        SSEEvent(event: nil, data: "eight", id: "9"), SSEEvent(event: nil, data: "nine", id: "9")]
        func events(_ chunks: [[UInt8]]) throws -> [SSEEvent] {
            var d = SSEDecoder()
            var seen: [SSEEvent] = []
            for c in chunks { try d.push(c) { seen.append($0) } }
            try d.finish { seen.append($0) }
            return seen
        }
        #expect(try events([stream]) == expected)
        #expect(try events(stream.map { [$0] }) == expected)
        for i in 0...stream.count {
            let split = try events([Array(stream[..<i]), Array(stream[i...])])
            #expect(split == expected, "split at \(i)")
        }
    }
}
