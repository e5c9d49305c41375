import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishGateway

/// Every problem the sections show, with its cause, impact and the concrete fix, ordered
/// by impact (then by section order).
package enum ReportIssues {
    /// Above this share of failed attempts in the last hour (with at least 10) the log's figures are an issue.
    package static let errorRateLimit = 0.05

    package static func find(_ i: ReportInputs, configuration: ConfigurationSection, providers: ProvidersSection, gateway: GatewaySection,
                     routing: RoutingSection, monitoring: MonitoringSection, resources: ResourcesSection) -> [ReportIssue] {
        let found = configurationIssues(i) + providerIssues(i, providers, gateway) + serviceIssues(i, providers)
            + gatewayHealthIssues(i, providers, gateway) + gatewayStateIssues(i, gateway) + routingIssues(routing)
            + monitoringIssues(monitoring) + resourceIssues(i, resources)
        let order = ["configuration", "providers", "gateway", "routing", "monitoring", "resources"]
        return found.enumerated().sorted { a, b in
            if a.element.impact != b.element.impact { return a.element.impact < b.element.impact }
            let sa = order.firstIndex(of: a.element.section) ?? 9, sb = order.firstIndex(of: b.element.section) ?? 9
            return sa != sb ? sa < sb : a.offset < b.offset
        }.map(\.element)
    }

    /// Errors of the config files (the first five), the gateway's file out of step or missing, warnings.
    static func configurationIssues(_ i: ReportInputs) -> [ReportIssue] {
        var out: [ReportIssue] = []
        let c = i.config
        let errors = i.validation.findings.filter { $0.severity == .error }
        for f in errors.prefix(5) {
            out.append(ReportIssue(impact: .high, section: "configuration", symptom: "configuration error: \(f.message)",
                                   cause: "\(f.location)", fix: "edit \(f.location), then run `aish validate` until it reports no errors"))
        }
        if errors.count > 5 {
            out.append(ReportIssue(impact: .high, section: "configuration", symptom: "\(errors.count - 5) more configuration errors",
                                   cause: "see `aish validate`", fix: "run `aish validate` and fix each finding at its file:line:col"))
        }
        let drift = i.validation.findings.filter { ReportBuilder.crossFileCheck($0, litellmPath: c.litellmPath) == .gatewayFileInSync }
        if !drift.isEmpty {
            out.append(ReportIssue(
                impact: .medium, section: "configuration",
                symptom: "\(ConfigLoader.litellmFile) is out of sync with its sources (\(drift.count) difference\(drift.count == 1 ? "" : "s"))",
                cause: "providers.yaml or model-mappings.yaml changed after the last `config generate`; first: \(drift[0].message)",
                fix: "review with `aish config diff`, write it with `aish config generate`, then restart the gateway so it loads the file"))
        } else if !FileManager.default.fileExists(atPath: c.litellmPath), ReportBuilder.hasGateway(c), !LiteLLMGenerator.deployments(c).isEmpty {
            out.append(ReportIssue(impact: .medium, section: "configuration", symptom: "\(ConfigLoader.litellmFile) does not exist",
                                   cause: "the gateway's config has not been generated from the sources",
                                   fix: "`aish config generate`, then start the gateway with \(c.litellmPath)"))
        }
        let otherWarnings = i.validation.findings.filter {
            $0.severity == .warning && ReportBuilder.crossFileCheck($0, litellmPath: c.litellmPath) != .gatewayFileInSync
        }
        if !otherWarnings.isEmpty {
            out.append(ReportIssue(
                impact: .low, section: "configuration",
                symptom: "\(otherWarnings.count) configuration warning\(otherWarnings.count == 1 ? "" : "s")",
                cause: otherWarnings.prefix(2).map(\.description).joined(separator: "; ") + (otherWarnings.count > 2 ? "; …" : ""),
                fix: "`aish validate` lists each with its file:line:col; rules aish does not evaluate are listed so they are never silently ignored"))
        }
        return out
    }

    /// Active providers not probed (key unset), down, or not serving a declared model.
    static func providerIssues(_ i: ReportInputs, _ providers: ProvidersSection, _ gateway: GatewaySection) -> [ReportIssue] {
        var out: [ReportIssue] = []
        let c = i.config
        let deploymentsByProvider = Dictionary(grouping: gateway.deployments.filter { $0.provider != nil }, by: { $0.provider! })
        for row in providers.providers where row.configStatus == ProviderStatus.active.rawValue {
            guard let p = c.provider(named: row.name) else { continue }
            if row.state == "not probed", let note = row.note {
                let v = p.envVar ?? "its env_var"
                let why = note.hasPrefix("not probed: ") ? String(note.dropFirst("not probed: ".count)) : note
                out.append(ReportIssue(impact: .medium, section: "providers", symptom: "\(row.name) is not probed: \(why)",
                                       cause: "the API key variable is not set in this environment",
                                       fix: "export \(v) before running aish (for the local gateway: `scripts/stack exec aish report`)"))
                continue
            }
            if row.state == "down" {
                let service = i.status?.services.first { $0.service.providers.contains(row.name) }
                let portEntry = c.ports.services.first { looseName($0.name) == looseName(row.name) || $0.port == row.port }
                let required = portEntry?.required ?? true
                var cause = row.error ?? "no answer"
                if let service, service.state == .down { cause = "nothing listens on port \(service.service.port) (\(cause))" }
                let routes = c.mappings.exactMatches.filter { $0.provider == row.name }.map(\.alias)
                var symptom = "\(row.name) (\(row.url)) is down"
                if !routes.isEmpty {
                    symptom += "; \(routes.count) route\(routes.count == 1 ? "" : "s") to it must fall back (\(routes.prefix(3).joined(separator: ", "))\(routes.count > 3 ? ", …" : ""))"
                }
                if let ds = deploymentsByProvider[row.name], ds.contains(where: { !$0.gatewayHealthy }) {
                    symptom += "; the gateway reports its deployment\(ds.count == 1 ? "" : "s") unhealthy too"
                }
                var fix: String
                if let unit = service?.service.unit?.unit ?? portEntry?.serviceUnit.flatMap({ UnitReference(configValue: $0)?.unit }) {
                    fix = "start it: `aish service start \(row.name)` (unit \(unit))"
                } else {
                    fix = "start the server on port \(row.port.map(String.init) ?? "?")"
                }
                fix += ", or set `status: disabled` at \(p.location) so that routes skip it"
                out.append(ReportIssue(impact: required ? .high : .medium, section: "providers",
                                       symptom: symptom + (required ? "" : " (not required in ports.yaml)"), cause: cause, fix: fix))
                continue
            }
            if !row.missing.isEmpty {
                let fix = p.type == .ollama
                    ? "`ollama pull \(row.missing[0])` on that host, or correct the name in providers.yaml (\(p.location))"
                    : "load \(row.missing[0]) on \(row.name), or declare what it serves (\(row.served.prefix(3).joined(separator: ", "))) in providers.yaml (\(p.location))"
                out.append(ReportIssue(impact: .medium, section: "providers",
                                       symptom: "\(row.name) does not serve declared model\(row.missing.count == 1 ? "" : "s") \(row.missing.joined(separator: ", "))",
                                       cause: "providers.yaml declares it, but the server's model list does not contain it", fix: fix))
            }
        }
        return out
    }

    /// Required services (ports.yaml) down that are no provider.
    static func serviceIssues(_ i: ReportInputs, _ providers: ProvidersSection) -> [ReportIssue] {
        var out: [ReportIssue] = []
        for s in providers.services where s.required && s.state != "up" {
            guard !(i.status?.services.first { $0.service.name == s.name }?.service.providers.isEmpty == false) else { continue }
            out.append(ReportIssue(impact: .high, section: "providers", symptom: "required service \(s.name) (port \(s.port)) is \(s.state)",
                                   cause: s.error ?? "no answer",
                                   fix: s.unit.map { "`aish service start \(s.name)` (unit \($0))" } ?? "start the service on port \(s.port)"))
        }
        return out
    }

    /// The gateway's /health unreadable, or at odds with aish's own probes of the backends.
    static func gatewayHealthIssues(_ i: ReportInputs, _ providers: ProvidersSection, _ gateway: GatewaySection) -> [ReportIssue] {
        var out: [ReportIssue] = []
        let c = i.config
        if let gw = gateway.provider, gateway.mark != .notConfigured {
            let gatewayRow = providers.providers.first { $0.name == gw }
            if let error = gateway.error, gatewayRow?.state == "up" {
                let p = c.provider(named: gw)
                out.append(ReportIssue(
                    impact: .medium, section: "gateway", symptom: "the gateway's own health check (/health) could not be read",
                    cause: error,
                    fix: "run the report with the master key in \(p?.envVar ?? "the provider's env_var") (`scripts/stack exec aish report`), and check the gateway's log"))
            }
            for d in gateway.deployments where !d.gatewayHealthy && d.aishProbe == "up" {
                out.append(ReportIssue(
                    impact: .medium, section: "gateway",
                    symptom: "the gateway reports deployment '\(d.modelName)' (\(d.model)) unhealthy, while aish's probe of \(d.provider ?? "its backend") succeeds",
                    cause: (d.gatewayError.map { ReportIssues.clip($0, 240) } ?? "unhealthy")
                        + " — LiteLLM's check sends a real completion with the deployment's litellm_params, stricter than routing",
                    fix: "compare the deployment's litellm_params in \(ConfigLoader.litellmFile) with the backend (`aish config diff`); check it alone with `GET /health?model=\(d.modelName)`"))
            }
            for d in gateway.deployments where d.gatewayHealthy && d.aishProbe == "down" {
                out.append(ReportIssue(
                    impact: .low, section: "gateway",
                    symptom: "the gateway reports deployment '\(d.modelName)' healthy, but aish cannot reach \(d.provider ?? "its backend")",
                    cause: "aish and the gateway reach the backend differently (URL, network, key)",
                    fix: "compare base_url in providers.yaml with api_base (\(d.apiBase ?? "-")) in \(ConfigLoader.litellmFile)"))
            }
        }
        return out
    }

    /// The gateway's own state: processes down, deployments cooling down, and deployments it never cools down.
    static func gatewayStateIssues(_ i: ReportInputs, _ gateway: GatewaySection) -> [ReportIssue] {
        var out: [ReportIssue] = []
        if let gw = gateway.provider, gateway.mark != .notConfigured, let live = i.gatewayLive {
            for r in live.replicas where !r.up {
                out.append(ReportIssue(impact: .medium, section: "gateway",
                                       symptom: "gateway process \(r.url) (\(gw)) does not answer /health/liveliness",
                                       cause: r.error ?? "down",
                                       fix: "restart it (`scripts/stack up` for the local stack); the other processes share its Redis and go on"))
            }
            for c in live.cooledDown {
                out.append(ReportIssue(
                    impact: .medium, section: "gateway",
                    symptom: "the gateway is skipping deployment \(c.id)" + (c.modelGroup.map { " of model group '\($0)'" } ?? "")
                        + ": \(GatewayState.cooldownText(c.cooldown))",
                    cause: "LiteLLM put it in cooldown after failures of \(c.provider ?? "its backend") (deployment:\(c.id):cooldown in Redis \(live.redis ?? "?")); "
                        + "a deployment that keeps coming back into cooldown is flapping",
                    fix: "check \(c.provider ?? "the backend") (`aish health \(c.provider ?? "")`, its log); it is tried again when the cooldown ends; "
                        + "`aish gateway` shows what is left"))
            }
            if let e = live.unavailable, live.redis != nil {
                out.append(ReportIssue(impact: .low, section: "gateway", symptom: "the gateway's cooldowns could not be read",
                                       cause: e, fix: "check Redis (`aish report` Monitoring section); `aish gateway` says what it can see"))
            }
        }
        if gateway.mark != .notConfigured, !gateway.neverCooledDown.isEmpty {
            let (groups, reason) = GatewayCooldownRule.uncooled(i.config)
            let names = groups.map { "'\($0.group)'" }.joined(separator: ", ")
            out.append(ReportIssue(
                impact: .low, section: "gateway",
                symptom: "the gateway never cools down the only deployment of \(groups.count) model group\(groups.count == 1 ? "" : "s") (\(names))",
                cause: "LiteLLM 1.108.7: \(reason)",
                fix: "while such a backend is down every request pays its attempt before the fallback: give the group a second deployment "
                    + "(load_balancing in model-mappings.yaml), or an allowed_fails_policy in the gateway's router_settings that names the exception"))
        }
        return out
    }

    /// Failed requests (one issue per path: the same cause usually fails every group),
    /// answers only after a fallback, and requests the timeout cut short.
    static func routingIssues(_ routing: RoutingSection) -> [ReportIssue] {
        var out: [ReportIssue] = []
        for path in ["gateway", "direct"] {
            let failed = routing.requests.filter { !$0.ok && !$0.cancelled && $0.path == path }
            guard let first = failed.first else { continue }
            let names = failed.map { "'\($0.group)'" }.joined(separator: ", ")
            let how = path == "gateway" ? "through the gateway" : "routed by aish"
            out.append(ReportIssue(impact: .high, section: "routing",
                                   symptom: "\(failed.count == 1 ? "a request" : "\(failed.count) requests") for \(names) \(how) failed",
                                   cause: ReportIssues.clip(first.error ?? "failed", 240) + (failed.count > 1 ? " (first of \(failed.count))" : ""),
                                   fix: path == "gateway"
                                       ? "check the gateway's fallbacks for \(names) (router_settings in \(ConfigLoader.litellmFile)) and its log"
                                       : "`aish route \(first.group)` shows each target and why it is skipped; bring one of them up"))
        }
        for r in routing.requests where r.ok && r.fallback {
            out.append(ReportIssue(impact: .low, section: "routing",
                                   symptom: "'\(r.group)' \(r.path == "gateway" ? "through the gateway" : "routed by aish") was answered only after a fallback",
                                   cause: "\(r.fallbackFrom ?? "the first target") failed first; the answer came from \(r.provider ?? "a fallback")",
                                   fix: "bring \(r.fallbackFrom ?? "the first target") back, or reorder the route so the working target comes first"))
        }
        if !routing.complete {
            var what: [String] = []
            if routing.notRun > 0 { what.append("\(routing.notRun) not run") }
            if routing.cancelled > 0 { what.append("\(routing.cancelled) cancelled") }
            out.append(ReportIssue(impact: .medium, section: "routing",
                                   symptom: "the routing requests did not finish within the report's timeout"
                                       + (what.isEmpty ? "" : " (" + what.joined(separator: ", ") + ")"),
                                   cause: "a backend answers slowly or stalls", fix: "`aish compare NAME` measures it; raise `report --timeout`"))
        }
        return out
    }

    /// Prometheus (or its scrape targets), Grafana and Redis not answering.
    static func monitoringIssues(_ monitoring: MonitoringSection) -> [ReportIssue] {
        var out: [ReportIssue] = []
        if monitoring.prometheus.mark == .failed {
            out.append(ReportIssue(impact: .medium, section: "monitoring", symptom: "Prometheus (\(monitoring.prometheus.url ?? "?")) does not answer",
                                   cause: monitoring.prometheus.error ?? "no answer", fix: "start Prometheus, then check `/-/healthy`"))
        } else if !monitoring.prometheus.downTargets.isEmpty {
            out.append(ReportIssue(impact: .medium, section: "monitoring",
                                   symptom: "Prometheus scrape target\(monitoring.prometheus.downTargets.count == 1 ? "" : "s") down: \(monitoring.prometheus.downTargets.map { $0.components(separatedBy: ": ").first ?? $0 }.joined(separator: ", "))",
                                   cause: ReportIssues.clip(monitoring.prometheus.downTargets.joined(separator: "; "), 240),
                                   fix: "start the exporter or correct the target in prometheus.yml (its /metrics must answer)"))
        }
        if monitoring.grafana.mark == .failed {
            out.append(ReportIssue(impact: .medium, section: "monitoring", symptom: "Grafana (\(monitoring.grafana.url ?? "?")) is not healthy",
                                   cause: monitoring.grafana.error ?? "no answer", fix: "start Grafana, then check `/api/health` (database must be ok)"))
        }
        if monitoring.redis.mark == .failed {
            out.append(ReportIssue(impact: .medium, section: "monitoring", symptom: "Redis (\(monitoring.redis.address ?? "?")) does not answer",
                                   cause: monitoring.redis.error ?? "no answer",
                                   fix: "start redis-server; LiteLLM's cache and rate limits fail without it when they are configured to use it"))
        }
        return out
    }

    /// Too many failed requests in the last hour; CPU, memory and GPU not measured.
    static func resourceIssues(_ i: ReportInputs, _ resources: ResourcesSection) -> [ReportIssue] {
        var out: [ReportIssue] = []
        let recent = resources.recent
        if recent.requests >= 10 && recent.errorRate > errorRateLimit {
            out.append(ReportIssue(impact: .medium, section: "resources",
                                   symptom: cFormat("%.1f%% of %d requests in the last hour failed", recent.errorRate * 100, recent.requests),
                                   cause: "see which provider in the table of recent figures", fix: "`aish stats --since 1h` and `aish log -n 20`"))
        }
        if i.status == nil {
            out.append(ReportIssue(impact: .low, section: "resources", symptom: "CPU, memory and GPU were not measured",
                                   cause: ReportBuilder.timedOutMessage("the service status", i.timeout), fix: "`aish status` shows them"))
        }
        return out
    }

    package static func clip(_ s: String, _ n: Int) -> String {
        let one = s.replacingAll("\n", with: " ")
        return one.count <= n ? one : String(one.prefix(n - 1)) + "…"
    }
}
