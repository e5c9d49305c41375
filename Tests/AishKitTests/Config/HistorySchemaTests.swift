import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishRouting

/// Shapes from the real deployment's history (Tests/Fixtures/Config/history/<shape>): each
/// loads without errors, `route --all` works, and routing does what the shape means.
@Suite struct HistorySchemaTests {
    static func load(_ shape: String) -> ConfigLoader.Loaded {
        ConfigLoader.load(directory: ConfigFixtures.fixture("history/" + shape))
    }

    static func findings(_ shape: String) -> [String] {
        let dir = ConfigFixtures.fixture("history/" + shape) + "/"
        return ConfigValidator.validate(load(shape)).findings.map { $0.description.replacingOccurrences(of: dir, with: "") }
    }

    @Test(arguments: ["capability-providers-list", "non-llm-services", "pending-integration", "provider-in-chain", "extra-keys"])
    func loadsWithoutErrorsAndRoutesEveryName(_ shape: String) throws {
        let loaded = Self.load(shape)
        #expect(!ConfigValidator.validate(loaded).findings.hasErrors, "\(Self.findings(shape))")
        let router = Router(config: loaded.config)
        let table = RouteTable(router: router, state: RouterState(), environment: [:])
        #expect(table.entries.count == router.configuredNames.count)
        do {
            let (code, _, err) = try AishBinary.run(["--config", ConfigFixtures.fixture("history/" + shape), "--db", NSTemporaryDirectory() + "aish-history-\(UUID().uuidString).db", "route", "--all"])
            #expect(code == 0, "\(err)")
        }
    }

    @Test func capabilityProvidersAsAList() {
        let c = Self.load("capability-providers-list").config
        #expect(c.mappings.capabilities[0].allProviders == ["llama_cpp_python", "ollama"])
        let plan = Router(config: c).plan(for: "general", state: RouterState())
        #expect(plan.summary == ["llama_cpp_python/llama-cpp-default", "ollama/llama3.1:latest"])
        #expect(GatewayConfig(c).aliasTarget["general"] == "llama-cpp-default")
    }

    @Test func toolServersAndWebUIsAreListedNeverRouted() {
        let c = Self.load("non-llm-services").config
        #expect(c.providers.providers.map(\.type.rawValue) == ["ollama", "tool_server", "web_ui"])
        let plan = Router(config: c).plan(for: "webui", state: RouterState())
        #expect(plan.steps.first?.unusable == "provider open_webui is a web_ui, not a model server (providers.yaml:10:3)")
        #expect(plan.usableSteps.isEmpty)
        #expect(LiteLLMGenerator.deployments(c).map(\.modelName) == ["llama3.1:latest"])
        #expect(Self.findings("non-llm-services") == ["model-mappings.yaml:5:15: warning: provider 'open_webui' is a web_ui, not a model server: requests are never routed to it"])
    }

    @Test func pendingIntegrationIsTreatedLikeDisabledAndSaysSo() {
        let c = Self.load("pending-integration").config
        let plan = Router(config: c).plan(for: "next-model", state: RouterState())
        #expect(plan.steps[0].unusable == "provider vllm-next is pending integration (status pending_integration, treated as disabled; providers.yaml:6:3)")
        #expect(plan.usableSteps.first?.provider == "ollama")
        #expect(Self.findings("pending-integration") == ["model-mappings.yaml:5:15: warning: provider 'vllm-next' is pending integration (treated as disabled)"])
    }

    @Test func aProviderAsAChainStepStandsForItsModels() {
        let c = Self.load("provider-in-chain").config
        #expect(GatewayConfig(c).fallbackEntry["llama-cpp-default"] == ["llama3.1:latest", "qwen2.5-coder:7b"])
        #expect(Router(config: c).plan(for: "llama-cpp-default", state: RouterState()).summary
                == ["llama_cpp_python/llama-cpp-default", "ollama/llama3.1:latest", "ollama/qwen2.5-coder:7b"])
        #expect(Self.findings("provider-in-chain") == ["model-mappings.yaml:12:9: warning: the fallback chain of 'llama-cpp-default' names provider 'ollama' where a model is expected; it stands for 'llama3.1:latest', 'qwen2.5-coder:7b'"])
    }

    @Test func extraKeysAndMapShapedChainSteps() {
        let c = Self.load("extra-keys").config
        #expect(c.mappings.fallbackChains.map(\.chain) == [["qwen2.5-coder:7b"], ["llama3.1:latest"]])
        #expect(Self.findings("extra-keys") == [])
    }
}

/// A config with errors still serves read-only commands: the broken rule is skipped.
@Suite struct ConfigWithErrorsTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: AishBinary.path), "the aish binary is not built next to the tests"))
    func routeWorksAndSaysHowManyErrors() throws {
        let dir = try ValidateHarness.editedCopy("model-mappings.yaml", "    fallback: local\n", "    fallback: [local]\n")
        let db = NSTemporaryDirectory() + "aish-errors-\(UUID().uuidString).db"
        let (code, out, err) = try AishBinary.run(["--config", dir, "--db", db, "route", "smol"])
        #expect(code == 0, "\(err)")
        #expect(out.hasPrefix("smol: exact match 'smol'"))
        #expect(err == "aish: config has 1 error (see validate)\n")
        let (showCode, _, _) = try AishBinary.run(["--config", dir, "--db", db, "config", "show", "routes"])
        #expect(showCode == 0)
        let (vCode, vOut, _) = try AishBinary.run(["--config", dir, "--db", db, "--json", "validate"])
        #expect(vCode == 3)
        let json = try JSONValue.parse(bytes: Array(vOut.utf8))
        #expect(json["status"] == .string("error"))
        let first = json["findings"]?[0]
        #expect(first?["severity"] == .string("error"))
        #expect(first?["check"] == .string("schema"))
        #expect(first?["line"] != nil && first?["col"] != nil && first?["file"] != nil && first?["message"] != nil)
    }
}
