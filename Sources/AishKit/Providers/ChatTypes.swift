import FoundationEssentials
import Glibc

// The contract between the router/chat (Routing/, Chat/) and the provider clients
// (Providers/, HTTP/). The clients implement `ChatBackend`; chat drives it.

struct ChatMessage: Sendable, Equatable {
    var role: String      // system, user, assistant
    var content: String
}

struct ChatRequest: Sendable {
    var model: String                 // the backend model name sent on the wire
    var messages: [ChatMessage]
    var temperature: Double?
    var maxTokens: Int?
    var topP: Double?
    var seed: Int?
    var stream: Bool = true
    /// How much of the reply to keep in memory (the whole reply still reaches `onEvent`).
    var maxReplyBytes: Int = BoundedReply.defaultLimit
    /// The most of a reply sent as one JSON object (not streamed) that is read before it is
    /// decoded: `HTTPTransport.BodyCap.wholeReply` of the `max_reply_bytes` asked for.
    var maxWholeReplyBytes: Int = HTTPTransport.BodyCap.wholeReply(keeping: BoundedReply.defaultLimit)
    /// More top-level body keys, sent as they are (the gateway's `mock_testing_fallbacks`).
    var extraBody: [(String, JSONValue)] = []
    /// To a LiteLLM gateway: ask it neither to answer from its response cache nor to store
    /// the reply there (what measuring needs: the model's time, not Redis's). Sent only to
    /// `litellm` providers, as LiteLLM's per-request control `cache: {no-cache, no-store}`.
    var bypassGatewayCache = false

    /// temperature, max_tokens, top_p and seed as sent, for the log; "stream": false for a
    /// request that was not streamed.
    var optionsJSON: JSONValue? {
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
enum ChatStreamEvent: Sendable {
    /// The HTTP response headers arrived (status 2xx).
    case opened
    /// A piece of the reply text (complete UTF-8; never a split character).
    case text(String)
}

/// How a completed (or failed) stream ended: what the server reported.
struct ChatCompletionSummary: Sendable {
    var text: String
    var promptTokens: Int?
    var completionTokens: Int?
    var finishReason: String?
    /// Server-side timings when the backend reports them (Ollama eval_duration…, llama.cpp `timings`).
    var serverTimings: JSONValue?
    var httpStatus: Int?
    /// Set when a LiteLLM gateway answered: what its response headers say it did.
    var gateway: GatewayInfo? = nil
}

/// How a LiteLLM gateway served a request, from its `x-litellm-*` response headers (those
/// LiteLLM 1.108 sends on chat completions, streamed or not). `deployment` is the
/// configured provider whose base URL is the deployment's `api_base`, found by
/// `resolvingDeployment`; else the model group.
struct GatewayInfo: Sendable, Equatable {
    var modelGroup: String?
    var modelID: String?
    var apiBase: String?
    var attemptedFallbacks: Int?
    var attemptedRetries: Int?
    /// The gateway's own time (x-litellm-overhead-duration-ms).
    var overheadMs: Double?
    /// The gateway's time to the backend's response (x-litellm-response-duration-ms).
    var responseMs: Double?
    var deployment: String?
    /// The gateway's response-cache key (x-litellm-cache-key). LiteLLM 1.108 sets it only on a
    /// reply served from its cache (caching_handler puts `cache_key` into the hidden params on
    /// a hit, and the proxy turns it into this header), so its presence is the hit.
    var cacheKey: String? = nil

    /// Answered from the gateway's response cache, not by a backend.
    var cacheHit: Bool { cacheKey != nil }

    /// A request's cache-hit field: through a LiteLLM gateway, whether its response cache
    /// answered (no headers: it did not); else unknown (nil).
    static func cacheHit(_ info: GatewayInfo?, throughGateway: Bool) -> Bool? {
        throughGateway ? (info?.cacheHit ?? false) : nil
    }

    init(modelGroup: String? = nil, modelID: String? = nil, apiBase: String? = nil, attemptedFallbacks: Int? = nil,
         attemptedRetries: Int? = nil, overheadMs: Double? = nil, responseMs: Double? = nil, deployment: String? = nil) {
        self.modelGroup = modelGroup
        self.modelID = modelID
        self.apiBase = apiBase
        self.attemptedFallbacks = attemptedFallbacks
        self.attemptedRetries = attemptedRetries
        self.overheadMs = overheadMs
        self.responseMs = responseMs
        self.deployment = deployment
    }

    /// nil when the response carries none of these headers (not a LiteLLM gateway).
    init?(headers: [(String, String)]) {
        func value(_ name: String) -> String? {
            guard let v = headers.last(where: { $0.0.lowercased() == name })?.1.trimming(.whitespaces),
                  !v.isEmpty, v != "None" else { return nil }
            return v
        }
        func number(_ name: String) -> Double? { value(name).flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil } }
        modelGroup = value("x-litellm-model-group")
        modelID = value("x-litellm-model-id")
        apiBase = value("x-litellm-model-api-base")
        attemptedFallbacks = number("x-litellm-attempted-fallbacks").map { Int($0) }
        attemptedRetries = number("x-litellm-attempted-retries").map { Int($0) }
        overheadMs = number("x-litellm-overhead-duration-ms")
        responseMs = number("x-litellm-response-duration-ms")
        cacheKey = value("x-litellm-cache-key")
        deployment = nil
        if modelGroup == nil && modelID == nil && apiBase == nil && overheadMs == nil && attemptedFallbacks == nil
            && cacheKey == nil {
            return nil
        }
    }

    /// `deployment` named: the provider whose base URL is the api_base the gateway used, else
    /// the model group, else the deployment id.
    func resolvingDeployment(_ providers: [ProviderConfig]) -> GatewayInfo {
        var g = self
        g.deployment = apiBase.flatMap { base in
            let key = Self.endpointKey(base)
            return providers.first(where: { Self.endpointKey($0.baseURL) == key })?.name
        } ?? modelGroup ?? modelID
        return g
    }

    /// scheme://host:port/path without a trailing / or /v1, localhost as 127.0.0.1.
    static func endpointKey(_ url: String) -> String {
        var root = ProviderEndpoints(baseURL: url).root.lowercased()
        root = root.replacingAll("://localhost", with: "://127.0.0.1")
        return root
    }
}

/// Why a request failed. `partialText` is what had been received before the failure.
struct ProviderError: UserFacingError, Sendable {
    var exitCode: ExitCode { .failure }
    enum Kind: Sendable, Equatable {
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

    var kind: Kind
    var message: String               // says what failed and where: method, URL (no credentials), status, server text
    var partialText: String = ""
    var httpStatus: Int?

    var description: String { message }

    /// True when another provider may succeed where this one failed.
    var isRetryableElsewhere: Bool { kind != .cancelled }
}

/// A client able to stream a chat completion from one provider.
protocol ChatBackend: Sendable {
    /// Streams `request` to `provider`; calls `onEvent` on the calling thread as events
    /// arrive. Throws `ProviderError` (with any partial text) on failure. Checks
    /// `interrupt` at least every 100 ms and throws `.cancelled` when it is raised.
    func streamChat(_ request: ChatRequest, provider: ProviderConfig, interrupt: InterruptFlag,
                    onEvent: (ChatStreamEvent) -> Void) throws -> ChatCompletionSummary
}
