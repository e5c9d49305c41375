import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishHTTP

/// The URLs of a provider's endpoints, built from its `base_url`. Some base URLs already
/// end in `/v1` (`https://api.openai.com/v1`): paths are joined without doubling it.
package struct ProviderEndpoints: Sendable {
    package let base: String

    package init(_ provider: ProviderConfig) { self.init(baseURL: provider.baseURL) }

    package init(baseURL: String) {
        var b = baseURL.trimming(.whitespaces)
        while b.hasSuffix("/") { b.removeLast() }
        base = b
    }

    /// The base without a trailing `/v1`: where /health, /metrics and /api/* live.
    package var root: String { base.hasSuffix("/v1") ? String(base.dropLast(3)) : base }

    /// `path` under the base; an absolute URL is returned as it is.
    package func url(_ path: String) -> String {
        if path.contains("://") { return path }
        let p = path.hasPrefix("/") ? path : "/" + path
        if base.hasSuffix("/v1") && (p == "/v1" || p.hasPrefix("/v1/")) { return base + p.dropFirst(3) }
        return base + p
    }

    package var chatCompletions: String { url("/v1/chat/completions") }
    package var openAIModels: String { url("/v1/models") }
    package var ollamaChat: String { root + "/api/chat" }
    package var ollamaTags: String { root + "/api/tags" }
    package var ollamaRunning: String { root + "/api/ps" }
    package var ollamaVersion: String { root + "/api/version" }
    package var metrics: String { root + "/metrics" }

    /// The health URL: the configured `health_endpoint`, else the usual one for the type.
    package static func healthPath(for provider: ProviderConfig) -> String {
        if let h = provider.healthEndpoint, !h.isEmpty { return h }
        switch provider.type {
        case .ollama: return "/api/version"
        case .vllm: return "/health"
        case .litellm: return "/health/liveliness"   // /health needs the master key
        case .llamaCpp, .openai, .openaiCompatible, .anthropic: return "/v1/models"
        case .unknown: return "/"
        }
    }

    package func health(for provider: ProviderConfig) -> String {
        let path = ProviderEndpoints.healthPath(for: provider)
        // Ollama and llama.cpp's /health live at the root even when the base ends in /v1.
        if path.hasPrefix("/v1/") || path.contains("://") { return url(path) }
        return root + (path.hasPrefix("/") ? path : "/" + path)
    }
}

/// API keys: read from the variable the provider names in `env_var`, sent as a bearer
/// token, and listed as secrets so that no error can echo them.
package struct ProviderAuth: Sendable {
    package var headers: [(String, String)] = []
    package var secrets: [String] = []

    package static func resolve(_ provider: ProviderConfig, environment: [String: String]) throws -> ProviderAuth {
        if let name = provider.envVar, !name.isEmpty, let key = environment[name], !key.isEmpty {
            return ProviderAuth(headers: [("Authorization", "Bearer \(key)")], secrets: [key])
        }
        guard provider.requiresAPIKey else { return ProviderAuth() }
        let message: String
        if let name = provider.envVar, !name.isEmpty {
            message = "provider '\(provider.name)' needs an API key: set the environment variable \(name)"
        } else {
            message = "provider '\(provider.name)' needs an API key, but providers.yaml names no env_var for it"
        }
        throw ProviderError(kind: .missingAPIKey, message: message)
    }
}

extension ProviderError {
    /// The provider-level form of a transport failure; `partialText` is what had arrived.
    package init(_ e: HTTPError, partialText: String = "") {
        let kind: Kind
        switch e.kind {
        case .connectFailed, .connectTimeout, .tls: kind = .connectionFailed
        case .firstByteTimeout: kind = .firstByteTimeout
        case .idleTimeout, .totalTimeout: kind = .idleTimeout
        case .status(429): kind = .rateLimited(retryAfter: e.retryAfter)
        case let .status(code): kind = .http(status: code)
        case .cancelled: kind = .cancelled
        case .transport: kind = e.bodyStarted ? .truncatedStream : .connectionFailed
        case .bodyTooLarge: kind = .malformedStream
        }
        var message = e.description
        if e.kind == .transport && e.bodyStarted {
            message = "\(e.method) \(e.url): stream ended before its end (\(e.detail))"
        }
        self.init(kind: kind, message: message, partialText: partialText, httpStatus: e.status)
    }
}

