import AishBase
import AishCommand

/// The reports of `validate` and `config show|generate|diff`.

/// What `validate` prints: the findings and the counts. With errors the command fails with
/// exit code 3 and the findings and summary are its error (stderr); `--json` is this report
/// either way.
package struct ValidateReport: CommandReport {
    package var providers: Int
    package var activeProviders: Int
    package var routes: Int
    package var chains: Int
    package var errors: Int
    package var warnings: Int
    package var findings: [ConfigFinding]
    /// "4 providers (3 active), 8 routes, …: 0 errors, 1 warning".
    package var summary: String

    package init(_ v: ConfigValidation) {
        providers = v.providerCount
        activeProviders = v.activeProviderCount
        routes = v.routeCount
        chains = v.chainCount
        errors = v.findings.errorCount
        warnings = v.findings.warningCount
        findings = v.findings
        summary = v.summary
    }

    private init(example: Void) {
        providers = 4; activeProviders = 3; routes = 8; chains = 3; errors = 0; warnings = 1
        findings = [ConfigFinding(severity: .warning, location: SourceLocation(file: "config/model-mappings.yaml", line: 21, column: 15),
                                  message: "provider 'spare' is disabled", check: .exactMatches)]
        summary = "4 providers (3 active), 8 routes, 3 fallback chains: 0 errors, 1 warning"
    }

    package enum CodingKeys: String, CodingKey {
        case providers, activeProviders = "active_providers", routes, chains, errors, warnings, findings
    }

    package static let fields = [
        ReportField("providers", "providers in providers.yaml"),
        ReportField("active_providers", "of them active"),
        ReportField("routes", "exact matches, patterns, capabilities and load-balanced aliases"),
        ReportField("chains", "fallback chains, the default chain included"),
        ReportField("errors", "findings that are errors (exit code 3)"),
        ReportField("warnings", "findings that are warnings"),
        ReportField("findings", "each finding: severity, file, line, col, message, check"),
    ]

    package static let example = ValidateReport(example: ())

    package var failureMessage: String? { errors > 0 ? ConfigError(findings: findings, summary: summary).description : nil }
    package var failureExitCode: ExitCode? { errors > 0 ? .config : nil }

    package func renderText() -> String {
        // With errors everything is in the error message (stderr), as for any failed command.
        guard errors == 0 else { return "" }
        return findings.map { $0.description + "\n" }.joined() + summary + "\n"
    }
}

/// What `config show [SECTION]` prints: the sections of the config as aish understood them.
package struct ConfigShowReport: CommandReport {
    package static let sections = ["providers", "routes", "ports"]

    package var config: AishConfig
    /// The sections shown, in the order of `sections`.
    package var shown: [String]

    package init(config: AishConfig, sections: [String]) {
        self.config = config
        shown = Self.sections.filter(sections.contains)
    }

    package enum CodingKeys: String, CodingKey { case directory, providers, routes, ports }

    package static let fields = [
        ReportField("directory", "the config directory"),
        ReportField("providers", "each provider: name, type, status, base_url, models, env_var, service, rpm, tpm, timeouts (null when not shown)"),
        ReportField("routes", "exact_matches, patterns, capabilities, load_balancing, fallback_chains, default_provider, default_fallback (null when not shown)"),
        ReportField("ports", "each entry of ports.yaml: name, port, protocol, required, service, reserved (null when not shown)"),
    ]

    package static let example: ConfigShowReport = {
        let here = SourceLocation(file: "config/model-mappings.yaml", line: 1, column: 1)
        let config = AishConfig(
            directory: "config",
            providers: ProvidersFile(path: "config/providers.yaml", providers: [], healthChecks: HealthCheckSettings()),
            mappings: ModelMappings(path: here.file, exactMatches: [], patterns: [], capabilities: [], loadBalancing: [],
                                    fallbackChains: [], defaultChain: nil,
                                    routingRules: RoutingRules(defaultProvider: nil, defaultFallback: nil, location: here),
                                    specialCases: SpecialCases()),
            ports: PortsFile(path: "config/ports.yaml", services: [], reserved: []))
        return ConfigShowReport(config: config, sections: sections)
    }()

    // Sections not asked for are null.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(config.directory, forKey: .directory)
        try c.encode(shown.contains("providers") ? ConfigShow.providersJSON(config) : .null, forKey: .providers)
        try c.encode(shown.contains("routes") ? ConfigShow.routesJSON(config) : .null, forKey: .routes)
        try c.encode(shown.contains("ports") ? ConfigShow.portsJSON(config) : .null, forKey: .ports)
    }

    package func renderText() -> String {
        shown.map { section in
            switch section {
            case "providers": return ConfigShow.providers(config)
            case "routes": return ConfigShow.routes(config)
            default: return ConfigShow.ports(config)
            }
        }.joined(separator: "\n")
    }
}

/// What `config generate` prints.
package struct ConfigGenerateReport: CommandReport {
    package var path: String
    /// False when the file already held what generation writes (nothing written).
    package var changed: Bool
    /// Deployments in model_list.
    package var models: Int
    /// Where the previous file was kept (null when nothing was written or there was no file).
    package var backup: String?

    package enum CodingKeys: String, CodingKey { case path, changed, models, backup, text }

    package static let fields = [
        ReportField("path", "the generated file"),
        ReportField("changed", "whether it was written (false: already up to date)"),
        ReportField("models", "deployments in its model_list"),
        ReportField("backup", "where the previous file was kept (null when nothing was written or there was none)"),
        ReportField("text", "the printed lines"),
    ]

    package static let example = ConfigGenerateReport(path: "config/litellm-unified.yaml", changed: true, models: 6,
                                              backup: "config/litellm-unified.yaml.bak.20261129T120000Z")

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(changed, forKey: .changed)
        try c.encode(models, forKey: .models)
        try c.encode(backup, forKey: .backup)
        try c.encode(renderText(), forKey: .text)
    }

    package func renderText() -> String {
        guard changed else { return "\(path) is up to date (\(models) models)\n" }
        var out = "wrote \(path) (\(models) models)\n"
        if let backup { out += "previous file kept as \(backup)\n" }
        return out
    }
}

/// What `config diff` prints: the unified diff, or one line saying there is none.
package struct ConfigDiffReport: CommandReport {
    package var path: String
    package var added: Int
    package var removed: Int
    /// The unified diff; empty when generation would write the same file.
    package var diff: String

    package var changed: Bool { !diff.isEmpty }

    package enum CodingKeys: String, CodingKey { case path, changed, added, removed, text }

    package static let fields = [
        ReportField("path", "the generated file"),
        ReportField("changed", "whether generation would change it"),
        ReportField("added", "lines generation would add"),
        ReportField("removed", "lines generation would remove"),
        ReportField("text", "the printed text: the unified diff, or the line saying there is none"),
    ]

    package static let example = ConfigDiffReport(path: "config/litellm-unified.yaml", added: 1, removed: 1,
                                          diff: "--- a\n+++ a (generated)\n@@ -1 +1 @@\n-x\n+y\n")

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(changed, forKey: .changed)
        try c.encode(added, forKey: .added)
        try c.encode(removed, forKey: .removed)
        try c.encode(renderText(), forKey: .text)
    }

    package func renderText() -> String { changed ? diff : "no changes: \(path) is what generation would write\n" }
}
