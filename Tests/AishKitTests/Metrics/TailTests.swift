import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishMeasure
@testable import AishSessionLog
@testable import AishTelemetry

@Suite(.serialized) struct TailMetricsTests {
    private func context(json: Bool = false) -> ShellContext {
        var options = GlobalOptions()
        options.json = json
        return ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
    }

    private func run(_ words: [String], _ ctx: ShellContext, config: AishConfig) throws -> CommandResult {
        try TailCommand.run(try TailCommand.spec.parse(words: words, line: "tail", location: nil), ctx, config: config)
    }

    @Test func plainLinesWithRatesInAScript() throws {
        let server = try MetricsTestServer.fakeProvider(["--flavor", "llamacpp", "--reply", "one two three four"])
        defer { server.stop() }
        let config = MetricsTestConfig.config([MetricsTestConfig.provider("native", .llamaCpp, server.baseURL)])
        // Requests land between the scrapes, so the token counter moves.
        let requester = ModelRequester.direct(provider: config.providers.providers[0], backendModel: "m", environment: [:])
        let traffic = Thread {
            for _ in 0..<6 {
                _ = RequestMeasurement.measure(model: "m", sequence: 0, warmup: false, prompt: "hi", maxTokens: nil,
                                               requester: requester, interrupt: InterruptFlag())
                usleep(100_000)
            }
        }
        traffic.start()
        let ctx = context()
        let r = try run(["metrics", "native", "--count", "3", "--every", "300ms"], ctx, config: config)
        #expect(r.status == .ok)
        #expect(r.alreadyPrinted)
        #expect(r.field("update_count") == .int(3))
        try ReportAgreement.check(r, ["update_count", "provider_count", "updates"], report: ReportShape(TailMetricsReport.self))
        #expect(r.jsonForm["updates"]?[2]?["rows"] != nil, "a bounded tail keeps its updates for expect json")
        let lines = ctx.output.capturedText.split(separator: "\n").map(String.init)
        #expect(lines == r.text.split(separator: "\n").map(String.init))
        let tokens = lines.filter { $0.contains(" native generation_tokens_total ") }
        #expect(tokens.count == 3)
        let firstWords = tokens[0].split(separator: " ").map(String.init)
        #expect(firstWords.count == 5 && firstWords[3] == "total", "first scrape: the total")
        #expect(tokens[1].hasSuffix("/s") && tokens[2].hasSuffix("/s"), "then a rate per second")
        let stamp = try #require(lines.first?.split(separator: " ").first)
        #expect(stamp.count == 8 && stamp.filter { $0 == ":" }.count == 2, "HH:MM:SS, got \(stamp)")
        #expect(lines.contains(where: { $0.hasSuffix(" native requests_waiting 0") }))
    }

