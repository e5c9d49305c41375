import FoundationEssentials
import Glibc

/// Which systemd instance manages a unit.
enum SystemdScope: String, Sendable {
    case user, system
}

/// A systemd unit as named in the config: `service: ollama.service` in ports.yaml, or a
/// provider's `service` / `service_file` (a path, of which the basename is the unit).
struct UnitReference: Equatable, Sendable {
    var unit: String
    /// Known from the path of a `service_file`; nil means the default (user).
    var scope: SystemdScope?

    private static let systemDirectories = ["/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/",
                                            "/run/systemd/system/", "/usr/local/lib/systemd/system/"]

    /// nil for an empty value or YAML `null`.
    init?(configValue raw: String?) {
        guard let raw = raw?.trimming(.whitespaces), !raw.isEmpty, raw != "null", raw != "~" else {
            return nil
        }
        // Only a path-looking value is a unit file; anything else is the unit name as written.
        let isPath = ["/", "~/", "./", "../"].contains(where: { raw.hasPrefix($0) })
        guard isPath else {
            unit = raw
            scope = nil
            return
        }
        let base = PathText.lastComponent(raw)
        guard !base.isEmpty else { return nil }
        unit = base
        if UnitReference.systemDirectories.contains(where: { raw.hasPrefix($0) }) {
            scope = .system
        } else if raw.contains("/systemd/user/") {
            scope = .user
        } else {
            scope = nil
        }
    }

    init(unit: String, scope: SystemdScope? = nil) {
        self.unit = unit
        self.scope = scope
    }
}

/// One thing `status` watches and `service` controls: a ports.yaml service and/or the
/// local providers listening on the same port (merged into one row).
struct MonitoredService: Equatable, Sendable {
    var name: String
    var host: String                // where to connect for the health check
    var port: Int
    var healthURL: String?          // HTTP health endpoint, when one is known
    var unit: UnitReference?
    var unitLocation: SourceLocation?  // the config entry the unit (or the service) comes from
    var providers: [String]         // providers.yaml entries served on this port
    var fromPortsFile: Bool
    var required: Bool

    var healthTarget: HealthProbe.Target { HealthProbe.Target(host: host, port: port, healthURL: healthURL) }

    /// Names `service NAME` accepts for this row.
    var names: [String] {
        var out = [name] + providers
        if let unit { out.append(unit.unit) }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }
}

enum ServiceTargets {
    /// ports.yaml services in file order, then local providers not already covered by a
    /// ports.yaml entry on the same port. Template providers are skipped (their URLs are
    /// placeholders); disabled ones are kept, as their server may still be running.
    static func from(_ config: AishConfig) -> [MonitoredService] {
        var rows: [MonitoredService] = config.ports.services.map { s in
            MonitoredService(name: s.name, host: "127.0.0.1", port: s.port, healthURL: s.healthCheck.flatMap(urlInCommand),
                             unit: UnitReference(configValue: s.serviceUnit), unitLocation: s.location, providers: [],
                             fromPortsFile: true,
                             required: s.required)
        }
        for p in config.providers.providers where p.status != .template {
            guard let endpoint = LocalEndpoint(baseURL: p.baseURL) else { continue }
            // The same URL the `health` command probes (type defaults when none is configured).
            let health = ProviderEndpoints(p).health(for: p)
            if let i = rows.firstIndex(where: { $0.port == endpoint.port }) {
                rows[i].providers.append(p.name)
                if rows[i].healthURL == nil { rows[i].healthURL = health }
                if rows[i].unit == nil, let unit = UnitReference(configValue: p.serviceUnit) {
                    rows[i].unit = unit
                    rows[i].unitLocation = p.location
                }
                continue
            }
            rows.append(MonitoredService(name: p.name, host: endpoint.host, port: endpoint.port, healthURL: health,
                                         unit: UnitReference(configValue: p.serviceUnit), unitLocation: p.location,
                                         providers: [p.name],
                                         fromPortsFile: false, required: false))
        }
        return rows
    }

    /// The health_check of ports.yaml is a shell command ("curl -f http://localhost:4000/health");
    /// aish never runs it, it takes the URL from it. Commands without one ("redis-cli -p 6379
    /// ping") leave a plain TCP check.
    static func urlInCommand(_ command: String) -> String? {
        for word in command.split(separator: " ") {
            let w = word.trimming(.characters("\"'"))
            if w.hasPrefix("http://") || w.hasPrefix("https://") { return w }
        }
        return nil
    }

    /// Finds a row by any of its names; an unknown name gets a did-you-mean.
    static func find(_ name: String, in rows: [MonitoredService]) throws -> MonitoredService {
        if let row = rows.first(where: { $0.names.contains(name) }) { return row }
        var message = "unknown service '\(name)'"
        if let s = Suggest.closest(to: name, among: rows.flatMap(\.names)) { message += " — did you mean '\(s)'?" }
        if rows.isEmpty {
            message += " (no services are configured in ports.yaml or as local providers)"
        } else {
            message += " (known: \(rows.map(\.name).joined(separator: ", ")))"
        }
        throw UsageError(message: message)
    }
}

/// The host and port of a provider's base_url, when it is on this machine.
struct LocalEndpoint: Equatable, Sendable {
    var host: String
    var port: Int

    static let localHosts: Set<String> = ["localhost", "127.0.0.1", "::1", "0.0.0.0", "::"]

    init?(baseURL: String) {
        guard let c = URLComponents(string: baseURL), let scheme = c.scheme?.lowercased(),
            scheme == "http" || scheme == "https", var host = c.host?.lowercased()
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard LocalEndpoint.localHosts.contains(host) || host.hasPrefix("127.") else { return nil }
        self.host = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        self.port = c.port ?? (scheme == "https" ? 443 : 80)
    }
}
