import Foundation
import Testing
@testable import AishBase
@testable import AishProviders
import AishHTTP

/// Chunks read straight from their bytes give what the JSON tree gives: the same text
/// pieces, summary and errors, for well-formed chunks of every shape servers send and for
/// damaged ones.
@Suite struct OpenAIChunkSkimTests {
    struct Outcome: Equatable {
        var pieces: [String]
        var model: String?
        var promptTokens: Int?
        var completionTokens: Int?
        var finishReason: String?
        var completed: Bool
        var timings: String?
        var error: String?
    }

    static func decode(_ stream: String, direct: Bool) -> Outcome {
        var d = OpenAIStreamDecoder()
        d.readsDirectly = direct
        var pieces: [String] = []
        var failure: String?
        do {
            try d.push(Array(stream.utf8)) { pieces.append($0) }
            try d.finish { pieces.append($0) }
        } catch {
            failure = "\(error)"
        }
        let s = d.summary
        return Outcome(pieces: pieces, model: s.model, promptTokens: s.promptTokens, completionTokens: s.completionTokens,
                       finishReason: s.finishReason, completed: s.completed, timings: s.serverTimings?.serialized(),
                       error: failure)
    }

    static let chunks = [
        #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"héllo \n\"w\" \u00e9 \ud83d\ude00"},"finish_reason":null}]}"#,
        #"{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"second choice"}}]}"#,
        #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":32,"total_tokens":37}}"#,
        #"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#,
        #"{"choices":[{"message":{"content":"whole"},"finish_reason":"length"}]}"#,
        #"{"choices":[{"text":"legacy","finish_reason":null}]}"#,
        #"{"choices":[{"delta":{"content":null},"text":"t"}]}"#,
        #"{"choices":[{"delta":{"content":""},"message":{"content":"m"}}]}"#,
        #"{"choices":[{"delta":"odd","message":{"content":"m"}}]}"#,
        #"{"choices":["x"]}"#,
        #"{"choices":{"0":{"delta":{"content":"no"}}}}"#,
        #"{"model":"first","model":"second","choices":[{"delta":{"content":"dup"},"delta":{"content":"x"}}]}"#,
        #"{"model":3,"choices":[{"delta":{"content":5}}]}"#,
        #"{"usage":{"prompt_tokens":5.0,"completion_tokens":2e1}}"#,
        #"{"usage":{"prompt_tokens":null,"completion_tokens":"9"}}"#,
        #"{"usage":null,"choices":null}"#,
        #"{"choices":[{"delta":{"content":"t"},"finish_reason":null}],"timings":{"prompt_n":3,"predicted_n":9}}"#,
        #"{"error":{"message":"overloaded","type":"server_error"}}"#,
        #"{"ch\u006fices":[{"delta":{"c\u006fntent":"escaped keys"}}]}"#,
        #"{"x":[1,-2,3.5,1e3,true,false,null,{"y":[[]]}],"choices":[{"delta":{"content":"after"}}]}"#,
        #"  {"choices":[{"delta":{"content":"spaced"}}]}  "#,
        #"[1,2]"#, #""str""#, #"42"#, #"{}"#,
    ]

    @Test func everyShapeReadsAsTheTreeReadsIt() {
        for chunk in Self.chunks {
            let stream = "data: \(chunk)\n\ndata: [DONE]\n\n"
            #expect(Self.decode(stream, direct: true) == Self.decode(stream, direct: false), "\(chunk)")
        }
    }

    @Test func damagedChunksFailAsTheTreeFails() {
        // Every prefix, and every one-byte change to a few characters, of each chunk.
        var generator = SystemRandomNumberGenerator()
        let noise: [Character] = ["{", "}", "[", "]", "\"", ",", ":", "\\", "0", "-", "e", ".", "x", " ", "\u{1}"]
        for chunk in Self.chunks {
            var variants: [String] = []
            for n in stride(from: 0, to: chunk.count, by: max(1, chunk.count / 40)) { variants.append(String(chunk.prefix(n))) }
            for _ in 0..<40 {
                var chars = Array(chunk)
                let i = Int.random(in: 0..<chars.count, using: &generator)
                chars[i] = noise.randomElement(using: &generator)!
                variants.append(String(chars))
            }
            for v in variants {
                let stream = "data: \(v)\n\ndata: [DONE]\n\n"
                #expect(Self.decode(stream, direct: true) == Self.decode(stream, direct: false), "\(v)")
            }
        }
    }