/// Reads one streamed chat response as it arrives, whoever drives the transfer (one
/// blocking stream for chat, the load engine's event loop for bench): the head, the body
/// through a decoder (or whole, from a server that ignored stream:true), and every failure
/// turned into a `ProviderError` that keeps the partial text.
package struct ChatStreamReader<D: ChatStreamDecoder> {
    private var decoder: D
    private var reply: BoundedReply
    package private(set) var status: Int?
    private var contentType = ""
    private var wholeBody: [UInt8]?   // a server that ignored stream:true and sent one JSON object
    private var gateway: GatewayInfo?
    private let method: String
    private let url: String
    private let secrets: [String]
    /// "POST http://host/v1/chat/completions" with secrets masked: made only for a message
    /// (masking the URL for every request was a visible share of bench's CPU).
    private var where_: String { "\(method) \(URLRedaction.redact(url, secrets: secrets))" }
    /// How much of a reply sent as one JSON object is read before giving up.
    private let wholeLimit: Int

    package init(_ http: HTTPRequest, decoder: D, keepBytes: Int = BoundedReply.defaultLimit,
         wholeLimit: Int = HTTPTransport.BodyCap.wholeReply(keeping: BoundedReply.defaultLimit)) {
        self.decoder = decoder
        self.wholeLimit = wholeLimit
        reply = BoundedReply(limit: keepBytes)
        method = http.method
        url = http.url
        secrets = http.secrets
    }

    /// "POST http://host/v1/chat/completions", for messages.
    package var location: String { where_ }

    /// Takes the response head; true when it opens a stream (a 2xx).
    package mutating func head(_ head: HTTPResponseHead) -> Bool {
        status = head.status
        contentType = head.contentType ?? ""
        gateway = GatewayInfo(headers: head.headers)
        guard head.isSuccess else { return false }
        if head.contentType?.hasPrefix(asciiCaseInsensitive: "application/json") == true { wholeBody = [] }
        return true
    }

    /// Takes body bytes; `onText` sees each piece of reply text.
    package mutating func body(_ bytes: [UInt8], onText: (String) -> Void) throws {
        try decode(bytes) { onText(String(repairingUTF8: $0)) }
    }

    /// `body(_:onText:)` for a caller that needs no String of each piece (bench's load
    /// engine): `onPiece` is called once a piece.
    package mutating func body(_ bytes: [UInt8], onPiece: () -> Void) throws {
        try decode(bytes) { _ in onPiece() }
    }

    /// Body bytes through the decoder; each piece is kept (as bytes) and handed to `use`.
    private mutating func decode(_ bytes: [UInt8], use: (UnsafeBufferPointer<UInt8>) -> Void) throws {
        if wholeBody != nil {
            // Read whole before it can be decoded: only as far as max_reply_bytes needs.
            guard wholeBody!.count + bytes.count <= wholeLimit else {
                wholeBody = nil
                throw ProviderError(kind: .other, message: "\(where_): the reply is one JSON object (not a stream) "
                    + "larger than \(ByteCount.text(wholeLimit)) (4 × max_reply_bytes + 1 MiB, aish's limit); stopped reading. "
                    + "Ask for a stream, or raise max_reply_bytes", httpStatus: status)
            }
            wholeBody!.append(contentsOf: bytes)
            return
        }
        var kept = reply
        reply = BoundedReply(limit: 0)
        defer { reply = kept }
        try decoder.push(bytes) { (piece: UnsafeBufferPointer<UInt8>) in
            kept.append(utf8: piece)
            use(piece)
        }
    }

    /// The end of the body: decodes what is left and sums up.
    package mutating func finish(onText: (String) -> Void) throws -> ChatCompletionSummary {
        var kept = reply
        reply = BoundedReply(limit: 0)
        defer { reply = kept }
        let emit: (String) -> Void = { piece in
            kept.append(piece)
            onText(piece)
        }
        if let body = wholeBody {
            try decoder.decodeWhole(body, onText: emit)
        } else {
            try decoder.finish(onText: emit)
        }
        let s = decoder.summary
        return ChatCompletionSummary(text: kept.takeText(), promptTokens: s.promptTokens, completionTokens: s.completionTokens,
                                     finishReason: s.finishReason, serverTimings: s.serverTimings, httpStatus: status,
                                     gateway: gateway)
    }

    /// What the caller should throw for `error`, met while reading: transport and decoding
    /// failures become a `ProviderError` with the partial text; anything else is unchanged.
    package mutating func failure(_ error: Error) -> Error {
        switch error {
        case let e as HTTPError:
            return ProviderError(e, partialText: reply.takeText())
        case let e as StreamDecodeError:
            var kind: ProviderError.Kind
            switch e.kind {
            case .malformed, .lineTooLong: kind = .malformedStream
            case .truncated: kind = .truncatedStream
            case .serverError: kind = .other
            }
            var message = "\(where_): \(URLRedaction.scrub(e.message, secrets: secrets))"
            // A 200 that is not a stream at all (a proxy's HTML page, say) ends "truncated":
            // say what it was instead.
            let streamTypes = ["event-stream", "ndjson", "json"]
            if e.kind == .truncated, reply.isEmpty, !contentType.isEmpty, !streamTypes.contains(where: { contentType.contains($0) }) {
                message = "\(where_): the answer is \(contentType), not a stream of chat events"
                kind = .malformedStream
            }
            return ProviderError(kind: kind, message: message, partialText: reply.takeText(), httpStatus: status)
        case var e as ProviderError:
            e.partialText = reply.takeText()
            return e
        default:
            return error
        }
    }
}

