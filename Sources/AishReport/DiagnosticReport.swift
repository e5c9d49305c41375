import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishServices

/// An optional that is always encoded: `null` instead of a missing key, so that the
/// report's JSON has the same keys in every run (dashboards read fixed paths).
@propertyWrapper
package struct Nullable<T: Encodable & Sendable>: Encodable, Sendable {
    package var wrappedValue: T?
    package init(wrappedValue: T?) { self.wrappedValue = wrappedValue }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = wrappedValue { try c.encode(v) } else { try c.encodeNil() }
    }
}

/// The status mark of a section or a row.
package enum ReportMark: String, Encodable, Sendable, Comparable {
    case ok, warning, failed
    case notConfigured = "not_configured"

    /// Worse marks sort later; "not configured" counts as fine.
    private var rank: Int {
        switch self {
        case .ok, .notConfigured: return 0
        case .warning: return 1
        case .failed: return 2
        }
    }

    package static func < (a: ReportMark, b: ReportMark) -> Bool { a.rank < b.rank }

    /// The worst of several marks (ok when there are none).
    package static func worst(_ marks: [ReportMark]) -> ReportMark { marks.max() ?? .ok }

    package var symbol: String {
        switch self {
        case .ok: return "✓"
        case .warning: return "⚠"
        case .failed: return "✗"
        case .notConfigured: return "–"
        }
    }

    package var words: String {
        switch self {
        case .ok: return "ok"
        case .warning: return "warning"
        case .failed: return "failed"
        case .notConfigured: return "not configured"
        }
    }
}

/// The overall verdict.
package enum OverallStatus: String, Encodable, Sendable {
    case operational, degraded, down
}

package enum IssueImpact: String, Encodable, Sendable, Comparable {
    case high, medium, low

    private var rank: Int { self == .high ? 0 : (self == .medium ? 1 : 2) }
    package static func < (a: IssueImpact, b: IssueImpact) -> Bool { a.rank < b.rank }
}

/// One problem found while measuring, with what to do about it.
package struct ReportIssue: Encodable, Sendable, Equatable {
    package var impact: IssueImpact
    package var section: String
    package var symptom: String
    package var cause: String
    package var fix: String
}

// MARK: - Sections

package struct ScoreComponent: Encodable, Sendable {
    package var name: String
    package var weight: Double
    /// Points earned out of `weight`; null when the component does not apply (not configured, not measured).
    @Nullable package var earned: Double?
    package var basis: String
}

package struct SummarySection: Encodable, Sendable {
    package var mark: ReportMark
    package var overall: OverallStatus
    package var score: Double
    package var providersUp: Int
    package var providersActive: Int
    package var servicesUp: Int
    package var servicesConfigured: Int
    package var topProblems: [String]
    package var scoreComponents: [ScoreComponent]

    package enum CodingKeys: String, CodingKey {
        case mark, overall, score, providersUp = "providers_up", providersActive = "providers_active", servicesUp = "services_up"
        case servicesConfigured = "services_configured", topProblems = "top_problems", scoreComponents = "score_components"
    }
}

package struct ConfigFileStatus: Encodable, Sendable {
    package var file: String
    package var present: Bool
    package var required: Bool
    package var mark: ReportMark
    package var errors: Int
    package var warnings: Int
    package var firstFindings: [String]

    package enum CodingKeys: String, CodingKey { case file, present, required, mark, errors, warnings, firstFindings = "first_findings" }
}

package struct ConfigCheck: Encodable, Sendable {
    package var name: String
    package var mark: ReportMark
    package var findings: Int
    package var firstFindings: [String]

    package enum CodingKeys: String, CodingKey { case name, mark, findings, firstFindings = "first_findings" }
}

package struct ConfigurationSection: Encodable, Sendable {
    package var mark: ReportMark
    package var directory: String
    package var valid: Bool
    package var errors: Int
    package var warnings: Int
    package var files: [ConfigFileStatus]
    package var checks: [ConfigCheck]
    package var providers: Int
    package var activeProviders: Int
    package var routes: Int
    package var chains: Int
    package var gatewayModels: Int
    /// Backups `config generate` kept (file names, newest first).
    package var backups: [String]

    package enum CodingKeys: String, CodingKey {
        case mark, directory, valid, errors, warnings, files, checks, providers, activeProviders = "active_providers", routes, chains
        case gatewayModels = "gateway_models", backups
    }
}

