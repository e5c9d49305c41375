import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishSessionLog
@testable import AishTelemetry
@testable import AishMeasure
@testable import AishScript

/// bench's token-honest figures (ITL per token beside ICL per chunk), what it sends
/// (synthetic, file and replayed prompts, output length, warm-up, distinct prompts) and when
/// a level stops early; all against the fake provider.
@Suite(.serialized) struct BenchWorkloadTests {
    private func requester(_ server: MetricsTestServer, _ type: ProviderType = .llamaCpp) -> ModelRequester {
        BenchHarness.requester(server, type)
    }

    private func run(_ words: [String], _ requester: ModelRequester, recorder: RecordingRecorder? = nil) throws -> CommandResult {
        try BenchHarness.run(words, requester, recorder: recorder)
    }

    private func levels(_ r: CommandResult) -> [JSONValue] { BenchHarness.levels(r) }

    /// The chat requests the fake received, in order.
    private func bodies(_ server: MetricsTestServer) throws -> [JSONValue] {
        let data = try Data(contentsOf: URL(string: server.baseURL + "/_fake/requests")!)
        let json = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        guard case let .array(requests)? = json["requests"] else { return [] }
        return requests.filter { $0["path"]?.stringValue == "/v1/chat/completions" }.compactMap { $0["body"] }
    }

    private func userText(_ body: JSONValue) -> String? {
        guard case let .array(messages)? = body["messages"] else { return nil }
        return messages.last?["content"]?.stringValue
    }

    // MARK: ITL and ICL

    @Test func itlDividesTheChunkGapByTheTokensEachChunkCarried() {
        // 4 chunks 40 ms apart carrying 16 tokens: 40 ms a chunk, 10 ms a token.
        let t = TokenTiming(start: 0, firstAt: 0.1, lastAt: 0.22, end: 0.23, chunks: 4, tokens: 16)
        #expect(abs(t.iclMs! - 40) < 1e-9)
        #expect(abs(t.itlMs! - 10) < 1e-9)
        #expect(abs(t.tpotMs! - 130.0 / 15) < 1e-9)   // vLLM's (e2e − TTFT) / (tokens − 1)
        // One token a chunk: ITL is the chunk gap, as guidellm and aiperf count it.
        let one = TokenTiming(start: 0, firstAt: 0.1, lastAt: 0.4, end: 0.4, chunks: 4, tokens: 4)
        #expect(abs(one.itlMs! - 100) < 1e-9 && abs(one.iclMs! - 100) < 1e-9)
        // llama-server counts the stop token it does not stream: 5 tokens in 4 chunks is one a chunk.
        let stop = TokenTiming(start: 0, firstAt: 0.1, lastAt: 0.4, end: 0.45, chunks: 4, tokens: 5)
        #expect(abs(stop.itlMs! - 100) < 1e-9 && abs(stop.iclMs! - 100) < 1e-9)
        // One chunk: no gap to measure.
        #expect(TokenTiming(start: 0, firstAt: 0.1, lastAt: 0.1, end: 0.1, chunks: 1, tokens: 8).itlMs == nil)
    }

    @Test func theUnstreamedStopTokenIsNoMismatch() {
        func sample(tokens: Int, chunks: Int) -> RequestSample {
            var s = RequestSample(model: "m", sequence: 0, warmup: false, ok: true, startedAt: Date(), totalMs: 100,
                                  coldLoad: false, replyText: "")
            s.outputTokens = tokens
            s.chunks = chunks
            s.tokenSource = .usage
            return s
        }
        let counts = TokenCounts([sample(tokens: 20, chunks: 19), sample(tokens: 8, chunks: 8), sample(tokens: 12, chunks: 4)])
        #expect(counts.mismatched == 1, "only the 12 tokens in 4 chunks disagree; 20 in 19 is the stop token")
        #expect(counts.tokensPerChunk == (1 + 1 + 3) / 3.0)
    }

