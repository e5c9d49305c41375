import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishHTTP
import AishProviders

/// What a LiteLLM gateway is doing now, as far as it can be seen from outside: the
/// deployments it runs (`GET /model/info`), its own health check (`GET /health`), and the
/// Router's state in the Redis its processes share (`router_settings.redis_host`): which
/// deployment is cooling down, why and for how long, the failures counted toward
/// `allowed_fails`, this minute's rpm/tpm, and the response cache's size. Read with GET,
/// PTTL and SCAN only (never KEYS, never a write).
///
/// LiteLLM 1.108.7's keys (router_utils/cooldown_cache.py, cooldown_handlers.py, router.py):
/// `deployment:<id>:cooldown` (a dict's repr: exception_received (masked after 50
/// characters), status_code, timestamp, cooldown_time; TTL = cooldown_time),
/// `deployment:<id>:allowed_fails[:<ExceptionType>|:generic]` (a counter, only when
/// allowed_fails differs from LiteLLM's default 3 or an allowed_fails_policy is set),
/// `global_router:<id>:<model>:rpm:<HH-MM>` and `…:tpm:<HH-MM>` (UTC minute; only for
/// deployments with rpm/tpm limits, and every failure's rpm).
package struct GatewayState: Sendable {
    package struct Deployment: Encodable, Sendable, NilEncodesAsNull {
        package var modelGroup: String
        /// model_info.id: what LiteLLM's Redis keys and x-litellm-model-id name.
        package var id: String?
        /// The providers.yaml provider whose base URL is the deployment's api_base.
        package var provider: String?
        package var backendModel: String?
        package var apiBase: String?
        /// LiteLLM's /health: healthy, unhealthy, or null when unknown.
        package var health: String?
        package var healthError: String?
        /// Seconds of cooldown left (null: not cooling down, or unknown).
        package var cooldownS: Double?
        package var cooldownStatus: String?
        package var cooldownReason: String?
        /// Failures counted toward allowed_fails (null: no counter in Redis).
        package var failures: Int?
        /// This UTC minute's requests and tokens (null: not tracked for this deployment).
        package var rpm: Int?
        package var tpm: Int?

        package init(modelGroup: String, id: String? = nil, provider: String? = nil, backendModel: String? = nil,
                     apiBase: String? = nil, health: String? = nil, healthError: String? = nil,
                     cooldownS: Double? = nil, cooldownStatus: String? = nil, cooldownReason: String? = nil,
                     failures: Int? = nil, rpm: Int? = nil, tpm: Int? = nil) {
            self.modelGroup = modelGroup
            self.id = id
            self.provider = provider
            self.backendModel = backendModel
            self.apiBase = apiBase
            self.health = health
            self.healthError = healthError
            self.cooldownS = cooldownS
            self.cooldownStatus = cooldownStatus
            self.cooldownReason = cooldownReason
            self.failures = failures
            self.rpm = rpm
            self.tpm = tpm
        }

        package enum CodingKeys: String, CodingKey {
            case modelGroup = "model_group", id, provider, backendModel = "backend_model", apiBase = "api_base", health
            case healthError = "health_error", cooldownS = "cooldown_s", cooldownStatus = "cooldown_status"
            case cooldownReason = "cooldown_reason", failures, rpm, tpm
        }

        /// "cooled down 24 s: 500 litellm.InternalServerError: …".
        package var cooldownText: String? {
            guard let left = cooldownS else { return nil }
            var t = "cooled down \(Int(left.rounded(.up))) s"
            let why = [cooldownStatus, cooldownReason].compactMap { $0 }.joined(separator: " ")
            if !why.isEmpty { t += ": " + why }
            return t
        }
    }

    /// One gateway process (a provider of type litellm, or one of its replicas).
    package struct Replica: Encodable, Sendable, NilEncodesAsNull {
        package var provider: String
        package var url: String
        package var up: Bool
        package var error: String?

        package init(provider: String, url: String, up: Bool, error: String? = nil) {
            self.provider = provider
            self.url = url
            self.up = up
            self.error = error
        }

    }

    package struct Cooldown: Sendable, Equatable {
        package var seconds: Double?
        package var status: String?
        package var reason: String?
    }

    package var gateway: String?
    package var replicas: [Replica] = []
    package var deployments: [Deployment] = []
    /// Where the deployments came from: "gateway" (/model/info) or "config" (the generated file).
    package var source = "config"
    package var redis: String?
    package var redisError: String?
    package var cacheEntries: Int?
    /// Cooldown keys of ids the gateway does not run (another config, another gateway).
    package var strayCooldowns: [String] = []
    package var notes: [String] = []

    package init(gateway: String? = nil, replicas: [Replica] = [], deployments: [Deployment] = [],
                 source: String = "config", redis: String? = nil, redisError: String? = nil, cacheEntries: Int? = nil,
                 strayCooldowns: [String] = [], notes: [String] = []) {
        self.gateway = gateway
        self.replicas = replicas
        self.deployments = deployments
        self.source = source
        self.redis = redis
        self.redisError = redisError
        self.cacheEntries = cacheEntries
        self.strayCooldowns = strayCooldowns
        self.notes = notes
    }

    package init(gateway: String? = nil, replicas: [Replica] = [], deployments: [Deployment] = [],
                 redis: String? = nil, redisError: String? = nil, cacheEntries: Int? = nil,
                 strayCooldowns: [String] = [], notes: [String] = []) {
        self.gateway = gateway
        self.replicas = replicas
        self.deployments = deployments
        self.redis = redis
        self.redisError = redisError
        self.cacheEntries = cacheEntries
        self.strayCooldowns = strayCooldowns
        self.notes = notes
    }

    package var cooledDown: [Deployment] { deployments.filter { $0.cooldownS != nil } }

    /// LiteLLM 1.108's masker keeps the first 50 characters of the exception and stars the rest.
    package static func unmasked(_ text: String) -> String {
        var t = text
        var starred = false
        while t.hasSuffix("*") { t.removeLast(); starred = true }
        t = t.trimming(.whitespaces)
        return starred ? t + "…" : t
    }

    /// A cooldown entry: the value LiteLLM stored and the key's time to live.
    package static func cooldown(value: String?, ttl: Double?, now: Double) -> Cooldown {
        var c = Cooldown(seconds: ttl)
        guard let value, let dict = try? PythonLiteral.parse(value) else { return c }
        if let s = dict["status_code"] { c.status = s.stringValue ?? s.displayText }
        if let e = dict["exception_received"]?.stringValue { c.reason = unmasked(e) }
        if c.seconds == nil, let at = dict["timestamp"]?.doubleValue, let span = dict["cooldown_time"]?.doubleValue {
            let left = at + span - now
            if left > 0 { c.seconds = left }
        }
        return c
    }

    /// The UTC minute as LiteLLM writes it in rpm/tpm keys ("%H-%M").
    package static func minuteKey(_ date: Date) -> String {
        let t = Int(date.timeIntervalSince1970)
        let m = (t / 60) % 60, h = (t / 3600) % 24
        return (h < 10 ? "0" : "") + "\(h)-" + (m < 10 ? "0" : "") + "\(m)"
    }

    /// Reads it all; never throws: what cannot be read is a note. `healthTimeout`: how long
    /// LiteLLM's /health may take (nil: not asked).
    package static func read(_ config: AishConfig, environment: [String: String], timeout: Double, interrupt: InterruptFlag,
                     healthTimeout: Double?, now: Date = Date()) -> GatewayState {
        var out = GatewayState()
        let gateways = config.providers.providers.filter { $0.type == .litellm && $0.status == .active }
        guard let gateway = gateways.first else {
            out.notes.append("no active LiteLLM gateway in providers.yaml (a provider of type litellm)")
            return out
        }
        out.gateway = gateway.name
        for g in gateways {
            for url in [g.baseURL] + (g.name == gateway.name ? g.gatewayReplicas(environment) : g.replicas) {
                var replica = ProviderConfig(copying: g, baseURL: url)
                replica.timeouts.connect = min(replica.timeouts.connect, timeout)
                let probe = HTTPRequest(url: ProviderEndpoints(replica).root + "/health/liveliness",
                                        timeouts: HTTPTimeouts(connect: min(g.timeouts.connect, timeout), firstByte: timeout,
                                                               idle: timeout, total: timeout))
                do {
                    _ = try HTTPTransport.fetch(probe, interrupt: interrupt, maxBody: 1 << 16)
                    out.replicas.append(Replica(provider: g.name, url: url, up: true, error: nil))
                } catch {
                    out.replicas.append(Replica(provider: g.name, url: url, up: false, error: "\(error)"))
                }
            }
        }
        // The deployments: the running gateway's own list, else the generated file's.
        let live = [gateway] + gateway.gatewayReplicas(environment).map { ProviderConfig(copying: gateway, baseURL: $0) }
        var fetchError: String?
        for g in live {
            switch modelInfo(g, config: config, environment: environment, timeout: timeout, interrupt: interrupt) {
            case let .success(d):
                out.deployments = d
                out.source = "gateway"
                fetchError = nil
            case let .failure(e):
                fetchError = e.message
                continue
            }
            break
        }
        if let fetchError {
            out.notes.append("\(fetchError); showing the deployments of the generated config instead")
            out.deployments = LiteLLMGenerator.deployments(config).map { d in
                Deployment(modelGroup: d.modelName, id: d.info.first { $0.0 == "id" }?.1.stringValue,
                           provider: d.info.first { $0.0 == "provider" }?.1.stringValue,
                           backendModel: d.params.first { $0.0 == "model" }?.1.stringValue,
                           apiBase: d.params.first { $0.0 == "api_base" }?.1.stringValue)
            }
        }
        if let healthTimeout {
            out.applyHealth(GatewayHealthAnswer.fetch(gateway, environment: environment, timeout: healthTimeout, interrupt: interrupt),
                            bound: healthTimeout)
        }
        out.readRedis(config, environment: environment, timeout: timeout, interrupt: interrupt, now: now)
        return out
    }

    package struct FetchFailure: Error { var message: String }

    /// `GET /model/info`: model_name, litellm_params (model, api_base), model_info.id.
    package static func modelInfo(_ gateway: ProviderConfig, config: AishConfig, environment: [String: String], timeout: Double,
                          interrupt: InterruptFlag) -> Result<[Deployment], FetchFailure> {
        let url = ProviderEndpoints(gateway).root + "/model/info"
        do {
            let auth = try ProviderAuth.resolve(gateway, environment: environment)
            let request = HTTPRequest(url: url, headers: auth.headers,
                                      timeouts: HTTPTimeouts(connect: min(gateway.timeouts.connect, timeout), firstByte: timeout,
                                                             idle: timeout, total: timeout), secrets: auth.secrets)
            let response = try HTTPTransport.fetch(request, interrupt: interrupt, maxBody: 16 << 20)
            guard case let .array(items)? = try response.json()["data"] else {
                return .failure(FetchFailure(message: "GET \(request.displayURL): the answer has no `data` list"))
            }
            return .success(items.compactMap { item in
                guard let name = item["model_name"]?.stringValue else { return nil }
                let base = item["litellm_params"]?["api_base"]?.stringValue
                return Deployment(modelGroup: name, id: item["model_info"]?["id"]?.stringValue,
                                  provider: base.flatMap { MonitoringTargets.provider(servingAPIBase: $0, config: config) },
                                  backendModel: item["litellm_params"]?["model"]?.stringValue, apiBase: base)
            })
        } catch {
            return .failure(FetchFailure(message: "\(gateway.name): GET \(URLRedaction.redact(url)): \(error)"))
        }
    }

    package mutating func applyHealth(_ h: GatewayHealthAnswer, bound: Double) {
        if h.timedOut {
            notes.append("LiteLLM's /health gave no answer within \(JSONValue.format(bound)) s (it waits for a reply from every "
                + "deployment, and a busy backend holds it up): health unknown; --health-timeout S waits longer")
            return
        }
        if let e = h.error {
            notes.append("LiteLLM's /health: \(e)")
            return
        }
        func key(_ model: String?, _ base: String?) -> String {
            (model ?? "") + " " + (base.map { GatewayInfo.endpointKey($0) } ?? "")
        }
        var healthy = Set(h.healthy.map { key($0.model, $0.apiBase) })
        var unhealthy: [String: String] = [:]
        for e in h.unhealthy { unhealthy[key(e.model, e.apiBase)] = e.error ?? "unhealthy" }
        for i in deployments.indices {
            let k = key(deployments[i].backendModel, deployments[i].apiBase)
            if let e = unhealthy[k] {
                deployments[i].health = "unhealthy"
                deployments[i].healthError = e
            } else if healthy.remove(k) != nil || h.healthy.contains(where: { key($0.model, $0.apiBase) == k }) {
                deployments[i].health = "healthy"
            }
        }
    }

    /// The Router's keys and the cache's size, from the Redis of the monitoring config.
    package mutating func readRedis(_ config: AishConfig, environment: [String: String], timeout: Double, interrupt: InterruptFlag,
                            now: Date) {
        let targets = MonitoringTargets.resolve(config)
        guard let host = targets.redisHost, let port = targets.redisPort else {
            notes.append("no Redis in the configuration (ports.yaml monitoring.redis or a service named redis): "
                + "cooldowns, failure counts and rpm/tpm are unknown")
            return
        }
        redis = "\(host):\(port)"
        do {
            let client = try RedisClient(host: host, port: port, timeout: timeout, interrupt: interrupt)
            defer { client.close() }
            if let password = environment["REDIS_PASSWORD"], !password.isEmpty { _ = try client.command(["AUTH", password]) }
            let routerKeys = try client.scanKeys(matching: "deployment:*")
            let minute = Self.minuteKey(now)
            let usageKeys = try client.scanKeys(matching: "global_router:*:\(minute)")
            var byID: [String: Int] = [:]
            for (i, d) in deployments.enumerated() { if let id = d.id { byID[id] = i } }
            let clock = now.timeIntervalSince1970
            for key in routerKeys.keys {
                guard key.hasPrefix("deployment:") else { continue }
                let rest = String(key.dropFirst("deployment:".count))
                if rest.hasSuffix(":cooldown") {
                    let id = String(rest.dropLast(":cooldown".count))
                    let c = Self.cooldown(value: try client.get(key), ttl: try client.secondsToLive(key), now: clock)
                    guard let i = byID[id] else { if c.seconds != nil { strayCooldowns.append(id) }; continue }
                    deployments[i].cooldownS = c.seconds.map { ($0 * 10).rounded() / 10 }
                    deployments[i].cooldownStatus = c.status
                    deployments[i].cooldownReason = c.reason
                } else if let r = rest.rangeOfText(":allowed_fails") {
                    let id = String(rest[..<r.lowerBound])
                    guard let i = byID[id], let n = try client.get(key).flatMap({ Int($0.trimming(.whitespaces)) }) else { continue }
                    deployments[i].failures = (deployments[i].failures ?? 0) + n
                }
            }
            for key in usageKeys.keys {
                // global_router:<id>:<model>:rpm:<HH-MM>; the id itself may hold ':' (ours hold '/').
                let parts = key.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 5, let kind = parts.dropLast().last, kind == "rpm" || kind == "tpm" else { continue }
                let inner = parts[1..<(parts.count - 2)].joined(separator: ":")
                guard let i = deployments.firstIndex(where: { d in d.id.map { inner == $0 || inner.hasPrefix($0 + ":") } ?? false }),
                      let n = try client.get(key).flatMap({ Double($0.trimming(.whitespaces)) }) else { continue }
                if kind == "rpm" { deployments[i].rpm = (deployments[i].rpm ?? 0) + Int(n) } else { deployments[i].tpm = (deployments[i].tpm ?? 0) + Int(n) }
            }
            let cache = try client.countKeys(matching: "*", limit: 100_000, filter: RedisProbeResult.isLiteLLMCacheKey)
            cacheEntries = cache.count
            if !routerKeys.complete || !cache.complete { notes.append("Redis \(redis!): more than 100,000 keys: the counts stop there") }
            if routerKeys.keys.isEmpty && usageKeys.keys.isEmpty {
                let file = config.directory + "/" + ConfigLoader.litellmFile
                let shares = (try? String(contentsOfFile: file, encoding: .utf8))?.contains("redis_host:") ?? false
                notes.append(shares
                    ? "no Router keys in Redis \(redis!) (deployment:<id>:cooldown, global_router:…): nothing is cooling down or counted now, or this LiteLLM names its keys unlike 1.108"
                    : "\(ConfigLoader.litellmFile) has no router_settings.redis_host: each gateway process keeps its cooldowns in its own memory, out of sight (config generate writes it when Redis is configured)")
            }
        } catch {
            redisError = "\(error)"
            notes.append("Redis \(redis!): \(error): cooldowns, failure counts, rpm/tpm and the cache size are unknown")
        }
    }
}

