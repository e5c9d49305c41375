import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishConfig
import AishProviders
import AishRouting

/// How a drill makes the first target fail.
package enum DrillPath: String, Sendable, CaseIterable {
    /// aish's own router: the first target is marked failed for that request only.
    case direct
    /// Through a LiteLLM gateway: its fault switch `mock_testing_fallbacks` fails the model
    /// group, and the deployment that answered is read from the response headers.
    case gateway
}

/// One drill, planned from `route`'s plan before anything is sent: which target fails, and
/// which one must answer instead.
package struct DrillCase {
    package var name: String
    package var path: DrillPath
    /// The plan the request follows (direct), or the gateway's model group's plan (gateway).
    package var plan: AttemptPlan
    /// The target made to fail (nil when --kill makes it fail for real).
    package var failed: PlanStep?
    package var expected: PlanStep?
    /// Gateway drills: the gateway provider and the model group asked for.
    package var gateway: ProviderConfig?
    package var group: String?
    /// Why the drill cannot run (no fallback, no gateway serves the name); it then fails.
    package var problem: String?
}

/// Plans drills from the router's plans (never a copy of the routing logic).
package struct DrillPlanner {
    package let router: Router
    package let state: RouterState
    package let environment: [String: String]
    /// The provider stopped by --kill: it fails for real, so nothing is marked.
    package var killed: String?

    /// The steps `chat` would try now, in order (usable, not cooled down, key set).
    package func ready(_ plan: AttemptPlan) -> [PlanStep] {
        RouteReport(plan: plan, router: router, state: state, environment: environment).rows
            .filter { $0.number != nil }.map(\.step)
    }

    /// Names worth drilling when none are given: every configured name whose plan has a
    /// fallback (with --kill: those whose first target is on the killed provider).
    package func defaultNames() -> [String] {
        router.configuredNames.filter { name in
            let plan = router.plan(for: name, state: state, advance: false)
            let steps = ready(plan)
            guard steps.count >= 2 else { return false }
            if let killed { return steps[0].provider == killed }
            return true
        }
    }

    package func directCase(_ name: String) -> DrillCase {
        let plan = router.plan(for: name, state: state, advance: false)
        var c = DrillCase(name: name, path: .direct, plan: plan)
        let steps = ready(plan)
        if let killed {
            guard let first = steps.first, first.provider == killed else {
                c.problem = "'\(name)' does not start on \(killed) (its first target is \(steps.first.map { "\($0.provider) · \($0.backendModel)" } ?? "none")): stopping \(killed) does not test its fallback"
                return c
            }
            c.expected = steps.first { $0.provider != killed }
            if c.expected == nil { c.problem = "'\(name)' has no fallback off \(killed) (see: route \(name))" }
            return c
        }
        guard steps.count >= 2 else {
            c.problem = steps.isEmpty ? "'\(name)' has no target that can be tried now (see: route \(name))"
                : "'\(name)' has no fallback: its plan has one target that can be tried now (see: route \(name))"
            return c
        }
        c.failed = steps[0]
        c.expected = steps[1]
        return c
    }

    /// The gateway that serves `name`: the name's own first target when that is a LiteLLM
    /// provider (its backend model is the model group), else the first active LiteLLM
    /// provider that lists the name among its models.
    package func gatewayCase(_ name: String) -> DrillCase {
        let namePlan = router.plan(for: name, state: state, advance: false)
        var c = DrillCase(name: name, path: .gateway, plan: namePlan)
        var gateway: ProviderConfig?
        var group = name
        if let first = ready(namePlan).first, let p = router.provider(named: first.provider), p.type == .litellm {
            gateway = p
            group = first.backendModel
        } else {
            // One that lists the name, else one whose generated config serves it (a model
            // group or a model_group_alias of config generate's file: every routed name).
            let gateways = router.providers.filter { $0.type == .litellm && $0.status == .active }
            gateway = gateways.first { p in p.models.contains { $0.name == name } }
                ?? (namePlan.isGatewayName ? gateways.first : nil)
        }
        guard let gateway else {
            c.problem = "no LiteLLM gateway serves '\(name)' (none is its first target, lists it under models, "
                + "or has it as a model group or alias in its generated config)"
            return c
        }
        c.gateway = gateway
        c.group = group
        // The gateway fails the whole model group (group 0 of the group's plan); the first
        // gateway-equivalent step of a later group must answer.
        let plan = router.plan(for: group, state: state, advance: false)
        c.plan = plan
        guard plan.isGatewayName else {
            c.problem = "the gateway's generated config has no model group '\(group)' (see: route \(group))"
            return c
        }
        let steps = ready(plan).filter { $0.scope == .gateway && $0.gatewayGroup != nil }
        if let killed {
            c.expected = steps.first { $0.provider != killed }
        } else {
            c.failed = steps.first { $0.gatewayGroup == 0 }
            c.expected = steps.first { $0.gatewayGroup != 0 }
        }
        if c.expected == nil {
            c.problem = "model group '\(group)' has no fallback the gateway could use (see: route \(group))"
        }
        return c
    }
}

