import AishBase

// Typed view of the operator's config files (SPEC §2). Every element keeps the position
// of its node so that `validate` and `route` can cite file:line:col.
// The loader (YAML → these types) lives beside this file.

/// Equatable down to every field (synthesized, so a new field takes part by itself): a
/// session's caches of what a config compiles to (the router) are keyed on the value.
package struct AishConfig: Sendable, Equatable {
    package var directory: String
    package var providers: ProvidersFile
    package var mappings: ModelMappings
    package var ports: PortsFile

    package init(directory: String, providers: ProvidersFile, mappings: ModelMappings, ports: PortsFile) {
        self.directory = directory
        self.providers = providers
        self.mappings = mappings
        self.ports = ports
    }

    /// The LiteLLM file aish generates (it may not exist yet).
    package var litellmPath: String { directory.hasSuffix("/") ? directory + ConfigLoader.litellmFile : directory + "/" + ConfigLoader.litellmFile }

    package func provider(named name: String) -> ProviderConfig? { providers.providers.first(where: { $0.name == name }) }

    /// Every name a request may use that the mappings define (exact aliases, capabilities,
    /// load-balanced aliases) plus the models providers list.
    package var knownModelNames: Set<String> {
        var names = Set(mappings.exactMatches.map(\.alias))
        names.formUnion(mappings.capabilities.map(\.name))
        names.formUnion(mappings.loadBalancing.map(\.alias))
        for p in providers.providers { names.formUnion(p.models.map(\.name)) }
        return names
    }
}

