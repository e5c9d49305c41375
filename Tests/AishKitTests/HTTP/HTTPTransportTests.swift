import Foundation
import Testing
@testable import AishBase
@testable import AishBenchmarks
@testable import AishHTTP

/// Raises `flag` after `seconds` on a separate thread.
func raise(_ flag: InterruptFlag, after seconds: Double) {
    Thread.detachNewThread {
        Thread.sleep(forTimeInterval: seconds)
        flag.raise()
    }
}

func elapsed(_ body: () throws -> Void) rethrows -> Double {
    let start = MonotonicClock.now()
    try body()
    return MonotonicClock.now() - start
}

func httpError(_ body: () throws -> Void) -> HTTPError? {
    do {
        try body()
        return nil
    } catch let e as HTTPError {
        return e
    } catch {
        Issue.record("expected an HTTPError, got \(error)")
        return nil
    }
}

@Suite(.serialized) struct HTTPTransportTests {
    @Test func fetchesJSON() throws {
        let fake = try FakeProviderProcess(["--models", "a,b"])
        defer { fake.stop() }
        let r = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models"), interrupt: nil)
        #expect(r.head.status == 200)
        #expect(r.head.contentType == "application/json")
        #expect(try r.json()["data"]?[1]?["id"] == "b")
        #expect(r.timings.firstByte != nil)
    }