package struct ProviderRow: Encodable, Sendable {
    package var name: String
    package var type: String
    package var configStatus: String
    package var mark: ReportMark
    /// up, down, not probed
    package var state: String
    package var url: String
    @Nullable package var port: Int?
    @Nullable package var latencyMs: Double?
    @Nullable package var modelsServed: Int?
    package var declared: [String]
    package var served: [String]
    package var missing: [String]
    package var unexpected: [String]
    @Nullable package var cpuPercent: Double?
    @Nullable package var rssMiB: Double?
    @Nullable package var gpuMiB: Int?
    @Nullable package var error: String?
    @Nullable package var note: String?

    package enum CodingKeys: String, CodingKey {
        case name, type, configStatus = "config_status", mark, state, url, port, latencyMs = "latency_ms"
        case modelsServed = "models_served", declared, served, missing, unexpected, cpuPercent = "cpu_percent"
        case rssMiB = "rss_mib", gpuMiB = "gpu_mib", error, note
    }
}

package struct ServiceRow: Encodable, Sendable {
    package var name: String
    package var port: Int
    package var required: Bool
    /// up, unhealthy, down
    package var state: String
    package var mark: ReportMark
    @Nullable package var pid: Int?
    @Nullable package var unit: String?
    @Nullable package var cpuPercent: Double?
    @Nullable package var rssMiB: Double?
    @Nullable package var gpuMiB: Int?
    @Nullable package var error: String?

    package enum CodingKeys: String, CodingKey {
        case name, port, required, state, mark, pid, unit, cpuPercent = "cpu_percent", rssMiB = "rss_mib", gpuMiB = "gpu_mib", error
    }
}

package struct ProvidersSection: Encodable, Sendable {
    package var mark: ReportMark
    package var up: Int
    package var active: Int
    package var providers: [ProviderRow]
    package var services: [ServiceRow]
    package var gpu: String

    package enum CodingKeys: String, CodingKey { case mark, up, active, providers, services, gpu }
}

package struct GatewayDeployment: Encodable, Sendable {
    package var modelName: String
    package var model: String
    @Nullable package var apiBase: String?
    @Nullable package var provider: String?
    package var gatewayHealthy: Bool
    @Nullable package var gatewayError: String?
    /// aish's own probe of the same backend: up, down, not probed.
    package var aishProbe: String
    @Nullable package var aishLatencyMs: Double?
    package var agree: Bool
    package var mark: ReportMark

    package enum CodingKeys: String, CodingKey {
        case modelName = "model_name", model, apiBase = "api_base", provider, gatewayHealthy = "gateway_healthy"
        case gatewayError = "gateway_error", aishProbe = "aish_probe", aishLatencyMs = "aish_latency_ms", agree, mark
    }
}

package struct GatewaySection: Encodable, Sendable {
    package var mark: ReportMark
    @Nullable package var provider: String?
    @Nullable package var url: String?
    @Nullable package var httpStatus: Int?
    @Nullable package var latencyMs: Double?
    package var healthy: Int
    package var unhealthy: Int
    package var deployments: [GatewayDeployment]
    @Nullable package var error: String?
    @Nullable package var note: String?
    /// The gateway's processes (replicas) and the deployments cooling down in its Redis
    /// (`status`'s gateway_cooldowns); null when not read.
    @Nullable package var live: JSONValue? = nil
    /// Model groups whose only deployment LiteLLM never cools down (GatewayCooldownRule).
    package var neverCooledDown: [String] = []

    package enum CodingKeys: String, CodingKey {
        case mark, provider, url, httpStatus = "http_status", latencyMs = "latency_ms", healthy, unhealthy, deployments, error, note
        case live, neverCooledDown = "never_cooled_down"
    }
}

