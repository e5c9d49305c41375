import FoundationEssentials
import Glibc
import AishBase
import AishTelemetry

/// The health score and the overall verdict.
///
/// Score (0–10): five components, each earning part of its weight —
///   providers      4 × (active providers up ÷ active providers)
///   gateway        2 × (deployments the gateway's /health calls healthy ÷ deployments); 0 when /health cannot be read
///   routing        2 × (answered requests − ½ × answered only after a fallback) ÷ requests sent
///   configuration  1 with no errors, less 0.05 per warning (at most 0.5 off); 0 with any error
///   monitoring     1 × (monitoring services answering ÷ configured)
/// A component that does not apply (no gateway, --no-requests, no monitoring configured)
/// is left out and the others are scaled up: score = 10 × earned ÷ weights that apply,
/// rounded to one decimal.
///
/// Verdict: down when no active provider answers, or every request sent failed; else
/// degraded when any issue has high or medium impact; else operational.
package enum HealthScore {
    package static let formula = """
          score = 10 × earned ÷ the weights that apply, from
            providers      4 × active providers up ÷ active providers
            gateway        2 × healthy deployments ÷ deployments (0 if /health is unreadable)
            routing        2 × (answered − ½ × answered after a fallback) ÷ requests sent
            configuration  1, 0 with any error, −0.05 per warning (at most −0.5)
            monitoring     1 × answering ÷ configured
          A component that does not apply (no gateway, --no-requests, no monitoring) is left out.
        """

    package static func components(configuration: ConfigurationSection, providers: ProvidersSection, gateway: GatewaySection,
                           routing: RoutingSection, monitoring: MonitoringSection) -> [ScoreComponent] {
        var out: [ScoreComponent] = []
        let active = providers.active
        out.append(ScoreComponent(name: "providers", weight: 4, earned: active == 0 ? 0 : round2(4 * Double(providers.up) / Double(active)),
                                  basis: "\(providers.up) of \(active) active providers up"))
        if gateway.mark == .notConfigured {
            out.append(ScoreComponent(name: "gateway", weight: 2, earned: nil, basis: "no gateway configured"))
        } else if gateway.error != nil || gateway.deployments.isEmpty {
            out.append(ScoreComponent(name: "gateway", weight: 2, earned: 0, basis: "gateway /health not read"))
        } else {
            let healthy = gateway.deployments.filter(\.gatewayHealthy).count
            out.append(ScoreComponent(name: "gateway", weight: 2, earned: round2(2 * Double(healthy) / Double(gateway.deployments.count)),
                                      basis: "\(healthy) of \(gateway.deployments.count) deployments healthy"))
        }
        if !routing.requestsSent || routing.requests.isEmpty {
            out.append(ScoreComponent(name: "routing", weight: 2, earned: nil, basis: routing.requestsSent ? "no requests" : "--no-requests"))
        } else {
            let ok = routing.requests.filter(\.ok).count
            let fallbacks = routing.requests.filter { $0.ok && $0.fallback }.count
            let value = (Double(ok) - 0.5 * Double(fallbacks)) / Double(routing.requests.count)
            out.append(ScoreComponent(name: "routing", weight: 2, earned: round2(2 * max(0, value)),
                                      basis: "\(ok) of \(routing.requests.count) requests answered, \(fallbacks) after a fallback"))
        }
        let configEarned = configuration.errors > 0 ? 0 : 1 - min(0.5, 0.05 * Double(configuration.warnings))
        out.append(ScoreComponent(name: "configuration", weight: 1, earned: round2(configEarned),
                                  basis: "\(configuration.errors) errors, \(configuration.warnings) warnings"))
        if monitoring.configured == 0 {
            out.append(ScoreComponent(name: "monitoring", weight: 1, earned: nil, basis: "no monitoring configured"))
        } else {
            out.append(ScoreComponent(name: "monitoring", weight: 1, earned: round2(Double(monitoring.up) / Double(monitoring.configured)),
                                      basis: "\(monitoring.up) of \(monitoring.configured) monitoring services answering"))
        }
        return out
    }

    package static func score(_ components: [ScoreComponent]) -> Double {
        let applicable = components.filter { $0.earned != nil }
        let weights = applicable.reduce(0) { $0 + $1.weight }
        guard weights > 0 else { return 0 }
        let earned = applicable.reduce(0) { $0 + ($1.earned ?? 0) }
        return (10 * earned / weights * 10).rounded() / 10
    }

    package static func overall(providers: ProvidersSection, routing: RoutingSection, issues: [ReportIssue]) -> OverallStatus {
        if providers.active > 0 && providers.up == 0 { return .down }
        // Requests cut short by the report's timeout say nothing about the backends.
        let finished = routing.requests.filter { !$0.cancelled }
        if routing.requestsSent && !finished.isEmpty && !finished.contains(where: \.ok) { return .down }
        if issues.contains(where: { $0.impact != .low }) { return .degraded }
        return .operational
    }

    private static func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
}

/// Shared wording of figures in every rendering.
package enum ReportFormatting {
    package static func timestamp(_ d: Date) -> String {
        UTCTime.iso8601(d)
    }

    package static func score(_ s: Double) -> String { cFormat("%.1f", s) }

    package static func ms(_ v: Double?) -> String { v.map { Format.milliseconds($0) } ?? "–" }

    package static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : cFormat("%.1f s", s)
    }

    package static func mib(_ v: Double?) -> String {
        guard let v else { return "–" }
        return v >= 1024 ? cFormat("%.1f GiB", v / 1024) : cFormat("%.0f MiB", v)
    }

    package static func percent(_ v: Double?) -> String { v.map { cFormat("%.1f%%", $0) } ?? "–" }
}
