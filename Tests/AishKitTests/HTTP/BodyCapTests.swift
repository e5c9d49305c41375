import Foundation
import Testing
@testable import AishBase
@testable import AishHTTP

/// Every body aish reads whole has a cap (issue 24.6): the transfer stops there, the error
/// names the cap and the URL, and memory stays flat whatever the server sends.
@Suite(.serialized) struct BodyCapTests {
    @Test func fetchStopsAtTheCapAndSaysWhichURL() throws {
        let fake = try FakeProviderProcess(["--fault", "big-reply=4194304,json-reply"])
        defer { fake.stop() }
        let url = fake.baseURL + "/v1/chat/completions"
        let request = HTTPRequest.postJSON(url: url, .object([("model", "m"), ("stream", false)]))
        do {
            _ = try HTTPTransport.fetch(request, interrupt: nil, maxBody: 64 << 10)
            Issue.record("a 4 MiB answer passed a 64 KiB cap")
        } catch let e as HTTPError {
            #expect(e.kind == .bodyTooLarge)
            #expect(e.description == "POST \(url): response larger than 64 KiB (aish's limit for this answer); stopped reading")
        }
        // Several at once: each under its own cap, together over the batch's.
        let results = HTTPTransport.fetchAll([request, request, request], interrupt: nil, maxBody: 8 << 20, maxTotal: 6 << 20)
        let failures = results.compactMap { r -> String? in if case let .failure(e) = r { return e.detail }; return nil }
        #expect(!failures.isEmpty)
        #expect(failures.allSatisfy { $0 == "responses together larger than 6 MiB (aish's limit for these 3 answers); stopped reading" }, "\(failures)")
        #expect(try HTTPTransport.fetch(request, interrupt: nil, maxBody: 8 << 20).body.count > 4 << 20)
    }

    /// Peak resident memory of a command, from GNU time (`apt-get install time`).
    static func peakRSS(_ h: BinaryHarness, _ arguments: [String]) throws -> (BinaryHarness.Run, Int) {
        let r = try h.run(["-f", "PEAK_RSS_KB %M", AishBinary.path] + arguments, executable: "/usr/bin/time")
        let line = r.stderr.split(separator: "\n").last { $0.hasPrefix("PEAK_RSS_KB ") }
        return (r, Int(line?.dropFirst(12) ?? "") ?? -1)
    }

    static let gnuTime = FileManager.default.isExecutableFile(atPath: "/usr/bin/time")

    /// A 100 MiB chat reply sent as one JSON object peaked at 902 MB (debug build); it is now
    /// read no further than 4 × max_reply_bytes + 1 MiB.
    @Test(.enabled(if: gnuTime, "GNU time is not installed (apt-get install time)"))
    func aHugeNonStreamedReplyIsCutAtItsCapWithFlatMemory() throws {
        let fake = try FakeProviderProcess(["--fault", "big-reply=104857600,json-reply", "--models", "m"])
        defer { fake.stop() }
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let config = h.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try "providers:\n  fake:\n    type: vllm\n    base_url: \(fake.baseURL)\n    status: active\n    models: [m]\n"
            .write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try "exact_matches:\n  m:\n    provider: fake\n    backend_model: m\n"
            .write(toFile: config + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        let (r, peakKB) = try Self.peakRSS(h, ["--config", config, "-c", "chat -m m hi"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("fake: POST \(fake.baseURL)/v1/chat/completions: the reply is one JSON object (not a stream) larger than 5 MiB (4 × max_reply_bytes + 1 MiB, aish's limit); stopped reading"), "\(r.stderr)")
        #expect(peakKB > 0 && peakKB < 100 * 1024, "peak RSS \(peakKB) KiB")
        // The failed attempt is a row of the log.
        let logged = try h.run(["sql", "SELECT status, error FROM attempts"])
        #expect(logged.stdout.contains("error") && logged.stdout.contains("larger than 5 MiB"), "\(logged.stdout)")
    }

    /// 33 Prometheus answers of 45 MB each: `metrics --prom` peaked at ~300 MB; now each
    /// answer stops at 8 MiB and the batch at 16 MiB, and the output says so.
    @Test(.enabled(if: gnuTime, "GNU time is not installed (apt-get install time)"))
    func hugePrometheusAnswersAreCutAndSaidSo() throws {
        let prometheus = try MetricsTestServer(script: "Tests/Fixtures/Metrics/fake_prometheus.py",
                                               arguments: ["--dir", MetricsFixtures.url("PrometheusAPI").path, "--big", "47185920"])
        defer { prometheus.stop() }
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let config = h.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try "providers:\n  spare:\n    type: vllm\n    base_url: http://127.0.0.1:1\n    status: disabled\n    models: [q]\n"
            .write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try "monitoring:\n  prometheus: \(prometheus.baseURL)\n".write(toFile: config + "/ports.yaml", atomically: true, encoding: .utf8)
        let (r, peakKB) = try Self.peakRSS(h, ["--config", config, "-c", "metrics --prom --since 1h"])
        #expect(r.stdout.contains("error: Prometheus at \(prometheus.baseURL): unexpected answer: responses together larger than 16 MiB (aish's limit for these 33 answers); stopped reading"), "\(r.stdout.prefix(2000))")
        #expect(peakKB > 0 && peakKB < 120 * 1024, "peak RSS \(peakKB) KiB")
    }
}