package enum ProviderType: Sendable, Equatable {
    case ollama, llamaCpp, vllm, openai, openaiCompatible, anthropic, litellm
    case unknown(String)

    package init(_ raw: String) {
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

    package var rawValue: String {
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
    package var isNonLLMService: Bool { rawValue == "tool_server" || rawValue == "web_ui" }

    /// Speaks the OpenAI-compatible API (/v1/models, /v1/chat/completions).
    package var isOpenAICompatible: Bool {
        switch self {
        case .llamaCpp, .vllm, .openai, .openaiCompatible, .litellm: return true
        default: return false
        }
    }
}

package enum ProviderStatus: String, Sendable, Equatable {
    case active, disabled, template
    /// The deployment's "not wired up yet": treated like disabled, and said so.
    case pendingIntegration = "pending_integration"
}

package struct ProviderModel: Sendable, Equatable {
    package var name: String
    package var contextLength: Int?
    package var location: SourceLocation
    /// The free keys written beside name/context_length (size, quantization, tags, …).
    @PairList package var metadata: [(String, JSONValue)] = []

    package init(name: String, contextLength: Int? = nil, location: SourceLocation,
                 metadata: [(String, JSONValue)] = []) {
        self.name = name
        self.contextLength = contextLength
        self.location = location
        self.metadata = metadata
    }

}

/// Per-provider network timeouts (aish's own optional keys), in seconds.
package struct ProviderTimeouts: Sendable, Equatable {
    package var connect: Double = 5
    package var firstToken: Double = 60
    package var idle: Double = 30

    package init(connect: Double = 5, firstToken: Double = 60, idle: Double = 30) {
        self.connect = connect
        self.firstToken = firstToken
        self.idle = idle
    }

}

package struct ProviderRateLimits: Sendable, Equatable {
    package var requestsPerMinute: Int?
    package var tokensPerMinute: Int?
    package var location: SourceLocation?
    package var requestsLocation: SourceLocation? = nil
    package var tokensLocation: SourceLocation? = nil
}

package struct ProviderConfig: Sendable, Equatable {
    package var name: String
    package var type: ProviderType
    package var baseURL: String
    package var status: ProviderStatus
    package var models: [ProviderModel]
    package var healthEndpoint: String?
    package var envVar: String?             // name of the variable holding the API key (never the key)
    package var requiresAPIKey: Bool
    package var rateLimits: ProviderRateLimits?
    package var timeouts: ProviderTimeouts
    package var serviceUnit: String?        // systemd unit, when known
    package var location: SourceLocation
    package var baseURLLocation: SourceLocation? = nil
    /// True when the provider sets `timeouts` itself (otherwise the defaults apply).
    package var timeoutsConfigured: Bool = false
    /// A LiteLLM gateway that accepts the fault switch `drill` uses (aish's own key
    /// `allow_drills`; `config generate` then sets LiteLLM's opt-in for it).
    package var allowDrills: Bool = false
    /// A LiteLLM gateway run as several processes over one Redis: the other processes'
    /// URLs (aish's own key `replicas`); `gateway`, `status` and `report` show each.
    package var replicas: [String] = []

    package init(name: String, type: ProviderType, baseURL: String, status: ProviderStatus, models: [ProviderModel],
                 healthEndpoint: String? = nil, envVar: String? = nil, requiresAPIKey: Bool,
                 rateLimits: ProviderRateLimits? = nil, timeouts: ProviderTimeouts, serviceUnit: String? = nil,
                 location: SourceLocation, baseURLLocation: SourceLocation? = nil, timeoutsConfigured: Bool = false,
                 allowDrills: Bool = false, replicas: [String] = []) {
        self.name = name
        self.type = type
        self.baseURL = baseURL
        self.status = status
        self.models = models
        self.healthEndpoint = healthEndpoint
        self.envVar = envVar
        self.requiresAPIKey = requiresAPIKey
        self.rateLimits = rateLimits
        self.timeouts = timeouts
        self.serviceUnit = serviceUnit
        self.location = location
        self.baseURLLocation = baseURLLocation
        self.timeoutsConfigured = timeoutsConfigured
        self.allowDrills = allowDrills
        self.replicas = replicas
    }

    package var isActive: Bool { status == .active }
}

package struct HealthCheckSettings: Sendable, Equatable {
    package var enabled: Bool = true
    package var intervalSeconds: Double = 60
    package var timeoutSeconds: Double = 5
    package var retryAttempts: Int = 3

    package init(enabled: Bool = true, intervalSeconds: Double = 60, timeoutSeconds: Double = 5,
                 retryAttempts: Int = 3) {
        self.enabled = enabled
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.retryAttempts = retryAttempts
    }

}

package struct ProvidersFile: Sendable, Equatable {
    package var path: String
    package var providers: [ProviderConfig]
    package var healthChecks: HealthCheckSettings

    package init(path: String, providers: [ProviderConfig], healthChecks: HealthCheckSettings) {
        self.path = path
        self.providers = providers
        self.healthChecks = healthChecks
    }

}

package struct RouteRateLimit: Sendable, Equatable {
    package var rpm: Int?
    package var tpm: Int?
    package var location: SourceLocation?
    package var rpmLocation: SourceLocation? = nil
    package var tpmLocation: SourceLocation? = nil

    package init(rpm: Int? = nil, tpm: Int? = nil, location: SourceLocation? = nil, rpmLocation: SourceLocation? = nil,
                 tpmLocation: SourceLocation? = nil) {
        self.rpm = rpm
        self.tpm = tpm
        self.location = location
        self.rpmLocation = rpmLocation
        self.tpmLocation = tpmLocation
    }

}

package struct ExactMatch: Sendable, Equatable {
    package var alias: String
    package var provider: String
    package var backendModel: String?       // defaults to the alias
    package var fallback: String?           // a provider name
    package var priority: String?
    package var rateLimit: RouteRateLimit?
    package var location: SourceLocation
    package var providerLocation: SourceLocation? = nil
    package var backendModelLocation: SourceLocation? = nil
    package var fallbackLocation: SourceLocation? = nil

    package init(alias: String, provider: String, backendModel: String? = nil, fallback: String? = nil,
                 priority: String? = nil, rateLimit: RouteRateLimit? = nil, location: SourceLocation,
                 providerLocation: SourceLocation? = nil, backendModelLocation: SourceLocation? = nil,
                 fallbackLocation: SourceLocation? = nil) {
        self.alias = alias
        self.provider = provider
        self.backendModel = backendModel
        self.fallback = fallback
        self.priority = priority
        self.rateLimit = rateLimit
        self.location = location
        self.providerLocation = providerLocation
        self.backendModelLocation = backendModelLocation
        self.fallbackLocation = fallbackLocation
    }

    /// The model name sent to the provider.
    package var targetModel: String { backendModel ?? alias }
}

package struct PatternRoute: Sendable, Equatable {
    package var pattern: String
    package var provider: String
    package var fallback: String?
    package var location: SourceLocation
    package var patternLocation: SourceLocation? = nil
    package var providerLocation: SourceLocation? = nil
    package var fallbackLocation: SourceLocation? = nil

    package init(pattern: String, provider: String, fallback: String? = nil, location: SourceLocation,
                 patternLocation: SourceLocation? = nil, providerLocation: SourceLocation? = nil,
                 fallbackLocation: SourceLocation? = nil) {
        self.pattern = pattern
        self.provider = provider
        self.fallback = fallback
        self.location = location
        self.patternLocation = patternLocation
        self.providerLocation = providerLocation
        self.fallbackLocation = fallbackLocation
    }

    /// Whether `model` matches (search semantics, as Python's re.search); false when the
    /// pattern does not compile (validate reports that).
    package func matches(_ model: String) -> Bool { PatternCache.shared.regex(pattern)?.matches(model) ?? false }
}

package struct Capability: Sendable, Equatable {
    package var name: String
    package var preferredModels: [String]
    package var provider: String?
    package var fallback: String?
    package var routingStrategy: String?
    /// Every provider named (`provider:` may be a list in the deployment's schema); `provider`
    /// is the first.
    package var providers: [String] = []
    package var allProviders: [String] { providers.isEmpty ? (provider.map { [$0] } ?? []) : providers }
    /// complexity_thresholds / context_thresholds: level → model, in file order.
    @PairList package var complexityThresholds: [(String, String)]
    @PairList package var contextThresholds: [(String, String)]
    package var minContext: Int?
    package var location: SourceLocation
    package var preferredModelLocations: [SourceLocation] = []
    package var providerLocation: SourceLocation? = nil
    package var fallbackLocation: SourceLocation? = nil
    package var routingStrategyLocation: SourceLocation? = nil
    package var complexityThresholdLocations: [SourceLocation] = []
    package var contextThresholdLocations: [SourceLocation] = []
}

package struct WeightedProvider: Sendable, Equatable {
    package var provider: String
    package var weight: Double
    package var condition: String?
    package var preferredModel: String?
    package var location: SourceLocation
    package var providerLocation: SourceLocation? = nil
    package var weightLocation: SourceLocation? = nil
    package var conditionLocation: SourceLocation? = nil
    package var preferredModelLocation: SourceLocation? = nil
}

package struct LoadBalance: Sendable, Equatable {
    package var alias: String
    package var providers: [WeightedProvider]
    package var strategy: String
    package var location: SourceLocation
    package var strategyLocation: SourceLocation? = nil
}

package struct FallbackChain: Sendable, Equatable {
    package var model: String
    /// Step names; a step written as a map (`- model: x`, `- x: {…}`) is its name here.
    package var chain: [String]
    package var location: SourceLocation
    package var chainLocations: [SourceLocation] = []

    package init(model: String, chain: [String], location: SourceLocation, chainLocations: [SourceLocation] = []) {
        self.model = model
        self.chain = chain
        self.location = location
        self.chainLocations = chainLocations
    }

}

package struct RoutingRules: Sendable, Equatable {
    package var defaultProvider: String?
    package var defaultFallback: String?
    package var location: SourceLocation?
    package var defaultProviderLocation: SourceLocation? = nil
    package var defaultFallbackLocation: SourceLocation? = nil

    package init(defaultProvider: String? = nil, defaultFallback: String? = nil, location: SourceLocation? = nil,
                 defaultProviderLocation: SourceLocation? = nil, defaultFallbackLocation: SourceLocation? = nil) {
        self.defaultProvider = defaultProvider
        self.defaultFallback = defaultFallback
        self.location = location
        self.defaultProviderLocation = defaultProviderLocation
        self.defaultFallbackLocation = defaultFallbackLocation
    }

}

package struct SpecialCases: Sendable, Equatable {
    package var rateLimitedFallbackEnabled = true
    package var rateLimitedFallbackSeconds: Double = 60
    package var errorBasedRoutingEnabled = true
    package var errorThreshold = 3
    package var cooldownSeconds: Double = 300
    /// Where `error_based_routing` is (its `error_threshold` when set).
    package var errorBasedRoutingLocation: SourceLocation? = nil

    package init(rateLimitedFallbackEnabled: Bool = true, rateLimitedFallbackSeconds: Double = 60,
                 errorBasedRoutingEnabled: Bool = true, errorThreshold: Int = 3, cooldownSeconds: Double = 300,
                 errorBasedRoutingLocation: SourceLocation? = nil) {
        self.rateLimitedFallbackEnabled = rateLimitedFallbackEnabled
        self.rateLimitedFallbackSeconds = rateLimitedFallbackSeconds
        self.errorBasedRoutingEnabled = errorBasedRoutingEnabled
        self.errorThreshold = errorThreshold
        self.cooldownSeconds = cooldownSeconds
        self.errorBasedRoutingLocation = errorBasedRoutingLocation
    }

}

package struct ModelMappings: Sendable, Equatable {
    package var path: String
    package var exactMatches: [ExactMatch]
    package var patterns: [PatternRoute]
    package var capabilities: [Capability]
    package var loadBalancing: [LoadBalance]
    package var fallbackChains: [FallbackChain]   // without `default`
    package var defaultChain: FallbackChain?
    package var routingRules: RoutingRules
    package var specialCases: SpecialCases

    package init(path: String, exactMatches: [ExactMatch], patterns: [PatternRoute], capabilities: [Capability],
                 loadBalancing: [LoadBalance], fallbackChains: [FallbackChain], defaultChain: FallbackChain? = nil,
                 routingRules: RoutingRules, specialCases: SpecialCases) {
        self.path = path
        self.exactMatches = exactMatches
        self.patterns = patterns
        self.capabilities = capabilities
        self.loadBalancing = loadBalancing
        self.fallbackChains = fallbackChains
        self.defaultChain = defaultChain
        self.routingRules = routingRules
        self.specialCases = specialCases
    }

}

package struct PortService: Sendable, Equatable {
    package var name: String
    package var port: Int
    package var proto: String
    package var required: Bool
    package var serviceUnit: String?
    package var healthCheck: String?
    package var location: SourceLocation
    package var portLocation: SourceLocation? = nil
}

/// A named range from ports.yaml `ranges` ("8000-8999", or several joined by commas).
package struct PortRange: Sendable, Equatable {
    package var name: String
    package var text: String
    package var bounds: [ClosedRange<Int>]
    package var location: SourceLocation
}

package struct PortsFile: Sendable, Equatable {
    package var path: String
    package var services: [PortService]
    package var reserved: [PortService]
    package var ranges: [PortRange] = []
    /// The `monitoring:` section as written (see MonitoringConfig for the resolved addresses).
    package var monitoring: MonitoringConfig? = nil

    package init(path: String, services: [PortService], reserved: [PortService], ranges: [PortRange] = [],
                 monitoring: MonitoringConfig? = nil) {
        self.path = path
        self.services = services
        self.reserved = reserved
        self.ranges = ranges
        self.monitoring = monitoring
    }

}

/// A list of pairs kept in file order (tuples, as the code reads them), comparable: tuples
/// are not Equatable, so a struct holding them could not have its == synthesized.
@propertyWrapper
package struct PairList<Value: Equatable & Sendable>: Equatable, Sendable {
    package var wrappedValue: [(String, Value)]

    package init(wrappedValue: [(String, Value)]) { self.wrappedValue = wrappedValue }

    package static func == (a: PairList, b: PairList) -> Bool { a.wrappedValue.elementsEqual(b.wrappedValue, by: ==) }
}
