import Foundation
import Testing
@testable import AishBase
@testable import AishChat
@testable import AishCommand
@testable import AishHTTP
@testable import AishMeasure

/// The load engine behind `bench`: closed and open loops on one event loop, the arrival
/// schedule, queueing against a server of known capacity, sweeps and ramp-ups.
@Suite(.serialized) struct LoadEngineTests {
    private func requester(_ server: MetricsTestServer, envVar: String? = nil) -> ModelRequester {
        BenchHarness.requester(server, envVar: envVar)
    }

    private func run(_ words: [String], _ requester: ModelRequester, recorder: RecordingRecorder? = nil) throws -> CommandResult {
        try BenchHarness.run(words, requester, recorder: recorder)
    }

    private func levels(_ r: CommandResult) -> [JSONValue] { BenchHarness.levels(r) }

    // MARK: the arrival schedule

    @Test func evenArrivalsAreExactlyOneOverTheRateApart() {
        var s = ArrivalSchedule(rate: 4, rampUp: 0, burstiness: nil, seed: 1)
        #expect((0..<5).map { _ in s.next() } == [0, 0.25, 0.5, 0.75, 1.0])
    }

    @Test func poissonArrivalsRepeatWithTheSeedAndAverageTheRate() {
        func arrivals(_ seed: UInt64, _ n: Int) -> [Double] {
            var s = ArrivalSchedule(rate: 50, rampUp: 0, burstiness: 1, seed: seed)
            return (0..<n).map { _ in s.next() }
        }
        #expect(arrivals(7, 100) == arrivals(7, 100))
        #expect(arrivals(7, 100) != arrivals(8, 100))
        let times = arrivals(3, 20_000)
        let meanGap = times.last! / Double(times.count)
        #expect(abs(meanGap - 0.02) < 0.0006, "mean gap \(meanGap) s at 50/s")
        // Exponential gaps: about 1/e of them longer than the mean (not evenly spaced).
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        let longer = Double(gaps.filter { $0 > 0.02 }.count) / Double(gaps.count)
        #expect(abs(longer - exp(-1)) < 0.02, "share of gaps above the mean: \(longer)")
        #expect(times == times.sorted())
    }

