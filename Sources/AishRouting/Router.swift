import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// Turns a requested model name into an `AttemptPlan` (SPEC §3). Built once per loaded
/// config: every configured name (exact match, load-balancing alias, capability) gets its
/// plans precomputed, one per choice its strategy can make, so that `plan(for:)` is a hash
/// lookup, a strategy decision and no allocation. Names no rule claims by name go through
/// the compiled patterns, then the default provider.
package final class Router: @unchecked Sendable {
    package let providers: [ProviderConfig]
    package let specialCases: SpecialCases
    package let mappingsFile: String
    package let providersFile: String
    private let providerIndex: [String: Int]
    private let routes: [String: CompiledRoute]
    /// Configured names in file order: exact matches, load balancing, capabilities.
    package let configuredNames: [String]
    private let patternRoutes: [CompiledPatternRoute]
    private let patternSources: [String]
    package let patternIndex: PatternIndex
    private let defaultRoute: CompiledPatternRoute?
    /// Notes that apply to every plan (e.g. no default provider).
    package let globalNotes: [String]
    /// Plans of names matched by a pattern or the default, made once per name: they depend on
    /// the config only (the session state decides what is tried, not what is planned).
    private let dynamicPlans = PlanMemo(capacity: 4096)

    package init(config: AishConfig) {
        let compiler = RouteCompiler(config: config)
        providers = config.providers.providers
        specialCases = config.mappings.specialCases
        mappingsFile = PathText.lastComponent(config.mappings.path)
        providersFile = PathText.lastComponent(config.providers.path)
        providerIndex = compiler.providerIndex
        var routes: [String: CompiledRoute] = [:]
        var names: [String] = []
        for name in compiler.configuredNames where routes[name] == nil {
            if let r = compiler.compileNamedRoute(name) {
                routes[name] = r
                names.append(name)
            }
        }
        self.routes = routes
        configuredNames = names
        patternIndex = PatternIndex(patterns: config.mappings.patterns.map(\.pattern))
        patternSources = config.mappings.patterns.map(\.pattern)
        let tail = compiler.defaultTail
        patternRoutes = config.mappings.patterns.indices.map { compiler.compilePattern($0, tail: tail) }
        defaultRoute = compiler.compileDefault(tail: tail)
        var notes: [String] = []
        for e in patternIndex.compileErrors {
            let loc = config.mappings.patterns[e.index].location
            notes.append("\(e.message) (\(loc.citation)); it never matches")
        }
        globalNotes = notes
    }

    package func provider(named name: String) -> ProviderConfig? { providerIndex[name].map { providers[$0] } }

    /// The plan for `name`. `advance: false` shows what the next request would get without
    /// moving round robins or random generators (for `route`).
    package func plan(for name: String, input: RoutingInput = .none, state: RouterState, advance: Bool = true) -> AttemptPlan {
        if let route = routes[name] {
            let (choice, decision) = route.chooser.choose(input: input, state: state, advance: advance)
            return AttemptPlan(requestedModel: name, rule: route.rule, ruleDescription: route.ruleDescription,
                               ruleLocation: route.location, steps: route.variants[choice],
                               notes: globalNotes.isEmpty ? route.notes : route.notes + globalNotes,
                               decision: decision, strategy: route.strategy, candidates: route.candidates,
                               gatewayGroups: route.gatewayGroups, isGatewayName: route.isGatewayName)
        }
        if let cached = dynamicPlans.plan(for: name) { return cached }
        if let i = patternIndex.firstMatch(name) {
            return dynamicPlans.keep(patternRoutes[i].plan(for: name, decision: .pattern(index: i), globalNotes: globalNotes))
        }
        if let d = defaultRoute {
            return dynamicPlans.keep(d.plan(for: name, decision: .defaultProvider, globalNotes: globalNotes))
        }
        return AttemptPlan(requestedModel: name, rule: .defaultProvider,
                           ruleDescription: "no rule matches '\(name)' and routing_rules.default_provider is not set",
                           ruleLocation: nil, steps: [], notes: globalNotes, decision: .defaultProvider,
                           strategy: nil, candidates: [])
    }

    package func patternText(_ i: Int) -> String { patternSources[i] }

    /// The plan pattern `i` makes for `name` (for `route --all`).
    package func patternPlan(index i: Int, name: String) -> AttemptPlan {
        patternRoutes[i].plan(for: name, decision: .pattern(index: i), globalNotes: globalNotes)
    }

    /// The plan the default provider makes for `name`, when one is configured.
    package func defaultPlan(name: String) -> AttemptPlan? {
        defaultRoute?.plan(for: name, decision: .defaultProvider, globalNotes: globalNotes)
    }

    /// Whether `step` may be tried now: its API key is in the environment (when one is
    /// needed), it is not cooled down, and it is under its provider and route rate limits.
    package func availability(of step: PlanStep, state: RouterState, environment: [String: String]? = nil) -> RouterState.Availability {
        guard let i = step.providerIndex else { return .available }
        let p = providers[i]
        if let environment, p.requiresAPIKey {
            guard let variable = p.envVar else {
                return .missingAPIKey(reason: "provider \(p.name) requires an API key but names no env_var (\(p.location.citation))")
            }
            if (environment[variable] ?? "").isEmpty {
                return .missingAPIKey(reason: "provider \(p.name) needs an API key in \(variable), which is not set")
            }
        }
        return state.availability(of: step, providerLimits: p.rateLimits)
    }
}

// MARK: - compiled forms

/// A configured name with its plans, one per choice of its strategy.
package struct CompiledRoute: Sendable {
    package var name: String
    package var rule: RouteRuleKind
    package var ruleDescription: String
    package var location: SourceLocation?
    package var strategy: String?
    package var chooser: Chooser
    package var candidates: [String]
    package var variants: [[PlanStep]]
    package var notes: [String]
    package var gatewayGroups: [GatewayGroupSummary] = []
    package var isGatewayName = false
}