extension ProviderConfig {
    /// The other processes of this gateway: its `replicas:`, and for the first gateway the
    /// URLs in AISH_GATEWAY_REPLICAS (comma-separated; `scripts/stack up --gateway-replicas N`
    /// puts them in the environment of `scripts/stack exec`).
    package func gatewayReplicas(_ environment: [String: String]) -> [String] {
        var out = replicas
        for u in (environment["AISH_GATEWAY_REPLICAS"] ?? "").split(separator: ",") {
            let url = u.trimming(.whitespaces)
            if !url.isEmpty, BaseURL(url) != nil, !out.contains(url), url != baseURL { out.append(url) }
        }
        return out
    }

    /// The same gateway reached at another URL (one of its replicas).
    package init(copying p: ProviderConfig, baseURL: String) {
        self = p
        self.baseURL = baseURL
    }
}

/// The gateway's cooldowns alone, for `route`, `status` and `tail metrics`: one SCAN of
/// `deployment:*:cooldown` in the Redis of the configuration, with GET and PTTL of each key.
package struct GatewayCooldowns: Sendable {
    /// Deployment id → cooldown now.
    package var byID: [String: GatewayState.Cooldown] = [:]
    package var redis: String?
    /// Why nothing could be read (no Redis configured, Redis down…); nil when it was read.
    package var unavailable: String?

    /// The generated config's deployment ids, keyed by "model group|provider".
    package static func ids(_ config: AishConfig) -> [String: String] {
        var out: [String: String] = [:]
        for d in LiteLLMGenerator.deployments(config) {
            guard let id = d.info.first(where: { $0.0 == "id" })?.1.stringValue,
                  let p = d.info.first(where: { $0.0 == "provider" })?.1.stringValue else { continue }
            out[d.modelName + "|" + p] = id
        }
        return out
    }

    package static func read(_ config: AishConfig, environment: [String: String], timeout: Double = 1, interrupt: InterruptFlag,
                     now: Date = Date()) -> GatewayCooldowns {
        var out = GatewayCooldowns()
        let targets = MonitoringTargets.resolve(config)
        guard let host = targets.redisHost, let port = targets.redisPort else {
            out.unavailable = "no Redis configured: the gateway's cooldowns cannot be seen"
            return out
        }
        out.redis = "\(host):\(port)"
        do {
            let client = try RedisClient(host: host, port: port, timeout: timeout, interrupt: interrupt)
            defer { client.close() }
            if let password = environment["REDIS_PASSWORD"], !password.isEmpty { _ = try client.command(["AUTH", password]) }
            for key in try client.scanKeys(matching: "deployment:*:cooldown", limit: 10_000).keys {
                let id = String(key.dropFirst("deployment:".count).dropLast(":cooldown".count))
                let c = GatewayState.cooldown(value: try client.get(key), ttl: try client.secondsToLive(key),
                                              now: now.timeIntervalSince1970)
                if c.seconds != nil { out.byID[id] = c }
            }
        } catch {
            out.unavailable = "the gateway's cooldowns are unknown: \(error)"
        }
        return out
    }
}

