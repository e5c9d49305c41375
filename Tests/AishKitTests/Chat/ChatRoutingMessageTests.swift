import Foundation
import Testing
@testable import AishBase

/// What chat says about routing when nothing is sent: a mistyped model gets a suggestion.
@Suite struct ChatRoutingMessageTests {
    @Test func mistypedModelWithoutDefaultProviderSuggestsTheName() throws {
        // Nothing listens on port 9: no request may be needed to produce the answer.
        let bench = try ChatBench(providers: [(name: "local", type: "llama_cpp", url: "http://127.0.0.1:9", extra: "")],
                                  mappings: "exact_matches:\n  smollm2:\n    provider: local\n")
        defer { bench.cleanUp() }
        let r = try bench.run(["chat", "-m", "smollm3", "hi"])
        #expect(r.status == .error)
        #expect(r.error?.hasSuffix(" — did you mean 'smollm2'?") == true, "\(r.error ?? "")")
        #expect(r.error?.hasPrefix("no target for 'smollm3': ") == true, "\(r.error ?? "")")
    }

    /// A name that has no route is never its own suggestion, whichever command routes it:
    /// `local-model` is a model the provider declares, but no rule sends it anywhere.
    @Test func aNameWithoutARouteIsNotSuggestedToItself() throws {
        let bench = try ChatBench(providers: [(name: "local", type: "llama_cpp", url: "http://127.0.0.1:9", extra: "")],
                                  mappings: "exact_matches:\n  smollm3:\n    provider: local\n")
        defer { bench.cleanUp() }
        for words in [["chat", "-m", "local-model", "hi"], ["compare", "local-model", "smollm3", "-n", "1", "--warmup", "0"],
                      ["bench", "local-model", "-n", "1"]] {
            var message = ""
            do {
                let r = try bench.run(words)
                message = r.error ?? r.text
            } catch {
                message = "\(error)"
            }
            #expect(message.contains("'local-model'"), "\(words): \(message)")
            #expect(!message.contains("did you mean 'local-model'"), "\(words): \(message)")
        }
        #expect(Suggest.closest(to: "smollm2", among: ["smollm2", "smollm3"]) == "smollm3")
        #expect(Suggest.closest(to: "smollm2", among: ["smollm2"]) == nil)
    }

    @Test func routeReasonInTheLogSaysTheRuleOnce() throws {
        let bench = try ChatBench(providers: [(name: "local", type: "llama_cpp", url: "http://127.0.0.1:9", extra: "")],
                                  mappings: "exact_matches:\n  smollm2:\n    provider: local\n")
        defer { bench.cleanUp() }
        _ = try bench.run(["chat", "-m", "smollm2", "hi"])
        let reasons = try bench.attempts().map(\.routeReason)
        #expect(reasons.first == "exact match 'smollm2' (model-mappings.yaml:2:3)")
    }
}