/// How a route picks its first target. Indices are variant indices.
package enum Chooser: Sendable {
    case fixed
    case roundRobin(key: String, weights: [Int])
    case shuffle(weights: [Int])
    case leastLoaded(providers: [String])
    case fastest(providers: [String])
    case usageByProvider(providers: [String])
    case usageByRoute(routeKeys: [String])
    case complexity(low: Int, medium: Int, high: Int)
    case context(large: Int, standard: Int)
    case mostCapacity(pick: Int, contextLength: Int?)

    package func choose(input: RoutingInput, state: RouterState, advance: Bool) -> (Int, RouteDecision) {
        switch self {
        case .fixed:
            return (0, .fixed)
        case let .roundRobin(key, weights):
            let i = state.nextRoundRobin(key: key, weights: weights, advance: advance)
            return (i, .weightedRoundRobin(pick: i))
        case let .shuffle(weights):
            let i = state.weightedShuffle(weights: weights, advance: advance)
            return (i, .weightedShuffle(pick: i))
        case let .leastLoaded(providers):
            var best = 0
            var bestLoad = Int.max
            for (i, p) in providers.enumerated() {
                let n = state.requestsInFlight(provider: p)
                if n < bestLoad { best = i; bestLoad = n }
            }
            return (best, .leastLoaded(pick: best, inFlight: bestLoad))
        case let .fastest(providers):
            // Unmeasured providers go first (in file order) so each gets measured once.
            var best: Int? = nil
            var bestMs = Double.infinity
            for (i, p) in providers.enumerated() {
                guard let ms = state.recentLatencyMs(provider: p) else { return (i, .fastestResponse(pick: i, ewmaMs: nil)) }
                if ms < bestMs { best = i; bestMs = ms }
            }
            let pick = best ?? 0
            return (pick, .fastestResponse(pick: pick, ewmaMs: best == nil ? nil : bestMs))
        case let .usageByProvider(providers):
            return Self.leastUsed(providers.map { state.recentUsage(provider: $0) })
        case let .usageByRoute(keys):
            return Self.leastUsed(keys.map { state.recentUsage(routeKey: $0) })
        case let .complexity(low, medium, high):
            let tokens = input.promptTokens ?? 0
            let given = input.promptTokens != nil
            if tokens > 100 { return (high, .complexity(level: "high", estimatedTokens: tokens, promptGiven: given)) }
            if tokens >= 50 { return (medium, .complexity(level: "medium", estimatedTokens: tokens, promptGiven: given)) }
            return (low, .complexity(level: "low", estimatedTokens: tokens, promptGiven: given))
        case let .context(large, standard):
            let tokens = input.contextTokens ?? input.promptTokens ?? 0
            let given = input.contextTokens != nil || input.promptTokens != nil
            if tokens > 4096 { return (large, .context(level: "large", estimatedTokens: tokens, promptGiven: given)) }
            return (standard, .context(level: "standard", estimatedTokens: tokens, promptGiven: given))
        case let .mostCapacity(pick, ctx):
            return (pick, .mostCapacity(contextLength: ctx))
        }
    }

    private static func leastUsed(_ usage: [(requests: Int, tokens: Int)]) -> (Int, RouteDecision) {
        var best = 0
        for i in usage.indices.dropFirst() {
            let u = usage[i], b = usage[best]
            if u.tokens < b.tokens || (u.tokens == b.tokens && u.requests < b.requests) { best = i }
        }
        let u = usage.isEmpty ? (0, 0) : usage[best]
        return (best, .usageBased(pick: best, recentRequests: u.0, recentTokens: u.1))
    }
}

/// Remembers the plans of names routed by pattern or default, up to `capacity` names (then
/// starts over), so that a name asked for again costs a lookup.
package final class PlanMemo: Sendable {
    private let plans = Locked<[String: AttemptPlan]>([:])
    private let capacity: Int

    package init(capacity: Int) { self.capacity = capacity }

    package func plan(for name: String) -> AttemptPlan? { plans.withLock { $0[name] } }

    package func keep(_ plan: AttemptPlan) -> AttemptPlan {
        plans.withLock { plans in
            if plans.count >= capacity { plans.removeAll(keepingCapacity: true) }
            plans[plan.requestedModel] = plan
        }
        return plan
    }
}

/// A pattern (or the default provider): the requested name is the backend model, so the
/// first steps are made per request; the default chain after them is precomputed.
package struct CompiledPatternRoute: Sendable {
    package var rule: RouteRuleKind
    package var ruleDescription: String
    package var location: SourceLocation?
    package var provider: PlanStep            // backendModel and routeKey filled per request
    package var fallback: PlanStep?
    package var tail: [PlanStep]
    package var notes: [String]

    package func plan(for name: String, decision: RouteDecision, globalNotes: [String]) -> AttemptPlan {
        var steps: [PlanStep] = []
        steps.reserveCapacity(2 + tail.count)
        var head = provider
        head.backendModel = name
        head.routeKey = name
        steps.append(head)
        if var f = fallback, f.provider != head.provider {
            f.backendModel = name
            f.routeKey = name
            steps.append(f)
        }
        for s in tail where !steps.contains(where: { $0.provider == s.provider && $0.backendModel == s.backendModel }) {
            steps.append(s)
        }
        return AttemptPlan(requestedModel: name, rule: rule, ruleDescription: ruleDescription, ruleLocation: location,
                           steps: steps, notes: globalNotes.isEmpty ? notes : notes + globalNotes, decision: decision,
                           strategy: nil, candidates: [])
    }
}