/// Drives one streamed chat request through a decoder, turning every failure into a
/// `ProviderError` that keeps the partial text.
package enum ChatStreamRunner {
    package static func run<D: ChatStreamDecoder>(_ http: HTTPRequest, decoder: D, interrupt: InterruptFlag,
                                          keepBytes: Int = BoundedReply.defaultLimit,
                                          wholeLimit: Int = HTTPTransport.BodyCap.wholeReply(keeping: BoundedReply.defaultLimit),
                                          onEvent: (ChatStreamEvent) -> Void) throws -> ChatCompletionSummary {
        var reader = ChatStreamReader(http, decoder: decoder, keepBytes: keepBytes, wholeLimit: wholeLimit)
        let where_ = reader.location
        do {
            try HTTPTransport.stream(http, interrupt: interrupt, onHead: { head in
                if reader.head(head) { onEvent(.opened) }
            }, onBody: { bytes in
                try reader.body(bytes) { onEvent(.text($0)) }
                if interrupt.isRaised { throw ProviderError(kind: .cancelled, message: "\(where_): cancelled") }
            })
            return try reader.finish { onEvent(.text($0)) }
        } catch {
            throw reader.failure(error)
        }
    }
}

/// OpenAI-compatible chat: vLLM, llama.cpp (Python and native servers), LiteLLM, OpenAI
/// and any `openai_compatible` server. POST {base}/v1/chat/completions, streamed as SSE.
package struct OpenAICompatibleBackend: ChatBackend {
    package var environment: [String: String]

    /// LiteLLM's per-request cache controls (1.108: `no-cache` skips the lookup in
    /// caching_handler, `no-store` the write after the reply).
    package static let noGatewayCache: (String, JSONValue) = ("cache", .object([("no-cache", true), ("no-store", true)]))

    package static func body(_ request: ChatRequest, gateway: Bool = false) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("model", .string(request.model)),
            ("messages", .array(request.messages.map { .object([("role", .string($0.role)), ("content", .string($0.content))]) })),
            ("stream", .bool(request.stream)),
        ]
        if request.stream { pairs.append(("stream_options", .object([("include_usage", true)]))) }
        if let t = request.temperature { pairs.append(("temperature", .double(t))) }
        if let m = request.maxTokens { pairs.append(("max_tokens", .int(m))) }
        if let p = request.topP { pairs.append(("top_p", .double(p))) }
        if let s = request.seed { pairs.append(("seed", .int(s))) }
        pairs += request.extraBody
        if gateway && request.bypassGatewayCache { pairs.append(noGatewayCache) }
        return .object(pairs)
    }

    package func streamChat(_ request: ChatRequest, provider: ProviderConfig, interrupt: InterruptFlag,
                    onEvent: (ChatStreamEvent) -> Void) throws -> ChatCompletionSummary {
        let auth = try ProviderAuth.resolve(provider, environment: environment)
        let http = HTTPRequest.postJSON(url: ProviderEndpoints(provider).chatCompletions,
                                        Self.body(request, gateway: provider.type == .litellm),
                                        headers: [("Accept", request.stream ? "text/event-stream" : "application/json")] + auth.headers,
                                        timeouts: HTTPTimeouts(provider.timeouts), secrets: auth.secrets)
        return try ChatStreamRunner.run(http, decoder: OpenAIStreamDecoder(), interrupt: interrupt,
                                        keepBytes: request.maxReplyBytes, wholeLimit: request.maxWholeReplyBytes, onEvent: onEvent)
    }
}

