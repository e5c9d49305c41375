import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishHTTP
import AishProviders

/// Where the monitoring services are: the `monitoring:` section of ports.yaml (with its
/// services named prometheus, grafana, redis), else a ports.yaml service whose name contains
/// one of those words ("prometheus-main"). The one place the report asks.
package struct MonitoringTargets: Sendable, Equatable {
    package var prometheus: String?
    /// Where a Prometheus bearer token is read from (`monitoring.prometheus_key_env`).
    package var prometheusKeyVariable: String?
    package var grafana: String?
    package var redisHost: String?
    package var redisPort: Int?

    package static func resolve(_ config: AishConfig) -> MonitoringTargets {
        let m = config.monitoring
        var t = MonitoringTargets(prometheus: m.prometheus?.url, prometheusKeyVariable: m.prometheusKeyVariable,
                                  grafana: m.grafana?.url, redisHost: m.redisHostPort?.host, redisPort: m.redisHostPort?.port)
        for s in config.ports.services {
            let name = s.name.lowercased()
            let host = s.healthCheck.flatMap { BaseURL(urlIn: $0)?.host } ?? "127.0.0.1"
            if name.contains("prometheus"), t.prometheus == nil { t.prometheus = "http://\(host):\(s.port)" }
            if name.contains("grafana"), t.grafana == nil { t.grafana = "http://\(host):\(s.port)" }
            if name.contains("redis"), t.redisPort == nil { t.redisHost = host; t.redisPort = s.port }
        }
        return t
    }

    package var configuredCount: Int { (prometheus == nil ? 0 : 1) + (grafana == nil ? 0 : 1) + (redisPort == nil ? 0 : 1) }
}

extension BaseURL {
    /// The first http(s) URL inside a text such as a health_check command ("curl -f http://…").
    package init?(urlIn text: String) {
        guard let word = text.split(separator: " ").first(where: { $0.hasPrefix("http://") || $0.hasPrefix("https://") }) else { return nil }
        self.init(String(word))
    }
}

