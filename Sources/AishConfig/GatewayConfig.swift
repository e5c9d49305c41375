import FoundationEssentials
import Glibc
import AishBase

/// What the LiteLLM gateway is told by `config generate`: its model groups (deployments),
/// aliases, fallback entries and default fallbacks. The generator writes exactly this, and the
/// router derives the gateway-equivalent part of every plan from it, so that the two cannot
/// disagree about what the gateway knows.
package struct GatewayConfig: Sendable {
    /// One model_list entry.
    package struct Deployment: Sendable {
        package var modelName: String
        package var provider: String
        package var model: String
        /// Relative weight for simple-shuffle (load-balancing members only).
        package var weight: Double?
        /// The exact match this comes from (its rate limit and usage key).
        package var exactAlias: String?
        package var location: SourceLocation
    }

    /// LiteLLM's `max_fallbacks` default (litellm.ROUTER_MAX_FALLBACKS), written explicitly.
    package static let maxFallbacks = 5

    package var deployments: [Deployment] = []
    /// model_name → indices into `deployments`, in file order.
    package var groups: [String: [Int]] = [:]
    /// Group names in first-seen order.
    package var groupOrder: [String] = []
    /// model_group_alias: name → deployed group, in file order.
    package var aliases: [(String, String)] = []
    package var aliasTarget: [String: String] = [:]
    /// router_settings.fallbacks: name → targets (gateway names only), in file order. An empty
    /// list is kept: it tells LiteLLM the name has no fallbacks (not even the default ones).
    package var fallbacks: [(String, [String])] = []
    package var fallbackEntry: [String: [String]] = [:]
    package var defaultFallbacks: [String] = []
    package var maxFallbacks: Int = GatewayConfig.maxFallbacks

    /// A name the gateway can serve: a model group or an alias of one.
    package func isGatewayName(_ name: String) -> Bool { groups[name] != nil || aliasTarget[name] != nil }

    /// The deployments a request for `name` is sent to (an alias reads its target's).
    package func deploymentsFor(_ name: String) -> [Deployment] { deploymentIndices(name).map { deployments[$0] } }

    package func deploymentIndices(_ name: String) -> [Int] {
        if let g = groups[name] { return g }
        if let t = aliasTarget[name], let g = groups[t] { return g }
        return []
    }

    package init(_ config: AishConfig) {
        let m = config.mappings
        func gatewayProvider(_ name: String) -> ProviderConfig? {
            // A provider of type litellm is the gateway itself: an entry for it would have the
            // gateway call itself. Unknown types have no LiteLLM model prefix.
            guard let p = config.provider(named: name), p.isActive, p.type != .litellm,
                  LiteLLMGenerator.litellmModel(p, "x") != nil else { return nil }
            return p
        }
        var balancing: [String: LoadBalance] = [:]
        for lb in m.loadBalancing where balancing[lb.alias] == nil { balancing[lb.alias] = lb }
        var exactNames = Set<String>()
        func add(_ d: Deployment) {
            if groups[d.modelName] == nil { groupOrder.append(d.modelName) }
            groups[d.modelName, default: []].append(deployments.count)
            deployments.append(d)
        }
        for e in m.exactMatches where exactNames.insert(e.alias).inserted {
            let lb = balancing[e.alias]
            if gatewayProvider(e.provider) != nil {
                let w = lb?.providers.first(where: { $0.provider == e.provider })?.weight
                add(Deployment(modelName: e.alias, provider: e.provider, model: e.targetModel, weight: w,
                               exactAlias: e.alias, location: e.location))
            }
            if let lb {
                for member in lb.providers where member.provider != e.provider && gatewayProvider(member.provider) != nil {
                    add(Deployment(modelName: e.alias, provider: member.provider,
                                   model: Self.memberModel(config, member, name: e.alias, exact: e),
                                   weight: member.weight, exactAlias: nil, location: member.location))
                }
            }
        }
        for lb in m.loadBalancing where !exactNames.contains(lb.alias) && groups[lb.alias] == nil {
            var seen = Set<String>()
            for member in lb.providers where gatewayProvider(member.provider) != nil && seen.insert(member.provider).inserted {
                add(Deployment(modelName: lb.alias, provider: member.provider,
                               model: Self.memberModel(config, member, name: lb.alias, exact: nil),
                               weight: member.weight, exactAlias: nil, location: member.location))
            }
        }
        // Capabilities map onto aliases: the first deployed preferred model (or the first
        // deployed name routed to the capability's providers) is the target; the others are
        // the alias's fallback entry.
        var capabilityEntries: [String: [String]] = [:]
        for c in m.capabilities where groups[c.name] == nil && aliasTarget[c.name] == nil {
            let candidates = Self.capabilityCandidates(config, c).filter { groups[$0] != nil }
            guard let first = candidates.first else { continue }
            aliases.append((c.name, first))
            aliasTarget[c.name] = first
            capabilityEntries[c.name] = Array(candidates.dropFirst())
        }
        func gatewaySteps(_ steps: [String], excluding: String?) -> [String] {
            self.gatewaySteps(steps, excluding: excluding, config)
        }
        var entryNames = Set<String>()
        for c in m.capabilities where capabilityEntries[c.name] != nil && entryNames.insert(c.name).inserted {
            var steps = capabilityEntries[c.name] ?? []
            if let chain = m.fallbackChains.first(where: { $0.model == c.name }) { steps += chain.chain }
            let targets = gatewaySteps(steps, excluding: c.name)
            // No other model: no entry, so the default fallbacks apply (as for any name).
            if targets.isEmpty { continue }
            fallbacks.append((c.name, targets))
            fallbackEntry[c.name] = targets
        }
        for chain in m.fallbackChains where isGatewayName(chain.model) && entryNames.insert(chain.model).inserted {
            let targets = gatewaySteps(chain.chain, excluding: chain.model)
            // A chain whose steps all name nothing the gateway knows is left out (it would tell
            // LiteLLM "no fallbacks" where the sources say "these fallbacks"), unless it is empty
            // on purpose (`chain: []`).
            if targets.isEmpty && !chain.chain.isEmpty { continue }
            fallbacks.append((chain.model, targets))
            fallbackEntry[chain.model] = targets
        }
        if let d = m.defaultChain { defaultFallbacks = gatewaySteps(d.chain, excluding: nil) }
    }

    /// Chain steps as the gateway's names, in order, each once (a provider's name expanded,
    /// names the gateway does not serve and `excluding` left out).
    package func gatewaySteps(_ steps: [String], excluding: String?, _ config: AishConfig) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for s in steps {
            for n in expandStep(s, config) where n != excluding && isGatewayName(n) && seen.insert(n).inserted {
                out.append(n)
            }
        }
        return out
    }

    /// The fallback entry the gateway would have for `name` if it served it: for a name it has
    /// no model group for (its provider is the gateway itself, or is not active), aish sends the
    /// request and walks the name's own `fallback_chains` entry the gateway's way. nil: no
    /// usable entry (the default fallbacks apply). A chain whose steps name nothing the gateway
    /// serves is nil as for a served name; `chain: []` is an empty entry (no fallbacks).
    package func unservedEntry(_ name: String, _ config: AishConfig) -> [String]? {
        guard !isGatewayName(name), let chain = config.mappings.fallbackChains.first(where: { $0.model == name }) else { return nil }
        let targets = gatewaySteps(chain.chain, excluding: name, config)
        return targets.isEmpty && !chain.chain.isEmpty ? nil : targets
    }

    /// A chain step as names: a provider's name stands for the names routed to it.
    package func expandStep(_ step: String, _ config: AishConfig) -> [String] {
        if isGatewayName(step) || config.provider(named: step) == nil { return [step] }
        return Self.namesRouted(to: step, config)
    }

    /// Exact-match names routed to `provider`, in file order.
    package static func namesRouted(to provider: String, _ config: AishConfig) -> [String] {
        config.mappings.exactMatches.filter { $0.provider == provider }.map(\.alias)
    }

    /// A capability's models in preference order: its preferred models, else the names routed
    /// to its providers (then to its fallback provider).
    package static func capabilityCandidates(_ config: AishConfig, _ c: Capability) -> [String] {
        if !c.preferredModels.isEmpty {
            // A provider named where a model is expected stands for the names routed to it.
            return c.preferredModels.flatMap { m in
                config.provider(named: m) != nil && !config.mappings.exactMatches.contains(where: { $0.alias == m })
                    ? namesRouted(to: m, config) : [m]
            }
        }
        var out: [String] = []
        for p in c.allProviders + (c.fallback.map { [$0] } ?? []) { out += namesRouted(to: p, config) }
        return out
    }

    /// The model a load-balancing member is asked for: its `preferred_model`, the exact
    /// match's model on the exact match's provider, else the first the provider lists that
    /// matches the name, else the provider's first model.
    package static func memberModel(_ config: AishConfig, _ m: WeightedProvider, name: String, exact: ExactMatch?) -> String {
        if let p = m.preferredModel { return p }
        if let exact, exact.provider == m.provider { return exact.targetModel }
        guard let p = config.provider(named: m.provider) else { return name }
        let wanted = [name] + (exact.map { [$0.targetModel] } ?? [])
        for w in wanted where p.models.contains(where: { $0.name == w }) { return w }
        return p.models.first?.name ?? name
    }
}
