import FoundationEssentials
import Glibc
import AishBase
import AishTelemetry

/// Prometheus as the report sees it: `/-/healthy`, and the scrape targets (up, down, with
/// the last scrape error), read with the monitoring subsystem's `PrometheusAPI`.
package struct PrometheusHealth: Sendable, Equatable {
    package struct Target: Sendable, Equatable {
        package var job: String
        package var instance: String
        package var health: String          // up, down, unknown
        package var lastError: String?
    }

    package var url: String
    package var ok: Bool
    package var httpStatus: Int?
    package var latencyMs: Double?
    package var targets: [Target]?
    package var error: String?
}

package enum PrometheusProbe {
    /// `/-/healthy`, then `/api/v1/targets`; each call bounded by half the timeout.
    package static func check(base: String, token: String? = nil, timeout: Double, interrupt: InterruptFlag) -> PrometheusHealth {
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

    package typealias Target = PrometheusHealth.Target
}
