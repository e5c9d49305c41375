import Foundation
import Testing
@testable import AishBase

/// The provider commands through the built aish binary: scripts with `expect`, exit codes, --json.
@Suite(.serialized) struct ProviderBinaryTests {
    @Test
    func scriptWithExpectationsPasses() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        let script = b.directory + "/smoke.ai"
        try """
            # provider smoke test against the fake provider
            providers
            expect up == 2
            expect json .up == 2
            expect down == 1
            expect json .providers[0].latency_ms < 5000
            health vllm_fake ollama_fake --generate
            expect ok
            expect latency_ms < 5s
            expect json .latency_ms < 5000
            models vllm_fake
            expect missing == 1
            expect json .missing == 1
            wait vllm_fake --timeout 5s --interval 100ms
            expect probes == 1
            expect json .probes == 1

            """.write(toFile: script, atomically: true, encoding: .utf8)
        let (code, out, err) = try AishBinary.run(["--config", b.directory, "-f", script])
        #expect(code == 0, "stderr: \(err)")
        #expect(out.contains("vllm_fake is healthy (after "))
        #expect(out.hasSuffix("11 passed, 0 failed\n"))
    }

    @Test
    func waitTimeoutExitsWithOne() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        let (code, _, err) = try AishBinary.run(["--config", b.directory, "-c", "wait down --timeout 300ms --interval 100ms"])
        #expect(code == 1)
        #expect(err.hasPrefix("aish: wait: provider 'down' is not healthy after 300 ms ("))
    }

    @Test
    func healthJSON() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        let (code, out, _) = try AishBinary.run(["--config", b.directory, "--json", "-c", "health vllm_fake"])
        #expect(code == 0)
        let json = try JSONValue.parse(out.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["status"] == "ok")
        #expect(json["provider"] == "vllm_fake")
        #expect(json["http_status"] == 200)
        #expect(json["probes"]?[0]?["url"] == .string(b.fake.baseURL + "/health"))
    }
}