package struct RouteRequest: Encodable, Sendable {
    package var group: String
    /// gateway or direct
    package var path: String
    package var mark: ReportMark
    package var ok: Bool
    @Nullable package var provider: String?
    @Nullable package var backendModel: String?
    @Nullable package var ttftMs: Double?
    @Nullable package var totalMs: Double?
    package var fallback: Bool
    @Nullable package var fallbackFrom: String?
    package var attempts: Int
    @Nullable package var error: String?
    /// Sent, then cut short by the report's end (its timeout or Ctrl-C): not answered, and
    /// not the backend's failure either.
    package var cancelled: Bool = false
    /// Answered from a LiteLLM gateway's response cache (null: no gateway on the way). The
    /// report asks the gateway not to use its cache unless `--cache`.
    @Nullable package var cacheHit: Bool? = nil

    package enum CodingKeys: String, CodingKey {
        case group, path, mark, ok, provider, backendModel = "backend_model", ttftMs = "ttft_ms", totalMs = "total_ms", fallback
        case fallbackFrom = "fallback_from", attempts, error, cancelled, cacheHit = "cache_hit"
    }
}

package struct ChainRow: Encodable, Sendable {
    package var model: String
    /// The attempt plan aish would use now: "provider/backend_model" in order.
    package var plan: [String]
    /// The fallback_chains entry as configured (empty when the name has none).
    package var chain: [String]
}

package struct RoutingSection: Encodable, Sendable {
    package var mark: ReportMark
    package var requestsSent: Bool
    @Nullable package var note: String?
    package var requests: [RouteRequest]
    package var chains: [ChainRow]
    /// Every planned request was sent and answered or failed (none cut short, none left out).
    package var complete: Bool = true
    /// Requests planned (one per route group and path) and never sent: the report's timeout
    /// came first.
    package var notRun: Int = 0
    /// Requests sent and cut short by the timeout (rows of `requests` with `cancelled`).
    package var cancelled: Int = 0

    package enum CodingKeys: String, CodingKey {
        case mark, requestsSent = "requests_sent", note, requests, chains, complete, notRun = "not_run", cancelled
    }
}

package struct PrometheusStatus: Encodable, Sendable {
    package var mark: ReportMark
    @Nullable package var url: String?
    @Nullable package var healthy: Bool?
    @Nullable package var latencyMs: Double?
    @Nullable package var targetsUp: Int?
    @Nullable package var targetsDown: Int?
    package var downTargets: [String]
    @Nullable package var error: String?

    package enum CodingKeys: String, CodingKey {
        case mark, url, healthy, latencyMs = "latency_ms", targetsUp = "targets_up", targetsDown = "targets_down"
        case downTargets = "down_targets", error
    }
}

package struct GrafanaStatus: Encodable, Sendable {
    package var mark: ReportMark
    @Nullable package var url: String?
    @Nullable package var latencyMs: Double?
    @Nullable package var database: String?
    @Nullable package var version: String?
    @Nullable package var error: String?

    package enum CodingKeys: String, CodingKey { case mark, url, latencyMs = "latency_ms", database, version, error }
}

package struct RedisStatus: Encodable, Sendable {
    package var mark: ReportMark
    @Nullable package var address: String?
    @Nullable package var latencyMs: Double?
    @Nullable package var version: String?
    /// DBSIZE: keys in the database.
    @Nullable package var dbSize: Int?
    @Nullable package var litellmCacheEntries: Int?
    @Nullable package var usedMemory: String?
    @Nullable package var error: String?

    package enum CodingKeys: String, CodingKey {
        case mark, address, latencyMs = "latency_ms", version, dbSize = "dbsize", litellmCacheEntries = "litellm_cache_entries"
        case usedMemory = "used_memory", error
    }
}

package struct MonitoringSection: Encodable, Sendable {
    package var mark: ReportMark
    package var configured: Int
    package var up: Int
    package var prometheus: PrometheusStatus
    package var grafana: GrafanaStatus
    package var redis: RedisStatus
}

package struct RecentFigures: Encodable, Sendable {
    package var windowSeconds: Int
    package var available: Bool
    @Nullable package var note: String?
    package var requests: Int
    package var errors: Int
    package var errorRate: Double
    @Nullable package var ttftP50Ms: Double?
    @Nullable package var ttftP99Ms: Double?
    @Nullable package var latencyP50Ms: Double?
    @Nullable package var latencyP99Ms: Double?
    package var byProvider: [ProviderFigures]

    package enum CodingKeys: String, CodingKey {
        case windowSeconds = "window_s", available, note, requests, errors, errorRate = "error_rate"
        case ttftP50Ms = "ttft_p50_ms", ttftP99Ms = "ttft_p99_ms", latencyP50Ms = "latency_p50_ms", latencyP99Ms = "latency_p99_ms"
        case byProvider = "by_provider"
    }
}

