// Typed view of the operator's config files (SPEC §2). Every element keeps the position
// of its node so that `validate` and `route` can cite file:line:col.
// The loader (YAML → these types) lives beside this file.

/// Equatable down to every field (synthesized, so a new field takes part by itself): a
/// session's caches of what a config compiles to (the router) are keyed on the value.
struct AishConfig: Sendable, Equatable {
    var directory: String
    var providers: ProvidersFile
    var mappings: ModelMappings
    var ports: PortsFile
    /// The LiteLLM file aish generates (it may not exist yet).
    var litellmPath: String { directory.hasSuffix("/") ? directory + ConfigLoader.litellmFile : directory + "/" + ConfigLoader.litellmFile }

    func provider(named name: String) -> ProviderConfig? { providers.providers.first(where: { $0.name == name }) }

    /// Every name a request may use that the mappings define (exact aliases, capabilities,
    /// load-balanced aliases) plus the models providers list.
    var knownModelNames: Set<String> {
        var names = Set(mappings.exactMatches.map(\.alias))
        names.formUnion(mappings.capabilities.map(\.name))
        names.formUnion(mappings.loadBalancing.map(\.alias))
        for p in providers.providers { names.formUnion(p.models.map(\.name)) }
        return names
    }
}

enum ProviderType: Sendable, Equatable {
    case ollama, llamaCpp, vllm, openai, openaiCompatible, anthropic, litellm
    case unknown(String)

    init(_ raw: String) {
        switch raw {
        case "ollama": self = .ollama
        case "llama_cpp": self = .llamaCpp
        case "vllm": self = .vllm
        case "openai": self = .openai
        case "openai_compatible": self = .openaiCompatible
        case "anthropic": self = .anthropic
        case "litellm": self = .litellm
        default: self = .unknown(raw)
        }
    }

    var rawValue: String {
        switch self {
        case .ollama: return "ollama"
        case .llamaCpp: return "llama_cpp"
        case .vllm: return "vllm"
        case .openai: return "openai"
        case .openaiCompatible: return "openai_compatible"
        case .anthropic: return "anthropic"
        case .litellm: return "litellm"
        case let .unknown(s): return s
        }
    }

    /// A service that is not a model server (`tool_server`, `web_ui`): listed, never routed to.
    var isNonLLMService: Bool { rawValue == "tool_server" || rawValue == "web_ui" }

    /// Speaks the OpenAI-compatible API (/v1/models, /v1/chat/completions).
    var isOpenAICompatible: Bool {
        switch self {
        case .llamaCpp, .vllm, .openai, .openaiCompatible, .litellm: return true
        default: return false
        }
    }
}

enum ProviderStatus: String, Sendable, Equatable {
    case active, disabled, template
    /// The deployment's "not wired up yet": treated like disabled, and said so.
    case pendingIntegration = "pending_integration"
}

struct ProviderModel: Sendable, Equatable {
    var name: String
    var contextLength: Int?
    var location: SourceLocation
    /// The free keys written beside name/context_length (size, quantization, tags, …).
    @PairList var metadata: [(String, JSONValue)] = []
}

/// Per-provider network timeouts (aish's own optional keys), in seconds.
struct ProviderTimeouts: Sendable, Equatable {
    var connect: Double = 5
    var firstToken: Double = 60
    var idle: Double = 30
}

struct ProviderRateLimits: Sendable, Equatable {
    var requestsPerMinute: Int?
    var tokensPerMinute: Int?
    var location: SourceLocation?
    var requestsLocation: SourceLocation? = nil
    var tokensLocation: SourceLocation? = nil
}

struct ProviderConfig: Sendable, Equatable {
    var name: String
    var type: ProviderType
    var baseURL: String
    var status: ProviderStatus
    var models: [ProviderModel]
    var healthEndpoint: String?
    var envVar: String?             // name of the variable holding the API key (never the key)
    var requiresAPIKey: Bool
    var rateLimits: ProviderRateLimits?
    var timeouts: ProviderTimeouts
    var serviceUnit: String?        // systemd unit, when known
    var location: SourceLocation
    var baseURLLocation: SourceLocation? = nil
    /// True when the provider sets `timeouts` itself (otherwise the defaults apply).
    var timeoutsConfigured: Bool = false
    /// A LiteLLM gateway that accepts the fault switch `drill` uses (aish's own key
    /// `allow_drills`; `config generate` then sets LiteLLM's opt-in for it).
    var allowDrills: Bool = false
    /// A LiteLLM gateway run as several processes over one Redis: the other processes'
    /// URLs (aish's own key `replicas`); `gateway`, `status` and `report` show each.
    var replicas: [String] = []

    var isActive: Bool { status == .active }
}

struct HealthCheckSettings: Sendable, Equatable {
    var enabled: Bool = true
    var intervalSeconds: Double = 60
    var timeoutSeconds: Double = 5
    var retryAttempts: Int = 3
}

struct ProvidersFile: Sendable, Equatable {
    var path: String
    var providers: [ProviderConfig]
    var healthChecks: HealthCheckSettings
}

struct RouteRateLimit: Sendable, Equatable {
    var rpm: Int?
    var tpm: Int?
    var location: SourceLocation?
    var rpmLocation: SourceLocation? = nil
    var tpmLocation: SourceLocation? = nil
}

