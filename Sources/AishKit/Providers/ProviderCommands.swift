import FoundationEssentials
import Dispatch
import Glibc

enum ProviderCommands {
    static let all: [CommandSpec] = [providers, health, models, ports, wait]

    /// Configured provider names, for completion.
    @Sendable static func providerNames(_ ctx: ShellContext) -> [String] {
        (try? ctx.config())?.providers.providers.map(\.name) ?? []
    }

    // MARK: providers

    static let providers = CommandSpec(
        name: "providers",
        usage: "providers [--timeout S]",
        summary: "list providers: type, status, URL, up/down, latency, models served",
        help: """
            Probes every active provider at once (its health_endpoint, else the usual one for
            its type) and counts the models it serves (/v1/models, or /api/tags for Ollama).
            Disabled and template providers are listed but not probed; so are providers whose
            API key variable is not set. The probe timeout is health_checks.timeout_seconds
            from providers.yaml (5 s when unset) unless --timeout is given.
            Fields for expect: up, down, not_probed, total, latency (slowest answer, ms).
            """,
        options: [OptionSpec(names: ["-t", "--timeout"], valueName: "S", help: "probe timeout (e.g. 2s, 500ms)")],
        run: { inv, ctx in
            let config = try ctx.config()
            let timeout = try inv.duration("--timeout", default: config.providers.healthChecks.timeoutSeconds)
            let all = config.providers.providers
            var skipReason: [String?] = all.map { notProbedReason($0, environment: ctx.environment) }
            let probeIndices = all.indices.filter { skipReason[$0] == nil }
            let probed = probeIndices.map { all[$0] }
            let health = ProviderProbes.health(probed, environment: ctx.environment, timeout: timeout, interrupt: ctx.interrupt)
            if ctx.interrupt.isRaised { throw CommandFailure("providers: interrupted") }
            // Count models where the health answer was not already a model list.
            var served: [String: [String]] = [:]
            var needListing: [ProviderConfig] = []
            for (p, h) in zip(probed, health) {
                if let m = h.models { served[p.name] = m } else if h.ok, ProviderProbes.modelsURL(p) != nil { needListing.append(p) }
            }
            for l in ProviderProbes.listModels(needListing, environment: ctx.environment, timeout: timeout, interrupt: ctx.interrupt) {
                if let m = l.models { served[l.provider] = m }
            }
            var outcomes: [String: ProbeOutcome] = [:]
            for h in health { outcomes[h.provider] = h }

            var table = TextTable(headers: ["NAME", "TYPE", "STATUS", "URL", "UP", "LATENCY", "MODELS", "NOTE"])
            var rows: [JSONValue] = []
            var up = 0, down = 0, notProbed = 0
            var slowest: Double?
            for (i, p) in all.enumerated() {
                let o = outcomes[p.name]
                if o == nil && skipReason[i] == nil { skipReason[i] = "not probed" }
                let upText: String
                if let o {
                    if o.ok { up += 1; slowest = max(slowest ?? 0, o.latencyMs ?? 0) } else { down += 1 }
                    upText = o.ok ? "up" : "down"
                } else {
                    notProbed += 1
                    upText = "-"
                }
                let count = served[p.name]
                table.add([p.name, p.type.rawValue, p.status.rawValue, URLRedaction.redact(p.baseURL), upText,
                           o?.ok == true ? DurationText.milliseconds(o?.latencyMs) : "-", count.map { String($0.count) } ?? "-",
                           skipReason[i] ?? (o?.ok == false ? shortError(o!) : "")])
                rows.append(.object([
                    ("name", .string(p.name)), ("type", .string(p.type.rawValue)), ("status", .string(p.status.rawValue)),
                    ("url", .string(URLRedaction.redact(p.baseURL))), ("probed", .bool(o != nil)),
                    ("up", o.map { .bool($0.ok) } ?? .null), ("http_status", o?.httpStatus.map { .int($0) } ?? .null),
                    ("latency_ms", o?.latencyMs.map { .double(round3($0)) } ?? .null),
                    ("models_served", count.map { .int($0.count) } ?? .null), ("models_declared", .int(p.models.count)),
                    ("error", o?.error.map { .string($0) } ?? .null), ("note", skipReason[i].map { .string($0) } ?? .null),
                ]))
            }
            let summary = "\(up) up, \(down) down, \(notProbed) not probed"
            var fields: [(String, JSONValue)] = [("up", .int(up)), ("down", .int(down)), ("not_probed", .int(notProbed)),
                                                 ("total", .int(all.count))]
            if let slowest { fields.append(("latency", .double(round3(slowest)))) }
            let data = JSONValue.object([("status", "ok")] + fields + [("providers", .array(rows))])
            return .ok(table.rendered + summary + "\n", fields: fields, data: data)
        })