    @Test func streamsChunksAsTheyArrive() throws {
        let fake = try FakeProviderProcess(["--token-delay", "0.15"])
        defer { fake.stop() }
        let body: JSONValue = .object([("model", "m"), ("stream", true), ("messages", .array([]))])
        var arrivals: [Double] = []
        var received = [UInt8]()
        let start = MonotonicClock.now()
        let (head, timings) = try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body), interrupt: nil) { bytes in
            arrivals.append(MonotonicClock.now() - start)
            received += bytes
        }
        #expect(head.status == 200)
        #expect(head.contentType == "text/event-stream")
        #expect(String(decoding: received, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
        // Five tokens 0.15 s apart: the first chunk comes long before the last.
        #expect(arrivals.count >= 4)
        #expect(arrivals.last! - arrivals.first! > 0.4)
        #expect(timings.bodyBytes == received.count)
    }

    /// A server that sends faster than the reader reads: curl is paused while 256 KiB wait,
    /// so no chunk the reader gets is much bigger, and nothing is lost or reordered.
    @Test func aFastServerIsPausedWhileTheReaderCatchesUp() throws {
        let fake = try FakeProviderProcess(["--token-delay", "0", "--fault", "big-reply=8388608"])
        defer { fake.stop() }
        let body: JSONValue = .object([("model", "m"), ("stream", true), ("messages", .array([]))])
        var received = [UInt8]()
        var largest = 0
        var chunks = 0
        let (head, timings) = try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body), interrupt: nil) { bytes in
            chunks += 1
            largest = max(largest, bytes.count)
            received += bytes
            // A slow reader at first: the socket fills up, so curl has much to read at once.
            if chunks <= 5 { usleep(30_000) }
        }
        #expect(head.status == 200)
        #expect(timings.bodyBytes == received.count)
        #expect(received.count > 8_388_608)
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        // Every content chunk arrived whole and in order: the 16-byte pattern never breaks.
        var pattern = 0
        for line in text.split(separator: "\n") where line.hasPrefix("data: {") {
            if let r = line.range(of: "\"content\":\"") {
                let content = line[r.upperBound...]
                pattern += content.components(separatedBy: "0123456789abcde\\n").count - 1
            }
        }
        #expect(pattern == 8_388_608 / 16)
        #expect(largest <= HTTPTransport.pendingBodyLimit + 64 << 10, "a chunk of \(largest) bytes waited for the reader")
    }

    @Test func connectionRefused() throws {
        let port = FakeProviderProcess.unusedPort()
        let e = httpError { _ = try HTTPTransport.fetch(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/models"), interrupt: nil) }
        #expect(e?.kind == .connectFailed)
        #expect(e?.description.hasPrefix("GET http://127.0.0.1:\(port)/v1/models: connection failed: Failed to connect to 127.0.0.1 port \(port)") == true)
        #expect(e?.description.hasSuffix("Couldn't connect to server") == true)
    }

    @Test func serverErrorCarriesMethodURLStatusAndMessage() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let e = httpError {
            _ = try HTTPTransport.fetch(.postJSON(url: fake.baseURL + "/v1/chat/completions", .object([("model", "fault:500")])), interrupt: nil)
        }
        #expect(e?.kind == .status(500))
        #expect(e?.description == "POST \(fake.baseURL)/v1/chat/completions: HTTP 500 Internal Server Error: fake provider: injected 500")
    }

    @Test func llamaCppLoadingModel() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let e = httpError { _ = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/health?fault=503-loading"), interrupt: nil) }
        #expect(e?.description == "GET \(fake.baseURL)/health?fault=503-loading: HTTP 503 Service Unavailable: Loading model")
    }

    @Test func rateLimitWithRetryAfterSeconds() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let e = httpError {
            _ = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models", headers: [("X-Fake-Fault", "429:retry=2")]), interrupt: nil)
        }
        #expect(e?.kind == .status(429))
        #expect(e?.retryAfter == 2)
        #expect(e?.description == "GET \(fake.baseURL)/v1/models: HTTP 429 Too Many Requests: Rate limit exceeded (fake provider) (retry after 2s)")
    }

    @Test func rateLimitWithRetryAfterDate() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let e = httpError {
            _ = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models?fault=429:retry-date=30"), interrupt: nil)
        }
        let wait = try #require(e?.retryAfter)
        #expect(wait > 25 && wait <= 31)
    }

    @Test func credentialsNeverAppearInErrors() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let url = "http://user:hunter2@127.0.0.1:\(fake.port)/v1/models?fault=500&api_key=sk-secret-1"
        let e = httpError {
            _ = try HTTPTransport.fetch(HTTPRequest(url: url, headers: [("Authorization", "Bearer sk-secret-2")], secrets: ["sk-secret-2"]), interrupt: nil)
        }
        #expect(e?.description == "GET http://127.0.0.1:\(fake.port)/v1/models?fault=500&api_key=REDACTED: HTTP 500 Internal Server Error: fake provider: injected 500")
    }

    @Test func firstByteTimeoutBeforeHeaders() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        var e: HTTPError?
        let took = elapsed {
            e = httpError {
                _ = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models?fault=delay-headers=3",
                                                        timeouts: HTTPTimeouts(firstByte: 0.5)), interrupt: nil)
            }
        }
        #expect(e?.kind == .firstByteTimeout)
        #expect(e?.description == "GET \(fake.baseURL)/v1/models?fault=delay-headers=3: no response within 0.5s (first-byte timeout)")
        #expect(took < 2.5)
    }

    @Test func firstByteTimeoutAfterHeaders() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let body: JSONValue = .object([("model", "fault:slow-first=3"), ("stream", true)])
        let e = httpError {
            try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body, timeouts: HTTPTimeouts(firstByte: 0.5)),
                                     interrupt: nil) { _ in }
        }
        #expect(e?.kind == .firstByteTimeout)
        #expect(e?.description == "POST \(fake.baseURL)/v1/chat/completions: no data within 0.5s (first-byte timeout)")
    }

    @Test func idleTimeoutWhenTheStreamStalls() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let body: JSONValue = .object([("model", "fault:stall-after=1"), ("stream", true)])
        var got = [UInt8]()
        var e: HTTPError?
        let took = elapsed {
            e = httpError {
                try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body, timeouts: HTTPTimeouts(idle: 0.5)),
                                         interrupt: nil) { got += $0 }
            }
        }
        #expect(e?.kind == .idleTimeout)
        // Soon after the 0.5 s stall, not at the first-byte timeout (60 s), which it once waited for.
        #expect(took < 10, "took \(took) s")
        #expect(e?.bodyStarted == true)
        #expect(e?.description == "POST \(fake.baseURL)/v1/chat/completions: stalled: no data for 0.5s (idle timeout)")
        #expect(String(decoding: got, as: UTF8.self).contains("\"content\":\"Hello\""))
    }

    @Test func cancellationStopsAStalledTransferPromptly() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let flag = InterruptFlag()
        let body: JSONValue = .object([("model", "fault:stall-after=1"), ("stream", true)])
        var e: HTTPError?
        let took = elapsed {
            raise(flag, after: 0.5)
            e = httpError { try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body), interrupt: flag) { _ in } }
        }
        #expect(e?.kind == .cancelled)
        #expect(e?.description == "POST \(fake.baseURL)/v1/chat/completions: cancelled")
        #expect(took < 1.5)
    }

    @Test func manyTransfersTakeTheTimeOfTheSlowest() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let requests = (0..<3).map { _ in HTTPRequest(url: fake.baseURL + "/v1/models?fault=delay-headers=1") }
        var results: [Result<HTTPResponse, HTTPError>] = []
        let took = elapsed { results = HTTPTransport.fetchAll(requests, interrupt: nil) }
        #expect(results.allSatisfy { (try? $0.get().head.status) == 200 })
        #expect(took >= 1 && took < 2.5, "three 1 s requests took \(took) s")
    }

    @Test func streamsOnSeparateThreadsRunAtOnce() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let group = DispatchGroup()
        let statuses = Mutex3()
        let took = elapsed {
            for _ in 0..<3 {
                group.enter()
                Thread.detachNewThread {
                    let body: JSONValue = .object([("model", "fault:slow-first=1"), ("stream", true)])
                    let status = try? HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body), interrupt: nil) { _ in }.0.status
                    statuses.append(status ?? 0)
                    group.leave()
                }
            }
            group.wait()
        }
        #expect(statuses.values == [200, 200, 200])
        #expect(took < 2.5, "three 1 s streams took \(took) s")
    }

    @Test func serverClosingWithoutResponse() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let e = httpError { _ = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models?fault=close"), interrupt: nil) }
        #expect(e?.description == "GET \(fake.baseURL)/v1/models?fault=close: the server closed the connection without a response")
    }

    @Test func consecutiveRequestsOnAThreadReuseTheConnection() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let models = HTTPRequest(url: fake.baseURL + "/v1/models")
        let first = try HTTPTransport.fetch(models, interrupt: nil)
        let second = try HTTPTransport.fetch(models, interrupt: nil)
        let body: JSONValue = .object([("model", "m"), ("stream", true), ("messages", .array([]))])
        let streamed = try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body), interrupt: nil) { _ in }.1
        #expect(first.timings.newConnections == 1)
        #expect(second.timings.newConnections == 0)
        #expect(streamed.newConnections == 0)
    }

    @Test func aReusedHandleSendsEachRequestAsItIs() throws {
        // Requests of one kind reuse an easy handle's options and set only their body; a
        // request of another kind (method, headers, URL) must not inherit any of them.
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let chat = fake.baseURL + "/v1/chat/completions"
        func body(_ text: String) -> JSONValue {
            .object([("model", "m"), ("stream", true), ("messages", .array([.object([("role", "user"), ("content", .string(text))])]))])
        }
        let long = String(repeating: "long prompt ", count: 300)
        _ = try HTTPTransport.stream(.postJSON(url: chat, body("a")), interrupt: nil) { _ in }
        _ = try HTTPTransport.stream(.postJSON(url: chat, body(long)), interrupt: nil) { _ in }
        _ = try HTTPTransport.stream(.postJSON(url: chat, body("b"), headers: [("X-Test", "1"), ("user-agent", "probe/1")]),
                                     interrupt: nil) { _ in }
        _ = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models"), interrupt: nil)
        // Redirected twice the same way: the handle's second use starts from its own URL again.
        let redirected = HTTPRequest(url: fake.baseURL + "/v1/models?fault=redirect")
        #expect(try HTTPTransport.fetch(redirected, interrupt: nil).head.status == 200)
        #expect(try HTTPTransport.fetch(redirected, interrupt: nil).head.status == 200)
        _ = try HTTPTransport.fetch(HTTPRequest(method: "HEAD", url: fake.baseURL + "/health"), interrupt: nil)
        _ = try HTTPTransport.stream(.postJSON(url: chat, body("c")), interrupt: nil) { _ in }
        let seen = try fake.receivedRequests()
        #expect(seen.map { $0["method"]?.stringValue ?? "" } == ["POST", "POST", "POST", "GET", "GET", "GET", "GET", "GET", "HEAD", "POST"])
        #expect(seen.map { $0["path"]?.stringValue ?? "" } == ["/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions",
                                                            "/v1/models", "/v1/models?fault=redirect", "/v1/models",
                                                            "/v1/models?fault=redirect", "/v1/models", "/health", "/v1/chat/completions"])
        let prompts = seen.map { $0["body"]?["messages"]?[0]?["content"]?.stringValue }
        #expect(prompts == ["a", long, "b", nil, nil, nil, nil, nil, nil, "c"])
        #expect(seen.map { $0["headers"]?["X-Test"]?.stringValue } == [nil, nil, "1", nil, nil, nil, nil, nil, nil, nil])
        // aish's User-Agent, unless the request brings its own (then only that one).
        let agents = seen.map { r -> [String] in
            guard case let .object(headers)? = r["headers"] else { return [] }
            return headers.filter { $0.0.lowercased() == "user-agent" }.compactMap { $0.1.stringValue }
        }
        #expect(agents == [["aish"], ["aish"], ["probe/1"], ["aish"], ["aish"], ["aish"], ["aish"], ["aish"], ["aish"], ["aish"]])
    }

    @Test func aConnectionTheServerClosedIsNotReused() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let body: JSONValue = .object([("model", "fault:truncate=1"), ("stream", true), ("messages", .array([]))])
        let e = httpError { _ = try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body), interrupt: nil) { _ in } }
        #expect(e?.kind == .transport)
        let after = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models"), interrupt: nil)
        #expect(after.head.status == 200)
        #expect(after.timings.newConnections == 1)
    }

    @Test func socketsTheServerClosesAreWatchedAnewUnderTheirReusedNumbers() throws {
        // Each cut stream closes its connection; the next request opens a socket that
        // usually gets the closed one's descriptor number, which the loop's epoll set no
        // longer holds (a close takes it out silently). Every request must still be woken:
        // one that was not would wait out its first-byte timeout (2 s here).
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let limits = HTTPTimeouts(firstByte: 2, idle: 2)
        let cut: JSONValue = .object([("model", "fault:truncate=1"), ("stream", true), ("messages", .array([]))])
        let took = try elapsed {
            for _ in 0..<20 {
                let e = httpError {
                    _ = try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", cut, timeouts: limits),
                                                 interrupt: nil) { _ in }
                }
                #expect(e?.kind == .transport, "\(e.map { "\($0)" } ?? "no error")")
                let r = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models", timeouts: limits), interrupt: nil)
                #expect(r.head.status == 200)
                #expect(r.timings.newConnections == 1)
            }
        }
        #expect(took < 15, "took \(took) s")
    }

    @Test func aRequestStartedFromAnotherRequestsCallbackRunsOnItsOwn() throws {
        let fake = try FakeProviderProcess(["--models", "a,b"])
        defer { fake.stop() }
        let body: JSONValue = .object([("model", "m"), ("stream", true), ("messages", .array([]))])
        var inner: [String] = []
        var outer = [UInt8]()
        try HTTPTransport.stream(.postJSON(url: fake.baseURL + "/v1/chat/completions", body), interrupt: nil) { bytes in
            outer += bytes
            if inner.isEmpty {
                let r = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/v1/models"), interrupt: nil)
                inner.append(try #require(r.json()["data"]?[0]?["id"]?.stringValue))
            }
        }
        #expect(inner == ["a"])
        #expect(String(decoding: outer, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
    }

    @Test func bodyLimit() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let e = httpError { _ = try HTTPTransport.fetch(HTTPRequest(url: fake.baseURL + "/metrics"), interrupt: nil, maxBody: 100) }
        #expect(e?.kind == .bodyTooLarge)
        #expect(e?.description == "GET \(fake.baseURL)/metrics: response larger than 100 bytes (aish's limit for this answer); stopped reading")
    }
}

