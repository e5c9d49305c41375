import FoundationEssentials
import Glibc

/// Prometheus as the report sees it: `/-/healthy`, and the scrape targets (up, down, with
/// the last scrape error), read with the monitoring subsystem's `PrometheusAPI`.
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
    /// `/-/healthy`, then `/api/v1/targets`; each call bounded by half the timeout.
    static func check(base: String, token: String? = nil, timeout: Double, interrupt: InterruptFlag) -> PrometheusHealth {
        var api = PrometheusAPI(baseURL: base, queryTimeout: max(0.1, timeout / 2), connectTimeout: min(3, timeout),
                                bearerToken: token)
        api.transportGrace = 0
        var out = PrometheusHealth(url: api.baseURL + "/-/healthy", ok: false)
        let started = MonotonicClock.now()
        do {
            try api.healthy(interrupt: interrupt)
            out.ok = true
            out.httpStatus = 200
            out.latencyMs = (MonotonicClock.now() - started) * 1000
        } catch let e as PrometheusError {
            if case let .status(code) = e.kind { out.httpStatus = code }
            out.error = e.description
            return out
        } catch {
            out.error = "\(error)"
            return out
        }
        do {
            out.targets = try api.targets(interrupt: interrupt).map { t in
                Target(job: t.job, instance: t.instance, health: t.health.rawValue,
                       lastError: (t.lastError?.isEmpty ?? true) ? nil : t.lastError)
            }
        } catch {
            // Healthy, but its targets are unknown (an answer past its cap, say): a warning.
            out.error = "targets: \(error)"
        }
        return out
    }

    typealias Target = PrometheusHealth.Target
}