    /// Why a provider is not probed, or nil when it is.
    static func notProbedReason(_ p: ProviderConfig, environment: [String: String]) -> String? {
        if p.status != .active { return "not probed (\(p.status.rawValue))" }
        do {
            _ = try ProviderAuth.resolve(p, environment: environment)
        } catch {
            if let v = p.envVar, !v.isEmpty { return "not probed: API key variable \(v) is not set" }
            return "not probed: needs an API key but names no env_var"
        }
        return nil
    }

    // MARK: health

    static let health = CommandSpec(
        name: "health",
        usage: "health [PROVIDER...] [--generate] [--timeout S]",
        summary: "probe providers' health endpoints (and --generate: a 1-token completion)",
        help: """
            GETs each provider's health_endpoint (else the usual one for its type: /api/version
            for Ollama, /health for vLLM, /health/liveliness for LiteLLM, /v1/models otherwise)
            — all providers at once. A 2xx answer is healthy. With no PROVIDER every active
            provider is probed; a named provider is probed whatever its status.
            --generate also asks each provider's first declared model for a 1-token completion,
            proving the model really answers (its timeout is the provider's first_token timeout
            unless --timeout is given).
            Each probe is recorded in the session log. The command fails (exit 1 in scripts)
            when any probed provider is unhealthy.
            Fields for expect: up, down, latency (slowest probe, ms), provider and http_status
            when one provider is probed.
            """,
        options: [
            OptionSpec(names: ["-g", "--generate"], valueName: nil, help: "also run a 1-token completion"),
            OptionSpec(names: ["-t", "--timeout"], valueName: "S", help: "probe timeout (e.g. 2s, 500ms)"),
        ],
        positionals: [PositionalSpec(name: "PROVIDER", help: "provider name", optional: true, variadic: true,
                                     completion: .dynamic(ProviderCommands.providerNames))],
        run: { inv, ctx in
            let config = try ctx.config()
            let timeout = try inv.duration("--timeout", default: config.providers.healthChecks.timeoutSeconds)
            let explicitTimeout = inv.value("--timeout") != nil
            let named = try select(inv.positionals, in: config, command: "health")
            // Without names: providers that are not active, or whose API key is not set, are
            // listed but not probed (a missing cloud key must not fail every CI health check).
            var skipped: [(ProviderConfig, String)] = []
            if inv.positionals.isEmpty {
                skipped = config.providers.providers.compactMap { p in notProbedReason(p, environment: ctx.environment).map { (p, $0) } }
            }
            let targets = inv.positionals.isEmpty ? named.filter { p in !skipped.contains { $0.0.name == p.name } } : named
            var probes = ProviderProbes.health(targets, environment: ctx.environment, timeout: timeout, interrupt: ctx.interrupt)
            var kinds = probes.map { _ in "health" }
            if inv.flag("--generate") && !ctx.interrupt.isRaised {
                let longest = explicitTimeout ? timeout : (targets.map(\.timeouts.firstToken).max() ?? 60)
                let gen = ProviderProbes.generate(targets, models: targets.map { _ in nil }, environment: ctx.environment,
                                                  timeout: longest, interrupt: ctx.interrupt)
                // Interleave so that each provider's two lines sit together.
                var merged: [ProbeOutcome] = []
                var mergedKinds: [String] = []
                for (h, g) in zip(probes, gen) {
                    merged += [h, g]
                    mergedKinds += ["health", "generate" + (g.model.map { " \($0)" } ?? "")]
                }
                probes = merged
                kinds = mergedKinds
            }
            if ctx.interrupt.isRaised { throw CommandFailure("health: interrupted") }
            let now = Date()
            for o in probes {
                ctx.recorder?.recordHealthProbe(HealthProbeRecord(provider: o.provider, url: o.url, ok: o.ok, httpStatus: o.httpStatus,
                                                                  latencyMs: o.latencyMs, error: o.error, probedAt: now))
            }
            var table = TextTable(headers: ["PROVIDER", "CHECK", "URL", "HTTP", "LATENCY", "RESULT"])
            var rows: [JSONValue] = []
            for (o, kind) in zip(probes, kinds) {
                var result = o.ok ? "ok" : shortError(o)
                if o.ok, let reply = o.reply { result += " (reply: \(JSONValue.string(reply).serialized()))" }
                table.add([o.provider, kind, o.url, o.httpStatus.map(String.init) ?? "-", DurationText.milliseconds(o.latencyMs), result])
                rows.append(.object([
                    ("provider", .string(o.provider)), ("check", .string(kind.hasPrefix("generate") ? "generate" : "health")),
                    ("url", .string(o.url)), ("ok", .bool(o.ok)), ("http_status", o.httpStatus.map { .int($0) } ?? .null),
                    ("latency_ms", o.latencyMs.map { .double(round3($0)) } ?? .null), ("error", o.error.map { .string($0) } ?? .null),
                    ("model", o.model.map { .string($0) } ?? .null), ("reply", o.reply.map { .string($0) } ?? .null),
                ]))
            }
            for (p, reason) in skipped { table.add([p.name, "-", URLRedaction.redact(p.baseURL), "-", "-", reason]) }
            let unhealthy = Array(Set(probes.filter { !$0.ok }.map(\.provider))).sorted()
            let up = targets.count - unhealthy.count
            var fields: [(String, JSONValue)] = [("up", .int(up)), ("down", .int(unhealthy.count))]
            if let slowest = probes.compactMap(\.latencyMs).max() { fields.append(("latency", .double(round3(slowest)))) }
            if targets.count == 1 {
                fields.append(("provider", .string(targets[0].name)))
                if let s = probes.first?.httpStatus { fields.append(("http_status", .int(s))) }
            }
            let summary = unhealthy.isEmpty ? "\(up) of \(targets.count) healthy"
                : "\(unhealthy.count) of \(targets.count) unhealthy: \(unhealthy.joined(separator: ", "))"
            let data = JSONValue.object([("status", .string(unhealthy.isEmpty ? "ok" : "error"))] + fields
                + [("probes", .array(rows)), ("skipped", .array(skipped.map { .object([("provider", .string($0.0.name)), ("reason", .string($0.1))]) }))])
            let text = table.rendered + summary + "\n"
            if unhealthy.isEmpty { return .ok(text, fields: fields, data: data) }
            return .failure("health: \(summary)", text: text, fields: fields, data: data)
        })

