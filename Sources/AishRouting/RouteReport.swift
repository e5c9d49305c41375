import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishGateway

/// `route MODEL`: a plan in words and as JSON, with what the session's state does to it
/// right now (cooldowns, rate limits). Its keys are chat's names for the same things
/// (`model` is the name asked for, `provider` and `backend_model` where it would go now).
package struct RouteReport: CommandReport {
    package struct Row: Sendable {
        package var number: Int?            // attempt number; nil when the step is skipped
        package var step: PlanStep
        package var skip: String?           // why it is not tried now
        package var until: Date?
    }

    package let plan: AttemptPlan
    package let rows: [Row]

    /// A deployment of the LiteLLM gateway behind a step, with its cooldown in the gateway's
    /// Redis now (`route NAME` reads it; the gateway skips a deployment cooling down).
    package struct LiveDeployment: Sendable {
        package var id: String
        package var provider: String
        package var cooldown: GatewayState.Cooldown?
    }

    /// Row index → the gateway deployments that step stands for: the deployment itself on a
    /// gateway step, the model group's deployments on a step through a gateway provider.
    package var live: [Int: [LiveDeployment]] = [:]
    /// Why the gateway's live state is not shown (Redis down, none configured), or nil.
    package var liveNote: String?

    package init(plan: AttemptPlan, router: Router, state: RouterState, environment: [String: String]? = nil) {
        self.plan = plan
        var rows: [Row] = []
        var n = 0
        for s in plan.steps {
            if let why = s.unusable {
                rows.append(Row(number: nil, step: s, skip: why, until: nil))
                continue
            }
            switch router.availability(of: s, state: state, environment: environment) {
            case .available:
                n += 1
                rows.append(Row(number: n, step: s, skip: nil, until: nil))
            case let .cooledDown(until, reason):
                rows.append(Row(number: nil, step: s, skip: "cooled down until \(Self.clockTime(until)) (\(reason))", until: until))
            case let .rateLimited(until, reason):
                rows.append(Row(number: nil, step: s, skip: "rate limited until \(Self.clockTime(until)) (\(reason))", until: until))
            case let .missingAPIKey(reason):
                rows.append(Row(number: nil, step: s, skip: reason, until: nil))
            }
        }
        self.rows = rows
    }

    package init(plan: AttemptPlan, rows: [Row]) {
        self.plan = plan
        self.rows = rows
    }

    package var firstReady: Row? { rows.first(where: { $0.number != nil }) }

    package var failureMessage: String? { firstReady == nil ? "no target for '\(plan.requestedModel)' can be tried now" : nil }

    package static let fields = [
        ReportField("model", "the name asked for"),
        ReportField("rule", "the rule that routes it: exact match, load balancing, capability, pattern, default provider"),
        ReportField("provider", "the first target that can be tried now (null when none can)"),
        ReportField("backend_model", "the model name sent to it"),
        ReportField("attempts", "targets that would be tried now"),
        ReportField("skipped", "targets that would be skipped now"),
        ReportField("rule_description", "the rule as a phrase"),
        ReportField("location", "the rule's file:line:col"),
        ReportField("strategy", "the strategy name as configured, or null"),
        ReportField("decision", "what the strategy decided, in words, or null"),
        ReportField("steps", "each target in order: attempt, provider, backend_model, reason, location, status (ready or skipped), scope (gateway or aish only), gateway_group, skip_reason, until; the gateway's live view: deployment_id, cooldown_s, cooldown_reason (a gateway step), gateway_deployments (a step through a gateway provider: id, provider, cooldown_s, cooldown_reason)"),
        ReportField("notes", "what aish did not evaluate or had to guess"),
        ReportField("gateway", "whether the LiteLLM gateway has a model group for the name"),
        ReportField("gateway_groups", "the model groups the gateway tries, in order: name, picks, candidates"),
    ]

    package static let example: RouteReport = {
        let here = SourceLocation(file: "model-mappings.yaml", line: 2, column: 3)
        let step = PlanStep(provider: "ollama", backendModel: "llama3.1:latest", routeKey: "llama3.1", reason: "exact match 'llama3.1'",
                            location: here, scope: .gateway, gatewayGroup: 0)
        let plan = AttemptPlan(requestedModel: "llama3.1", rule: .exactMatch, ruleDescription: "exact match 'llama3.1'",
                               ruleLocation: here, steps: [step], notes: [], decision: .fixed, strategy: nil, candidates: [],
                               gatewayGroups: [GatewayGroupSummary(name: "llama3.1", candidates: [("ollama", "llama3.1:latest")], picks: 1)],
                               isGatewayName: true)
        return RouteReport(plan: plan, rows: [Row(number: 1, step: step, skip: nil, until: nil)])
    }()

    package func renderText() -> String { text }

    package var text: String {
        var out = "\(plan.requestedModel): \(plan.ruleDescription)"
        if let loc = plan.ruleLocation { out += " (\(loc.citation))" }
        out += "\n"
        if let d = plan.decisionText { out += "  chosen by \(d)\n" }
        if rows.isEmpty { out += "  no targets\n" }
        let pw = rows.map(\.step.provider.count).max() ?? 0
        for (index, r) in rows.enumerated() {
            let mark = r.number.map { String($0) } ?? "-"
            out += "  " + mark.leftPadded(to: 2) + "  " + r.step.provider.padded(to: pw) + "  " + r.step.backendModel
            out += "\n      " + (r.step.scope == .aishOnly ? "aish only: " : "") + r.step.reason
            if let loc = r.step.location { out += " — \(loc.citation)" }
            out += "\n"
            if let skip = r.skip { out += "      skipped: \(skip)\n" }
            if let deps = live[index] {
                let onStep = r.step.scope == .gateway && deps.count == 1 && deps[0].provider == r.step.provider
                for d in deps {
                    let who = onStep ? "gateway deployment \(d.id)" : "via gateway: \(d.id)"
                    if let c = d.cooldown, c.seconds != nil {
                        out += "      \(who): \(GatewayState.cooldownText(c)) — the gateway skips it\n"
                    } else if !onStep && liveNote == nil {
                        out += "      \(who): not cooling down\n"
                    }
                }
            }
        }
        if let n = liveNote { out += "  note: \(n)\n" }
        for n in plan.notes { out += "  note: \(n)\n" }
        return out
    }

    private enum CodingKeys: String, CodingKey {
        case model, rule, provider, backendModel = "backend_model", attempts, skipped, ruleDescription = "rule_description",
             location, strategy, decision, steps, notes, gateway, gatewayGroups = "gateway_groups"
    }

    private enum StepKeys: String, CodingKey {
        case attempt, provider, backendModel = "backend_model", reason, location, status, scope, gatewayGroup = "gateway_group",
             skipReason = "skip_reason", until, deploymentID = "deployment_id", cooldownS = "cooldown_s",
             cooldownReason = "cooldown_reason", gatewayDeployments = "gateway_deployments"
    }

    private enum LiveKeys: String, CodingKey { case id, provider, cooldownS = "cooldown_s", cooldownReason = "cooldown_reason" }

    private enum GroupKeys: String, CodingKey { case name, picks, candidates }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let first = firstReady
        try c.encode(plan.requestedModel, forKey: .model)
        try c.encode(plan.rule.rawValue, forKey: .rule)
        try c.encode(first?.step.provider, forKey: .provider)
        try c.encode(first?.step.backendModel, forKey: .backendModel)
        let ready = rows.filter { $0.number != nil }.count
        try c.encode(ready, forKey: .attempts)
        try c.encode(rows.count - ready, forKey: .skipped)
        try c.encode(plan.ruleDescription, forKey: .ruleDescription)
        try c.encode(plan.ruleLocation?.description, forKey: .location)
        try c.encode(plan.strategy, forKey: .strategy)
        try c.encode(plan.decisionText, forKey: .decision)
        var steps = c.nestedUnkeyedContainer(forKey: .steps)
        for (index, r) in rows.enumerated() {
            var s = steps.nestedContainer(keyedBy: StepKeys.self)
            try s.encode(r.number, forKey: .attempt)
            try s.encode(r.step.provider, forKey: .provider)
            try s.encode(r.step.backendModel, forKey: .backendModel)
            try s.encode(r.step.reason, forKey: .reason)
            try s.encode(r.step.location?.description, forKey: .location)
            try s.encode(r.skip == nil ? "ready" : "skipped", forKey: .status)
            try s.encode(r.step.scope.rawValue, forKey: .scope)
            try s.encode(r.step.gatewayGroup, forKey: .gatewayGroup)
            try s.encode(r.skip, forKey: .skipReason)
            try s.encode(r.until.map(Self.isoTime), forKey: .until)
            // The gateway's live view: this step's own deployment (a gateway step), else the
            // deployments of the model group a step through a gateway provider asks for.
            let deps = live[index] ?? []
            let own = r.step.scope == .gateway && deps.count == 1 && deps[0].provider == r.step.provider ? deps.first : nil
            try s.encode(own?.id, forKey: .deploymentID)
            try s.encode(own?.cooldown?.seconds.map { ($0 * 10).rounded() / 10 }, forKey: .cooldownS)
            try s.encode(GatewayState.reasonText(own?.cooldown), forKey: .cooldownReason)
            var list = s.nestedUnkeyedContainer(forKey: .gatewayDeployments)
            for d in own == nil ? deps : [] {
                var o = list.nestedContainer(keyedBy: LiveKeys.self)
                try o.encode(d.id, forKey: .id)
                try o.encode(d.provider, forKey: .provider)
                try o.encode(d.cooldown?.seconds.map { ($0 * 10).rounded() / 10 }, forKey: .cooldownS)
                try o.encode(GatewayState.reasonText(d.cooldown), forKey: .cooldownReason)
            }
        }
        try c.encode(plan.notes + (liveNote.map { [$0] } ?? []), forKey: .notes)
        // What the gateway does with the generated config (the differential test compares it).
        try c.encode(plan.isGatewayName, forKey: .gateway)
        var groups = c.nestedUnkeyedContainer(forKey: .gatewayGroups)
        for g in plan.gatewayGroups {
            var o = groups.nestedContainer(keyedBy: GroupKeys.self)
            try o.encode(g.name, forKey: .name)
            try o.encode(g.picks, forKey: .picks)
            try o.encode(g.candidates.map { [$0.provider, $0.model] }, forKey: .candidates)
        }
    }

    package static func clockTime(_ date: Date) -> String {
        UTCTime.localClock(date)
    }

    package static func isoTime(_ date: Date) -> String {
        UTCTime.iso8601(date)
    }
}

