import AishBase
import AishCommand

/// The reports of the shell's own commands (help, sleep, vars, set, unset, history, clear,
/// expect); `echo` returns a `TextReport`. Each type renders its own text.

/// `help` without a command: every command by group.
package struct CommandListReport: CommandReport {
    package struct Entry: Encodable, Sendable {
        package var name: String
        package var group: String
        package var usage: String
        package var summary: String
    }

    package var commands: [Entry]

    package static let fields = [ReportField("commands", "each command: name, group, usage, summary")]
    package static let example = CommandListReport(commands: [Entry(name: "echo", group: "Shell", usage: "echo [TEXT...]",
                                                            summary: "print the arguments, separated by spaces")])

    package init(commands: [Entry]) { self.commands = commands }

    package init(_ registry: CommandRegistry) {
        commands = registry.groups.flatMap { group in
            group.commands.map { Entry(name: $0.name, group: group.title, usage: $0.usage, summary: $0.summary) }
        }
    }

    package func renderText() -> String {
        // Long usages get a line of their own, so the summaries stay in one column.
        let width = min(28, commands.map(\.usage.count).max() ?? 0)
        var text = ""
        var group: String?
        for c in commands {
            if c.group != group {
                if group != nil { text += "\n" }
                text += "\(c.group):\n"
                group = c.group
            }
            let usage = c.usage.count > width ? c.usage + "\n" + String(repeating: " ", count: width + 4)
                : c.usage.padded(toLength: width) + "  "
            text += "  " + usage + c.summary + "\n"
        }
        if group != nil { text += "\n" }
        return text + "Type 'help COMMAND' for details, COMMAND --help works too."
    }
}

/// `sleep DURATION`: prints nothing; how long it slept.
package struct SleepReport: CommandReport {
    package var slept: Double

    package enum CodingKeys: String, CodingKey { case slept = "slept_ms" }

    package static let fields = [ReportField("slept_ms", "time slept", unit: "ms")]
    package static let example = SleepReport(slept: 500)

    package func renderText() -> String { "" }
}

/// `vars` (and `set` alone): every script variable, `name=value` a line.
package struct VariablesReport: CommandReport {
    package var variables: [(name: String, value: String)]

    package enum CodingKeys: String, CodingKey { case variables }
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // An object keyed by name: a variable may be called `status` or `error`, so the
        // names cannot be top-level keys of the report.
        try c.encode(JSONValue.object(variables.map { ($0.name, .string($0.value)) }), forKey: .variables)
    }

    package static let fields = [ReportField("variables", "an object: each variable's name and value (in name order)")]
    package static let example = VariablesReport(variables: [("model", "llama3.2:1b")])

    package func renderText() -> String { variables.map { "\($0.name)=\($0.value)" }.joined(separator: "\n") }
}

/// `set NAME [VALUE...]`: the variable set or shown. Only `set NAME` prints its value.
package struct VariableReport: CommandReport {
    package var name: String
    package var value: String
    /// Whether the value is shown (set NAME) rather than stored (set NAME VALUE).
    package var shown: Bool

    package enum CodingKeys: String, CodingKey { case name, value }

    package static let fields = [ReportField("name", "the variable"), ReportField("value", "its value")]
    package static let example = VariableReport(name: "temperature", value: "0.7", shown: false)

    package func renderText() -> String { shown ? value : "" }
}

/// `unset NAME...`: prints nothing.
package struct UnsetReport: CommandReport {
    package var unset: [String]

    package static let fields = [ReportField("unset", "the names given (none of them is set now)")]
    package static let example = UnsetReport(unset: ["temperature"])

    package func renderText() -> String { "" }
}

/// `history [-n N]`: the terminal history, numbered.
package struct HistoryReport: CommandReport {
    package var count: Int
    package var entries: [String]

    package static let fields = [ReportField("count", "entries shown"), ReportField("entries", "the command lines, oldest first")]
    package static let example = HistoryReport(entries: ["providers"])

    package init(entries: [String]) {
        count = entries.count
        self.entries = entries
    }

    package func renderText() -> String {
        entries.enumerated().map { "\(String($0.offset + 1).leftPadded(to: 5))  \($0.element)" }.joined(separator: "\n")
    }
}

/// `clear`: the escape sequence is written while it runs; nothing else is printed.
package struct ClearReport: CommandReport {
    package var cleared: Bool

    package static let fields = [ReportField("cleared", "whether the screen was cleared (false when output is not a terminal)")]
    package static let example = ClearReport(cleared: false)

    package func renderText() -> String { "" }
}

/// `expect ASSERTION` that passed (a failed one is an error). At the terminal it says so;
/// in scripts and under --json a pass prints nothing.
package struct ExpectReport: CommandReport {
    package var passed: Bool
    package var assertion: String
    package var interactive: Bool

    package enum CodingKeys: String, CodingKey { case passed, assertion }

    package static let fields = [ReportField("passed", "true (a failed expect is an error)"),
                         ReportField("assertion", "the assertion, as written")]
    package static let example = ExpectReport(passed: true, assertion: "ttft_ms < 500ms", interactive: false)

    package func renderText() -> String { interactive ? "expect passed" : "" }
}
