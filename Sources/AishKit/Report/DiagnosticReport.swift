import FoundationEssentials
import Glibc

/// An optional that is always encoded: `null` instead of a missing key, so that the
/// report's JSON has the same keys in every run (dashboards read fixed paths).
@propertyWrapper
struct Nullable<T: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: T?
    init(wrappedValue: T?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = wrappedValue { try c.encode(v) } else { try c.encodeNil() }
    }
}

/// The status mark of a section or a row.
enum ReportMark: String, Encodable, Sendable, Comparable {
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

    static func < (a: ReportMark, b: ReportMark) -> Bool { a.rank < b.rank }

    /// The worst of several marks (ok when there are none).
    static func worst(_ marks: [ReportMark]) -> ReportMark { marks.max() ?? .ok }

    var symbol: String {
        switch self {
        case .ok: return "✓"
        case .warning: return "⚠"
        case .failed: return "✗"
        case .notConfigured: return "–"
        }
    }

    var words: String {
        switch self {
        case .ok: return "ok"
        case .warning: return "warning"
        case .failed: return "failed"
        case .notConfigured: return "not configured"
        }
    }
}

/// The overall verdict.
enum OverallStatus: String, Encodable, Sendable {
    case operational, degraded, down
}

enum IssueImpact: String, Encodable, Sendable, Comparable {
    case high, medium, low

    private var rank: Int { self == .high ? 0 : (self == .medium ? 1 : 2) }
    static func < (a: IssueImpact, b: IssueImpact) -> Bool { a.rank < b.rank }
}

/// One problem found while measuring, with what to do about it.
struct ReportIssue: Encodable, Sendable, Equatable {
    var impact: IssueImpact
    var section: String
    var symptom: String
    var cause: String
    var fix: String
}

// MARK: - Sections

struct ScoreComponent: Encodable, Sendable {
    var name: String
    var weight: Double
    /// Points earned out of `weight`; null when the component does not apply (not configured, not measured).
    @Nullable var earned: Double?
    var basis: String
}

struct SummarySection: Encodable, Sendable {
    var mark: ReportMark
    var overall: OverallStatus
    var score: Double
    var providersUp: Int
    var providersActive: Int
    var servicesUp: Int
    var servicesConfigured: Int
    var topProblems: [String]
    var scoreComponents: [ScoreComponent]

    enum CodingKeys: String, CodingKey {
        case mark, overall, score, providersUp = "providers_up", providersActive = "providers_active", servicesUp = "services_up"
        case servicesConfigured = "services_configured", topProblems = "top_problems", scoreComponents = "score_components"
    }
}

struct ConfigFileStatus: Encodable, Sendable {
    var file: String
    var present: Bool
    var required: Bool
    var mark: ReportMark
    var errors: Int
    var warnings: Int
    var firstFindings: [String]

    enum CodingKeys: String, CodingKey { case file, present, required, mark, errors, warnings, firstFindings = "first_findings" }
}

struct ConfigCheck: Encodable, Sendable {
    var name: String
    var mark: ReportMark
    var findings: Int
    var firstFindings: [String]

    enum CodingKeys: String, CodingKey { case name, mark, findings, firstFindings = "first_findings" }
}

struct ConfigurationSection: Encodable, Sendable {
    var mark: ReportMark
    var directory: String
    var valid: Bool
    var errors: Int
    var warnings: Int
    var files: [ConfigFileStatus]
    var checks: [ConfigCheck]
    var providers: Int
    var activeProviders: Int
    var routes: Int
    var chains: Int
    var gatewayModels: Int
    /// Backups `config generate` kept (file names, newest first).
    var backups: [String]

    enum CodingKeys: String, CodingKey {
        case mark, directory, valid, errors, warnings, files, checks, providers, activeProviders = "active_providers", routes, chains
        case gatewayModels = "gateway_models", backups
    }
}

