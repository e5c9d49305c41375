import Foundation
@testable import AishBase
@testable import AishConfig
@testable import AishRouting

/// Small configurations built in code, for router tests that do not need the YAML loader.
struct RoutingTestConfig {
    var providers: [ProviderConfig] = []
    var mappings = ModelMappings(path: "/cfg/model-mappings.yaml", exactMatches: [], patterns: [], capabilities: [],
                                 loadBalancing: [], fallbackChains: [], defaultChain: nil,
                                 routingRules: RoutingRules(), specialCases: SpecialCases())
    private var line = 1

    static func at(_ line: Int, _ file: String = "model-mappings.yaml") -> SourceLocation {
        SourceLocation(file: file, line: line, column: 3)
    }

    private mutating func next() -> SourceLocation {
        line += 1
        return Self.at(line)
    }

    mutating func provider(_ name: String, models: [String] = [], status: ProviderStatus = .active,
                           baseURL: String = "http://127.0.0.1:1", type: ProviderType = .openaiCompatible,
                           rpm: Int? = nil, tpm: Int? = nil, contextLengths: [Int?] = [],
                           timeouts: ProviderTimeouts = ProviderTimeouts()) {
        let loc = SourceLocation(file: "providers.yaml", line: 10 + providers.count * 10, column: 3)
        providers.append(ProviderConfig(
            name: name, type: type, baseURL: baseURL, status: status,
            models: models.enumerated().map { i, m in
                ProviderModel(name: m, contextLength: i < contextLengths.count ? contextLengths[i] : nil, location: loc)
            },
            healthEndpoint: nil, envVar: nil, requiresAPIKey: false,
            rateLimits: rpm == nil && tpm == nil ? nil : ProviderRateLimits(requestsPerMinute: rpm, tokensPerMinute: tpm, location: loc),
            timeouts: timeouts, serviceUnit: nil, location: loc))
    }

    mutating func exact(_ alias: String, _ provider: String, backend: String? = nil, fallback: String? = nil,
                        rpm: Int? = nil, tpm: Int? = nil) {
        mappings.exactMatches.append(ExactMatch(
            alias: alias, provider: provider, backendModel: backend, fallback: fallback, priority: nil,
            rateLimit: rpm == nil && tpm == nil ? nil : RouteRateLimit(rpm: rpm, tpm: tpm, location: nil), location: next()))
    }

    mutating func pattern(_ p: String, _ provider: String, fallback: String? = nil) {
        mappings.patterns.append(PatternRoute(pattern: p, provider: provider, fallback: fallback, location: next()))
    }

    mutating func balance(_ alias: String, _ members: [(String, Double)], strategy: String = "weighted_round_robin",
                          preferred: [String: String] = [:], conditions: [String: String] = [:]) {
        let loc = next()
        mappings.loadBalancing.append(LoadBalance(
            alias: alias,
            providers: members.map { p, w in
                WeightedProvider(provider: p, weight: w, condition: conditions[p], preferredModel: preferred[p], location: loc)
            },
            strategy: strategy, location: loc))
    }

    mutating func capability(_ name: String, models: [String] = [], provider: String? = nil, fallback: String? = nil,
                             strategy: String? = nil, complexity: [(String, String)] = [], context: [(String, String)] = [],
                             minContext: Int? = nil) {
        mappings.capabilities.append(Capability(
            name: name, preferredModels: models, provider: provider, fallback: fallback, routingStrategy: strategy,
            complexityThresholds: complexity, contextThresholds: context, minContext: minContext, location: next()))
    }

    mutating func chain(_ model: String, _ steps: [String]) {
        if model == "default" {
            mappings.defaultChain = FallbackChain(model: model, chain: steps, location: next())
        } else {
            mappings.fallbackChains.append(FallbackChain(model: model, chain: steps, location: next()))
        }
    }

    mutating func defaults(provider: String?, fallback: String? = nil) {
        mappings.routingRules = RoutingRules(defaultProvider: provider, defaultFallback: fallback, location: next())
    }

    var config: AishConfig {
        AishConfig(directory: "/cfg",
                   providers: ProvidersFile(path: "/cfg/providers.yaml", providers: providers, healthChecks: HealthCheckSettings()),
                   mappings: mappings, ports: PortsFile(path: "/cfg/ports.yaml", services: [], reserved: []))
    }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSinceReferenceDate: 800_000_000)
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

extension AttemptPlan {
    /// "provider/model" of every step, unusable ones marked with "!".
    var summary: [String] { steps.map { ($0.unusable == nil ? "" : "!") + $0.provider + "/" + $0.backendModel } }
}
