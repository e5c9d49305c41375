import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishGateway

/// The stack as a text diagram, drawn from the config, with each element's live mark:
/// aish → gateway → deployments → backends, aish → providers directly, and the monitoring
/// services.
package enum ReportArchitecture {
    package static func lines(_ config: AishConfig, providers: ProvidersSection, gateway: GatewaySection, monitoring: MonitoringSection,
                      targets: MonitoringTargets) -> [String] {
        var byName: [String: ProviderRow] = [:]
        for p in providers.providers { byName[p.name] = p }
        func label(_ row: ProviderRow) -> String {
            var s = "\(row.mark.symbol) \(row.name)"
            if let port = row.port { s += " :\(port)" }
            s += " (\(row.type))"
            if row.configStatus != ProviderStatus.active.rawValue { s += " [\(row.configStatus)]" }
            else if row.state != "up" { s += " [\(row.state)]" }
            return s
        }
        let gateways = providers.providers.filter { $0.type == ProviderType.litellm.rawValue && $0.configStatus == ProviderStatus.active.rawValue }
        let backends = providers.providers.filter { $0.type != ProviderType.litellm.rawValue && $0.configStatus != ProviderStatus.template.rawValue }
        var out = ["aish"]
        var branches: [[String]] = []
        for g in gateways {
            let ds = g.name == gateway.provider ? gateway.deployments : []
            var block = [label(g) + (ds.isEmpty ? "  gateway" : "  gateway, \(ds.count) deployment\(ds.count == 1 ? "" : "s")")]
            let width = ds.map(\.modelName.count).max() ?? 0
            for (k, d) in ds.enumerated() {
                let last = k == ds.count - 1
                let target = d.provider.flatMap { byName[$0] }.map { "\($0.name)" + ($0.port.map { " :\($0)" } ?? "") } ?? (d.apiBase ?? d.model)
                let name = d.modelName.padded(toLength: width)
                block.append((last ? "└─ " : "├─ ") + "\(d.mark.symbol) \(name) ─▶ \(target)")
            }
            if ds.isEmpty, let e = gateway.error, g.name == gateway.provider {
                block.append("└─ deployments unknown: " + ReportIssues.clip(e, 80))
            }
            branches.append(block)
        }
        for b in backends {
            var block = [label(b)]
            let models = b.served.isEmpty ? b.declared : b.served
            if !models.isEmpty { block[0] += "  " + models.prefix(4).joined(separator: ", ") + (models.count > 4 ? ", …" : "") }
            branches.append(block)
        }
        for (k, block) in branches.enumerated() {
            let last = k == branches.count - 1
            out.append((last ? "└─▶ " : "├─▶ ") + block[0])
            for line in block.dropFirst() { out.append((last ? "      " : "│     ") + line) }
        }
        var mon: [String] = []
        if let u = targets.prometheus { mon.append("\(monitoring.prometheus.mark.symbol) prometheus \(portText(u))") }
        if let u = targets.grafana { mon.append("\(monitoring.grafana.mark.symbol) grafana \(portText(u))") }
        if let p = targets.redisPort { mon.append("\(monitoring.redis.mark.symbol) redis :\(p)") }
        out.append("")
        out.append("monitoring: " + (mon.isEmpty ? "not configured" : mon.joined(separator: " · ")))
        return out
    }

    private static func portText(_ url: String) -> String {
        BaseURL(url)?.port.map { ":\($0)" } ?? url
    }
}