    // MARK: models

    static let models = CommandSpec(
        name: "models",
        usage: "models [PROVIDER] [--timeout S]",
        summary: "models each provider really serves next to what the config declares",
        help: """
            Asks each active provider (or the one named; providers whose API key variable is
            not set are skipped unless named) for its models — /v1/models, or
            /api/tags for Ollama, whose /api/ps also marks the models loaded in memory — and
            compares with providers.yaml: a declared model the provider does not serve is
            marked 'missing', a served model the config does not declare 'unexpected'. An Ollama
            name without a tag matches ':latest'.
            Fields for expect: declared, served, missing, unexpected, unreachable.
            """,
        options: [OptionSpec(names: ["-t", "--timeout"], valueName: "S", help: "request timeout (e.g. 2s)")],
        positionals: [PositionalSpec(name: "PROVIDER", help: "provider name", optional: true,
                                     completion: .dynamic(ProviderCommands.providerNames))],
        run: { inv, ctx in
            let config = try ctx.config()
            let timeout = try inv.duration("--timeout", default: config.providers.healthChecks.timeoutSeconds)
            var targets = try select(inv.positionals, in: config, command: "models")
            var skipped: [(ProviderConfig, String)] = []
            if inv.positionals.isEmpty {
                skipped = config.providers.providers.compactMap { p in notProbedReason(p, environment: ctx.environment).map { (p, $0) } }
                targets = targets.filter { p in !skipped.contains { $0.0.name == p.name } }
            }
            let listings = ProviderProbes.listModels(targets, environment: ctx.environment, timeout: timeout, interrupt: ctx.interrupt)
            if ctx.interrupt.isRaised { throw CommandFailure("models: interrupted") }
            var table = TextTable(headers: ["PROVIDER", "MODEL", "DECLARED", "SERVED", "NOTE"])
            var groups: [JSONValue] = []
            var declaredCount = 0, servedCount = 0, missing = 0, unexpected = 0
            var unreachable: [String] = []
            for (p, listing) in zip(targets, listings) {
                let declared = p.models.map(\.name)
                declaredCount += declared.count
                guard let served = listing.models else {
                    unreachable.append(p.name)
                    let why = shortError(listing)
                    if declared.isEmpty { table.add([p.name, "-", "-", "?", why]) }
                    for (k, d) in declared.enumerated() { table.add([p.name, d, "yes", "?", k == 0 ? why : ""]) }
                    groups.append(.object([("provider", .string(p.name)), ("ok", false), ("error", .string(listing.error ?? "failed")),
                                           ("declared", .array(declared.map { .string($0) })), ("models", .array([]))]))
                    continue
                }
                servedCount += served.count
                var loaded: Set<String> = []
                if p.type == .ollama {
                    let ps = ProviderProbes.ollamaRunning(p, environment: ctx.environment, timeout: timeout, interrupt: ctx.interrupt)
                    loaded = Set(ps.models ?? [])
                }
                let comparison = ModelComparison(declared: declared, served: served, ollama: p.type == .ollama)
                var entries: [JSONValue] = []
                for row in comparison.rows {
                    var note = row.declared && !row.served ? "missing" : (!row.declared && row.served ? "unexpected" : "")
                    if row.declared && !row.served { missing += 1 }
                    if !row.declared && row.served { unexpected += 1 }
                    let isLoaded = row.servedName.map { loaded.contains($0) } ?? false
                    if isLoaded { note += note.isEmpty ? "loaded" : ", loaded" }
                    table.add([p.name, row.name, row.declared ? "yes" : "no", row.served ? "yes" : "no", note])
                    entries.append(.object([("name", .string(row.name)), ("declared", .bool(row.declared)), ("served", .bool(row.served)),
                                            ("missing", .bool(row.declared && !row.served)),
                                            ("unexpected", .bool(!row.declared && row.served)), ("loaded", .bool(isLoaded))]))
                }
                if comparison.rows.isEmpty { table.add([p.name, "-", "-", "-", "declares and serves no models"]) }
                groups.append(.object([("provider", .string(p.name)), ("ok", true), ("url", .string(listing.url)),
                                       ("models", .array(entries))]))
            }
            for (p, reason) in skipped { table.add([p.name, "-", "-", "-", reason]) }
            let fields: [(String, JSONValue)] = [("declared", .int(declaredCount)), ("served", .int(servedCount)),
                                                 ("missing", .int(missing)), ("unexpected", .int(unexpected)),
                                                 ("unreachable", .int(unreachable.count))]
            var summary = "\(servedCount) served, \(declaredCount) declared, \(missing) missing, \(unexpected) unexpected"
            if !unreachable.isEmpty { summary += "; could not list: \(unreachable.joined(separator: ", "))" }
            let data = JSONValue.object([("status", .string(unreachable.isEmpty ? "ok" : "error"))] + fields + [("providers", .array(groups)),
                ("skipped", .array(skipped.map { .object([("provider", .string($0.0.name)), ("reason", .string($0.1))]) }))])
            let text = table.rendered + summary + "\n"
            if unreachable.isEmpty { return .ok(text, fields: fields, data: data) }
            return .failure("models: could not list the models of \(unreachable.joined(separator: ", "))", text: text, fields: fields, data: data)
        })

