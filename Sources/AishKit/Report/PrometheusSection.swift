import Foundation

/// Prometheus as the report sees it: `/-/healthy`, and the scrape targets from
/// `/api/v1/targets` (up, down, with the last scrape error). A small reader of its own
/// until the monitoring subsystem's Prometheus API client is used here.
struct PrometheusHealth: Sendable, Equatable {
    struct Target: Sendable, Equatable {
        var job: String
        var instance: String
        var health: String          // up, down, unknown
        var lastError: String?
    }

    var url: String
    var ok: Bool
    var httpStatus: Int?
    var latencyMs: Double?
    var targets: [Target]?
    var error: String?
}

enum PrometheusProbe {
    /// GET /-/healthy and /api/v1/targets at once.
    static func check(base: String, timeout: Double, interrupt: InterruptFlag) -> PrometheusHealth {
        let e = ProviderEndpoints(baseURL: base)
        let limits = HTTPTimeouts(connect: timeout, firstByte: timeout, idle: timeout, total: timeout)
        let healthy = HTTPRequest(url: e.url("/-/healthy"), timeouts: limits)
        let targets = HTTPRequest(url: e.url("/api/v1/targets"), timeouts: limits)
        let results = HTTPTransport.fetchAll([healthy, targets], interrupt: interrupt, maxBody: 8 << 20)
        var out = PrometheusHealth(url: healthy.displayURL, ok: false)
        switch results[0] {
        case let .success(r):
            out.httpStatus = r.head.status
            out.latencyMs = r.timings.total * 1000
            out.ok = r.head.isSuccess
            if !r.head.isSuccess { out.error = "GET \(healthy.displayURL): answered \(r.head.status): \(ServerErrorText.clip(r.bodyText, 120))" }
        case let .failure(e):
            out.error = e.description
        }
        if case let .success(r) = results[1], r.head.isSuccess, let json = try? r.json() {
            out.targets = parseTargets(json)
        }
        return out
    }

    /// `data.activeTargets[]` of the targets API: job and instance labels, health, lastError.
    static func parseTargets(_ json: JSONValue) -> [PrometheusHealth.Target]? {
        guard case let .array(items)? = json["data"]?["activeTargets"] else { return nil }
        return items.map { t in
            let error = t["lastError"]?.stringValue
            return PrometheusHealth.Target(job: t["labels"]?["job"]?.stringValue ?? t["scrapePool"]?.stringValue ?? "?",
                                           instance: t["labels"]?["instance"]?.stringValue ?? t["scrapeUrl"]?.stringValue ?? "?",
                                           health: t["health"]?.stringValue ?? "unknown",
                                           lastError: (error?.isEmpty ?? true) ? nil : error)
        }
    }
}
