import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishReport

/// The report's configuration section sorts findings into its cross-file checks by the
/// validator check that found them and the reference they say is broken, not by wording.
@Suite struct CrossFileCheckTests {
    typealias Check = ReportBuilder.CrossFileCheck

    /// Each edit of the clean set and the check each of its findings belongs to, by message.
    func checks(_ file: String, _ from: String, _ to: String) throws -> [String: Check?] {
        let dir = try ValidateHarness.editedCopy(file, from, to)
        let v = ConfigValidator.loadAndValidate(directory: dir)
        var out: [String: Check?] = [:]
        for f in v.findings { out[f.message] = ReportBuilder.crossFileCheck(f, litellmPath: v.config.litellmPath) }
        return out
    }

    @Test func eachKindOfFindingLandsInItsCheck() throws {
        let provider = try checks("model-mappings.yaml", "  smol:\n    provider: fast", "  smol:\n    provider: fsat")
        #expect(provider["unknown provider 'fsat' (did you mean 'fast'?)"] == .routesNameProviders)
        #expect(provider["model 'smol' of active provider 'fast' has no route (no exact match or pattern sends requests to it)"]
            == .providerModelsRouted)
        #expect(provider["out of sync: model 'smol' is not in the sources"] == .gatewayFileInSync)

        let chain = try checks("model-mappings.yaml", "      - smol\n      - gpt-4o-mini", "      - smoll\n      - gpt-4o-mini")
        #expect(chain["unknown model 'smoll' in the fallback chain of 'llama3.1:latest' (did you mean 'smol'?)"] == .fallbackChainsResolve)

        let capability = try checks("model-mappings.yaml", "      - coder\n      - gpt-4o-mini", "      - codr\n      - gpt-4o-mini")
        let unknown = try #require(capability.first { $0.key.hasPrefix("unknown model 'codr'") })
        #expect(unknown.value == .backendModelsExist)

        let cycle = try checks("model-mappings.yaml", "    chain: []", "    chain: [llama3.1:latest]")
        let cycleFinding = try #require(cycle.first { $0.key.hasPrefix("fallback chains form a cycle") })
        #expect(cycleFinding.value == .fallbackChainsResolve)

        let disabled = try checks("model-mappings.yaml", "    fallback: local\n", "    fallback: spare\n")
        #expect(disabled["provider 'spare' is disabled"] == .some(nil))
    }

    /// A schema error whose text begins like a reference error is not one: an unknown
    /// provider *type* is a problem of providers.yaml alone.
    @Test func aSchemaFindingIsNoBrokenReference() throws {
        let type = try checks("providers.yaml", "type: ollama", "type: olama")
        #expect(type["unknown provider type 'olama' (did you mean 'ollama'?)"] == .some(nil))
    }

    /// Rewording a message does not move it: the check and the reference decide.
    @Test func wordingDoesNotDecide() {
        let at = SourceLocation(file: "model-mappings.yaml", line: 3, column: 5)
        func finding(_ check: ValidationCheck?, _ reference: ConfigFinding.BrokenReference?) -> ConfigFinding {
            ConfigFinding(severity: .error, location: at, message: "something else entirely", check: check, brokenReference: reference)
        }
        #expect(ReportBuilder.crossFileCheck(finding(.fallbackChains, .model), litellmPath: "x") == .fallbackChainsResolve)
        #expect(ReportBuilder.crossFileCheck(finding(.exactMatches, .provider), litellmPath: "x") == .routesNameProviders)
        #expect(ReportBuilder.crossFileCheck(finding(.capabilities, .model), litellmPath: "x") == .backendModelsExist)
        #expect(ReportBuilder.crossFileCheck(finding(.unroutedModels, nil), litellmPath: "x") == .providerModelsRouted)
        #expect(ReportBuilder.crossFileCheck(finding(.drift, nil), litellmPath: "x") == .gatewayFileInSync)
        #expect(ReportBuilder.crossFileCheck(finding(.exactMatches, nil), litellmPath: "model-mappings.yaml") == .gatewayFileInSync)
        #expect(ReportBuilder.crossFileCheck(finding(.ports, nil), litellmPath: "x") == nil)
    }
}
