import FoundationEssentials
import Glibc
import AishBase
import AishHTTP

/// A client of a Prometheus server's HTTP API (`/-/healthy`, `/api/v1/query`,
/// `/api/v1/query_range`, `/api/v1/targets`, `/api/v1/alerts`) over aish's libcurl
/// transport. Every call is blocking, honours `interrupt`, and throws `PrometheusError`.
package struct PrometheusAPI: Sendable {
    /// The server root, e.g. `http://127.0.0.1:9090`; a path prefix (a reverse proxy's
    /// `/prometheus`) is kept.
    package var baseURL: String
    /// How long Prometheus may evaluate one query (sent as its `timeout` parameter); the
    /// transport waits a little longer so that Prometheus's own timeout answer arrives.
    package var queryTimeout: Double
    package var connectTimeout: Double
    /// A bearer token for a Prometheus behind an authenticating proxy (read from the
    /// environment by the caller; never shown).
    package var bearerToken: String?
    /// How much longer than `queryTimeout` the transport waits for an answer.
    package var transportGrace: Double = 5

    package init(baseURL: String, queryTimeout: Double = 10, connectTimeout: Double = 3, bearerToken: String? = nil) {
        var root = baseURL
        while root.hasSuffix("/") { root.removeLast() }
        self.baseURL = root
        self.queryTimeout = queryTimeout
        self.connectTimeout = connectTimeout
        self.bearerToken = bearerToken
    }

    // MARK: endpoints

    /// `/-/healthy`: returns the server's own words ("Prometheus Server is Healthy.").
    @discardableResult
    package func healthy(interrupt: InterruptFlag?) throws -> String {
        let response = try send(get("/-/healthy"), query: nil, interrupt: interrupt)
        return response.bodyText.trimming(.whitespacesAndNewlines)
    }

    /// An instant query at `time` (the server's now when nil).
    package func query(_ promql: String, at time: Date? = nil, interrupt: InterruptFlag?) throws -> PrometheusQueryAnswer {
        var form = [("query", promql), ("timeout", PrometheusAPI.durationText(queryTimeout))]
        if let time { form.append(("time", PrometheusAPI.timestampText(time))) }
        let response = try send(post("/api/v1/query", form: form), query: promql, interrupt: interrupt)
        return try PrometheusAPI.decodeQuery(response.body, query: promql, url: baseURL + "/api/v1/query")
    }

    /// A range query from `start` to `end`, one point every `step` seconds.
    package func queryRange(_ promql: String, start: Date, end: Date, step: Double,
                    interrupt: InterruptFlag?) throws -> PrometheusQueryAnswer {
        let form = [("query", promql), ("start", PrometheusAPI.timestampText(start)),
                    ("end", PrometheusAPI.timestampText(end)), ("step", PrometheusAPI.durationText(step)),
                    ("timeout", PrometheusAPI.durationText(queryTimeout))]
        let response = try send(post("/api/v1/query_range", form: form), query: promql, interrupt: interrupt)
        return try PrometheusAPI.decodeQuery(response.body, query: promql, url: baseURL + "/api/v1/query_range")
    }

    /// One query of a batch: instant (`range` nil) or over a range.
    package struct Query: Sendable {
        package var promql: String
        package var range: (start: Date, end: Date, step: Double)?
        /// Evaluation time of an instant query (the server's now when nil).
        package var time: Date?

        package static func instant(_ promql: String, at time: Date? = nil) -> Query { Query(promql: promql, range: nil, time: time) }
        package static func range(_ promql: String, start: Date, end: Date, step: Double) -> Query {
            Query(promql: promql, range: (start, end, step), time: nil)
        }
    }

    /// Many queries at once (one transfer loop: wall time is the slowest query). Each has
    /// its own result, in order: one failing query does not hide the others' answers.
    package func queryAll(_ queries: [Query], interrupt: InterruptFlag?) -> [Result<PrometheusQueryAnswer, PrometheusError>] {
        let requests = queries.map { q -> HTTPRequest in
            var form = [("query", q.promql)]
            if let r = q.range {
                form += [("start", PrometheusAPI.timestampText(r.start)), ("end", PrometheusAPI.timestampText(r.end)),
                         ("step", PrometheusAPI.durationText(r.step))]
            } else if let t = q.time {
                form.append(("time", PrometheusAPI.timestampText(t)))
            }
            form.append(("timeout", PrometheusAPI.durationText(queryTimeout)))
            return post(q.range == nil ? "/api/v1/query" : "/api/v1/query_range", form: form)
        }
        // Each body is let go once decoded: the batch never holds every body and every
        // decoded answer at once.
        var responses: [Result<HTTPResponse, HTTPError>?] = HTTPTransport.fetchAll(
            requests, interrupt: interrupt, maxBody: HTTPTransport.BodyCap.prometheusAnswer,
            maxTotal: HTTPTransport.BodyCap.prometheusBatch).map { $0 }
        return zip(queries, requests).enumerated().map { i, pair in
            let (q, request) = pair
            let response = responses[i]!
            responses[i] = nil
            switch response {
            case let .success(r):
                return Result { try PrometheusAPI.decodeQuery(r.body, query: q.promql, url: request.url) }
                    .mapError { $0 as? PrometheusError ?? PrometheusError(.badAnswer, server: baseURL, query: q.promql, detail: "\($0)") }
            case let .failure(e):
                return .failure(PrometheusError(transport: e, server: baseURL, query: q.promql))
            }
        }
    }

    /// The active scrape targets, with their health and last scrape error.
    package func targets(interrupt: InterruptFlag?) throws -> [PrometheusTarget] {
        let response = try send(get("/api/v1/targets?state=active"), query: nil, interrupt: interrupt)
        return try PrometheusAPI.decodeTargets(response.body, url: baseURL + "/api/v1/targets")
    }

    /// Alerts that are pending or firing.
    package func alerts(interrupt: InterruptFlag?) throws -> [PrometheusAlert] {
        let response = try send(get("/api/v1/alerts"), query: nil, interrupt: interrupt)
        return try PrometheusAPI.decodeAlerts(response.body, url: baseURL + "/api/v1/alerts")
    }

    // MARK: requests

    private var timeouts: HTTPTimeouts {
        // Prometheus answers a query that ran out of time itself (503, errorType timeout);
        // the transport's limit only catches a server that stopped answering altogether.
        let wait = queryTimeout + transportGrace
        return HTTPTimeouts(connect: connectTimeout, firstByte: wait, idle: wait, total: wait * 2)
    }

    private var authHeaders: [(String, String)] {
        bearerToken.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    private var secrets: [String] { bearerToken.map { [$0] } ?? [] }

    private func get(_ path: String) -> HTTPRequest {
        HTTPRequest(url: baseURL + path, headers: authHeaders, timeouts: timeouts, secrets: secrets)
    }

    /// Queries go as a form POST (the API accepts both): long PromQL stays out of URL limits.
    private func post(_ path: String, form: [(String, String)]) -> HTTPRequest {
        HTTPRequest(method: "POST", url: baseURL + path,
                    headers: [("Content-Type", "application/x-www-form-urlencoded")] + authHeaders,
                    body: Array(PrometheusAPI.formEncoded(form).utf8), timeouts: timeouts, secrets: secrets)
    }

    private func send(_ request: HTTPRequest, query: String?, interrupt: InterruptFlag?) throws -> HTTPResponse {
        do {
            return try HTTPTransport.fetch(request, interrupt: interrupt, maxBody: HTTPTransport.BodyCap.prometheusAnswer)
        } catch let e as HTTPError {
            throw PrometheusError(transport: e, server: baseURL, query: query)
        }
    }

    // MARK: encoding

    /// `application/x-www-form-urlencoded`: everything but the unreserved characters escaped.
    package static func formEncoded(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
    }

    package static func percentEncoded(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += cFormat("%%%02X", byte)
            }
        }
        return out
    }

    /// Unix seconds with millisecond precision, as the API takes them.
    package static func timestampText(_ date: Date) -> String {
        cFormat("%.3f", date.timeIntervalSince1970)
    }

    /// A duration as a float number of seconds (the API accepts both that and `5m`).
    package static func durationText(_ seconds: Double) -> String { JSONValue.format(seconds) }

    // MARK: decoding

    /// Decodes a query or query_range answer, straight from its bytes (PrometheusAnswerDecoder).
    package static func decodeQuery(_ body: [UInt8], query: String?, url: String) throws -> PrometheusQueryAnswer {
        do {
            return try PrometheusAnswerDecoder.decode(body)
        } catch {
            switch error {
            case let .syntax(e): throw notJSON(body, e, query: query, url: url)
            case .notPrometheus: throw notPrometheus(query: query, url: url)
            case let .prometheusError(type, message): throw prometheusError(type: type, message: message, query: query, url: url)
            case let .shape(what): throw PrometheusError(.badAnswer, server: url, query: query, detail: what)
            }
        }
    }

    /// The same through the generic JSON tree: the reference the direct decoder is checked
    /// against (tests, the `prometheus-api` fuzz target).
    package static func decodeQueryTree(_ body: [UInt8], query: String?, url: String) throws -> PrometheusQueryAnswer {
        let (data, warnings) = try envelope(body, query: query, url: url)
        guard let type = data["resultType"]?.stringValue else {
            throw PrometheusError(.badAnswer, server: url, query: query, detail: "no data.resultType in the answer")
        }
        guard let result = data["result"] else {
            throw PrometheusError(.badAnswer, server: url, query: query, detail: "no data.result in the answer")
        }
        let r = try self.result(ofType: type, result) { PrometheusError(.badAnswer, server: url, query: query, detail: $0) }
        return PrometheusQueryAnswer(result: r, warnings: warnings)
    }

    /// `data.result` of an answer, read by its `resultType`; `bad` makes the error for what is wrong.
    package static func result<E: Error>(ofType type: String, _ result: JSONValue, bad: (String) -> E) throws -> PrometheusResult {
        switch type {
        case "vector":
            guard case let .array(items) = result else { throw bad("data.result of a vector is not an array") }
            let samples = try items.enumerated().map { i, item -> PrometheusSample in
                let labels = try labelsOf(item["metric"], at: "data.result[\(i)].metric", bad: bad)
                if item["histogram"] != nil { throw bad(nativeHistogramMessage) }
                guard let value = item["value"] else { throw bad("data.result[\(i)] has no value") }
                return PrometheusSample(labels: labels, point: try point(value, at: "data.result[\(i)].value", bad: bad))
            }
            return .vector(samples)
        case "matrix":
            guard case let .array(items) = result else { throw bad("data.result of a matrix is not an array") }
            let series = try items.enumerated().map { i, item -> PrometheusSeries in
                let labels = try labelsOf(item["metric"], at: "data.result[\(i)].metric", bad: bad)
                if item["histograms"] != nil && item["values"] == nil { throw bad(nativeHistogramMessage) }
                guard case let .array(values)? = item["values"] else { throw bad("data.result[\(i)] has no values") }
                let points = try values.enumerated().map { j, v in
                    try point(v, at: "data.result[\(i)].values[\(j)]", bad: bad)
                }
                return PrometheusSeries(labels: labels, points: points)
            }
            return .matrix(series)
        case "scalar":
            return .scalar(try point(result, at: "data.result", bad: bad))
        case "string":
            guard case let .array(pair) = result, pair.count == 2, let t = pair[0].doubleValue,
                  let s = pair[1].stringValue else { throw bad("data.result of a string is not [time, \"text\"]") }
            return .string(s, at: t)
        default:
            throw bad("unknown resultType '\(type)'")
        }
    }

    package static func decodeTargets(_ body: [UInt8], url: String) throws -> [PrometheusTarget] {
        let data = try envelope(body, query: nil, url: url).data
        guard case let .array(items)? = data["activeTargets"] else {
            throw PrometheusError(.badAnswer, server: url, query: nil, detail: "no data.activeTargets in the answer")
        }
        let bad = { (what: String) in PrometheusError(.badAnswer, server: url, query: nil, detail: what) }
        return try items.enumerated().map { i, item in
            let labels = try labelsOf(item["labels"], at: "data.activeTargets[\(i)].labels", bad: bad)
            let health = PrometheusTarget.Health(rawValue: item["health"]?.stringValue ?? "unknown") ?? .unknown
            let lastError = item["lastError"]?.stringValue ?? ""
            return PrometheusTarget(labels: labels, scrapePool: item["scrapePool"]?.stringValue ?? labels[label: "job"] ?? "",
                                    scrapeURL: item["scrapeUrl"]?.stringValue ?? "", health: health,
                                    lastError: lastError.isEmpty ? nil : lastError,
                                    lastScrape: item["lastScrape"]?.stringValue.flatMap(parseTime),
                                    lastScrapeDuration: item["lastScrapeDuration"]?.doubleValue,
                                    scrapeInterval: item["scrapeInterval"]?.stringValue)
        }
    }

    package static func decodeAlerts(_ body: [UInt8], url: String) throws -> [PrometheusAlert] {
        let data = try envelope(body, query: nil, url: url).data
        guard case let .array(items)? = data["alerts"] else {
            throw PrometheusError(.badAnswer, server: url, query: nil, detail: "no data.alerts in the answer")
        }
        let bad = { (what: String) in PrometheusError(.badAnswer, server: url, query: nil, detail: what) }
        return try items.enumerated().map { i, item in
            let labels = try labelsOf(item["labels"], at: "data.alerts[\(i)].labels", bad: bad)
            let annotations = try labelsOf(item["annotations"] ?? .object([]), at: "data.alerts[\(i)].annotations", bad: bad)
            let state = PrometheusAlert.State(rawValue: item["state"]?.stringValue ?? "") ?? .unknown
            return PrometheusAlert(labels: labels, annotations: annotations, state: state,
                                   activeAt: item["activeAt"]?.stringValue.flatMap(parseTime),
                                   value: item["value"]?.stringValue.flatMap(sampleValue))
        }
    }

    package static let nativeHistogramMessage =
        "the answer holds native histogram samples, which aish does not read; query classic _bucket series"

    /// Checks the `{"status": …, "data": …}` envelope and returns `data` and the warnings.
    private static func envelope(_ body: [UInt8], query: String?,
                                 url: String) throws -> (data: JSONValue, warnings: [String]) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: body)
        } catch {
            throw notJSON(body, error, query: query, url: url)
        }
        switch json["status"]?.stringValue {
        case "success":
            guard let data = json["data"] else {
                throw PrometheusError(.badAnswer, server: url, query: query, detail: "no data in a success answer")
            }
            var warnings: [String] = []
            if case let .array(items)? = json["warnings"] { warnings = items.compactMap(\.stringValue) }
            return (data, warnings)
        case "error":
            throw prometheusError(type: json["errorType"]?.stringValue ?? "unknown", message: json["error"]?.stringValue ?? "(no message)",
                                  query: query, url: url)
        default:
            throw notPrometheus(query: query, url: url)
        }
    }

    private static func notJSON(_ body: [UInt8], _ error: any Error, query: String?, url: String) -> PrometheusError {
        let start = String(decoding: body.prefix(80), as: UTF8.self)
            .replacingAll("\n", with: " ").trimming(.whitespaces)
        return PrometheusError(.badAnswer, server: url, query: query,
                               detail: body.isEmpty ? "empty answer" : "answer is not JSON (\(error)): '\(start)'")
    }

    private static func notPrometheus(query: String?, url: String) -> PrometheusError {
        PrometheusError(.badAnswer, server: url, query: query,
                        detail: "answer has no status 'success' or 'error' (not a Prometheus API?)")
    }

    private static func prometheusError(type: String, message: String, query: String?, url: String) -> PrometheusError {
        PrometheusError(kind: PrometheusError.kind(errorType: type, message: message),
                        server: url, query: query, detail: message, errorType: type)
    }

    private static func labelsOf<E: Error>(_ value: JSONValue?, at path: String,
                                           bad: (String) -> E) throws -> [MetricLabel] {
        guard let value else { return [] }
        guard case let .object(pairs) = value else { throw bad("\(path) is not an object") }
        return try pairs.map { name, v in
            guard let s = v.stringValue else { throw bad("\(path).\(name) is not a string") }
            return MetricLabel(name: name, value: s)
        }
    }

    /// `[1435781451.781, "1"]`: the time as a number, the value as a string (NaN, ±Inf).
    private static func point<E: Error>(_ value: JSONValue, at path: String,
                                        bad: (String) -> E) throws -> PrometheusPoint {
        guard case let .array(pair) = value, pair.count == 2, let t = pair[0].doubleValue else {
            throw bad("\(path) is not [time, \"value\"]")
        }
        guard let text = pair[1].stringValue, let v = sampleValue(text) else {
            throw bad("\(path) has the value \(pair[1].serialized()), not a number in a string")
        }
        return PrometheusPoint(time: t, value: v)
    }

    /// Prometheus's float text: Go's strconv formatting, with `NaN`, `+Inf`, `-Inf`.
    package static func sampleValue(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default: return Double(text)
        }
    }

    /// RFC 3339 with up to nanoseconds (`2026-11-29T16:31:57.253467125Z`).
    package static func parseTime(_ text: String) -> Date? {
        // Foundation's ISO 8601 parser takes at most millisecond fractions: split them off.
        var main = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let rest = text[text.index(after: dot)...]
            let digits = rest.prefix(while: \.isNumber)
            fraction = Double("0." + digits) ?? 0
            main = String(text[..<dot]) + String(rest.dropFirst(digits.count))
        }
        if text.hasPrefix("0001-01-01") { return nil }   // Go's zero time: never happened
        return UTCTime.parseISO8601(main).map { $0.addingTimeInterval(fraction) }
    }
}

