import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// A large made-up configuration for measuring routing speed (scripts/bench): many exact
/// routes with fallbacks and chains, many patterns of the shapes real configs use
/// (`^vendor/…`, `….gguf$`, a few without any literal), and a default chain.
package enum SyntheticRoutingConfig {
    package static let providerCount = 20

    package static func make(exactRoutes: Int = 10_000, patterns: Int = 1_000) -> AishConfig {
        let file = "synthetic/model-mappings.yaml"
        var line = 1
        func here() -> SourceLocation {
            line += 1
            return SourceLocation(file: file, line: line, column: 3)
        }
        var providers: [ProviderConfig] = []
        for i in 0..<providerCount {
            providers.append(ProviderConfig(
                name: "p\(i)", type: .openaiCompatible, baseURL: "http://127.0.0.1:\(20_000 + i)", status: .active,
                models: [ProviderModel(name: "base-\(i)", contextLength: 4096 * (1 + i % 4),
                                       location: SourceLocation(file: "synthetic/providers.yaml", line: 10 + i, column: 7))],
                healthEndpoint: "/v1/models", envVar: nil, requiresAPIKey: false, rateLimits: nil,
                timeouts: ProviderTimeouts(), serviceUnit: nil,
                location: SourceLocation(file: "synthetic/providers.yaml", line: 10 + i, column: 3)))
        }
        var exact: [ExactMatch] = []
        var chains: [FallbackChain] = []
        for i in 0..<exactRoutes {
            let name = exactName(i)
            exact.append(ExactMatch(alias: name, provider: "p\(i % providerCount)", backendModel: "backend/\(name)",
                                    fallback: "p\((i + 1) % providerCount)", priority: "primary",
                                    rateLimit: i % 10 == 0 ? RouteRateLimit(rpm: 100, tpm: 50_000, location: nil) : nil,
                                    location: here()))
        }
        for i in stride(from: 0, to: exactRoutes, by: 5) {
            chains.append(FallbackChain(model: exactName(i),
                                        chain: [exactName((i + 1) % exactRoutes), exactName((i + 7) % exactRoutes)],
                                        location: here()))
        }
        var patternRoutes: [PatternRoute] = []
        for j in 0..<patterns {
            let pattern: String
            switch j % 100 {
            case 0: pattern = ".*:\\d+x\(j)[bB]$"                 // no literal to filter on
            case 1...9: pattern = ".*\\.q\(j)\\.gguf$"            // literal suffix
            default: pattern = "^vendor\(j)/[a-z0-9-]+-v\\d+$"    // literal prefix
            }
            patternRoutes.append(PatternRoute(pattern: pattern, provider: "p\(j % providerCount)",
                                              fallback: "p\((j + 3) % providerCount)", location: here()))
        }
        let defaultChain = FallbackChain(model: "default", chain: [exactName(0), exactName(1), exactName(2)], location: here())
        let mappings = ModelMappings(
            path: file, exactMatches: exact, patterns: patternRoutes, capabilities: [], loadBalancing: [],
            fallbackChains: chains, defaultChain: defaultChain,
            routingRules: RoutingRules(defaultProvider: "p0", defaultFallback: "p1", location: here()),
            specialCases: SpecialCases())
        return AishConfig(directory: "synthetic",
                          providers: ProvidersFile(path: "synthetic/providers.yaml", providers: providers,
                                                   healthChecks: HealthCheckSettings()),
                          mappings: mappings, ports: PortsFile(path: "synthetic/ports.yaml", services: [], reserved: []))
    }

    package static func exactName(_ i: Int) -> String { "family\(i % 97)/model-\(i)" }

    /// Names to route: a third exact matches, a third matched by a pattern, a third that no
    /// rule names (they go through every pattern check to the default provider).
    package static func sampleNames(count: Int, exactRoutes: Int = 10_000, patterns: Int = 1_000) -> [String] {
        var generator = SplitMix64(seed: 42)
        return (0..<count).map { k in
            let r = Int(generator.next() % 1_000_000)
            switch k % 3 {
            case 0: return exactName(r % exactRoutes)
            case 1:
                let j = r % patterns
                switch j % 100 {
                case 0: return "model:7x\(j)b"
                case 1...9: return "weights-\(r).q\(j).gguf"
                default: return "vendor\(j)/model-\(r % 50)-v\(r % 9)"
                }
            default: return "unknown-\(r)/not-configured"
            }
        }
    }
}
