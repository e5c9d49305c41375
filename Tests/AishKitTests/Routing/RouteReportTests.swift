import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishRouting

@Suite struct RouteReportTests {
    static func config() -> AishConfig {
        var c = RoutingTestConfig()
        c.provider("gpu", models: ["Qwen/Coder-AWQ"])
        c.provider("local", models: ["small"])
        c.provider("off", models: ["x"], status: .disabled)
        c.exact("coder", "gpu", backend: "Qwen/Coder-AWQ", fallback: "local")
        c.exact("small", "local")
        c.exact("x", "off")
        c.chain("coder", ["x", "small"])
        c.pattern("^Qwen/.*", "gpu")
        c.defaults(provider: "local")
        return c.config
    }

    @Test func planTextNamesEveryStepItsRuleAndWhySomeAreSkipped() {
        let clock = ManualClock()
        let state = RouterState(clock: { clock.now }, seed: 1)
        let router = Router(config: Self.config())
        for _ in 0..<3 {
            state.finish(state.begin(provider: "gpu", routeKey: "coder"), outcome: .failure(.http(status: 500)),
                         rules: router.specialCases)
        }
        let until = RouteReport.clockTime(clock.now.addingTimeInterval(300))
        let report = RouteReport(plan: router.plan(for: "coder", state: state, advance: false), router: router, state: state)
        #expect(report.text == """
            coder: exact match 'coder' (model-mappings.yaml:2:3)
               -  gpu    Qwen/Coder-AWQ
                  exact match 'coder' — model-mappings.yaml:2:3
                  skipped: cooled down until \(until) (3 failures in a row (error_threshold 3, cooldown_seconds 300))
               1  local  small
                  fallback_chains['coder'] step 2 'small': exact match 'small' — model-mappings.yaml:5:3
               -  off    x
                  aish only: fallback_chains['coder'] step 1 'x' (exact match, model-mappings.yaml:4:3) — model-mappings.yaml:5:3
                  skipped: provider off is disabled (providers.yaml:30:3)

            """)
        let result = CommandResult(report: report)
        #expect(result.field("provider") == .string("local"))
        #expect(result.field("attempts") == .int(1))
        #expect(result.field("skipped") == .int(2))
        let json = result.jsonForm
        #expect(json["steps"]?[0]?["status"] == .string("skipped"))
        #expect(json["steps"]?[1]?["attempt"] == .int(1))
        #expect(json["steps"]?[2]?["skip_reason"] == .string("provider off is disabled (providers.yaml:30:3)"))
    }

    @Test func aPlanWithNothingToTryFailsAndSaysSo() {
        let router = Router(config: Self.config())
        let state = RouterState()
        let result = CommandResult(report: RouteReport(plan: router.plan(for: "x", state: state, advance: false), router: router,
                                                       state: state))
        #expect(result.status == .error)
        #expect(result.error == "no target for 'x' can be tried now")
        #expect(result.field("provider") == .null)
        #expect(result.field("attempts") == 0)
        #expect(result.jsonForm["error"] == "no target for 'x' can be tried now")
        #expect(result.text.contains("      skipped: provider off is disabled (providers.yaml:30:3)\n"))
    }

    @Test func allTableListsNamesPatternsAndTheDefault() throws {
        let router = Router(config: Self.config())
        let table = RouteTable(router: router, state: RouterState())
        #expect(table.text == """
            NAME             RULE              GOES TO  MODEL                 THEN
            coder            exact match       gpu      Qwen/Coder-AWQ        +1 fallback, 1 skipped
            small            exact match       local    small                 no fallback
            x                exact match       -        -                     nothing can be tried now (1 skipped)
            ^Qwen/.*         pattern           gpu      (the name asked for)  no fallback
            (anything else)  default provider  local    (the name asked for)  no fallback

            """)
        // `routes` and `patterns` are the lists in expect and --json alike; their counts have names of their own.
        let result = CommandResult(report: table)
        try ReportAgreement.check(result, ["route_count", "pattern_count"], report: ReportShape(RouteTable.self))
        #expect(result.field("route_count") == 3)
        #expect(result.field("pattern_count") == 2)
        #expect(result.jsonForm["routes"]?[2]?["plan"]?["provider"] == .null)
        #expect(result.jsonForm["patterns"]?[0]?["pattern"] == "^Qwen/.*")
        #expect(result.status == .ok)
    }
}
