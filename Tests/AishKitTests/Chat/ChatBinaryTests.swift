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
    /// libcurl's proxy from the environment still carries every request (aish tells libcurl
    /// there is no proxy only when no variable names one): chat and bench reach a provider
    /// whose own port is closed through the fake provider acting as the proxy.
    @Test func aProxyNamedByTheEnvironmentCarriesChatAndBench() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let proxy = try FakeProviderProcess(["--reply", "via the proxy"])
        defer { proxy.stop() }
        let config = aish.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        let far = "http://127.0.0.1:\(FakeProviderProcess.unusedPort())"
        try """
            providers:
              far:
                type: vllm
                base_url: \(far)
                status: active
                models:
                  - name: m

            """.write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try """
            exact_matches:
              m:
                provider: far

            """.write(toFile: config + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        for variable in ["http_proxy", "ALL_PROXY"] {
            let run = try aish.run(["--config", config, "-c", "chat -m m hello; bench m -n 3 -c 2"],
                                   extraEnvironment: [variable: proxy.baseURL])
            #expect(run.code == 0, "\(variable): \(run.stderr)")
            #expect(run.stdout.contains("via the proxy"), "\(variable): \(run.stdout)")
        }
        // A proxy gets the whole URL in the request line.
        let paths = try proxy.receivedRequests().compactMap { $0["path"]?.stringValue }
        #expect(paths.filter { $0 == far + "/v1/chat/completions" }.count == 8, "\(paths)")
        // Without the variable, the closed port is asked directly, and refuses.
        let direct = try aish.run(["--config", config, "-c", "chat -m m hello"])
        #expect(direct.code != 0)
        #expect(direct.stderr.contains("connection failed"), "\(direct.stderr)")
    }
}
