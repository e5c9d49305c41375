import Foundation
import Testing
@testable import AishKit

/// The plans for the real deployment's config (Tests/Fixtures/gathewhy, a copy of ../shared/fixtures/gathewhy), as its authors
/// describe them in model-mappings.yaml's comments: exact names first, load balancing 70/30,
/// capabilities by prompt size, quality-preserving chains, llama-cpp-native as a terminal
/// node, the disabled vllm-dolphin never tried.
@Suite struct FixtureRoutingTests {
    static var directory: String { ConfigFixtures.gathewhy }

    static let router: Router = {
        let loaded = ConfigLoader.load(directory: directory)
        precondition(loaded.usable, "the fixture should load: \(loaded.findings)")
        return Router(config: loaded.config)
    }()

    static let expected: [(String, [String])] = [
        ("llama3.1:latest", ["ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("qwen2.5-coder:7b", ["ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native"]),
        ("mythomax-l2-13b-q5_k_m", ["ollama/mythomax-l2-13b-q5_k_m",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("qwen-coder-vllm", ["vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama/llama3.1:latest",
            "ollama_cloud/qwen3-coder:480b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b"]),
        ("llama-cpp-default", ["llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("llama-cpp-native", ["llama_cpp_native/llama-cpp-native"]),
        ("deepseek-v3.1:671b-cloud", ["ollama_cloud/deepseek-v3.1:671b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("qwen3-coder:480b-cloud", ["ollama_cloud/qwen3-coder:480b-cloud",
            "ollama/llama3.1:latest",
            "ollama_cloud/gpt-oss:120b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ"]),
        ("kimi-k2:1t-cloud", ["ollama_cloud/kimi-k2:1t-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("gpt-oss:120b-cloud", ["ollama_cloud/gpt-oss:120b-cloud",
            "ollama/llama3.1:latest",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("gpt-oss:20b-cloud", ["ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("glm-4.6:cloud", ["ollama_cloud/glm-4.6:cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama/mythomax-l2-13b-q5_k_m",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("general-chat", ["ollama/llama3.1:latest",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("code-generation", ["vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama/llama3.1:latest",
            "ollama_cloud/deepseek-v3.1:671b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("creative-tasks", ["ollama/mythomax-l2-13b-q5_k_m",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("code", ["ollama/qwen2.5-coder:7b",
            "ollama_cloud/qwen3-coder:480b-cloud",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama/llama3.1:latest",
            "ollama_cloud/gpt-oss:120b-cloud",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native"]),
        ("analytical", ["ollama/qwen2.5-coder:7b",
            "ollama_cloud/deepseek-v3.1:671b-cloud",
            "ollama_cloud/kimi-k2:1t-cloud",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "llama_cpp_native/llama-cpp-native"]),
        ("reasoning", ["ollama_cloud/deepseek-v3.1:671b-cloud",
            "ollama_cloud/kimi-k2:1t-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("creative", ["ollama/mythomax-l2-13b-q5_k_m",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("chat", ["ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama_cloud/glm-4.6:cloud",
            "llama_cpp_native/llama-cpp-native",
            "ollama/mythomax-l2-13b-q5_k_m",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("high_throughput", ["vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("low_latency", ["llama_cpp_native/llama-cpp-native",
            "llama_cpp_python/llama-cpp-default",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("large_context", ["llama_cpp_python/llama-cpp-default",
            "ollama_cloud/kimi-k2:1t-cloud",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_native/llama-cpp-native",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("Qwen/Qwen2.5-Coder-14B", ["vllm-qwen/Qwen/Qwen2.5-Coder-14B",
            "ollama/Qwen/Qwen2.5-Coder-14B",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("mistralai/Mistral-7B", ["!vllm-dolphin/mistralai/Mistral-7B",
            "ollama/mistralai/Mistral-7B",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("phi3:3b", ["ollama/phi3:3b",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
        ("x.gguf", ["llama_cpp_python/x.gguf",
            "llama_cpp_native/x.gguf",
            "ollama_cloud/gpt-oss:120b-cloud",
            "ollama_cloud/gpt-oss:20b-cloud",
            "ollama/llama3.1:latest",
            "llama_cpp_python/llama-cpp-default",
            "ollama/qwen2.5-coder:7b",
            "vllm-qwen/Qwen/Qwen2.5-Coder-7B-Instruct-AWQ",
            "llama_cpp_native/llama-cpp-native",
            "ollama_cloud/qwen3-coder:480b-cloud"]),
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

    @Test func everyConfiguredNameHasItsPlan() {
        let names = Self.expected.map(\.0)
        for name in Self.router.configuredNames { #expect(names.contains(name), "no expectation for \(name)") }
        for (name, steps) in Self.expected {
            let plan = Self.router.plan(for: name, state: RouterState(), advance: false)
            #expect(plan.summary == steps, "plan for \(name)")
        }
    }

    @Test func reasonsCiteTheRuleAndItsLine() {
        let plan = Self.router.plan(for: "qwen-coder-vllm", state: RouterState())
        #expect(plan.ruleDescription == "exact match 'qwen-coder-vllm'")
        #expect(plan.ruleLocation?.citation == "model-mappings.yaml:65:3")
        #expect(plan.steps[1].reason == "fallback provider of 'qwen-coder-vllm'; ollama does not list 'qwen-coder-vllm', so its first model llama3.1:latest")
        #expect(plan.steps[1].location?.citation == "model-mappings.yaml:68:15")
        #expect(plan.steps[2].reason == "fallback_chains['qwen-coder-vllm'] step 1 'qwen3-coder:480b-cloud' (exact match, model-mappings.yaml:101:3)")
        #expect(plan.steps[2].location?.citation == "model-mappings.yaml:352:9")
        let dolphin = Self.router.plan(for: "solidrust/dolphin-2.8-mistral-7b-v02-AWQ", state: RouterState())
        #expect(dolphin.steps[0].unusable == "provider vllm-dolphin is disabled (providers.yaml:119:3)")
        #expect(dolphin.usableSteps[0].provider == "ollama")
    }

    @Test func llamaIsSplitSeventyThirty() {
        let state = RouterState()
        var ollama = 0
        for _ in 0..<10_000 where Self.router.plan(for: "llama3.1:latest", state: state).steps[0].provider == "ollama" { ollama += 1 }
        #expect(ollama == 7000)
    }

    @Test func codeFollowsComplexityAndAnalyticalFollowsContextSize() {
        let state = RouterState()
        func first(_ name: String, _ prompt: String) -> String {
            Self.router.plan(for: name, input: RoutingInput(prompt: prompt), state: state).steps[0].backendModel
        }
        #expect(first("code", "print hello") == "qwen2.5-coder:7b")
        #expect(first("code", String(repeating: "word ", count: 60)) == "Qwen/Qwen2.5-Coder-7B-Instruct-AWQ")   // 75 tokens
        #expect(first("code", String(repeating: "word ", count: 100)) == "qwen3-coder:480b-cloud")           // 125 tokens
        #expect(first("analytical", "short question") == "qwen2.5-coder:7b")
        #expect(first("analytical", String(repeating: "x", count: 20_000)) == "kimi-k2:1t-cloud")
    }

    @Test func whatIsNotEvaluatedIsSaid() {
        let code = Self.router.plan(for: "code-generation", state: RouterState())
        #expect(code.notes.count == 4)
        #expect(code.notes.last == "load balancing 'code-generation': strategy 'adaptive_weighted' (model-mappings.yaml:296:15) is not evaluated by aish; it picks by smooth weighted round robin over the listed weights")
        let creative = Self.router.plan(for: "creative-tasks", state: RouterState())
        #expect(creative.notes == [
            "load balancing 'creative-tasks': condition \"length > 1000 OR quality_tier == 'high'\" on ollama_cloud (model-mappings.yaml:314:20) is not evaluated by aish",
            "load balancing 'creative-tasks': strategy 'quality_based' (model-mappings.yaml:315:15) is not evaluated by aish; it picks by smooth weighted round robin over the listed weights",
        ])
        let analytical = Self.router.plan(for: "analytical", state: RouterState())
        #expect(analytical.notes == ["capability 'analytical': context level 'complex' (deepseek-v3.1:671b-cloud) is not evaluated: aish measures the size of the context, not how complex a task is"])
    }
}
