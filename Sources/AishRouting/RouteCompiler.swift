import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// Builds the precomputed plans of a `Router` from the mappings. Runs once per loaded
/// config; nothing here is on the per-request path.
///
/// A plan is what LiteLLM's Router does with the generated config (`GatewayWalk`: the name's
/// model group, then its fallback entry depth first, each group once, the default chain only
/// for a name without an entry), then aish's own steps, labelled "aish only": prompt-sized
/// capability levels, provider-level `fallback`s, chain steps the gateway cannot take. A name
/// the gateway does not serve is walked the same way by aish, with its own chain as its entry.
/// A (provider, model) pair already in the plan is not repeated.
package struct RouteCompiler {
    package let config: AishConfig
    package let mappings: ModelMappings
    package let providerIndex: [String: Int]
    package let configuredNames: [String]
    private let exact: [String: Int]
    private let balancing: [String: Int]
    private let capabilities: [String: Int]
    private let chains: [String: Int]
    package let gateway: GatewayConfig

    package init(config: AishConfig) {
        gateway = GatewayConfig(config)
        self.config = config
        mappings = config.mappings
        var providerIndex: [String: Int] = [:]
        for (i, p) in config.providers.providers.enumerated() where providerIndex[p.name] == nil { providerIndex[p.name] = i }
        self.providerIndex = providerIndex
        func index<T>(_ items: [T], _ key: (T) -> String) -> [String: Int] {
            var d: [String: Int] = [:]
            for (i, item) in items.enumerated() where d[key(item)] == nil { d[key(item)] = i }
            return d
        }
        exact = index(mappings.exactMatches, \.alias)
        balancing = index(mappings.loadBalancing, \.alias)
        capabilities = index(mappings.capabilities, \.name)
        chains = index(mappings.fallbackChains, \.model)
        configuredNames = mappings.exactMatches.map(\.alias) + mappings.loadBalancing.map(\.alias)
            + mappings.capabilities.map(\.name)
    }

    /// Something still to be put in a plan.
    private enum Item {
        /// A model name, resolved the way a requested name is.
        case name(String, reason: String, location: SourceLocation?)
        /// A provider (a `fallback:`), with the model names to prefer on it.
        case provider(String, models: [String], routeKey: String, reason: String, location: SourceLocation?)
    }

    // MARK: named routes

    package func compileNamedRoute(_ name: String) -> CompiledRoute? {
        var rule: RouteRuleKind
        var description: String
        var location: SourceLocation
        var strategy: String?
        var notes: [String] = []
        if let i = exact[name] {
            let e = mappings.exactMatches[i]
            rule = .exactMatch
            description = "exact match '\(name)'"
            location = e.location
            if let l = balancing[name] {
                let lb = mappings.loadBalancing[l]
                description = "exact match '\(name)', load balanced (\(lb.strategy), \(lb.location.citation))"
                strategy = lb.strategy
            }
        } else if let l = balancing[name] {
            let lb = mappings.loadBalancing[l]
            rule = .loadBalancing
            description = "load balancing '\(name)' (\(lb.strategy))"
            location = lb.location
            strategy = lb.strategy
        } else if let c = capabilities[name] {
            let cap = mappings.capabilities[c]
            rule = .capability
            strategy = cap.routingStrategy ?? "direct"
            description = "capability '\(name)' (\(strategy!))"
            location = cap.location
        } else {
            return nil
        }
        if let l = balancing[name] { notes += balancingNotes(name, mappings.loadBalancing[l]) }
        let isGateway = gateway.isGatewayName(name)
        // A name the gateway does not serve is sent by aish, which still walks its own chain
        // the gateway's way (depth first, each group once); only without one, the default chain.
        let walk = GatewayWalk.walk(name, gateway, ownEntry: gateway.unservedEntry(name, config))
        if !isGateway {
            notes.append("the gateway has no model group for '\(name)' (no active deployment): every step is aish's own")
        }
        if let target = gateway.aliasTarget[name] {
            notes.append("the gateway serves '\(name)' as model_group_alias of '\(target)'")
        }

        // The head group's order is the strategy's choice (a load-balanced group).
        var chooser: Chooser = .fixed
        var candidates: [String] = []
        var rotations = [0]
        var aishFirst: [[(String, String)]] = [[]]   // per variant: (model, why) tried first among aish-only steps
        if let head = walk.groups.first, head.via == nil, head.deployments.count > 1 {
            let providers = head.deployments.map(\.provider)
            candidates = providers
            rotations = Array(head.deployments.indices)
            aishFirst = rotations.map { _ in [] }
            let weights = Self.integerWeights(head.deployments.map { $0.weight ?? 1 })
            switch Self.balancingStrategy(strategy ?? "simple_shuffle") {
            case .weightedRoundRobin, .unknown: chooser = .roundRobin(key: name, weights: weights)
            case .direct: chooser = .fixed
            case .shuffle: chooser = .shuffle(weights: weights)
            case .leastLoaded: chooser = .leastLoaded(providers: providers)
            case .fastest: chooser = .fastest(providers: providers)
            case .usage: chooser = .usageByProvider(providers: providers)
            }
        } else if let c = capabilities[name], exact[name] == nil, balancing[name] == nil {
            // Prompt-sized capabilities are aish's own: the level's model comes first among the
            // aish-only steps, after everything the gateway does.
            let cap = mappings.capabilities[c]
            var levels: [(String, String)] = []
            switch cap.routingStrategy ?? "direct" {
            case "complexity_based": levels = cap.complexityThresholds
            case "context_based": levels = cap.contextThresholds
            default: break
            }
            func level(_ key: String) -> Int? { levels.firstIndex(where: { $0.0 == key }) }
            if !levels.isEmpty {
                candidates = levels.map(\.1)
                rotations = levels.map { _ in 0 }
                aishFirst = levels.map { [($0.1, "capability '\(name)' \(cap.routingStrategy!) level '\($0.0)' model '\($0.1)'")] }
                if cap.routingStrategy == "complexity_based" {
                    let low = level("low") ?? level("simple") ?? 0
                    chooser = .complexity(low: low, medium: level("medium") ?? low, high: level("high") ?? level("complex") ?? low)
                } else {
                    let standard = level("standard") ?? level("small") ?? 0
                    chooser = .context(large: level("large") ?? standard, standard: standard)
                }
            } else if let s = cap.routingStrategy, s != "direct" {
                notes.append("capability '\(name)': routing_strategy '\(s)' is not evaluated by aish; the preferred models are tried in order, as the gateway does")
            }
        }
        var variants: [[PlanStep]] = []
        for (k, rotation) in rotations.enumerated() {
            variants.append(buildSteps(name, walk: walk, isGateway: isGateway, headRotation: rotation, aishFirst: aishFirst[k]))
        }
        if variants.count != max(candidates.count, 1) { chooser = .fixed }
        return CompiledRoute(name: name, rule: rule, ruleDescription: description, location: location, strategy: strategy,
                             chooser: chooser, candidates: candidates, variants: variants, notes: notes,
                             gatewayGroups: walk.groups.map { g in
                                 GatewayGroupSummary(name: g.name, candidates: g.deployments.map { ($0.provider, $0.model) }, picks: g.picks)
                             }, isGatewayName: isGateway)
    }

    private func balancingNotes(_ name: String, _ lb: LoadBalance) -> [String] {
        var notes: [String] = []
        for m in lb.providers where m.weight <= 0 {
            notes.append("load balancing '\(name)': \(m.provider) has weight \(JSONValue.format(m.weight)) (\((m.weightLocation ?? m.location).citation)); it is never picked first")
        }
        for m in lb.providers {
            if let c = m.condition {
                notes.append("load balancing '\(name)': condition \"\(c)\" on \(m.provider) (\((m.conditionLocation ?? m.location).citation)) is not evaluated by aish")
            }
        }
        if case .unknown = Self.balancingStrategy(lb.strategy) {
            notes.append("load balancing '\(name)': strategy '\(lb.strategy)' (\((lb.strategyLocation ?? lb.location).citation)) is not evaluated by aish; it picks by smooth weighted round robin over the listed weights")
        }
        return notes
    }

    /// The plan: the gateway's groups in the gateway's order, then aish's own steps.
    private func buildSteps(_ name: String, walk: GatewayWalk, isGateway: Bool, headRotation: Int,
                            aishFirst: [(String, String)]) -> [PlanStep] {
        var steps: [PlanStep] = []
        var seen = Set<String>()
        func add(_ s: PlanStep) {
            if seen.insert(s.provider + "\u{0}" + s.backendModel).inserted { steps.append(s) }
        }
        func addAish(_ targets: [PlanStep]) {
            for var t in targets {
                t.scope = .aishOnly
                add(t)
            }
        }
        if !isGateway { addAish(resolveTargets(name, reason: "'\(name)'", location: nil)) }
        for (gi, g) in walk.groups.enumerated() {
            var members = g.deployments
            if gi == 0, headRotation > 0, headRotation < members.count {
                members = [members[headRotation]] + members.indices.filter { $0 != headRotation }.map { members[$0] }
            }
            for d in members.prefix(g.picks) {
                var s = step(provider: d.provider, model: d.model, routeKey: d.exactAlias ?? g.name,
                             reason: gatewayReason(g, d, requested: name), location: gatewayLocation(g, d))
                // A name the gateway does not know never reaches it: the same walk is aish's own.
                s.scope = isGateway ? .gateway : .aishOnly
                s.gatewayGroup = isGateway ? gi : nil
                add(s)
            }
        }
        for (model, why) in aishFirst { addAish(resolveTargets(model, reason: why, location: nil)) }
        var done = Set<String>()
        for v in walk.visited where done.insert(v).inserted {
            if let i = exact[v], let f = mappings.exactMatches[i].fallback {
                let e = mappings.exactMatches[i]
                let served = servedModel(f, preferring: [e.alias, e.targetModel])
                var s = step(provider: f, model: served.model, routeKey: e.alias,
                             reason: "fallback provider of '\(e.alias)'" + (served.note.map { "; \($0)" } ?? ""),
                             location: e.fallbackLocation ?? e.location)
                s.scope = .aishOnly
                add(s)
            }
            if let c = chains[v] {
                let chain = mappings.fallbackChains[c]
                for (k, stepName) in chain.chain.enumerated() {
                    let loc = k < chain.chainLocations.count ? chain.chainLocations[k] : chain.location
                    let why = "fallback_chains['\(v)'] step \(k + 1) '\(stepName)'"
                    for n in gateway.expandStep(stepName, config) where !gateway.isGatewayName(n) {
                        addAish(resolveTargets(n, reason: n == stepName ? why : "\(why): provider \(stepName) serves '\(n)'", location: loc))
                    }
                }
            }
            if let c = capabilities[v] {
                let cap = mappings.capabilities[c]
                for (k, m) in GatewayConfig.capabilityCandidates(config, cap).enumerated() where !gateway.isGatewayName(m) {
                    addAish(resolveTargets(m, reason: "capability '\(v)' model \(k + 1) '\(m)'", location: cap.location))
                }
                if let f = cap.fallback, cap.preferredModels.isEmpty == false {
                    let served = servedModel(f, preferring: [])
                    var s = step(provider: f, model: served.model, routeKey: v, reason: "fallback provider of capability '\(v)'",
                                 location: cap.fallbackLocation ?? cap.location)
                    s.scope = .aishOnly
                    add(s)
                }
            }
        }
        return steps
    }

    private func gatewayReason(_ g: GatewayWalk.Group, _ d: GatewayConfig.Deployment, requested: String) -> String {
        var what: String
        if let e = d.exactAlias {
            what = "exact match '\(e)'"
        } else if balancing[g.name] != nil || gateway.groups[g.name] != nil {
            what = "load balancing '\(g.name)' member \(d.provider)" + (d.weight.map { " (weight \(JSONValue.format($0)))" } ?? "")
        } else {
            what = "'\(g.name)'"
        }
        if let target = gateway.aliasTarget[g.name] { what = "'\(g.name)' is an alias of '\(target)': " + what }
        guard let via = g.via else { return what }
        let list: String
        var raw: [String]?
        switch via.source {
        case let .entry(n), let .resumed(n, _):
            if capabilities[n] != nil && chains[n] == nil {
                list = "capability '\(n)' fallbacks"
            } else {
                list = "fallback_chains['\(n)']"
                raw = chains[n].map { mappings.fallbackChains[$0].chain }
            }
        case .defaults:
            list = "default fallback chain"
            raw = mappings.defaultChain?.chain
        }
        var suffix = ""
        if case let .resumed(_, from) = via.source { suffix = " (resumed after '\(from)', which has no entry of its own)" }
        // Numbered as written in the file (steps the gateway cannot take are left out of its list).
        let number = raw?.firstIndex(of: g.name).map { $0 + 1 } ?? via.step + 1
        return "\(list) step \(number) '\(g.name)'\(suffix): \(what)"
    }

    private func gatewayLocation(_ g: GatewayWalk.Group, _ d: GatewayConfig.Deployment) -> SourceLocation? {
        guard let via = g.via else { return d.location }
        let chain: FallbackChain?
        switch via.source {
        case let .entry(n), let .resumed(n, _): chain = chains[n].map { mappings.fallbackChains[$0] }
        case .defaults: chain = mappings.defaultChain
        }
        if let chain, let k = chain.chain.firstIndex(of: g.name), k < chain.chainLocations.count { return chain.chainLocations[k] }
        return chain?.location ?? d.location
    }

    private var providersFileName: String { PathText.lastComponent(config.providers.path) }

    private func lbTargets(_ name: String, _ lb: LoadBalance, exact e: ExactMatch?) -> [PlanStep] {
        lb.providers.map { m in
            step(provider: m.provider, model: GatewayConfig.memberModel(config, m, name: name, exact: e), routeKey: name,
                 reason: "load balancing '\(name)' member \(m.provider) (weight \(JSONValue.format(m.weight)))", location: m.location)
        }
    }

    /// Targets of a name resolved the way aish resolves a requested name (no fallbacks).
    private func resolveTargets(_ name: String, reason: String, location: SourceLocation?) -> [PlanStep] {
        let r = resolve(name, reason: reason, location: location)
        if !r.targets.isEmpty { return r.targets }
        if let c = capabilities[name] {
            return GatewayConfig.capabilityCandidates(config, mappings.capabilities[c]).prefix(8).flatMap {
                resolve($0, reason: "\(reason): model '\($0)'", location: location).targets
            }
        }
        return []
    }

    // MARK: patterns and the default provider

    package func compilePattern(_ i: Int, tail: ([PlanStep], [String])) -> CompiledPatternRoute {
        let p = mappings.patterns[i]
        let head = step(provider: p.provider, model: "", routeKey: "", reason: "pattern '\(p.pattern)'", location: p.location)
        let fallback = p.fallback.map {
            step(provider: $0, model: "", routeKey: "", reason: "fallback provider of pattern '\(p.pattern)'", location: p.fallbackLocation ?? p.location)
        }
        return CompiledPatternRoute(rule: .pattern, ruleDescription: "pattern '\(p.pattern)'", location: p.location,
                               provider: head, fallback: fallback, tail: tail.0, notes: tail.1)
    }

    package func compileDefault(tail: ([PlanStep], [String])) -> CompiledPatternRoute? {
        let rules = mappings.routingRules
        guard let d = rules.defaultProvider else { return nil }
        let head = step(provider: d, model: "", routeKey: "", reason: "routing_rules.default_provider", location: rules.defaultProviderLocation ?? rules.location)
        let fallback = rules.defaultFallback.map {
            step(provider: $0, model: "", routeKey: "", reason: "routing_rules.default_fallback", location: rules.defaultFallbackLocation ?? rules.location)
        }
        return CompiledPatternRoute(rule: .defaultProvider, ruleDescription: "no rule names it: routing_rules.default_provider",
                               location: rules.location, provider: head, fallback: fallback, tail: tail.0, notes: tail.1)
    }

    /// The default chain expanded on its own: what follows a pattern or default-provider route.
    package var defaultTail: ([PlanStep], [String]) {
        expand(start: [], queue: [], visited: [], appendDefault: true)
    }

    // MARK: resolution of a name (chain steps, capability members)

    private func expansion(ofExact e: ExactMatch) -> [Item] {
        var items: [Item] = []
        if let f = e.fallback {
            items.append(.provider(f, models: [e.alias] + (e.backendModel.map { [$0] } ?? []), routeKey: e.alias,
                                   reason: "fallback provider of '\(e.alias)'", location: e.fallbackLocation ?? e.location))
        }
        return items + chainItems(e.alias)
    }

    private func chainItems(_ name: String) -> [Item] {
        guard let c = chains[name] else { return [] }
        let chain = mappings.fallbackChains[c]
        return chain.chain.enumerated().map { k, step in
            .name(step, reason: "fallback_chains['\(name)'] step \(k + 1) '\(step)'",
                  location: k < chain.chainLocations.count ? chain.chainLocations[k] : chain.location)
        }
    }

    private func appendsDefault(_ name: String) -> Bool {
        guard let c = chains[name] else { return true }
        return !mappings.fallbackChains[c].chain.isEmpty
    }

    /// How a name used inside the mappings (a chain step, a capability member) resolves:
    /// its first targets, and what is queued behind them.
    private func resolve(_ name: String, reason: String, location: SourceLocation?) -> (targets: [PlanStep], queue: [Item]) {
        if let i = exact[name] {
            let e = mappings.exactMatches[i]
            let head = step(provider: e.provider, model: e.backendModel ?? name, routeKey: name,
                            reason: "\(reason) (exact match, \(e.location.citation))", location: location ?? e.location)
            var targets = [head]
            if let l = balancing[name] {
                let lb = mappings.loadBalancing[l]
                for var m in lbTargets(name, lb, exact: e) where m.provider != e.provider {
                    m.reason = "\(reason): \(m.reason)"
                    targets.append(m)
                }
            }
            return (targets, expansion(ofExact: e))
        }
        if let l = balancing[name] {
            let lb = mappings.loadBalancing[l]
            let targets = lbTargets(name, lb, exact: nil).map { t -> PlanStep in
                var t = t
                t.reason = "\(reason): \(t.reason)"
                return t
            }
            return (targets, chainItems(name))
        }
        if let i = capabilities[name] {
            let c = mappings.capabilities[i]
            var queue: [Item] = []
            if let p = c.provider {
                queue.append(.provider(p, models: [], routeKey: name, reason: "\(reason): capability provider \(p)", location: c.location))
            }
            for m in c.preferredModels {
                queue.append(.name(m, reason: "\(reason): capability '\(name)' preferred model '\(m)'", location: c.location))
            }
            if let f = c.fallback {
                queue.append(.provider(f, models: [], routeKey: name, reason: "\(reason): capability fallback \(f)", location: c.location))
            }
            return ([], queue + chainItems(name))
        }
        if let p = providerIndex[name] {
            let served = servedModel(name, preferring: [])
            var why = "\(reason): names a provider, not a model"
            if let note = served.note { why += "; \(note)" }
            _ = p
            return ([step(provider: name, model: served.model, routeKey: name, reason: why, location: location)], chainItems(name))
        }
        if let i = mappings.patterns.firstIndex(where: { $0.matches(name) }) {
            let p = mappings.patterns[i]
            var queue: [Item] = []
            if let f = p.fallback {
                queue.append(.provider(f, models: [name], routeKey: name, reason: "\(reason): fallback provider of pattern '\(p.pattern)'",
                                       location: p.location))
            }
            return ([step(provider: p.provider, model: name, routeKey: name,
                          reason: "\(reason) (pattern '\(p.pattern)', \(p.location.citation))", location: location)], queue + chainItems(name))
        }
        if let d = mappings.routingRules.defaultProvider {
            return ([step(provider: d, model: name, routeKey: name,
                          reason: "\(reason) (no rule names it: routing_rules.default_provider \(d))", location: location)],
                    chainItems(name))
        }
        return ([], chainItems(name))
    }

    /// Breadth-first expansion of `queue` after `start` (see the type's comment).
    private func expand(start: [PlanStep], queue initial: [Item], visited initialVisited: Set<String>,
                        appendDefault: Bool) -> ([PlanStep], [String]) {
        var steps: [PlanStep] = []
        var seen = Set<String>()
        var visited = initialVisited
        var notes: [String] = []
        func add(_ s: PlanStep) {
            let key = s.provider + "\u{0}" + s.backendModel
            if seen.insert(key).inserted { steps.append(s) }
        }
        start.forEach(add)
        var queue = initial
        var head = 0
        var defaultAppended = !appendDefault
        while true {
            if head == queue.count {
                guard !defaultAppended, let d = mappings.defaultChain else { break }
                defaultAppended = true
                queue += d.chain.enumerated().map { k, n in
                    .name(n, reason: "default fallback chain step \(k + 1) '\(n)'",
                          location: k < d.chainLocations.count ? d.chainLocations[k] : d.location)
                }
                continue
            }
            let item = queue[head]
            head += 1
            switch item {
            case let .provider(p, models, routeKey, reason, location):
                let served = servedModel(p, preferring: models)
                add(step(provider: p, model: served.model, routeKey: routeKey,
                         reason: served.note.map { "\(reason); \($0)" } ?? reason, location: location))
            case let .name(n, reason, location):
                guard visited.insert(n).inserted else { continue }
                if visited.count > 10_000 {
                    notes.append("fallback expansion stopped after 10000 names")
                    break
                }
                let r = resolve(n, reason: reason, location: location)
                r.targets.forEach(add)
                queue += r.queue
            }
        }
        return (steps, notes)
    }

    // MARK: targets

    /// The model to ask `provider` for: the first of `preferring` it lists, else its first
    /// listed model (said in the reason), else the first preferred name.
    private func servedModel(_ provider: String, preferring names: [String]) -> (model: String, note: String?) {
        guard let i = providerIndex[provider] else { return (names.first ?? "", nil) }
        let models = config.providers.providers[i].models
        for n in names where models.contains(where: { $0.name == n }) { return (n, nil) }
        guard let first = models.first else { return (names.first ?? "", nil) }
        if names.isEmpty { return (first.name, "its first model \(first.name)") }
        return (first.name, "\(provider) does not list '\(names[0])', so its first model \(first.name)")
    }

    private func step(provider: String, model: String, routeKey: String, reason: String, location: SourceLocation?) -> PlanStep {
        var s = PlanStep(provider: provider, backendModel: model, routeKey: routeKey, reason: reason, location: location)
        if let i = providerIndex[provider] {
            s.providerIndex = i
            let p = config.providers.providers[i]
            switch p.status {
            case .active: break
            case .disabled: s.unusable = "provider \(provider) is disabled (\(p.location.citation))"
            case .template: s.unusable = "provider \(provider) is a template (\(p.location.citation))"
            case .pendingIntegration:
                s.unusable = "provider \(provider) is pending integration (status pending_integration, treated as disabled; \(p.location.citation))"
            }
            if p.type.isNonLLMService {
                s.unusable = "provider \(provider) is a \(p.type.rawValue), not a model server (\(p.location.citation))"
            } else if case let .unknown(t) = p.type, s.unusable == nil {
                s.unusable = "provider \(provider) has unknown type '\(t)' (\(p.location.citation))"
            }
        } else {
            s.unusable = "provider '\(provider)' is not in \(providersFileName)"
        }
        // An exact match's rate_limit is about its own provider; fallbacks are not held to it.
        if let e = exact[routeKey], mappings.exactMatches[e].provider == provider { s.routeLimit = mappings.exactMatches[e].rateLimit }
        return s
    }

    // MARK: strategies

    package enum BalancingStrategy { case weightedRoundRobin, direct, shuffle, leastLoaded, fastest, usage, unknown }

    /// The strategy names aish evaluates for load balancing (the same words `validate` knows).
    package static func balancingStrategy(_ name: String) -> BalancingStrategy {
        switch name {
        case "weighted_round_robin": return .weightedRoundRobin
        case "direct": return .direct
        case "weighted_shuffle", "simple_shuffle": return .shuffle
        case "least_loaded": return .leastLoaded
        case "fastest_response": return .fastest
        case "usage_based": return .usage
        default: return .unknown
        }
    }

    /// Weights as small integers with the same ratios (0.7/0.3 → 7/3), so that a smooth
    /// round robin honours them exactly over each window of `sum` picks.
    package static func integerWeights(_ weights: [Double]) -> [Int] {
        let clean = weights.map { $0.isFinite && $0 > 0 ? $0 : 0 }
        guard clean.contains(where: { $0 > 0 }) else { return weights.map { _ in 1 } }
        var scale = 1.0
        for _ in 0..<7 {
            if clean.allSatisfy({ abs(($0 * scale).rounded() - $0 * scale) < 1e-6 }) { break }
            scale *= 10
        }
        var ints = clean.map { Int(($0 * scale).rounded()) }
        let g = ints.reduce(0) { gcd($0, $1) }
        if g > 1 { ints = ints.map { $0 / g } }
        return ints
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

extension SourceLocation {
    /// "model-mappings.yaml:48:3": the file's name without its directory, for plans that cite
    /// many rules of the same config directory.
    package var citation: String { "\(PathText.lastComponent(file)):\(line):\(column)" }
}