    // MARK: ports

    static let ports = CommandSpec(
        name: "ports",
        usage: "ports [--timeout S]",
        summary: "the port registry (ports.yaml): which ports are listening, conflicts",
        help: """
            Lists every service and reserved port of ports.yaml, checks which are listening on
            127.0.0.1 (a TCP connect with a short timeout, all at once) and marks conflicts:
            one port registered twice, a port out of range, a required service not listening,
            a reserved port in use, and local providers whose port the registry does not list.
            """,
        options: [OptionSpec(names: ["-t", "--timeout"], valueName: "S", help: "connect timeout (default 300ms)")],
        report: ReportShape(PortsReport.self),
        run: { inv, ctx in
            let config = try ctx.config()
            let timeout = try inv.duration("--timeout", default: 0.3)
            let report = PortReport(config: config, timeout: timeout, interrupt: ctx.interrupt)
            if ctx.interrupt.isRaised { throw CommandFailure("ports: interrupted") }
            return CommandResult(report: report.report)
        })

    // MARK: wait

    static let wait = CommandSpec(
        name: "wait",
        usage: "wait PROVIDER [--timeout S] [--interval S]",
        summary: "block until a provider is healthy (for CI scripts)",
        help: """
            Probes PROVIDER's health endpoint every --interval (default 1s) until it answers
            2xx, then returns. Fails (exit 1 in scripts) when --timeout (default 60s) passes
            first, saying what the last probe saw. Ctrl-C stops waiting. A provider that cannot
            become healthy by waiting (disabled, a template, its API key variable not set) fails
            at once with the reason.
            Fields for expect: waited (ms), probes, latency (of the successful probe, ms).
            """,
        options: [
            OptionSpec(names: ["-t", "--timeout"], valueName: "S", help: "give up after S (default 60s)"),
            OptionSpec(names: ["-i", "--interval"], valueName: "S", help: "time between probes (default 1s)"),
        ],
        positionals: [PositionalSpec(name: "PROVIDER", help: "provider name", completion: .dynamic(ProviderCommands.providerNames))],
        run: { inv, ctx in
            let config = try ctx.config()
            let provider = try select(inv.positionals, in: config, command: "wait")[0]
            // What waiting cannot heal fails at once, with the reason (issue 16.5).
            if !provider.isActive {
                throw CommandFailure("wait: provider '\(provider.name)' has status \(provider.status.rawValue) in \(config.providers.path), so it never becomes healthy (set status: active to use it)")
            }
            do {
                _ = try ProviderAuth.resolve(provider, environment: ctx.environment)
            } catch let e as ProviderError where e.kind == .missingAPIKey {
                throw CommandFailure("wait: \(e.message); waiting would not change that")
            }
            let limit = try inv.duration("--timeout", default: 60)
            let interval = max(0.05, try inv.duration("--interval", default: 1))
            let started = MonotonicClock.now()
            var probes = 0
            var last: ProbeOutcome?
            while true {
                let left = limit - (MonotonicClock.now() - started)
                let probeTimeout = max(0.1, min(config.providers.healthChecks.timeoutSeconds, left))
                let o = ProviderProbes.health([provider], environment: ctx.environment, timeout: probeTimeout, interrupt: ctx.interrupt)[0]
                probes += 1
                last = o
                if ctx.interrupt.isRaised { throw CommandFailure("wait: interrupted while waiting for '\(provider.name)'") }
                let waited = MonotonicClock.now() - started
                if o.ok {
                    ctx.recorder?.recordHealthProbe(HealthProbeRecord(provider: o.provider, url: o.url, ok: true, httpStatus: o.httpStatus,
                                                                      latencyMs: o.latencyMs, error: nil, probedAt: Date()))
                    let fields: [(String, JSONValue)] = [("provider", .string(provider.name)), ("waited", .double(round3(waited * 1000))),
                                                         ("probes", .int(probes)), ("latency", .double(round3(o.latencyMs ?? 0)))]
                    return .ok("\(provider.name) is healthy (after \(DurationText.milliseconds(waited * 1000)), \(probes) probe\(probes == 1 ? "" : "s"))\n",
                               fields: fields)
                }
                let remaining = limit - waited
                if remaining <= 0 { break }
                if !ctx.sleep(seconds: min(interval, remaining)) {
                    throw CommandFailure("wait: interrupted while waiting for '\(provider.name)'")
                }
                if MonotonicClock.now() - started >= limit { break }
            }
            if let last {
                ctx.recorder?.recordHealthProbe(HealthProbeRecord(provider: last.provider, url: last.url, ok: false, httpStatus: last.httpStatus,
                                                                  latencyMs: last.latencyMs, error: last.error, probedAt: Date()))
            }
            throw CommandFailure("wait: provider '\(provider.name)' is not healthy after \(DurationText.seconds(limit)) (\(probes) probe\(probes == 1 ? "" : "s"); last: \(last?.error ?? "no answer"))")
        })

