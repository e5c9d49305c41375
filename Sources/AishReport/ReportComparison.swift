import FoundationEssentials
import Glibc
import AishBase
import AishTelemetry

extension ReportComparison {
    /// What changed between a stored report (its JSON, as the run keeps it) and this one.
    package static func between(base: JSONValue, baseRun: Int, current r: DiagnosticReport) throws -> ReportComparison {
        let now = try JSONValueEncoder.encode(r)
        var changes: [ReportChange] = []
        func text(_ v: JSONValue?) -> String {
            switch v {
            case nil, .null?: return "–"
            case let .string(s)?: return s
            case let .double(d)?: return JSONValue.format(d)
            case let .int(i)?: return String(i)
            case let .bool(b)?: return b ? "yes" : "no"
            default: return v!.serialized()
            }
        }
        func compare(_ what: String, _ a: JSONValue?, _ b: JSONValue?) {
            let (x, y) = (text(a), text(b))
            if x != y { changes.append(ReportChange(what: what, before: x, after: y)) }
        }
        compare("overall", base["overall"], now["overall"])
        compare("health score", base["score"], now["score"])
        compare("providers up", base["providers_up"], now["providers_up"])
        compare("services up", base["services_up"], now["services_up"])
        compare("configuration errors", base["configuration"]?["errors"], now["configuration"]?["errors"])
        compare("configuration warnings", base["configuration"]?["warnings"], now["configuration"]?["warnings"])

        // Providers: state, and a response time that moved by more than a quarter (and 5 ms).
        let before = rows(base["providers"]?["providers"], key: "name")
        for p in rows(now["providers"]?["providers"], key: "name") {
            guard let old = before.first(where: { $0.0 == p.0 })?.1 else {
                changes.append(ReportChange(what: "provider \(p.0)", before: "not configured", after: text(p.1["state"])))
                continue
            }
            compare("provider \(p.0)", old["state"], p.1["state"])
            if let a = old["latency_ms"]?.doubleValue, let b = p.1["latency_ms"]?.doubleValue, abs(b - a) > 5, abs(b - a) > 0.25 * a {
                changes.append(ReportChange(what: "provider \(p.0) response time", before: Format.milliseconds(a), after: Format.milliseconds(b)))
            }
        }
        for old in before where !rows(now["providers"]?["providers"], key: "name").contains(where: { $0.0 == old.0 }) {
            changes.append(ReportChange(what: "provider \(old.0)", before: text(old.1["state"]), after: "not configured"))
        }
        compare("gateway deployments healthy", base["gateway"]?["healthy"], now["gateway"]?["healthy"])
        let gwBefore = rows(base["gateway"]?["deployments"], key: "model_name")
        for d in rows(now["gateway"]?["deployments"], key: "model_name") {
            if let old = gwBefore.first(where: { $0.0 == d.0 })?.1 {
                compare("gateway deployment \(d.0) healthy", old["gateway_healthy"], d.1["gateway_healthy"])
            }
        }
        // Routing: result, answering provider and TTFT per group and path.
        func routeKey(_ v: JSONValue) -> String { "\(text(v["group"])) (\(text(v["path"])))" }
        let routesBefore = (base["routing"]?["requests"]?.reportItems ?? []).map { (routeKey($0), $0) }
        for q in now["routing"]?["requests"]?.reportItems ?? [] {
            guard let old = routesBefore.first(where: { $0.0 == routeKey(q) })?.1 else { continue }
            compare("route \(routeKey(q)) answered", old["ok"], q["ok"])
            compare("route \(routeKey(q)) answered by", old["provider"], q["provider"])
            if let a = old["ttft_ms"]?.doubleValue, let b = q["ttft_ms"]?.doubleValue, abs(b - a) > 5, abs(b - a) > 0.25 * a {
                changes.append(ReportChange(what: "route \(routeKey(q)) TTFT", before: Format.milliseconds(a), after: Format.milliseconds(b)))
            }
        }
        for service in ["prometheus", "grafana", "redis"] {
            compare(service, base["monitoring"]?[service]?["mark"], now["monitoring"]?[service]?["mark"])
        }
        let oldIssues = (base["issues"]?.reportItems ?? []).compactMap { $0["symptom"]?.stringValue }
        let newIssues = r.issues.map(\.symptom)
        return ReportComparison(baseRun: baseRun, baseGeneratedAt: text(base["generated_at"]), changes: changes,
                                newIssues: newIssues.filter { !oldIssues.contains($0) },
                                resolvedIssues: oldIssues.filter { !newIssues.contains($0) })
    }

    private static func rows(_ v: JSONValue?, key: String) -> [(String, JSONValue)] {
        (v?.reportItems ?? []).compactMap { row in row[key]?.stringValue.map { ($0, row) } }
    }
}

extension JSONValue {
    /// The elements of an array value, else nil.
    fileprivate var reportItems: [JSONValue]? {
        if case let .array(items) = self { return items }
        return nil
    }
}