/// LiteLLM's `GET /health`: the gateway calls every deployment and lists the healthy and
/// the unhealthy ones (with the error). Needs the master key.
package struct GatewayHealthAnswer: Sendable {
    package struct Endpoint: Sendable, Equatable {
        package var model: String
        package var apiBase: String?
        package var error: String?
    }

    package var url: String
    package var httpStatus: Int?
    package var latencyMs: Double?
    package var healthy: [Endpoint] = []
    package var unhealthy: [Endpoint] = []
    package var error: String?
    /// No answer within the timeout (LiteLLM's /health waits for every deployment's reply).
    package var timedOut = false

    package static func fetch(_ gateway: ProviderConfig, environment: [String: String], timeout: Double,
                      interrupt: InterruptFlag) -> GatewayHealthAnswer {
        let url = ProviderEndpoints(gateway).root + "/health"
        var out = GatewayHealthAnswer(url: URLRedaction.redact(url))
        let auth: ProviderAuth
        do {
            auth = try ProviderAuth.resolve(gateway, environment: environment)
        } catch {
            out.error = "\(error)"
            return out
        }
        let limits = HTTPTimeouts(connect: min(gateway.timeouts.connect, timeout), firstByte: timeout, idle: timeout, total: timeout)
        let request = HTTPRequest(url: url, headers: auth.headers, timeouts: limits, secrets: auth.secrets)
        out.url = request.displayURL
        // LiteLLM answers 401, or 500, without a valid master key.
        let keyHint = " (LiteLLM answers this without a valid master key: is \(gateway.envVar ?? "its env_var") the gateway's key?)"
        let response: HTTPResponse
        do {
            response = try HTTPTransport.fetch(request, interrupt: interrupt, maxBody: HTTPTransport.BodyCap.standard)
        } catch let e as HTTPError {
            out.httpStatus = e.status
            out.timedOut = [.firstByteTimeout, .idleTimeout, .totalTimeout].contains(e.kind)
            out.error = e.description + (e.status == 401 || e.status == 403 || e.status == 500 ? keyHint : "")
            return out
        } catch {
            out.error = "\(error)"
            return out
        }
        out.httpStatus = response.head.status
        out.latencyMs = response.timings.total * 1000
        guard let json = try? response.json(), json["healthy_endpoints"] != nil || json["unhealthy_endpoints"] != nil else {
            out.error = "GET \(out.url): answered \(response.head.status) without LiteLLM's health lists: "
                + ServerErrorText.clip(ServerErrorText.extract(response.body) ?? response.bodyText, 160)
            return out
        }
        out.healthy = endpoints(json["healthy_endpoints"])
        out.unhealthy = endpoints(json["unhealthy_endpoints"])
        return out
    }

    package static func endpoints(_ value: JSONValue?) -> [Endpoint] {
        guard case let .array(items)? = value else { return [] }
        return items.map { e in
            var error = e["error"]?.stringValue
            // LiteLLM appends a long "stack trace:" to errors; the first line says what failed.
            if let e = error, let cut = e.rangeOfText("stack trace:") { error = String(e[..<cut.lowerBound]) }
            // aiohttp's connection errors carry a Python object's repr ("ssl:<ssl.SSLContext object at 0x…>").
            if let e = error { error = e.replacing(#/ ssl:<[^>]*>/#, with: "")
                .trimming(.whitespacesAndNewlines) }
            return Endpoint(model: e["model"]?.stringValue ?? "?", apiBase: e["api_base"]?.stringValue, error: error)
        }
    }
}

/// What the report learns from Redis.
package struct RedisProbeResult: Sendable, Equatable {
    package var address: String
    package var latencyMs: Double?
    package var pong = false
    package var version: String?
    package var keys: Int?
    package var litellmCacheEntries: Int?
    package var cacheKeysComplete = true
    package var usedMemory: String?
    package var error: String?

    /// LiteLLM's cache keys are SHA-256 hex digests, optionally behind "namespace:".
    package static func isLiteLLMCacheKey(_ key: String) -> Bool {
        let digest = key.split(separator: ":").last.map(String.init) ?? key
        return digest.utf8.count == 64 && digest.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// `password`: as LiteLLM reads it for its cache (REDIS_PASSWORD), sent with AUTH when set.
    package static func probe(host: String, port: Int, password: String? = nil, timeout: Double, interrupt: InterruptFlag) -> RedisProbeResult {
        var out = RedisProbeResult(address: "\(host):\(port)")
        let started = MonotonicClock.now()
        do {
            let client = try RedisClient(host: host, port: port, timeout: timeout, interrupt: interrupt)
            defer { client.close() }
            if let password, !password.isEmpty { _ = try client.command(["AUTH", password]) }
            out.pong = try client.ping()
            out.latencyMs = (MonotonicClock.now() - started) * 1000
            if !out.pong { out.error = "redis \(out.address): PING did not answer PONG" }
            out.keys = try client.dbSize()
            if let info = try? client.info("server") { out.version = info["redis_version"] }
            if let info = try? client.info("memory") { out.usedMemory = info["used_memory_human"] }
            let scan = try client.countKeys(matching: "*", limit: 100_000, filter: isLiteLLMCacheKey)
            out.litellmCacheEntries = scan.count
            out.cacheKeysComplete = scan.complete
        } catch {
            out.error = "\(error)"
        }
        return out
    }
}

extension MonitoringTargets {
    /// The provider whose base URL serves a LiteLLM api_base (same host and port).
    package static func provider(servingAPIBase base: String, config: AishConfig) -> String? {
        guard let b = BaseURL(base) else { return nil }
        return config.providers.providers.first { p in
            guard let u = BaseURL(p.baseURL) else { return false }
            return u.host == b.host && (u.port ?? 80) == (b.port ?? 80) && p.type != .litellm
        }?.name
    }
}