/// Ollama's native chat: POST {base}/api/chat, streamed as NDJSON.
package struct OllamaBackend: ChatBackend {
    package var environment: [String: String]

    /// LiteLLM's per-request cache controls (1.108: `no-cache` skips the lookup in
    /// caching_handler, `no-store` the write after the reply).
    package static let noGatewayCache: (String, JSONValue) = ("cache", .object([("no-cache", true), ("no-store", true)]))

    package static func body(_ request: ChatRequest, gateway: Bool = false) -> JSONValue {
        var options: [(String, JSONValue)] = []
        if let t = request.temperature { options.append(("temperature", .double(t))) }
        if let m = request.maxTokens { options.append(("num_predict", .int(m))) }
        if let p = request.topP { options.append(("top_p", .double(p))) }
        if let s = request.seed { options.append(("seed", .int(s))) }
        var pairs: [(String, JSONValue)] = [
            ("model", .string(request.model)),
            ("messages", .array(request.messages.map { .object([("role", .string($0.role)), ("content", .string($0.content))]) })),
            ("stream", .bool(request.stream)),
        ]
        if !options.isEmpty { pairs.append(("options", .object(options))) }
        return .object(pairs)
    }

    package func streamChat(_ request: ChatRequest, provider: ProviderConfig, interrupt: InterruptFlag,
                    onEvent: (ChatStreamEvent) -> Void) throws -> ChatCompletionSummary {
        let auth = try ProviderAuth.resolve(provider, environment: environment)
        let http = HTTPRequest.postJSON(url: ProviderEndpoints(provider).ollamaChat, Self.body(request),
                                        headers: auth.headers, timeouts: HTTPTimeouts(provider.timeouts), secrets: auth.secrets)
        return try ChatStreamRunner.run(http, decoder: OllamaStreamDecoder(), interrupt: interrupt,
                                        keepBytes: request.maxReplyBytes, wholeLimit: request.maxWholeReplyBytes, onEvent: onEvent)
    }
}

/// A provider type aish has no client for: every request fails with a clear error.
package struct UnsupportedBackend: ChatBackend {
    package func streamChat(_ request: ChatRequest, provider: ProviderConfig, interrupt: InterruptFlag,
                    onEvent: (ChatStreamEvent) -> Void) throws -> ChatCompletionSummary {
        throw ProviderError(kind: .other, message: "provider '\(provider.name)': type '\(provider.type.rawValue)' is not supported (aish speaks the OpenAI-compatible and Ollama APIs)")
    }
}

package enum ProviderClients {
    /// The chat client for a provider's type.
    package static func backend(for provider: ProviderConfig, environment: [String: String]) -> ChatBackend {
        switch provider.type {
        case .ollama: return OllamaBackend(environment: environment)
        case .llamaCpp, .vllm, .openai, .openaiCompatible, .litellm: return OpenAICompatibleBackend(environment: environment)
        case .anthropic, .unknown: return UnsupportedBackend()
        }
    }

    package static func isSupported(_ type: ProviderType) -> Bool {
        type == .ollama || type.isOpenAICompatible
    }
}