    @Test func forBoundsTheRunAndJSONCollectsUpdates() throws {
        let server = try MetricsTestServer.fakeProvider(["--flavor", "vllm"])
        defer { server.stop() }
        let config = MetricsTestConfig.config([MetricsTestConfig.provider("v", .vllm, server.baseURL)])
        let ctx = context(json: true)
        let started = Date()
        let r = try run(["metrics", "--for", "1s", "--every", "400ms"], ctx, config: config)
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed > 0.7 && elapsed < 2.5)
        guard case let .array(updates)? = r.data?["updates"] else { Issue.record("no updates array"); return }
        #expect(updates.count == 3, "ticks at 0, 0.4 and 0.8 s")
        guard case let .array(rows)? = updates[0]["rows"] else { Issue.record("no rows"); return }
        let kv = rows.first(where: { $0["series"]?.stringValue == "kv_cache_usage" })
        #expect(kv?["now"]?.stringValue == "12.5%")
        #expect(kv?["value"]?.doubleValue == 0.125)
        #expect(ctx.output.capturedText.isEmpty, "under --json the runner prints the result once")
    }

    private func prometheusConfig(_ url: String) -> AishConfig {
        let here = SourceLocation(file: "ports.yaml", line: 1, column: 1)
        var config = MetricsTestConfig.config([MetricsTestConfig.provider("v", .vllm, "http://127.0.0.1:9/v1")])
        config.ports.monitoring = MonitoringConfig(prometheus: .init(url: url, origin: "monitoring.prometheus", location: here))
        return config
    }

    /// `--for` bounds the whole run, also when a query hangs: the query in flight is cut
    /// at the end, and a tail that read nothing fails.
    @Test func forBoundsTheRunWhenPrometheusHangs() throws {
        let hung = try FakeProviderProcess(["--fault", "delay-headers=60"])
        defer { hung.stop() }
        let started = Date()
        let r = try run(["metrics", "--prom", "--for", "2s", "--every", "1s"], context(), config: prometheusConfig(hung.baseURL))
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 4, "took \(elapsed) s")
        #expect(r.status == .error)
        #expect(r.error == "tail metrics --prom: nothing read within --for 2 s", "\(r.error ?? "")")
    }

    /// A tail in which every update failed exits 1 (both views), saying the last error.
    @Test func aTailThatNeverReadAnythingFails() throws {
        let nothing = "http://127.0.0.1:\(FakeProviderProcess.unusedPort())"
        let prom = try run(["metrics", "--prom", "--for", "1500ms", "--every", "1s"], context(), config: prometheusConfig(nothing))
        #expect(prom.status == .error)
        #expect(prom.field("update_count") == .int(2))
        #expect(prom.error?.hasPrefix("tail metrics --prom: none of 2 updates read anything (last error: ") == true, "\(prom.error ?? "")")
        #expect(prom.jsonForm["error"] != nil)

        let down = MetricsTestConfig.config([MetricsTestConfig.provider("v", .vllm, nothing)])
        let scrape = try run(["metrics", "--for", "1s", "--every", "400ms"], context(), config: down)
        #expect(scrape.status == .error)
        #expect(scrape.error?.hasPrefix("tail metrics: none of 3 updates read anything (last error: ") == true, "\(scrape.error ?? "")")

        // One update that read something is enough.
        let server = try MetricsTestServer.fakeProvider(["--flavor", "vllm"])
        defer { server.stop() }
        let mixed = MetricsTestConfig.config([MetricsTestConfig.provider("v", .vllm, server.baseURL),
                                              MetricsTestConfig.provider("w", .vllm, nothing)])
        #expect(try run(["metrics", "--count", "1"], context(), config: mixed).status == .ok)
    }

    @Test func scriptsMustBoundATail() throws {
        let config = MetricsTestConfig.config([])
        do {
            _ = try run(["metrics"], context(), config: config)
            Issue.record("expected a usage error")
        } catch let e as UsageError {
            #expect(e.message == "tail: in a script or pipe, give --count N or --for S (it would never end)")
        }
        func message(_ words: [String]) -> String? {
            do { _ = try run(words, context(), config: config); return nil } catch let e as UsageError { return e.message } catch { return "\(error)" }
        }
        #expect(message(["metrcs", "--count", "1"]) == "tail: unknown view 'metrcs' (did you mean 'metrics'?)")
        #expect(message(["metrics", "--count", "0"]) == "tail: --count must be at least 1, got 0")
        #expect(message(["metrics", "--for", "0s"]) == "tail: --for must be longer than 0")
        #expect(message(["metrics", "--every", "10ms", "--count", "1"]) == "tail: --every must be at least 100ms")
        #expect(message(["metrics", "--slow", "5", "--count", "1"]) == "tail metrics: --slow is for tail requests")
    }

    @Test func ctrlCEndsALiveTailPromptly() throws {
        let server = try MetricsTestServer.fakeProvider(["--flavor", "vllm"])
        defer { server.stop() }
        let config = MetricsTestConfig.config([MetricsTestConfig.provider("v", .vllm, server.baseURL)])
        let ctx = context()
        let interrupt = ctx.interrupt
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { interrupt.raise() }
        let started = Date()
        let r = try run(["metrics", "--for", "30s", "--every", "5s"], ctx, config: config)
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(r.field("update_count") == .int(1))
    }

    @Test func viewRatesWindowsAndSparklines() throws {
        func reading(_ name: String, _ shape: KeySeriesShape, value: Double? = nil, buckets: [HistogramBucket]? = nil) -> KeyReading {
            var k = KeyReading(name: name, source: name, shape: shape, unit: .count, labels: "", value: value)
            k.buckets = buckets
            k.count = buckets?.last?.cumulativeCount
            return k
        }
        func result(_ readings: [KeyReading]) -> ScrapeResult {
            ScrapeResult(target: ScrapeTarget(name: "p", type: .vllm, url: "u", kind: .prometheus, keyVariable: nil, connectTimeout: 1),
                         backend: .vllm, exposition: nil, readings: readings, error: nil, latencyMs: 1, at: Date())
        }
        let view = TailMetricsView()
        let b0 = [HistogramBucket(upperBound: 0.1, cumulativeCount: 4), HistogramBucket(upperBound: 1, cumulativeCount: 4),
                  HistogramBucket(upperBound: .infinity, cumulativeCount: 4)]
        let b1 = [HistogramBucket(upperBound: 0.1, cumulativeCount: 4), HistogramBucket(upperBound: 1, cumulativeCount: 8),
                  HistogramBucket(upperBound: .infinity, cumulativeCount: 8)]
        var rows = view.update([result([reading("tokens", .counterSum, value: 100), reading("ttft", .histogram, buckets: b0)])], at: 10)
        #expect(rows.map(\.now) == ["total 100", "50.0 ms (all time)"])
        rows = view.update([result([reading("tokens", .counterSum, value: 150), reading("ttft", .histogram, buckets: b1)])], at: 12)
        #expect(rows.map(\.now) == ["25.0/s", "550 ms (4 new)"])   // 4 new in (0.1, 1]: median 0.1 + 0.9 · 2/4
        #expect(rows.map(\.series) == ["tokens", "ttft p50"])
        rows = view.update([result([reading("tokens", .counterSum, value: 20), reading("ttft", .histogram, buckets: b1)])], at: 14)
        #expect(rows.map(\.now) == ["10.0/s", "no new observations"], "a reset counts from zero")
        #expect(rows[0].trend == " █▁")
        let table = TailMetricsView.table(rows)
        #expect(table.hasPrefix("PROVIDER  SERIES    NOW                  TREND\np         tokens    10.0/s                █▁\n"))
    }
}

