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