    @Test func severalTokensPerChunkGetAPerTokenITL() throws {
        // 16 tokens, 4 a chunk, 80 ms between chunks: ICL ≈ 80 ms, ITL ≈ 20 ms.
        let server = try MetricsTestServer.fakeProvider(["--reply", (1...16).map { "w\($0)" }.joined(separator: " "),
                                                         "--tokens-per-chunk", "4", "--token-delay", "0.08"])
        defer { server.stop() }
        let r = try run(["m", "-n", "3", "--max-tokens", "16"], requester(server))
        let level = try #require(levels(r).first)
        let icl = try #require(level["icl_ms"]?["p50"]?.doubleValue)
        let itl = try #require(level["itl_ms"]?["p50"]?.doubleValue)
        #expect(abs(icl - 80) < CompareTests.toleranceMs, "ICL \(icl) ms")
        #expect(abs(itl - icl / 4) < 0.01, "ITL \(itl) ms is ICL over the 4 tokens a chunk")
        #expect(level["output_tokens"] == .int(48))
        #expect(level["tokens_counted_by"] == .object([("usage", .int(3)), ("chunks", .int(0))]))
        #expect(level["tokens_per_chunk"] == .double(4))
        #expect(level["token_mismatch"] == .int(3))
        #expect(r.text.contains("concurrency 1: 3 requests counted differently by the server than by the client (e.g. usage 16 tokens in 4 chunks, 4.0 tokens a chunk on average): ITL is per token, ICL per chunk"))
        #expect(r.field("itl_ms")?.doubleValue == LatencySummary.round(itl, 2))
    }