/// The gateway's part of `status`, `tail metrics` and `report`: each process (the provider
/// and its replicas) up or not, and the deployments cooling down in its Redis now.
package struct GatewayStatus: Sendable {
    package struct Cooled: Sendable, Equatable {
        package var id: String
        package var provider: String?
        package var modelGroup: String?
        package var cooldown: GatewayState.Cooldown
    }

    package var gateway: String
    package var redis: String?
    package var replicas: [GatewayState.Replica] = []
    package var cooledDown: [Cooled] = []
    /// Why the cooldowns are unknown (no Redis, Redis down), or nil.
    package var unavailable: String?

    /// nil without an active LiteLLM gateway in the configuration.
    package static func fetch(_ config: AishConfig, environment: [String: String], timeout: Double = 2,
                      interrupt: InterruptFlag) -> GatewayStatus? {
        guard let g = config.providers.providers.first(where: { $0.type == .litellm && $0.status == .active }) else { return nil }
        var out = GatewayStatus(gateway: g.name)
        for url in [g.baseURL] + g.gatewayReplicas(environment) {
            let probe = HTTPRequest(url: ProviderEndpoints(baseURL: url).root + "/health/liveliness",
                                    timeouts: HTTPTimeouts(connect: min(g.timeouts.connect, timeout), firstByte: timeout,
                                                           idle: timeout, total: timeout))
            do {
                _ = try HTTPTransport.fetch(probe, interrupt: interrupt, maxBody: 1 << 16)
                out.replicas.append(.init(provider: g.name, url: url, up: true, error: nil))
            } catch {
                out.replicas.append(.init(provider: g.name, url: url, up: false, error: "\(error)"))
            }
        }
        let c = GatewayCooldowns.read(config, environment: environment, timeout: min(timeout, 2), interrupt: interrupt)
        out.redis = c.redis
        out.unavailable = c.unavailable
        var owner: [String: (String, String)] = [:]
        for (key, id) in GatewayCooldowns.ids(config) {
            let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
            if parts.count == 2 { owner[id] = (parts[0], parts[1]) }
        }
        out.cooledDown = c.byID.keys.sorted().map { id in
            Cooled(id: id, provider: owner[id]?.1, modelGroup: owner[id]?.0, cooldown: c.byID[id]!)
        }
        return out
    }

    package var json: JSONValue {
        .object([
            ("gateway", .string(gateway)),
            ("redis", redis.map(JSONValue.string) ?? .null),
            ("replicas", .array(replicas.map { r in
                .object([("url", .string(r.url)), ("up", .bool(r.up)), ("error", r.error.map(JSONValue.string) ?? .null)])
            })),
            ("cooled_down", .array(cooledDown.map { c in
                .object([("id", .string(c.id)), ("provider", c.provider.map(JSONValue.string) ?? .null),
                         ("model_group", c.modelGroup.map(JSONValue.string) ?? .null),
                         ("cooldown_s", c.cooldown.seconds.map { .double(($0 * 10).rounded() / 10) } ?? .null),
                         ("cooldown_reason", GatewayState.reasonText(c.cooldown).map(JSONValue.string) ?? .null)])
            })),
            ("error", unavailable.map(JSONValue.string) ?? .null),
        ])
    }

    /// "gateway litellm_gateway: 2 processes up · Redis 127.0.0.1:6379 · 1 deployment cooling down" and a line each.
    package func text() -> String {
        let up = replicas.filter(\.up).count
        var t = "gateway \(gateway): \(up) of \(replicas.count) process\(replicas.count == 1 ? "" : "es") up"
        if let redis { t += " · Redis \(redis)" }
        if let unavailable {
            t += " · \(unavailable)\n"
        } else {
            t += " · \(cooledDown.count) deployment\(cooledDown.count == 1 ? "" : "s") cooling down\n"
        }
        for r in replicas where !r.up || replicas.count > 1 {
            t += "  \(r.up ? "✓" : "✗") \(r.url)" + (r.error.map { ": \($0)" } ?? "") + "\n"
        }
        for c in cooledDown {
            t += "  \(c.id)" + (c.modelGroup.map { " (group \($0))" } ?? "") + ": \(GatewayState.cooldownText(c.cooldown))\n"
        }
        return t
    }
}

extension GatewayState {
    /// "cooled down 24 s: 500 litellm.InternalServerError: …".
    package static func cooldownText(_ c: Cooldown) -> String {
        var t = "cooled down \(Int((c.seconds ?? 0).rounded(.up))) s"
        let why = [c.status, c.reason].compactMap { $0 }.joined(separator: " ")
        if !why.isEmpty { t += ": " + why }
        return t
    }

    package static func reasonText(_ c: Cooldown?) -> String? {
        guard let c, c.seconds != nil else { return nil }
        let why = [c.status, c.reason].compactMap { $0 }.joined(separator: " ")
        return why.isEmpty ? nil : why
    }
}
