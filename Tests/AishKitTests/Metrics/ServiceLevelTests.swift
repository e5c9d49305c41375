import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishMeasure

/// `bench --slo` and `--find-max`: targets parsed, requests and levels judged, the search.
@Suite(.serialized) struct ServiceLevelTests {
    private func sample(ttft: Double?, itl: Double? = nil, total: Double, ok: Bool = true) -> RequestSample {
        var s = RequestSample(model: "m", sequence: 0, warmup: false, ok: ok, startedAt: Date(), totalMs: total,
                              coldLoad: false, replyText: "")
        s.ttftMs = ttft
        s.itlMs = itl
        return s
    }

    @Test func targetsAreParsedWithTheirPercentileAndBound() throws {
        let slo = try ServiceLevel.parse("ttft_p95<=200ms, itl_p50<=50ms,e2e_p99<=2s")
        #expect(slo.targets.map(\.measure) == [.ttft, .itl, .e2e])
        #expect(slo.targets.map(\.percentile) == [95, 50, 99])
        #expect(slo.targets.map(\.boundMs) == [200, 50, 2000])
        #expect(slo.targets.map(\.text) == ["ttft_p95<=200ms", "itl_p50<=50ms", "e2e_p99<=2s"])
        func message(_ spec: String) -> String? {
            do { _ = try ServiceLevel.parse(spec); return nil } catch let e as UsageError { return e.message } catch { return "\(error)" }
        }
        let example = "e.g. 'ttft_p95<=200ms,itl_p95<=50ms,e2e_p99<=2s'"
        #expect(message("ttft<200ms") == "bench: --slo takes MEASURE_pNN<=DURATION terms, \(example), got 'ttft<200ms'")
        #expect(message("tbt_p95<=1s") == "bench: --slo measures are ttft, itl, icl, tpot and e2e, \(example), got 'tbt_p95<=1s'")
        #expect(message("ttft_95<=1s") == "bench: --slo takes a percentile such as p95 after the measure, \(example), got 'ttft_95<=1s'")
        #expect(message("ttft_p101<=1s") == "bench: --slo takes a percentile such as p95 after the measure, \(example), got 'ttft_p101<=1s'")
        #expect(message("ttft_p95<=soon") == "bench: --slo takes a duration such as 200ms or 2s as the bound, \(example), got 'ttft_p95<=soon'")
    }

    @Test func aLevelIsJudgedByItsPercentilesAndFailuresCountAsMisses() throws {
        let slo = try ServiceLevel.parse("ttft_p90<=100ms,e2e_p50<=1s")
        // 9 fast requests and one slow one: p90 (nearest rank, 9th of 10) is fast.
        var samples = (0..<9).map { _ in sample(ttft: 50, total: 500) } + [sample(ttft: 300, total: 900)]
        var v = slo.judge(samples)
        #expect(v.met)
        #expect(v.goodRequests == 9)
        #expect(abs(v.attainment - 0.9) < 1e-9)
        // Two failures: the 9th of 10 is now a failure, which no bound admits.
        samples[0] = sample(ttft: nil, total: 10, ok: false)
        samples[1] = sample(ttft: nil, total: 10, ok: false)
        v = slo.judge(samples)
        #expect(v.brokenBy == ["ttft_p90<=100ms"])
        #expect(v.goodRequests == 7)
        #expect(slo.judge([]).brokenBy == ["ttft_p90<=100ms", "e2e_p50<=1s"], "no request is no evidence")
    }

