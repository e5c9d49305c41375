import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishHTTP

// The contract between the router/chat (Routing/, Chat/) and the provider clients
// (Providers/, HTTP/). The clients implement `ChatBackend`; chat drives it.

package struct ChatMessage: Sendable, Equatable {
    package var role: String      // system, user, assistant
    package var content: String

    package init(role: String, content: String) {
        self.role = role
        self.content = content
    }

}

package struct ChatRequest: Sendable {
    package var model: String                 // the backend model name sent on the wire
    package var messages: [ChatMessage]
    package var temperature: Double?
    package var maxTokens: Int?
    package var topP: Double?
    package var seed: Int?
    package var stream: Bool = true
    /// How much of the reply to keep in memory (the whole reply still reaches `onEvent`).
    package var maxReplyBytes: Int = BoundedReply.defaultLimit
    /// The most of a reply sent as one JSON object (not streamed) that is read before it is
    /// decoded: `HTTPTransport.BodyCap.wholeReply` of the `max_reply_bytes` asked for.
    package var maxWholeReplyBytes: Int = HTTPTransport.BodyCap.wholeReply(keeping: BoundedReply.defaultLimit)
    /// More top-level body keys, sent as they are (the gateway's `mock_testing_fallbacks`).
    package var extraBody: [(String, JSONValue)] = []

    /// To a LiteLLM gateway: ask it neither to answer from its response cache nor to store
    /// the reply there (what measuring needs: the model's time, not Redis's). Sent only to
    /// `litellm` providers, as LiteLLM's per-request control `cache: {no-cache, no-store}`.
    package var bypassGatewayCache = false

    package init(model: String, messages: [ChatMessage], temperature: Double? = nil, maxTokens: Int? = nil,
                 topP: Double? = nil, seed: Int? = nil, stream: Bool = true,
                 maxReplyBytes: Int = BoundedReply.defaultLimit,
                 maxWholeReplyBytes: Int = HTTPTransport.BodyCap.wholeReply(keeping: BoundedReply.defaultLimit),
                 extraBody: [(String, JSONValue)] = [], bypassGatewayCache: Bool = false) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.topP = topP
        self.seed = seed
        self.stream = stream
        self.maxReplyBytes = maxReplyBytes
        self.maxWholeReplyBytes = maxWholeReplyBytes
        self.extraBody = extraBody
        self.bypassGatewayCache = bypassGatewayCache
    }

    /// temperature, max_tokens, top_p and seed as sent, for the log; "stream": false for a
    /// request that was not streamed.
    package var optionsJSON: JSONValue? {
        var pairs: [(String, JSONValue)] = []
        if let t = temperature { pairs.append(("temperature", .double(t))) }
        if let m = maxTokens { pairs.append(("max_tokens", .int(m))) }
        if let p = topP { pairs.append(("top_p", .double(p))) }
        if let s = seed { pairs.append(("seed", .int(s))) }
        if !stream { pairs.append(("stream", .bool(false))) }
        return pairs.isEmpty ? nil : .object(pairs)
    }
}

/// What a streaming client delivers, in order, as it arrives.
package enum ChatStreamEvent: Sendable {
    /// The HTTP response headers arrived (status 2xx).
    case opened
    /// A piece of the reply text (complete UTF-8; never a split character).
    case text(String)
}

/// How a completed (or failed) stream ended: what the server reported.
package struct ChatCompletionSummary: Sendable {
    package var text: String
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var finishReason: String?
    /// Server-side timings when the backend reports them (Ollama eval_duration…, llama.cpp `timings`).
    package var serverTimings: JSONValue?
    package var httpStatus: Int?
    /// Set when a LiteLLM gateway answered: what its response headers say it did.
    package var gateway: GatewayInfo? = nil

    package init(text: String, promptTokens: Int? = nil, completionTokens: Int? = nil, finishReason: String? = nil,
                 serverTimings: JSONValue? = nil, httpStatus: Int? = nil, gateway: GatewayInfo? = nil) {
        self.text = text
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.finishReason = finishReason
        self.serverTimings = serverTimings
        self.httpStatus = httpStatus
        self.gateway = gateway
    }

}

/// Why a request failed. `partialText` is what had been received before the failure.
package struct ProviderError: UserFacingError, Sendable {
    package var exitCode: ExitCode { .failure }
    package enum Kind: Sendable, Equatable {
        case connectionFailed         // refused, DNS, TLS
        case firstByteTimeout         // no response / no first token in time
        case idleTimeout              // stalled between chunks
        case http(status: Int)        // non-2xx
        case rateLimited(retryAfter: Double?)   // 429
        case malformedStream          // undecodable event
        case truncatedStream          // ended without a proper end ([DONE] / done:true)
        case cancelled                // Ctrl-C or caller
        case missingAPIKey
        case other
    }

    package var kind: Kind
    package var message: String               // says what failed and where: method, URL (no credentials), status, server text
    package var partialText: String = ""
    package var httpStatus: Int?

    package init(kind: Kind, message: String, partialText: String = "", httpStatus: Int? = nil) {
        self.kind = kind
        self.message = message
        self.partialText = partialText
        self.httpStatus = httpStatus
    }

    package var description: String { message }

    /// True when another provider may succeed where this one failed.
    package var isRetryableElsewhere: Bool { kind != .cancelled }
}

/// A client able to stream a chat completion from one provider.
package protocol ChatBackend: Sendable {
    /// Streams `request` to `provider`; calls `onEvent` on the calling thread as events
    /// arrive. Throws `ProviderError` (with any partial text) on failure. Checks
    /// `interrupt` at least every 100 ms and throws `.cancelled` when it is raised.
    func streamChat(_ request: ChatRequest, provider: ProviderConfig, interrupt: InterruptFlag,
                    onEvent: (ChatStreamEvent) -> Void) throws -> ChatCompletionSummary
}
