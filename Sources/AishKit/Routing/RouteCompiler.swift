import FoundationEssentials
import Glibc

/// Builds the precomputed plans of a `Router` from the mappings. Runs once per loaded
/// config; nothing here is on the per-request path.
///
/// A plan is: the chosen target (and the other members of its load-balancing group or
/// capability), then — breadth first, so that the quality tiers the chains describe are
/// kept — the provider-level `fallback`, the `fallback_chains` entry (each step resolved
/// like a requested name, its own fallbacks and chains queued behind), then the `default`
/// chain. A name already expanded is not expanded again (cycles); a (provider, model) pair
/// already in the plan is not repeated. An explicitly empty chain (`chain: []`) marks a
/// terminal node: the default chain is not appended to it.
struct RouteCompiler {
    let config: AishConfig
    let mappings: ModelMappings
    let providerIndex: [String: Int]
    let configuredNames: [String]
    private let exact: [String: Int]
    private let balancing: [String: Int]
    private let capabilities: [String: Int]
    private let chains: [String: Int]

    init(config: AishConfig) {
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

    func compileNamedRoute(_ name: String) -> CompiledRoute? {
        if let e = exact[name] { return compileExact(mappings.exactMatches[e]) }
        if let l = balancing[name] { return compileBalanced(name, mappings.loadBalancing[l], exact: nil) }
        if let c = capabilities[name] { return compileCapability(mappings.capabilities[c]) }
        return nil
    }

    private func compileExact(_ e: ExactMatch) -> CompiledRoute {
        if let l = balancing[e.alias] { return compileBalanced(e.alias, mappings.loadBalancing[l], exact: e) }
        let head = step(provider: e.provider, model: e.backendModel ?? e.alias, routeKey: e.alias,
                        reason: "exact match '\(e.alias)'", location: e.location)
        let (steps, notes) = expand(start: [head], queue: expansion(ofExact: e), visited: [e.alias],
                                    appendDefault: appendsDefault(e.alias))
        return CompiledRoute(name: e.alias, rule: .exactMatch, ruleDescription: "exact match '\(e.alias)'",
                             location: e.location, strategy: nil, chooser: .fixed, candidates: [e.provider],
                             variants: [steps], notes: notes)
    }

    private func compileBalanced(_ name: String, _ lb: LoadBalance, exact e: ExactMatch?) -> CompiledRoute {
        var notes: [String] = []
        var members = lbTargets(name, lb, exact: e)
        if let e, !lb.providers.contains(where: { $0.provider == e.provider }) {
            members.append(step(provider: e.provider, model: e.backendModel ?? name, routeKey: name,
                                reason: "exact match '\(name)'", location: e.location))
        }
        let providers = lb.providers.map(\.provider)
        let weights = Self.integerWeights(lb.providers.map(\.weight))
        for m in lb.providers where m.weight <= 0 {
            notes.append("load balancing '\(name)': \(m.provider) has weight \(JSONValue.format(m.weight)) (\((m.weightLocation ?? m.location).citation)); it is never picked first")
        }
        for m in lb.providers {
            if let c = m.condition {
                notes.append("load balancing '\(name)': condition \"\(c)\" on \(m.provider) (\((m.conditionLocation ?? m.location).citation)) is not evaluated by aish")
            }
        }
        let chooser: Chooser
        switch Self.balancingStrategy(lb.strategy) {
        case .weightedRoundRobin: chooser = .roundRobin(key: name, weights: weights)
        case .direct: chooser = .fixed
        case .shuffle: chooser = .shuffle(weights: weights)
        case .leastLoaded: chooser = .leastLoaded(providers: providers)
        case .fastest: chooser = .fastest(providers: providers)
        case .usage: chooser = .usageByProvider(providers: providers)
        case .unknown:
            chooser = .roundRobin(key: name, weights: weights)
            notes.append("load balancing '\(name)': strategy '\(lb.strategy)' (\((lb.strategyLocation ?? lb.location).citation)) is not evaluated by aish; it picks by smooth weighted round robin over the listed weights")
        }
        var queue: [Item] = []
        if let e { queue += expansion(ofExact: e) } else { queue += chainItems(name) }
        var variants: [[PlanStep]] = []
        for i in lb.providers.indices {
            var start = [members[i]]
            start += members.indices.filter { $0 != i }.map { members[$0] }
            let (steps, n) = expand(start: start, queue: queue, visited: [name], appendDefault: appendsDefault(name))
            variants.append(steps)
            if i == 0 { notes += n }
        }
        if variants.isEmpty {
            let (steps, n) = expand(start: members, queue: queue, visited: [name], appendDefault: appendsDefault(name))
            variants = [steps]
            notes += n + ["load balancing '\(name)' lists no providers (\(lb.location.citation))"]
        }
        let rule: RouteRuleKind = e == nil ? .loadBalancing : .exactMatch
        let description = e == nil
            ? "load balancing '\(name)' (\(lb.strategy))"
            : "exact match '\(name)', load balanced (\(lb.strategy), \(lb.location.citation))"
        return CompiledRoute(name: name, rule: rule, ruleDescription: description, location: e?.location ?? lb.location,
                             strategy: lb.strategy, chooser: variants.count == lb.providers.count ? chooser : .fixed,
                             candidates: providers, variants: variants, notes: notes)
    }

    private func lbTargets(_ name: String, _ lb: LoadBalance, exact e: ExactMatch?) -> [PlanStep] {
        lb.providers.map { m in
            var model: String
            var reason = "load balancing '\(name)' member \(m.provider) (weight \(JSONValue.format(m.weight)))"
            if let e, m.provider == e.provider {
                model = e.backendModel ?? name
            } else if let preferred = m.preferredModel {
                model = preferred
            } else {
                let served = servedModel(m.provider, preferring: [name] + (e?.backendModel.map { [$0] } ?? []))
                model = served.model
                if let why = served.note { reason += "; \(why)" }
            }
            return step(provider: m.provider, model: model, routeKey: name, reason: reason, location: m.location)
        }
    }

    private func compileCapability(_ c: Capability) -> CompiledRoute {
        var notes: [String] = []
        // Candidates: the preferred models, or the provider (and its fallback) it names.
        var candidates: [Item] = []
        var candidateNames: [String] = []
        if let p = c.provider {
            candidates.append(.provider(p, models: [], routeKey: c.name,
                                        reason: "capability '\(c.name)' provider \(p)", location: c.providerLocation ?? c.location))
            candidateNames.append(p)
            if let f = c.fallback {
                candidates.append(.provider(f, models: [], routeKey: c.name,
                                            reason: "capability '\(c.name)' fallback provider \(f)", location: c.fallbackLocation ?? c.location))
                candidateNames.append(f)
            }
        } else {
            for (k, m) in c.preferredModels.enumerated() {
                let loc = k < c.preferredModelLocations.count ? c.preferredModelLocations[k] : c.location
                candidates.append(.name(m, reason: "capability '\(c.name)' preferred model \(k + 1) '\(m)'", location: loc))
                candidateNames.append(m)
            }
        }
        let strategy = c.routingStrategy ?? "direct"
        var chooser: Chooser = .fixed
        func candidateIndex(_ model: String) -> Int {
            if let i = candidateNames.firstIndex(of: model) { return i }
            candidates.append(.name(model, reason: "capability '\(c.name)' threshold model '\(model)'", location: c.location))
            candidateNames.append(model)
            return candidateNames.count - 1
        }
        switch strategy {
        case "direct":
            break
        case "complexity_based":
            var level: [String: Int] = [:]
            for (name, model) in c.complexityThresholds {
                if ["low", "medium", "high"].contains(name) { level[name] = candidateIndex(model) } else {
                    notes.append("capability '\(c.name)': complexity level '\(name)' is not evaluated by aish (it knows low, medium, high)")
                }
            }
            for l in ["low", "medium", "high"] where level[l] == nil {
                notes.append("capability '\(c.name)': no complexity_thresholds.\(l); the first preferred model stands in")
            }
            chooser = .complexity(low: level["low"] ?? 0, medium: level["medium"] ?? 0, high: level["high"] ?? 0)
        case "context_based":
            var level: [String: Int] = [:]
            for (name, model) in c.contextThresholds {
                if name == "large" || name == "standard" { level[name] = candidateIndex(model) } else {
                    notes.append("capability '\(c.name)': context level '\(name)' (\(model)) is not evaluated: aish measures the size of the context, not how complex a task is")
                }
            }
            if level["standard"] == nil {
                notes.append("capability '\(c.name)': no context_thresholds.standard; the first preferred model stands in")
            }
            let standard = level["standard"] ?? 0
            chooser = .context(large: level["large"] ?? standard, standard: standard)
        case "most_capacity":
            var best: (Int, Int)? = nil
            for (i, item) in candidates.enumerated() {
                guard let ctx = contextLength(of: item) else {
                    notes.append("capability '\(c.name)': context length of '\(candidateNames[i])' is unknown (no context_length in \(providersFileName))")
                    continue
                }
                if let min = c.minContext, ctx < min {
                    notes.append("capability '\(c.name)': '\(candidateNames[i])' has context length \(ctx), below min_context \(min)")
                    continue
                }
                if best == nil || ctx > best!.1 { best = (i, ctx) }
            }
            chooser = .mostCapacity(pick: best?.0 ?? 0, contextLength: best?.1)
        case "usage_based":
            chooser = .usageByRoute(routeKeys: candidateNames)
        case "least_loaded":
            chooser = .leastLoaded(providers: candidates.map(primaryProvider))
        case "fastest_response":
            chooser = .fastest(providers: candidates.map(primaryProvider))
        case "weighted_round_robin":
            // Preferred models carry no weights: each gets an equal turn.
            chooser = .roundRobin(key: "capability:" + c.name, weights: candidates.map { _ in 1 })
        case "weighted_shuffle", "simple_shuffle":
            chooser = .shuffle(weights: candidates.map { _ in 1 })
        default:
            notes.append("capability '\(c.name)': routing_strategy '\(strategy)' is not evaluated by aish; the preferred models are tried in order")
        }
        if candidates.isEmpty {
            notes.append("capability '\(c.name)' names no models and no provider (\(c.location.citation))")
        }
        var tail: [Item] = []
        if c.provider == nil, let f = c.fallback {
            tail.append(.provider(f, models: [], routeKey: c.name, reason: "fallback provider of capability '\(c.name)'",
                                  location: c.location))
        }
        tail += chainItems(c.name)
        var variants: [[PlanStep]] = []
        for i in candidates.indices {
            let order = [candidates[i]] + candidates.indices.filter { $0 != i }.map { candidates[$0] }
            let (steps, n) = expand(start: [], queue: order + tail, visited: [c.name], appendDefault: appendsDefault(c.name))
            variants.append(steps)
            if i == 0 { notes += n }
        }
        if variants.isEmpty {
            let (steps, n) = expand(start: [], queue: tail, visited: [c.name], appendDefault: appendsDefault(c.name))
            variants = [steps]
            notes += n
        }
        return CompiledRoute(name: c.name, rule: .capability, ruleDescription: "capability '\(c.name)' (\(strategy))",
                             location: c.location, strategy: strategy, chooser: variants.count == candidates.count ? chooser : .fixed,
                             candidates: candidateNames, variants: variants, notes: notes)
    }

    private var providersFileName: String { PathText.lastComponent(config.providers.path) }

    private func primaryProvider(_ item: Item) -> String {
        switch item {
        case let .provider(p, _, _, _, _): return p
        case let .name(n, _, _): return resolve(n, reason: "", location: nil).targets.first?.provider ?? ""
        }
    }

    private func contextLength(of item: Item) -> Int? {
        switch item {
        case let .provider(p, _, _, _, _):
            return providerIndex[p].flatMap { config.providers.providers[$0].models.compactMap(\.contextLength).max() }
        case let .name(n, _, _):
            if let p = providerIndex[n], exact[n] == nil {
                return config.providers.providers[p].models.compactMap(\.contextLength).max()
            }
            guard let t = resolve(n, reason: "", location: nil).targets.first, let p = t.providerIndex else { return nil }
            return config.providers.providers[p].models.first(where: { $0.name == t.backendModel })?.contextLength
        }
    }

    // MARK: patterns and the default provider

    func compilePattern(_ i: Int, tail: ([PlanStep], [String])) -> CompiledPatternRoute {
        let p = mappings.patterns[i]
        let head = step(provider: p.provider, model: "", routeKey: "", reason: "pattern '\(p.pattern)'", location: p.location)
        let fallback = p.fallback.map {
            step(provider: $0, model: "", routeKey: "", reason: "fallback provider of pattern '\(p.pattern)'", location: p.fallbackLocation ?? p.location)
        }
        return CompiledPatternRoute(rule: .pattern, ruleDescription: "pattern '\(p.pattern)'", location: p.location,
                               provider: head, fallback: fallback, tail: tail.0, notes: tail.1)
    }

    func compileDefault(tail: ([PlanStep], [String])) -> CompiledPatternRoute? {
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
    var defaultTail: ([PlanStep], [String]) {
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
            }
        } else {
            s.unusable = "provider '\(provider)' is not in \(providersFileName)"
        }
        // An exact match's rate_limit is about its own provider; fallbacks are not held to it.
        if let e = exact[routeKey], mappings.exactMatches[e].provider == provider { s.routeLimit = mappings.exactMatches[e].rateLimit }
        return s
    }

    // MARK: strategies

    enum BalancingStrategy { case weightedRoundRobin, direct, shuffle, leastLoaded, fastest, usage, unknown }

    /// The strategy names aish evaluates for load balancing (the same words `validate` knows).
    static func balancingStrategy(_ name: String) -> BalancingStrategy {
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
    static func integerWeights(_ weights: [Double]) -> [Int] {
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
    var citation: String { "\(PathText.lastComponent(file)):\(line):\(column)" }
}