struct ExactMatch: Sendable, Equatable {
    var alias: String
    var provider: String
    var backendModel: String?       // defaults to the alias
    var fallback: String?           // a provider name
    var priority: String?
    var rateLimit: RouteRateLimit?
    var location: SourceLocation
    var providerLocation: SourceLocation? = nil
    var backendModelLocation: SourceLocation? = nil
    var fallbackLocation: SourceLocation? = nil

    /// The model name sent to the provider.
    var targetModel: String { backendModel ?? alias }
}

struct PatternRoute: Sendable, Equatable {
    var pattern: String
    var provider: String
    var fallback: String?
    var location: SourceLocation
    var patternLocation: SourceLocation? = nil
    var providerLocation: SourceLocation? = nil
    var fallbackLocation: SourceLocation? = nil

    /// Whether `model` matches (search semantics, as Python's re.search); false when the
    /// pattern does not compile (validate reports that).
    func matches(_ model: String) -> Bool { PatternCache.shared.regex(pattern)?.matches(model) ?? false }
}

struct Capability: Sendable, Equatable {
    var name: String
    var preferredModels: [String]
    var provider: String?
    var fallback: String?
    var routingStrategy: String?
    /// Every provider named (`provider:` may be a list in the deployment's schema); `provider`
    /// is the first.
    var providers: [String] = []
    var allProviders: [String] { providers.isEmpty ? (provider.map { [$0] } ?? []) : providers }
    /// complexity_thresholds / context_thresholds: level → model, in file order.
    @PairList var complexityThresholds: [(String, String)]
    @PairList var contextThresholds: [(String, String)]
    var minContext: Int?
    var location: SourceLocation
    var preferredModelLocations: [SourceLocation] = []
    var providerLocation: SourceLocation? = nil
    var fallbackLocation: SourceLocation? = nil
    var routingStrategyLocation: SourceLocation? = nil
    var complexityThresholdLocations: [SourceLocation] = []
    var contextThresholdLocations: [SourceLocation] = []
}

struct WeightedProvider: Sendable, Equatable {
    var provider: String
    var weight: Double
    var condition: String?
    var preferredModel: String?
    var location: SourceLocation
    var providerLocation: SourceLocation? = nil
    var weightLocation: SourceLocation? = nil
    var conditionLocation: SourceLocation? = nil
    var preferredModelLocation: SourceLocation? = nil
}

struct LoadBalance: Sendable, Equatable {
    var alias: String
    var providers: [WeightedProvider]
    var strategy: String
    var location: SourceLocation
    var strategyLocation: SourceLocation? = nil
}

struct FallbackChain: Sendable, Equatable {
    var model: String
    /// Step names; a step written as a map (`- model: x`, `- x: {…}`) is its name here.
    var chain: [String]
    var location: SourceLocation
    var chainLocations: [SourceLocation] = []
}

struct RoutingRules: Sendable, Equatable {
    var defaultProvider: String?
    var defaultFallback: String?
    var location: SourceLocation?
    var defaultProviderLocation: SourceLocation? = nil
    var defaultFallbackLocation: SourceLocation? = nil
}

struct SpecialCases: Sendable, Equatable {
    var rateLimitedFallbackEnabled = true
    var rateLimitedFallbackSeconds: Double = 60
    var errorBasedRoutingEnabled = true
    var errorThreshold = 3
    var cooldownSeconds: Double = 300
    /// Where `error_based_routing` is (its `error_threshold` when set).
    var errorBasedRoutingLocation: SourceLocation? = nil
}

struct ModelMappings: Sendable, Equatable {
    var path: String
    var exactMatches: [ExactMatch]
    var patterns: [PatternRoute]
    var capabilities: [Capability]
    var loadBalancing: [LoadBalance]
    var fallbackChains: [FallbackChain]   // without `default`
    var defaultChain: FallbackChain?
    var routingRules: RoutingRules
    var specialCases: SpecialCases
}

struct PortService: Sendable, Equatable {
    var name: String
    var port: Int
    var proto: String
    var required: Bool
    var serviceUnit: String?
    var healthCheck: String?
    var location: SourceLocation
    var portLocation: SourceLocation? = nil
}

/// A named range from ports.yaml `ranges` ("8000-8999", or several joined by commas).
struct PortRange: Sendable, Equatable {
    var name: String
    var text: String
    var bounds: [ClosedRange<Int>]
    var location: SourceLocation
}

struct PortsFile: Sendable, Equatable {
    var path: String
    var services: [PortService]
    var reserved: [PortService]
    var ranges: [PortRange] = []
    /// The `monitoring:` section as written (see MonitoringConfig for the resolved addresses).
    var monitoring: MonitoringConfig? = nil
}

/// A list of pairs kept in file order (tuples, as the code reads them), comparable: tuples
/// are not Equatable, so a struct holding them could not have its == synthesized.
@propertyWrapper
struct PairList<Value: Equatable & Sendable>: Equatable, Sendable {
    var wrappedValue: [(String, Value)]

    init(wrappedValue: [(String, Value)]) { self.wrappedValue = wrappedValue }

    static func == (a: PairList, b: PairList) -> Bool { a.wrappedValue.elementsEqual(b.wrappedValue, by: ==) }
}
