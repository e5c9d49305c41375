import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// An `expect` assertion on the last command's result (SPEC §5).
package enum Expectation: Equatable {
    package enum Comparison: String, CaseIterable { case lt = "<", le = "<=", gt = ">", ge = ">=", eq = "==", ne = "!=" }

    case status(CommandResult.Status)
    case contains(String, negated: Bool)
    case matches(String, negated: Bool)
    /// A named field (`ttft_ms < 500ms`, `tokens >= 1`, `provider == ollama`).
    case field(String, Comparison, String)
    /// A path into the result's JSON form (`json .models[0].name == llama3`); with no
    /// comparison the value must exist and not be null.
    case json(String, Comparison?, String?)

    package static let usage = """
        expect ok | error
        expect [not] contains TEXT
        expect [not] matches REGEX
        expect FIELD OP VALUE            (OP: < <= > >= == !=; VALUE may have a unit: 500ms, 2s)
        expect json PATH [OP VALUE]      (PATH like .models[0].name or models.0.name)
        """

    package static func parse(_ words: [String]) throws -> Expectation {
        func fail(_ message: String) -> UsageError { UsageError(message: "expect: \(message)", usage: usage) }
        guard let first = words.first else { throw fail("missing assertion") }
        var rest = Array(words.dropFirst())
        switch first {
        case "ok", "error":
            guard rest.isEmpty else { throw fail("'\(first)' takes no argument") }
            return .status(first == "ok" ? .ok : .error)
        case "not":
            guard let verb = rest.first, verb == "contains" || verb == "matches" else {
                throw fail("'not' must be followed by 'contains' or 'matches'")
            }
            rest.removeFirst()
            guard !rest.isEmpty else { throw fail("'not \(verb)' needs a \(verb == "contains" ? "TEXT" : "REGEX")") }
            return verb == "contains"
                ? .contains(rest.joined(separator: " "), negated: true) : try regex(rest.joined(separator: " "), negated: true)
        case "contains":
            guard !rest.isEmpty else { throw fail("'contains' needs a TEXT") }
            return .contains(rest.joined(separator: " "), negated: false)
        case "matches":
            guard !rest.isEmpty else { throw fail("'matches' needs a REGEX") }
            return try regex(rest.joined(separator: " "), negated: false)
        case "json":
            guard let path = rest.first else { throw fail("'json' needs a PATH") }
            if rest.count == 1 { return .json(path, nil, nil) }
            guard rest.count >= 3, let op = Comparison(rawValue: rest[1]) else {
                throw fail("expected 'json PATH OP VALUE' with OP one of < <= > >= == !=")
            }
            return .json(path, op, rest[2...].joined(separator: " "))
        default:
            guard rest.count >= 2, let op = Comparison(rawValue: rest[0]) else {
                throw fail("unknown assertion '\(words.joined(separator: " "))'")
            }
            return .field(first, op, rest[1...].joined(separator: " "))
        }
    }

    private static func regex(_ pattern: String, negated: Bool) throws -> Expectation {
        do {
            _ = try PythonRegex(pattern)
        } catch {
            throw UsageError(message: "expect: invalid regular expression '\(pattern)'")
        }
        return .matches(pattern, negated: negated)
    }

    /// Checks the assertion; on failure returns what was found instead.
    package func check(_ result: CommandResult?) -> (passed: Bool, actual: String) {
        guard let result else { return (false, "no command has run yet") }
        switch self {
        case let .status(want):
            let actual = result.status == .ok ? "ok" : "error" + (result.error.map { ": \($0)" } ?? "")
            return (result.status == want, actual)
        case let .contains(text, negated):
            let haystack = Expectation.text(of: result)
            return (haystack.contains(text) != negated, Expectation.quoteForMessage(haystack))
        case let .matches(pattern, negated):
            let haystack = Expectation.text(of: result)
            let found = (try? PythonRegex(pattern))?.matches(haystack) ?? false  // checked once already in parse
            return (found != negated, Expectation.quoteForMessage(haystack))
        case let .field(name, op, expected):
            guard let actual = Expectation.fieldValue(name, in: result) else {
                let names = result.fields.map(\.0)
                return (false, "no field '\(name)'" + (names.isEmpty ? "" : "; fields: \(names.joined(separator: ", "))"))
            }
            return Expectation.compare(actual, op, expected, showUnit: Expectation.hasUnit(expected),
                                       seconds: Expectation.inSeconds(name))
        case let .json(path, op, expected):
            let value: JSONValue?
            do {
                value = try JSONPath(path).lookup(in: result.jsonForm)
            } catch {
                return (false, "\(error)")
            }
            guard let value else { return (false, "no value at \(path)") }
            guard let op, let expected else { return (value != .null, value.serialized()) }
            return Expectation.compare(value, op, expected, showUnit: false, seconds: Expectation.inSeconds(path))
        }
    }

    /// What `contains` and `matches` look at: the reply (or text) and any error message.
    package static func text(of result: CommandResult) -> String {
        var t = result.reply ?? result.text
        if let e = result.error { t += t.isEmpty ? e : "\n" + e }
        return t
    }

    private static func fieldValue(_ name: String, in result: CommandResult) -> JSONValue? {
        if let v = result.field(name) { return v }
        switch name {
        case "status": return .string(result.status.rawValue)
        case "reply": return result.reply.map(JSONValue.string)
        case "text": return .string(result.text)
        case "error": return result.error.map(JSONValue.string)
        default: return result.jsonForm[name]
        }
    }

    private static func hasUnit(_ text: String) -> Bool { Double(text) == nil && DurationText.seconds(text) != nil }

    /// Whether a field (or the last key of a path) holds seconds: its name ends in `_s`, as
    /// every duration's name ends in its unit (`latency_ms`, `cooldown_s`).
    package static func inSeconds(_ name: String) -> Bool { name.hasSuffix("_s") }

    /// A number from "500", "1.5", "500ms", "2s", "1m": a duration in milliseconds, or in
    /// seconds for a field in seconds.
    package static func number(_ text: String, seconds: Bool = false) -> Double? {
        if let v = Double(text) { return v }
        return DurationText.seconds(text).map { seconds ? $0 : $0 * 1000 }
    }

    private static func compare(_ actual: JSONValue, _ op: Comparison, _ expected: String, showUnit: Bool, seconds: Bool)
        -> (Bool, String)
    {
        if let a = actual.doubleValue, let e = number(expected, seconds: seconds) {
            let shown = JSONValue.format(a) + (showUnit ? (seconds ? "s" : "ms") : "")
            let passed: Bool
            switch op {
            case .lt: passed = a < e
            case .le: passed = a <= e
            case .gt: passed = a > e
            case .ge: passed = a >= e
            case .eq: passed = a == e
            case .ne: passed = a != e
            }
            return (passed, shown)
        }
        let actualText = actual.displayText
        var expectedText = expected
        if expected.hasPrefix("\""), case let .string(s)? = try? JSONValue.parse(expected) { expectedText = s }
        let shown: String
        if case .string = actual { shown = quoteForMessage(actualText) } else { shown = actual.serialized() }
        switch op {
        case .eq: return (actualText == expectedText, shown)
        case .ne: return (actualText != expectedText, shown)
        default: return (false, shown + " is not a number")
        }
    }

    package static func quoteForMessage(_ text: String) -> String {
        var t = text
        if t.count > 200 { t = String(t.prefix(200)) + "…" }
        return JSONValue.string(t).serialized()
    }
}

