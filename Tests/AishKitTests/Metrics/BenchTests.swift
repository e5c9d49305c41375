import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishMeasure

@Suite(.serialized) struct BenchTests {
    private func requester(_ server: MetricsTestServer) -> ModelRequester { BenchHarness.requester(server) }

    private func run(_ words: [String], _ requester: ModelRequester, recorder: RecordingRecorder? = nil) throws -> CommandResult {
        try BenchHarness.run(words, requester, recorder: recorder)
    }

    private func level(_ r: CommandResult, _ i: Int) -> JSONValue? {
        guard case let .array(levels)? = r.data?["levels"] else { return nil }
        return levels.indices.contains(i) ? levels[i] : nil
    }

    @Test func closedLoopAtEachConcurrency() throws {
        // 300 ms to the first token: at concurrency 4, 8 requests take two rounds (≈ 0.6 s),
        // not eight (≈ 2.4 s).
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.3", "--reply", "a b"])
        defer { server.stop() }
        let recorder = RecordingRecorder()
        let r = try run(["m", "-n", "8", "-c", "1,4"], requester(server), recorder: recorder)
        #expect(r.status == .ok)
        #expect(r.field("level_count") == .int(2))
        try ReportAgreement.check(r, ["model", "level_count", "requests", "errors", "rps", "tokens", "ttft_ms", "latency_ms", "levels"],
                                  report: ReportShape(BenchReport.self))
        #expect(r.field("requests") == .int(16))
        #expect(r.field("errors") == .int(0))
        let serial = try #require(level(r, 0)?["wall_ms"]?.doubleValue)
        let parallel = try #require(level(r, 1)?["wall_ms"]?.doubleValue)
        #expect(serial > 2300, "8 × 300 ms one at a time")
        #expect(parallel < 1500, "4 at a time: two rounds of 300 ms, took \(parallel) ms")
        let ttft = try #require(level(r, 1)?["ttft_ms"]?["p50"]?.doubleValue)
        #expect(abs(ttft - 300) < CompareTests.toleranceMs, "TTFT \(ttft) ms under load, injected 300 ms")
        let rps = try #require(level(r, 1)?["requests_per_second"]?.doubleValue)
        #expect(rps > 4, "about 13 requests/s expected at concurrency 4, got \(rps)")
        let rows = MetricsCommandTests.words(r.text)
        #expect(rows[0] == ["bench", "m:", "8", "requests", "per", "level,", "max_tokens", "64"])
        #expect(rows[1] == ["CONC", "REQS", "OK", "ERR", "REQ/S", "TOK/S", "TTFT", "p50", "p90", "p99", "ITL", "p50", "p99",
                            "LATENCY", "p50", "p90", "p99"])
        #expect(Array(rows[2].prefix(4)) == ["1", "8", "8", "0"])
        #expect(Array(rows[3].prefix(4)) == ["4", "8", "8", "0"])
        #expect(recorder.attempts.count == 16)
        #expect(recorder.attempts.allSatisfy { $0.kind == "bench" })
        #expect(recorder.runs.map(\.kind) == ["bench"])
    }

    @Test func durationBoundsALevel() throws {
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.1"])
        defer { server.stop() }
        let started = Date()
        let r = try run(["m", "--duration", "700ms", "-c", "2"], requester(server))
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed > 0.6 && elapsed < 2.0)
        let n = try #require(r.field("requests")?.intValue)
        #expect(n >= 4 && n <= 20, "two workers for 0.7 s at ~0.1 s a request, got \(n)")
        #expect(r.text.hasPrefix("bench m: 0.7s per level"))
    }

    @Test func errorsByKind() throws {
        let server = try MetricsTestServer.fakeProvider(["--fail-first", "3", "--fail-status", "503"])
        defer { server.stop() }
        let r = try run(["m", "-n", "10", "-c", "2"], requester(server))
        #expect(r.status == .ok)
        #expect(level(r, 0)?["error_kinds"] == .object([("http 503", .int(3))]))
        #expect(r.text.hasSuffix("concurrency 2: errors: http 503 ×3\n"))

        let down = try run(["m", "-n", "2"], ModelRequester.direct(
            provider: MetricsTestConfig.provider("down", .vllm, "http://127.0.0.1:\(try MetricsCommandTests.unusedPort())"),
            backendModel: "x", environment: [:]))
        #expect(down.status == .error)
        #expect(down.error?.hasPrefix("bench: every request failed (connection ×2): POST http://127.0.0.1:") == true)
    }

    @Test func usageErrors() throws {
        func message(_ words: [String]) -> String? {
            do { _ = try BenchCommand.settings(try BenchCommand.spec.parse(words: words, line: "", location: nil)); return nil }
            catch let e as UsageError { return e.message } catch { return "\(error)" }
        }
        #expect(message([]) == "bench: missing MODEL")
        #expect(message(["a", "b"]) == "bench: unexpected argument 'b'")
        #expect(message(["a", "-c", "1,x"]) == "bench: -c takes concurrencies from 1 to 1024 separated by commas, got '1,x'")
        #expect(message(["a", "-c", "0"]) == "bench: -c takes concurrencies from 1 to 1024 separated by commas, got '0'")
        #expect(message(["a", "-n", "0"]) == "bench: -n must be at least 1, got 0")
        #expect(message(["a", "--duration", "soon"]) == "bench: --duration takes a duration such as 500ms, 2s or 1m, got 'soon'")
        #expect(message(["a", "--duration", "0s"]) == "bench: --duration must be longer than 0")
    }

    @Test func loadCeilingAgainstAnInstantProvider() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        let levels = LoadCeiling.run(url: server.baseURL + "/v1/chat/completions", concurrencies: [1, 8], requestsPerLevel: 40)
        #expect(levels.map(\.concurrency) == [1, 8])
        #expect(levels.map(\.requests) == [40, 40])
        #expect(levels.map(\.errors) == [0, 0])
        #expect(levels.allSatisfy { $0.requestsPerSecond > 0 })
    }
}