    @Test func withoutUsageTokensAreChunksAndSaidSo() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b c d", "--no-usage", "--token-delay", "0.02"])
        defer { server.stop() }
        let r = try run(["m", "-n", "2"], requester(server))
        let level = try #require(levels(r).first)
        #expect(level["tokens_counted_by"] == .object([("usage", .int(0)), ("chunks", .int(2))]))
        #expect(level["itl_ms"]?["p50"] == level["icl_ms"]?["p50"])
        #expect(r.text.contains("concurrency 1: 2 requests without a token count from the server: tokens counted as chunks, ITL = ICL"))
    }

    @Test func sloJudgesPerTokenITL() throws {
        // 8 tokens, 4 a chunk, 100 ms apart: 25 ms a token, 100 ms a chunk.
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b c d e f g h", "--tokens-per-chunk", "4",
                                                         "--token-delay", "0.1"])
        defer { server.stop() }
        let r = try run(["m", "-n", "2", "--slo", "itl_p50<=60ms,icl_p50<=60ms"], requester(server))
        #expect(levels(r).first?["slo_broken_by"] == .array([.string("icl_p50<=60ms")]))
    }

    // MARK: what is sent

    @Test func promptsAreDistinctUnlessAskedOtherwise() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        _ = try run(["m", "-n", "4", "-c", "2", "-p", "same question"], requester(server))
        let texts = try bodies(server).compactMap(userText)
        #expect(texts.count == 4)
        #expect(Set(texts).count == 4, "\(texts)")
        #expect(texts.allSatisfy { $0.hasPrefix("[") && $0.hasSuffix("] same question") })
    }

    @Test func samePromptSendsTheTextAsItIs() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        let r = try run(["m", "-n", "3", "-p", "same question", "--same-prompt"], requester(server))
        #expect(try bodies(server).compactMap(userText) == Array(repeating: "same question", count: 3))
        #expect(r.data?["parameters"]?["distinct_prompts"] == .bool(false))
    }

    @Test func syntheticPromptsAreMeasuredWithTheServersTokenizer() throws {
        // The fake's llama.cpp flavour tokenizes by words, so the prompts are exactly 40 tokens.
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok", "--flavor", "llamacpp"])
        defer { server.stop() }
        let r = try run(["m", "-n", "3", "--prompt-tokens", "40"], requester(server))
        #expect(r.data?["parameters"]?["prompt_tokens_counted_by"] == .string("tokenize"))
        #expect(r.data?["parameters"]?["prompt_source"] == .string("synthetic"))
        let level = try #require(levels(r).first)
        #expect(level["prompt_tokens"]?["p50"] == .double(40), "usage prompt_tokens: \(level["prompt_tokens"]?.serialized() ?? "")")
        let texts = try bodies(server).compactMap(userText)
        #expect(Set(texts).count == 3)
        #expect(r.text.contains("prompts: synthetic, 40 tokens, measured with the server's /tokenize"))
    }

    @Test func withoutTokenizeThePromptLengthIsEstimated() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])   // generic: no /tokenize
        defer { server.stop() }
        let r = try run(["m", "-n", "2", "--prompt-tokens", "40,10"], requester(server))
        #expect(r.data?["parameters"]?["prompt_tokens_counted_by"] == .string("estimate"))
        #expect(r.text.contains("prompts: synthetic, 40 ± 10 tokens, estimated (POST http://127.0.0.1:\(server.port)/tokenize: HTTP 404 Not Found: File Not Found)"))
    }

    @Test func syntheticLengthsFollowTheStandardDeviation() {
        let p = SyntheticPrompts(meanTokens: 100, stdevTokens: 20, seed: 3)
        let lengths = (0..<2000).map { Double(p.tokens($0)) }
        let mean = lengths.reduce(0, +) / Double(lengths.count)
        let sd = (lengths.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(lengths.count)).squareRoot()
        #expect(abs(mean - 100) < 2 && abs(sd - 20) < 2, "mean \(mean), sd \(sd)")
        #expect(p.tokens(5) == p.tokens(5))
        #expect(SyntheticPrompts(meanTokens: 100, stdevTokens: 0, seed: 3).tokens(9) == 100)
    }

    @Test func outputTokensAsksTheServerToIgnoreEOS() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b c"])
        defer { server.stop() }
        let r = try run(["m", "-n", "2", "--output-tokens", "12"], requester(server, .llamaCpp))
        #expect(try bodies(server).allSatisfy { $0["ignore_eos"] == .bool(true) && $0["max_tokens"] == .int(12) })
        #expect(levels(r).first?["output_tokens"] == .int(24))
        #expect(levels(r).first?["short_replies"] == .int(0))
        #expect(r.data?["parameters"]?["ignore_eos"] == .string("sent"))

        // An OpenAI-compatible server has no such switch: not sent, and the short replies counted.
        let plain = try MetricsTestServer.fakeProvider(["--reply", "a b c"])
        defer { plain.stop() }
        let p = try run(["m", "-n", "2", "--output-tokens", "12"], requester(plain, .openaiCompatible))
        #expect(try bodies(plain).allSatisfy { $0["ignore_eos"] == nil })
        #expect(levels(p).first?["short_replies"] == .int(2))
        #expect(p.text.contains("concurrency 1: 2 of 2 replies ended before 12 tokens (ignore_eos not sent: openai_compatible has no ignore_eos)"))
    }

    @Test func promptsComeFromAFile() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "bench-prompts-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "first question\n\n{\"prompt\": \"second\", \"system\": \"be brief\", \"max_tokens\": 5}\n\"third\"\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        _ = try run(["m", "-n", "4", "--prompts", path, "--same-prompt"], requester(server))
        let sent = try bodies(server)
        #expect(sent.compactMap(userText) == ["first question", "second", "third", "first question"])
        #expect(sent[1]["max_tokens"] == .int(5))
        #expect(sent[1]["messages"]?[0]?["content"] == .string("be brief"))
        #expect(sent[0]["max_tokens"] == .int(64))
    }

    @Test func warmUpRequestsAreLoggedNotCounted() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        let recorder = RecordingRecorder()
        let r = try run(["m", "-n", "3", "--warmup", "2"], requester(server), recorder: recorder)
        #expect(r.field("requests") == .int(3))
        #expect(recorder.attempts.count == 5)
        #expect(recorder.attempts.filter { $0.routeReason.hasPrefix("bench warm-up") }.count == 2)
        #expect(r.text.hasPrefix("bench m: 3 requests per level, max_tokens 64, 2 warm-up\n"))
    }

    @Test func usageErrorsOfWhatIsSent() {
        func message(_ words: [String]) -> String? {
            do { _ = try BenchCommand.settings(try BenchCommand.spec.parse(words: words, line: "", location: nil)); return nil }
            catch let e as UsageError { return e.message } catch { return "\(error)" }
        }
        #expect(message(["a", "-p", "x", "--prompt-tokens", "5"]) == "bench: give one of -p, --prompts, --prompt-tokens, --from-log and --trace")
        #expect(message(["a", "--trace", "t.jsonl", "--from-log"]) == "bench: give one of -p, --prompts, --prompt-tokens, --from-log and --trace")
        #expect(message(["a", "--trace", "t.jsonl", "--rate", "3"]) == "bench: --trace replays the trace's arrivals: leave out -c, --rate, --sweep and --find-max")
        #expect(message(["a", "--trace", "t.jsonl", "--since", "1h"]) == "bench: --since and -m go with --from-log")
        #expect(message(["a", "--time-scale", "2"]) == "bench: --time-scale goes with --from-log or --trace")
        #expect(message(["a", "--trace", "t.jsonl", "--time-scale", "0.5", "--max-concurrency", "4", "-n", "10"]) == nil)
        #expect(message(["a", "--prompt-tokens", "0"]) == "bench: --prompt-tokens takes N or N,SD (tokens, and their standard deviation), got '0'")
        #expect(message(["a", "--prompt-tokens", "5,x"]) == "bench: --prompt-tokens takes N or N,SD (tokens, and their standard deviation), got '5,x'")
        #expect(message(["a", "--output-tokens", "5", "--max-tokens", "5"]) == "bench: give --max-tokens K or --output-tokens N, not both")
        #expect(message(["a", "--since", "1h"]) == "bench: --since and -m go with --from-log")
        #expect(message(["a", "--from-log", "-c", "2"]) == "bench: --from-log replays the logged arrivals: leave out -c, --rate, --sweep and --find-max")
        #expect(message(["a", "--from-log", "--time-scale", "-1"]) == "bench: --time-scale takes a factor from 0 (0.5 replays twice as fast), got '-1'")
        #expect(message(["a", "--max-error-rate", "1.5"]) == "bench: --max-error-rate takes a share from 0 to below 1 (0.1 = 10%), got '1.5'")
        #expect(message(["a", "--compare", "x"]) == "bench: --compare takes a run id (from `sql SELECT id FROM runs`, or a report's run_id) or last, got 'x'")
        #expect(message(["a", "--prompt-tokens", "100,20", "--output-tokens", "50", "--warmup", "2"]) == nil)
        #expect(message(["a", "--from-log", "--since", "1d", "--time-scale", "0.5", "--max-concurrency", "32", "-m", "x"]) == nil)
    }

    // MARK: replay

    /// A trace in aiperf's mooncake_trace shape: timestamps in ms, text or a length, the
    /// output length; sorted by time, gaps scaled, -n taking the first.
    @Test func aTraceFileGivesArrivalsPromptsAndLengths() throws {
        let text = """
            {"timestamp": 1500, "prompt": "third", "output_length": 7}
            {"timestamp": 0, "prompt": "first", "system": "Be brief."}

            {"timestamp": 500, "input_length": 40, "output_length": 12, "hash_ids": [1, 2]}
            {"timestamp": 1500, "text": "fourth"}
            """
        let synthetic = SyntheticPrompts(meanTokens: 1, stdevTokens: 0, seed: 3)
        let t = try TraceFile.parse(text, path: "t.jsonl", limit: nil, timeScale: 0.5, synthetic: synthetic, tag: "abc")
        #expect(t.offsets == [0, 0.25, 0.75, 0.75])
        #expect(t.prompts.map(\.maxTokens) == [nil, 12, 7, nil])
        #expect(t.prompts[0].text == "first" && t.prompts[0].system == "Be brief.")
        #expect(t.prompts[2].text == "third" && t.prompts[3].text == "fourth", "a tie keeps the file's order")
        #expect(t.prompts[1].text.hasPrefix("[abc-3] "), "tagged with its request in the file")
        // 40 tokens at the estimate of 0.75 words a token: 30 words with the tag.
        #expect(t.prompts[1].text.split(separator: " ").count == 30)
        #expect(t.lengthsGiven)
        let untagged = try TraceFile.parse(text, path: "t.jsonl", limit: 2, timeScale: 1, synthetic: synthetic, tag: nil)
        #expect(untagged.offsets == [0, 0.5])
        #expect(!untagged.prompts[1].text.hasPrefix(" ") && !untagged.prompts[1].text.hasPrefix("["))
        func error(_ text: String) -> String? {
            do { _ = try TraceFile.parse(text, path: "t.jsonl", limit: nil, timeScale: 1, synthetic: synthetic, tag: nil); return nil }
            catch let e as CommandFailure { return e.message } catch { return "\(error)" }
        }
        #expect(error("{\"prompt\": \"x\"}") == "bench: --trace t.jsonl:1: needs \"timestamp\", milliseconds from the trace's start (a number from 0)")
        #expect(error("{\"timestamp\": 0, \"prompt\": \"x\"}\n{\"timestamp\": 5}") == "bench: --trace t.jsonl:2: needs \"prompt\" (the text) or \"input_length\" (tokens, 1 to 1000000)")
        #expect(error("{\"timestamp\": -1, \"prompt\": \"x\"}")?.hasPrefix("bench: --trace t.jsonl:1: needs \"timestamp\"") == true)
        #expect(error("[1, 2]") == "bench: --trace t.jsonl:1: a line is a JSON object with \"timestamp\" and \"prompt\" or \"input_length\"")
        #expect(error("{\"timestamp\": 0, \"prompt\": \"x\", \"output_length\": 0}") == "bench: --trace t.jsonl:1: output_length must be at least 1, got 0")
        #expect(error("\n\n") == "bench: --trace t.jsonl holds no request")
        #expect(error("{\"timestamp\": 0,")?.hasPrefix("bench: --trace t.jsonl:1: not JSON") == true)
    }

    /// A bad line in a prompts or trace file is the run's failure (exit 1) naming the file and
    /// line, not a usage error: the arguments were right.
    @Test func aBadLineInAPromptsOrTraceFileNamesItsPlace() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "bench-bad-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\"timestamp\": 0, \"prompt\": \"x\"}\n{\"prompt\": 5}\n".write(toFile: path, atomically: true, encoding: .utf8)
        for (option, message) in [("--prompts", "bench: --prompts \(path):2: a JSON line needs \"prompt\""),
                                  ("--trace", "bench: --trace \(path):2: needs \"timestamp\", milliseconds from the trace's start (a number from 0)")] {
            do {
                _ = try run(["m", option, path], requester(server))
                Issue.record("\(option): the run went ahead")
            } catch let e as CommandFailure {
                #expect(e.message == message)
                #expect(e.exitCode == .failure)
            }
        }
    }

    @Test func aTraceIsReplayedAtItsTimes() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "bench-trace-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            {"timestamp": 0, "prompt": "alpha"}
            {"timestamp": 800, "prompt": "beta", "output_length": 5}
            {"timestamp": 1600, "input_length": 20}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try run(["m", "--trace", path, "--time-scale", "0.5"], requester(server))
        let level = try #require(levels(r).first)
        #expect(level["mode"] == .string("replay"))
        #expect(level["requests"] == .int(3))
        #expect(level["errors"] == .int(0))
        let wall = try #require(level["wall_ms"]?.doubleValue)
        #expect(wall >= 750, "the last arrival is due at 0.8 s: \(wall) ms")
        let sent = try bodies(server)
        let texts = sent.compactMap(userText)
        #expect(Array(texts.prefix(2)) == ["alpha", "beta"], "a trace's texts are sent as written")
        #expect(texts.count == 3 && texts[2].hasPrefix("["), "a length becomes a tagged synthetic prompt")
        #expect(sent[1]["max_tokens"] == .int(5))
        let parameters = try #require(r.data?["parameters"])
        #expect(parameters["prompt_source"] == .string("trace") && parameters["prompts_file"] == .string(path))
        #expect(parameters["time_scale"] == .double(0.5))
        #expect(parameters["prompt_tokens_counted_by"] == .string("tokenize") || parameters["prompt_tokens_counted_by"] == .string("estimate"))
        #expect(r.text.hasPrefix("bench m: 3 traced requests replayed, time scale 0.5, max_tokens 64\n"), "\(r.text)")
    }

    @Test func replaySendsAtTheLoggedOffsetsScaled() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        let workload = BenchWorkload(source: .replay([BenchPrompt(text: "one"), BenchPrompt(text: "two", maxTokens: 3),
                                                      BenchPrompt(text: "three")], offsets: [0, 0.4, 0.8]),
                                     distinct: true, maxTokens: 64)
        let provider = MetricsTestConfig.provider("fake", .llamaCpp, server.baseURL)
        let run = LoadEngine.run(plan: LoadPlan(shape: .replay(offsets: [0, 0.4, 0.8], maxConcurrency: nil), requests: 3, duration: nil),
                                 model: "m", workload: workload, wire: {
                                     [try WireTarget(provider: provider, backendModel: "fake-model", environment: [:], routeReason: nil)]
                                 }, interrupt: InterruptFlag())
        #expect(run.samples.count == 3)
        let starts = run.samples.sorted { $0.sequence < $1.sequence }.map(\.startedAt)
        let gaps = zip(starts.dropFirst(), starts).map { $0.timeIntervalSince($1) }
        #expect(gaps.allSatisfy { abs($0 - 0.4) < 0.1 }, "gaps \(gaps)")
        let sent = try bodies(server)
        #expect(sent.compactMap(userText) == ["one", "two", "three"], "replayed prompts are sent as logged")
        #expect(sent[1]["max_tokens"] == .int(3))
    }

    @Test func fromLogReplaysTheLoggedChatRequests() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "ok"])
        defer { server.stop() }
        let bench = try ChatBench(providers: [("fake", "llama_cpp", server.baseURL, "")],
                                  mappings: "exact_matches:\n  m:\n    provider: fake\n")
        for q in ["first logged", "second logged"] { try bench.run(["chat", "-m", "m", q]) }
        let r = try bench.run(["bench", "m", "--from-log", "--time-scale", "0"])
        #expect(r.status == .ok, "\(r.error ?? "")")
        let level = try #require(levels(r).first)
        #expect(level["mode"] == .string("replay"))
        #expect(level["requests"] == .int(2))
        let texts = try bodies(server).compactMap(userText)
        // Time scale 0: both go out at once, on two connections, in either order.
        #expect(Array(texts.suffix(2)).sorted() == ["first logged", "second logged"])
        #expect(r.data?["parameters"]?["prompt_source"] == .string("log"))
        #expect(r.data?["parameters"]?["requests"] == .null, "every logged request unless -n")
        #expect(r.text.hasPrefix("bench m: 2 logged requests replayed, time scale 0, max_tokens 64\n"))
    }

    /// A replay that keeps the log's gaps says how long it will take before it starts.
    @Test func aLongReplaySaysHowLongItTakes() {
        #expect(BenchCommand.replayNotice(model: "m", offsets: [0, 2, 9.9], timeScale: 1) == nil)
        #expect(BenchCommand.replayNotice(model: "m", offsets: [0, 1800, 3480], timeScale: 0.5)
                == "bench m: replaying 3 logged requests over 58m (time scale 0.5; --time-scale or --since shortens it, Ctrl-C stops it)\n")
        #expect(BenchCommand.replayNotice(model: "m", offsets: [], timeScale: 1) == nil)
    }

    // MARK: stopping early

    @Test func theSaturationRuleNeedsBacklogAndWaitToGrow() {
        // Over 6 s: backlog 2 → 20 and waits 100 → 1000 ms: saturated; flat ones: not.
        let backlog = (0..<24).map { (t: Double($0) * 0.25, n: 2 + $0 * 3 / 4) }
        let waits = (0..<24).map { (t: Double($0) * 0.25, ms: 100 + Double($0) * 40) }
        let reason = EarlyStop.saturation(backlog: backlog, waits: waits, from: 0, now: 6)
        #expect(reason?.hasPrefix("saturated: requests waiting ") == true, "\(reason ?? "nil")")
        let flat = backlog.map { (t: $0.t, n: 5) }
        #expect(EarlyStop.saturation(backlog: flat, waits: waits, from: 0, now: 6) == nil)
        let steady = waits.map { (t: $0.t, ms: 200.0) }
        #expect(EarlyStop.saturation(backlog: backlog, waits: steady, from: 0, now: 6) == nil)
        #expect(EarlyStop.saturation(backlog: backlog, waits: waits, from: 0, now: 2) == nil, "too soon")
    }

    @Test func aRateAboveCapacityStopsEarly() throws {
        // One stream at a time, 100 ms each: 10/s served, 30/s asked. The backlog grows by ~20
        // a second, so the level stops after about 3 s instead of running 20 s.
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.1", "--capacity", "1", "--reply", "a"])
        defer { server.stop() }
        let started = Date()
        let r = try run(["m", "--rate", "30", "--duration", "20s"], requester(server))
        #expect(Date().timeIntervalSince(started) < 12)
        let level = try #require(levels(r).first)
        #expect(level["stopped_early"] == .bool(true))
        let reason = try #require(level["stop_reason"]?.stringValue)
        #expect(reason.hasPrefix("saturated: requests waiting "), "\(reason)")
        #expect(r.text.contains("30.0/s: stopped early: saturated: "))
        #expect((level["error_kinds"]?["stopped"]?.intValue ?? 0) > 0, "in-flight requests are cancelled as stopped")
    }

    @Test func aRateBelowCapacityRunsToTheEnd() throws {
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.05", "--capacity", "2", "--reply", "a"])
        defer { server.stop() }
        let r = try run(["m", "--rate", "4", "--duration", "3500ms"], requester(server))
        #expect(levels(r).first?["stopped_early"] == .bool(false))
        #expect(levels(r).first?["stop_reason"] == .null)
    }

    @Test func anErrorRateAboveTheLimitStopsTheLevel() throws {
        let server = try MetricsTestServer.fakeProvider(["--fail-all", "503"])
        defer { server.stop() }
        let r = try run(["m", "-n", "200", "-c", "2", "--max-error-rate", "0.5"], requester(server))
        let level = try #require(levels(r).first)
        #expect(level["stopped_early"] == .bool(true))
        // Checked as requests end: the two in flight may end together.
        let reason = try #require(level["stop_reason"]?.stringValue)
        #expect(reason.hasPrefix("error rate 100% over 1") && reason.hasSuffix(" requests, above the limit of 50%"), "\(reason)")
        #expect((level["requests"]?.intValue ?? 200) < 20)
    }

    /// A request's body is the stand-in's serialized body with the prompt put in its place:
    /// byte for byte what serializing the whole request gives, for prompts that need escapes,
    /// with and without a system prompt, limits and ignore-EOS, for each provider type, the
    /// first time and from the cache; a system prompt that is the stand-in itself is built whole.
    @Test func aRequestBodyIsTheWholeSerializationWhateverThePrompt() throws {
        let prompts = ["hi", "", "quote \" back\\slash\nnew\tline \u{1} \u{7f} é 😀", WireTarget.standIn,
                       String(repeating: "long ", count: 400)]
        for type in [ProviderType.vllm, .llamaCpp, .ollama, .litellm] {
            let provider = MetricsTestConfig.provider("p", type, "http://127.0.0.1:9")
            let target = try WireTarget(provider: provider, backendModel: "b", environment: [:], routeReason: nil)
            for round in 0..<2 {
                for system in [nil, "be brief", WireTarget.standIn] {
                    for (maxTokens, ignoreEOS) in [(nil, false), (Optional(16), true)] {
                        for prompt in prompts {
                            let sent = target.request(prompt: prompt, system: system, maxTokens: maxTokens, ignoreEOS: ignoreEOS)
                            let whole = target.body(prompt: prompt, system: system, maxTokens: maxTokens, ignoreEOS: ignoreEOS)
                            #expect(sent.body == whole.serializedUTF8(), "\(type) round \(round): \(prompt.prefix(20)) / \(system ?? "-")")
                            #expect(sent.headers.first?.0 == "Content-Type")
                        }
                    }
                }
            }
        }
    }
}