@Suite(.serialized) struct TailRequestsTests {
    static func temporaryDB() -> String {
        NSTemporaryDirectory() + "aish-tail-\(UUID().uuidString).db"
    }

    static func attempt(_ model: String, provider: String, totalMs: Double, status: AttemptStatus = .ok) -> AttemptRecord {
        AttemptRecord(requestID: UUID().uuidString, requestedModel: model, routeReason: "test", provider: provider,
                      backendModel: model, attempt: 1, status: status, httpStatus: status == .ok ? 200 : 503,
                      error: status == .ok ? nil : "POST http://h/v1/chat/completions: HTTP 503 Service Unavailable",
                      ttftMs: totalMs / 4, totalMs: totalMs, promptTokens: 3, completionTokens: 7, tokensPerSecond: 20,
                      serverTimings: nil, prompt: "what is new", replyText: "x", startedAt: Date())
    }

    private func context(db: String) -> ShellContext {
        var options = GlobalOptions()
        options.databasePath = db
        return ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
    }

    private func run(_ words: [String], _ ctx: ShellContext) throws -> CommandResult {
        try TailCommand.run(try TailCommand.spec.parse(words: words, line: "tail", location: nil), ctx)
    }

    @Test func newRowsOnlyFilteredAsAsked() throws {
        let db = Self.temporaryDB()
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + s) } }
        try SessionLog(path: db).insertAttempt(Self.attempt("old", provider: "a", totalMs: 5000), commandID: nil)   // history
        let writer = Thread {
            usleep(300_000)
            // A connection of its own, as another writer would have.
            try? SessionLog(path: db).insertAttempts([
                Self.attempt("fast", provider: "a", totalMs: 100),
                Self.attempt("slow", provider: "b", totalMs: 2500),
                Self.attempt("slow", provider: "a", totalMs: 3000, status: .error),
                Self.attempt("slow", provider: "a", totalMs: 2100),
            ])
        }
        writer.start()
        let ctx = context(db: db)
        let r = try run(["requests", "-p", "a", "--slow", "2s", "--count", "2", "--for", "10s", "--every", "100ms"], ctx)
        #expect(r.field("count") == .int(2))
        try ReportAgreement.check(r, ["count", "attempts"], report: ReportShape(TailRequestsReport.self))
        #expect(r.jsonForm["attempts"]?[1]?["total_ms"] == .double(2100), "a bounded tail keeps its rows for expect json")
        let lines = ctx.output.capturedText.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("#4 "))
        #expect(lines[0].hasSuffix(" slow → a error http 503 ttft 750 ms total 3.00 s 7 tok POST http://h/v1/chat/completions: HTTP 503 Service Unavailable"))
        #expect(lines[1].hasSuffix(" slow → a ok ttft 525 ms total 2.10 s 7 tok \"what is new\""))
    }

    @Test func rowsWrittenByAnotherAishProcess() throws {
        let binary = try AishBinary.require()
        let server = try MetricsTestServer.fakeProvider(["--reply", "from another process"])
        defer { server.stop() }
        let dir = try RoutedCompareTests.configDirectory(primary: server.baseURL, backup: server.baseURL)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = Self.temporaryDB()
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + s) } }
        _ = try SessionLog(path: db)   // the file exists before the tail opens it

        let child = Process()
        child.executableURL = URL(fileURLWithPath: binary)
        child.arguments = ["--db", db, "--config", dir, "-c", "sleep 500ms; compare smart -n 3 --warmup 0"]
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer { if child.isRunning { child.terminate() }; child.waitUntilExit() }

        let ctx = context(db: db)
        let r = try run(["requests", "-m", "smart", "--count", "3", "--for", "20s"], ctx)
        #expect(r.field("count") == .int(3))
        let lines = ctx.output.capturedText.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.contains(" smart → primary ok ") && $0.contains(" [compare] ") })
    }

    @Test func unavailableLogAndBadArguments() throws {
        let missing = NSTemporaryDirectory() + "aish-none-\(UUID().uuidString)/x.db"
        let e = #expect(throws: CommandFailure.self) { try run(["requests", "--count", "1"], context(db: missing)) }
        #expect(e?.message == "tail requests: session log unavailable: \(missing): no session log has been written there yet")
        let u = #expect(throws: UsageError.self) { try run(["requests", "--slow", "soon", "--count", "1"], context(db: missing)) }
        #expect(u?.message == "tail: --slow takes milliseconds or a duration such as 500ms, 2s or 1m, got 'soon'")
        #expect(try TailRequests.slowThreshold("500") == 500)
        #expect(try TailRequests.slowThreshold("2s") == 2000)
        let p = #expect(throws: UsageError.self) { try run(["requests", "vllm", "--count", "1"], context(db: missing)) }
        #expect(p?.message == "tail requests: use -p PROVIDER to pick a provider")
    }
}
