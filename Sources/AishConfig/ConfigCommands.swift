import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// `validate`, `config show|generate|diff`.
package enum ConfigCommands {
    package static let all: [CommandSpec] = [validate, config]

    package static let configOption = OptionSpec(["--config"], .path("DIR"),
                                         help: "config directory (default: the session's, see --config of aish)")

    /// The load for this invocation: `--config DIR` given to the command, else the session's.
    package static func load(_ inv: Invocation, _ ctx: ShellContext) -> ConfigLoader.Loaded {
        if let dir = inv.value("--config") { return ConfigLoader.load(directory: dir) }
        return ctx.configLoad()
    }

    /// The config for `config show|generate|diff`: with errors the broken rules are skipped
    /// (one line says so); only a config with nothing usable stops the command.
    package static func usableConfig(_ inv: Invocation, _ ctx: ShellContext) throws -> AishConfig {
        guard inv.value("--config") != nil else { return try ctx.config() }
        let loaded = load(inv, ctx)
        if loaded.usable { return loaded.config }
        if loaded.config.providers.providers.isEmpty { throw ConfigError(findings: loaded.findings, summary: nil) }
        let n = ConfigValidator.validate(loaded, checkDrift: false).findings.errorCount
        ctx.output.writeError("aish: config has \(n) error\(n == 1 ? "" : "s") (see validate)\n")
        return loaded.config
    }

    // MARK: validate

    package static let validate = CommandSpec(
        name: "validate", aliases: ["check-config"],
        summary: "check the config files: syntax, types, references, chains, weights, limits, ports, drift",
        help: """
            Reads providers.yaml, model-mappings.yaml and ports.yaml (and compares
            litellm-unified.yaml with what `config generate` would write). Prints each finding as
            file:line:col: error|warning: message, then a summary line. Exits with code 3 when
            there is at least one error (the findings then go to stderr, as the error);
            warnings alone leave the status ok.
            """,
        options: [configOption],
        report: ReportShape(ValidateReport.self),
        run: { inv, ctx in CommandResult(report: ValidateReport(ConfigValidator.validate(load(inv, ctx)))) })

    // MARK: config show|generate|diff

    package static let config = CommandSpec(
        name: "config",
        summary: "show what aish understood of the config, generate litellm-unified.yaml, or diff it",
        help: """
            config show [providers|routes|ports]   tables of the providers, routes and ports as aish reads them
            config generate                        write litellm-unified.yaml into the config directory; the
                                                   previous file is kept as litellm-unified.yaml.bak.<UTC time>
            config diff                            unified diff of what `config generate` would change
            """,
        options: [configOption],
        // The action is the subcommand word; SECTION follows `show`.
        positionals: [PositionalSpec(name: "SECTION", help: "show: only this table", optional: true,
                                     choices: ["providers", "routes", "ports"], subcommands: ["show"])],
        subcommands: ["show", "generate", "diff"],
        report: ReportShape(ConfigShowReport.self),
        otherReports: [ReportShape(ConfigGenerateReport.self, mode: "config generate"),
                       ReportShape(ConfigDiffReport.self, mode: "config diff")],
        run: { inv, ctx in
            if inv.positionals.count > 1, inv.positionals[0] != "show" {
                throw UsageError(message: "config \(inv.positionals[0]): unexpected argument '\(inv.positionals[1])'")
            }
            switch inv.positionals[0] {
            case "show": return try show(inv, ctx)
            case "generate": return try generate(inv, ctx)
            default: return try diff(inv, ctx)
            }
        })

    package static func show(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let c = try usableConfig(inv, ctx)
        let sections = ["providers", "routes", "ports"]
        let wanted: [String]
        if inv.positionals.count > 1 {
            let s = inv.positionals[1]
            guard sections.contains(s) else {
                var message = "config show: unknown section '\(s)'"
                if let near = Suggest.closest(to: s, among: sections) { message += " (did you mean '\(near)'?)" }
                throw UsageError(message: message)
            }
            wanted = [s]
        } else {
            wanted = sections
        }
        return CommandResult(report: ConfigShowReport(config: c, sections: wanted))
    }

    package static func generate(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        // Writing the gateway's config is not read-only: a config with loading errors is refused.
        let loaded = load(inv, ctx)
        guard loaded.usable else { throw ConfigError(findings: loaded.findings, summary: nil) }
        let c = loaded.config
        let path = c.litellmPath
        let text = LiteLLMGenerator.text(c)
        let models = LiteLLMGenerator.deployments(c).count
        let fm = FileManager.default
        var backup: String?
        if let old = fm.contents(atPath: path) {
            if old == Data(text.utf8) {
                return CommandResult(report: ConfigGenerateReport(path: path, changed: false, models: models, backup: nil))
            }
            backup = try LiteLLMFile.backup(path)
        }
        try LiteLLMFile.write(text, to: path)
        return CommandResult(report: ConfigGenerateReport(path: path, changed: true, models: models, backup: backup))
    }

    package static func diff(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let c = try usableConfig(inv, ctx)
        let path = c.litellmPath
        let new = LiteLLMGenerator.text(c)
        let old = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let text = TextDiff.unified(old: old, new: new, oldName: path, newName: path + " (generated)")
        if text.isEmpty { return CommandResult(report: ConfigDiffReport(path: path, added: 0, removed: 0, diff: "")) }
        let counts = TextDiff.counts(old: old, new: new)
        return CommandResult(report: ConfigDiffReport(path: path, added: counts.added, removed: counts.removed, diff: text))
    }
}