    @Test func theCommonChunkIsReadDirectly() {
        let chunk = #"{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}"#
        let skim = OpenAIChunkSkim.read(chunk)
        #expect(skim?.deltaContent == .string("tok "))
        #expect(skim?.model == .string("m"))
        #expect(skim?.finishReason == .other)
        #expect(OpenAIChunkSkim.read(#"{"error":{"message":"x"}}"#) == nil, "errors take the general path")
        #expect(OpenAIChunkSkim.read(#"{"choices":[{"delta":{"content":"a"}}]"#) == nil)
    }

    /// Chunks with a string of reply text, and texts to put in its place: a stream of a
    /// chunk then its variants goes through the template (same bytes around the text), or
    /// falls back to a full read where the bytes differ, and reads as the tree reads it.
    static let texts = [#""""#, #""x""#, #""longer text with spaces""#, #""esc \" \\ \n \u00e9 \ud83d\ude00""#,
                        #""héllo wörld""#, #"null"#, #"5"#, #""unterminated"#, #""a","b""#, #""\x""#]

    @Test func chunksLikeTheLastOneReadAsTheTreeReadsThem() {
        var generator = SystemRandomNumberGenerator()
        let noise: [Character] = ["{", "}", "]", "\"", ",", ":", "\\", "0", " "]
        for chunk in Self.chunks {
            guard let text = OpenAIChunkSkim.read(chunk), let range = text.varyingRange(in: chunk) else { continue }
            var variants: [String] = []
            for t in Self.texts {
                let replaced = String(chunk[..<range.lowerBound]) + t + String(chunk[range.upperBound...])
                variants.append(replaced)
                // The same with one byte changed before, inside or after the text.
                for _ in 0..<6 {
                    var chars = Array(replaced)
                    let i = Int.random(in: 0..<chars.count, using: &generator)
                    chars[i] = noise.randomElement(using: &generator)!
                    variants.append(String(chars))
                }
            }
            var stream = "data: \(chunk)\n\n"
            for v in variants {
                let one = "data: \(chunk)\n\ndata: \(v)\n\ndata: [DONE]\n\n"
                #expect(Self.decode(one, direct: true) == Self.decode(one, direct: false), "\(chunk) then \(v)")
                stream += "data: \(v)\n\n"
            }
            // All in one stream: each chunk is read against the last one read in full.
            stream += "data: [DONE]\n\n"
            if Self.decode(stream, direct: false).error == nil {
                #expect(Self.decode(stream, direct: true) == Self.decode(stream, direct: false), "\(chunk)")
            }
        }
    }

    @Test func aStreamOfLikeChunksIsReadAgainstTheFirst() {
        let chunks = (0..<5).map { #"{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"t\#($0) "},"finish_reason":null}]}"# }
        var template = OpenAIChunkTemplate()
        var read: [String?] = []
        for chunk in chunks {
            var copy = chunk
            read.append(copy.withUTF8 { bytes in
                template.text(ofLike: bytes) ?? template.read(bytes: bytes, knownModel: "m")?.deltaContent.value
            })
        }
        #expect(read == ["t0 ", "t1 ", "t2 ", "t3 ", "t4 "])
        #expect(template.fullReads == 1)
    }
}

/// A reply sent as one JSON object is read whole, whatever the case of its content type.
@Suite struct WholeReplyTests {
    @Test(arguments: ["application/json", "Application/JSON; charset=utf-8", "APPLICATION/JSON"])
    func aJSONReplyIsReadWhole(type: String) throws {
        var reader = ChatStreamReader(HTTPRequest(method: "POST", url: "http://127.0.0.1/v1/chat/completions"),
                                      decoder: OpenAIStreamDecoder())
        let opened = reader.head(HTTPResponseHead(status: 200, headers: [("content-type", type)]))
        #expect(opened)
        let body = #"{"model":"m","choices":[{"message":{"content":"whole"},"finish_reason":"stop"}]}"#
        try reader.body(Array(body.utf8)) { _ in }
        let summary = try reader.finish { _ in }
        #expect(summary.text == "whole")
    }
}

extension OpenAIChunkSkim {
    /// Where the chunk's text token lies in `chunk`, as String indices.
    func varyingRange(in chunk: String) -> Range<String.Index>? {
        guard let r = varyingBytes else { return nil }
        let utf8 = chunk.utf8
        return utf8.index(utf8.startIndex, offsetBy: r.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: r.upperBound)
    }
}
