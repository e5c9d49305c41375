import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishGateway
import AishHTTP
import AishProviders
import AishServices
import AishSessionLog

/// Everything measured for one report, as plain values: the builder turns it into the
/// report (sections, issues, score, verdict) without touching the network, so tests can
/// feed it any situation.
package struct ReportInputs {
    package var config: AishConfig
    package var validation: ConfigValidation
    package var environment: [String: String]
    package var generatedAt: Date
    package var host: String
    package var durationMs: Double
    package var timeout: Double
    package var targets: MonitoringTargets
    package var providerHealth: [ProbeOutcome]?
    package var listings: [ProbeOutcome]?
    package var status: StatusSnapshot?
    package var gateway: GatewayHealthAnswer?
    package var prometheus: PrometheusHealth?
    package var grafana: GrafanaHealth?
    package var redis: RedisProbeResult?
    package var recent: RecentFigures?
    package var requestsSent: Bool
    package var requests: [RouteRequest]
    /// The routing requests planned: one per route group and path (gateway, direct).
    package var requestsPlanned: Int? = nil
    package var chains: [ChainRow]
    package var backups: [String]
    /// Jobs that had not finished when the overall timeout passed.
    package var timedOut: [String] = []
    /// The gateway's processes and the cooldowns in its Redis now.
    package var gatewayLive: GatewayStatus? = nil
}

