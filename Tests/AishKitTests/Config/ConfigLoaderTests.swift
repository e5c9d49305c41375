import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig

@Suite struct ConfigLoaderTests {
    @Test func realFixtureSetLoads() throws {
        let loaded = ConfigLoader.load(directory: ConfigFixtures.gathewhy)
        #expect(loaded.usable, "\(loaded.findings)")
        let c = loaded.config
        #expect(c.providers.providers.count == 9)
        #expect(c.providers.providers.filter(\.isActive).map(\.name) ==
            ["ollama", "llama_cpp_python", "llama_cpp_native", "vllm-qwen", "ollama_cloud"])
        let ollama = try #require(c.provider(named: "ollama"))
        #expect(ollama.type == .ollama)
        #expect(ollama.baseURL == "http://127.0.0.1:11434")
        #expect(ollama.models.map(\.name) == ["llama3.1:latest", "qwen2.5-coder:7b", "mythomax-l2-13b-q5_k_m"])
        #expect(ollama.serviceUnit == "ollama.service")
        let openai = try #require(c.provider(named: "openai"))
        #expect(openai.status == .disabled)
        #expect(openai.models.map(\.name) == ["gpt-4", "gpt-3.5-turbo"])
        #expect(openai.envVar == "OPENAI_API_KEY")
        #expect(openai.rateLimits?.requestsPerMinute == 3500)
        #expect(openai.rateLimits?.tokensPerMinute == 90000)
        #expect(c.provider(named: "custom_openai_compatible")?.status == .template)
        #expect(c.provider(named: "llama_cpp_python")?.models.first?.contextLength == 8192)
        #expect(c.provider(named: "vllm-qwen")?.serviceUnit == "vllm-qwen.service")
        #expect(c.providers.healthChecks.intervalSeconds == 60)

        let m = c.mappings
        #expect(m.exactMatches.count == 12)
        #expect(m.exactMatches[0].alias == "llama3.1:latest")
        #expect(m.exactMatches[0].fallback == nil)
        #expect(m.exactMatches[0].location == SourceLocation(file: ConfigFixtures.gathewhy + "/model-mappings.yaml", line: 48, column: 3))
        #expect(m.exactMatches.first(where: { $0.alias == "qwen-coder-vllm" })?.backendModel == "Qwen/Qwen2.5-Coder-7B-Instruct-AWQ")
        #expect(m.patterns.count == 6)
        #expect(m.patterns[4].pattern == ".*:\\d+[bB]$")
        #expect(m.capabilities.count == 8)
        #expect(m.capabilities.first(where: { $0.name == "code" })?.complexityThresholds.map(\.1) ==
            ["qwen3-coder:480b-cloud", "qwen-coder-vllm", "qwen2.5-coder:7b"])
        #expect(m.capabilities.first(where: { $0.name == "low_latency" })?.provider == "llama_cpp_native")
        #expect(m.loadBalancing.count == 4)
        #expect(m.loadBalancing[2].strategy == "adaptive_weighted")
        #expect(m.loadBalancing[2].providers.map(\.weight) == [0.5, 0.3, 0.2])
        #expect(m.fallbackChains.count == 12)
        #expect(m.fallbackChains.first(where: { $0.model == "llama-cpp-native" })?.chain == [])
        #expect(m.defaultChain?.chain.count == 5)
        #expect(m.routingRules.defaultProvider == "ollama")
        #expect(m.routingRules.defaultFallback == "llama_cpp_python")
        #expect(m.specialCases.errorThreshold == 3)
        #expect(m.specialCases.cooldownSeconds == 300)

        #expect(c.ports.services.count == 14)
        #expect(c.ports.reserved.map(\.port) == [8004, 8003, 5001])
        #expect(c.ports.ranges.first(where: { $0.name == "monitoring" })?.bounds == [3000...3999, 9000...9999])
        #expect(c.ports.services.first(where: { $0.name == "llama_cpp_native" })?.serviceUnit == nil)
    }
}

@Suite struct ConfigAccessTests {
    static func context(_ dir: String?, env: [String: String] = [:]) -> ShellContext {
        var options = GlobalOptions()
        options.configDirectory = dir
        return ShellContext(options: options, output: OutputSink(capturing: true), environment: env)
    }

    @Test func directoryDefaultsFollowTheSpec() {
        #expect(ConfigLoader.resolveDirectory(option: "/x", environment: ["AISH_CONFIG": "/y"]) == "/x")
        #expect(ConfigLoader.resolveDirectory(option: nil, environment: ["AISH_CONFIG": "/y"]) == "/y")
    }

    @Test func loadsFromTheOptionAndCachesPerSession() throws {
        let ctx = Self.context(ConfigFixtures.gathewhy)
        let a = try ctx.config()
        #expect(a.providers.providers.count == 9)
        let first = ctx.configLoad().stamps
        #expect(ctx.configLoad().stamps == first)
    }

    @Test func reloadsWhenAFileChanges() throws {
        let dir = try ConfigFixtures.directory(["providers.yaml": "providers:\n  a:\n    type: ollama\n    base_url: http://127.0.0.1:1\n"])
        let ctx = Self.context(dir)
        #expect(try ctx.config().providers.providers.map(\.name) == ["a"])
        try "providers:\n  b:\n    type: vllm\n    base_url: http://127.0.0.1:2\n    models: [m]\n"
            .write(toFile: dir + "/providers.yaml", atomically: true, encoding: .utf8)
        #expect(try ctx.config().providers.providers.map(\.name) == ["b"])
    }

    @Test func missingDirectoryNamesThePath() {
        let ctx = Self.context("/nonexistent/aish-config")
        #expect {
            try ctx.config()
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.exitCode == .config && e.description == """
                configuration invalid (1 error):
                /nonexistent/aish-config: error: configuration directory not found (set it with --config DIR or AISH_CONFIG)
                """
        }
    }

    @Test func missingProvidersFileNamesThePath() throws {
        let dir = try ConfigFixtures.directory(["ports.yaml": "ollama:\n  port: 11434\n"])
        #expect(ConfigLoader.load(directory: dir).findings.map(\.description) ==
            ["\(dir)/providers.yaml: error: configuration file not found"])
    }

    @Test func syntaxErrorStopsLoadingWithExitCode3() throws {
        let dir = try ConfigFixtures.directory(["providers.yaml": "providers:\n  a:\n\ttype: ollama\n"])
        let ctx = Self.context(dir)
        #expect {
            try ctx.config()
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.exitCode == .config && e.description == """
                configuration invalid (1 error):
                \(dir)/providers.yaml:3:1: error: tab character in indentation (YAML indents with spaces only)
                """
        }
    }
}

@Suite struct BaseURLTests {
    func parts(_ s: String) -> String? {
        BaseURL(s).map { "\($0.scheme)|\($0.host)|\($0.port.map(String.init) ?? "nil")|\($0.path)" }
    }

    @Test func splitsTheParts() {
        #expect(parts("http://127.0.0.1:11434") == "http|127.0.0.1|11434|")
        #expect(parts("https://api.openai.com/v1") == "https|api.openai.com|nil|/v1")
        #expect(parts("http://[::1]:8080/v1?x=1") == "http|::1|8080|/v1")
        #expect(parts("http://user:pw@host:1/") == "http|host|1|/")
        #expect(BaseURL("http://localhost:CUSTOM_PORT") == nil)
        #expect(BaseURL("localhost:8080") == nil)
        #expect(BaseURL("http://:80") == nil)
        #expect(looseName("vllm-Qwen") == "vllm_qwen")
    }
}
