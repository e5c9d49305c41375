import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishHTTP
import AishConfig
import AishSessionLog
import AishTelemetry

/// Where a request's output token count came from.
enum TokenSource: String, Sendable, CaseIterable {
    /// The server counted them: OpenAI-style `usage.completion_tokens` (aish asks for it with
    /// `stream_options.include_usage`), Ollama's `eval_count`.
    case usage
    /// The server gave no count: one token per text chunk received.
    case chunks
}

/// The per-token and per-chunk figures of one streamed reply, from when its text chunks
/// arrived (monotonic seconds) and how many tokens the server says it generated.
///
/// A server may put several tokens in one chunk. The inter-chunk latency (ICL) is the mean
/// gap between chunks; the inter-token latency (ITL) divides the same window by the tokens
/// generated after the first chunk, taking the first chunk to hold the reply's mean tokens
/// per chunk (exact when the chunks are even): ITL = ICL / (tokens / chunks). With one
/// token per chunk that is (last − first) / (tokens − 1), as guidellm and aiperf count it.
/// A count one above the chunks is the stop token, which servers count and do not stream
/// (llama-server's `completion_tokens` includes it): it falls after the last chunk, so the
/// window holds the streamed tokens only.
struct TokenTiming: Sendable {
    var start: Double
    var firstAt: Double
    var lastAt: Double
    var end: Double
    var chunks: Int
    var tokens: Int?

    var iclMs: Double? {
        guard chunks > 1 else { return nil }
        return (lastAt - firstAt) * 1000 / Double(chunks - 1)
    }

    /// The tokens that arrived as text: the server's count without a stop token it did not stream.
    static func streamed(tokens: Int, chunks: Int) -> Int { tokens == chunks + 1 ? chunks : tokens }

    var itlMs: Double? {
        guard let counted = tokens, chunks > 1 else { return nil }
        let tokens = Self.streamed(tokens: counted, chunks: chunks)
        guard tokens > 1 else { return nil }
        let afterFirstChunk = Double(tokens) * Double(chunks - 1) / Double(chunks)
        guard afterFirstChunk > 0 else { return nil }
        return (lastAt - firstAt) * 1000 / afterFirstChunk
    }

    /// vLLM's `tpot`: (e2e − TTFT) / (tokens − 1).
    var tpotMs: Double? {
        guard let tokens, tokens > 1 else { return nil }
        return (end - firstAt) * 1000 / Double(tokens - 1)
    }
}

/// Over a set of successful requests: where their output token counts came from, how many
/// tokens a chunk carried, and how many requests the server's count disagreed with the
/// chunks counted (several tokens a chunk, or a count that does not match the stream; a
/// count one above the chunks is the unstreamed stop token, not a disagreement).
struct TokenCounts: Sendable, Equatable {
    var bySource: [TokenSource: Int] = [:]
    /// Mean of usage tokens over chunks, over the requests with a server count.
    var tokensPerChunk: Double?
    /// Requests whose server count differs from the chunks received (the stop token aside).
    var mismatched: Int = 0
    /// The first such request's figures, for the note.
    var example: (usage: Int, chunks: Int)? = nil

    static func == (a: TokenCounts, b: TokenCounts) -> Bool {
        a.bySource == b.bySource && a.tokensPerChunk == b.tokensPerChunk && a.mismatched == b.mismatched
    }

    init<Samples: Sequence<RequestSample>>(_ samples: Samples) {
        var ratios: [Double] = []
        for s in samples {
            guard let source = s.tokenSource else { continue }
            bySource[source, default: 0] += 1
            guard source == .usage, let tokens = s.outputTokens, s.chunks > 0 else { continue }
            let streamed = TokenTiming.streamed(tokens: tokens, chunks: s.chunks)
            ratios.append(Double(streamed) / Double(s.chunks))
            if streamed != s.chunks {
                mismatched += 1
                if example == nil { example = (tokens, s.chunks) }
            }
        }
        if !ratios.isEmpty { tokensPerChunk = ratios.reduce(0, +) / Double(ratios.count) }
    }

    /// "usage" when every count came from the server, "chunks" when none did, else "mixed".
    var sourceText: String? {
        let used = TokenSource.allCases.filter { (bySource[$0] ?? 0) > 0 }
        if used.isEmpty { return nil }
        return used.count == 1 ? used[0].rawValue : "mixed"
    }

    func json() -> [(String, JSONValue)] {
        [("tokens_counted_by", .object(TokenSource.allCases.map { ($0.rawValue, .int(bySource[$0] ?? 0)) })),
         ("tokens_per_chunk", tokensPerChunk.map { .double(LatencySummary.round($0, 2)) } ?? .null),
         ("token_mismatch", .int(mismatched))]
    }

    /// What a reader must know about the counts, or nil: the server's count disagreed with
    /// the chunks, or the server gave none (then ITL is the chunk gap).
    func note(_ name: String) -> String? {
        var parts: [String] = []
        if mismatched > 0, let example {
            parts.append("\(mismatched) request\(mismatched == 1 ? "" : "s") counted differently by the server than by the client "
                + "(e.g. usage \(example.usage) tokens in \(example.chunks) chunks"
                + (tokensPerChunk.map { ", " + cFormat("%.1f", $0) + " tokens a chunk on average" } ?? "")
                + "): ITL is per token, ICL per chunk")
        }
        if let n = bySource[.chunks], n > 0 {
            parts.append("\(n) request\(n == 1 ? "" : "s") without a token count from the server: tokens counted as chunks, ITL = ICL")
        }
        return parts.isEmpty ? nil : "\(name): " + parts.joined(separator: "; ")
    }
}
