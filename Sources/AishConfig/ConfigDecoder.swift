import FoundationEssentials
import Glibc
import AishBase
import AishYAML

// YAML node tree → typed config models. The operator's files are loose (models as strings
// or maps, `fallback: null`, free metadata keys), so unknown keys are accepted as metadata;
// a key one edit away from a known key is flagged as a likely typo. Every finding points at
// the node concerned.

/// Typed reads from nodes that record a finding (and return nil) when a value has the
/// wrong type.
package final class NodeReader {
    package private(set) var findings: [ConfigFinding] = []
    /// Findings that made a whole file unreadable (YAML syntax, limits).
    package var syntaxErrors: [ConfigFinding] = []

    package func error(_ at: SourceLocation, _ message: String) {
        findings.append(ConfigFinding(severity: .error, location: at, message: message))
    }

    package func warning(_ at: SourceLocation, _ message: String) {
        findings.append(ConfigFinding(severity: .warning, location: at, message: message))
    }

    package func add(_ more: [ConfigFinding]) { findings.append(contentsOf: more) }

    /// The pairs of a mapping; null gives nil silently, other shapes an error.
    package func mapping(_ node: YAMLNode?, _ what: String) -> [YAMLPair]? {
        guard let node, !node.isNull else { return nil }
        guard let pairs = node.pairs else {
            error(node.location, "\(what) must be a mapping, found \(node.kindDescription)")
            return nil
        }
        return pairs
    }

    package func list(_ node: YAMLNode?, _ what: String) -> [YAMLNode]? {
        guard let node, !node.isNull else { return nil }
        guard let items = node.items else {
            error(node.location, "\(what) must be a list, found \(node.kindDescription)")
            return nil
        }
        return items
    }

    package func string(_ node: YAMLNode?, _ what: String) -> String? {
        guard let node, !node.isNull else { return nil }
        guard let s = node.scalar else {
            error(node.location, "\(what) must be a string, found \(node.kindDescription)")
            return nil
        }
        return s
    }

    package func int(_ node: YAMLNode?, _ what: String) -> Int? {
        guard let node, !node.isNull else { return nil }
        if let i = node.intValue { return i }
        // Quoted numbers ("8192") are accepted: operators quote freely.
        if node.scalar != nil, !node.isPlainScalar, let s = node.scalar, let i = YAMLNode.parseInt(s) { return i }
        error(node.location, "\(what) must be an integer, found \(node.kindDescription)")
        return nil
    }

    package func number(_ node: YAMLNode?, _ what: String) -> Double? {
        guard let node, !node.isNull else { return nil }
        if let d = node.doubleValue { return d }
        if node.scalar != nil, !node.isPlainScalar, let s = node.scalar,
           let d = YAMLNode.parseInt(s).map(Double.init) ?? YAMLNode.parseFloat(s) { return d }
        error(node.location, "\(what) must be a number, found \(node.kindDescription)")
        return nil
    }

    package func bool(_ node: YAMLNode?, _ what: String) -> Bool? {
        guard let node, !node.isNull else { return nil }
        if let b = node.boolValue { return b }
        error(node.location, "\(what) must be true or false, found \(node.kindDescription)")
        return nil
    }

    /// Flags keys one edit away from a known key (`baes_url` → `base_url`); other unknown
    /// keys are metadata.
    package func checkKeys(_ pairs: [YAMLPair], known: [String]) {
        for p in pairs {
            guard let key = p.key.scalar, !known.contains(key) else { continue }
            if let near = known.first(where: { NodeReader.oneEditApart(key, $0) }) {
                warning(p.key.location, "unknown key '\(key)' (did you mean '\(near)'?)")
            }
        }
    }

    /// Strict keys (aish's own sections): every unknown key is reported.
    package func checkStrictKeys(_ pairs: [YAMLPair], known: [String], section: String) {
        for p in pairs {
            guard let key = p.key.scalar, !known.contains(key) else { continue }
            var message = "unknown key '\(key)' in \(section)"
            if let near = Suggest.closest(to: key, among: known) { message += " (did you mean '\(near)'?)" }
            warning(p.key.location, message)
        }
    }

    /// Exactly one insertion, deletion, substitution or transposition apart; allocation-free
    /// because it runs for every metadata key of every load.
    package static func oneEditApart(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in oneEditApart(x, y) } }
    }

    private static func oneEditApart(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = x.count, m = y.count
        if abs(n - m) > 1 { return false }
        var i = 0
        while i < n, i < m, x[i] == y[i] { i += 1 }
        if n == m {
            if i == n { return false }   // equal
            // substitution: rest equal after i
            if x[(i + 1)...].elementsEqual(y[(i + 1)...]) { return true }
            // transposition of i, i+1
            return i + 1 < n && x[i] == y[i + 1] && x[i + 1] == y[i] && x[(i + 2)...].elementsEqual(y[(i + 2)...])
        }
        // one insertion/deletion
        return n > m ? x[(i + 1)...].elementsEqual(y[i...]) : x[i...].elementsEqual(y[(i + 1)...])
    }

    package func keyName(_ p: YAMLPair, _ what: String) -> String? {
        guard let k = p.key.scalar else {
            error(p.key.location, "\(what) must be a string, found \(p.key.kindDescription)")
            return nil
        }
        return k
    }
}

