import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishSessionLog
@testable import AishTelemetry
@testable import AishMeasure
@testable import AishScript

/// `bench` against the real llama-server of the local stack (scripts/stack up): its
/// usage-based inter-token latency is held to the server's own `timings` of the same
/// requests, and its synthetic prompts are measured with the server's /tokenize.
@Suite(.enabled(if: StackProcess.enabled, "needs the real local stack: scripts/e2e runs it (AISH_E2E_STACK=1)"),
       .serialized)
struct BenchStackTests {
    let aish: StackProcess

    init() throws { aish = try StackProcess() }

    @Test func usageBasedITLAgreesWithTheServersTimings() throws {
        // One request at a time, 48 tokens each whatever the model would say (ignore_eos):
        // the client's time per token and llama-server's predicted_ms / predicted_n measure
        // the same decoding, the client's with the network and SSE framing on top.
        let run = try aish.run(["--json", "bench", "smollm2-native", "-n", "6", "--output-tokens", "48", "--warmup", "1"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let report = try JSONValue.parse(run.stdout)
        #expect(report["parameters"]?["ignore_eos"] == .string("sent"))
        let level = try #require(elements(of: report["levels"]).first)
        #expect(level["ok"] == .int(6), "\(level.serialized())")
        #expect(level["short_replies"] == .int(0), "llama-server honours ignore_eos: every reply is 48 tokens")
        #expect(level["tokens_counted_by"]?["usage"] == .int(6), "llama-server reports usage: \(level.serialized())")
        #expect(level["token_mismatch"] == .int(0), "llama-server streams one token a chunk")
        let itl = try #require(level["itl_ms"]?["p50"]?.doubleValue)

        // The server's own figure for the same six requests, from the log.
        let sql = try aish.run(["--json", "sql",
                                "SELECT server_timings FROM attempts WHERE kind = 'bench' AND route_reason NOT LIKE 'bench warm-up%' ORDER BY id"])
        #expect(sql.status == 0, "\(sql.stdout)\(sql.stderr)")
        let rows = elements(of: try JSONValue.parse(sql.stdout)["rows"])
        let perToken = rows.compactMap { row -> Double? in
            let text = row["server_timings"]?.stringValue ?? elements(of: row).first?.stringValue
            guard let text, let t = try? JSONValue.parse(text),
                  let ms = t["predicted_ms"]?.doubleValue, let n = t["predicted_n"]?.doubleValue, n > 1 else { return nil }
            return ms / n
        }.sorted()
        #expect(perToken.count == 6, "server timings of every request: \(rows.map { $0.serialized() })")
        let server = try #require(perToken.isEmpty ? nil : perToken[perToken.count / 2])
        // Two measurements of one quantity, not a speed target: they must agree.
        #expect(abs(itl - server) <= 0.3 * server + 2, "client ITL p50 \(itl) ms, llama-server \(server) ms a token")
    }

    @Test func syntheticPromptsAreMeasuredWithLlamaServersTokenizer() throws {
        let run = try aish.run(["--json", "bench", "smollm2-native", "-n", "3", "--prompt-tokens", "100", "--max-tokens", "4"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let report = try JSONValue.parse(run.stdout)
        #expect(report["parameters"]?["prompt_tokens_counted_by"] == .string("tokenize"))
        let level = try #require(elements(of: report["levels"]).first)
        // The server's count of the whole chat (its template adds a few dozen tokens).
        let counted = try #require(level["prompt_tokens"]?["p50"]?.doubleValue)
        #expect(counted >= 95 && counted <= 170, "prompt tokens as llama-server counted them: \(counted)")
    }
}