/// A tiny locked list for results collected on several threads.
final class Mutex3: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    func append(_ v: Int) { lock.withLock { items.append(v) } }
    var values: [Int] { lock.withLock { items } }
}

@Suite struct HTTPTypesTests {
    @Test func redactsUserInfoAndSecretQueryValues() {
        #expect(URLRedaction.redact("https://bob:pw@example.com:8443/v1/x?model=a&key=123&token=t#frag")
            == "https://example.com:8443/v1/x?model=a&key=REDACTED&token=REDACTED#frag")
        #expect(URLRedaction.redact("http://127.0.0.1:8000/v1/models") == "http://127.0.0.1:8000/v1/models")
        #expect(URLRedaction.scrub("Incorrect API key provided: sk-abcdef", secrets: ["sk-abcdef"]) == "Incorrect API key provided: [REDACTED]")
    }

    @Test func retryAfterSecondsAndDates() {
        let now = Date(timeIntervalSince1970: 1_445_412_400)  // Wed, 21 Oct 2015 07:26:40 GMT
        #expect(RetryAfter.seconds("120", now: now) == 120)
        #expect(RetryAfter.seconds("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == 80)
        #expect(RetryAfter.seconds("Wednesday, 21-Oct-15 07:28:00 GMT", now: now) == 80)
        #expect(RetryAfter.seconds("soon", now: now) == nil)
    }

    @Test func serverErrorTextFromCommonBodies() {
        #expect(ServerErrorText.extract(Array(#"{"error":{"message":"Invalid model","type":"invalid_request_error"}}"#.utf8)) == "Invalid model")
        #expect(ServerErrorText.extract(Array(#"{"error":"model 'x' not found"}"#.utf8)) == "model 'x' not found")
        #expect(ServerErrorText.extract(Array(#"{"detail":"Not authenticated"}"#.utf8)) == "Not authenticated")
        #expect(ServerErrorText.extract(Array("Bad gateway\n<html>".utf8)) == "Bad gateway <html>")
        #expect(ServerErrorText.extract([]) == nil)
    }
}

@Suite struct StreamBenchmarkTests {
    @Test func measuresFirstByteAndTotal() throws {
        let fake = try FakeProviderProcess(["--token-delay", "0.05"])
        defer { fake.stop() }
        let r = try StreamBenchmark.run(["url": fake.baseURL + "/v1/chat/completions", "samples": "3", "warmup": "1",
                                         "body": #"{"model":"m","stream":true,"messages":[]}"#])
        #expect(r["ttfb_ms"]?["runs"] == 3)
        let ttfb = try #require(r["ttfb_ms"]?["median"]?.doubleValue)
        let total = try #require(r["total_ms"]?["median"]?.doubleValue)
        // Five tokens 50 ms apart: the stream ends well after its first byte.
        #expect(total - ttfb > 150)
        #expect((r["bytes"]?.intValue ?? 0) > 500)
    }
}