package enum ConfigDecoder {
    package static let providerTypes = ["ollama", "llama_cpp", "vllm", "openai", "openai_compatible", "anthropic", "litellm",
                                "tool_server", "web_ui"]
    package static let providerStatuses = ["active", "disabled", "template", "pending_integration"]
    package static let providerKeys = ["type", "base_url", "status", "models", "health_endpoint", "env_var", "requires_api_key",
                               "rate_limits", "timeouts", "service", "service_file", "rpm", "tpm", "description",
                               "features", "configuration", "priority", "allow_drills", "replicas"]
    package static let modelKeys = ["name", "context_length", "description", "size", "quantization", "specialty", "pulled_at"]
    package static let rateLimitKeys = ["requests_per_minute", "tokens_per_minute", "rpm", "tpm"]
    package static let timeoutKeys = ["connect", "first_token", "idle"]
    package static let healthKeys = ["enabled", "interval_seconds", "timeout_seconds", "retry_attempts", "endpoints"]

    // MARK: providers.yaml

    package static func providers(_ root: YAMLNode?, path: String, reader r: NodeReader, fileExists: Bool = true) -> ProvidersFile {
        var file = ProvidersFile(path: path, providers: [], healthChecks: HealthCheckSettings())
        guard let root else {
            if fileExists && !r.findings.contains(where: { $0.location.file == path }) {
                r.error(SourceLocation(file: path, line: 1, column: 1), "the file is empty (expected a 'providers' mapping)")
            }
            return file
        }
        guard let top = r.mapping(root, "providers.yaml") else { return file }
        r.checkKeys(top, known: ["providers", "health_checks", "metadata"])
        guard let providersPair = top.first(where: { $0.key.scalar == "providers" }) else {
            r.error(root.location, "missing required key 'providers'")
            return file
        }
        for p in r.mapping(providersPair.value, "'providers'") ?? [] {
            guard let name = r.keyName(p, "a provider name") else { continue }
            if let provider = provider(name: name, p, reader: r) { file.providers.append(provider) }
        }
        if let hc = top.first(where: { $0.key.scalar == "health_checks" }), let pairs = r.mapping(hc.value, "'health_checks'") {
            r.checkKeys(pairs, known: healthKeys)
            let v = hc.value
            if let b = r.bool(v["enabled"], "'enabled'") { file.healthChecks.enabled = b }
            if let d = r.number(v["interval_seconds"], "'interval_seconds'") { file.healthChecks.intervalSeconds = d }
            if let d = r.number(v["timeout_seconds"], "'timeout_seconds'") { file.healthChecks.timeoutSeconds = d }
            if let i = r.int(v["retry_attempts"], "'retry_attempts'") { file.healthChecks.retryAttempts = i }
        }
        return file
    }

    private static func provider(name: String, _ p: YAMLPair, reader r: NodeReader) -> ProviderConfig? {
        let at = p.key.location
        guard let pairs = r.mapping(p.value, "provider '\(name)'") else {
            if p.value.isNull { r.error(at, "provider '\(name)' is empty (it needs at least 'type' and 'base_url')") }
            return nil
        }
        r.checkKeys(pairs, known: providerKeys)
        let v = p.value
        var type = ProviderType.unknown("")
        if let typeNode = v["type"] {
            if let raw = r.string(typeNode, "'type'") {
                type = ProviderType(raw)
                if case .unknown = type, !type.isNonLLMService {
                    var message = "unknown provider type '\(raw)' (expected one of: \(providerTypes.joined(separator: ", ")))"
                    if let near = Suggest.closest(to: raw, among: providerTypes) { message = "unknown provider type '\(raw)' (did you mean '\(near)'?)" }
                    r.error(typeNode.location, message)
                }
            }
        } else {
            r.error(at, "provider '\(name)' is missing required key 'type'")
        }
        var status = ProviderStatus.active
        if let statusNode = v["status"], let raw = r.string(statusNode, "'status'") {
            if let s = ProviderStatus(rawValue: raw) { status = s } else {
                var message = "unknown status '\(raw)' (expected active, disabled, template or pending_integration)"
                if let near = Suggest.closest(to: raw, among: providerStatuses) { message = "unknown status '\(raw)' (did you mean '\(near)'?)" }
                r.error(statusNode.location, message)
            }
        }
        var baseURL = ""
        if let urlNode = v["base_url"] {
            baseURL = r.string(urlNode, "'base_url'") ?? ""
        } else {
            r.error(at, "provider '\(name)' is missing required key 'base_url'")
        }
        var models: [ProviderModel] = []
        for item in r.list(v["models"], "'models'") ?? [] {
            if let s = item.scalar, !item.isNull {
                models.append(ProviderModel(name: s, contextLength: nil, location: item.location))
            } else if let mp = item.pairs {
                r.checkKeys(mp, known: modelKeys)
                guard let nameNode = item["name"] else {
                    r.error(item.location, "model entry is missing required key 'name'")
                    continue
                }
                guard let modelName = r.string(nameNode, "'name'") else { continue }
                var meta: [(String, JSONValue)] = []
                for kv in mp {
                    guard let k = kv.key.scalar, k != "name", k != "context_length" else { continue }
                    meta.append((k, kv.value.jsonValue))
                }
                models.append(ProviderModel(name: modelName, contextLength: r.int(item["context_length"], "'context_length'"),
                                            location: item.location, metadata: meta))
            } else {
                r.error(item.location, "a model must be a name or a mapping with 'name', found \(item.kindDescription)")
            }
        }
        var limits: ProviderRateLimits?
        if let rl = v["rate_limits"], let rlPairs = r.mapping(rl, "'rate_limits'") {
            r.checkKeys(rlPairs, known: rateLimitKeys)
            var l = ProviderRateLimits(requestsPerMinute: nil, tokensPerMinute: nil, location: rl.location)
            for key in ["requests_per_minute", "rpm"] {
                if let n = rl[key], let i = r.int(n, "'\(key)'") { l.requestsPerMinute = i; l.requestsLocation = n.location }
            }
            for key in ["tokens_per_minute", "tpm"] {
                if let n = rl[key], let i = r.int(n, "'\(key)'") { l.tokensPerMinute = i; l.tokensLocation = n.location }
            }
            limits = l
        }
        // `rpm` / `tpm` directly on the provider (aish's short form) override rate_limits.
        for (key, isRequests) in [("rpm", true), ("tpm", false)] {
            guard let n = v[key], let i = r.int(n, "'\(key)'") else { continue }
            var l = limits ?? ProviderRateLimits(requestsPerMinute: nil, tokensPerMinute: nil, location: n.location)
            if isRequests { l.requestsPerMinute = i; l.requestsLocation = n.location } else { l.tokensPerMinute = i; l.tokensLocation = n.location }
            limits = l
        }
        var timeouts = ProviderTimeouts()
        var timeoutsConfigured = false
        if let t = v["timeouts"], let tp = r.mapping(t, "'timeouts'") {
            timeoutsConfigured = true
            r.checkStrictKeys(tp, known: timeoutKeys, section: "timeouts")
            for (key, path) in [("connect", \ProviderTimeouts.connect), ("first_token", \.firstToken), ("idle", \.idle)] {
                guard let n = t[key], let d = r.number(n, "'\(key)'") else { continue }
                if d > 0, d.isFinite { timeouts[keyPath: path] = d } else {
                    r.error(n.location, "'\(key)' must be a positive number of seconds, found \(n.kindDescription)")
                }
            }
        }
        let envVar = r.string(v["env_var"], "'env_var'")
        // More processes serving the same gateway (LiteLLM replicas over one Redis): URLs.
        var replicas: [String] = []
        for item in r.list(v["replicas"], "'replicas'") ?? [] {
            guard let url = r.string(item, "a replica"), BaseURL(url) != nil else {
                r.error(item.location, "a replica must be a URL like http://127.0.0.1:4001, found \(item.kindDescription)")
                continue
            }
            replicas.append(url)
        }
        return ProviderConfig(
            name: name, type: type, baseURL: baseURL, status: status, models: models,
            healthEndpoint: r.string(v["health_endpoint"], "'health_endpoint'"),
            envVar: envVar,
            requiresAPIKey: r.bool(v["requires_api_key"], "'requires_api_key'") ?? false,
            rateLimits: limits, timeouts: timeouts,
            // `service_file` (a unit file path, as operators' registries keep it) names the unit too;
            // the services subsystem takes its basename and scope.
            serviceUnit: r.string(v["service"], "'service'") ?? r.string(v["service_file"], "'service_file'"),
            location: at, baseURLLocation: v["base_url"]?.location, timeoutsConfigured: timeoutsConfigured,
            allowDrills: r.bool(v["allow_drills"], "'allow_drills'") ?? false, replicas: replicas)
    }

    // MARK: model-mappings.yaml

    package static let mappingsKeys = ["exact_matches", "patterns", "capabilities", "load_balancing", "fallback_chains",
                               "routing_rules", "special_cases", "metadata", "notes"]
    package static let exactKeys = ["provider", "backend_model", "fallback", "priority", "rate_limit", "description"]
    package static let patternKeys = ["pattern", "provider", "fallback", "description"]
    package static let capabilityKeys = ["preferred_models", "provider", "providers", "fallback", "routing_strategy", "complexity_thresholds",
                                 "context_thresholds", "min_context", "min_model_size", "description", "priority"]
    package static let balanceKeys = ["providers", "strategy", "description", "parameters"]
    package static let weightedKeys = ["provider", "weight", "condition", "preferred_model"]
    package static let chainKeys = ["chain", "description", "priority", "retry_attempts", "retry_delay_ms"]
    package static let rulesKeys = ["default_provider", "default_fallback", "request_metadata_routing", "model_size_routing"]

    package static func mappings(_ root: YAMLNode?, path: String, reader r: NodeReader) -> ModelMappings {
        var m = ModelMappings(path: path, exactMatches: [], patterns: [], capabilities: [], loadBalancing: [],
                              fallbackChains: [], defaultChain: nil, routingRules: RoutingRules(), specialCases: SpecialCases())
        guard let root, let top = r.mapping(root, "model-mappings.yaml") else { return m }
        r.checkKeys(top, known: mappingsKeys)
        m.exactMatches = exactMatches(root["exact_matches"], reader: r)
        m.patterns = patterns(root["patterns"], reader: r)
        m.capabilities = capabilities(root["capabilities"], reader: r)
        m.loadBalancing = loadBalancing(root["load_balancing"], reader: r)
        // `default` is the chain of every name without one of its own.
        let chains = fallbackChains(root["fallback_chains"], reader: r)
        m.fallbackChains = chains.filter { $0.model != "default" }
        m.defaultChain = chains.last { $0.model == "default" }
        if let rules = routingRules(top, reader: r) { m.routingRules = rules }
        m.specialCases = specialCases(root["special_cases"], reader: r)
        return m
    }

    /// `exact_matches`: a name routed to one provider.
    private static func exactMatches(_ node: YAMLNode?, reader r: NodeReader) -> [ExactMatch] {
        var out: [ExactMatch] = []
        for p in r.mapping(node, "'exact_matches'") ?? [] {
            guard let alias = r.keyName(p, "a model name") else { continue }
            guard let pairs = r.mapping(p.value, "exact match '\(alias)'") else {
                if p.value.isNull { r.error(p.key.location, "exact match '\(alias)' is missing required key 'provider'") }
                continue
            }
            r.checkKeys(pairs, known: exactKeys)
            let v = p.value
            guard let providerNode = v["provider"] else {
                r.error(p.key.location, "exact match '\(alias)' is missing required key 'provider'")
                continue
            }
            guard let provider = r.string(providerNode, "'provider'") else { continue }
            var limit: RouteRateLimit?
            if let rl = v["rate_limit"], let rlPairs = r.mapping(rl, "'rate_limit'") {
                r.checkKeys(rlPairs, known: ["rpm", "tpm"])
                limit = RouteRateLimit(rpm: r.int(rl["rpm"], "'rpm'"), tpm: r.int(rl["tpm"], "'tpm'"), location: rl.location,
                                       rpmLocation: rl["rpm"]?.location, tpmLocation: rl["tpm"]?.location)
            }
            out.append(ExactMatch(
                alias: alias, provider: provider,
                backendModel: r.string(v["backend_model"], "'backend_model'"),
                fallback: r.string(v["fallback"], "'fallback'"),
                priority: r.string(v["priority"], "'priority'"),
                rateLimit: limit, location: p.key.location,
                providerLocation: providerNode.location, backendModelLocation: v["backend_model"]?.location,
                fallbackLocation: v["fallback"].flatMap { $0.isNull ? nil : $0.location }))
        }
        return out
    }

    /// `patterns`: Python regular expressions tried in order.
    private static func patterns(_ node: YAMLNode?, reader r: NodeReader) -> [PatternRoute] {
        var out: [PatternRoute] = []
        for item in r.list(node, "'patterns'") ?? [] {
            guard let pairs = r.mapping(item, "a pattern entry") else { continue }
            r.checkKeys(pairs, known: patternKeys)
            guard let patNode = item["pattern"] else { r.error(item.location, "pattern entry is missing required key 'pattern'"); continue }
            guard let provNode = item["provider"] else { r.error(item.location, "pattern entry is missing required key 'provider'"); continue }
            guard let pattern = r.string(patNode, "'pattern'"), let provider = r.string(provNode, "'provider'") else { continue }
            out.append(PatternRoute(
                pattern: pattern, provider: provider, fallback: r.string(item["fallback"], "'fallback'"),
                location: item.location, patternLocation: patNode.location, providerLocation: provNode.location,
                fallbackLocation: item["fallback"].flatMap { $0.isNull ? nil : $0.location }))
        }
        return out
    }

    /// `capabilities`: names that pick among preferred models or providers.
    private static func capabilities(_ node: YAMLNode?, reader r: NodeReader) -> [Capability] {
        var out: [Capability] = []
        for p in r.mapping(node, "'capabilities'") ?? [] {
            guard let name = r.keyName(p, "a capability name"), let pairs = r.mapping(p.value, "capability '\(name)'") else { continue }
            r.checkKeys(pairs, known: capabilityKeys)
            let v = p.value
            // `provider:` or `providers:`, each a name or a list of names.
            var providers: [String] = []
            var providersLocation: SourceLocation?
            for key in ["provider", "providers"] {
                guard let node = v[key], !node.isNull else { continue }
                providersLocation = providersLocation ?? node.location
                if let items = node.items {
                    for item in items { if let s = r.string(item, "a provider name") { providers.append(s) } }
                } else if let s = r.string(node, "'\(key)'") {
                    providers.append(s)
                }
            }
            var c = Capability(name: name, preferredModels: [], provider: providers.first,
                               fallback: r.string(v["fallback"], "'fallback'"),
                               routingStrategy: r.string(v["routing_strategy"], "'routing_strategy'"),
                               complexityThresholds: [], contextThresholds: [],
                               minContext: r.int(v["min_context"], "'min_context'"), location: p.key.location)
            c.providers = providers
            c.providerLocation = providersLocation
            c.fallbackLocation = v["fallback"].flatMap { $0.isNull ? nil : $0.location }
            c.routingStrategyLocation = v["routing_strategy"]?.location
            for item in r.list(v["preferred_models"], "'preferred_models'") ?? [] {
                if let s = r.string(item, "a preferred model") {
                    c.preferredModels.append(s)
                    c.preferredModelLocations.append(item.location)
                }
            }
            for tp in r.mapping(v["complexity_thresholds"], "'complexity_thresholds'") ?? [] {
                if let k = tp.key.scalar, let model = r.string(tp.value, "'\(k)'") {
                    c.complexityThresholds.append((k, model))
                    c.complexityThresholdLocations.append(tp.value.location)
                }
            }
            for tp in r.mapping(v["context_thresholds"], "'context_thresholds'") ?? [] {
                if let k = tp.key.scalar, let model = r.string(tp.value, "'\(k)'") {
                    c.contextThresholds.append((k, model))
                    c.contextThresholdLocations.append(tp.value.location)
                }
            }
            if c.preferredModels.isEmpty && c.provider == nil {
                r.error(p.key.location, "capability '\(name)' needs 'preferred_models' or 'provider'")
            }
            out.append(c)
        }
        return out
    }

    /// `load_balancing`: names spread over weighted providers.
    private static func loadBalancing(_ node: YAMLNode?, reader r: NodeReader) -> [LoadBalance] {
        var out: [LoadBalance] = []
        for p in r.mapping(node, "'load_balancing'") ?? [] {
            guard let alias = r.keyName(p, "a model name"), let pairs = r.mapping(p.value, "load balancing '\(alias)'") else { continue }
            r.checkKeys(pairs, known: balanceKeys)
            let v = p.value
            var lb = LoadBalance(alias: alias, providers: [], strategy: "weighted_round_robin", location: p.key.location)
            if let s = v["strategy"], let text = r.string(s, "'strategy'") { lb.strategy = text; lb.strategyLocation = s.location }
            guard let providersNode = v["providers"] else {
                r.error(p.key.location, "load balancing '\(alias)' is missing required key 'providers'")
                continue
            }
            for item in r.list(providersNode, "'providers'") ?? [] {
                guard let ip = r.mapping(item, "a load-balancing entry") else { continue }
                r.checkKeys(ip, known: weightedKeys)
                guard let provNode = item["provider"] else { r.error(item.location, "load-balancing entry is missing required key 'provider'"); continue }
                guard let provider = r.string(provNode, "'provider'") else { continue }
                guard let weightNode = item["weight"] else { r.error(item.location, "load-balancing entry is missing required key 'weight'"); continue }
                guard let weight = r.number(weightNode, "'weight'") else { continue }
                lb.providers.append(WeightedProvider(
                    provider: provider, weight: weight, condition: r.string(item["condition"], "'condition'"),
                    preferredModel: r.string(item["preferred_model"], "'preferred_model'"), location: item.location,
                    providerLocation: provNode.location, weightLocation: weightNode.location,
                    conditionLocation: item["condition"]?.location, preferredModelLocation: item["preferred_model"]?.location))
            }
            out.append(lb)
        }
        return out
    }

    /// `fallback_chains`, `default` included, in file order.
    private static func fallbackChains(_ node: YAMLNode?, reader r: NodeReader) -> [FallbackChain] {
        var out: [FallbackChain] = []
        for p in r.mapping(node, "'fallback_chains'") ?? [] {
            guard let model = r.keyName(p, "a model name"), let pairs = r.mapping(p.value, "fallback chain '\(model)'") else { continue }
            r.checkKeys(pairs, known: chainKeys)
            guard let chainNode = p.value["chain"] else {
                r.error(p.key.location, "fallback chain '\(model)' is missing required key 'chain'")
                continue
            }
            var chain = FallbackChain(model: model, chain: [], location: p.key.location)
            for item in r.list(chainNode, "'chain'") ?? [] {
                // A step may be a map: `- model: x` (or `name:`), or `- x: {retry_attempts: 2}`.
                if let pairs = item.pairs {
                    let named = item["model"] ?? item["name"] ?? item["provider"]
                    if let n = named, let s = r.string(n, "a chain entry") {
                        chain.chain.append(s); chain.chainLocations.append(n.location)
                    } else if named == nil, pairs.count == 1, let s = pairs[0].key.scalar {
                        chain.chain.append(s); chain.chainLocations.append(pairs[0].key.location)
                    } else if named == nil {
                        r.error(item.location, "a chain entry written as a map needs 'model' (or a single key naming the model)")
                    }
                } else if let s = r.string(item, "a chain entry") {
                    chain.chain.append(s); chain.chainLocations.append(item.location)
                }
            }
            out.append(chain)
        }
        return out
    }

    /// `routing_rules`; nil when the section is absent or not a mapping.
    private static func routingRules(_ top: [YAMLPair], reader r: NodeReader) -> RoutingRules? {
        var out: RoutingRules?
        if let rulesPair = top.first(where: { $0.key.scalar == "routing_rules" }), let pairs = r.mapping(rulesPair.value, "'routing_rules'") {
            r.checkKeys(pairs, known: rulesKeys)
            let v = rulesPair.value
            out = RoutingRules(
                defaultProvider: r.string(v["default_provider"], "'default_provider'"),
                defaultFallback: r.string(v["default_fallback"], "'default_fallback'"),
                location: rulesPair.key.location,
                defaultProviderLocation: v["default_provider"]?.location,
                defaultFallbackLocation: v["default_fallback"].flatMap { $0.isNull ? nil : $0.location })
            for key in ["request_metadata_routing", "model_size_routing"] {
                if let kp = v.pair(key), !kp.value.isNull {
                    r.warning(kp.key.location, "'\(key)' is not evaluated by aish (its rules are ignored when routing)")
                }
            }
        }
        return out
    }

    /// `special_cases`: the two aish evaluates; others are named as not evaluated.
    private static func specialCases(_ node: YAMLNode?, reader r: NodeReader) -> SpecialCases {
        var out = SpecialCases()
        if let sc = node, let pairs = r.mapping(sc, "'special_cases'") {
            for p in pairs {
                guard let key = p.key.scalar else { continue }
                let v = p.value
                switch key {
                case "rate_limited_fallback":
                    guard r.mapping(v, "'rate_limited_fallback'") != nil else { continue }
                    if let b = r.bool(v["enabled"], "'enabled'") { out.rateLimitedFallbackEnabled = b }
                    if let d = r.number(v["fallback_duration_seconds"], "'fallback_duration_seconds'") { out.rateLimitedFallbackSeconds = d }
                case "error_based_routing":
                    guard r.mapping(v, "'error_based_routing'") != nil else { continue }
                    out.errorBasedRoutingLocation = v["error_threshold"]?.location ?? p.key.location
                    if let b = r.bool(v["enabled"], "'enabled'") { out.errorBasedRoutingEnabled = b }
                    if let i = r.int(v["error_threshold"], "'error_threshold'") { out.errorThreshold = i }
                    if let d = r.number(v["cooldown_seconds"], "'cooldown_seconds'") { out.cooldownSeconds = d }
                default:
                    if let near = ["rate_limited_fallback", "error_based_routing"].first(where: { NodeReader.oneEditApart(key, $0) }) {
                        r.warning(p.key.location, "unknown key '\(key)' (did you mean '\(near)'?)")
                    } else if v["enabled"]?.boolValue != false {
                        r.warning(p.key.location, "special case '\(key)' is not evaluated by aish")
                    }
                }
            }
        }
        return out
    }

    // MARK: ports.yaml

    package static let portKeys = ["port", "protocol", "required", "service", "health_check", "description"]

    package static func ports(_ root: YAMLNode?, path: String, reader r: NodeReader) -> PortsFile {
        var file = PortsFile(path: path, services: [], reserved: [])
        guard let root, let top = r.mapping(root, "ports.yaml") else { return file }
        for p in top {
            guard let name = p.key.scalar else { continue }
            switch name {
            case "metadata": continue
            case "monitoring": file.monitoring = MonitoringConfig.decodeSection(p.value, reader: r)
            case "reserved":
                for rp in r.mapping(p.value, "'reserved'") ?? [] {
                    guard let rname = rp.key.scalar else { continue }
                    if let s = portService(rname, rp, reader: r) { file.reserved.append(s) }
                }
            case "ranges":
                for rp in r.mapping(p.value, "'ranges'") ?? [] {
                    guard let rname = rp.key.scalar, let text = r.string(rp.value, "range '\(rname)'") else { continue }
                    var bounds: [ClosedRange<Int>] = []
                    for part in text.split(separator: ",") {
                        let ends = part.split(separator: "-").map { Int($0.trimming(.whitespaces)) }
                        if ends.count == 2, let lo = ends[0], let hi = ends[1], lo <= hi {
                            bounds.append(lo...hi)
                        } else if ends.count == 1, let one = ends[0] {
                            bounds.append(one...one)
                        } else {
                            r.error(rp.value.location, "range '\(rname)' must look like 8000-8999, found '\(text)'")
                        }
                    }
                    file.ranges.append(PortRange(name: rname, text: text, bounds: bounds, location: rp.key.location))
                }
            default:
                guard let pairs = p.value.pairs else { continue }   // scalar entries are metadata
                if p.value["port"] == nil {
                    // A mapping without `port` is metadata, unless a key is a likely typo of one.
                    let before = r.findings.count
                    r.checkKeys(pairs, known: portKeys)
                    if r.findings.count == before, ["reserved", "ranges", "metadata", "monitoring"].contains(where: { NodeReader.oneEditApart(name, $0) }) {
                        let near = ["reserved", "ranges", "metadata", "monitoring"].first(where: { NodeReader.oneEditApart(name, $0) })!
                        r.warning(p.key.location, "unknown key '\(name)' (did you mean '\(near)'?)")
                    }
                    continue
                }
                if let s = portService(name, p, reader: r) { file.services.append(s) }
            }
        }
        return file
    }

    private static func portService(_ name: String, _ p: YAMLPair, reader r: NodeReader) -> PortService? {
        guard let pairs = r.mapping(p.value, "'\(name)'") else { return nil }
        r.checkKeys(pairs, known: portKeys)
        let v = p.value
        guard let portNode = v["port"] else {
            r.error(p.key.location, "'\(name)' is missing required key 'port'")
            return nil
        }
        guard let port = r.int(portNode, "'port'") else { return nil }
        return PortService(name: name, port: port, proto: r.string(v["protocol"], "'protocol'") ?? "http",
                           required: r.bool(v["required"], "'required'") ?? false,
                           serviceUnit: r.string(v["service"], "'service'"),
                           healthCheck: r.string(v["health_check"], "'health_check'"),
                           location: p.key.location, portLocation: portNode.location)
    }
}