/// Runs planned drills: one real, short request each, logged as attempts of kind `drill`
/// and as a run.
package struct DrillRunner {
    package let router: Router
    package let state: RouterState
    package let environment: [String: String]
    package let interrupt: InterruptFlag
    package var recorder: SessionRecorder?
    package var timeout: Double?
    package var maxTokens: Int
    package var killed: String?
    package var backend: (ProviderConfig) -> ChatBackend
    /// --cache: let a LiteLLM gateway answer from its response cache (else it is asked not to:
    /// a drill answered by the cache proves nothing about the backend).
    package var useGatewayCache = false

    package static let prompt = "Reply with one word: ok."

    package func run(_ c: DrillCase) -> DrillReport.Row {
        var row = DrillReport.Row(name: c.name, via: c.path.rawValue, failedTarget: c.failed.map(Self.label) ?? killed.map { "\($0) (stopped)" },
                                  expected: c.expected.map(Self.label), answeredBy: nil, timeMs: nil, passed: false,
                                  error: c.problem)
        guard c.problem == nil, let expected = c.expected else { return finish(row, c) }
        var request = ChatRequest(model: c.name, messages: [ChatMessage(role: "user", content: Self.prompt)],
                                  temperature: 0, maxTokens: maxTokens)
        request.bypassGatewayCache = !useGatewayCache
        var turn = ChatTurn(router: router, state: state, environment: environment, interrupt: interrupt, backend: backend)
        turn.timeoutCap = timeout
        let outcome: ChatTurn.Outcome
        switch c.path {
        case .direct:
            turn.failFirstTarget = killed == nil
            outcome = turn.run(plan: c.plan, request: request, prompt: Self.prompt, kind: "drill") { _ in }
            if outcome.status == .ok, let p = outcome.provider, let m = outcome.backendModel {
                row.answeredBy = "\(p) · \(m)"
                row.passed = p == expected.provider && m == expected.backendModel
                if !row.passed { row.error = "answered by \(p) · \(m), not the next target in the plan" }
            }
        case .gateway:
            let gateway = c.gateway!, group = c.group!
            var step = PlanStep(provider: gateway.name, backendModel: group, routeKey: c.name,
                                reason: "drill through the gateway: model group '\(group)'" + (killed == nil ? " with mock_testing_fallbacks" : ""),
                                location: nil, unusable: nil, providerIndex: router.providers.firstIndex { $0.name == gateway.name })
            step.routeLimit = nil
            let plan = AttemptPlan(requestedModel: c.name, rule: c.plan.rule, ruleDescription: "drill '\(c.name)' via \(gateway.name)",
                                   ruleLocation: nil, steps: [step], notes: [], decision: .fixed, strategy: nil, candidates: [])
            var req = request
            if killed == nil { req.extraBody = [("mock_testing_fallbacks", .bool(true))] }
            outcome = turn.run(plan: plan, request: req, prompt: Self.prompt, kind: "drill") { _ in }
            if outcome.status == .ok {
                guard let g = outcome.gateway, let deployment = g.deployment else {
                    row.error = "\(gateway.name) answered without x-litellm-* headers: cannot tell which deployment answered"
                    break
                }
                row.answeredBy = deployment + (g.modelGroup.map { " (group \($0))" } ?? "")
                let fellBack = killed != nil || (g.attemptedFallbacks ?? 0) >= 1
                row.passed = deployment == expected.provider && fellBack
                if deployment != expected.provider {
                    row.error = "the gateway answered from \(deployment), not the next target in the plan"
                } else if !fellBack {
                    row.error = "the gateway reports no fallback (x-litellm-attempted-fallbacks: \(g.attemptedFallbacks.map(String.init) ?? "missing"))"
                }
            }
        }
        row.timeMs = (outcome.latencyMs * 10).rounded() / 10
        if outcome.status == .ok, outcome.gateway?.cacheHit == true {
            row.passed = false
            row.error = "answered from the gateway's response cache: this proves nothing about the backend"
                + (useGatewayCache ? " (drill without --cache)" : "")
        }
        if outcome.status != .ok { row.error = outcome.error ?? "the request failed" }
        if c.path == .gateway, let gateway = c.gateway, outcome.status != .ok,
           (outcome.error ?? "").contains("Mock testing request params are disabled") {
            // LiteLLM refuses the fault switch unless its admin opted in.
            row.error = "\(gateway.name) refuses LiteLLM's fault switch mock_testing_fallbacks: set `allow_drills: true` on"
                + " \(gateway.name) in providers.yaml, run `config generate` (it sets general_settings."
                + "dangerously_allow_mock_testing_request_params) and restart the gateway"
        }
        recorder?.recordAttempts(outcome.records)
        return finish(row, c)
    }

    private func finish(_ row: DrillReport.Row, _ c: DrillCase) -> DrillReport.Row {
        let parameters: JSONValue = .object([
            ("name", .string(c.name)), ("via", .string(c.path.rawValue)), ("kill", killed.map { .string($0) } ?? .null),
            ("gateway", c.gateway.map { .string($0.name) } ?? .null), ("group", c.group.map { .string($0) } ?? .null),
        ])
        let summary = (try? JSONValueEncoder.encode(row)) ?? .null
        recorder?.recordRun(RunRecord(kind: "drill", parameters: parameters, summary: summary, startedAt: Date(),
                                      durationMs: row.timeMs ?? 0))
        return row
    }

    package static func label(_ s: PlanStep) -> String { "\(s.provider) · \(s.backendModel)" }
}