/// One value at one time (Unix seconds).
package struct PrometheusPoint: Sendable, Equatable {
    package var time: Double
    package var value: Double

    package static func == (a: PrometheusPoint, b: PrometheusPoint) -> Bool {
        a.time == b.time && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }
}

/// One series of an instant vector.
package struct PrometheusSample: Sendable, Equatable {
    package var labels: [MetricLabel]
    package var point: PrometheusPoint
}

/// One series of a range matrix.
package struct PrometheusSeries: Sendable, Equatable {
    package var labels: [MetricLabel]
    package var points: [PrometheusPoint]
}

package enum PrometheusResult: Sendable, Equatable {
    case vector([PrometheusSample])
    case matrix([PrometheusSeries])
    case scalar(PrometheusPoint)
    case string(String, at: Double)

    package var typeName: String {
        switch self {
        case .vector: return "vector"
        case .matrix: return "matrix"
        case .scalar: return "scalar"
        case .string: return "string"
        }
    }

    /// No series at all: the metric is absent (not scraped yet, or renamed).
    package var isEmpty: Bool {
        switch self {
        case let .vector(s): return s.isEmpty
        case let .matrix(s): return s.isEmpty
        case .scalar, .string: return false
        }
    }
}

package struct PrometheusQueryAnswer: Sendable, Equatable {
    package var result: PrometheusResult
    /// Problems Prometheus reported that did not stop the query.
    package var warnings: [String]

    /// The samples of a vector answer (a scalar becomes one unlabelled sample).
    package func vector() throws -> [PrometheusSample] {
        switch result {
        case let .vector(s): return s
        case let .scalar(p): return [PrometheusSample(labels: [], point: p)]
        default: throw PrometheusError(.badAnswer, server: "", query: nil,
                                       detail: "expected a vector, got a \(result.typeName)")
        }
    }

    /// The series of a matrix answer.
    package func matrix() throws -> [PrometheusSeries] {
        if case let .matrix(s) = result { return s }
        throw PrometheusError(.badAnswer, server: "", query: nil, detail: "expected a matrix, got a \(result.typeName)")
    }
}

