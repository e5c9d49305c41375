import AishBase
import AishShell
import AishHTTP

/// The transport's figure for the benchmark (`aish-bench stream --url URL [--body JSON]
/// [--samples N] [--warmup W]`): time to first byte and total of a streamed request through
/// aish's transport, to set beside `curl -w '%{time_starttransfer} %{time_total}'` on the
/// same URL. Each request runs alone, one after the other, on a fresh transfer (as chat does).
package enum StreamBenchmark {
    package static func run(_ options: [String: String]) throws -> JSONValue {
        guard let url = options["url"] else { throw UsageError(message: "stream needs --url URL") }
        let samples = max(1, Int(options["samples"] ?? "") ?? 20)
        let warmup = max(0, Int(options["warmup"] ?? "") ?? 2)
        let request: HTTPRequest
        if let body = options["body"] {
            request = HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
        } else {
            request = HTTPRequest(url: url)
        }
        var ttfb: [Double] = []
        var total: [Double] = []
        var bytes = 0
        for i in 0..<(warmup + samples) {
            let t = try HTTPTransport.measureStream(request, interrupt: nil)
            if i < warmup { continue }
            ttfb.append((t.firstByte ?? t.total) * 1000)
            total.append(t.total * 1000)
            bytes = t.bodyBytes
        }
        return .object([("ttfb_ms", summary(ttfb)), ("total_ms", summary(total)), ("bytes", .int(bytes))])
    }

    /// median, min, max, runs — the shape scripts/bench uses.
    package static func summary(_ values: [Double]) -> JSONValue { InProcessBenchmarks.stats(values) }
}
