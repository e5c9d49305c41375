import Foundation
import Testing
@testable import AishBase
@testable import AishSessionLog

/// The commands as a CI script uses them: the aish binary, a config directory, `expect`.
@Suite(.serialized) struct MetricsScriptTests {
    @Test func compareBenchMetricsAndTailInAScript() throws {
        let binary = try AishBinary.require()
        let server = try MetricsTestServer.fakeProvider(["--flavor", "vllm", "--first-token-delay", "0.1", "--reply", "a b c"])
        defer { server.stop() }
        let dir = try RoutedCompareTests.configDirectory(primary: server.baseURL + "/v1", backup: server.baseURL)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = TailRequestsTests.temporaryDB()
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + s) } }
        let script = dir + "/smoke.ai"
        try """
            compare smart -n 2 --warmup 0
            expect ok
            expect ttft_ms < 2s
            expect json .models[0].ok == 2
            expect model_count == 1
            expect json .model_count == 1
            expect requests == 2
            bench smart -n 4 -c 2
            expect ok
            expect json .levels[0].errors == 0
            expect level_count == 1
            expect json .requests == 4
            metrics primary kv_cache
            expect contains 12.5%
            expect provider_count == 1
            expect json .providers[0].provider == primary
            tail metrics primary --count 1
            expect contains primary requests_running 0
            expect update_count == 1
            expect json .updates[0].rows[0].provider == primary
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["--db", db, "--config", dir, "-f", script]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "stdout:\n\(o)\nstderr:\n\(e)")
        #expect(o.contains("compare: 2 requests per model, max_tokens 64, one after another, wall "))
        #expect(!o.contains("median TTFT"), "no bar chart into a pipe")
        #expect(!e.contains("\u{1B}"), "no progress line into a pipe")
        #expect(o.contains("kv_cache_usage  12.5%  vllm:gpu_cache_usage_perc"))

        // What the script ran is in the log, where `tail requests` and `log` find it.
        let reader = try SessionLogReader(path: db)
        let count = try reader.db.prepare("SELECT kind, COUNT(*) FROM attempts GROUP BY kind ORDER BY kind")
        var kinds: [String: Int] = [:]
        while try count.step() { kinds[count.string(0)] = count.int(1) }
        #expect(kinds == ["bench": 4, "compare": 2])
        let runs = try reader.db.prepare("SELECT kind FROM runs ORDER BY id")
        var runKinds: [String] = []
        while try runs.step() { runKinds.append(runs.string(0)) }
        #expect(runKinds == ["compare", "bench"])
        let samples = try reader.db.prepare("SELECT COUNT(*) FROM metric_samples WHERE provider = 'primary'")
        #expect(try samples.step() && samples.int(0) > 0)
    }
}
