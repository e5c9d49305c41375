import Foundation
import Testing
@testable import AishBase

/// `aish -f script.ai` end to end: chat through a fallback, heredoc prompts, expect on the
/// result fields, route after the failures, the log afterwards.
@Suite(.serialized) struct ChatBinaryTests {
    @Test func aScriptChatsThroughAFallbackAndAssertsOnTheResult() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--reply", "Hello there, operator.", "--echo"])
        defer { fake.stop() }
        let config = aish.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try """
            providers:
              down:
                type: vllm
                base_url: http://127.0.0.1:\(FakeProviderProcess.unusedPort())
                status: active
                models:
                  - name: down-model
              local:
                type: llama_cpp
                base_url: \(fake.baseURL)
                status: active
                models:
                  - name: local-model

            """.write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try """
            exact_matches:
              m:
                provider: down
                fallback: local

            """.write(toFile: config + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        let script = aish.home + "/t.ai"
        try """
            set temperature 0.3
            use m
            chat hello operator
            expect ok
            expect provider == local
            expect contains "hello operator"
            expect tokens >= 1
            expect json fallback == true
            expect json fallback_from == "down"
            chat <<EOF
            first line
            second line
            EOF
            expect contains "second line"
            route m

            """.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try aish.run(["--config", config, "-f", script])
        #expect(run.code == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("using m: exact match 'm' → down · m\nhello operator\nfirst line\nsecond line\nm: exact match 'm' (model-mappings.yaml:2:3)\n"))
        #expect(run.stderr.contains("local · local-model · TTFT "))
        #expect(run.stderr.contains("(fallback from down: connection failed)"))
        let log = try aish.run(["--json", "log", "-n", "10"])
        #expect(log.code == 0)
        #expect(log.stdout.contains("\"status\":\"error\""))
        #expect(log.stdout.contains("\"provider\":\"local\""))
    }
}
