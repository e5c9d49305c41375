import AishBase
import AishYAML

/// Where the deployment's monitoring lives: Prometheus (aish's source for history and for
/// many hosts), Grafana (shown only) and Redis (the gateway's response cache).
///
/// From the optional `monitoring:` section of ports.yaml:
///
///     monitoring:
///       prometheus: http://prom.example:9090     # or a path behind a proxy
///       prometheus_key_env: PROMETHEUS_TOKEN     # bearer token, from the environment
///       query_timeout: 10                        # seconds Prometheus may spend on one query
///       grafana: http://127.0.0.1:3000
///       redis: redis://127.0.0.1:6379
///
/// Each address missing there comes from a ports.yaml service of that name
/// (`prometheus:`, `grafana:`, `redis:` with a `port:`), on 127.0.0.1.
package struct MonitoringConfig: Sendable, Equatable {
    package struct Endpoint: Sendable, Equatable {
        package var url: String
        /// `monitoring.prometheus` or the ports.yaml service it came from.
        package var origin: String
        package var location: SourceLocation
    }

    package var prometheus: Endpoint?
    package var grafana: Endpoint?
    package var redis: Endpoint?
    package var prometheusKeyVariable: String?
    package var queryTimeout: Double = 10

    package static let sectionKeys = ["prometheus", "prometheus_key_env", "query_timeout", "grafana", "redis"]

    /// The Redis host and port for LiteLLM's cache settings.
    package var redisHostPort: (host: String, port: Int)? {
        guard let redis, let u = BaseURL(redis.url) else { return nil }
        return (u.host, u.port ?? 6379)
    }

    /// Reads the `monitoring:` mapping of ports.yaml, checking every value where it stands.
    package static func decodeSection(_ node: YAMLNode, reader r: NodeReader) -> MonitoringConfig {
        var m = MonitoringConfig()
        guard let pairs = r.mapping(node, "'monitoring'") else { return m }
        r.checkStrictKeys(pairs, known: sectionKeys, section: "monitoring")
        func url(_ key: String, schemes: [String], example: String) -> Endpoint? {
            guard let v = node[key], let text = r.string(v, "'monitoring.\(key)'") else { return nil }
            guard let u = BaseURL(text), schemes.contains(u.scheme) else {
                r.error(v.location, "monitoring.\(key) must be a URL like \(example), found '\(text)'")
                return nil
            }
            return Endpoint(url: text, origin: "monitoring.\(key)", location: v.location)
        }
        m.prometheus = url("prometheus", schemes: ["http", "https"], example: "http://127.0.0.1:9090")
        m.grafana = url("grafana", schemes: ["http", "https"], example: "http://127.0.0.1:3000")
        m.redis = url("redis", schemes: ["redis", "rediss"], example: "redis://127.0.0.1:6379")
        if let v = node["prometheus_key_env"], let name = r.string(v, "'monitoring.prometheus_key_env'") {
            if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) || name.first!.isNumber {
                r.error(v.location, "monitoring.prometheus_key_env must name an environment variable (letters, digits, _), found '\(name)'")
            } else {
                m.prometheusKeyVariable = name
            }
        }
        if let v = node["query_timeout"], let t = r.number(v, "'monitoring.query_timeout'") {
            if t > 0 && t <= 600 { m.queryTimeout = t } else {
                r.error(v.location, "monitoring.query_timeout must be between 0 and 600 seconds, found \(JSONValue.format(t))")
            }
        }
        return m
    }

    /// The section's addresses, completed from ports.yaml services named prometheus,
    /// grafana and redis.
    package static func resolve(_ ports: PortsFile) -> MonitoringConfig {
        var m = ports.monitoring ?? MonitoringConfig()
        func service(_ name: String, scheme: String) -> Endpoint? {
            guard let s = ports.services.first(where: { $0.name == name }) else { return nil }
            return Endpoint(url: "\(scheme)://127.0.0.1:\(s.port)", origin: "ports.yaml service '\(name)'",
                            location: s.portLocation ?? s.location)
        }
        if m.prometheus == nil { m.prometheus = service("prometheus", scheme: "http") }
        if m.grafana == nil { m.grafana = service("grafana", scheme: "http") }
        if m.redis == nil { m.redis = service("redis", scheme: "redis") }
        return m
    }
}

extension AishConfig {
    package var monitoring: MonitoringConfig { MonitoringConfig.resolve(ports) }
}
