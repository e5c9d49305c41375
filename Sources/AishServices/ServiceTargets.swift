import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishProviders

/// One thing `status` watches and `service` controls: a ports.yaml service and/or the
/// local providers listening on the same port (merged into one row).
package struct MonitoredService: Equatable, Sendable {
    package var name: String
    package var host: String                // where to connect for the health check
    package var port: Int
    package var healthURL: String?          // HTTP health endpoint, when one is known
    package var unit: UnitReference?
    package var unitLocation: SourceLocation?  // the config entry the unit (or the service) comes from
    package var providers: [String]         // providers.yaml entries served on this port
    package var fromPortsFile: Bool
    package var required: Bool

    package var healthTarget: HealthProbe.Target { HealthProbe.Target(host: host, port: port, healthURL: healthURL) }

    /// Names `service NAME` accepts for this row.
    package var names: [String] {
        var out = [name] + providers
        if let unit { out.append(unit.unit) }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }
}

package enum ServiceTargets {
    /// ports.yaml services in file order, then local providers not already covered by a
    /// ports.yaml entry on the same port. Template providers are skipped (their URLs are
    /// placeholders); disabled ones are kept, as their server may still be running.
    package static func from(_ config: AishConfig) -> [MonitoredService] {
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
    package static func urlInCommand(_ command: String) -> String? {
        for word in command.split(separator: " ") {
            let w = word.trimming(.characters("\"'"))
            if w.hasPrefix("http://") || w.hasPrefix("https://") { return w }
        }
        return nil
    }

    /// Finds a row by any of its names; an unknown name gets a did-you-mean.
    package static func find(_ name: String, in rows: [MonitoredService]) throws -> MonitoredService {
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
package struct LocalEndpoint: Equatable, Sendable {
    package var host: String
    package var port: Int

    package static let localHosts: Set<String> = ["localhost", "127.0.0.1", "::1", "0.0.0.0", "::"]

    package init?(baseURL: String) {
        guard let c = URLComponents(string: baseURL), let scheme = c.scheme?.lowercased(),
            scheme == "http" || scheme == "https", var host = c.host?.lowercased()
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard LocalEndpoint.localHosts.contains(host) || host.hasPrefix("127.") else { return nil }
        self.host = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        self.port = c.port ?? (scheme == "https" ? 443 : 80)
    }
}