struct ProviderRow: Encodable, Sendable {
    var name: String
    var type: String
    var configStatus: String
    var mark: ReportMark
    /// up, down, not probed
    var state: String
    var url: String
    @Nullable var port: Int?
    @Nullable var latencyMs: Double?
    @Nullable var modelsServed: Int?
    var declared: [String]
    var served: [String]
    var missing: [String]
    var unexpected: [String]
    @Nullable var cpuPercent: Double?
    @Nullable var rssMiB: Double?
    @Nullable var gpuMiB: Int?
    @Nullable var error: String?
    @Nullable var note: String?

    enum CodingKeys: String, CodingKey {
        case name, type, configStatus = "config_status", mark, state, url, port, latencyMs = "latency_ms"
        case modelsServed = "models_served", declared, served, missing, unexpected, cpuPercent = "cpu_percent"
        case rssMiB = "rss_mib", gpuMiB = "gpu_mib", error, note
    }
}

struct ServiceRow: Encodable, Sendable {
    var name: String
    var port: Int
    var required: Bool
    /// up, unhealthy, down
    var state: String
    var mark: ReportMark
    @Nullable var pid: Int?
    @Nullable var unit: String?
    @Nullable var cpuPercent: Double?
    @Nullable var rssMiB: Double?
    @Nullable var gpuMiB: Int?
    @Nullable var error: String?

    enum CodingKeys: String, CodingKey {
        case name, port, required, state, mark, pid, unit, cpuPercent = "cpu_percent", rssMiB = "rss_mib", gpuMiB = "gpu_mib", error
    }
}

struct ProvidersSection: Encodable, Sendable {
    var mark: ReportMark
    var up: Int
    var active: Int
    var providers: [ProviderRow]
    var services: [ServiceRow]
    var gpu: String

    enum CodingKeys: String, CodingKey { case mark, up, active, providers, services, gpu }
}

struct GatewayDeployment: Encodable, Sendable {
    var modelName: String
    var model: String
    @Nullable var apiBase: String?
    @Nullable var provider: String?
    var gatewayHealthy: Bool
    @Nullable var gatewayError: String?
    /// aish's own probe of the same backend: up, down, not probed.
    var aishProbe: String
    @Nullable var aishLatencyMs: Double?
    var agree: Bool
    var mark: ReportMark

    enum CodingKeys: String, CodingKey {
        case modelName = "model_name", model, apiBase = "api_base", provider, gatewayHealthy = "gateway_healthy"
        case gatewayError = "gateway_error", aishProbe = "aish_probe", aishLatencyMs = "aish_latency_ms", agree, mark
    }
}

struct GatewaySection: Encodable, Sendable {
    var mark: ReportMark
    @Nullable var provider: String?
    @Nullable var url: String?
    @Nullable var httpStatus: Int?
    @Nullable var latencyMs: Double?
    var healthy: Int
    var unhealthy: Int
    var deployments: [GatewayDeployment]
    @Nullable var error: String?
    @Nullable var note: String?
    /// The gateway's processes (replicas) and the deployments cooling down in its Redis
    /// (`status`'s gateway_cooldowns); null when not read.
    @Nullable var live: JSONValue? = nil
    /// Model groups whose only deployment LiteLLM never cools down (GatewayCooldownRule).
    var neverCooledDown: [String] = []

    enum CodingKeys: String, CodingKey {
        case mark, provider, url, httpStatus = "http_status", latencyMs = "latency_ms", healthy, unhealthy, deployments, error, note
        case live, neverCooledDown = "never_cooled_down"
    }
}

struct RouteRequest: Encodable, Sendable {
    var group: String
    /// gateway or direct
    var path: String
    var mark: ReportMark
    var ok: Bool
    @Nullable var provider: String?
    @Nullable var backendModel: String?
    @Nullable var ttftMs: Double?
    @Nullable var totalMs: Double?
    var fallback: Bool
    @Nullable var fallbackFrom: String?
    var attempts: Int
    @Nullable var error: String?
    /// Sent, then cut short by the report's end (its timeout or Ctrl-C): not answered, and
    /// not the backend's failure either.
    var cancelled: Bool = false
    /// Answered from a LiteLLM gateway's response cache (null: no gateway on the way). The
    /// report asks the gateway not to use its cache unless `--cache`.
    @Nullable var cacheHit: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case group, path, mark, ok, provider, backendModel = "backend_model", ttftMs = "ttft_ms", totalMs = "total_ms", fallback
        case fallbackFrom = "fallback_from", attempts, error, cancelled, cacheHit = "cache_hit"
    }
}

