import AishBase

/// The checks of `validate`, in the order they run: the `check` field of each finding.
package enum ValidationCheck: String, Sendable, CaseIterable {
    case syntax, schema, providers
    case exactMatches = "exact_matches"
    case patterns, capabilities
    case loadBalancing = "load_balancing"
    case fallbackChains = "fallback_chains"
    case routingRules = "routing_rules"
    case unroutedModels = "unrouted_models"
    case ports, drift
    /// Model groups whose only deployment the LiteLLM gateway never cools down.
    case gatewayCooldown = "gateway_cooldown"
}

/// One problem found while loading or validating the configuration, printed as
/// `file:line:col: error|warning: message` (just `file: …` when no position applies).
package struct ConfigFinding: Sendable, Equatable, CustomStringConvertible, Encodable {
    package enum Severity: String, Sendable { case error, warning }

    /// A name that points at nothing, or at the wrong kind of thing: what `report` counts
    /// under "routes name existing providers" and "backend models exist".
    package enum BrokenReference: Sendable, Equatable { case provider, model }

    package var severity: Severity
    package var location: SourceLocation
    package var message: String
    /// Which check found it; nil until the loader's findings are sorted into syntax and schema.
    package var check: ValidationCheck?
    package var brokenReference: BrokenReference?

    package init(severity: Severity, location: SourceLocation, message: String, check: ValidationCheck? = nil,
         brokenReference: BrokenReference? = nil) {
        self.severity = severity
        self.location = location
        self.message = message
        self.check = check
        self.brokenReference = brokenReference
    }

    package static func == (a: ConfigFinding, b: ConfigFinding) -> Bool {
        a.severity == b.severity && a.location == b.location && a.message == b.message
    }

    package var description: String {
        let place = location.line > 0 ? location.description : location.file
        return "\(place): \(severity.rawValue): \(message)"
    }

    private enum CodingKeys: String, CodingKey { case severity, file, line, col, message, check }

    /// `validate --json`'s finding: the column is `col` (once; it was also `column`).
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(severity.rawValue, forKey: .severity)
        try c.encode(location.file, forKey: .file)
        try c.encode(location.line, forKey: .line)
        try c.encode(location.column, forKey: .col)
        try c.encode(message, forKey: .message)
        try c.encode((check ?? .schema).rawValue, forKey: .check)
    }
}

extension Array where Element == ConfigFinding {
    package var errorCount: Int { reduce(0) { $0 + ($1.severity == .error ? 1 : 0) } }
    package var warningCount: Int { reduce(0) { $0 + ($1.severity == .warning ? 1 : 0) } }
    package var hasErrors: Bool { contains(where: { $0.severity == .error }) }
}

/// The configuration cannot be used (or `validate` found errors): exit code 3.
package struct ConfigError: UserFacingError {
    package var findings: [ConfigFinding]
    /// Printed after the findings (validate's summary line); nil for loading errors.
    package var summary: String?

    package var exitCode: ExitCode { .config }

    package var description: String {
        var lines: [String] = []
        if summary == nil {
            let n = findings.errorCount
            lines.append("configuration invalid (\(n) error\(n == 1 ? "" : "s")):")
            lines.append(contentsOf: findings.filter { $0.severity == .error }.map(\.description))
        } else {
            lines.append("configuration invalid:")
            lines.append(contentsOf: findings.map(\.description))
        }
        if let summary { lines.append(summary) }
        return lines.joined(separator: "\n")
    }
}