/// What `drill` prints, as text or JSON, and what `expect` reads.
package struct DrillReport: CommandReport, NilEncodesAsNull {
    package struct Row: Encodable, Sendable, NilEncodesAsNull {
        package var name: String
        package var via: String
        package var failedTarget: String?
        package var expected: String?
        package var answeredBy: String?
        package var timeMs: Double?
        package var passed: Bool
        package var error: String?

        package enum CodingKeys: String, CodingKey {
            case name, via, failedTarget = "failed_target", expected, answeredBy = "answered_by", timeMs = "time_ms"
            case passed, error
        }
    }

    package var drills: Int
    package var passed: Int
    package var failed: Int
    package var killed: String?
    package var results: [Row]
    /// A problem with --kill's stop or start, which fails the command too.
    package var serviceError: String?

    package enum CodingKeys: String, CodingKey { case drills, passed, failed, killed, results, serviceError = "service_error" }

    package static let fields = [
        ReportField("drills", "drills run"),
        ReportField("passed", "drills whose next target answered"),
        ReportField("failed", "drills that did not"),
        ReportField("killed", "the provider stopped with --kill, or null"),
        ReportField("results", "per drill: name, via, failed_target, expected, answered_by, time_ms, passed, error"),
        ReportField("service_error", "what went wrong stopping or starting the --kill provider, or null"),
    ]

    package static let example = DrillReport(
        drills: 1, passed: 1, failed: 0, killed: nil,
        results: [Row(name: "smollm2-python", via: "direct", failedTarget: "llama_cpp_python · smollm2-135m",
                      expected: "llama_cpp_native · smollm2-135m", answeredBy: "llama_cpp_native · smollm2-135m",
                      timeMs: 420, passed: true, error: nil)],
        serviceError: nil)

    package func renderText() -> String {
        var t = TextTable(headers: ["NAME", "VIA", "FAILED", "EXPECTED NEXT", "ANSWERED BY", "TIME", "RESULT"])
        for r in results {
            t.add([r.name, r.via, r.failedTarget ?? "-", r.expected ?? "-", r.answeredBy ?? "-",
                   r.timeMs.map { DurationText.milliseconds($0) } ?? "-", r.passed ? "pass" : "FAIL"])
        }
        var out = t.rendered
        for r in results where !r.passed { out += "\(r.name) (\(r.via)): \(r.error ?? "failed")\n" }
        if let serviceError { out += "\(serviceError)\n" }
        out += "\(passed) passed, \(failed) failed"
        if let killed { out += " (with \(killed) stopped)" }
        return out
    }

    package var failureMessage: String? {
        if failed > 0 { return "drill: \(failed) of \(drills) drill\(drills == 1 ? "" : "s") failed" }
        return serviceError.map { "drill: \($0)" }
    }
}
