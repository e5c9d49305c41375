import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishRouting

/// The plans for the real deployment's config (Tests/Fixtures/gathewhy, a copy of
/// ../shared/fixtures/gathewhy). The gateway part of each plan is LiteLLM's own order for the
/// generated config, as Tests/Differential measures it against the real Router; these
/// expectations pin it for runs without LiteLLM. The disabled vllm-dolphin is never tried.
@Suite struct FixtureRoutingTests {
    static var directory: String { ConfigFixtures.gathewhy }

    /// The fixture's router; a fixture that is missing or does not load fails the test that asks.
    static func router() throws -> Router {
        let loaded = ConfigLoader.load(directory: try TestPaths.existing("Tests/Fixtures/gathewhy"))
        try #require(loaded.usable, "the fixture should load: \(loaded.findings)")
        return Router(config: loaded.config)
    }

    static let expected: [(String, [String])] = [
        ("llama3.1:latest", ["ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/gpt-oss:20b-cloud"]),
        ("qwen2.5-coder:7b", ["ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("mythomax-l2-13b-q5_k_m", ["ollama/mythomax-l2-13b-q5_k_m",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("qwen-coder-vllm", ["vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("llama-cpp-default", ["llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native"]),
        ("llama-cpp-native", ["llama_cpp_native/llama-cpp-native"]),
        ("deepseek-v3.1:671b-cloud", ["ollama_cloud/deepseek-v3.1:671b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("qwen3-coder:480b-cloud", ["ollama_cloud/qwen3-coder:480b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("kimi-k2:1t-cloud", ["ollama_cloud/kimi-k2:1t-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("gpt-oss:120b-cloud", ["ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("gpt-oss:20b-cloud", ["ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("glm-4.6:cloud", ["ollama_cloud/glm-4.6:cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/mythomax-l2-13b-q5_k_m"]),
        ("general-chat", ["ollama/llama3.1:latest",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("code-generation", ["vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama/llama3.1:latest",
            "ollama_cloud/deepseek-v3.1:671b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("creative-tasks", ["ollama/mythomax-l2-13b-q5_k_m",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("code", ["ollama_cloud/qwen3-coder:480b-cloud",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest",
            "ollama/qwen2.5-coder:7b"]),
        ("analytical", ["ollama_cloud/deepseek-v3.1:671b-cloud",
            "ollama_cloud/kimi-k2:1t-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("reasoning", ["ollama_cloud/deepseek-v3.1:671b-cloud",
            "ollama_cloud/kimi-k2:1t-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest"]),
        ("creative", ["ollama/mythomax-l2-13b-q5_k_m",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud"]),
        ("chat", ["ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/glm-4.6:cloud",
            "ollama/mythomax-l2-13b-q5_k_m"]),
        ("high_throughput", ["vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/llama3.1:latest",
            "ollama/qwen2.5-coder:7b",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("low_latency", ["llama_cpp_native/llama-cpp-native",
            "llama_cpp_python/llama-cpp-default"]),
        ("large_context", ["ollama_cloud/kimi-k2:1t-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native"]),
        ("unknown-model", ["ollama/unknown-model",
            "llama_cpp_python/unknown-model",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
    ]

    @Test func everyConfiguredNameHasItsPlan() throws {
        let names = Self.expected.map(\.0)
        for name in (try Self.router()).configuredNames { #expect(names.contains(name), "no expectation for \(name)") }
        for (name, steps) in Self.expected {
            let plan = (try Self.router()).plan(for: name, state: RouterState(), advance: false)
            #expect(plan.summary == steps, "plan for \(name)")
        }
    }

    @Test func reasonsCiteTheRuleAndItsLine() throws {
        let plan = (try Self.router()).plan(for: "qwen-coder-vllm", state: RouterState())
        #expect(plan.ruleDescription == "exact match 'qwen-coder-vllm'")
        #expect(plan.ruleLocation?.citation == "model-mappings.yaml:65:3")
        // The gateway goes down the chain (qwen3-coder:480b-cloud, then its own entry depth first).
        #expect(plan.steps[1].reason == "fallback_chains['qwen-coder-vllm'] step 1 'qwen3-coder:480b-cloud': exact match 'qwen3-coder:480b-cloud'")
        #expect(plan.steps[1].location?.citation == "model-mappings.yaml:352:9")
        #expect(plan.steps[2].reason == "fallback_chains['qwen3-coder:480b-cloud'] step 1 'gpt-oss:120b-cloud': exact match 'gpt-oss:120b-cloud'")
        #expect(plan.steps[3].backendModel == "gpt-oss:20b-cloud")
        let dolphin = (try Self.router()).plan(for: "solidrust/dolphin-2.8-mistral-7b-v02-AWQ", state: RouterState())
        #expect(dolphin.steps[0].unusable == "provider vllm-dolphin is disabled (providers.yaml:119:3)")
        #expect(dolphin.usableSteps[0].provider == "ollama")
    }

    @Test func llamaIsSplitSeventyThirty() throws {
        let state = RouterState()
        var ollama = 0
        for _ in 0..<10_000 where (try Self.router()).plan(for: "llama3.1:latest", state: state).steps[0].provider == "ollama" { ollama += 1 }
        #expect(ollama == 7000)
    }

    @Test func codeGoesWhereTheGeneratedAliasSendsIt() throws {
        // model_group_alias code → qwen3-coder:480b-cloud, with or without a prompt.
        for prompt in [nil, "print hello", String(repeating: "word ", count: 100)] {
            let plan = (try Self.router()).plan(for: "code", input: RoutingInput(prompt: prompt), state: RouterState())
            #expect(plan.steps[0].backendModel == "qwen3-coder:480b-cloud")
            #expect(plan.steps[0].scope == .gateway)
        }
        #expect(GatewayConfig(ConfigLoader.load(directory: Self.directory).config).aliasTarget["code"] == "qwen3-coder:480b-cloud")
    }

    @Test func whatIsNotEvaluatedIsSaid() throws {
        let code = (try Self.router()).plan(for: "code-generation", state: RouterState())
        #expect(code.notes.count == 4)
        #expect(code.notes.last == "load balancing 'code-generation': strategy 'adaptive_weighted' (model-mappings.yaml:296:15) is not evaluated by aish; it picks by smooth weighted round robin over the listed weights")
        let creative = (try Self.router()).plan(for: "creative-tasks", state: RouterState())
        #expect(creative.notes == [
            "load balancing 'creative-tasks': condition \"length > 1000 OR quality_tier == 'high'\" on ollama_cloud (model-mappings.yaml:314:20) is not evaluated by aish",
            "load balancing 'creative-tasks': strategy 'quality_based' (model-mappings.yaml:315:15) is not evaluated by aish; it picks by smooth weighted round robin over the listed weights",
        ])
        let analytical = (try Self.router()).plan(for: "analytical", state: RouterState())
        #expect(analytical.notes == ["the gateway serves 'analytical' as model_group_alias of 'deepseek-v3.1:671b-cloud'"])
    }
}
