import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// The compact terminal form: one line per section and the problems with their fixes.
package enum ReportTerminal {
    package static func render(_ r: DiagnosticReport, color: Bool) -> TerminalText {
        func paint(_ s: String, _ mark: ReportMark, bold: Bool = false) -> TerminalText {
            guard color else { return TerminalText(s) }
            let code: String
            switch mark {
            case .ok: code = "32"
            case .warning: code = "33"
            case .failed: code = "31"
            case .notConfigured: code = "2"
            }
            return TerminalText.styled(s, bold ? "1;" + code : code)
        }
        var o: [TerminalText] = []
        func add(_ line: TerminalText) { o.append(line) }
        func add(_ line: String) { o.append(TerminalText(line)) }
        add("report · \(r.host) · \(r.generatedAt) · measured in \(ReportFormatting.ms(r.durationMs))" + (r.run.map { " · run \($0)" } ?? ""))
        let s = r.summary
        let issues = r.issues
        let counts = [IssueImpact.high, .medium, .low].map { k in "\(issues.filter { $0.impact == k }.count) \(k.rawValue)" }
        add(paint(s.overall.rawValue.uppercased(), s.mark, bold: true) + "  score \(ReportFormatting.score(s.score))/10  providers \(s.providersUp)/\(s.providersActive) up  "
                 + "services \(s.servicesUp)/\(s.servicesConfigured) up  issues: \(counts.joined(separator: ", "))")
        func line(_ mark: ReportMark, _ name: String, _ text: String) {
            add("  " + paint(mark.symbol, mark) + " " + name.padded(toLength: 14) + text)
        }
        let c = r.configuration
        line(c.mark, "configuration", "\(c.valid ? "valid" : "INVALID"), \(c.errors) errors, \(c.warnings) warnings; "
             + "\(ReportMarkdown.plural(c.providers, "provider")), \(ReportMarkdown.plural(c.routes, "route")), \(ReportMarkdown.plural(c.chains, "fallback chain"))"
             + (c.checks.filter { $0.mark != .ok }.isEmpty ? "" : "; checks not passed: " + c.checks.filter { $0.mark != .ok }.map(\.name).joined(separator: ", ")))
        let p = r.providers
        let down = p.providers.filter { $0.configStatus == ProviderStatus.active.rawValue && $0.state != "up" }.map(\.name)
        line(p.mark, "providers", "\(p.up) of \(p.active) up" + (down.isEmpty ? "" : "; not up: " + down.joined(separator: ", ")))
        let g = r.gateway
        if g.mark == .notConfigured && g.provider == nil {
            line(g.mark, "gateway", "not configured")
        } else if let e = g.error {
            line(g.mark, "gateway", "/health not read: " + ReportIssues.clip(e, 100))
        } else {
            let disagree = g.deployments.filter { !$0.agree }.count
            var cooling = ""
            if case let .array(cs)? = g.live?["cooled_down"], !cs.isEmpty {
                cooling = "; cooling down: " + cs.compactMap { $0["id"]?.stringValue }.joined(separator: ", ")
            }
            line(g.mark, "gateway", "\(g.deployments.filter(\.gatewayHealthy).count) of \(g.deployments.count) deployments healthy (LiteLLM /health)"
                 + (disagree > 0 ? "; \(disagree) disagree\(disagree == 1 ? "s" : "") with aish's probe" : "") + cooling)
        }
        let rt = r.routing
        if !rt.requestsSent {
            line(rt.mark, "routing", "no requests (--no-requests); \(ReportMarkdown.plural(rt.chains.count, "fallback chain"))")
        } else {
            let ok = rt.requests.filter(\.ok).count
            let fb = rt.requests.filter { $0.ok && $0.fallback }.count
            let ttfts = rt.requests.compactMap(\.ttftMs)
            let cut = [rt.cancelled > 0 ? "\(rt.cancelled) cancelled" : nil, rt.notRun > 0 ? "\(rt.notRun) not run" : nil].compactMap { $0 }
            line(rt.mark, "routing", (rt.complete ? "" : "incomplete: ")
                 + "\(ok) of \(rt.requests.count) requests answered" + (fb > 0 ? ", \(fb) after a fallback" : "")
                 + (cut.isEmpty ? "" : ", " + cut.joined(separator: ", "))
                 + (ttfts.isEmpty ? "" : "; TTFT \(ReportFormatting.ms(ttfts.min()))–\(ReportFormatting.ms(ttfts.max()))"))
        }
        let m = r.monitoring
        if m.configured == 0 {
            line(m.mark, "monitoring", "not configured")
        } else {
            let parts = [("prometheus", m.prometheus.mark), ("grafana", m.grafana.mark), ("redis", m.redis.mark)]
                .filter { $0.1 != .notConfigured }.map { "\($0.0) \($0.1.words)" }
            line(m.mark, "monitoring", "\(m.up) of \(m.configured) answering: " + parts.joined(separator: ", "))
        }
        let res = r.resources
        var rl = "CPU \(ReportFormatting.percent(res.totalCPUPercent)), memory \(ReportFormatting.mib(res.totalRSSMiB))"
        if res.recent.available {
            rl += "; last hour: \(res.recent.requests) requests, \(ReportFormatting.percent(res.recent.errorRate * 100)) errors"
            if let t = res.recent.ttftP50Ms { rl += ", TTFT p50 \(ReportFormatting.ms(t))" }
        }
        line(res.mark, "resources", rl)
        if let cmp = r.comparison {
            add("changes since run \(cmp.baseRun): " + (cmp.changes.isEmpty && cmp.newIssues.isEmpty && cmp.resolvedIssues.isEmpty ? "none" : ""))
            for ch in cmp.changes { add("  \(ch.what): \(ch.before) → \(ch.after)") }
            for n in cmp.newIssues { add("  new: \(n)") }
            for n in cmp.resolvedIssues { add("  resolved: \(n)") }
        }
        if !issues.isEmpty {
            add("issues:")
            for (k, i) in issues.enumerated() {
                let mark: ReportMark = i.impact == .high ? .failed : (i.impact == .medium ? .warning : .notConfigured)
                add("  \(k + 1). " + paint("[\(i.impact.rawValue)]", mark) + " \(i.symptom)")
                add("     fix: \(i.fix)")
            }
        }
        return TerminalText.joined(o, separator: "\n") + "\n"
    }
}