/// Writing litellm-unified.yaml: keep the previous file, then replace atomically.
package enum LiteLLMFile {
    /// Renames the current file to `<path>.bak.<UTC yyyyMMdd'T'HHmmss'Z'>` and returns that path.
    package static func backup(_ path: String, now: Date = Date()) throws -> String {
        let stamp = UTCTime.compact(now)
        var target = path + ".bak." + stamp
        var n = 1
        while FileManager.default.fileExists(atPath: target) {
            target = path + ".bak." + stamp + "." + String(n)
            n += 1
        }
        // The bytes are copied (not the link, when the file is a symbolic link).
        guard let old = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot keep a backup of \(path) as \(target): cannot read \(path): \(String(cString: strerror(errno)))")
        }
        do {
            let file = try OutputFile(path: target, privacy: .keepMode)
            try file.write(bytes: old)
            try file.commit()
        } catch {
            throw CommandFailure("cannot keep a backup of \(path) as \(target): \(error)")
        }
        return target
    }

    package static func write(_ text: String, to path: String) throws {
        do {
            try OutputFile.write(text, to: path, privacy: .keepMode)
        } catch {
            throw CommandFailure("cannot write \(path): \(error)")
        }
    }
}

/// The tables of `config show`.
package enum ConfigShow {
    package static func providers(_ c: AishConfig) -> String {
        var t = TextTable(headers: ["PROVIDER", "TYPE", "STATUS", "BASE URL", "MODELS", "KEY FROM", "SERVICE"])
        for p in c.providers.providers {
            t.add([p.name, p.type.rawValue, p.status.rawValue, p.baseURL, p.models.map(\.name).joined(separator: ", "),
                   p.envVar.map { "$" + $0 } ?? "-", p.serviceUnit ?? "-"])
        }
        return "providers (\(c.providers.path)):\n" + t.rendered
    }

    package static func routes(_ c: AishConfig) -> String {
        let m = c.mappings
        var out = "routes (\(m.path)):\n"
        var exact = TextTable(headers: ["EXACT MATCH", "PROVIDER", "BACKEND MODEL", "FALLBACK", "LIMITS"])
        for e in m.exactMatches {
            var limits: [String] = []
            if let r = e.rateLimit?.rpm { limits.append("\(r) rpm") }
            if let t = e.rateLimit?.tpm { limits.append("\(t) tpm") }
            exact.add([e.alias, e.provider, e.targetModel, e.fallback ?? "-", limits.isEmpty ? "-" : limits.joined(separator: ", ")])
        }
        out += exact.rendered
        var patterns = TextTable(headers: ["PATTERN", "PROVIDER", "FALLBACK"])
        for p in m.patterns { patterns.add([p.pattern, p.provider, p.fallback ?? "-"]) }
        out += "\n" + patterns.rendered
        var caps = TextTable(headers: ["CAPABILITY", "STRATEGY", "TARGETS"])
        for cap in m.capabilities {
            let targets = cap.preferredModels.isEmpty ? "provider " + (cap.provider ?? "-") : cap.preferredModels.joined(separator: ", ")
            caps.add([cap.name, cap.routingStrategy ?? "-", targets])
        }
        out += "\n" + caps.rendered
        var lbs = TextTable(headers: ["LOAD BALANCED", "STRATEGY", "PROVIDERS"])
        for lb in m.loadBalancing {
            lbs.add([lb.alias, lb.strategy, lb.providers.map { "\($0.provider) \(JSONValue.format($0.weight))" }.joined(separator: ", ")])
        }
        out += "\n" + lbs.rendered
        var chains = TextTable(headers: ["FALLBACK CHAIN", "THEN"])
        for ch in m.fallbackChains + (m.defaultChain.map { [$0] } ?? []) {
            chains.add([ch.model, ch.chain.isEmpty ? "(end)" : ch.chain.joined(separator: " → ")])
        }
        out += "\n" + chains.rendered
        out += "\ndefault provider: \(m.routingRules.defaultProvider ?? "-"), default fallback: \(m.routingRules.defaultFallback ?? "-")\n"
        return out
    }

    package static func ports(_ c: AishConfig) -> String {
        var t = TextTable(headers: ["SERVICE", "PORT", "PROTOCOL", "REQUIRED", "UNIT"])
        for s in c.ports.services { t.add([s.name, String(s.port), s.proto, s.required ? "yes" : "no", s.serviceUnit ?? "-"]) }
        for s in c.ports.reserved { t.add([s.name, String(s.port), "reserved", "-", "-"]) }
        var out = "ports (\(c.ports.path)):\n" + t.rendered
        if !c.ports.ranges.isEmpty {
            out += "ranges: " + c.ports.ranges.map { "\($0.name) \($0.text)" }.joined(separator: "; ") + "\n"
        }
        return out
    }

    package static func providersJSON(_ c: AishConfig) -> JSONValue {
        .array(c.providers.providers.map { p in
            .object([("name", .string(p.name)), ("type", .string(p.type.rawValue)), ("status", .string(p.status.rawValue)),
                     ("base_url", .string(p.baseURL)), ("models", .array(p.models.map { .string($0.name) })),
                     ("env_var", p.envVar.map(JSONValue.string) ?? .null), ("service", p.serviceUnit.map(JSONValue.string) ?? .null),
                     ("rpm", p.rateLimits?.requestsPerMinute.map(JSONValue.int) ?? .null),
                     ("tpm", p.rateLimits?.tokensPerMinute.map(JSONValue.int) ?? .null),
                     ("timeouts", .object([("connect", .double(p.timeouts.connect)), ("first_token", .double(p.timeouts.firstToken)),
                                           ("idle", .double(p.timeouts.idle))]))])
        })
    }

    package static func routesJSON(_ c: AishConfig) -> JSONValue {
        let m = c.mappings
        return .object([
            ("exact_matches", .array(m.exactMatches.map { e in
                .object([("alias", .string(e.alias)), ("provider", .string(e.provider)), ("backend_model", .string(e.targetModel)),
                         ("fallback", e.fallback.map(JSONValue.string) ?? .null)])
            })),
            ("patterns", .array(m.patterns.map { p in
                .object([("pattern", .string(p.pattern)), ("provider", .string(p.provider)), ("fallback", p.fallback.map(JSONValue.string) ?? .null)])
            })),
            ("capabilities", .array(m.capabilities.map { cap in
                .object([("name", .string(cap.name)), ("strategy", cap.routingStrategy.map(JSONValue.string) ?? .null),
                         ("preferred_models", .array(cap.preferredModels.map(JSONValue.string))),
                         ("provider", cap.provider.map(JSONValue.string) ?? .null)])
            })),
            ("load_balancing", .array(m.loadBalancing.map { lb in
                .object([("alias", .string(lb.alias)), ("strategy", .string(lb.strategy)),
                         ("providers", .array(lb.providers.map { .object([("provider", .string($0.provider)), ("weight", .double($0.weight))]) }))])
            })),
            ("fallback_chains", .object((m.fallbackChains + (m.defaultChain.map { [$0] } ?? [])).map { ($0.model, .array($0.chain.map(JSONValue.string))) })),
            ("default_provider", m.routingRules.defaultProvider.map(JSONValue.string) ?? .null),
            ("default_fallback", m.routingRules.defaultFallback.map(JSONValue.string) ?? .null),
        ])
    }

    package static func portsJSON(_ c: AishConfig) -> JSONValue {
        .array((c.ports.services.map { ($0, false) } + c.ports.reserved.map { ($0, true) }).map { s, reserved in
            .object([("name", .string(s.name)), ("port", .int(s.port)), ("protocol", .string(s.proto)), ("required", .bool(s.required)),
                     ("service", s.serviceUnit.map(JSONValue.string) ?? .null), ("reserved", .bool(reserved))])
        })
    }
}
