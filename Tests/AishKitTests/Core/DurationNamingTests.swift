import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishScript
@testable import AishShell

/// One naming rule for durations in every report: a field that holds a duration ends in its
/// unit, `_ms` for milliseconds or `_s` for seconds (`latency_ms`, `ttft_p99_ms`,
/// `cooldown_s`); an object of statistics of durations carries the unit in its own name
/// (`ttft_ms: {p50, p90, …}`). Points in time are strings (`started_at`).
@Suite struct DurationNamingTests {
    /// Words that name a duration when they end a field's name (before any statistic).
    static let durationWords = ["latency", "ttft", "duration", "elapsed", "wait", "waited", "slept", "lag", "uptime",
                                "timeout", "interval", "overhead", "cooldown", "delay", "wall", "time", "window", "step",
                                "queue", "ramp_up", "inter_token", "itl", "icl", "tpot", "e2e", "age", "took"]
    /// Statistics that may follow the duration word and precede the unit (`latency_p99_ms`).
    static let statistics = ["p50", "p90", "p95", "p99", "mean", "min", "max", "avg", "median"]
    /// Units other than ms and s, which the rule does not allow.
    static let otherUnits = ["seconds", "secs", "sec", "minutes", "mins", "hours", "millis", "milliseconds", "us", "ns"]

    /// Why `name` breaks the rule, or nil when it keeps it.
    static func problem(_ name: String) -> String? {
        var words = name.split(separator: "_").map(String.init)
        if words.last == "ms" || words.last == "s" { return nil }
        if let last = words.last, otherUnits.contains(last), words.count > 1 {
            return "\(name): a duration's unit is _ms or _s"
        }
        while let last = words.last, statistics.contains(last), words.count > 1 { words.removeLast() }
        let stem = words.joined(separator: "_")
        if durationWords.contains(where: { stem == $0 || stem.hasSuffix("_" + $0) }) {
            return "\(name): a duration's name ends in its unit (_ms or _s)"
        }
        return nil
    }

    @Test func theRuleItself() {
        for good in ["latency_ms", "ttft_p99_ms", "cooldown_s", "uptime_s", "wall_ms", "timed_out", "cooldown_reason",
                     "started_at", "tokens_per_second", "requests", "gateway_cooldowns"] {
            #expect(Self.problem(good) == nil, "\(good)")
        }
        for bad in ["latency", "ttft_p90", "gateway_overhead", "waited", "slept", "window_minutes", "wait"] {
            #expect(Self.problem(bad) != nil, "\(bad)")
        }
    }

    static var shapes: [(command: String, shape: ReportShape)] {
        CommandRegistry.standard.commands.flatMap { spec in
            ([spec.report].compactMap { $0 } + spec.otherReports).map { (spec.name, $0) }
        }
    }

    /// Every key of every report's example, at any depth, keeps the rule; so does every
    /// documented top-level field, and its unit agrees with its name.
    @Test func everyReportFieldKeepsTheRule() throws {
        var checked = 0
        func walk(_ value: JSONValue, _ path: String, _ where_: String) {
            switch value {
            case let .object(pairs):
                for (key, child) in pairs {
                    checked += 1
                    // Statistics of an object named for its unit (`ttft_ms.p50`) need none of their own.
                    if !Self.statistics.contains(key) || !(path.hasSuffix("_ms") || path.hasSuffix("_s")) {
                        if case .string = child {} else if let problem = Self.problem(key) {
                            Issue.record("\(where_): \(path).\(problem)")
                        }
                    }
                    walk(child, path + "." + key, where_)
                }
            case let .array(items): for item in items { walk(item, path + "[]", where_) }
            default: break
            }
        }
        func encode<R: CommandReport>(_: R.Type) throws -> JSONValue { try JSONValueEncoder.encode(R.example) }
        for (command, shape) in Self.shapes {
            let place = "\(shape.mode ?? command) (\(shape.typeName))"
            walk(try encode(shape.type), "", place)
            for field in shape.fields {
                if let problem = Self.problem(field.name) { Issue.record("\(place): \(problem)") }
                switch field.unit {
                case "ms"?: #expect(field.name.hasSuffix("_ms"), "\(place): \(field.name) is in ms")
                case "s"?: #expect(field.name.hasSuffix("_s"), "\(place): \(field.name) is in s")
                default:
                    #expect(!field.name.hasSuffix("_ms") && !field.name.hasSuffix("_s") || field.unit != nil,
                            "\(place): \(field.name) names a unit its field does not declare")
                }
                // Nested keys named in the help ("per level: …, ttft_ms, …") keep it too.
                for word in field.help.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") })
                    where word.contains("_") && word.first!.isLowercase {
                    if let problem = Self.problem(String(word)) { Issue.record("\(place): help of \(field.name): \(problem)") }
                }
            }
        }
        #expect(checked > 500)
    }

    /// `expect` compares a duration in the unit the field's name gives.
    @Test func expectReadsTheUnitFromTheName() throws {
        let result = CommandResult(status: .ok, text: "", fields: [("wait_ms", .double(1500)), ("cooldown_s", .double(30))],
                                   data: .object([("wait_ms", .double(1500)), ("cooldown_s", .double(30))]))
        #expect(try Expectation.parse(["wait_ms", "<", "2s"]).check(result).passed)
        #expect(try !Expectation.parse(["wait_ms", "<", "1s"]).check(result).passed)
        #expect(try Expectation.parse(["cooldown_s", "<", "1m"]).check(result).passed)
        #expect(try Expectation.parse(["cooldown_s", ">", "20s"]).check(result).passed)
        #expect(try Expectation.parse(["json", ".cooldown_s", "==", "30s"]).check(result).passed)
        #expect(try Expectation.parse(["cooldown_s", ">", "40s"]).check(result) == (false, "30s"))
    }
}
