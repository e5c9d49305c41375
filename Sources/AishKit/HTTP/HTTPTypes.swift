import FoundationEssentials
import Glibc

/// How long a transfer may wait, in seconds. `firstByte` runs from the start of the
/// request to the first byte of the response body; `idle` is the longest silence between
/// body bytes after that; `total` (optional) bounds the whole transfer.
struct HTTPTimeouts: Sendable, Equatable {
    var connect: Double = 5
    var firstByte: Double = 60
    var idle: Double = 30
    var total: Double? = nil

    init(connect: Double = 5, firstByte: Double = 60, idle: Double = 30, total: Double? = nil) {
        self.connect = connect
        self.firstByte = firstByte
        self.idle = idle
        self.total = total
    }

    init(_ provider: ProviderTimeouts) {
        self.init(connect: provider.connect, firstByte: provider.firstToken, idle: provider.idle)
    }
}

/// One HTTP request. `secrets` are values (API keys) that must never appear in an error:
/// they are scrubbed from any text the transport reports.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    var headers: [(String, String)]
    var body: [UInt8]?
    var timeouts: HTTPTimeouts
    var secrets: [String]

    init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
         timeouts: HTTPTimeouts = HTTPTimeouts(), secrets: [String] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
        self.secrets = secrets
    }

    /// A JSON POST.
    static func postJSON(url: String, _ json: JSONValue, headers: [(String, String)] = [],
                         timeouts: HTTPTimeouts = HTTPTimeouts(), secrets: [String] = []) -> HTTPRequest {
        HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")] + headers,
                    body: Array(json.serialized().utf8), timeouts: timeouts, secrets: secrets)
    }

    /// The URL as it may be shown: no user:password, no secret query values.
    var displayURL: String { URLRedaction.redact(url, secrets: secrets) }
}

/// Status line and headers of a response (of the last response when redirects were followed).
struct HTTPResponseHead: Sendable {
    var status: Int
    /// Header names in lower case, in the order received.
    var headers: [(String, String)]

    func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.last(where: { $0.0 == n })?.1
    }

    var isSuccess: Bool { (200..<300).contains(status) }
    var contentType: String? { header("content-type") }
    /// Seconds to wait, from a `Retry-After` header in seconds or as an HTTP date.
    var retryAfter: Double? { header("retry-after").flatMap { RetryAfter.seconds($0) } }
}

/// When things happened during one transfer, in seconds since it started.
struct TransferTimings: Sendable {
    var headers: Double?
    var firstByte: Double?
    var total: Double
    var bodyBytes: Int
    /// Connections this transfer opened: 0 when it reused a kept-alive one.
    var newConnections: Int = 0
}

/// A response whose body was read whole (bounded by the caller's limit).
struct HTTPResponse: Sendable {
    var head: HTTPResponseHead
    var body: [UInt8]
    var timings: TransferTimings
    var bodyText: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> JSONValue { try JSONValue.parse(bytes: body) }
}

/// Why a transfer failed. The description says what failed and where: method, URL
/// without credentials, status and the server's own error text.
struct HTTPError: UserFacingError, Sendable {
    var exitCode: ExitCode { .failure }
    enum Kind: Sendable, Equatable {
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

    var kind: Kind
    var method: String
    var url: String                 // already redacted
    var status: Int?
    /// The server's error text (`error.message` of a JSON body, or the body's first line).
    var serverMessage: String?
    var retryAfter: Double?
    /// libcurl's explanation, or what the timeout was.
    var detail: String
    /// True when some of the response body had arrived before the failure.
    var bodyStarted: Bool = false

    var description: String {
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

    static func reasonPhrase(_ code: Int) -> String? {
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
enum URLRedaction {
    static let secretQueryNames: Set<String> = ["key", "api_key", "apikey", "api-key", "token", "access_token",
                                                "auth", "password", "secret", "sig", "signature"]

    static func redact(_ url: String, secrets: [String] = []) -> String {
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
    static func scrub(_ text: String, secrets: [String]) -> String {
        var out = text
        for secret in secrets where secret.count >= 4 {
            out = out.replacingAll(secret, with: "[REDACTED]")
        }
        return out
    }
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
enum RetryAfter {
    static func seconds(_ value: String, now: Date = Date()) -> Double? {
        let v = value.trimming(.whitespaces)
        if let s = Double(v), s >= 0, s.isFinite { return s }
        // RFC 9110 preferred format, then the two obsolete ones.
        return UTCTime.parseHTTPDate(v).map { max(0, $0.timeIntervalSince(now)) }
    }
}

/// Finds the human part of an error response body.
enum ServerErrorText {
    /// OpenAI: {"error":{"message":…}}; Ollama: {"error":"…"}; FastAPI: {"detail":…};
    /// llama.cpp: {"error":{"code":503,"message":"Loading model",…}}; else the text itself.
    static func extract(_ body: [UInt8], limit: Int = 300) -> String? {
        if body.isEmpty { return nil }
        if let json = try? JSONValue.parse(bytes: body), let m = message(in: json) { return clip(m, limit) }
        let text = String(decoding: body, as: UTF8.self).trimming(.whitespacesAndNewlines)
        if text.isEmpty { return nil }
        let firstLines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(3)
            .map { $0.trimming(.whitespaces) }.joined(separator: " ")
        return clip(firstLines, limit)
    }

    static func message(in json: JSONValue) -> String? {
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

    static func clip(_ s: String, _ limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(limit)) + "…"
    }
}

/// A byte count as the limits are written: "8 MiB", "512 KiB", "1000 bytes".
enum ByteCount {
    static func text(_ n: Int) -> String {
        if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1 << 10 && n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
        if n >= 1 << 20 { return cFormat("%.1f MiB", Double(n) / Double(1 << 20)) }
        return "\(n) bytes"
    }
}