    // MARK: helpers

    /// The named providers (any status), or every active one when no name is given.
    static func select(_ names: [String], in config: AishConfig, command: String) throws -> [ProviderConfig] {
        if names.isEmpty { return config.providers.providers.filter(\.isActive) }
        let known = config.providers.providers.map(\.name)
        return try names.map { name in
            if let p = config.provider(named: name) { return p }
            var message = "\(command): no provider '\(name)' in \(config.providers.path)"
            if let s = Suggest.closest(to: name, among: known) { message += " (did you mean '\(s)'?)" }
            throw UsageError(message: message)
        }
    }

    /// A probe's error without the "GET url: " the table already shows.
    static func shortError(_ o: ProbeOutcome) -> String {
        guard let e = o.error else { return o.ok ? "" : "failed" }
        for method in ["GET", "POST"] where e.hasPrefix("\(method) \(o.url): ") {
            return String(e.dropFirst(method.count + o.url.count + 3))
        }
        return e
    }


    static func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
}

/// Declared vs served models of one provider.
struct ModelComparison {
    struct Row {
        var name: String
        var declared: Bool
        var served: Bool
        var servedName: String?
    }

    var rows: [Row] = []

    init(declared: [String], served: [String], ollama: Bool) {
        // Ollama: "llama3.1" and "llama3.1:latest" are the same model.
        func key(_ n: String) -> String { ollama && !n.contains(":") ? n + ":latest" : n }
        var servedByKey: [String: String] = [:]
        for s in served { servedByKey[key(s)] = servedByKey[key(s)] ?? s }
        var seen = Set<String>()
        for d in declared where !seen.contains(key(d)) {
            seen.insert(key(d))
            let s = servedByKey[key(d)]
            rows.append(Row(name: d, declared: true, served: s != nil, servedName: s))
        }
        for s in served where !seen.contains(key(s)) {
            seen.insert(key(s))
            rows.append(Row(name: s, declared: false, served: true, servedName: s))
        }
    }
}

