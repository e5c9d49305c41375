import Foundation
import Testing
@testable import AishKit

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

    @Test func routeReasonInTheLogSaysTheRuleOnce() throws {
        let bench = try ChatBench(providers: [(name: "local", type: "llama_cpp", url: "http://127.0.0.1:9", extra: "")],
                                  mappings: "exact_matches:\n  smollm2:\n    provider: local\n")
        defer { bench.cleanUp() }
        _ = try bench.run(["chat", "-m", "smollm2", "hi"])
        let reasons = try bench.attempts().map(\.routeReason)
        #expect(reasons.first == "exact match 'smollm2' (model-mappings.yaml:2:3)")
    }
}