/// A path into a JSON value: `.models[0].name`, `models.0.name`, `.` for the whole value.
/// A string that holds JSON (a reply asked to answer in JSON) is entered when the path
/// goes on.
package struct JSONPath: CustomStringConvertible {
    package enum Step: Equatable { case key(String), index(Int) }

    package struct SyntaxError: UserFacingError {
        package var exitCode: ExitCode { .failure }
        package var path: String
        package var description: String { "bad JSON path '\(path)'" }
    }

    package let text: String
    package let steps: [Step]
    package var description: String { text }

    package init(_ text: String) throws {
        self.text = text
        var steps: [Step] = []
        var s = Substring(text)
        if s.hasPrefix(".") { s = s.dropFirst() }
        var current = ""
        func flush() {
            if !current.isEmpty { steps.append(Int(current).map(Step.index) ?? .key(current)) }
            current = ""
        }
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "." {
                flush()
            } else if c == "[" {
                flush()
                guard let close = s[i...].firstIndex(of: "]") else { throw SyntaxError(path: text) }
                var inner = String(s[s.index(after: i)..<close])
                if inner.count >= 2, inner.hasPrefix("\"") && inner.hasSuffix("\"") || inner.hasPrefix("'") && inner.hasSuffix("'") {
                    inner = String(inner.dropFirst().dropLast())
                    steps.append(.key(inner))
                } else if let n = Int(inner) {
                    steps.append(.index(n))
                } else {
                    throw SyntaxError(path: text)
                }
                i = close
            } else {
                current.append(c)
            }
            i = s.index(after: i)
        }
        flush()
        self.steps = steps
    }

    package func lookup(in root: JSONValue) -> JSONValue? {
        var value = root
        for step in steps {
            if case let .string(s) = value, let inner = try? JSONValue.parse(s) { value = inner }
            switch (step, value) {
            case let (.index(n), .array(items)):
                let i = n < 0 ? items.count + n : n
                guard items.indices.contains(i) else { return nil }
                value = items[i]
            case let (.index(n), .object):
                guard let v = value[String(n)] else { return nil }
                value = v
            case let (.key(k), .object):
                guard let v = value[k] else { return nil }
                value = v
            default:
                return nil
            }
        }
        return value
    }
}

/// The outcome of every `expect` in this run, for the summary line and `--junit`.
package final class ExpectLedger {
    package struct Case {
        package var file: String
        package var line: Int
        package var assertion: String
        package var passed: Bool
        package var message: String?
        package var seconds: Double

        package init(file: String, line: Int, assertion: String, passed: Bool, message: String? = nil,
                     seconds: Double) {
            self.file = file
            self.line = line
            self.assertion = assertion
            self.passed = passed
            self.message = message
            self.seconds = seconds
        }

    }

    package var cases: [Case] = []
    /// Commands that failed and stopped a script, reported as JUnit errors.
    package var commandErrors: [Case] = []

    package init(cases: [Case] = [], commandErrors: [Case] = []) {
        self.cases = cases
        self.commandErrors = commandErrors
    }

    package var passed: Int { cases.filter(\.passed).count }
    package var failed: Int { cases.count - passed }
    package var summary: String { "\(passed) passed, \(failed) failed" }
}

/// `expect` failing: `file:line: expect failed: ASSERTION (actual: …)`; exit code 4.
package struct ExpectationFailure: UserFacingError {
    package var assertion: String
    package var actual: String

    package init(assertion: String, actual: String) {
        self.assertion = assertion
        self.actual = actual
    }

    package var exitCode: ExitCode { .assertion }
    package var description: String { "expect failed: \(assertion) (actual: \(actual))" }
}