package enum ReportBuilder {
    package static func build(_ i: ReportInputs) -> DiagnosticReport {
        let configuration = configurationSection(i)
        let providers = providersSection(i)
        var gateway = gatewaySection(i, providers: providers)
        if gateway.mark != .notConfigured {
            gateway.live = i.gatewayLive?.json
            gateway.neverCooledDown = GatewayCooldownRule.uncooled(i.config).groups.map(\.group)
            if let live = i.gatewayLive, gateway.mark == .ok,
               !live.cooledDown.isEmpty || live.replicas.contains(where: { !$0.up }) { gateway.mark = .warning }
        }
        let routing = routingSection(i)
        let monitoring = monitoringSection(i)
        let resources = resourcesSection(i)
        let issues = ReportIssues.find(i, configuration: configuration, providers: providers, gateway: gateway, routing: routing,
                                       monitoring: monitoring, resources: resources)
        let components = HealthScore.components(configuration: configuration, providers: providers, gateway: gateway,
                                                routing: routing, monitoring: monitoring)
        let score = HealthScore.score(components)
        let overall = HealthScore.overall(providers: providers, routing: routing, issues: issues)
        // Services: status rows (ports.yaml and local providers) and monitoring services on other ports.
        let statusPorts = Set(providers.services.map(\.port))
        var servicesUp = providers.services.filter { $0.state == "up" }.count
        var servicesConfigured = providers.services.count
        for (port, mark) in monitoringPorts(i.targets, monitoring) where !statusPorts.contains(port) {
            servicesConfigured += 1
            if mark != .failed { servicesUp += 1 }
        }
        let summary = SummarySection(
            mark: overall == .operational ? .ok : (overall == .degraded ? .warning : .failed), overall: overall, score: score,
            providersUp: providers.up, providersActive: providers.active, servicesUp: servicesUp, servicesConfigured: servicesConfigured,
            topProblems: issues.prefix(3).map(\.symptom), scoreComponents: components)
        return DiagnosticReport(
            generatedAt: ReportFormatting.timestamp(i.generatedAt), host: i.host, aishVersion: AishVersion.current,
            durationMs: (i.durationMs * 10).rounded() / 10, timeoutSeconds: i.timeout, run: nil, overall: overall, score: score,
            providersUp: providers.up, providersActive: providers.active, servicesUp: servicesUp, servicesConfigured: servicesConfigured,
            summary: summary, configuration: configuration, providers: providers, gateway: gateway, routing: routing,
            monitoring: monitoring, resources: resources, issues: issues,
            architecture: ReportArchitecture.lines(i.config, providers: providers, gateway: gateway, monitoring: monitoring,
                                                   targets: i.targets),
            comparison: nil)
    }

    private static func monitoringPorts(_ t: MonitoringTargets, _ m: MonitoringSection) -> [(Int, ReportMark)] {
        var out: [(Int, ReportMark)] = []
        if let u = t.prometheus.flatMap({ BaseURL($0) }), let p = u.port { out.append((p, m.prometheus.mark)) }
        if let u = t.grafana.flatMap({ BaseURL($0) }), let p = u.port { out.append((p, m.grafana.mark)) }
        if let p = t.redisPort { out.append((p, m.redis.mark)) }
        return out
    }

    package static func timedOutMessage(_ what: String, _ timeout: Double) -> String {
        "\(what): no answer within the report's timeout of \(ReportFormatting.seconds(timeout))"
    }

    // MARK: configuration

    /// The cross-file checks the configuration section lists, in its order.
    package enum CrossFileCheck: Int, CaseIterable {
        case providerModelsRouted, routesNameProviders, backendModelsExist, fallbackChainsResolve, gatewayFileInSync

        package var name: String {
            switch self {
            case .providerModelsRouted: "provider models have routes"
            case .routesNameProviders: "routes name existing providers"
            case .backendModelsExist: "backend models exist"
            case .fallbackChainsResolve: "fallback chains acyclic and resolvable"
            case .gatewayFileInSync: "generated gateway file in sync"
            }
        }
    }

    /// Which cross-file check a finding belongs to, from the validator check that found it
    /// and the kind of reference it says is broken; nil for a finding of none of them.
    package static func crossFileCheck(_ f: ConfigFinding, litellmPath: String) -> CrossFileCheck? {
        if f.check == .drift || f.location.file == litellmPath { return .gatewayFileInSync }
        switch f.check {
        case .fallbackChains: return .fallbackChainsResolve
        case .unroutedModels: return .providerModelsRouted
        default: break
        }
        switch f.brokenReference {
        case .provider: return .routesNameProviders
        case .model: return .backendModelsExist
        case nil: return nil
        }
    }

    package static func configurationSection(_ i: ReportInputs) -> ConfigurationSection {
        let c = i.config
        let findings = i.validation.findings
        let files: [(String, String, Bool)] = [
            (ConfigLoader.providersFile, c.providers.path, true), (ConfigLoader.mappingsFile, c.mappings.path, false),
            (ConfigLoader.portsFile, c.ports.path, false), (ConfigLoader.litellmFile, c.litellmPath, false),
        ]
        var fileRows: [ConfigFileStatus] = []
        for (name, path, required) in files {
            let mine = findings.filter { $0.location.file == path }
            let present = FileManager.default.fileExists(atPath: path)
            let errors = mine.errorCount, warnings = mine.warningCount
            var mark: ReportMark = errors > 0 ? .failed : (warnings > 0 ? .warning : .ok)
            let gatewayFile = name == ConfigLoader.litellmFile && hasGateway(c)
            if !present && !required { mark = gatewayFile ? .warning : .notConfigured }
            var first = mine.prefix(3).map(\.description)
            if !present && gatewayFile { first = ["not generated yet: `aish config generate` writes it"] }
            fileRows.append(ConfigFileStatus(file: name, present: present, required: required, mark: mark, errors: errors,
                                             warnings: warnings, firstFindings: first))
        }
        var perCheck = [CrossFileCheck: [ConfigFinding]]()
        for f in findings { if let k = crossFileCheck(f, litellmPath: c.litellmPath) { perCheck[k, default: []].append(f) } }
        let litellmPresent = FileManager.default.fileExists(atPath: c.litellmPath)
        let checks = CrossFileCheck.allCases.map { k in
            let fs = perCheck[k] ?? []
            var mark: ReportMark = fs.hasErrors ? .failed : (fs.isEmpty ? .ok : .warning)
            var first = fs.prefix(3).map(\.description)
            if k == .gatewayFileInSync && !litellmPresent && hasGateway(c) {
                mark = .warning
                first = ["\(c.litellmPath) does not exist: `aish config generate` writes it"]
            }
            return ConfigCheck(name: k.name, mark: mark, findings: fs.count, firstFindings: first)
        }
        let errors = findings.errorCount, warnings = findings.warningCount
        return ConfigurationSection(
            mark: errors > 0 ? .failed : (warnings > 0 ? .warning : .ok), directory: c.directory, valid: errors == 0, errors: errors,
            warnings: warnings, files: fileRows, checks: checks, providers: i.validation.providerCount,
            activeProviders: i.validation.activeProviderCount, routes: i.validation.routeCount, chains: i.validation.chainCount,
            gatewayModels: LiteLLMGenerator.deployments(c).count, backups: i.backups)
    }

    /// Whether the config has an active LiteLLM gateway (then its generated file matters).
    package static func hasGateway(_ c: AishConfig) -> Bool {
        c.providers.providers.contains { $0.type == .litellm && $0.isActive }
    }

    /// `litellm-unified.yaml.bak.*` in the config directory, newest first.
    package static func backups(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(ConfigLoader.litellmFile + ".bak") }.sorted(by: >)
    }

    // MARK: providers

    package static func providersSection(_ i: ReportInputs) -> ProvidersSection {
        let c = i.config
        var health: [String: ProbeOutcome] = [:]
        for h in i.providerHealth ?? [] { health[h.provider] = h }
        var listing: [String: ProbeOutcome] = [:]
        for l in i.listings ?? [] { listing[l.provider] = l }
        let probesTimedOut = i.providerHealth == nil
        var rows: [ProviderRow] = []
        for p in c.providers.providers {
            let port = BaseURL(p.baseURL).map { $0.port ?? ($0.scheme == "https" ? 443 : 80) }
            var row = ProviderRow(name: p.name, type: p.type.rawValue, configStatus: p.status.rawValue, mark: .notConfigured,
                                  state: "not probed", url: URLRedaction.redact(p.baseURL), port: port, latencyMs: nil, modelsServed: nil,
                                  declared: p.models.map(\.name), served: [], missing: [], unexpected: [], cpuPercent: nil, rssMiB: nil,
                                  gpuMiB: nil, error: nil, note: nil)
            if let process = i.status?.services.first(where: { $0.service.providers.contains(p.name) })?.process {
                row.cpuPercent = process.cpuPercent.map { ($0 * 10).rounded() / 10 }
                row.rssMiB = process.residentKiB.map { (Double($0) / 1024 * 10).rounded() / 10 }
                row.gpuMiB = process.gpuMemoryMiB
            }
            if let reason = ProviderCommands.notProbedReason(p, environment: i.environment) {
                row.note = reason
                row.mark = p.isActive ? .warning : .notConfigured
                rows.append(row)
                continue
            }
            guard let h = health[p.name] else {
                row.state = "down"
                row.mark = .failed
                row.error = probesTimedOut ? timedOutMessage("health probe", i.timeout) : "not probed"
                rows.append(row)
                continue
            }
            row.state = h.ok ? "up" : "down"
            row.mark = h.ok ? .ok : .failed
            row.latencyMs = h.ok ? h.latencyMs.map { ($0 * 10).rounded() / 10 } : nil
            row.error = h.ok ? nil : ProviderCommands.shortError(h)
            if let served = h.models ?? listing[p.name]?.models {
                row.served = served
                row.modelsServed = served.count
                let cmp = ModelComparison(declared: row.declared, served: served, ollama: p.type == .ollama)
                row.missing = cmp.rows.filter { $0.declared && !$0.served }.map(\.name)
                row.unexpected = cmp.rows.filter { !$0.declared && $0.served }.map(\.name)
                if h.ok && !row.missing.isEmpty { row.mark = .warning }
            } else if h.ok, let l = listing[p.name], !l.ok {
                row.note = "models not listed: " + ProviderCommands.shortError(l)
            }
            rows.append(row)
        }
        var services: [ServiceRow] = []
        for s in i.status?.services ?? [] {
            // A disabled provider's server that is not running is as configured, not a finding.
            let onlyInactive = !s.service.fromPortsFile && !s.service.providers.isEmpty
                && s.service.providers.allSatisfy { c.provider(named: $0)?.isActive == false }
            if onlyInactive && s.state == .down { continue }
            let mark: ReportMark = s.state == .up ? .ok : (s.service.required || s.state == .unhealthy ? .failed : .warning)
            services.append(ServiceRow(
                name: s.service.name, port: s.service.port, required: s.service.required, state: s.state.rawValue, mark: mark,
                pid: s.process.map { Int($0.pid) }, unit: s.service.unit?.unit,
                cpuPercent: s.process?.cpuPercent.map { ($0 * 10).rounded() / 10 },
                rssMiB: s.process?.residentKiB.map { (Double($0) / 1024 * 10).rounded() / 10 }, gpuMiB: s.process?.gpuMemoryMiB,
                error: s.state == .up ? nil : (s.health?.error ?? (s.state == .down ? "nothing listens on port \(s.service.port)" : nil))))
        }
        let active = rows.filter { $0.configStatus == ProviderStatus.active.rawValue }
        let up = active.filter { $0.state == "up" }.count
        var mark = ReportMark.worst(active.map(\.mark))
        if active.isEmpty { mark = .failed }
        return ProvidersSection(mark: mark, up: up, active: active.count, providers: rows, services: services,
                                gpu: gpuNote(i.status?.gpu))
    }

    package static func gpuNote(_ g: GPUReport?) -> String {
        switch g {
        case nil: return "not measured"
        case let .absent(reason)?: return reason
        case let .present(devices, _)?:
            return devices.map { d in
                var s = "GPU \(d.index) \(d.name)"
                if let u = d.memoryUsedMiB, let t = d.memoryTotalMiB { s += ": \(u) of \(t) MiB" }
                if let p = d.utilizationPercent { s += ", \(p)% busy" }
                return s
            }.joined(separator: "; ")
        }
    }

    // MARK: gateway

    package static func gatewaySection(_ i: ReportInputs, providers: ProvidersSection) -> GatewaySection {
        guard let gw = i.config.providers.providers.first(where: { $0.type == .litellm && $0.isActive }) else {
            return GatewaySection(mark: .notConfigured, provider: nil, url: nil, httpStatus: nil, latencyMs: nil, healthy: 0, unhealthy: 0,
                                  deployments: [], error: nil, note: "no active provider of type litellm in providers.yaml")
        }
        guard let answer = i.gateway else {
            return GatewaySection(mark: .failed, provider: gw.name, url: ProviderEndpoints(gw).root + "/health", httpStatus: nil,
                                  latencyMs: nil, healthy: 0, unhealthy: 0, deployments: [],
                                  error: timedOutMessage("GET /health", i.timeout), note: nil)
        }
        var section = GatewaySection(mark: .ok, provider: gw.name, url: answer.url, httpStatus: answer.httpStatus,
                                     latencyMs: answer.latencyMs.map { ($0 * 10).rounded() / 10 }, healthy: answer.healthy.count,
                                     unhealthy: answer.unhealthy.count, deployments: [], error: answer.error, note: nil)
        if answer.error != nil {
            section.mark = .failed
            return section
        }
        var byProvider: [String: ProviderRow] = [:]
        for p in providers.providers { byProvider[p.name] = p }
        func norm(_ s: String?) -> String {
            var t = (s ?? "").lowercased()
            while t.hasSuffix("/") { t.removeLast() }
            return t
        }
        var remaining: [(GatewayHealthAnswer.Endpoint, Bool)] = answer.healthy.map { ($0, true) } + answer.unhealthy.map { ($0, false) }
        for d in LiteLLMGenerator.deployments(i.config) {
            let model = d.params.first { $0.0 == "model" }?.1.stringValue ?? d.modelName
            let base = d.params.first { $0.0 == "api_base" }?.1.stringValue
            let provider = d.info.first { $0.0 == "provider" }?.1.stringValue
            let k = remaining.firstIndex { $0.0.model == model && norm($0.0.apiBase) == norm(base) }
                ?? remaining.firstIndex { $0.0.model == model && $0.0.apiBase == nil }
            let aish = provider.flatMap { byProvider[$0] }
            var row = GatewayDeployment(modelName: d.modelName, model: model, apiBase: base, provider: provider, gatewayHealthy: false,
                                        gatewayError: nil, aishProbe: aish?.state ?? "not probed", aishLatencyMs: aish?.latencyMs,
                                        agree: true, mark: .ok)
            if let k {
                let (e, healthy) = remaining.remove(at: k)
                row.gatewayHealthy = healthy
                row.gatewayError = healthy ? nil : (e.error ?? "unhealthy (no error given)")
            } else {
                row.gatewayError = "not in the gateway's /health answer (is the gateway running an older litellm-unified.yaml?)"
            }
            deploymentMark(&row)
            section.deployments.append(row)
        }
        // Deployments the gateway knows that the sources do not generate.
        for (e, healthy) in remaining {
            let provider = e.apiBase.flatMap { MonitoringTargets.provider(servingAPIBase: $0, config: i.config) }
            let aish = provider.flatMap { byProvider[$0] }
            var row = GatewayDeployment(modelName: "(not in the sources)", model: e.model, apiBase: e.apiBase, provider: provider,
                                        gatewayHealthy: healthy, gatewayError: healthy ? nil : e.error, aishProbe: aish?.state ?? "not probed",
                                        aishLatencyMs: aish?.latencyMs, agree: true, mark: .ok)
            deploymentMark(&row)
            section.deployments.append(row)
        }
        section.mark = ReportMark.worst(section.deployments.map(\.mark))
        return section
    }

    private static func deploymentMark(_ row: inout GatewayDeployment) {
        let aishUp = row.aishProbe == "up"
        row.agree = row.aishProbe == "not probed" || row.gatewayHealthy == aishUp
        if row.gatewayHealthy { row.mark = row.agree ? .ok : .warning } else { row.mark = aishUp ? .warning : .failed }
    }

    // MARK: routing

    package static func routingSection(_ i: ReportInputs) -> RoutingSection {
        var mark = ReportMark.worst(i.requests.map(\.mark))
        var note: String?
        if !i.requestsSent { note = "no requests sent (--no-requests)"; mark = .notConfigured }
        else if i.requests.isEmpty { note = "no route groups to try" }
        else if let gw = i.config.providers.providers.first(where: { $0.type == .litellm && $0.isActive }),
                let why = ProviderCommands.notProbedReason(gw, environment: i.environment) {
            note = "no requests through the gateway \(gw.name): " + (why.hasPrefix("not probed: ") ? String(why.dropFirst(12)) : why)
        }
        // Cut short by the timeout: requests never sent, and requests sent and cancelled, are
        // counted and said; such a section is never ✓.
        let planned = i.requestsPlanned ?? i.requests.count
        let notRun = i.requestsSent ? max(0, planned - i.requests.count) : 0
        let cancelled = i.requests.filter(\.cancelled).count
        let complete = notRun == 0 && cancelled == 0 && !i.timedOut.contains("routing")
        if !complete {
            var parts: [String] = []
            if notRun > 0 { parts.append("\(notRun) of \(planned) request\(planned == 1 ? "" : "s") not run") }
            if cancelled > 0 { parts.append("\(cancelled) cancelled") }
            note = "incomplete: cut short by the report's timeout of \(ReportFormatting.seconds(i.timeout))"
                + (parts.isEmpty ? "" : "; " + parts.joined(separator: ", "))
            mark = max(mark, .warning)
        }
        return RoutingSection(mark: mark, requestsSent: i.requestsSent, note: note, requests: i.requests, chains: i.chains,
                              complete: complete, notRun: notRun, cancelled: cancelled)
    }

    /// The names the routing section sends a request for: the gateway's model groups (the
    /// generated model_list), then the load-balancing aliases; without a gateway, the exact
    /// matches. At most `limit`.
    package static func routeGroups(_ config: AishConfig, limit: Int = 12) -> [String] {
        var names = LiteLLMGenerator.deployments(config).map(\.modelName)
        if names.isEmpty { names = config.mappings.exactMatches.map(\.alias) }
        names += config.mappings.loadBalancing.map(\.alias)
        var seen = Set<String>()
        return Array(names.filter { seen.insert($0).inserted }.prefix(limit))
    }

    // MARK: monitoring

    package static func monitoringSection(_ i: ReportInputs) -> MonitoringSection {
        let t = i.targets
        var prometheus = PrometheusStatus(mark: .notConfigured, url: t.prometheus, healthy: nil, latencyMs: nil, targetsUp: nil,
                                          targetsDown: nil, downTargets: [], error: nil)
        if t.prometheus != nil {
            if let p = i.prometheus {
                prometheus.url = p.url
                prometheus.healthy = p.ok
                prometheus.latencyMs = p.latencyMs.map { ($0 * 10).rounded() / 10 }
                prometheus.error = p.error
                if let targets = p.targets {
                    prometheus.targetsUp = targets.filter { $0.health == "up" }.count
                    let down = targets.filter { $0.health != "up" }
                    prometheus.targetsDown = down.count
                    prometheus.downTargets = down.map { "\($0.job) \($0.instance)" + ($0.lastError.map { ": \($0)" } ?? "") }
                }
                prometheus.mark = !p.ok ? .failed : ((prometheus.targetsDown ?? 0) > 0 || p.error != nil ? .warning : .ok)
            } else {
                prometheus.mark = .failed
                prometheus.error = timedOutMessage("Prometheus", i.timeout)
            }
        }
        var grafana = GrafanaStatus(mark: .notConfigured, url: t.grafana, latencyMs: nil, database: nil, version: nil, error: nil)
        if t.grafana != nil {
            if let g = i.grafana {
                grafana.url = g.url
                grafana.latencyMs = g.latencyMs.map { ($0 * 10).rounded() / 10 }
                grafana.database = g.database
                grafana.version = g.version
                grafana.error = g.error
                grafana.mark = g.ok ? .ok : .failed
            } else {
                grafana.mark = .failed
                grafana.error = timedOutMessage("Grafana", i.timeout)
            }
        }
        var redis = RedisStatus(mark: .notConfigured, address: t.redisPort.map { "\(t.redisHost ?? "127.0.0.1"):\($0)" }, latencyMs: nil,
                                version: nil, dbSize: nil, litellmCacheEntries: nil, usedMemory: nil, error: nil)
        if t.redisPort != nil {
            if let r = i.redis {
                redis.latencyMs = r.latencyMs.map { ($0 * 10).rounded() / 10 }
                redis.version = r.version
                redis.dbSize = r.keys
                redis.litellmCacheEntries = r.litellmCacheEntries
                redis.usedMemory = r.usedMemory
                redis.error = r.error
                redis.mark = r.pong && r.error == nil ? .ok : .failed
            } else {
                redis.mark = .failed
                redis.error = timedOutMessage("Redis", i.timeout)
            }
        }
        let marks = [prometheus.mark, grafana.mark, redis.mark].filter { $0 != .notConfigured }
        return MonitoringSection(mark: marks.isEmpty ? .notConfigured : ReportMark.worst(marks), configured: marks.count,
                                 up: marks.filter { $0 != .failed }.count, prometheus: prometheus, grafana: grafana, redis: redis)
    }

    // MARK: resources

    package static func resourcesSection(_ i: ReportInputs) -> ResourcesSection {
        var seen = Set<Int32>()
        let processes = (i.status?.services ?? []).compactMap(\.process).filter { seen.insert($0.pid).inserted }
        let cpus = processes.compactMap(\.cpuPercent)
        let rss = processes.compactMap(\.residentKiB)
        let recent = i.recent ?? RecentFigures(windowSeconds: 3600, available: false, note: "the session log was not read",
                                              requests: 0, errors: 0, errorRate: 0, ttftP50Ms: nil, ttftP99Ms: nil,
                                              latencyP50Ms: nil, latencyP99Ms: nil, byProvider: [])
        var mark: ReportMark = i.status == nil ? .warning : .ok
        if recent.requests >= 10 && recent.errorRate > ReportIssues.errorRateLimit { mark = .warning }
        return ResourcesSection(mark: mark, totalCPUPercent: cpus.isEmpty ? nil : (cpus.reduce(0, +) * 10).rounded() / 10,
                                totalRSSMiB: rss.isEmpty ? nil : (Double(rss.reduce(0, +)) / 1024 * 10).rounded() / 10,
                                gpu: gpuNote(i.status?.gpu), recent: recent)
    }

    /// The session log's figures of the last `minutes` (all request attempts: chat, compare, bench, report).
    package static func recentFigures(reader: SessionLogReader, now: Date, minutes: Int = 60) -> RecentFigures {
        func r(_ v: Double) -> Double { (v * 10).rounded() / 10 }
        do {
            let stats = try reader.stats(since: now.addingTimeInterval(-Double(minutes) * 60), byProvider: true)
            let t = stats.total
            let ttft = t.ttft.count > 0 ? t.ttft.percentiles() : nil
            let lat = t.latency.count > 0 ? t.latency.percentiles() : nil
            let rows = stats.groups.map { g -> ProviderFigures in
                let gt = g.ttft.count > 0 ? g.ttft.percentiles() : nil
                let gl = g.latency.count > 0 ? g.latency.percentiles() : nil
                return ProviderFigures(provider: g.name.isEmpty ? "(none)" : g.name, requests: g.requests,
                                       errorRate: (g.errorRate * 1000).rounded() / 1000, ttftP50Ms: gt.map { r($0.p50) },
                                       latencyP50Ms: gl.map { r($0.p50) }, latencyP99Ms: gl.map { r($0.p99) })
            }
            return RecentFigures(windowSeconds: minutes * 60, available: true, note: nil, requests: t.requests, errors: t.errors,
                                 errorRate: (t.errorRate * 1000).rounded() / 1000, ttftP50Ms: ttft.map { r($0.p50) },
                                 ttftP99Ms: ttft.map { r($0.p99) }, latencyP50Ms: lat.map { r($0.p50) }, latencyP99Ms: lat.map { r($0.p99) },
                                 byProvider: rows)
        } catch {
            return RecentFigures(windowSeconds: minutes * 60, available: false, note: "session log unavailable: \(error)", requests: 0,
                                 errors: 0, errorRate: 0, ttftP50Ms: nil, ttftP99Ms: nil, latencyP50Ms: nil, latencyP99Ms: nil,
                                 byProvider: [])
        }
    }
}