/// One scrape target as Prometheus sees it.
package struct PrometheusTarget: Sendable, Equatable {
    package enum Health: String, Sendable { case up, down, unknown }

    package var labels: [MetricLabel]
    package var scrapePool: String
    package var scrapeURL: String
    package var health: Health
    package var lastError: String?
    package var lastScrape: Date?
    /// Seconds the last scrape took.
    package var lastScrapeDuration: Double?
    package var scrapeInterval: String?

    package var job: String { labels[label: "job"] ?? scrapePool }
    package var instance: String { labels[label: "instance"] ?? scrapeURL }
}

/// One alert from Prometheus's rules.
package struct PrometheusAlert: Sendable, Equatable {
    package enum State: String, Sendable { case firing, pending, inactive, unknown }

    package var labels: [MetricLabel]
    package var annotations: [MetricLabel]
    package var state: State
    package var activeAt: Date?
    package var value: Double?

    package var name: String { labels[label: "alertname"] ?? "(unnamed)" }
    package var summary: String? { annotations[label: "summary"] ?? annotations[label: "description"] }

    package static func == (a: PrometheusAlert, b: PrometheusAlert) -> Bool {
        a.labels == b.labels && a.annotations == b.annotations && a.state == b.state && a.activeAt == b.activeAt
            && (a.value == b.value || (a.value?.isNaN == true && b.value?.isNaN == true))
    }
}