/// The `ports` report: registry entries, which are listening, and conflicts.
struct PortReport {
    struct Entry {
        var service: PortService
        var reserved: Bool
        var listening: Bool
        var notes: [String]
    }

    var entries: [Entry] = []
    var findings: [String] = []

    init(config: AishConfig, timeout: Double, interrupt: InterruptFlag) {
        let all = config.ports.services.map { ($0, false) } + config.ports.reserved.map { ($0, true) }
        let listening = PortReport.listening(all.map(\.0.port), timeout: timeout, interrupt: interrupt)
        var byPort: [Int: [String]] = [:]
        for (s, _) in all { byPort[s.port, default: []].append(s.name) }
        for (i, (s, reserved)) in all.enumerated() {
            var notes: [String] = []
            if !(1...65535).contains(s.port) { notes.append("conflict: port out of range 1-65535") }
            let others = (byPort[s.port] ?? []).filter { $0 != s.name }
            if !others.isEmpty { notes.append("conflict: port also registered for \(others.joined(separator: ", "))") }
            if s.required && !reserved && !listening[i] { notes.append("required but not listening") }
            if reserved && listening[i] { notes.append("reserved but in use") }
            entries.append(Entry(service: s, reserved: reserved, listening: listening[i], notes: notes))
        }
        let registered = Set(all.map(\.0.port))
        for p in config.providers.providers where p.isActive {
            guard let port = PortReport.localPort(of: p.baseURL), !registered.contains(port) else { continue }
            findings.append("provider '\(p.name)' uses 127.0.0.1:\(port), which \(config.ports.path) does not list")
        }
    }