struct ChainRow: Encodable, Sendable {
    var model: String
    /// The attempt plan aish would use now: "provider/backend_model" in order.
    var plan: [String]
    /// The fallback_chains entry as configured (empty when the name has none).
    var chain: [String]
}

struct RoutingSection: Encodable, Sendable {
    var mark: ReportMark
    var requestsSent: Bool
    @Nullable var note: String?
    var requests: [RouteRequest]
    var chains: [ChainRow]
    /// Every planned request was sent and answered or failed (none cut short, none left out).
    var complete: Bool = true
    /// Requests planned (one per route group and path) and never sent: the report's timeout
    /// came first.
    var notRun: Int = 0
    /// Requests sent and cut short by the timeout (rows of `requests` with `cancelled`).
    var cancelled: Int = 0

    enum CodingKeys: String, CodingKey {
        case mark, requestsSent = "requests_sent", note, requests, chains, complete, notRun = "not_run", cancelled
    }
}

struct PrometheusStatus: Encodable, Sendable {
    var mark: ReportMark
    @Nullable var url: String?
    @Nullable var healthy: Bool?
    @Nullable var latencyMs: Double?
    @Nullable var targetsUp: Int?
    @Nullable var targetsDown: Int?
    var downTargets: [String]
    @Nullable var error: String?

    enum CodingKeys: String, CodingKey {
        case mark, url, healthy, latencyMs = "latency_ms", targetsUp = "targets_up", targetsDown = "targets_down"
        case downTargets = "down_targets", error
    }
}

struct GrafanaStatus: Encodable, Sendable {
    var mark: ReportMark
    @Nullable var url: String?
    @Nullable var latencyMs: Double?
    @Nullable var database: String?
    @Nullable var version: String?
    @Nullable var error: String?

    enum CodingKeys: String, CodingKey { case mark, url, latencyMs = "latency_ms", database, version, error }
}

struct RedisStatus: Encodable, Sendable {
    var mark: ReportMark
    @Nullable var address: String?
    @Nullable var latencyMs: Double?
    @Nullable var version: String?
    /// DBSIZE: keys in the database.
    @Nullable var dbSize: Int?
    @Nullable var litellmCacheEntries: Int?
    @Nullable var usedMemory: String?
    @Nullable var error: String?

    enum CodingKeys: String, CodingKey {
        case mark, address, latencyMs = "latency_ms", version, dbSize = "dbsize", litellmCacheEntries = "litellm_cache_entries"
        case usedMemory = "used_memory", error
    }
}

struct MonitoringSection: Encodable, Sendable {
    var mark: ReportMark
    var configured: Int
    var up: Int
    var prometheus: PrometheusStatus
    var grafana: GrafanaStatus
    var redis: RedisStatus
}

struct RecentFigures: Encodable, Sendable {
    var windowSeconds: Int
    var available: Bool
    @Nullable var note: String?
    var requests: Int
    var errors: Int
    var errorRate: Double
    @Nullable var ttftP50Ms: Double?
    @Nullable var ttftP99Ms: Double?
    @Nullable var latencyP50Ms: Double?
    @Nullable var latencyP99Ms: Double?
    var byProvider: [ProviderFigures]

    enum CodingKeys: String, CodingKey {
        case windowSeconds = "window_s", available, note, requests, errors, errorRate = "error_rate"
        case ttftP50Ms = "ttft_p50_ms", ttftP99Ms = "ttft_p99_ms", latencyP50Ms = "latency_p50_ms", latencyP99Ms = "latency_p99_ms"
        case byProvider = "by_provider"
    }
}

