import FoundationEssentials
import Glibc
import AishBase

/// How long a transfer may wait, in seconds. `firstByte` runs from the start of the
/// request to the first byte of the response body; `idle` is the longest silence between
/// body bytes after that; `total` (optional) bounds the whole transfer.
package struct HTTPTimeouts: Sendable, Equatable {
    package var connect: Double = 5
    package var firstByte: Double = 60
    package var idle: Double = 30
    package var total: Double? = nil

    package init(connect: Double = 5, firstByte: Double = 60, idle: Double = 30, total: Double? = nil) {
        self.connect = connect
        self.firstByte = firstByte
        self.idle = idle
        self.total = total
    }
}

/// One HTTP request. `secrets` are values (API keys) that must never appear in an error:
/// they are scrubbed from any text the transport reports.
package struct HTTPRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [(String, String)]
    package var body: [UInt8]?
    package var timeouts: HTTPTimeouts
    package var secrets: [String]

    package init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
         timeouts: HTTPTimeouts = HTTPTimeouts(), secrets: [String] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
        self.secrets = secrets
    }

    /// A JSON POST.
    package static func postJSON(url: String, _ json: JSONValue, headers: [(String, String)] = [],
                         timeouts: HTTPTimeouts = HTTPTimeouts(), secrets: [String] = []) -> HTTPRequest {
        HTTPRequest(method: "POST", url: url, headers: jsonHeaders(headers), body: json.serializedUTF8(), timeouts: timeouts, secrets: secrets)
    }

    /// A JSON POST's headers: Content-Type first, then `headers`.
    package static func jsonHeaders(_ headers: [(String, String)]) -> [(String, String)] {
        [("Content-Type", "application/json")] + headers
    }

    /// The URL as it may be shown: no user:password, no secret query values.
    package var displayURL: String { URLRedaction.redact(url, secrets: secrets) }
}

/// Status line and headers of a response (of the last response when redirects were followed).
package struct HTTPResponseHead: Sendable {
    package var status: Int
    /// Header names in lower case, in the order received.
    package var headers: [(String, String)]

    package init(status: Int, headers: [(String, String)]) {
        self.status = status
        self.headers = headers
    }

    package func header(_ name: String) -> String? { header(lowercased: name.lowercased()) }

    /// `header(_:)` of a name given in lower case already (lowercasing a name showed in
    /// bench's CPU time, twice a request).
    private func header(lowercased name: String) -> String? { headers.last(where: { $0.0 == name })?.1 }

    package var isSuccess: Bool { (200..<300).contains(status) }
    package var contentType: String? { header(lowercased: "content-type") }
    /// Seconds to wait, from a `Retry-After` header in seconds or as an HTTP date.
    package var retryAfter: Double? { header(lowercased: "retry-after").flatMap { RetryAfter.seconds($0) } }
}

/// When things happened during one transfer, in seconds since it started.
package struct TransferTimings: Sendable {
    package var headers: Double?
    package var firstByte: Double?
    package var total: Double
    package var bodyBytes: Int
    /// Connections this transfer opened: 0 when it reused a kept-alive one.
    package var newConnections: Int = 0
    /// When the request went out on its connection (monotonic seconds), where libcurl says.
    package var sentAt: Double? = nil
    /// When the last body byte was read (monotonic seconds).
    package var lastByteAt: Double? = nil
}

/// A response whose body was read whole (bounded by the caller's limit).
package struct HTTPResponse: Sendable {
    package var head: HTTPResponseHead
    package var body: [UInt8]
    package var timings: TransferTimings
    package var bodyText: String { String(decoding: body, as: UTF8.self) }
    package func json() throws -> JSONValue { try JSONValue.parse(bytes: body) }
}

/// Why a transfer failed. The description says what failed and where: method, URL
/// without credentials, status and the server's own error text.
package struct HTTPError: UserFacingError, Sendable {
    package var exitCode: ExitCode { .failure }
    package enum Kind: Sendable, Equatable {
        case connectFailed          // refused, unreachable, DNS
        case connectTimeout
        case tls                    // handshake or certificate verification
        case firstByteTimeout
        case idleTimeout
        case totalTimeout
        case status(Int)            // a non-2xx response
        case cancelled
        case transport              // the connection broke during the response
        case bodyTooLarge
    }

    package var kind: Kind
    package var method: String
    package var url: String                 // already redacted
    package var status: Int?
    /// The server's error text (`error.message` of a JSON body, or the body's first line).
    package var serverMessage: String?
    package var retryAfter: Double?
    /// libcurl's explanation, or what the timeout was.
    package var detail: String
    /// True when some of the response body had arrived before the failure.
    package var bodyStarted: Bool = false

    package init(kind: Kind, method: String, url: String, status: Int? = nil, serverMessage: String? = nil,
                 retryAfter: Double? = nil, detail: String, bodyStarted: Bool = false) {
        self.kind = kind
        self.method = method
        self.url = url
        self.status = status
        self.serverMessage = serverMessage
        self.retryAfter = retryAfter
        self.detail = detail
        self.bodyStarted = bodyStarted
    }

    package var description: String {
        var s = "\(method) \(url): "
        switch kind {
        case let .status(code):
            s += "HTTP \(code)"
            if let reason = HTTPError.reasonPhrase(code) { s += " \(reason)" }
            if let serverMessage, !serverMessage.isEmpty { s += ": \(serverMessage)" }
            if let retryAfter { s += " (retry after \(JSONValue.format(retryAfter.rounded(.up)))s)" }
        default:
            s += detail
        }
        return s
    }

    package static func reasonPhrase(_ code: Int) -> String? {
        switch code {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Payload Too Large"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return nil
        }
    }
}