package struct ProviderFigures: Encodable, Sendable {
    package var provider: String
    package var requests: Int
    package var errorRate: Double
    @Nullable package var ttftP50Ms: Double?
    @Nullable package var latencyP50Ms: Double?
    @Nullable package var latencyP99Ms: Double?

    package enum CodingKeys: String, CodingKey {
        case provider, requests, errorRate = "error_rate", ttftP50Ms = "ttft_p50_ms", latencyP50Ms = "latency_p50_ms"
        case latencyP99Ms = "latency_p99_ms"
    }
}

package struct ResourcesSection: Encodable, Sendable {
    package var mark: ReportMark
    @Nullable package var totalCPUPercent: Double?
    @Nullable package var totalRSSMiB: Double?
    package var gpu: String
    package var recent: RecentFigures

    package enum CodingKeys: String, CodingKey { case mark, totalCPUPercent = "total_cpu_percent", totalRSSMiB = "total_rss_mib", gpu, recent }
}

package struct ReportChange: Encodable, Sendable {
    package var what: String
    package var before: String
    package var after: String
}

package struct ReportComparison: Encodable, Sendable {
    package var baseRun: Int
    package var baseGeneratedAt: String
    package var changes: [ReportChange]
    package var newIssues: [String]
    package var resolvedIssues: [String]

    package enum CodingKeys: String, CodingKey {
        case baseRun = "base_run", baseGeneratedAt = "base_generated_at", changes, newIssues = "new_issues", resolvedIssues = "resolved_issues"
    }
}

/// How the report is written: Markdown, JSON, or the compact terminal form.
package enum ReportFormat: String, Sendable {
    case markdown = "md", json, text
}

// MARK: - The report

