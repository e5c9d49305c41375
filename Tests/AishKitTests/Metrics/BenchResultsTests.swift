import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishSessionLog
@testable import AishTelemetry
@testable import AishMeasure
@testable import AishScript

/// What a bench run leaves behind: its row and levels in a real session log, the files it
/// writes, `--compare` against an earlier run (and `expect` on it), and the chart.
@Suite(.serialized) struct BenchResultsTests {
    private func bench(_ server: MetricsTestServer) throws -> ChatBench {
        try ChatBench(providers: [("fake", "llama_cpp", server.baseURL, "")], mappings: "exact_matches:\n  m:\n    provider: fake\n")
    }

    private func rows(_ path: String, _ sql: String) throws -> [[String]] {
        let reader = try SessionLogReader(path: path)
        let s = try reader.db.prepare(sql)
        var out: [[String]] = []
        while try s.step() { out.append((0..<s.columnCount).map { s.isNull($0) ? "NULL" : s.string($0) }) }
        return out
    }

    @Test func aRunIsARowWithItsLevelsAndWritesItsFiles() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b c", "--token-delay", "0.01"])
        defer { server.stop() }
        let b = try bench(server)
        let dir = b.directory
        let secret = "sk-proj-ABCDEFGH12345678"
        let r = try b.run(["bench", "m", "-n", "3", "-c", "1,2", "-p", "key \(secret) here", "--out", dir + "/run.json",
                           "--csv", dir + "/levels.csv", "--requests-jsonl", dir + "/requests.jsonl", "--chart"])
        #expect(r.status == .ok, "\(r.error ?? "")")
        let runID = try #require(r.field("run_id")?.intValue)
        let levels = try rows(b.databasePath, "SELECT run_id, level, mode, concurrency, requests, ok FROM bench_levels ORDER BY level")
        #expect(levels == [["\(runID)", "0", "closed", "1", "3", "3"], ["\(runID)", "1", "closed", "2", "3", "3"]])
        #expect(try rows(b.databasePath, "SELECT kind FROM runs WHERE id = \(runID)") == [["bench"]])

        let json = try String(contentsOfFile: dir + "/run.json", encoding: .utf8)
        #expect(!json.contains(secret), "secrets are masked in files")
        let report = try JSONValue.parse(json)
        #expect(report["level_count"] == .int(2))
        #expect(report["run_id"] == .int(runID))
        let csv = try String(contentsOfFile: dir + "/levels.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 3)
        #expect(String(csv[0]) == BenchResults.csvHeader)
        #expect(csv[1].hasPrefix("1,closed,c=1,1,,"))
        let header = csv[0].split(separator: ",", omittingEmptySubsequences: false)
        let row = csv[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(header.count == row.count)
        let p95 = try #require(header.firstIndex(of: "ttft_p95_ms"))
        let p50 = try #require(header.firstIndex(of: "ttft_p50_ms"))
        #expect(Double(row[p95]) ?? -1 >= Double(row[p50]) ?? .infinity, "TTFT p95 \(row[p95]), p50 \(row[p50])")
        let lines = try String(contentsOfFile: dir + "/requests.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        let first = try JSONValue.parse(String(lines[0]))
        #expect(first["level"] == .int(1) && first["ok"] == .bool(true) && first["tokens_counted_by"] == .string("usage"))
        #expect(first["output_tokens"] == .int(3) && first["chunks"] == .int(3))
        var st = stat()
        #expect(stat(dir + "/requests.jsonl", &st) == 0 && st.st_mode & 0o077 == 0, "per-request lines are private")
        #expect(r.text.contains("median latency against output tokens/s"))
        #expect(r.text.contains("run \(runID) in the session log"))
    }

    @Test func compareSetsARunBesideAnEarlierOneForExpect() throws {
        let server = try MetricsTestServer.fakeProvider(["--reply", "a b c", "--first-token-delay", "0.05"])
        defer { server.stop() }
        let b = try bench(server)
        let first = try b.run(["bench", "m", "-n", "3", "-c", "1,2"])
        let firstID = try #require(first.field("run_id")?.intValue)
        let r = try b.run(["bench", "m", "-n", "3", "-c", "1,2", "--compare", "\(firstID)"])
        #expect(r.status == .ok, "\(r.error ?? "")")
        #expect(r.field("baseline_run") == .int(firstID))
        let change = try #require(r.field("rps_change")?.doubleValue)
        #expect(change > -1 && change < 10)
        #expect(r.field("ttft_change")?.doubleValue != nil)
        #expect(r.data?["comparison"]?["levels"]?[1]?["baseline_load"] == .string("c=2"))
        #expect(r.data?["comparison"]?["differing_parameters"] == .array([]))
        #expect(r.text.contains("against run \(firstID)\n"))
        for words in [["rps_change", ">", "-1"], ["ttft_change", "<", "10"], ["json", "comparison.levels[0].load", "==", "c=1"]] {
            let check = try Expectation.parse(words).check(r)
            #expect(check.passed, "expect \(words.joined(separator: " ")): \(check.actual)")
        }

        // last: the newest earlier run of the model; different parameters are named.
        let last = try b.run(["bench", "m", "-n", "2", "--compare", "last"])
        #expect(last.field("baseline_run") == r.field("run_id"))
        #expect(last.data?["comparison"]?["differing_parameters"] == .array([.string("requests"), .string("concurrency")]))
        #expect(last.text.contains("(parameters differ: requests, concurrency)"))

        do {
            _ = try b.run(["bench", "m", "-n", "1", "--compare", "9999"])
            Issue.record("a run that is not in the log is an error")
        } catch {
            #expect("\(error)" == "bench: --compare: no bench run with id 9999 in the log")
        }
    }

    @Test func theChartPutsEachLevelAtItsThroughputAndLatency() throws {
        func level(_ latency: Double, tokens: Int, wall: Double, c: Int) -> BenchCommand.Level {
            var s = RequestSample(model: "m", sequence: 0, warmup: false, ok: true, startedAt: Date(), totalMs: latency,
                                  coldLoad: false, replyText: "")
            s.outputTokens = tokens
            return BenchCommand.Level(concurrency: c, samples: [s], wallSeconds: wall)
        }
        // Level 1: 10 tok/s at 100 ms; level 2: 20 tok/s at 400 ms.
        let chart = try #require(BenchChart.draw([level(100, tokens: 10, wall: 1, c: 1), level(400, tokens: 20, wall: 1, c: 4)]))
        #expect(chart.hasSuffix("tok/s\n"))
        let lines = chart.split(separator: "\n").map(String.init)
        #expect(lines[0] == "median latency against output tokens/s (levels 1-9, then a-z)")
        // The plot area: what follows the axis on each row.
        let plot = lines.compactMap { l in l.firstIndex(of: "│").map { String(l[l.index(after: $0)...]) } }
        let one = try #require(plot.firstIndex { $0.contains("1") })
        let two = try #require(plot.firstIndex { $0.contains("2") })
        #expect(two < one, "the slower level is drawn higher")
        let col1 = plot[one].distance(from: plot[one].startIndex, to: plot[one].firstIndex(of: "1")!)
        let col2 = plot[two].distance(from: plot[two].startIndex, to: plot[two].firstIndex(of: "2")!)
        #expect(col2 > col1, "and further right")
        #expect(BenchChart.draw([level(100, tokens: 10, wall: 1, c: 1)]) == nil, "one level has no curve")
    }
}
