import AishBase

/// The HTTP calls the rest of aish makes. Every call runs on the caller's thread, honours
/// the request's timeouts, and stops within ~50 ms of `interrupt` being raised.
///
/// For many requests at once use `fetchAll` / `streamAll` (one event loop, wall time =
/// the slowest), or call `stream` from dedicated threads (each call has its own loop).
/// Never wrap these blocking calls in a Swift TaskGroup: the cooperative pool has one
/// thread per core and the calls would serialise.
package enum HTTPTransport {
    /// The most of a body aish reads whole, per kind of answer (README, "What aish
    /// guarantees"). Streamed chat replies are not read whole: they keep `max_reply_bytes`.
    package enum BodyCap {
        /// A health or listing answer: a provider's `/v1/models`, `/api/tags`, `/api/ps`,
        /// `/api/version`, LiteLLM's `/health`, and anything without a cap of its own.
        package static let standard = 8 << 20
        /// One `/metrics` page (Prometheus text), and all pages of one scrape together.
        package static let metricsPage = 8 << 20
        package static let metricsScrape = 32 << 20
        /// One Prometheus API answer (query, query_range, targets, alerts), and all answers of
        /// one batch of queries together (`metrics --prom`, `report`).
        package static let prometheusAnswer = 8 << 20
        package static let prometheusBatch = 16 << 20
        /// Grafana's `/api/health`.
        package static let grafana = 1 << 20
        /// A chat reply sent as one JSON object instead of a stream: what `max_reply_bytes`
        /// keeps, four times over for JSON's escapes (`\u00e9` is 6 bytes for 2), plus 1 MiB for
        /// the rest of the object.
        package static func wholeReply(keeping keep: Int) -> Int { keep.multipliedReportingOverflow(by: 4).overflow ? Int.max : keep * 4 + (1 << 20) }
    }

    /// How much of a response body may wait for the reader before curl pauses the
    /// transfer. A server that answers at once would otherwise have curl read up to
    /// ~1.6 MiB per `perform` into memory before the decoder sees any of it.
    package static let pendingBodyLimit = 256 << 10

    /// Streams one response. `onHead` sees the final response head (any status);
    /// `onBody` sees each chunk of a 2xx body as it arrives. Throws `HTTPError`, or what
    /// `onHead` / `onBody` threw (the transfer is stopped at once).
    @discardableResult
    package static func stream(_ request: HTTPRequest, interrupt: InterruptFlag?,
                       onHead: (HTTPResponseHead) throws -> Void = { _ in },
                       onBody: ([UInt8]) throws -> Void) throws -> (HTTPResponseHead, TransferTimings) {
        var readerError: Error?
        let results = TransferLoop.run([request], interrupt: interrupt) { _, event in
            do {
                switch event {
                case let .head(head): try onHead(head)
                case let .body(bytes, _): try onBody(bytes)
                }
                return true
            } catch {
                readerError = error
                return false
            }
        }
        if let readerError { throw readerError }
        let (result, timings) = results[0]
        return (try result.get(), timings)
    }

    /// Several streams at once in one loop. `handler(index, event)` returns false to stop
    /// that stream. Results are in request order.
    package static func streamAll(_ requests: [HTTPRequest], interrupt: InterruptFlag?,
                          handler: (Int, TransferEvent) -> Bool) -> [(Result<HTTPResponseHead, HTTPError>, TransferTimings)] {
        TransferLoop.run(requests, interrupt: interrupt, onEvent: handler)
    }

    /// One request, body read whole: at most `maxBody` bytes (see `BodyCap`), else the
    /// transfer stops there and fails naming the cap.
    package static func fetch(_ request: HTTPRequest, interrupt: InterruptFlag?, maxBody: Int = BodyCap.standard) throws -> HTTPResponse {
        try fetchAll([request], interrupt: interrupt, maxBody: maxBody)[0].get()
    }

    /// Many requests at once; wall time is the slowest one. Results are in request order.
    /// Each body is at most `maxBody` bytes and all of them together at most `maxTotal`
    /// (what the batch may hold in memory at once); a transfer that would pass either
    /// stops there and fails naming the cap.
    package static func fetchAll(_ requests: [HTTPRequest], interrupt: InterruptFlag?,
                         maxBody: Int = BodyCap.standard, maxTotal: Int? = nil) -> [Result<HTTPResponse, HTTPError>] {
        var bodies = [[UInt8]](repeating: [], count: requests.count)
        var tooLarge: [Int: String] = [:]
        var total = 0
        let results = TransferLoop.run(requests, interrupt: interrupt) { i, event in
            guard case let .body(bytes, _) = event else { return true }
            if bodies[i].count + bytes.count > maxBody {
                tooLarge[i] = "response larger than \(ByteCount.text(maxBody)) (aish's limit for this answer); stopped reading"
                total -= bodies[i].count
                bodies[i] = []
                return false
            }
            if let maxTotal, total + bytes.count > maxTotal {
                tooLarge[i] = "responses together larger than \(ByteCount.text(maxTotal)) (aish's limit for these \(requests.count) answers); stopped reading"
                total -= bodies[i].count
                bodies[i] = []
                return false
            }
            total += bytes.count
            bodies[i].append(contentsOf: bytes)
            return true
        }
        return results.enumerated().map { i, pair in
            let (result, timings) = pair
            if let detail = tooLarge[i] {
                let r = requests[i]
                return .failure(HTTPError(kind: .bodyTooLarge, method: r.method.uppercased(), url: r.displayURL,
                                          status: nil, serverMessage: nil, retryAfter: nil, detail: detail))
            }
            return result.map { HTTPResponse(head: $0, body: bodies[i], timings: timings) }
        }
    }

    /// For the benchmark: streams one response, discarding the body, and reports time to
    /// first byte and total.
    package static func measureStream(_ request: HTTPRequest, interrupt: InterruptFlag?) throws -> TransferTimings {
        try stream(request, interrupt: interrupt) { _ in }.1
    }
}
