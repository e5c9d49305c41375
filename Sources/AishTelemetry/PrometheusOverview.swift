import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// What Prometheus says about the deployment at a glance: its scrape targets (up or down,
/// with the last scrape error) and the alerts pending or firing. Shown by `status` (and
/// `report`); never fails: an unreachable Prometheus is one line.
package struct PrometheusOverview: Sendable {
    package var url: String
    package var targets: [PrometheusTarget]
    package var alerts: [PrometheusAlert]
    /// Why Prometheus could not be read (down, timeout, not a Prometheus): one line.
    package var error: String?

    package init(url: String, targets: [PrometheusTarget], alerts: [PrometheusAlert], error: String? = nil) {
        self.url = url
        self.targets = targets
        self.alerts = alerts
        self.error = error
    }

    package static func fetch(_ api: PrometheusAPI, interrupt: InterruptFlag?) -> PrometheusOverview {
        var o = PrometheusOverview(url: api.baseURL, targets: [], alerts: [], error: nil)
        do {
            o.targets = try api.targets(interrupt: interrupt)
            o.alerts = try api.alerts(interrupt: interrupt).filter { $0.state == .firing || $0.state == .pending }
        } catch let e as PrometheusError {
            o.error = e.description
        } catch {
            o.error = "Prometheus at \(api.baseURL): \(error)"
        }
        return o
    }

    /// The overview of the configured Prometheus; nil when none is configured.
    package static func fetch(_ config: AishConfig, environment: [String: String], interrupt: InterruptFlag?) -> PrometheusOverview? {
        let m = config.monitoring
        guard let prom = m.prometheus else { return nil }
        var token: String?
        if let v = m.prometheusKeyVariable {
            token = environment[v]
            if token?.isEmpty ?? true {
                return PrometheusOverview(url: prom.url, targets: [], alerts: [],
                                          error: "monitoring.prometheus_key_env names \(v), which is not set in the environment")
            }
        }
        // status waits for nobody: a short query timeout.
        return fetch(PrometheusAPI(baseURL: prom.url, queryTimeout: min(m.queryTimeout, 3), connectTimeout: 2,
                                   bearerToken: token), interrupt: interrupt)
    }

    package var up: Int { targets.filter { $0.health == .up }.count }
    package var down: Int { targets.filter { $0.health == .down }.count }
    package var firing: Int { alerts.filter { $0.state == .firing }.count }

    package func text(now: Date = Date()) -> String {
        if let error { return "Prometheus \(url): \(error)\n" }
        var out = "Prometheus \(url): \(targets.count) target\(targets.count == 1 ? "" : "s"), \(up) up, \(down) down"
        out += " · \(firing) alert\(firing == 1 ? "" : "s") firing\n"
        var table = ReportTable(["TARGET", "JOB", "HEALTH", "LAST SCRAPE", "ERROR"])
        for t in targets.sorted(by: { ($0.job, $0.instance) < ($1.job, $1.instance) }) {
            let age = t.lastScrape.map { Self.age(now.timeIntervalSince($0)) } ?? "never"
            table.add([t.instance, t.job, t.health.rawValue, age, t.lastError ?? ""])
        }
        if !targets.isEmpty { out += table.render(indent: "  ") }
        for a in alerts {
            var line = "  \(a.state.rawValue): \(a.name)"
            if let sev = a.labels[label: "severity"] { line += " (\(sev))" }
            if let s = a.summary { line += " \(s)" }
            if let at = a.activeAt { line += " · since \(Self.age(now.timeIntervalSince(at))) ago" }
            out += line + "\n"
        }
        return out
    }

    package var json: JSONValue {
        func time(_ d: Date?) -> JSONValue {
            guard let d else { return .null }
            return .string(UTCTime.iso8601(d))
        }
        return .object([
            ("url", .string(url)),
            ("error", error.map(JSONValue.string) ?? .null),
            ("up", .int(up)), ("down", .int(down)), ("firing", .int(firing)),
            ("targets", .array(targets.map { t in
                .object([("instance", .string(t.instance)), ("job", .string(t.job)), ("health", .string(t.health.rawValue)),
                         ("last_error", t.lastError.map(JSONValue.string) ?? .null), ("last_scrape", time(t.lastScrape)),
                         ("scrape_url", .string(t.scrapeURL))])
            })),
            ("alerts", .array(alerts.map { a in
                .object([("name", .string(a.name)), ("state", .string(a.state.rawValue)),
                         ("labels", .object(a.labels.map { ($0.name, .string($0.value)) })),
                         ("summary", a.summary.map(JSONValue.string) ?? .null), ("active_at", time(a.activeAt))])
            })),
        ])
    }

    package static func age(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(Int(s))s" }
        if s < 3600 { return "\(Int(s / 60))m" }
        if s < 86400 { return "\(Int(s / 3600))h" }
        return "\(Int(s / 86400))d"
    }
}
