/// The result of `validate`: every finding in file order, and the counts for the summary.
struct ConfigValidation: Sendable {
    var config: AishConfig
    var findings: [ConfigFinding]

    var providerCount: Int { config.providers.providers.count }
    var activeProviderCount: Int { config.providers.providers.filter(\.isActive).count }
    var routeCount: Int {
        let m = config.mappings
        return m.exactMatches.count + m.patterns.count + m.capabilities.count + m.loadBalancing.count
    }
    var chainCount: Int { config.mappings.fallbackChains.count + (config.mappings.defaultChain == nil ? 0 : 1) }

    var summary: String {
        let e = findings.errorCount, w = findings.warningCount
        return "\(providerCount) providers (\(activeProviderCount) active), \(routeCount) routes, \(chainCount) fallback chains: "
            + "\(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")"
    }
}

enum ConfigValidator {
    static func validate(_ loaded: ConfigLoader.Loaded) -> ConfigValidation {
        ConfigValidation(config: loaded.config, findings: loaded.findings)
    }
}