/// `report`: the whole stack measured now, as one document.
package struct DiagnosticReport: CommandReport {
    package var generatedAt: String
    package var host: String
    package var aishVersion: String
    package var durationMs: Double
    package var timeoutSeconds: Double
    @Nullable package var run: Int?
    package var overall: OverallStatus
    package var score: Double
    package var providersUp: Int
    package var providersActive: Int
    package var servicesUp: Int
    package var servicesConfigured: Int
    package var summary: SummarySection
    package var configuration: ConfigurationSection
    package var providers: ProvidersSection
    package var gateway: GatewaySection
    package var routing: RoutingSection
    package var monitoring: MonitoringSection
    package var resources: ResourcesSection
    package var issues: [ReportIssue]
    package var architecture: [String]
    @Nullable package var comparison: ReportComparison?

    // How it is printed; not part of the data.
    package var format: ReportFormat = .markdown
    package var color: Bool = false
    package var writtenTo: String? = nil

    package enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at", host, aishVersion = "aish_version", durationMs = "duration_ms", timeoutSeconds = "timeout_s"
        case run, overall, score, providersUp = "providers_up", providersActive = "providers_active", servicesUp = "services_up"
        case servicesConfigured = "services_configured", summary, configuration, providers, gateway, routing, monitoring, resources
        case issues, architecture, comparison
    }

    package static let fields: [ReportField] = [
        ReportField("generated_at", "when the measurements were taken (UTC, ISO 8601)"),
        ReportField("host", "the machine the report ran on"),
        ReportField("aish_version", "the aish that wrote it"),
        ReportField("duration_ms", "how long measuring took", unit: "ms"),
        ReportField("timeout_s", "the overall probe timeout", unit: "s"),
        ReportField("run", "the session log run id of this report (for report --compare); null without a log"),
        ReportField("overall", "operational, degraded or down"),
        ReportField("score", "health score 0-10 (see the formula in help report)"),
        ReportField("providers_up", "active providers that answered"),
        ReportField("providers_active", "active providers in providers.yaml"),
        ReportField("services_up", "services (ports.yaml, local providers, monitoring) that answered"),
        ReportField("services_configured", "services configured"),
        ReportField("summary", "mark, overall, score, counts, top_problems, score_components"),
        ReportField("configuration", "files, checks, counts, backups"),
        ReportField("providers", "per provider: state, port, latency, models, CPU, RSS, GPU; services"),
        ReportField("gateway", "LiteLLM /health per deployment next to aish's own probe"),
        ReportField("routing", "one real request per route group, through the gateway and direct; chains; complete, not_run and cancelled when the timeout cut it short"),
        ReportField("monitoring", "prometheus, grafana, redis"),
        ReportField("resources", "CPU, memory, GPU; request figures of the last hour from the session log"),
        ReportField("issues", "each problem: impact, section, symptom, cause, fix (highest impact first)"),
        ReportField("architecture", "the text diagram, one line per element"),
        ReportField("comparison", "with --compare: what changed since that run; else null"),
    ]

    package static var example: DiagnosticReport {
        let recent = RecentFigures(windowSeconds: 3600, available: true, note: nil, requests: 0, errors: 0, errorRate: 0, ttftP50Ms: nil,
                                   ttftP99Ms: nil, latencyP50Ms: nil, latencyP99Ms: nil, byProvider: [])
        return DiagnosticReport(
            generatedAt: "2026-11-29T17:00:00Z", host: "host", aishVersion: "0", durationMs: 1, timeoutSeconds: 30, run: nil,
            overall: .operational, score: 10, providersUp: 1, providersActive: 1, servicesUp: 1, servicesConfigured: 1,
            summary: SummarySection(mark: .ok, overall: .operational, score: 10, providersUp: 1, providersActive: 1, servicesUp: 1,
                                    servicesConfigured: 1, topProblems: [], scoreComponents: []),
            configuration: ConfigurationSection(mark: .ok, directory: "config", valid: true, errors: 0, warnings: 0, files: [], checks: [],
                                                providers: 1, activeProviders: 1, routes: 1, chains: 0, gatewayModels: 1, backups: []),
            providers: ProvidersSection(mark: .ok, up: 1, active: 1, providers: [], services: [], gpu: NvidiaSMI.absentMessage),
            gateway: GatewaySection(mark: .notConfigured, provider: nil, url: nil, httpStatus: nil, latencyMs: nil, healthy: 0, unhealthy: 0,
                                    deployments: [], error: nil, note: "no provider of type litellm"),
            routing: RoutingSection(mark: .ok, requestsSent: false, note: nil, requests: [], chains: []),
            monitoring: MonitoringSection(
                mark: .notConfigured, configured: 0, up: 0,
                prometheus: PrometheusStatus(mark: .notConfigured, url: nil, healthy: nil, latencyMs: nil, targetsUp: nil, targetsDown: nil,
                                             downTargets: [], error: nil),
                grafana: GrafanaStatus(mark: .notConfigured, url: nil, latencyMs: nil, database: nil, version: nil, error: nil),
                redis: RedisStatus(mark: .notConfigured, address: nil, latencyMs: nil, version: nil, dbSize: nil, litellmCacheEntries: nil,
                                   usedMemory: nil, error: nil)),
            resources: ResourcesSection(mark: .ok, totalCPUPercent: nil, totalRSSMiB: nil, gpu: NvidiaSMI.absentMessage, recent: recent),
            issues: [], architecture: [], comparison: nil)
    }

    /// Configuration errors end the command with exit code 3 (after the report is written).
    package var failureExitCode: ExitCode? { configuration.valid ? nil : .config }

    package var failureMessage: String? {
        if !configuration.valid {
            return "report: configuration invalid (\(configuration.errors) error\(configuration.errors == 1 ? "" : "s")); stack \(overall.rawValue)"
        }
        if overall == .operational { return nil }
        let top = summary.topProblems.first.map { ": \($0)" } ?? ""
        return "report: stack \(overall.rawValue), health score \(ReportFormatting.score(score))/10\(top)"
    }

    package func renderText() -> String {
        switch format {
        case .markdown: return ReportMarkdown.render(self)
        case .json: return (try? JSONValueEncoder.encode(self).serialized(pretty: true)) ?? "{}"
        case .text: return terminalText(color: false).plain
        }
    }

    package func renderTerminal() -> TerminalText? { format == .text && color ? terminalText(color: true) : nil }

    private func terminalText(color: Bool) -> TerminalText {
        var out = ReportTerminal.render(self, color: color)
        if let writtenTo { out += "report written to \(writtenTo)\n" }
        return out
    }
}