struct ProviderFigures: Encodable, Sendable {
    var provider: String
    var requests: Int
    var errorRate: Double
    @Nullable var ttftP50Ms: Double?
    @Nullable var latencyP50Ms: Double?
    @Nullable var latencyP99Ms: Double?

    enum CodingKeys: String, CodingKey {
        case provider, requests, errorRate = "error_rate", ttftP50Ms = "ttft_p50_ms", latencyP50Ms = "latency_p50_ms"
        case latencyP99Ms = "latency_p99_ms"
    }
}

struct ResourcesSection: Encodable, Sendable {
    var mark: ReportMark
    @Nullable var totalCPUPercent: Double?
    @Nullable var totalRSSMiB: Double?
    var gpu: String
    var recent: RecentFigures

    enum CodingKeys: String, CodingKey { case mark, totalCPUPercent = "total_cpu_percent", totalRSSMiB = "total_rss_mib", gpu, recent }
}

struct ReportChange: Encodable, Sendable {
    var what: String
    var before: String
    var after: String
}

struct ReportComparison: Encodable, Sendable {
    var baseRun: Int
    var baseGeneratedAt: String
    var changes: [ReportChange]
    var newIssues: [String]
    var resolvedIssues: [String]

    enum CodingKeys: String, CodingKey {
        case baseRun = "base_run", baseGeneratedAt = "base_generated_at", changes, newIssues = "new_issues", resolvedIssues = "resolved_issues"
    }
}

/// How the report is written: Markdown, JSON, or the compact terminal form.
enum ReportFormat: String, Sendable {
    case markdown = "md", json, text
}

// MARK: - The report

/// `report`: the whole stack measured now, as one document.
struct DiagnosticReport: CommandReport {
    var generatedAt: String
    var host: String
    var aishVersion: String
    var durationMs: Double
    var timeoutSeconds: Double
    @Nullable var run: Int?
    var overall: OverallStatus
    var score: Double
    var providersUp: Int
    var providersActive: Int
    var servicesUp: Int
    var servicesConfigured: Int
    var summary: SummarySection
    var configuration: ConfigurationSection
    var providers: ProvidersSection
    var gateway: GatewaySection
    var routing: RoutingSection
    var monitoring: MonitoringSection
    var resources: ResourcesSection
    var issues: [ReportIssue]
    var architecture: [String]
    @Nullable var comparison: ReportComparison?

    // How it is printed; not part of the data.
    var format: ReportFormat = .markdown
    var color: Bool = false
    var writtenTo: String? = nil

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at", host, aishVersion = "aish_version", durationMs = "duration_ms", timeoutSeconds = "timeout_s"
        case run, overall, score, providersUp = "providers_up", providersActive = "providers_active", servicesUp = "services_up"
        case servicesConfigured = "services_configured", summary, configuration, providers, gateway, routing, monitoring, resources
        case issues, architecture, comparison
    }

    static let fields: [ReportField] = [
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

    static var example: DiagnosticReport {
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
    var failureExitCode: ExitCode? { configuration.valid ? nil : .config }

    var failureMessage: String? {
        if !configuration.valid {
            return "report: configuration invalid (\(configuration.errors) error\(configuration.errors == 1 ? "" : "s")); stack \(overall.rawValue)"
        }
        if overall == .operational { return nil }
        let top = summary.topProblems.first.map { ": \($0)" } ?? ""
        return "report: stack \(overall.rawValue), health score \(ReportFormatting.score(score))/10\(top)"
    }

    func renderText() -> String {
        switch format {
        case .markdown: return ReportMarkdown.render(self)
        case .json: return (try? JSONValueEncoder.encode(self).serialized(pretty: true)) ?? "{}"
        case .text: return terminalText(color: false).plain
        }
    }

    func renderTerminal() -> TerminalText? { format == .text && color ? terminalText(color: true) : nil }

    private func terminalText(color: Bool) -> TerminalText {
        var out = ReportTerminal.render(self, color: color)
        if let writtenTo { out += "report written to \(writtenTo)\n" }
        return out
    }
}