    /// The port of a base URL on this machine (localhost, 127.0.0.1, ::1), else nil.
    static func localPort(of url: String) -> Int? {
        guard let c = URLComponents(string: url), let host = c.host?.lowercased(),
              ["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"].contains(host) else { return nil }
        return c.port ?? (c.scheme == "https" ? 443 : 80)
    }

    /// TCP connects to 127.0.0.1, all at once on their own threads.
    static func listening(_ ports: [Int], timeout: Double, interrupt: InterruptFlag) -> [Bool] {
        parallelMap(ports) { port in
            guard (1...65535).contains(port) else { return false }
            return (try? TCPConnection(host: "127.0.0.1", port: port, timeout: timeout, interrupt: interrupt)).map { c in
                c.close()
                return true
            } ?? false
        }
    }

    /// The command's output: counts first (what `expect` reads most), then each entry.
    var report: PortsReport {
        let conflicts = entries.filter { $0.notes.contains { $0.hasPrefix("conflict") } }.count
        let requiredDown = entries.filter { $0.service.required && !$0.reserved && !$0.listening }.count
        return PortsReport(
            services: entries.count, listening: entries.filter(\.listening).count, conflicts: conflicts,
            requiredDown: requiredDown,
            ports: entries.map { e in
                PortsReport.Entry(service: e.service.name, port: e.service.port, protocol: e.service.proto,
                                  required: e.service.required, reserved: e.reserved, unit: e.service.serviceUnit,
                                  listening: e.listening, notes: e.notes)
            },
            findings: findings)
    }
}

/// What `ports` prints, as text or JSON, and what `expect` reads.
struct PortsReport: CommandReport {
    struct Entry: Encodable, Sendable {
        var service: String
        var port: Int
        var `protocol`: String
        var required: Bool
        var reserved: Bool
        var unit: String?
        var listening: Bool
        var notes: [String]

        enum CodingKeys: String, CodingKey { case service, port, `protocol`, required, reserved, unit, listening, notes }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(service, forKey: .service)
            try c.encode(port, forKey: .port)
            try c.encode(`protocol`, forKey: .protocol)
            try c.encode(required, forKey: .required)
            try c.encode(reserved, forKey: .reserved)
            try c.encode(unit.map(JSONValue.string) ?? .null, forKey: .unit)  // null, not absent: a column of the table
            try c.encode(listening, forKey: .listening)
            try c.encode(notes, forKey: .notes)
        }
    }

    var services: Int
    var listening: Int
    var conflicts: Int
    var requiredDown: Int
    var ports: [Entry]
    var findings: [String]

    enum CodingKeys: String, CodingKey {
        case services, listening, conflicts, requiredDown = "required_down", ports, findings
    }

    static let fields = [
        ReportField("services", "entries in ports.yaml (services and reserved ports)"),
        ReportField("listening", "entries with a listener on 127.0.0.1"),
        ReportField("conflicts", "entries with a conflict (port twice, out of range)"),
        ReportField("required_down", "required services not listening"),
        ReportField("ports", "each entry: service, port, protocol, required, reserved, unit, listening, notes"),
        ReportField("findings", "local providers on ports the registry does not list"),
    ]

    static let example = PortsReport(
        services: 1, listening: 1, conflicts: 0, requiredDown: 0,
        ports: [Entry(service: "litellm", port: 4000, protocol: "http", required: true, reserved: false, unit: nil,
                      listening: true, notes: [])],
        findings: [])

    func renderText() -> String {
        var t = TextTable(headers: ["SERVICE", "PORT", "PROTOCOL", "REQUIRED", "UNIT", "LISTENING", "NOTE"])
        for e in ports {
            t.add([e.service, String(e.port), e.reserved ? "-" : e.protocol, e.reserved ? "reserved" : (e.required ? "yes" : "no"),
                   e.unit ?? "-", e.listening ? "yes" : "no", e.notes.joined(separator: "; ")])
        }
        var out = t.rendered
        for f in findings { out += "note: \(f)\n" }
        out += "\(listening) of \(services) listening, \(conflicts) conflict\(conflicts == 1 ? "" : "s"), \(requiredDown) required not listening\n"
        return out
    }
}