/// Why a call to Prometheus failed: one clear line naming the server, what went wrong and,
/// for a query, the PromQL (shown by callers under `--verbose`).
package struct PrometheusError: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable, Equatable {
        /// Nothing answers at the address (refused, unreachable, no connection in time).
        case down
        /// The query ran out of time, on the server or waiting for it.
        case timeout
        /// The API rejected the request (bad PromQL: errorType bad_data, HTTP 400).
        case badQuery
        /// The query could not be executed (errorType execution, HTTP 422).
        case execution
        /// Any other error status (a proxy's 401/404, errorType internal/unavailable…).
        case status(Int)
        /// The answer is not what the API returns (not JSON, wrong shape).
        case badAnswer
        case cancelled
    }

    package var kind: Kind
    /// The server root, or the endpoint URL for decoding errors.
    package var server: String
    package var query: String?
    package var detail: String
    /// Prometheus's own errorType, when it sent one.
    package var errorType: String?

    package init(_ kind: Kind, server: String, query: String?, detail: String) {
        self.init(kind: kind, server: server, query: query, detail: detail, errorType: nil)
    }

    package init(kind: Kind, server: String, query: String?, detail: String, errorType: String?) {
        self.kind = kind
        self.server = server
        self.query = query
        self.detail = detail
        self.errorType = errorType
    }

    /// From a transport failure. The error body's `error` text arrives as `serverMessage`;
    /// the status says which errorType it was (400 bad_data, 422 execution, 503 timeout).
    package init(transport e: HTTPError, server: String, query: String?) {
        self.server = server
        self.query = query
        self.errorType = nil
        switch e.kind {
        case .connectFailed, .connectTimeout, .tls:
            kind = .down
            detail = e.detail
        case .firstByteTimeout, .idleTimeout, .totalTimeout:
            kind = .timeout
            detail = e.detail
        case .cancelled:
            kind = .cancelled
            detail = "interrupted"
        case .transport, .bodyTooLarge:
            kind = .badAnswer
            detail = e.detail
        case let .status(code):
            let message = e.serverMessage ?? HTTPError.reasonPhrase(code) ?? "HTTP \(code)"
            detail = message
            switch code {
            case 400: kind = .badQuery; errorType = "bad_data"
            case 422: kind = .execution; errorType = "execution"
            case 503 where message.contains("timed out") || message.contains("timeout"):
                kind = .timeout; errorType = "timeout"
            default: kind = .status(code)
            }
        }
    }

    package static func kind(errorType: String, message: String) -> Kind {
        switch errorType {
        case "bad_data": return .badQuery
        case "execution": return .execution
        case "timeout": return .timeout
        case "canceled": return .cancelled
        case "unavailable": return .status(503)
        default: return message.contains("timed out") ? .timeout : .status(500)
        }
    }

    package var description: String {
        switch kind {
        case .down: return "Prometheus at \(server) is down: \(detail)"
        case .timeout: return "Prometheus at \(server): query timed out: \(detail)"
        case .badQuery: return "Prometheus at \(server) rejected the query: \(detail)"
        case .execution: return "Prometheus at \(server) could not execute the query: \(detail)"
        case let .status(code):
            let type = errorType.map { " (\($0))" } ?? ""
            return "Prometheus at \(server): HTTP \(code)\(type): \(detail)"
        case .badAnswer: return "Prometheus at \(server): unexpected answer: \(detail)"
        case .cancelled: return "Prometheus at \(server): interrupted"
        }
    }

    /// The description plus the PromQL sent, for `--verbose`.
    package var verboseDescription: String {
        guard let query else { return description }
        return description + "\n  PromQL: \(query)"
    }
}