    @Test func theSearchBracketsThenBisects() {
        // A server that holds up to concurrency 11.
        var search = LoadSearch(axis: .concurrency, start: 1, ceiling: 1024)
        var tried: [Double] = []
        while let c = search.next() {
            tried.append(c)
            search.record(c, met: c <= 11)
        }
        #expect(tried == [1, 2, 4, 8, 16, 12, 10, 11])
        #expect(search.feasible == 11 && search.infeasible == 12 && search.monotonic)

        // Rates to within 10%: a server that holds 30/s.
        var rates = LoadSearch(axis: .rate, start: 4, ceiling: 1_000_000)
        var last: Double = 0
        while let r = rates.next() {
            last = r
            rates.record(r, met: r <= 30)
        }
        #expect(rates.feasible! <= 30 && rates.infeasible! > 30)
        #expect((rates.infeasible! - rates.feasible!) / rates.feasible! <= 0.1, "stopped at \(last)")

        // Broken at the start: halving down.
        var down = LoadSearch(axis: .concurrency, start: 8, ceiling: 1024)
        var seen: [Double] = []
        while let c = down.next() { seen.append(c); down.record(c, met: c <= 2) }
        #expect(seen == [8, 4, 2, 3])

        // A load that met the SLO above one that broke it ends the search.
        var odd = LoadSearch(axis: .concurrency, start: 1, ceiling: 1024)
        _ = odd.next(); odd.record(1, met: true)
        _ = odd.next(); odd.record(2, met: false)
        _ = odd.next(); odd.record(4, met: true)
        #expect(!odd.monotonic)
        #expect(odd.next() == nil)
    }

    @Test func findMaxAgainstAServerOfKnownCapacity() throws {
        // 200 ms per request, 2 streams at a time: at concurrency ≤ 2 TTFT stays ~200 ms, above
        // it requests queue a round (≥ 400 ms).
        let server = try MetricsTestServer.fakeProvider(["--first-token-delay", "0.2", "--capacity", "2", "--reply", "a"])
        defer { server.stop() }
        let ctx = ShellContext(output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        let requester = ModelRequester.direct(provider: MetricsTestConfig.provider("fake", .llamaCpp, server.baseURL),
                                              backendModel: "fake-model", environment: [:])
        let r = try BenchCommand.run(try BenchCommand.spec.parse(words: ["m", "-n", "8", "--slo", "ttft_p90<=320ms",
                                                                          "--find-max", "concurrency", "--max-concurrency", "8"],
                                                                 line: "", location: nil), ctx, requester: requester)
        #expect(r.field("feasible_max") == .double(2))
        #expect(r.field("infeasible_min") == .double(3))
        #expect(r.field("broken_by") == .string("ttft_p90<=320ms"))
        #expect(r.field("monotonic") == .bool(true))
        guard case let .array(levels)? = r.data?["levels"] else { Issue.record("no levels"); return }
        #expect(levels.map { $0["concurrency"] } == [.int(1), .int(2), .int(4), .int(3)])
        #expect(levels[0]["slo_met"] == .bool(true))
        #expect(levels[2]["slo_broken_by"] == .array([.string("ttft_p90<=320ms")]))
        let good = try #require(levels[0]["goodput"]?.doubleValue)
        #expect(good > 3 && good < 6, "one at a time, 200 ms each: ~5/s all good, got \(good)")
        #expect(r.text.contains("highest load meeting the SLO: concurrency 2; lowest breaking it: concurrency 3 (broke ttft_p90<=320ms first)"))
    }

    @Test func usageErrors() {
        func message(_ words: [String]) -> String? {
            do { _ = try BenchCommand.settings(try BenchCommand.spec.parse(words: words, line: "", location: nil)); return nil }
            catch let e as UsageError { return e.message } catch { return "\(error)" }
        }
        #expect(message(["a", "--find-max", "rate"]) == "bench: --find-max needs --slo (the targets the load must meet)")
        #expect(message(["a", "--slo", "e2e_p99<=1s", "--find-max", "speed"]) == "bench: --find-max takes concurrency or rate, got 'speed'")
        #expect(message(["a", "--slo", "e2e_p99<=1s", "--find-max", "rate", "-c", "2"]) == "bench: --find-max rate searches open loops: leave out -c")
        #expect(message(["a", "--slo", "e2e_p99<=1s", "--find-max", "concurrency", "--rate", "2"]) == "bench: --find-max concurrency searches closed loops: leave out --rate")
    }
}
