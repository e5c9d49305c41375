import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishMeasure

@Suite(.serialized) struct CompareTests {
    /// Tolerance for timings against the delays the fake provider injects: generous, because
    /// the machine is shared; the benchmark script holds the precise figures.
    static let toleranceMs = 150.0

    private func requester(_ server: MetricsTestServer, name: String = "fake") -> ModelRequester {
        let p = MetricsTestConfig.provider(name, .vllm, server.baseURL + "/v1")
        return ModelRequester.direct(provider: p, backendModel: "fake-model", environment: [:])
    }

    private func run(_ words: [String], _ requesters: [ModelRequester], recorder: RecordingRecorder? = nil) throws -> CommandResult {
        let ctx = ShellContext(output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        ctx.recorder = recorder
        let inv = try CompareCommand.spec.parse(words: words, line: "compare", location: nil)
        return try CompareCommand.run(inv, ctx, requesters: requesters)
    }

    static func providers(_ r: CommandResult, model index: Int = 0) -> [String] {
        guard case let .array(models)? = r.data?["models"], case let .array(p)? = models[index]["providers"] else { return [] }
        return p.compactMap(\.stringValue)
    }

    private func summary(_ r: CommandResult, model index: Int, _ measure: String) -> JSONValue? {
        guard case let .array(models)? = r.data?["models"] else { return nil }
        return models[index][measure]
    }

    @Test func figuresMatchTheInjectedDelays() throws {
        // Six tokens: the first after 300 ms, then one every 50 ms, then the finish and usage
        // chunks 50 ms apart → end-to-end ≈ 650 ms; the 5 tokens after the first over the
        // 350 ms after it ≈ 14 tokens/s.
        let slow = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.3", "--token-delay", "0.05",
                                                       "--reply", "one two three four five six"])
        let fast = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.1", "--token-delay", "0.02",
                                                       "--reply", "one two three four five six"])
        defer { slow.stop(); fast.stop() }
        let recorder = RecordingRecorder()
        let r = try run(["slow", "fast", "-n", "3", "--warmup", "1", "-p", "hello"], [requester(slow), requester(fast)],
                        recorder: recorder)
        #expect(r.status == .ok)
        for (i, ttft, itl, e2e) in [(0, 300.0, 50.0, 650.0), (1, 100.0, 20.0, 240.0)] {
            #expect(summary(r, model: i, "requests") == .int(3), "warm-ups excluded")
            #expect(summary(r, model: i, "ok") == .int(3))
            let t = try #require(summary(r, model: i, "ttft_ms")?["p50"]?.doubleValue)
            let g = try #require(summary(r, model: i, "itl_ms")?["p50"]?.doubleValue)
            let c = try #require(summary(r, model: i, "icl_ms")?["p50"]?.doubleValue)
            let l = try #require(summary(r, model: i, "latency_ms")?["p50"]?.doubleValue)
            #expect(abs(t - ttft) < Self.toleranceMs, "TTFT \(t) ms, injected \(ttft) ms")
            #expect(abs(g - itl) < 30, "inter-token \(g) ms, injected \(itl) ms")
            // One token a chunk, counted by the server: the same gap per token and per chunk.
            #expect(abs(c - g) < 0.01, "ICL \(c) ms, ITL \(g) ms")
            #expect(summary(r, model: i, "tokens_counted_by") == .object([("usage", .int(3)), ("chunks", .int(0))]))
            #expect(summary(r, model: i, "token_mismatch") == .int(0))
            #expect(abs(l - e2e) < Self.toleranceMs, "end-to-end \(l) ms, injected \(e2e) ms")
            #expect(summary(r, model: i, "ttft_ms")?["count"] == .int(3))
            for key in ["p90", "p99", "mean", "min", "max"] { #expect(summary(r, model: i, "ttft_ms")?[key] != nil) }
        }
        let rate = try #require(summary(r, model: 0, "tokens_per_second")?["p50"]?.doubleValue)
        #expect(rate > 9 && rate < 25, "tokens/s \(rate), expected about 14")
        // The text: a header, then one group of five rows per model.
        let rows = MetricsCommandTests.words(r.text)
        #expect(rows[1] == ["MODEL", "OK", "ERR", "MEASURE", "P50", "P90", "P99"])
        #expect(Array(rows[2].prefix(4)) == ["slow", "3", "0", "ttft"])
        #expect(rows[3].first == "itl")
        #expect(rows[4].first == "icl")
        #expect(rows[5].first == "end-to-end")
        #expect(rows[6].first == "tokens/s")
        #expect(Array(rows[7].prefix(4)) == ["fast", "3", "0", "ttft"])
        #expect(!r.text.contains("median TTFT"), "bar chart only on a terminal")
        // Every request, warm-ups included, and the summary went to the log.
        #expect(recorder.attempts.count == 8)
        #expect(recorder.attempts.allSatisfy { $0.kind == "compare" && $0.status == .ok && $0.prompt == "hello" })
        #expect(recorder.attempts.filter { $0.routeReason == "compare warm-up" }.count == 2)
        #expect(recorder.runs.count == 1)
        #expect(recorder.runs.first?.kind == "compare")
        // expect fields: the slowest model's medians.
        let fieldTTFT = try #require(r.field("ttft_ms")?.doubleValue)
        #expect(abs(fieldTTFT - 300) < Self.toleranceMs)
        #expect(r.field("requests") == .int(6))
        #expect(r.field("errors") == .int(0))
        #expect(r.field("model_count") == .int(2))
        try ReportAgreement.check(r, ["model_count", "requests", "errors", "wall_ms", "tokens", "ttft_ms", "latency_ms", "models"],
                                  report: ReportShape(CompareReport.self))
    }

    @Test func parallelWallTimeIsTheSlowestNotTheSum() throws {
        // Each model takes about 1 s: 0.5 s to the first token, then 5 more tokens 0.1 s apart.
        let args = ["--first-token-delay", "0.5", "--token-delay", "0.1", "--reply", "a b c d e f"]
        let a = try MetricsTestServer.fakeProvider(args)
        let b = try MetricsTestServer.fakeProvider(args)
        defer { a.stop(); b.stop() }
        let r = try run(["a", "b", "-n", "1", "--warmup", "0", "--parallel"], [requester(a), requester(b)])
        #expect(r.status == .ok)
        let wall = try #require(r.field("wall_ms")?.doubleValue)
        #expect(wall > 900, "each model needs about 1 s")
        #expect(wall < 1800, "parallel wall \(wall) ms: the models ran one after another")
        #expect(r.text.contains(", in parallel, wall "))
    }

    @Test func errorsAreCountedByKindAndColdLoadsMarked() throws {
        let loading = try MetricsTestServer.fakeProvider(["--fault", "503-loading"])
        let flaky = try MetricsTestServer.fakeProvider(["--fail-first", "2", "--fail-status", "500"])
        defer { loading.stop(); flaky.stop() }
        let recorder = RecordingRecorder()
        let r = try run(["loading", "flaky", "-n", "3", "--warmup", "0"], [requester(loading), requester(flaky)], recorder: recorder)
        #expect(r.status == .error)
        #expect(r.error == "compare: every request failed for loading")
        #expect(summary(r, model: 0, "error_kinds") == .object([("loading", .int(3))]))
        #expect(summary(r, model: 1, "error_kinds") == .object([("http 500", .int(2))]))
        #expect(summary(r, model: 1, "ok") == .int(1))
        #expect(r.text.contains("\n* loading: cold load (request 1: llama.cpp 503 Loading model; request 2: llama.cpp 503 Loading model; request 3: llama.cpp 503 Loading model)\n"))
        #expect(MetricsCommandTests.words(r.text)[2].prefix(3) == ["loading", "*", "0"])
        #expect(r.text.contains("flaky: 2 of 3 failed: http 500 ×2 — first: POST http://127.0.0.1:\(flaky.port)/v1/chat/completions: HTTP 500 Internal Server Error: fake provider: injected 500"))
        #expect(recorder.attempts.filter { $0.status == .error }.count == 5)
        #expect(recorder.attempts.first?.httpStatus == 503)
    }

    @Test func ollamaLoadDurationMarksAColdLoad() {
        let cold: JSONValue = .object([("load_duration", .int(3_204_000_000)), ("eval_count", .int(12))])
        #expect(RequestMeasurement.coldLoadNote(serverTimings: cold) == "Ollama load_duration 3.20 s")
        #expect(RequestMeasurement.coldLoadNote(serverTimings: .object([("load_duration", .int(2_000_000))])) == nil)
        #expect(RequestMeasurement.coldLoadNote(serverTimings: .object([("timings", .object([]))])) == nil)
        #expect(RequestMeasurement.coldLoadNote(serverTimings: nil) == nil)
    }

    @Test func ollamaNativeStreamIsMeasuredToo() throws {
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.2", "--reply", "one two three"])
        defer { server.stop() }
        let ollama = ModelRequester.direct(provider: MetricsTestConfig.provider("ollama", .ollama, server.baseURL),
                                           backendModel: "fake-model", environment: [:])
        let r = try run(["llama", "-n", "2", "--warmup", "0"], [ollama])
        #expect(r.status == .ok)
        let t = try #require(summary(r, model: 0, "ttft_ms")?["p50"]?.doubleValue)
        #expect(abs(t - 200) < Self.toleranceMs, "TTFT \(t) ms over NDJSON, injected 200 ms")
        #expect(summary(r, model: 0, "output_tokens") == .int(6), "eval_count of each reply")
        #expect(summary(r, model: 0, "cold_loads") == .array([]), "the fake reports a 2 ms load")
    }

    @Test func csvHasOneRowPerRequest() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "x, \"y\""])
        defer { server.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try run(["m", "-n", "2", "--csv", path], [requester(server)])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0] == "model,request,warmup,ok,error_kind,provider,backend_model,ttft_ms,itl_ms,icl_ms,tpot_ms,total_ms,output_tokens,tokens_counted_by,chunks,tokens_per_second,cold_load,started_at")
        #expect(lines[1].hasPrefix("m,1,1,1,,fake,fake-model,"))
        #expect(lines[2].hasPrefix("m,1,0,1,,fake,fake-model,"))
        #expect(lines[3].hasPrefix("m,2,0,1,,fake,fake-model,"))
    }

    @Test func cancelStopsPromptly() throws {
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "5"])
        defer { server.stop() }
        let ctx = ShellContext(output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        let inv = try CompareCommand.spec.parse(words: ["m", "-n", "3"], line: "compare", location: nil)
        let interrupt = ctx.interrupt
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { interrupt.raise() }
        let started = Date()
        let r = try CompareCommand.run(inv, ctx, requesters: [requester(server)])
        #expect(Date().timeIntervalSince(started) < 2, "Ctrl-C must not wait for the 5 s delay")
        #expect(r.status == .error)
        #expect(r.error == "compare: cancelled after 0 of 4 requests")
    }

    @Test func usageErrors() throws {
        func message(_ words: [String]) -> String? {
            do { _ = try run(words, []); return nil } catch let e as UsageError { return e.message } catch { return "\(error)" }
        }
        #expect(message([]) == "compare: missing MODEL")
        #expect(message(["m", "-n", "0"]) == "compare: -n must be at least 1, got 0")
        #expect(message(["m", "--warmup", "-1"]) == "compare: --warmup cannot be negative, got -1")
        #expect(message(["m", "-p", "x", "--prompt-file", "f"]) == "compare: give -p PROMPT or --prompt-file FILE, not both")
        #expect(message(["m", "-n", "two"]) == "compare: --requests takes a whole number, got 'two'")
        #expect(message(["m", "--prompt-file", "/nonexistent/p.txt"])?.hasPrefix("compare: cannot read prompt file /nonexistent/p.txt: ") == true)
    }

    @Test func barChartOfMedians() {
        func sample(_ ttft: Double, _ total: Double) -> RequestSample {
            RequestSample(model: "", sequence: 0, warmup: false, ok: true, startedAt: Date(), ttftMs: ttft, totalMs: total,
                          outputTokens: 10, tokensPerSecond: 10, coldLoad: false, replyText: "")
        }
        let results = [CompareRun.ModelResult(model: "a", samples: [sample(100, 1000)]),
                       CompareRun.ModelResult(model: "bb", samples: [sample(50, 2000)])]
        #expect(CompareReport.barChart(results, width: 8) == """
            median TTFT
              a   ████████ 100 ms
              bb  ████     50.0 ms
            median end-to-end
              a   ████     1.00 s
              bb  ████████ 2.00 s
            median tokens/s
              a   ████████ 10.0
              bb  ████████ 10.0

            """)
    }
}

/// compare and bench through the router, with the operator's YAML files in a directory.
@Suite(.serialized) struct RoutedCompareTests {
    static func configDirectory(primary: String, backup: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aish-compare-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
            providers:
              primary:
                type: vllm
                base_url: \(primary)
                status: active
                models:
                  - fake-model
              backup:
                type: llama_cpp
                base_url: \(backup)
                status: active
                models:
                  - fake-model
            """.write(toFile: dir + "/providers.yaml", atomically: true, encoding: .utf8)
        try """
            exact_matches:
              smart:
                provider: primary
                backend_model: fake-model
                fallback: backup
            """.write(toFile: dir + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    /// After a 429 the router cools the provider down: the next requests are never sent, and
    /// compare counts them as "skipped", not as a backend error.
    @Test func requestsTheRouterDidNotSendAreCountedAsSkipped() throws {
        let limited = try MetricsTestServer.fakeProvider(["--fault", "429:retry=60"])
        defer { limited.stop() }
        let dir = try Self.configDirectory(primary: limited.baseURL, backup: "http://127.0.0.1:\(try MetricsCommandTests.unusedPort())")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            exact_matches:
              smart:
                provider: primary
                backend_model: fake-model
            """.write(toFile: dir + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        var options = GlobalOptions()
        options.configDirectory = dir
        let ctx = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        ctx.recorder = RecordingRecorder()
        let r = try CompareCommand.run(try CompareCommand.spec.parse(words: ["smart", "-n", "3", "--warmup", "0"], line: "", location: nil), ctx)
        #expect(r.status == .error)
        guard case let .array(models)? = r.data?["models"] else { Issue.record("no models in \(r.jsonForm)"); return }
        #expect(models[0]["error_kinds"] == .object([("skipped", .int(2)), ("http 429", .int(1))]))
        #expect(r.text.hasSuffix("\nsmart: 3 of 3 failed: skipped ×2, http 429 ×1 — first: POST http://127.0.0.1:\(limited.port)/v1/chat/completions: HTTP 429 Too Many Requests: Rate limit exceeded (fake provider) (retry after 60s)\n"), "\(r.text)")
    }

    @Test func failsOverBeforeTheFirstTokenAndLogsWhereItWent() throws {
        let backup = try MetricsTestServer.fakeProvider(["--reply", "from backup"])
        defer { backup.stop() }
        let dir = try Self.configDirectory(primary: "http://127.0.0.1:\(try MetricsCommandTests.unusedPort())", backup: backup.baseURL)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = GlobalOptions()
        options.configDirectory = dir
        let ctx = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        let recorder = RecordingRecorder()
        ctx.recorder = recorder
        let r = try CompareCommand.run(try CompareCommand.spec.parse(words: ["smart", "-n", "2", "--warmup", "0"], line: "", location: nil), ctx)
        #expect(r.status == .ok)
        // Each request: the primary refused the connection, then the backup answered — both logged.
        #expect(recorder.attempts.count == 4)
        #expect(recorder.attempts.allSatisfy { $0.kind == "compare" && $0.requestedModel == "smart" })
        let answered = recorder.attempts.filter { $0.status == .ok }
        #expect(answered.count == 2)
        #expect(answered.allSatisfy { $0.provider == "backup" && $0.replyText == "from backup" && $0.attempt == 2 })
        #expect(recorder.attempts.filter { $0.status == .error }.allSatisfy { $0.provider == "primary" && $0.attempt == 1 })
        #expect(Set(recorder.attempts.map(\.requestID)).count == 2)
        #expect(CompareTests.providers(r) == ["backup"])

        let e = #expect(throws: CommandFailure.self) {
            try CompareCommand.run(try CompareCommand.spec.parse(words: ["smrt"], line: "", location: nil), ctx)
        }
        // The message names the command that failed, as the other commands' errors do.
        #expect(e?.message == "compare: no usable route for model 'smrt' — did you mean 'smart'?")
        let b = #expect(throws: CommandFailure.self) {
            try BenchCommand.run(try BenchCommand.spec.parse(words: ["smrt", "-n", "1", "-c", "1"], line: "", location: nil), ctx)
        }
        #expect(b?.message == "bench: no usable route for model 'smrt' — did you mean 'smart'?")

        let bench = try BenchCommand.run(try BenchCommand.spec.parse(words: ["smart", "-n", "4", "-c", "2"], line: "", location: nil), ctx)
        #expect(bench.status == .ok)
        #expect(bench.field("errors") == .int(0))
    }
}
