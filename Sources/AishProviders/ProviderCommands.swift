import FoundationEssentials
import Dispatch
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishHTTP

package enum ProviderCommands {
    package static let all: [CommandSpec] = [providers, health, models, ports, wait]

    /// Configured provider names, for completion.
    @Sendable package static func providerNames(_ ctx: ShellContext) -> [String] {
        (try? ctx.config())?.providers.providers.map(\.name) ?? []
    }

    // MARK: providers

    package static let providers = CommandSpec(
        name: "providers",
        summary: "list providers: type, status, URL, up/down, latency, models served",
        help: """
            Probes every active provider at once (its health_endpoint, else the usual one for
            its type) and counts the models it serves (/v1/models, or /api/tags for Ollama).
            Disabled and template providers are listed but not probed; so are providers whose
            API key variable is not set. The probe timeout is health_checks.timeout_seconds
            from providers.yaml (5 s when unset) unless --timeout is given.
            """,
        options: [OptionSpec(["-t", "--timeout"], .duration("S"), help: "probe timeout (e.g. 2s, 500ms)")],
        report: ReportShape(ProvidersReport.self),
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

            var rows: [ProvidersReport.Row] = []
            var up = 0, down = 0, notProbed = 0
            var slowest: Double?
            for (i, p) in all.enumerated() {
                let o = outcomes[p.name]
                if o == nil && skipReason[i] == nil { skipReason[i] = "not probed" }
                if let o {
                    if o.ok { up += 1; slowest = max(slowest ?? 0, o.latencyMs ?? 0) } else { down += 1 }
                } else {
                    notProbed += 1
                }
                rows.append(ProvidersReport.Row(
                    name: p.name, type: p.type.rawValue, status: p.status.rawValue, url: URLRedaction.redact(p.baseURL),
                    probed: o != nil, up: o?.ok, httpStatus: o?.httpStatus, latency: o?.latencyMs.map(round3),
                    modelsServed: served[p.name]?.count, modelsDeclared: p.models.count, error: o?.error, note: skipReason[i],
                    shortError: o.map(shortError)))
            }
            return CommandResult(report: ProvidersReport(up: up, down: down, notProbed: notProbed, total: all.count,
                                                         latency: slowest.map(round3), providers: rows))
        })

    /// Why a provider is not probed, or nil when it is.
    package static func notProbedReason(_ p: ProviderConfig, environment: [String: String]) -> String? {
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

    package static let health = CommandSpec(
        name: "health",
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
            """,
        options: [
            OptionSpec(["-g", "--generate"], help: "also run a 1-token completion"),
            OptionSpec(["-t", "--timeout"], .duration("S"), help: "probe timeout (e.g. 2s, 500ms)"),
        ],
        positionals: [PositionalSpec(name: "PROVIDER", help: "provider name", optional: true, variadic: true,
                                     completion: .dynamic(ProviderCommands.providerNames))],
        report: ReportShape(HealthReport.self),
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
            let rows = zip(probes, kinds).map { o, kind in
                HealthReport.Probe(provider: o.provider, check: kind.hasPrefix("generate") ? "generate" : "health", url: o.url,
                                   ok: o.ok, httpStatus: o.httpStatus, latency: o.latencyMs.map(round3), error: o.error,
                                   model: o.model, reply: o.reply)
            }
            let down = Set(probes.filter { !$0.ok }.map(\.provider)).count
            let one = targets.count == 1
            return CommandResult(report: HealthReport(
                up: targets.count - down, down: down, latency: probes.compactMap(\.latencyMs).max().map(round3),
                provider: one ? targets[0].name : nil, httpStatus: one ? probes.first?.httpStatus : nil, probes: rows,
                skipped: skipped.map { HealthReport.Skipped(provider: $0.0.name, url: URLRedaction.redact($0.0.baseURL), reason: $0.1) }))
        })

    // MARK: models

    package static let models = CommandSpec(
        name: "models",
        summary: "models each provider really serves next to what the config declares",
        help: """
            Asks each active provider (or the one named; providers whose API key variable is
            not set are skipped unless named) for its models — /v1/models, or
            /api/tags for Ollama, whose /api/ps also marks the models loaded in memory — and
            compares with providers.yaml: a declared model the provider does not serve is
            marked 'missing', a served model the config does not declare 'unexpected'. An Ollama
            name without a tag matches ':latest'.
            """,
        options: [OptionSpec(["-t", "--timeout"], .duration("S"), help: "request timeout (e.g. 2s)")],
        positionals: [PositionalSpec(name: "PROVIDER", help: "provider name", optional: true,
                                     completion: .dynamic(ProviderCommands.providerNames))],
        report: ReportShape(ModelsReport.self),
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
            var groups: [ModelsReport.Listing] = []
            var declaredCount = 0, servedCount = 0, missing = 0, unexpected = 0, unreachable = 0
            for (p, listing) in zip(targets, listings) {
                let declared = p.models.map(\.name)
                declaredCount += declared.count
                guard let served = listing.models else {
                    unreachable += 1
                    groups.append(ModelsReport.Listing(provider: p.name, ok: false, url: listing.url, error: listing.error,
                                                       declared: declared, models: []))
                    continue
                }
                servedCount += served.count
                var loaded: Set<String> = []
                if p.type == .ollama {
                    let ps = ProviderProbes.ollamaRunning(p, environment: ctx.environment, timeout: timeout, interrupt: ctx.interrupt)
                    loaded = Set(ps.models ?? [])
                }
                let comparison = ModelComparison(declared: declared, served: served, ollama: p.type == .ollama)
                let models = comparison.rows.map { row in
                    ModelsReport.Model(name: row.name, declared: row.declared, served: row.served,
                                       missing: row.declared && !row.served, unexpected: !row.declared && row.served,
                                       loaded: row.servedName.map { loaded.contains($0) } ?? false)
                }
                missing += models.filter(\.missing).count
                unexpected += models.filter(\.unexpected).count
                groups.append(ModelsReport.Listing(provider: p.name, ok: true, url: listing.url, error: nil, declared: declared,
                                                   models: models))
            }
            return CommandResult(report: ModelsReport(
                declared: declaredCount, served: servedCount, missing: missing, unexpected: unexpected, unreachable: unreachable,
                providers: groups, skipped: skipped.map { ModelsReport.Skipped(provider: $0.0.name, reason: $0.1) }))
        })

    // MARK: ports

    package static let ports = CommandSpec(
        name: "ports",
        summary: "the port registry (ports.yaml): which ports are listening, conflicts",
        help: """
            Lists every service and reserved port of ports.yaml, checks which are listening on
            127.0.0.1 (a TCP connect with a short timeout, all at once) and marks conflicts:
            one port registered twice, a port out of range, a required service not listening,
            a reserved port in use, and local providers whose port the registry does not list.
            """,
        options: [OptionSpec(["-t", "--timeout"], .duration("S"), help: "connect timeout (default 300ms)")],
        report: ReportShape(PortsReport.self),
        run: { inv, ctx in
            let config = try ctx.config()
            let timeout = try inv.duration("--timeout", default: 0.3)
            let report = PortReport(config: config, timeout: timeout, interrupt: ctx.interrupt)
            if ctx.interrupt.isRaised { throw CommandFailure("ports: interrupted") }
            return CommandResult(report: report.report)
        })

    // MARK: wait

    package static let wait = CommandSpec(
        name: "wait",
        summary: "block until a provider is healthy (for CI scripts)",
        help: """
            Probes PROVIDER's health endpoint every --interval (default 1s) until it answers
            2xx, then returns. Fails (exit 1 in scripts) when --timeout (default 60s) passes
            first, saying what the last probe saw. Ctrl-C stops waiting. A provider that cannot
            become healthy by waiting (disabled, a template, its API key variable not set) fails
            at once with the reason.
            """,
        options: [
            OptionSpec(["-t", "--timeout"], .duration("S"), help: "give up after S (default 60s)"),
            OptionSpec(["-i", "--interval"], .duration("S"), help: "time between probes (default 1s)"),
        ],
        positionals: [PositionalSpec(name: "PROVIDER", help: "provider name", completion: .dynamic(ProviderCommands.providerNames))],
        report: ReportShape(WaitReport.self),
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
                    return CommandResult(report: WaitReport(provider: provider.name, waited: round3(waited * 1000), probes: probes,
                                                            latency: round3(o.latencyMs ?? 0)))
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
    package static func select(_ names: [String], in config: AishConfig, command: String) throws -> [ProviderConfig] {
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
    package static func shortError(_ o: ProbeOutcome) -> String {
        o.error == nil && o.ok ? "" : shortError(o.error, url: o.url)
    }

    /// A failed probe's error without the "GET url: " prefix; "failed" when it has none.
    package static func shortError(_ error: String?, url: String) -> String {
        guard let e = error else { return "failed" }
        for method in ["GET", "POST"] where e.hasPrefix("\(method) \(url): ") {
            return String(e.dropFirst(method.count + url.count + 3))
        }
        return e
    }


    package static func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
}

/// Declared vs served models of one provider.
package struct ModelComparison {
    package struct Row {
        package var name: String
        package var declared: Bool
        package var served: Bool
        package var servedName: String?
    }

    package var rows: [Row] = []

    package init(declared: [String], served: [String], ollama: Bool) {
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
package struct PortReport {
    package struct Entry {
        package var service: PortService
        package var reserved: Bool
        package var listening: Bool
        package var notes: [String]
    }

    package var entries: [Entry] = []
    package var findings: [String] = []

    package init(config: AishConfig, timeout: Double, interrupt: InterruptFlag) {
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
    package static func localPort(of url: String) -> Int? {
        guard let c = URLComponents(string: url), let host = c.host?.lowercased(),
              ["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"].contains(host) else { return nil }
        return c.port ?? (c.scheme == "https" ? 443 : 80)
    }

    /// TCP connects to 127.0.0.1, all at once on their own threads.
    package static func listening(_ ports: [Int], timeout: Double, interrupt: InterruptFlag) -> [Bool] {
        parallelMap(ports) { port in
            guard (1...65535).contains(port) else { return false }
            return (try? TCPConnection(host: "127.0.0.1", port: port, timeout: timeout, interrupt: interrupt)).map { c in
                c.close()
                return true
            } ?? false
        }
    }

    /// The command's output: counts first (what `expect` reads most), then each entry.
    package var report: PortsReport {
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
package struct PortsReport: CommandReport {
    package struct Entry: Encodable, Sendable, NilEncodesAsNull {
        package var service: String
        package var port: Int
        package var `protocol`: String
        package var required: Bool
        package var reserved: Bool
        package var unit: String?
        package var listening: Bool
        package var notes: [String]

        package enum CodingKeys: String, CodingKey { case service, port, `protocol`, required, reserved, unit, listening, notes }
    }

    package var services: Int
    package var listening: Int
    package var conflicts: Int
    package var requiredDown: Int
    package var ports: [Entry]
    package var findings: [String]

    package enum CodingKeys: String, CodingKey {
        case services, listening, conflicts, requiredDown = "required_down", ports, findings
    }

    package static let fields = [
        ReportField("services", "entries in ports.yaml (services and reserved ports)"),
        ReportField("listening", "entries with a listener on 127.0.0.1"),
        ReportField("conflicts", "entries with a conflict (port twice, out of range)"),
        ReportField("required_down", "required services not listening"),
        ReportField("ports", "each entry: service, port, protocol, required, reserved, unit, listening, notes"),
        ReportField("findings", "local providers on ports the registry does not list"),
    ]

    package static let example = PortsReport(
        services: 1, listening: 1, conflicts: 0, requiredDown: 0,
        ports: [Entry(service: "litellm", port: 4000, protocol: "http", required: true, reserved: false, unit: nil,
                      listening: true, notes: [])],
        findings: [])

    package func renderText() -> String {
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

