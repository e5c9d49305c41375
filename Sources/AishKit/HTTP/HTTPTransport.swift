/// The HTTP calls the rest of aish makes. Every call runs on the caller's thread, honours
/// the request's timeouts, and stops within ~50 ms of `interrupt` being raised.
///
/// For many requests at once use `fetchAll` / `streamAll` (one event loop, wall time =
/// the slowest), or call `stream` from dedicated threads (each call has its own loop).
/// Never wrap these blocking calls in a Swift TaskGroup: the cooperative pool has one
/// thread per core and the calls would serialise.
enum HTTPTransport {
    /// How much of a response body may wait for the reader before curl pauses the
    /// transfer. A server that answers at once would otherwise have curl read up to
    /// ~1.6 MiB per `perform` into memory before the decoder sees any of it.
    static let pendingBodyLimit = 256 << 10

    /// Streams one response. `onHead` sees the final response head (any status);
    /// `onBody` sees each chunk of a 2xx body as it arrives. Throws `HTTPError`, or what
    /// `onHead` / `onBody` threw (the transfer is stopped at once).
    @discardableResult
    static func stream(_ request: HTTPRequest, interrupt: InterruptFlag?,
                       onHead: (HTTPResponseHead) throws -> Void = { _ in },
                       onBody: ([UInt8]) throws -> Void) throws -> (HTTPResponseHead, TransferTimings) {
        var readerError: Error?
        let results = TransferLoop.run([request], interrupt: interrupt) { _, event in
            do {
                switch event {
                case let .head(head): try onHead(head)
                case let .body(bytes): try onBody(bytes)
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
    static func streamAll(_ requests: [HTTPRequest], interrupt: InterruptFlag?,
                          handler: (Int, TransferEvent) -> Bool) -> [(Result<HTTPResponseHead, HTTPError>, TransferTimings)] {
        TransferLoop.run(requests, interrupt: interrupt, onEvent: handler)
    }

    /// One request, body read whole (at most `maxBody` bytes).
    static func fetch(_ request: HTTPRequest, interrupt: InterruptFlag?, maxBody: Int = 16 << 20) throws -> HTTPResponse {
        try fetchAll([request], interrupt: interrupt, maxBody: maxBody)[0].get()
    }

    /// Many requests at once; wall time is the slowest one. Results are in request order.
    static func fetchAll(_ requests: [HTTPRequest], interrupt: InterruptFlag?,
                         maxBody: Int = 16 << 20) -> [Result<HTTPResponse, HTTPError>] {
        var bodies = [[UInt8]](repeating: [], count: requests.count)
        var tooLarge = Set<Int>()
        let results = TransferLoop.run(requests, interrupt: interrupt) { i, event in
            guard case let .body(bytes) = event else { return true }
            if bodies[i].count + bytes.count > maxBody { tooLarge.insert(i); return false }
            bodies[i].append(contentsOf: bytes)
            return true
        }
        return results.enumerated().map { i, pair in
            let (result, timings) = pair
            if tooLarge.contains(i) {
                let r = requests[i]
                return .failure(HTTPError(kind: .bodyTooLarge, method: r.method.uppercased(), url: r.displayURL,
                                          status: nil, serverMessage: nil, retryAfter: nil,
                                          detail: "response larger than \(maxBody) bytes"))
            }
            return result.map { HTTPResponse(head: $0, body: bodies[i], timings: timings) }
        }
    }

    /// For the benchmark: streams one response, discarding the body, and reports time to
    /// first byte and total.
    static func measureStream(_ request: HTTPRequest, interrupt: InterruptFlag?) throws -> TransferTimings {
        try stream(request, interrupt: interrupt) { _ in }.1
    }
}
