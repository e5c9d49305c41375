import FoundationEssentials
import Glibc

/// `route MODEL` and `route --all`: a plan in words and as JSON, with what the session's
/// state does to it right now (cooldowns, rate limits).
struct RouteReport {
    struct Row {
        var number: Int?            // attempt number; nil when the step is skipped
        var step: PlanStep
        var skip: String?           // why it is not tried now
        var until: Date?
    }

    let plan: AttemptPlan
    let rows: [Row]

    init(plan: AttemptPlan, router: Router, state: RouterState, environment: [String: String]? = nil) {
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

    var firstReady: Row? { rows.first(where: { $0.number != nil }) }

    var text: String {
        var out = "\(plan.requestedModel): \(plan.ruleDescription)"
        if let loc = plan.ruleLocation { out += " (\(loc.citation))" }
        out += "\n"
        if let d = plan.decisionText { out += "  chosen by \(d)\n" }
        if rows.isEmpty { out += "  no targets\n" }
        let pw = rows.map(\.step.provider.count).max() ?? 0
        for r in rows {
            let mark = r.number.map { String($0) } ?? "-"
            out += "  " + mark.leftPadded(to: 2) + "  " + r.step.provider.padded(to: pw) + "  " + r.step.backendModel
            out += "\n      " + (r.step.scope == .aishOnly ? "aish only: " : "") + r.step.reason
            if let loc = r.step.location { out += " — \(loc.citation)" }
            out += "\n"
            if let skip = r.skip { out += "      skipped: \(skip)\n" }
        }
        for n in plan.notes { out += "  note: \(n)\n" }
        return out
    }

    var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("requested", .string(plan.requestedModel)),
            ("rule", .string(plan.rule.rawValue)),
            ("rule_description", .string(plan.ruleDescription)),
            ("location", plan.ruleLocation.map { .string($0.description) } ?? .null),
            ("strategy", plan.strategy.map { .string($0) } ?? .null),
            ("decision", plan.decisionText.map { .string($0) } ?? .null),
        ]
        pairs.append(("steps", .array(rows.map { r in
            .object([
                ("attempt", r.number.map { .int($0) } ?? .null),
                ("provider", .string(r.step.provider)),
                ("backend_model", .string(r.step.backendModel)),
                ("reason", .string(r.step.reason)),
                ("location", r.step.location.map { .string($0.description) } ?? .null),
                ("status", .string(r.skip == nil ? "ready" : "skipped")),
                ("scope", .string(r.step.scope.rawValue)),
                ("gateway_group", r.step.gatewayGroup.map { .int($0) } ?? .null),
                ("skip_reason", r.skip.map { .string($0) } ?? .null),
                ("until", r.until.map { .string(Self.isoTime($0)) } ?? .null),
            ])
        })))
        pairs.append(("notes", .array(plan.notes.map { .string($0) })))
        // What the gateway does with the generated config (the differential test compares it).
        pairs.append(("gateway", .bool(plan.isGatewayName)))
        pairs.append(("gateway_groups", .array(plan.gatewayGroups.map { g in
            .object([("name", .string(g.name)), ("picks", .int(g.picks)),
                     ("candidates", .array(g.candidates.map { .array([.string($0.provider), .string($0.model)]) }))])
        })))
        return .object(pairs)
    }

    var fields: [(String, JSONValue)] {
        let ready = rows.filter { $0.number != nil }
        return [
            ("model", .string(plan.requestedModel)),
            ("rule", .string(plan.rule.rawValue)),
            ("provider", firstReady.map { .string($0.step.provider) } ?? .null),
            ("backend_model", firstReady.map { .string($0.step.backendModel) } ?? .null),
            ("attempts", .int(ready.count)),
            ("skipped", .int(rows.count - ready.count)),
        ]
    }

    static func clockTime(_ date: Date) -> String {
        UTCTime.localClock(date)
    }

    static func isoTime(_ date: Date) -> String {
        UTCTime.iso8601(date)
    }
}

/// `route --all`: every configured name, pattern and the default, and where each goes now.
struct RouteTable {
    struct Entry {
        var name: String
        var rule: String
        var report: RouteReport
    }

    let entries: [Entry]

    init(router: Router, state: RouterState, environment: [String: String]? = nil) {
        var entries: [Entry] = []
        for name in router.configuredNames {
            let plan = router.plan(for: name, state: state, advance: false)
            entries.append(Entry(name: name, rule: Self.ruleWord(plan),
                                 report: RouteReport(plan: plan, router: router, state: state, environment: environment)))
        }
        self.entries = entries
        patterns = router.patternRows(state: state, environment: environment)
    }

    /// Patterns, then the default provider (as `anythingElse`).
    let patterns: [(pattern: String, report: RouteReport)]
    static let anythingElse = "(anything else)"

    static func ruleWord(_ plan: AttemptPlan) -> String {
        var word = plan.rule.rawValue
        if let s = plan.strategy { word += " (\(s))" }
        return word
    }

    var text: String {
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

    var json: JSONValue {
        .object([
            ("routes", .array(entries.map { e in
                .object([("name", .string(e.name)), ("rule", .string(e.rule)), ("plan", e.report.json)])
            })),
            ("patterns", .array(patterns.map { p in .object([("pattern", .string(p.pattern)), ("plan", p.report.json)]) })),
        ])
    }
}

extension Router {
    /// One row per pattern for `route --all`, routed with a placeholder name.
    func patternRows(state: RouterState, environment: [String: String]?) -> [(pattern: String, report: RouteReport)] {
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

fileprivate extension String {
    func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
