import FoundationEssentials
import Glibc
import AishBase

/// The result of `validate`: every finding in file order, and the counts for the summary.
package struct ConfigValidation: Sendable {
    package var config: AishConfig
    package var findings: [ConfigFinding]

    package var providerCount: Int { config.providers.providers.count }
    package var activeProviderCount: Int { config.providers.providers.filter(\.isActive).count }
    package var routeCount: Int {
        let m = config.mappings
        return m.exactMatches.count + m.patterns.count + m.capabilities.count + m.loadBalancing.count
    }
    package var chainCount: Int { config.mappings.fallbackChains.count + (config.mappings.defaultChain == nil ? 0 : 1) }

    package var summary: String {
        let e = findings.errorCount, w = findings.warningCount
        return "\(providerCount) providers (\(activeProviderCount) active), \(routeCount) routes, \(chainCount) fallback chains: "
            + "\(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")"
    }
}

/// The semantic checks of SPEC §2 over a loaded configuration. Loading findings (syntax,
/// types, required keys, likely typos) come from the decoder; these are the cross-references,
/// chains, weights, limits, patterns, ports and drift.
package enum ConfigValidator {
    /// Strategy names the router evaluates (capabilities and load balancing).
    package static let evaluatedStrategies = ["direct", "complexity_based", "context_based", "most_capacity", "usage_based",
                                      "least_loaded", "fastest_response", "weighted_round_robin", "simple_shuffle",
                                      "weighted_shuffle"]
    package static let rpmBounds = 1...1_000_000
    package static let tpmBounds = 1...1_000_000_000
    package static let weightTolerance = 1e-6

    package static func validate(_ loaded: ConfigLoader.Loaded, checkDrift: Bool = true) -> ConfigValidation {
        var checker = Checker(config: loaded.config)
        // A missing or unparsable file would make every reference into it look broken:
        // report that one problem. Drift is compared only for a usable configuration.
        if !loaded.incomplete {
            checker.run()
            checker.findings.append(contentsOf: ConfigSafetyChecks.findings(loaded.config))
            if let f = GatewayCooldownRule.finding(loaded.config) { checker.findings.append(f) }
        }
        // Drift is compared on what loaded, errors or not; only a missing or unparsable source
        // file (which would make everything look out of sync) stops it.
        if checkDrift && !loaded.incomplete {
            checker.findings.append(contentsOf: LiteLLMDrift.findings(loaded.config).map { f in
                var f = f
                f.check = .drift
                return f
            })
        }
        let syntax = loaded.findings.filter { f in f.location.line == 0 }
        let loadFindings = loaded.findings.map { f -> ConfigFinding in
            var f = f
            if f.check == nil { f.check = syntax.contains(f) || f.message.contains("YAML") ? .syntax : .schema }
            return f
        }
        let files = [loaded.config.providers.path, loaded.config.mappings.path, loaded.config.ports.path, loaded.config.litellmPath]
        let all = (loadFindings + checker.findings).enumerated().sorted { a, b in
            let fa = files.firstIndex(of: a.element.location.file) ?? -1, fb = files.firstIndex(of: b.element.location.file) ?? -1
            if fa != fb { return fa < fb }
            if a.element.location.line != b.element.location.line { return a.element.location.line < b.element.location.line }
            if a.element.location.column != b.element.location.column { return a.element.location.column < b.element.location.column }
            return a.offset < b.offset
        }.map(\.element)
        return ConfigValidation(config: loaded.config, findings: all)
    }

    /// Benchmark entry point: load and validate a directory, returning the findings.
    package static func loadAndValidate(directory: String) -> ConfigValidation {
        validate(ConfigLoader.load(directory: directory))
    }

    private struct Checker {
        let config: AishConfig
        var findings: [ConfigFinding] = []
        let providersByName: [String: ProviderConfig]
        let providerNames: [String]
        let knownModels: Set<String>
        let knownModelList: [String]
        let exactByAlias: [String: ExactMatch]

        init(config: AishConfig) {
            self.config = config
            var byName: [String: ProviderConfig] = [:]
            for p in config.providers.providers where byName[p.name] == nil { byName[p.name] = p }
            providersByName = byName
            providerNames = config.providers.providers.map(\.name)
            knownModels = config.knownModelNames
            knownModelList = knownModels.sorted()
            var exact: [String: ExactMatch] = [:]
            for e in config.mappings.exactMatches where exact[e.alias] == nil { exact[e.alias] = e }
            exactByAlias = exact
        }

        var currentCheck = ValidationCheck.providers

        mutating func error(_ at: SourceLocation?, _ message: String, fallback: SourceLocation,
                            brokenReference: ConfigFinding.BrokenReference? = nil) {
            findings.append(ConfigFinding(severity: .error, location: at ?? fallback, message: message, check: currentCheck,
                                          brokenReference: brokenReference))
        }

        mutating func warning(_ at: SourceLocation?, _ message: String, fallback: SourceLocation,
                              brokenReference: ConfigFinding.BrokenReference? = nil) {
            findings.append(ConfigFinding(severity: .warning, location: at ?? fallback, message: message, check: currentCheck,
                                          brokenReference: brokenReference))
        }

        /// Every check runs on what loaded; one check's findings never stop the next.
        mutating func run() {
            currentCheck = .providers; checkProviders()
            currentCheck = .exactMatches; checkExactMatches()
            currentCheck = .patterns; checkPatterns()
            currentCheck = .capabilities; checkCapabilities()
            currentCheck = .loadBalancing; checkLoadBalancing()
            currentCheck = .fallbackChains; checkFallbackChains()
            currentCheck = .routingRules; checkRoutingRules()
            currentCheck = .unroutedModels; checkUnroutedModels()
            currentCheck = .ports; checkPorts()
        }

        // MARK: references

        mutating func checkProviderReference(_ name: String, at: SourceLocation?, owner: SourceLocation) {
            guard let p = providersByName[name] else {
                var message = "unknown provider '\(name)'"
                if let near = Suggest.closest(to: name, among: providerNames) { message += " (did you mean '\(near)'?)" }
                error(at, message, fallback: owner, brokenReference: .provider)
                return
            }
            switch p.status {
            case .active: break
            case .disabled: warning(at, "provider '\(name)' is disabled", fallback: owner)
            case .template: warning(at, "provider '\(name)' is a template, not a running provider", fallback: owner)
            case .pendingIntegration:
                warning(at, "provider '\(name)' is pending integration (treated as disabled)", fallback: owner)
            }
            if p.type.isNonLLMService {
                warning(at, "provider '\(name)' is a \(p.type.rawValue), not a model server: requests are never routed to it", fallback: owner)
            }
        }

        /// `what` names the referring entry: "capability 'large_context'".
        mutating func checkModelReference(_ name: String, at: SourceLocation?, owner: SourceLocation, what: String) {
            if knownModels.contains(name) {
                if let e = exactByAlias[name], let p = providersByName[e.provider], p.status != .active {
                    warning(at, "model '\(name)' is routed to \(p.status.rawValue) provider '\(p.name)'", fallback: owner)
                }
                return
            }
            if providersByName[name] != nil {
                error(at, "\(what) lists provider '\(name)' where a model is expected", fallback: owner, brokenReference: .model)
                return
            }
            if config.mappings.patterns.contains(where: { $0.matches(name) }) { return }
            var message = "unknown model '\(name)' in \(what)"
            if let near = Suggest.closest(to: name, among: knownModelList) { message += " (did you mean '\(near)'?)" }
            error(at, message, fallback: owner, brokenReference: .model)
        }

        // MARK: providers

        mutating func checkProviders() {
            for p in config.providers.providers {
                if p.status != .template, !p.baseURL.isEmpty {
                    let ok = BaseURL(p.baseURL).map { $0.scheme == "http" || $0.scheme == "https" } ?? false
                    if !ok { error(p.baseURLLocation, "base_url '\(p.baseURL)' is not an http:// or https:// URL", fallback: p.location) }
                }
                if p.requiresAPIKey && p.envVar == nil {
                    warning(p.location, "provider '\(p.name)' requires an API key but names no env_var to read it from", fallback: p.location)
                }
                if let rl = p.rateLimits {
                    if let v = rl.requestsPerMinute { checkLimit("rpm", v, bounds: ConfigValidator.rpmBounds, at: rl.requestsLocation, owner: p.location) }
                    if let v = rl.tokensPerMinute { checkLimit("tpm", v, bounds: ConfigValidator.tpmBounds, at: rl.tokensLocation, owner: p.location) }
                }
                var seen: [String: SourceLocation] = [:]
                for m in p.models {
                    if let first = seen[m.name] {
                        warning(m.location, "model '\(m.name)' is listed twice (first at \(first))", fallback: p.location)
                    } else {
                        seen[m.name] = m.location
                    }
                }
            }
        }

        mutating func checkLimit(_ name: String, _ value: Int, bounds: ClosedRange<Int>, at: SourceLocation?, owner: SourceLocation) {
            if !bounds.contains(value) {
                error(at, "\(name) must be a positive integer no larger than \(bounds.upperBound), found \(value)", fallback: owner)
            }
        }

        // MARK: model-mappings.yaml

        mutating func checkExactMatches() {
            for e in config.mappings.exactMatches {
                checkProviderReference(e.provider, at: e.providerLocation, owner: e.location)
                if let f = e.fallback {
                    if f == e.provider {
                        warning(e.fallbackLocation, "fallback '\(f)' is the same provider as the route", fallback: e.location)
                    } else {
                        checkProviderReference(f, at: e.fallbackLocation, owner: e.location)
                    }
                }
                if let p = providersByName[e.provider], !p.models.isEmpty, !p.models.contains(where: { $0.name == e.targetModel }) {
                    warning(e.backendModelLocation ?? e.location, "provider '\(e.provider)' does not list model '\(e.targetModel)'",
                            fallback: e.location, brokenReference: .model)
                }
                if let rl = e.rateLimit {
                    if let v = rl.rpm { checkLimit("rpm", v, bounds: ConfigValidator.rpmBounds, at: rl.rpmLocation, owner: e.location) }
                    if let v = rl.tpm { checkLimit("tpm", v, bounds: ConfigValidator.tpmBounds, at: rl.tpmLocation, owner: e.location) }
                }
            }
        }

        mutating func checkPatterns() {
            for p in config.mappings.patterns {
                if PatternCache.shared.regex(p.pattern) == nil {
                    error(p.patternLocation, PythonRegex.problem(in: p.pattern), fallback: p.location)
                }
                checkProviderReference(p.provider, at: p.providerLocation, owner: p.location)
                if let f = p.fallback { checkProviderReference(f, at: p.fallbackLocation, owner: p.location) }
            }
        }

        mutating func checkStrategy(_ name: String, at: SourceLocation?, owner: SourceLocation) {
            guard !ConfigValidator.evaluatedStrategies.contains(name) else { return }
            var message = "strategy '\(name)' is not evaluated by aish"
            if let near = Suggest.closest(to: name, among: ConfigValidator.evaluatedStrategies) { message += " (did you mean '\(near)'?)" }
            warning(at, message, fallback: owner)
        }

        mutating func checkCapabilities() {
            for c in config.mappings.capabilities {
                let what = "capability '\(c.name)'"
                for (m, at) in zip(c.preferredModels, c.preferredModelLocations) {
                    checkModelReference(m, at: at, owner: c.location, what: what)
                }
                for ((_, m), at) in zip(c.complexityThresholds, c.complexityThresholdLocations) {
                    checkModelReference(m, at: at, owner: c.location, what: what)
                }
                for ((_, m), at) in zip(c.contextThresholds, c.contextThresholdLocations) {
                    checkModelReference(m, at: at, owner: c.location, what: what)
                }
                for p in c.allProviders { checkProviderReference(p, at: c.providerLocation, owner: c.location) }
                if let f = c.fallback { checkProviderReference(f, at: c.fallbackLocation, owner: c.location) }
                if let s = c.routingStrategy { checkStrategy(s, at: c.routingStrategyLocation, owner: c.location) }
                if providersByName[c.name] != nil {
                    warning(c.location, "capability '\(c.name)' has the name of a provider", fallback: c.location)
                }
            }
        }

        mutating func checkLoadBalancing() {
            for lb in config.mappings.loadBalancing {
                checkStrategy(lb.strategy, at: lb.strategyLocation, owner: lb.location)
                var allPositive = true
                var sum = 0.0
                for w in lb.providers {
                    checkProviderReference(w.provider, at: w.providerLocation, owner: w.location)
                    if !(w.weight > 0) || !w.weight.isFinite {
                        allPositive = false
                        error(w.weightLocation, "weight must be positive, found \(JSONValue.format(w.weight))", fallback: w.location)
                    }
                    sum += w.weight
                    if let c = w.condition {
                        warning(w.conditionLocation, "condition '\(c)' is not evaluated by aish", fallback: w.location)
                    }
                    if let m = w.preferredModel {
                        checkModelReference(m, at: w.preferredModelLocation, owner: w.location, what: "load balancing '\(lb.alias)'")
                    }
                }
                if allPositive, !lb.providers.isEmpty, abs(sum - 1) > ConfigValidator.weightTolerance {
                    error(lb.location, "weights of '\(lb.alias)' sum to \(JSONValue.format(sum)), not 1", fallback: lb.location)
                }
            }
        }

        mutating func checkFallbackChains() {
            var chains = config.mappings.fallbackChains
            if let d = config.mappings.defaultChain { chains.append(d) }
            for chain in chains {
                let isDefault = chain.model == "default" && chain.location == config.mappings.defaultChain?.location
                let what = isDefault ? "the default fallback chain" : "the fallback chain of '\(chain.model)'"
                if !isDefault && !knownModels.contains(chain.model)
                    && !config.mappings.patterns.contains(where: { $0.matches(chain.model) })
                {
                    var message = "fallback chain for unknown model '\(chain.model)'"
                    if let near = Suggest.closest(to: chain.model, among: knownModelList) { message += " (did you mean '\(near)'?)" }
                    warning(chain.location, message, fallback: chain.location)
                }
                var seen: [String: SourceLocation] = [:]
                for (entry, at) in zip(chain.chain, chain.chainLocations) {
                    if !isDefault && entry == chain.model {
                        error(at, "\(what) lists '\(entry)' itself", fallback: chain.location)
                        continue
                    }
                    if let first = seen[entry] {
                        error(at, "'\(entry)' appears twice in \(what) (first at \(first))", fallback: chain.location)
                        continue
                    }
                    seen[entry] = at
                    if !knownModels.contains(entry), providersByName[entry] != nil {
                        let names = GatewayConfig.namesRouted(to: entry, config)
                        let served = names.isEmpty ? "no exact match routes to it" : "it stands for " + names.map { "'\($0)'" }.joined(separator: ", ")
                        warning(at, "\(what) names provider '\(entry)' where a model is expected; \(served)", fallback: chain.location)
                        continue
                    }
                    checkModelReference(entry, at: at, owner: chain.location, what: what)
                }
            }
            checkChainCycles()
        }

        /// Cycles among fallback chains (a → b → a), each reported once, starting from the
        /// chain defined first and pointing at that chain's key.
        mutating func checkChainCycles() {
            let chains = config.mappings.fallbackChains
            var index: [String: Int] = [:]
            for (i, c) in chains.enumerated() where index[c.model] == nil { index[c.model] = i }
            var state = [UInt8](repeating: 0, count: chains.count)   // 0 new, 1 on stack, 2 done
            var stack: [Int] = []
            var reported = Set<[Int]>()
            var cycles: [[Int]] = []

            // Iterative depth-first search: a long chain of chains must not exhaust the stack.
            for root in chains.indices where state[root] == 0 {
                var work: [(node: Int, next: Int)] = [(root, 0)]
                state[root] = 1
                stack.append(root)
                while let top = work.last {
                    let entries = chains[top.node].chain
                    if top.next >= entries.count {
                        work.removeLast()
                        stack.removeLast()
                        state[top.node] = 2
                        continue
                    }
                    work[work.count - 1].next += 1
                    let entry = entries[top.next]
                    guard entry != chains[top.node].model, let j = index[entry] else { continue }
                    if state[j] == 1, let start = stack.firstIndex(of: j) {
                        var cycle = Array(stack[start...])
                        let minPos = cycle.indices.min(by: { cycle[$0] < cycle[$1] })!
                        cycle = Array(cycle[minPos...] + cycle[..<minPos])
                        if reported.insert(cycle).inserted { cycles.append(cycle) }
                    } else if state[j] == 0 {
                        state[j] = 1
                        stack.append(j)
                        work.append((j, 0))
                    }
                }
            }
            for cycle in cycles.sorted(by: { $0[0] < $1[0] }) {
                let path = (cycle + [cycle[0]]).map { chains[$0].model }.joined(separator: " → ")
                error(chains[cycle[0]].location, "fallback chains form a cycle: \(path)", fallback: chains[cycle[0]].location)
            }
        }

        mutating func checkRoutingRules() {
            let r = config.mappings.routingRules
            let owner = r.location ?? SourceLocation(file: config.mappings.path, line: 0, column: 0)
            if let p = r.defaultProvider { checkProviderReference(p, at: r.defaultProviderLocation, owner: owner) }
            if let p = r.defaultFallback { checkProviderReference(p, at: r.defaultFallbackLocation, owner: owner) }
        }

        /// Every model an active provider lists should be reachable by some route.
        mutating func checkUnroutedModels() {
            let m = config.mappings
            for p in config.providers.providers where p.isActive && p.name != m.routingRules.defaultProvider {
                for model in p.models {
                    let routed = m.exactMatches.contains { $0.provider == p.name && $0.targetModel == model.name }
                        || m.patterns.contains { $0.provider == p.name && $0.matches(model.name) }
                        || m.loadBalancing.contains { lb in lb.providers.contains { $0.provider == p.name && $0.preferredModel == model.name } }
                    if !routed {
                        warning(model.location, "model '\(model.name)' of active provider '\(p.name)' has no route (no exact match or pattern sends requests to it)",
                                fallback: p.location)
                    }
                }
            }
        }

        // MARK: ports.yaml

        mutating func checkPorts() {
            var used: [Int: PortService] = [:]
            for s in config.ports.services + config.ports.reserved {
                guard (1...65535).contains(s.port) else {
                    error(s.portLocation, "port \(s.port) is out of range (1 to 65535)", fallback: s.location)
                    continue
                }
                if let first = used[s.port] {
                    error(s.portLocation, "port \(s.port) of '\(s.name)' is also used by '\(first.name)' (\(first.location))", fallback: s.location)
                } else {
                    used[s.port] = s
                }
            }
            let names = config.ports.services.map { looseName($0.name) }
            for p in config.providers.providers {
                guard let k = names.firstIndex(of: looseName(p.name)), let port = BaseURL(p.baseURL)?.port,
                      port != config.ports.services[k].port else { continue }
                let entry = config.ports.services[k]
                warning(p.baseURLLocation, "provider '\(p.name)' uses port \(port) but ports.yaml gives '\(entry.name)' port \(entry.port)",
                        fallback: p.location)
            }
        }
    }
}

extension ConfigLoader {
    /// Load + validate a directory in one call (what `validate` does; the benchmark measures it).
    package static func loadAndValidate(directory: String) -> ConfigValidation {
        ConfigValidator.loadAndValidate(directory: directory)
    }
}
