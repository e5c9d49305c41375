import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// The report as Markdown: what an operator would write by hand, with headings, tables and
/// check marks, to be handed on as it is.
package enum ReportMarkdown {
    package static func render(_ r: DiagnosticReport) -> String {
        var o: [String] = []
        o.append("# Infrastructure report: \(r.host)")
        o.append("")
        var intro = "Measured \(r.generatedAt) by aish \(r.aishVersion) in \(ReportFormatting.ms(r.durationMs)) "
            + "(overall probe timeout \(ReportFormatting.seconds(r.timeoutSeconds))), configuration `\(r.configuration.directory)`."
        if let run = r.run { intro += " Stored as run \(run): `aish report --compare \(run)` shows what changed since." }
        o.append(intro)
        o.append("")
        summary(r, &o)
        if let c = r.comparison { comparison(c, &o) }
        configuration(r.configuration, &o)
        providers(r.providers, &o)
        gateway(r.gateway, &o)
        routing(r.routing, &o)
        monitoring(r.monitoring, &o)
        resources(r, &o)
        issues(r.issues, &o)
        o.append("## Architecture")
        o.append("")
        o.append("```text")
        o.append(contentsOf: r.architecture)
        o.append("```")
        o.append("")
        o.append("Marks: ✓ ok · ⚠ warning · ✗ failed · – not configured.")
        return o.joined(separator: "\n") + "\n"
    }

    package static func heading(_ title: String, _ mark: ReportMark) -> String { "## \(mark.symbol) \(title)" }

    package static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    package static func cell(_ s: String) -> String {
        s.replacingAll("|", with: "\\|").replacingAll("\n", with: " ")
    }

    package static func table(_ headers: [String], _ rows: [[String]], _ o: inout [String]) {
        o.append("| " + headers.joined(separator: " | ") + " |")
        o.append("|" + headers.map { _ in "---|" }.joined())
        for r in rows { o.append("| " + r.map(cell).joined(separator: " | ") + " |") }
        o.append("")
    }

    package static func status(_ mark: ReportMark, _ words: String? = nil) -> String { "\(mark.symbol) \(words ?? mark.words)" }

    private static func summary(_ r: DiagnosticReport, _ o: inout [String]) {
        let s = r.summary
        o.append(heading("Summary", s.mark))
        o.append("")
        o.append("**Status: \(s.overall.rawValue)** · health score **\(ReportFormatting.score(s.score)) / 10** · "
                 + "providers up **\(s.providersUp) of \(s.providersActive)** · services up **\(s.servicesUp) of \(s.servicesConfigured)** · "
                 + "\(r.issues.count) issue\(r.issues.count == 1 ? "" : "s") (\(count(r.issues, .high)) high, \(count(r.issues, .medium)) medium, \(count(r.issues, .low)) low)")
        o.append("")
        if s.topProblems.isEmpty {
            o.append("No problems found.")
        } else {
            o.append("Most important problems:")
            o.append("")
            for (k, p) in s.topProblems.enumerated() { o.append("\(k + 1). \(p)") }
        }
        o.append("")
        table(["score component", "weight", "earned", "basis"], s.scoreComponents.map { c in
            [c.name, JSONValue.format(c.weight), c.earned.map { JSONValue.format($0) } ?? "n/a", c.basis]
        }, &o)
        o.append("Score = 10 × earned ÷ the weights that apply (a component shown n/a is left out).")
        o.append("")
    }

    private static func count(_ issues: [ReportIssue], _ impact: IssueImpact) -> Int { issues.filter { $0.impact == impact }.count }

    private static func comparison(_ c: ReportComparison, _ o: inout [String]) {
        o.append("## Changes since run \(c.baseRun) (\(c.baseGeneratedAt))")
        o.append("")
        if c.changes.isEmpty && c.newIssues.isEmpty && c.resolvedIssues.isEmpty {
            o.append("Nothing changed.")
            o.append("")
            return
        }
        if !c.changes.isEmpty { table(["what", "before", "now"], c.changes.map { [$0.what, $0.before, $0.after] }, &o) }
        for i in c.newIssues { o.append("- new: \(i)") }
        for i in c.resolvedIssues { o.append("- resolved: \(i)") }
        if !c.newIssues.isEmpty || !c.resolvedIssues.isEmpty { o.append("") }
    }

    private static func configuration(_ c: ConfigurationSection, _ o: inout [String]) {
        o.append(heading("Configuration", c.mark))
        o.append("")
        o.append("\(c.valid ? "Valid" : "**Invalid**"): \(c.errors) error\(c.errors == 1 ? "" : "s"), \(c.warnings) warning\(c.warnings == 1 ? "" : "s") in `\(c.directory)`. "
                 + "\(plural(c.providers, "provider")) (\(c.activeProviders) active), \(plural(c.routes, "route")), \(plural(c.chains, "fallback chain")), \(plural(c.gatewayModels, "gateway model")).")
        o.append("")
        table(["file", "status", "errors", "warnings", "first findings"], c.files.map { f in
            [f.file, status(f.mark, f.present ? nil : (f.required ? "missing" : "absent")), String(f.errors), String(f.warnings),
             f.firstFindings.isEmpty ? "" : f.firstFindings.joined(separator: "<br>")]
        }, &o)
        o.append("Cross-file checks:")
        o.append("")
        for k in c.checks {
            var line = "- [\(k.mark == .ok ? "x" : " ")] \(k.mark.symbol) \(k.name)"
            if k.findings > 0 { line += " — \(k.findings) finding\(k.findings == 1 ? "" : "s")" }
            o.append(line)
            for f in k.firstFindings { o.append("  - `\(f)`") }
        }
        o.append("")
        if c.backups.isEmpty {
            o.append("Backups kept by `config generate`: none.")
        } else {
            o.append("Backups kept by `config generate`: \(c.backups.count) (newest `\(c.backups[0])`).")
        }
        o.append("")
    }

    private static func providers(_ p: ProvidersSection, _ o: inout [String]) {
        o.append(heading("Providers", p.mark))
        o.append("")
        o.append("\(p.up) of \(p.active) active providers up.")
        o.append("")
        table(["provider", "type", "status", "port", "models served", "response time", "CPU", "RSS", "GPU"], p.providers.map { r in
            let st = r.configStatus == ProviderStatus.active.rawValue ? status(r.mark, r.state) : status(r.mark, r.configStatus)
            return [r.name, r.type, st, r.port.map(String.init) ?? "–", r.modelsServed.map(String.init) ?? "–", ReportFormatting.ms(r.latencyMs),
                    ReportFormatting.percent(r.cpuPercent), ReportFormatting.mib(r.rssMiB), r.gpuMiB.map { "\($0) MiB" } ?? "–"]
        }, &o)
        o.append("Models served next to those declared:")
        o.append("")
        for r in p.providers where r.configStatus != ProviderStatus.template.rawValue {
            var line = "- **\(r.name)**: "
            if r.state == "up" {
                line += r.served.isEmpty ? "serves no model list" : "serves \(r.served.map { "`\($0)`" }.joined(separator: ", "))"
                line += r.declared.isEmpty ? "; declares none" : "; declares \(r.declared.map { "`\($0)`" }.joined(separator: ", "))"
                if !r.missing.isEmpty { line += "; **missing**: \(r.missing.joined(separator: ", "))" }
                if !r.unexpected.isEmpty { line += "; not declared: \(r.unexpected.joined(separator: ", "))" }
            } else {
                line += "declares \(r.declared.isEmpty ? "none" : r.declared.map { "`\($0)`" }.joined(separator: ", "))"
                line += r.state == "down" ? "; down: \(r.error ?? "no answer")" : "; \(r.note ?? r.state)"
            }
            o.append(line)
        }
        o.append("")
        let notRunning = p.services.filter { $0.state != "up" }
        if p.services.isEmpty {
            o.append("Services: not measured.")
        } else if notRunning.isEmpty {
            o.append("Services: all \(p.services.count) running.")
        } else {
            o.append("Services not running:")
            o.append("")
            for s in notRunning {
                o.append("- \(s.mark.symbol) **\(s.name)** (port \(s.port), \(s.required ? "required" : "not required")): \(s.state)"
                         + (s.error.map { ", \($0)" } ?? "") + (s.unit.map { "; unit `\($0)`" } ?? ""))
            }
        }
        o.append("")
    }

    private static func gateway(_ g: GatewaySection, _ o: inout [String]) {
        o.append(heading("Gateway", g.mark))
        o.append("")
        guard g.mark != .notConfigured || g.provider != nil else {
            o.append("Not configured: \(g.note ?? "no gateway").")
            o.append("")
            return
        }
        gatewayLive(g, &o)
        if let e = g.error {
            o.append("LiteLLM's own health check `\(g.url ?? "/health")` of **\(g.provider ?? "?")** could not be read: \(e)")
            o.append("")
            return
        }
        o.append("LiteLLM's own health check `\(g.url ?? "/health")` of **\(g.provider ?? "?")** (answered \(g.httpStatus.map(String.init) ?? "?") in \(ReportFormatting.ms(g.latencyMs))): "
                 + "\(g.healthy) healthy, \(g.unhealthy) unhealthy deployment\(g.unhealthy == 1 ? "" : "s"). It sends a real request to every deployment, next to aish's own probe of the same backend:")
        o.append("")
        table(["deployment", "model", "backend", "gateway /health", "aish probe", "agree"], g.deployments.map { d in
            [d.modelName, d.model, d.provider ?? d.apiBase ?? "?",
             d.gatewayHealthy ? "✓ healthy" : "✗ " + ReportIssues.clip(d.gatewayError ?? "unhealthy", 120),
             d.aishProbe == "up" ? "✓ up (\(ReportFormatting.ms(d.aishLatencyMs)))" : (d.aishProbe == "down" ? "✗ down" : "– \(d.aishProbe)"),
             d.agree ? "yes" : "**no**"]
        }, &o)
        if g.deployments.contains(where: { !$0.agree }) {
            o.append("Where the two disagree, the gateway's check is the stricter one: it runs a completion with the deployment's own parameters, while aish's probe only asks the backend's health endpoint.")
            o.append("")
        }
    }

    /// The gateway's processes and the Router's cooldowns in Redis (GatewayStatus.json).
    private static func gatewayLive(_ g: GatewaySection, _ o: inout [String]) {
        if let live = g.live {
            var processes: [String] = []
            if case let .array(rs)? = live["replicas"] {
                for r in rs { processes.append((r["up"] == .bool(true) ? "✓ " : "✗ ") + "`\(r["url"]?.stringValue ?? "?")`") }
            }
            if !processes.isEmpty { o.append("Gateway processes: " + processes.joined(separator: ", ") + ".") }
            if let e = live["error"]?.stringValue {
                o.append("Cooldowns: \(e).")
            } else if case let .array(cs)? = live["cooled_down"] {
                if cs.isEmpty {
                    o.append("Cooldowns: none (Redis `\(live["redis"]?.stringValue ?? "?")`).")
                } else {
                    o.append("Cooldowns (the gateway skips these deployments until they end):")
                    o.append("")
                    table(["deployment", "model group", "seconds left", "why"], cs.map { c in
                        [c["id"]?.stringValue ?? "?", c["model_group"]?.stringValue ?? "-",
                         c["cooldown_s"]?.doubleValue.map { String(Int($0.rounded(.up))) } ?? "-",
                         ReportIssues.clip(c["cooldown_reason"]?.stringValue ?? "-", 120)]
                    }, &o)
                }
            }
        }
        if !g.neverCooledDown.isEmpty {
            o.append("Never cooled down by the gateway (the only deployment of its group, LiteLLM 1.108.7): "
                     + g.neverCooledDown.map { "`\($0)`" }.joined(separator: ", ") + ".")
        }
        o.append("")
    }

    private static func routing(_ r: RoutingSection, _ o: inout [String]) {
        o.append(heading("Routing", r.mark))
        o.append("")
        if let n = r.note { o.append(n.prefix(1).uppercased() + n.dropFirst() + "."); o.append("") }
        if !r.requests.isEmpty {
            o.append("One short request (“\(RouteProbe.prompt)”, at most \(RouteProbe.maxTokens) tokens) per route group, through the gateway and routed by aish directly:")
            o.append("")
            table(["route group", "path", "result", "answered by", "TTFT", "total", "fallback"], r.requests.map { q in
                [q.group, q.path, q.ok ? status(q.mark, "ok") : "✗ " + ReportIssues.clip(q.error ?? "failed", 100), q.ok ? (q.provider ?? "–") : "–",
                 ReportFormatting.ms(q.ttftMs), ReportFormatting.ms(q.totalMs),
                 q.fallback ? "yes" + (q.fallbackFrom.map { ", from \($0)" } ?? "") : "no"]
            }, &o)
        }
        if !r.chains.isEmpty {
            o.append("Fallback chains and the plan aish would use now:")
            o.append("")
            table(["name", "configured chain", "attempt plan"], r.chains.map { c in
                [c.model, c.chain.isEmpty ? "–" : c.chain.joined(separator: " → "), c.plan.joined(separator: " → ")]
            }, &o)
        }
    }

    private static func monitoring(_ m: MonitoringSection, _ o: inout [String]) {
        o.append(heading("Monitoring", m.mark))
        o.append("")
        var rows: [[String]] = []
        let p = m.prometheus
        var pd: [String] = []
        if p.mark != .notConfigured {
            if let h = p.healthy { pd.append(h ? "/-/healthy ok" : "/-/healthy failed") }
            if let up = p.targetsUp, let down = p.targetsDown { pd.append("targets: \(up) up, \(down) down") }
            if !p.downTargets.isEmpty { pd.append("down: " + p.downTargets.joined(separator: "; ")) }
            if let e = p.error { pd.append(e) }
        }
        rows.append(["Prometheus", status(p.mark), p.url ?? "–", ReportFormatting.ms(p.latencyMs), pd.joined(separator: "; ")])
        let g = m.grafana
        var gd: [String] = []
        if let d = g.database { gd.append("database \(d)") }
        if let v = g.version { gd.append("version \(v)") }
        if let e = g.error { gd.append(e) }
        rows.append(["Grafana", status(g.mark), g.url ?? "–", ReportFormatting.ms(g.latencyMs), gd.joined(separator: "; ")])
        let r = m.redis
        var rd: [String] = []
        if r.mark == .ok { rd.append("PONG") }
        if let v = r.version { rd.append("version \(v)") }
        if let k = r.dbSize { rd.append("\(k) keys") }
        if let k = r.litellmCacheEntries { rd.append("\(k) LiteLLM cache entries") }
        if let u = r.usedMemory { rd.append("\(u) used") }
        if let e = r.error { rd.append(e) }
        rows.append(["Redis", status(r.mark), r.address ?? "–", ReportFormatting.ms(r.latencyMs), rd.joined(separator: "; ")])
        table(["service", "status", "address", "response time", "details"], rows, &o)
        if m.configured == 0 {
            o.append("No monitoring service is configured (ports.yaml names none called prometheus, grafana or redis).")
            o.append("")
        }
    }

    private static func resources(_ r: DiagnosticReport, _ o: inout [String]) {
        let res = r.resources
        o.append(heading("Resources and performance", res.mark))
        o.append("")
        let running = r.providers.services.filter { $0.pid != nil }
        if !running.isEmpty {
            table(["service", "pid", "CPU", "RSS", "GPU memory"], running.map { s in
                [s.name, s.pid.map(String.init) ?? "–", ReportFormatting.percent(s.cpuPercent), ReportFormatting.mib(s.rssMiB),
                 s.gpuMiB.map { "\($0) MiB" } ?? "–"]
            }, &o)
        }
        o.append("Total: CPU \(ReportFormatting.percent(res.totalCPUPercent)), memory \(ReportFormatting.mib(res.totalRSSMiB)). GPU: \(res.gpu).")
        o.append("")
        let times = r.providers.providers.filter { $0.latencyMs != nil }
        if !times.isEmpty {
            o.append("Health response times: " + times.map { "\($0.name) \(ReportFormatting.ms($0.latencyMs))" }.joined(separator: ", ") + ".")
            o.append("")
        }
        let f = res.recent
        o.append("Requests in the last \(f.windowSeconds / 60) minutes (session log):")
        o.append("")
        if !f.available {
            o.append(f.note ?? "not available")
        } else if f.requests == 0 {
            o.append("No requests.")
        } else {
            table(["provider", "requests", "error rate", "TTFT p50", "latency p50", "latency p99"],
                  [["all", String(f.requests), ReportFormatting.percent(f.errorRate * 100), ReportFormatting.ms(f.ttftP50Ms),
                    ReportFormatting.ms(f.latencyP50Ms), ReportFormatting.ms(f.latencyP99Ms)]]
                    + f.byProvider.map { p in
                        [p.provider, String(p.requests), ReportFormatting.percent(p.errorRate * 100), ReportFormatting.ms(p.ttftP50Ms),
                         ReportFormatting.ms(p.latencyP50Ms), ReportFormatting.ms(p.latencyP99Ms)]
                    }, &o)
            o.append("TTFT p99 \(ReportFormatting.ms(f.ttftP99Ms)) over all requests.")
        }
        o.append("")
    }

    private static func issues(_ list: [ReportIssue], _ o: inout [String]) {
        o.append(heading("Issues and recommendations", list.isEmpty ? .ok : (list[0].impact == .low ? .warning : .failed)))
        o.append("")
        if list.isEmpty {
            o.append("None.")
            o.append("")
            return
        }
        for (k, i) in list.enumerated() {
            o.append("\(k + 1). **\(i.symptom)** (impact: \(i.impact.rawValue), \(i.section))")
            o.append("   - Cause: \(i.cause)")
            o.append("   - Fix: \(i.fix)")
        }
        o.append("")
    }
}
