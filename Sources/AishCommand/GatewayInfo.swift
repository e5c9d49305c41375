import FoundationEssentials
import Glibc
import AishBase

/// How a LiteLLM gateway served a request, from its `x-litellm-*` response headers (those
/// LiteLLM 1.108 sends on chat completions, streamed or not). `deployment` is the
/// configured provider whose base URL is the deployment's `api_base`, found by
/// `resolvingDeployment`; else the model group.
package struct GatewayInfo: Sendable, Equatable {
    package var modelGroup: String?
    package var modelID: String?
    package var apiBase: String?
    package var attemptedFallbacks: Int?
    package var attemptedRetries: Int?
    /// The gateway's own time (x-litellm-overhead-duration-ms).
    package var overheadMs: Double?
    /// The gateway's time to the backend's response (x-litellm-response-duration-ms).
    package var responseMs: Double?
    package var deployment: String?
    /// The gateway's response-cache key (x-litellm-cache-key). LiteLLM 1.108 sets it only on a
    /// reply served from its cache (caching_handler puts `cache_key` into the hidden params on
    /// a hit, and the proxy turns it into this header), so its presence is the hit.
    package var cacheKey: String? = nil

    /// Answered from the gateway's response cache, not by a backend.
    package var cacheHit: Bool { cacheKey != nil }

    /// A request's cache-hit field: through a LiteLLM gateway, whether its response cache
    /// answered (no headers: it did not); else unknown (nil).
    package static func cacheHit(_ info: GatewayInfo?, throughGateway: Bool) -> Bool? {
        throughGateway ? (info?.cacheHit ?? false) : nil
    }

    package init(modelGroup: String? = nil, modelID: String? = nil, apiBase: String? = nil, attemptedFallbacks: Int? = nil,
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
    package init?(headers: [(String, String)]) {
        // Most responses are not a gateway's: one pass over the names, as bytes, decides.
        guard headers.contains(where: { ($0.0.utf8.first ?? 0) | 0x20 == UInt8(ascii: "x") && $0.0.utf8.count > 10
                                        && $0.0.hasPrefix(asciiCaseInsensitive: "x-litellm-") }) else { return nil }
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
}
