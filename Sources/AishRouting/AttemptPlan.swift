import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// Which rule of model-mappings.yaml claimed a requested name (SPEC §3 precedence).
package enum RouteRuleKind: String, Sendable {
    case exactMatch = "exact match"
    case loadBalancing = "load balancing"
    case capability = "capability"
    case pattern = "pattern"
    case defaultProvider = "default provider"
}

/// One target of a plan: a provider and the model name sent to it, with why it is in the
/// plan. `unusable` is set for targets that are never tried (disabled, template or
/// unknown provider); they stay in the plan so that `route` can show them.
package struct PlanStep: Sendable {
    package var provider: String
    package var backendModel: String
    /// The configured name this step stands for (its exact-match rate limit and usage key).
    package var routeKey: String
    /// Why the step is here, e.g. "fallback_chains['llama3.1:latest'] step 2".
    package var reason: String
    /// The rule it comes from.
    package var location: SourceLocation?
    package var unusable: String?
    /// Index of the provider in the router's table (nil for an unknown provider).
    package var providerIndex: Int?
    /// The exact match's `rate_limit`, on the step that targets its own provider.
    package var routeLimit: RouteRateLimit?
    /// Whether the gateway, given the generated config, makes the same attempt here.
    package var scope: PlanScope = .aishOnly
    /// Index into the plan's `gatewayGroups` (gateway steps only).
    package var gatewayGroup: Int? = nil

    package init(provider: String, backendModel: String, routeKey: String, reason: String,
                 location: SourceLocation? = nil, unusable: String? = nil, providerIndex: Int? = nil,
                 routeLimit: RouteRateLimit? = nil, scope: PlanScope = .aishOnly, gatewayGroup: Int? = nil) {
        self.provider = provider
        self.backendModel = backendModel
        self.routeKey = routeKey
        self.reason = reason
        self.location = location
        self.unusable = unusable
        self.providerIndex = providerIndex
        self.routeLimit = routeLimit
        self.scope = scope
        self.gatewayGroup = gatewayGroup
    }

}

/// Gateway-equivalent steps come first; aish's own additions ("aish only") after them.
package enum PlanScope: String, Sendable {
    case gateway
    case aishOnly = "aish only"
}

/// One model group as the gateway tries it: its deployments and how many it reaches.
package struct GatewayGroupSummary: Sendable {
    package var name: String
    package var candidates: [(provider: String, model: String)]
    package var picks: Int
}

/// What a dynamic strategy decided for one plan, kept as numbers so that making a plan
/// allocates nothing; `route` turns it into words.
package enum RouteDecision: Sendable, Equatable {
    case fixed
    case weightedRoundRobin(pick: Int)
    case weightedShuffle(pick: Int)
    case leastLoaded(pick: Int, inFlight: Int)
    case fastestResponse(pick: Int, ewmaMs: Double?)
    case usageBased(pick: Int, recentRequests: Int, recentTokens: Int)
    case complexity(level: String, estimatedTokens: Int, promptGiven: Bool)
    case context(level: String, estimatedTokens: Int, promptGiven: Bool)
    case mostCapacity(contextLength: Int?)
    case pattern(index: Int)
    case defaultProvider
}

/// A requested model name turned into the ordered targets to try (SPEC §3).
package struct AttemptPlan: Sendable {
    package var requestedModel: String
    package var rule: RouteRuleKind
    /// "exact match 'qwen-coder-vllm'" — the rule as a phrase.
    package var ruleDescription: String
    package var ruleLocation: SourceLocation?
    /// Every target in order, including never-tried ones (`unusable`).
    package var steps: [PlanStep]
    /// Things the router did not evaluate or had to guess, said rather than ignored.
    package var notes: [String]
    package var decision: RouteDecision
    /// The strategy name as configured (nil for rules without one).
    package var strategy: String?
    /// Describes the candidates a strategy chose among (provider or model names).
    package var candidates: [String]
    /// The model groups the gateway tries for this name, in its order (empty when the gateway
    /// does not know the name).
    package var gatewayGroups: [GatewayGroupSummary] = []
    package var isGatewayName = false

    package init(requestedModel: String, rule: RouteRuleKind, ruleDescription: String,
                 ruleLocation: SourceLocation? = nil, steps: [PlanStep], notes: [String], decision: RouteDecision,
                 strategy: String? = nil, candidates: [String], gatewayGroups: [GatewayGroupSummary] = [],
                 isGatewayName: Bool = false) {
        self.requestedModel = requestedModel
        self.rule = rule
        self.ruleDescription = ruleDescription
        self.ruleLocation = ruleLocation
        self.steps = steps
        self.notes = notes
        self.decision = decision
        self.strategy = strategy
        self.candidates = candidates
        self.gatewayGroups = gatewayGroups
        self.isGatewayName = isGatewayName
    }

    /// The targets that may be tried, in order.
    package var usableSteps: [PlanStep] { steps.filter { $0.unusable == nil } }

    /// The decision in words, e.g. "weighted round robin picked ollama (weight 0.7)".
    package var decisionText: String? {
        func name(_ i: Int) -> String { candidates.indices.contains(i) ? candidates[i] : "#\(i + 1)" }
        switch decision {
        case .fixed, .pattern, .defaultProvider: return nil
        case let .weightedRoundRobin(pick): return "\(strategy ?? "weighted_round_robin"): smooth weighted round robin picked \(name(pick))"
        case let .weightedShuffle(pick): return "\(strategy ?? "weighted_shuffle"): weighted shuffle picked \(name(pick))"
        case let .leastLoaded(pick, n): return "least_loaded: \(name(pick)) has the fewest requests in flight (\(n))"
        case let .fastestResponse(pick, ms):
            if let ms { return "fastest_response: \(name(pick)) has the lowest recent latency (\(DurationText.milliseconds(ms)))" }
            return "fastest_response: \(name(pick)) has no latency measured yet, so it is tried first"
        case let .usageBased(pick, requests, tokens):
            return "usage_based: \(name(pick)) has the least recent use (\(requests) requests, \(tokens) tokens in the last minute)"
        case let .complexity(level, tokens, given):
            let size = given ? "prompt ≈ \(tokens) tokens" : "no prompt given, ≈ 0 tokens"
            return "complexity_based: \(size) → \(level) (low < 50, medium 50–100, high > 100)"
        case let .context(level, tokens, given):
            let size = given ? "context ≈ \(tokens) tokens" : "no prompt given, ≈ 0 tokens"
            return "context_based: \(size) → \(level) (large > 4096 tokens, else standard)"
        case let .mostCapacity(ctx):
            if let ctx { return "most_capacity: largest context length \(ctx)" }
            return "most_capacity: no context length known, first listed"
        }
    }
}

/// Prompt size as the strategies see it. Tokens are estimated as UTF-8 bytes / 4.
package struct RoutingInput: Sendable {
    /// The latest user message (complexity_based), nil when there is none.
    package var promptTokens: Int?
    /// The whole conversation sent (context_based).
    package var contextTokens: Int?

    package static let none = RoutingInput(promptTokens: nil, contextTokens: nil)

    package static func estimateTokens(_ text: String) -> Int { text.utf8.count / 4 }

    package init(promptTokens: Int?, contextTokens: Int?) {
        self.promptTokens = promptTokens
        self.contextTokens = contextTokens
    }

    package init(prompt: String?, context: String? = nil) {
        promptTokens = prompt.map(Self.estimateTokens)
        contextTokens = (context ?? prompt).map(Self.estimateTokens)
    }
}