/// `route --all`: every configured name, pattern and the default, and where each goes now.
package struct RouteTable: CommandReport {
    package struct Entry: Sendable {
        package var name: String
        package var rule: String
        package var report: RouteReport
    }

    package let entries: [Entry]

    package init(router: Router, state: RouterState, environment: [String: String]? = nil) {
        var entries: [Entry] = []
        for name in router.configuredNames {
            let plan = router.plan(for: name, state: state, advance: false)
            entries.append(Entry(name: name, rule: Self.ruleWord(plan),
                                 report: RouteReport(plan: plan, router: router, state: state, environment: environment)))
        }
        self.entries = entries
        patterns = router.patternRows(state: state, environment: environment)
    }

    package init(entries: [Entry], patterns: [(pattern: String, report: RouteReport)]) {
        self.entries = entries
        self.patterns = patterns
    }

    /// Patterns, then the default provider (as `anythingElse`).
    package let patterns: [(pattern: String, report: RouteReport)]
    package static let anythingElse = "(anything else)"

    package static func ruleWord(_ plan: AttemptPlan) -> String {
        var word = plan.rule.rawValue
        if let s = plan.strategy { word += " (\(s))" }
        return word
    }

    package var text: String {
        var rows: [[String]] = [["NAME", "RULE", "GOES TO", "MODEL", "THEN"]]
        func row(_ name: String, _ rule: String, _ r: RouteReport, model: String? = nil) -> [String] {
            let first = r.firstReady
            let later = r.rows.filter { $0.number != nil }.count - (first == nil ? 0 : 1)
            let skipped = r.rows.filter { $0.number == nil }.count
            var then = later == 0 ? "no fallback" : "+\(later) fallback" + (later == 1 ? "" : "s")
            if skipped > 0 { then += ", \(skipped) skipped" }
            guard let first else { return [name, rule, "-", "-", "nothing can be tried now (\(skipped) skipped)"] }
            return [name, rule, first.step.provider, model ?? first.step.backendModel, then]
        }
        for e in entries { rows.append(row(e.name, e.rule, e.report)) }
        for p in patterns {
            let rule = p.pattern == RouteTable.anythingElse ? "default provider" : "pattern"
            rows.append(row(p.pattern, rule, p.report, model: "(the name asked for)"))
        }
        let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in
            (0..<5).map { c in c == 4 ? r[c] : r[c].padded(to: widths[c]) }.joined(separator: "  ")
                .trimming(.whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    package static let fields = [
        ReportField("route_count", "configured names"),
        ReportField("pattern_count", "patterns, and the default provider when there is one"),
        ReportField("routes", "each configured name: name, rule, plan (as route MODEL --json)"),
        ReportField("patterns", "each pattern and the default: pattern, plan"),
    ]

    package static let example = RouteTable(entries: [Entry(name: "llama3.1", rule: "exact match", report: RouteReport.example)],
                                    patterns: [(RouteTable.anythingElse, RouteReport.example)])

    package func renderText() -> String { text }

    private enum CodingKeys: String, CodingKey { case routeCount = "route_count", patternCount = "pattern_count", routes, patterns }
    private enum EntryKeys: String, CodingKey { case name, rule, pattern, plan }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entries.count, forKey: .routeCount)
        try c.encode(patterns.count, forKey: .patternCount)
        var routes = c.nestedUnkeyedContainer(forKey: .routes)
        for e in entries {
            var o = routes.nestedContainer(keyedBy: EntryKeys.self)
            try o.encode(e.name, forKey: .name)
            try o.encode(e.rule, forKey: .rule)
            try o.encode(e.report, forKey: .plan)
        }
        var rows = c.nestedUnkeyedContainer(forKey: .patterns)
        for p in patterns {
            var o = rows.nestedContainer(keyedBy: EntryKeys.self)
            try o.encode(p.pattern, forKey: .pattern)
            try o.encode(p.report, forKey: .plan)
        }
    }
}

extension Router {
    /// One row per pattern for `route --all`, routed with a placeholder name.
    package func patternRows(state: RouterState, environment: [String: String]?) -> [(pattern: String, report: RouteReport)] {
        var rows = patternIndex.entries.indices.map { i in
            (patternText(i), RouteReport(plan: patternPlan(index: i, name: "<name>"), router: self, state: state,
                                         environment: environment))
        }
        if let plan = defaultPlan(name: "<name>") {
            rows.append((RouteTable.anythingElse, RouteReport(plan: plan, router: self, state: state, environment: environment)))
        }
        return rows
    }
}