    /// Gamma gaps (vLLM's burstiness): the mean rate stays, the spread is 1/√shape, a seed
    /// repeats the schedule, and shape 1 is the Poisson schedule itself.
    @Test func burstyArrivalsKeepTheRateAndSpreadTheGaps() {
        func gaps(_ shape: Double?, seed: UInt64 = 5, _ n: Int = 40_000) -> [Double] {
            var s = ArrivalSchedule(rate: 20, rampUp: 0, burstiness: shape, seed: seed)
            let times = (0..<n).map { _ in s.next() }
            return zip(times.dropFirst(), times).map { $0 - $1 }
        }
        for shape in [0.25, 0.5, 2.0, 4.0] {
            let g = gaps(shape)
            let mean = g.reduce(0, +) / Double(g.count)
            let sd = (g.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(g.count)).squareRoot()
            #expect(abs(mean - 0.05) < 0.05 * 0.04, "shape \(shape): mean gap \(mean) s at 20/s")
            #expect(abs(sd / mean - 1 / shape.squareRoot()) < 0.06 / shape.squareRoot(),
                    "shape \(shape): coefficient of variation \(sd / mean), expected \(1 / shape.squareRoot())")
            #expect(g.allSatisfy { $0 >= 0 })
        }
        // Bursts: at 0.25 a tenth of the gaps are under a thousandth of the mean; at 4, almost none.
        #expect(gaps(0.25).count { $0 < 0.05 / 1000 } > 4000)
        #expect(gaps(4).count { $0 < 0.05 / 1000 } == 0)
        #expect(gaps(0.5, seed: 11, 100) == gaps(0.5, seed: 11, 100))
        #expect(gaps(0.5, seed: 11, 100) != gaps(0.5, seed: 12, 100))
        var poisson = ArrivalSchedule(rate: 20, rampUp: 0, burstiness: 1, seed: 5)
        var exponential = SplitMix64(seed: 5)
        var units = 0.0
        for _ in 0..<100 {
            units += exponential.exponential()
            #expect(poisson.next() == units / 20)
        }
    }

    @Test func rampUpRaisesTheRateLinearly() {
        // 10/s after a 2 s ramp: 10 arrivals expected during the ramp (rate·ramp/2), the
        // first quarter of them in its first half.
        var s = ArrivalSchedule(rate: 10, rampUp: 2, burstiness: nil, seed: 1)
        let times = (0..<30).map { _ in s.next() }
        #expect(times.filter { $0 <= 2 + 1e-9 }.count == 10)
        #expect(times.filter { $0 < 1 - 1e-9 }.count == 2)   // 10·1²/(2·2) = 2.5 expected by 1 s
        // After the ramp, exactly 0.1 s apart.
        let late = times.filter { $0 > 2 + 1e-9 }
        for (a, b) in zip(late.dropFirst(), late) { #expect(abs(a - b - 0.1) < 1e-9) }
        #expect(abs(s.expected(by: 3) - 20) < 1e-9)
    }

    // MARK: closed loop

    @Test func closedLoopKeepsEveryRequestInFlightFromOneLoop() throws {
        // 32 requests of 400 ms at concurrency 32: one round, not 32.
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.4", "--reply", "a b c"])
        defer { server.stop() }
        let r = try run(["m", "-n", "32", "-c", "32"], requester(server))
        let level = try #require(levels(r).first)
        #expect(level["requests"] == .int(32))
        #expect(level["errors"] == .int(0))
        #expect(level["max_in_flight"] == .int(32))
        #expect(level["mode"] == .string("closed"))
        #expect(level["requested_rate"] == .null)
        #expect(level["generator_behind"] == .null, "a closed loop has no schedule to fall behind")
        #expect(level["held_for_log_s"] == .double(0), "the log kept up")
        let wall = try #require(level["wall_ms"]?.doubleValue)
        #expect(wall < 1500, "32 at once take one round of 400 ms, took \(wall) ms")
        #expect(level["output_tokens"] == .int(96))
    }

    /// A level keeps each request's figures, not its texts (a long run would hold every reply
    /// in memory); the rows handed on for the log have the prompt and the reply.
    @Test func aLevelKeepsFiguresAndTheRowsKeepTheTexts() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b c"])
        defer { server.stop() }
        let provider = MetricsTestConfig.provider("fake", .llamaCpp, server.baseURL)
        let handed = Locked<[RequestSample]>([])
        let run = LoadEngine.run(plan: LoadPlan(shape: .closed(concurrency: 2), requests: 6, duration: nil), model: "m",
                                 prompt: "say abc", maxTokens: 8, wire: {
                                     [try WireTarget(provider: provider, backendModel: "fake-model", environment: [:], routeReason: nil)]
                                 }, interrupt: InterruptFlag(), onSample: { s in handed.withLock { $0.append(s) } })
        #expect(run.samples.count == 6)
        #expect(run.samples.allSatisfy { $0.ok && $0.replyText.isEmpty && $0.prompt == nil && $0.outputTokens == 3 && $0.ttftMs != nil })
        let rows = handed.withLock { $0 }
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { $0.replyText == "a b c" && $0.prompt?.hasSuffix("say abc") == true }, "\(rows.map(\.replyText))")
    }

    /// A level holds one sample a request: compact, and the same values back out, nil and
    /// zero apart; a copy's texts are its own.
    @Test func aSampleIsCompactAndKeepsItsValues() {
        #expect(MemoryLayout<RequestSample>.stride <= 184, "\(MemoryLayout<RequestSample>.stride) bytes a request")
        var s = RequestSample(model: "m", sequence: 7, warmup: false, ok: true, startedAt: Date(), totalMs: 12.5,
                              coldLoad: true, replyText: "hello")
        #expect(s.ttftMs == nil && s.itlMs == nil && s.queueMs == nil && s.outputTokens == nil && s.httpStatus == nil)
        s.ttftMs = 0
        s.sendLagMs = 0.25
        s.outputTokens = 0
        s.promptTokens = 3_000_000_000   // past Int32: clamped, not wrapped
        s.httpStatus = 200
        s.chunks = 31
        s.attempts = 2
        s.coldLoadNote = "Ollama load_duration 3.20 s"
        s.prompt = "say hello"
        #expect(s.ttftMs == 0 && s.sendLagMs == 0.25 && s.outputTokens == 0 && s.httpStatus == 200)
        #expect(s.promptTokens == Int(Int32.max))
        #expect(s.chunks == 31 && s.attempts == 2 && s.totalMs == 12.5)
        var copy = s
        copy.replyText = "changed"
        copy.ttftMs = nil
        #expect(s.replyText == "hello" && s.ttftMs == 0, "the original keeps its own")
        #expect(copy.replyText == "changed" && copy.prompt == "say hello" && copy.ttftMs == nil)
        let kept = s.figuresOnly()
        #expect(kept.replyText.isEmpty && kept.prompt == nil && kept.records.isEmpty)
        #expect(kept.coldLoadNote == "Ollama load_duration 3.20 s" && kept.outputTokens == 0 && kept.sendLagMs == 0.25)
        #expect(s.replyText == "hello")
        var failed = RequestSample(model: "m", sequence: 1, warmup: false, ok: false, startedAt: Date(), totalMs: 1,
                                   coldLoad: false, replyText: "partial")
        failed.error = "connection reset"
        #expect(failed.figuresOnly().error == "connection reset" && failed.figuresOnly().replyText.isEmpty)
    }

    /// Lanes' samples are put in the order they were sent in place: the same order as a sort.
    @Test func samplesOfSeveralLanesAreOrderedByStartInPlace() {
        var rng = SplitMix64(seed: 42)
        let base = Date()
        var samples = (0..<5000).map { i in
            // Ties on the start time are broken by the sequence number.
            RequestSample(model: "m", sequence: i, warmup: false, ok: true,
                          startedAt: base.addingTimeInterval(Double(rng.next() % 400) / 1000), totalMs: Double(i), coldLoad: false,
                          replyText: "")
        }
        let expected = samples.sorted { ($0.startedAt, $0.sequence) < ($1.startedAt, $1.sequence) }.map(\.sequence)
        LoadEngine.sortByStart(&samples)
        #expect(samples.map(\.sequence) == expected)
        #expect(samples.allSatisfy { $0.totalMs == Double($0.sequence) }, "each sample moved whole")
        var none: [RequestSample] = []
        LoadEngine.sortByStart(&none)
        #expect(none.isEmpty)
    }

    /// A rate this machine cannot send (here a router that takes 2 ms a request): the level
    /// ends at its time, and the arrivals not sent by then are unsent, not sent late for
    /// seconds after the level is over.
    @Test func aGeneratorFarBehindStopsAtTheLevelsEnd() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a"])
        defer { server.stop() }
        let provider = MetricsTestConfig.provider("fake", .llamaCpp, server.baseURL)
        let began = MonotonicClock.now()
        // 2,000 arrivals due in 0.4 s; at 2 ms a send, sending them all would take 4 s.
        let run = LoadEngine.run(plan: LoadPlan(shape: .rate(perSecond: 5000, burstiness: nil, seed: 1, maxConcurrency: nil),
                                                requests: nil, duration: 0.4, threads: 1),
                                 model: "m", prompt: "hi", maxTokens: 8, wire: {
                                     usleep(2000)
                                     return [try WireTarget(provider: provider, backendModel: "fake-model", environment: [:], routeReason: nil)]
                                 }, interrupt: InterruptFlag())
        let took = MonotonicClock.now() - began
        #expect(run.unsent > 1000, "unsent \(run.unsent), sent \(run.samples.count)")
        #expect(run.samples.count + run.unsent == 2000, "sent \(run.samples.count) + unsent \(run.unsent)")
        #expect(run.samples.count > 0)
        #expect(took < 2.5, "the level took \(took) s")
    }

    @Test func aBurstyRateLevelSaysItsShape() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a"])
        defer { server.stop() }
        let r = try run(["m", "--rate", "80", "--burstiness", "0.25", "--seed", "3", "-n", "24"], requester(server))
        let level = try #require(levels(r).first)
        #expect(level["mode"] == .string("bursty"))
        #expect(level["burstiness"] == .double(0.25))
        #expect(level["requests"] == .int(24))
        #expect(r.data?["parameters"]?["burstiness"] == .double(0.25))
        #expect(r.data?["parameters"]?["poisson"] == .bool(false))
        #expect(r.data?["parameters"]?["seed"] == .int(3))
        #expect(r.text.contains("80.0/s burst 0.25"), "\(r.text)")
        let even = try run(["m", "--rate", "80", "-n", "4"], requester(server))
        #expect(levels(even).first?["burstiness"] == .null)
        #expect(even.data?["parameters"]?["burstiness"] == .null)
        let poisson = try run(["m", "--rate", "80", "--poisson", "-n", "4"], requester(server))
        #expect(levels(poisson).first?["mode"] == .string("poisson"))
        #expect(levels(poisson).first?["burstiness"] == .double(1))
    }

    /// Arrivals still waiting for a slot when the level's time is up are counted and said.
    @Test func arrivalsLeftWaitingAtTheEndAreReportedUnsent() throws {
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.3", "--reply", "a"])
        defer { server.stop() }
        let r = try run(["m", "--rate", "200", "--max-concurrency", "2", "--duration", "0.5s"], requester(server))
        let level = try #require(levels(r).first)
        let unsent = try #require(level["unsent"]?.intValue)
        #expect(unsent > 50, "about 100 due, at most about 4 sent: \(unsent) unsent")
        #expect(r.text.contains("200/s ≤2: \(unsent) scheduled requests not sent before the level's time was up\n"), "\(r.text)")
    }

    /// A log slower than the server: once the rows not yet written reach the writer's limit,
    /// the load sends nothing new until it has room (rather than holding every row in
    /// memory), the level says how long, and every request is still a row.
    @Test func aLogThatFallsBehindHoldsTheLoadBackAndLosesNoRow() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b c"])
        defer { server.stop() }
        let provider = MetricsTestConfig.provider("fake", .llamaCpp, server.baseURL)
        let recorder = RecordingRecorder()
        recorder.batchDelay = 0.25
        // Room for fewer than four rows: each holds at least a sample.
        let rows = AttemptRowWriter(recorder: recorder, kind: "bench", prompt: "say abc",
                                    backlogLimit: 4 * MemoryLayout<RequestSample>.stride)
        let run = LoadEngine.run(plan: LoadPlan(shape: .closed(concurrency: 2), requests: 24, duration: nil), model: "m",
                                 prompt: "say abc", maxTokens: 8, wire: {
                                     [try WireTarget(provider: provider, backendModel: "fake-model", environment: [:], routeReason: nil)]
                                 }, interrupt: InterruptFlag(), onSample: { rows.add($0) }, holdBack: { rows.isFull })
        rows.finish()
        #expect(run.samples.count == 24)
        #expect(run.samples.allSatisfy { $0.ok })
        #expect(recorder.attempts.count == 24, "every request is a row")
        #expect(!rows.isFull, "the backlog is counted down as it is written")
        // At most the limit's rows plus those in flight when it was reached wait for a batch
        // (unheld, the fake provider answers all 24 before the first write ends).
        #expect(recorder.attemptBatches.allSatisfy { $0 <= 4 + 2 }, "batches \(recorder.attemptBatches)")
        #expect(run.heldSeconds > 0.25, "held \(run.heldSeconds) s")
        #expect(run.heldSeconds < run.wallSeconds)
    }

    // MARK: lanes (event loops on threads of their own)

    @Test func lanesShareALevelWithoutLosingOrRepeatingARequest() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b"])
        defer { server.stop() }
        for words in [["m", "-n", "41", "-c", "8", "--threads", "2"], ["m", "-n", "41", "--rate", "400", "--threads", "2"]] {
            let recorder = RecordingRecorder()
            let r = try run(words, requester(server), recorder: recorder)
            let level = try #require(levels(r).first)
            #expect(level["client_threads"] == .int(2), "\(words)")
            #expect(level["requests"] == .int(41), "\(words)")
            #expect(level["errors"] == .int(0), "\(words)")
            // Each request carries its own tag: 41 rows, 41 different prompts.
            #expect(recorder.attempts.count == 41)
            #expect(Set(recorder.attempts.map(\.prompt)).count == 41, "\(words): a sequence number was used twice")
            #expect((level["max_in_flight"]?.intValue ?? 0) <= (words.contains("-c") ? 8 : 41))
            #expect(r.data?["parameters"]?["threads"] == .int(2))
        }
    }

    @Test func anOpenLoopOverLanesKeepsItsRate() throws {
        // 60 arrivals at 100/s dealt out to two loops: still 100/s, none lost.
        let server = try MetricsTestServer.fakeProvider(["--reply", "a"])
        defer { server.stop() }
        let r = try run(["m", "-n", "60", "--rate", "100", "--threads", "2"], requester(server))
        let level = try #require(levels(r).first)
        #expect(level["requests"] == .int(60))
        let achieved = try #require(level["achieved_rate"]?.doubleValue)
        #expect(abs(achieved - 100) < 10, "achieved \(achieved)/s of 100/s")
        let wall = try #require(level["wall_ms"]?.doubleValue)
        #expect(wall > 550 && wall < 2000, "60 at 100/s take about 0.6 s, took \(wall) ms")
    }

    @Test func howManyLanesALevelGets() {
        func plan(_ shape: LoadShape, threads: Int? = nil) -> LoadPlan {
            var p = LoadPlan(shape: shape, requests: 10, duration: nil)
            p.threads = threads
            return p
        }
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #expect(LoadEngine.lanes(for: plan(.closed(concurrency: 1))) == 1)
        #expect(LoadEngine.lanes(for: plan(.closed(concurrency: 3))) == 1)
        #expect(LoadEngine.lanes(for: plan(.closed(concurrency: 15))) == 1, "a loop per eight in flight at most")
        #expect(LoadEngine.lanes(for: plan(.closed(concurrency: 16))) == min(2, cores))
        #expect(LoadEngine.lanes(for: plan(.closed(concurrency: 1), threads: 4)) == 1, "never more loops than requests in flight")
        #expect(LoadEngine.lanes(for: plan(.closed(concurrency: 64), threads: 3)) == 3)
        #expect(LoadEngine.lanes(for: plan(.replay(offsets: [0, 1], maxConcurrency: nil), threads: 2)) == 1,
                "a replayed log keeps its order on one loop")
        #expect(LoadEngine.lanes(for: plan(.closed(concurrency: 256))) == cores)
        // Shares add up to the whole, the first lanes taking the rest.
        for (total, count) in [(41, 2), (7, 3), (1, 2), (0, 4)] {
            let shares = (0..<count).map { LoadEngine.Lane(index: $0, count: count).share(total) }
            #expect(shares.reduce(0, +) == total)
            #expect(shares.max()! - shares.min()! <= 1)
        }
        #expect((0..<9).filter { LoadEngine.Lane(index: 1, count: 3).owns(arrival: $0) } == [1, 4, 7])
    }

    @Test func threadsUsageErrors() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a"])
        defer { server.stop() }
        for bad in ["0", "65"] {
            #expect(throws: UsageError.self) { try run(["m", "-n", "1", "--threads", bad], requester(server)) }
        }
    }

    @Test func aTransferSaysWhenItsRequestWentOutAndWhenEachPieceWasRead() throws {
        // The loop is slow to take what arrived (100 ms per event): the times it is handed
        // are those of the socket, not of the loop.
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b c"])
        defer { server.stop() }
        let body = Array(#"{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hi"}]}"#.utf8)
        let request = HTTPRequest(method: "POST", url: server.baseURL + "/v1/chat/completions",
                                  headers: [("Content-Type", "application/json")], body: body)
        let before = MonotonicClock.now()
        var readAt: [Double] = []
        var handedAt: [Double] = []
        let results = TransferLoop.run([request], interrupt: nil) { _, event in
            if case let .body(_, at) = event {
                readAt.append(at)
                handedAt.append(MonotonicClock.now())
                usleep(100_000)
            }
            return true
        }
        let (result, timings) = try #require(results.first)
        _ = try result.get()
        let sent = try #require(timings.sentAt, "libcurl's PREREQFUNCTION marks the send")
        #expect(sent >= before)
        #expect(!readAt.isEmpty)
        for (read, handed) in zip(readAt, handedAt) { #expect(read >= sent && read <= handed) }
        let last = try #require(timings.lastByteAt)
        #expect(last >= readAt.last! && last >= sent)
    }

    @Test func queueingStartsAtTheServersCapacity() throws {
        // The server decodes 2 streams at once: at concurrency 2 TTFT is the injected
        // 300 ms, at 4 half of the requests wait a round in its queue.
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.3", "--capacity", "2", "--reply", "a"])
        defer { server.stop() }
        let r = try run(["m", "-n", "8", "-c", "2,4"], requester(server))
        let l = levels(r)
        let at2 = try #require(l[0]["ttft_ms"]?["p90"]?.doubleValue)
        let at4 = try #require(l[1]["ttft_ms"]?["p90"]?.doubleValue)
        #expect(abs(at2 - 300) < CompareTests.toleranceMs, "below capacity: \(at2) ms")
        #expect(at4 > 600 - CompareTests.toleranceMs && at4 < 600 + 3 * CompareTests.toleranceMs, "above capacity, one round queued: \(at4) ms")
    }

    // MARK: open loop

    @Test func openLoopSendsOnScheduleWhateverTheServerTakes() throws {
        // 500 ms per request: a closed loop at 1 would take 10 s for 20; at 20/s they are
        // all sent within a second, most of them before the first has ended.
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.5", "--reply", "a"])
        defer { server.stop() }
        let recorder = RecordingRecorder()
        let r = try run(["m", "-n", "20", "--rate", "20"], requester(server), recorder: recorder)
        #expect(r.status == .ok)
        let level = try #require(levels(r).first)
        #expect(level["mode"] == .string("constant"))
        #expect(level["requested_rate"] == .double(20))
        #expect(level["concurrency"] == .null, "no cap")
        #expect(level["requests"] == .int(20))
        let achieved = try #require(level["achieved_rate"]?.doubleValue)
        #expect(abs(achieved - 20) < 2, "achieved \(achieved)/s of 20/s")
        #expect((level["max_in_flight"]?.intValue ?? 0) >= 9)
        let lag = try #require(level["send_lag_ms"]?["p50"]?.doubleValue)
        #expect(lag < 20, "send lag p50 \(lag) ms")
        #expect(level["queue_ms"] == .null, "no cap, no client queue")
        #expect(level["generator_behind"] == .bool(false) || level["generator_behind"] == .bool(true))
        let wall = try #require(level["wall_ms"]?.doubleValue)
        #expect(wall < 2500, "sent over ~1 s, each 0.5 s: took \(wall) ms")
        #expect(recorder.attempts.count == 20)
        let rows = MetricsCommandTests.words(r.text)
        #expect(rows[1] == ["LOAD", "SENT/S", "REQS", "OK", "ERR", "REQ/S", "TOK/S", "TTFT", "p50", "p90", "p99", "ITL", "p50", "p99",
                            "LATENCY", "p50", "p90", "p99", "LAG", "p99", "QUEUE", "p99"])
        #expect(rows[2].first == "20.0/s")
    }

    @Test func maxConcurrencyQueuesInTheClient() throws {
        // 10 requests at 20/s but at most 2 in flight, 300 ms each: the client's queue grows.
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.3", "--reply", "a"])
        defer { server.stop() }
        let r = try run(["m", "-n", "10", "--rate", "20", "--max-concurrency", "2", "--poisson", "--seed", "5"], requester(server))
        let level = try #require(levels(r).first)
        #expect(level["mode"] == .string("poisson"))
        #expect(level["concurrency"] == .int(2))
        #expect(level["max_in_flight"] == .int(2))
        #expect(level["requests"] == .int(10))
        let queued = try #require(level["queue_ms"]?["max"]?.doubleValue)
        #expect(queued > 600, "the last requests wait rounds of 300 ms for a slot, max \(queued) ms")
        // Queue time is not TTFT: the TTFT of each request is the server's 300 ms.
        let ttft = try #require(level["ttft_ms"]?["p50"]?.doubleValue)
        #expect(abs(ttft - 300) < CompareTests.toleranceMs)
        #expect(r.data?["parameters"]?["seed"] == .int(5))
        #expect(MetricsCommandTests.words(r.text)[2].prefix(3) == ["20.0/s", "poisson", "≤2"])
    }

    @Test func rampUpRequestsAreLoggedButNotCounted() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a"])
        defer { server.stop() }
        let recorder = RecordingRecorder()
        let r = try run(["m", "-n", "10", "--rate", "20", "--ramp-up", "500ms"], requester(server), recorder: recorder)
        let level = try #require(levels(r).first)
        let ramp = try #require(level["ramp_up_requests"]?.intValue)
        #expect(ramp == 5, "20/s over a 0.5 s ramp: 5 arrivals")
        #expect(level["requests"] == .int(10))
        #expect(recorder.attempts.count == 10 + ramp)
        #expect(recorder.attempts.filter { $0.routeReason.hasPrefix("bench warm-up") }.count == ramp)
    }

    @Test func sweepGoesFromSynchronousToThroughput() throws {
        // Capacity 4, 200 ms each: ~5/s one at a time, ~20/s at full load.
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.2", "--capacity", "4", "--reply", "a"])
        defer { server.stop() }
        let r = try run(["m", "-n", "8", "--sweep", "2", "--max-concurrency", "4"], requester(server))
        let l = levels(r)
        #expect(l.map { $0["mode"]?.stringValue } == ["synchronous", "throughput", "constant", "constant"])
        #expect(l[0]["concurrency"] == .int(1))
        #expect(l[1]["concurrency"] == .int(4))
        let sync = try #require(l[0]["requests_per_second"]?.doubleValue)
        let top = try #require(l[1]["requests_per_second"]?.doubleValue)
        #expect(top > 2 * sync, "throughput \(top)/s vs synchronous \(sync)/s")
        let rates = l[2...].compactMap { $0["requested_rate"]?.doubleValue }
        #expect(rates.count == 2)
        #expect(rates == rates.sorted() && rates.allSatisfy { $0 > sync && $0 < top })
        #expect(abs(rates[0] - (sync + (top - sync) / 3)) < 0.02)
        #expect(r.field("level_count") == .int(4))
        // A send rate is the open loop's: the closed levels send when a slot frees (the
        // throughput level sent its first 4 at once, which is no rate).
        #expect(l[0]["achieved_rate"] == .null && l[1]["achieved_rate"] == .null)
        #expect(l[2...].allSatisfy { $0["achieved_rate"]?.doubleValue != nil })
        let rows = r.text.split(separator: "\n").map { $0.split(separator: " ") }.filter { ["sync", "c=4"].contains($0.first) }
        #expect(rows.count == 2 && rows.allSatisfy { $0.dropFirst().first == "-" }, "\(r.text)")
    }

    @Test func interruptEndsTheLevelAtOnceAndLogsTheCancelledRequests() throws {
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "5", "--reply", "a"])
        defer { server.stop() }
        let ctx = ShellContext(output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        let recorder = RecordingRecorder()
        ctx.recorder = recorder
        let interrupt = ctx.interrupt
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.4) { interrupt.raise() }
        let started = Date()
        let r = try BenchCommand.run(try BenchCommand.spec.parse(words: ["m", "-n", "50", "--rate", "10"], line: "", location: nil),
                                     ctx, requester: requester(server))
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(r.status == .error)
        #expect(r.error?.hasPrefix("bench: cancelled after") == true)
        let level = try #require(levels(r).first)
        let sent = try #require(level["requests"]?.intValue)
        #expect(sent >= 3 && sent <= 15, "10/s for 0.4 s (the timer may fire late on a busy machine), got \(sent)")
        #expect(level["error_kinds"] == .object([("cancelled", .int(sent))]))
        #expect(recorder.attempts.count == sent)
        #expect(recorder.attempts.allSatisfy { $0.status == .cancelled })
    }

    @Test func aRequestThatCannotBeSentIsAnErrorRow() throws {
        let server = try MetricsTestServer.fakeProvider([])
        defer { server.stop() }
        let recorder = RecordingRecorder()
        let r = try run(["m", "-n", "2", "--rate", "50"], requester(server, envVar: "AISH_TEST_UNSET_KEY"), recorder: recorder)
        #expect(r.status == .error)
        #expect(levels(r).first?["error_kinds"] == .object([("no api key", .int(2))]))
        #expect(recorder.attempts.count == 2)
    }

    @Test func requestsThatCannotBeSentDoNotSpinForTheDuration() throws {
        // No API key: nothing can be sent. For 300 ms at concurrency 4 that is a few rounds
        // of 4 errors (one per turn of the loop), not a busy loop of millions.
        let server = try MetricsTestServer.fakeProvider([])
        defer { server.stop() }
        let r = try run(["m", "--duration", "300ms", "-c", "4"], requester(server, envVar: "AISH_TEST_UNSET_KEY"))
        let n = try #require(r.field("requests")?.intValue)
        #expect(n >= 4 && n <= 200, "got \(n) error rows")
    }

    /// `-o temperature 0 -o top_p 0.9 -o seed 7` goes into every request the engine sends and
    /// into the run's parameters; `-o max_tokens` is --max-tokens.
    @Test func samplingOptionsGoWithEveryRequest() throws {
        func settings(_ words: [String]) throws -> BenchCommand.Settings {
            try BenchCommand.settings(try BenchCommand.spec.parse(words: words, line: "", location: nil))
        }
        let s = try settings(["m", "-o", "temperature", "0", "-o", "top_p", "0.9", "-o", "seed", "7", "-o", "max_tokens", "5"])
        #expect(s.sampling == ChatOptions(temperature: 0, topP: 0.9, seed: 7))
        #expect(s.maxTokens == 5)
        #expect(BenchCommand.parameters(s)["options"] == .object([("temperature", .double(0)), ("top_p", .double(0.9)), ("seed", .int(7))]))
        #expect(BenchCommand.parameters(try settings(["m"]))["options"] == .null)
        func message(_ words: [String]) -> String? {
            do { _ = try settings(words); return nil } catch let e as UsageError { return e.message } catch { return "\(error)" }
        }
        #expect(message(["m", "-o", "max_tokens", "5", "--max-tokens", "6"]) == "bench: give -o max_tokens K or --max-tokens K or --output-tokens N, one of them")
        #expect(message(["m", "-o", "temperature", "hot"]) == "bench: -o temperature must be a number from 0 to 2, got 'hot'")
        #expect(message(["m", "-o", "temprature", "1"])?.hasPrefix("bench: -o: unknown option 'temprature' (did you mean 'temperature'?)") == true)

        let provider = MetricsTestConfig.provider("fake", .vllm, "http://127.0.0.1:9")
        let target = try WireTarget(provider: provider, backendModel: "fake-model", environment: [:], routeReason: nil)
        let sent = try JSONValue.parse(bytes: target.request(prompt: "hi", maxTokens: 5, sampling: s.sampling).body ?? [])
        #expect(sent["temperature"] == .double(0) && sent["top_p"] == .double(0.9) && sent["seed"] == .int(7))
        #expect(sent["max_tokens"] == .int(5) && sent["messages"]?[0]?["content"] == JSONValue.string("hi"))
        let plain = try JSONValue.parse(bytes: target.request(prompt: "hi", maxTokens: 5).body ?? [])
        #expect(plain["temperature"] == nil && plain["top_p"] == nil && plain["seed"] == nil)
        // What the server received from a run: every request with them.
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b"])
        defer { server.stop() }
        let r = try run(["m", "-n", "6", "-c", "3", "-o", "temperature", "0", "-o", "seed", "7"], requester(server))
        #expect(levels(r).first?["errors"] == .int(0))
        let got = try HTTPTransport.fetch(HTTPRequest(url: server.baseURL + "/_fake/requests"), interrupt: nil).json()
        guard case let .array(requests)? = got["requests"] else { Issue.record("no requests: \(got)"); return }
        let bodies = requests.compactMap { $0["body"] }.filter { $0["messages"] != nil }
        #expect(bodies.count == 6)
        #expect(bodies.allSatisfy { $0["temperature"] == .double(0) && $0["seed"] == .int(7) && $0["top_p"] == nil }, "\(bodies)")
    }

    @Test func openLoopUsageErrors() throws {
        func message(_ words: [String]) -> String? {
            do { _ = try BenchCommand.settings(try BenchCommand.spec.parse(words: words, line: "", location: nil)); return nil }
            catch let e as UsageError { return e.message } catch { return "\(error)" }
        }
        #expect(message(["a", "--rate", "5", "-c", "2"]) == "bench: -c (closed loop) and --rate (open loop) exclude each other")
        #expect(message(["a", "--rate", "0"]) == "bench: --rate takes request rates per second above 0 separated by commas, got '0'")
        #expect(message(["a", "--rate", "5,x"]) == "bench: --rate takes request rates per second above 0 separated by commas, got '5,x'")
        #expect(message(["a", "--poisson"]) == "bench: --poisson needs --rate or --sweep")
        #expect(message(["a", "--rate", "5", "--seed", "3"]) == "bench: --seed needs --poisson, --burstiness or --prompt-tokens")
        #expect(message(["a", "--burstiness", "0.5"]) == "bench: --burstiness needs --rate or --sweep")
        #expect(message(["a", "-c", "2", "--burstiness", "0.5"]) == "bench: --burstiness needs --rate or --sweep")
        #expect(message(["a", "--rate", "5", "--burstiness", "0"]) == "bench: --burstiness takes a number from 0.01 to 100 (1 is Poisson), got '0'")
        #expect(message(["a", "--rate", "5", "--burstiness", "lots"]) == "bench: --burstiness takes a number from 0.01 to 100 (1 is Poisson), got 'lots'")
        #expect(message(["a", "--rate", "5", "--poisson", "--burstiness", "2"]) == "bench: --poisson is --burstiness 1; give one of them")
        #expect(message(["a", "--rate", "5", "--poisson", "--burstiness", "1"]) == nil)
        #expect(message(["a", "--sweep", "2", "--burstiness", "0.25", "--seed", "9"]) == nil)
        #expect(message(["a", "--rate", "5", "--poisson", "--seed", "-1"]) == "bench: --seed takes a whole number from 0, got '-1'")
        #expect(message(["a", "-c", "4", "--max-concurrency", "2"]) == "bench: --max-concurrency needs --rate, --sweep, --find-max, --from-log or --trace (with -c the concurrency is fixed)")
        #expect(message(["a", "--rate", "5", "--max-concurrency", "0"]) == "bench: --max-concurrency takes 1 to 1024, got 0")
        #expect(message(["a", "--sweep", "3", "--rate", "5"]) == "bench: --sweep chooses its own levels: leave out -c and --rate")
        #expect(message(["a", "--sweep", "0"]) == "bench: --sweep takes 1 to 100 rates, got 0")
        #expect(message(["a", "--ramp-up", "soon"]) == "bench: --ramp-up takes a duration such as 500ms, 2s or 1m, got 'soon'")
        #expect(message(["a", "--rate", "2.5,10", "--poisson"]) == nil)
    }
}
