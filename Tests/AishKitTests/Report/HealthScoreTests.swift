import Foundation
import Testing
@testable import AishBase
@testable import AishReport

/// The documented formula of the health score and the verdict.
@Suite struct HealthScoreTests {
    let base = DiagnosticReport.example

    func deployment(_ healthy: Bool) -> GatewayDeployment {
        GatewayDeployment(modelName: "m", model: "openai/m", apiBase: nil, provider: "p", gatewayHealthy: healthy, gatewayError: nil,
                          aishProbe: "up", aishLatencyMs: nil, agree: healthy, mark: healthy ? .ok : .warning)
    }

    func request(ok: Bool, fallback: Bool = false) -> RouteRequest {
        RouteRequest(group: "g", path: "direct", mark: ok ? .ok : .failed, ok: ok, provider: nil, backendModel: nil, ttftMs: nil,
                     totalMs: nil, fallback: fallback, fallbackFrom: nil, attempts: 1, error: nil)
    }

    func score(up: Int, active: Int, deployments: [Bool]? = nil, requests: [RouteRequest]? = nil, errors: Int = 0, warnings: Int = 0,
               monitoring: (Int, Int) = (0, 0)) -> (Double, [ScoreComponent]) {
        var p = base.providers
        p.up = up
        p.active = active
        var g = base.gateway
        if let deployments {
            g.mark = .ok
            g.deployments = deployments.map(deployment)
        }
        var r = base.routing
        if let requests {
            r.requestsSent = true
            r.requests = requests
        }
        var c = base.configuration
        c.errors = errors
        c.warnings = warnings
        var m = base.monitoring
        m.up = monitoring.0
        m.configured = monitoring.1
        let components = HealthScore.components(configuration: c, providers: p, gateway: g, routing: r, monitoring: m)
        return (HealthScore.score(components), components)
    }

    @Test func everythingHealthyIsTen() {
        #expect(score(up: 3, active: 3, deployments: [true, true], requests: [request(ok: true)], monitoring: (3, 3)).0 == 10)
    }

    @Test func componentsThatDoNotApplyAreLeftOut() {
        // Only providers (4) and configuration (1) apply: 2 of 4 up → (2 + 1) / 5 × 10 = 6.
        let (s, c) = score(up: 2, active: 4)
        #expect(s == 6)
        #expect(c.map(\.name) == ["providers", "gateway", "routing", "configuration", "monitoring"])
        #expect(c.filter { $0.earned == nil }.map(\.name) == ["gateway", "routing", "monitoring"])
    }

    @Test func eachComponentEarnsItsShare() {
        // providers 4 × 3/4 = 3; gateway 2 × 1/2 = 1; routing 2 × (2 − 0.5)/3 = 1; configuration 1 − 4 × 0.05 = 0.8;
        // monitoring 1 × 1/2 = 0.5 → 6.3 of 10.
        let (s, c) = score(up: 3, active: 4, deployments: [true, false],
                           requests: [request(ok: true), request(ok: true, fallback: true), request(ok: false)],
                           warnings: 4, monitoring: (1, 2))
        #expect(c.map { $0.earned ?? -1 } == [3, 1, 1, 0.8, 0.5])
        #expect(s == 6.3)
    }

    @Test func configurationErrorsZeroTheirComponentAndWarningsCostAtMostHalf() {
        #expect(score(up: 1, active: 1, errors: 1).1.first { $0.name == "configuration" }?.earned == 0)
        #expect(score(up: 1, active: 1, warnings: 40).1.first { $0.name == "configuration" }?.earned == 0.5)
    }

    @Test func unreadableGatewayHealthEarnsNothing() {
        var p = base.providers
        p.up = 1
        p.active = 1
        var g = base.gateway
        g.mark = .failed
        g.error = "GET /health: 401"
        let c = HealthScore.components(configuration: base.configuration, providers: p, gateway: g, routing: base.routing,
                                       monitoring: base.monitoring)
        #expect(c.first { $0.name == "gateway" }?.earned == 0)
        #expect(HealthScore.score(c) == 7.1)  // (4 + 0 + 1) / 7
    }

    @Test func verdict() {
        var p = base.providers
        p.active = 2
        p.up = 0
        let low = ReportIssue(impact: .low, section: "routing", symptom: "s", cause: "c", fix: "f")
        let medium = ReportIssue(impact: .medium, section: "providers", symptom: "s", cause: "c", fix: "f")
        #expect(HealthScore.overall(providers: p, routing: base.routing, issues: []) == .down)
        p.up = 2
        var r = base.routing
        r.requestsSent = true
        r.requests = [request(ok: false), request(ok: false)]
        #expect(HealthScore.overall(providers: p, routing: r, issues: []) == .down)
        r.requests = [request(ok: false), request(ok: true)]
        #expect(HealthScore.overall(providers: p, routing: r, issues: [low]) == .operational)
        #expect(HealthScore.overall(providers: p, routing: r, issues: [low, medium]) == .degraded)
    }
}
