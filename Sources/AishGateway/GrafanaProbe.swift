import FoundationEssentials
import Glibc
import AishBase
import AishHTTP
import AishProviders

/// What Grafana's `/api/health` says: the server answers, its database is reachable, and
/// which version runs. The endpoint needs no login.
package struct GrafanaHealth: Sendable, Equatable {
    package var url: String
    package var ok: Bool
    package var httpStatus: Int?
    package var latencyMs: Double?
    package var database: String?
    package var version: String?
    package var error: String?
}

package enum GrafanaProbe {
    package static func healthURL(base: String) -> String { ProviderEndpoints(baseURL: base).url("/api/health") }

    /// GET /api/health. Healthy when it answers 200 with `"database": "ok"`.
    package static func check(base: String, timeout: Double, interrupt: InterruptFlag) -> GrafanaHealth {
        let url = healthURL(base: base)
        let request = HTTPRequest(url: url, timeouts: HTTPTimeouts(connect: timeout, firstByte: timeout, idle: timeout, total: timeout))
        let shown = request.displayURL
        do {
            let r = try HTTPTransport.fetch(request, interrupt: interrupt, maxBody: HTTPTransport.BodyCap.grafana)
            let latency = r.timings.total * 1000
            guard let json = try? r.json(), case .object = json else {
                return GrafanaHealth(url: shown, ok: false, httpStatus: r.head.status, latencyMs: latency,
                                     error: "GET \(shown): answered \(r.head.status) without Grafana's health JSON: \(ServerErrorText.clip(r.bodyText, 120))")
            }
            let database = json["database"]?.stringValue
            let version = json["version"]?.stringValue
            var error: String?
            if !r.head.isSuccess { error = "GET \(shown): answered \(r.head.status)" }
            else if database != "ok" { error = "Grafana's database is '\(database ?? "unknown")', not ok" }
            return GrafanaHealth(url: shown, ok: error == nil, httpStatus: r.head.status, latencyMs: latency,
                                 database: database, version: version, error: error)
        } catch {
            return GrafanaHealth(url: shown, ok: false, error: "\(error)")
        }
    }
}