/// Removes credentials from URLs and secret values from any text shown to a user.
package enum URLRedaction {
    package static let secretQueryNames: Set<String> = ["key", "api_key", "apikey", "api-key", "token", "access_token",
                                                "auth", "password", "secret", "sig", "signature"]

    package static func redact(_ url: String, secrets: [String] = []) -> String {
        var s = url
        // user:password@ in the authority.
        if let schemeEnd = s.rangeOfText("://") {
            let afterScheme = s[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? s.endIndex
            if let at = s[schemeEnd.upperBound..<authorityEnd].lastIndex(of: "@") {
                s.removeSubrange(schemeEnd.upperBound...at)
            }
        }
        // Secret-looking query values.
        if let q = s.firstIndex(of: "?") {
            let fragmentStart = s[q...].firstIndex(of: "#") ?? s.endIndex
            let query = s[s.index(after: q)..<fragmentStart]
            let parts = query.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
                guard let eq = part.firstIndex(of: "=") else { return String(part) }
                let name = part[..<eq].lowercased()
                return secretQueryNames.contains(name) ? "\(part[..<eq])=REDACTED" : String(part)
            }
            s = String(s[...q]) + parts.joined(separator: "&") + String(s[fragmentStart...])
        }
        return scrub(s, secrets: secrets)
    }

    /// Replaces each secret value in `text` (API keys echoed by a server, for one).
    package static func scrub(_ text: String, secrets: [String]) -> String {
        var out = text
        for secret in secrets where secret.count >= 4 {
            out = out.replacingAll(secret, with: "[REDACTED]")
        }
        return out
    }
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
package enum RetryAfter {
    package static func seconds(_ value: String, now: Date = Date()) -> Double? {
        let v = value.trimming(.whitespaces)
        if let s = Double(v), s >= 0, s.isFinite { return s }
        // RFC 9110 preferred format, then the two obsolete ones.
        return UTCTime.parseHTTPDate(v).map { max(0, $0.timeIntervalSince(now)) }
    }
}

/// Finds the human part of an error response body.
package enum ServerErrorText {
    /// OpenAI: {"error":{"message":…}}; Ollama: {"error":"…"}; FastAPI: {"detail":…};
    /// llama.cpp: {"error":{"code":503,"message":"Loading model",…}}; else the text itself.
    package static func extract(_ body: [UInt8], limit: Int = 300) -> String? {
        if body.isEmpty { return nil }
        if let json = try? JSONValue.parse(bytes: body), let m = message(in: json) { return clip(m, limit) }
        let text = String(decoding: body, as: UTF8.self).trimming(.whitespacesAndNewlines)
        if text.isEmpty { return nil }
        let firstLines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(3)
            .map { $0.trimming(.whitespaces) }.joined(separator: " ")
        return clip(firstLines, limit)
    }

    package static func message(in json: JSONValue) -> String? {
        if let e = json["error"] {
            if let s = e.stringValue { return s }
            if let m = e["message"]?.stringValue { return m }
            if case .object = e { return e.serialized() }
        }
        if let m = json["message"]?.stringValue { return m }
        if let d = json["detail"] {
            if let s = d.stringValue { return s }
            if let m = d[0]?["msg"]?.stringValue { return m }
            return d.serialized()
        }
        return nil
    }

    package static func clip(_ s: String, _ limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(limit)) + "…"
    }
}

/// A byte count as the limits are written: "8 MiB", "512 KiB", "1000 bytes".
package enum ByteCount {
    package static func text(_ n: Int) -> String {
        if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1 << 10 && n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
        if n >= 1 << 20 { return cFormat("%.1f MiB", Double(n) / Double(1 << 20)) }
        return "\(n) bytes"
    }
}
