/// The reports of the shell's own commands (help, sleep, vars, set, unset, history, clear,
/// expect); `echo` returns a `TextReport`. Each type renders its own text.

/// `help` without a command: every command by group.
struct CommandListReport: CommandReport {
    struct Entry: Encodable, Sendable {
        var name: String
        var group: String
        var usage: String
        var summary: String
    }

    var commands: [Entry]

    static let fields = [ReportField("commands", "each command: name, group, usage, summary")]
    static let example = CommandListReport(commands: [Entry(name: "echo", group: "Shell", usage: "echo [TEXT...]",
                                                            summary: "print the arguments, separated by spaces")])

    init(commands: [Entry]) { self.commands = commands }

    init(_ registry: CommandRegistry) {
        commands = registry.groups.flatMap { group in
            group.commands.map { Entry(name: $0.name, group: group.title, usage: $0.usage, summary: $0.summary) }
        }
    }

    func renderText() -> String {
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

/// `help COMMAND`: one command's usage, options, fields and aliases.
struct CommandHelpReport: CommandReport {
    var command: String
    var help: String

    static let fields = [ReportField("command", "the command's name (an alias is resolved)"),
                         ReportField("help", "the help text, as printed")]
    static let example = CommandHelpReport(command: "echo", help: "usage: echo [TEXT...]\n")

    func renderText() -> String { help }
}

/// `sleep DURATION`: prints nothing; how long it slept.
struct SleepReport: CommandReport {
    var slept: Double

    enum CodingKeys: String, CodingKey { case slept = "slept_ms" }

    static let fields = [ReportField("slept_ms", "time slept", unit: "ms")]
    static let example = SleepReport(slept: 500)

    func renderText() -> String { "" }
}

/// `vars` (and `set` alone): every script variable, `name=value` a line.
struct VariablesReport: CommandReport {
    var variables: [(name: String, value: String)]

    enum CodingKeys: String, CodingKey { case variables }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // An object keyed by name: a variable may be called `status` or `error`, so the
        // names cannot be top-level keys of the report.
        try c.encode(JSONValue.object(variables.map { ($0.name, .string($0.value)) }), forKey: .variables)
    }

    static let fields = [ReportField("variables", "an object: each variable's name and value (in name order)")]
    static let example = VariablesReport(variables: [("model", "llama3.2:1b")])

    func renderText() -> String { variables.map { "\($0.name)=\($0.value)" }.joined(separator: "\n") }
}

/// `set NAME [VALUE...]`: the variable set or shown. Only `set NAME` prints its value.
struct VariableReport: CommandReport {
    var name: String
    var value: String
    /// Whether the value is shown (set NAME) rather than stored (set NAME VALUE).
    var shown: Bool

    enum CodingKeys: String, CodingKey { case name, value }

    static let fields = [ReportField("name", "the variable"), ReportField("value", "its value")]
    static let example = VariableReport(name: "temperature", value: "0.7", shown: false)

    func renderText() -> String { shown ? value : "" }
}

/// `unset NAME...`: prints nothing.
struct UnsetReport: CommandReport {
    var unset: [String]

    static let fields = [ReportField("unset", "the names given (none of them is set now)")]
    static let example = UnsetReport(unset: ["temperature"])

    func renderText() -> String { "" }
}

/// `history [-n N]`: the terminal history, numbered.
struct HistoryReport: CommandReport {
    var count: Int
    var entries: [String]

    static let fields = [ReportField("count", "entries shown"), ReportField("entries", "the command lines, oldest first")]
    static let example = HistoryReport(entries: ["providers"])

    init(entries: [String]) {
        count = entries.count
        self.entries = entries
    }

    func renderText() -> String {
        entries.enumerated().map { "\(String($0.offset + 1).leftPadded(5))  \($0.element)" }.joined(separator: "\n")
    }
}

/// `clear`: the escape sequence is written while it runs; nothing else is printed.
struct ClearReport: CommandReport {
    var cleared: Bool

    static let fields = [ReportField("cleared", "whether the screen was cleared (false when output is not a terminal)")]
    static let example = ClearReport(cleared: false)

    func renderText() -> String { "" }
}

/// `expect ASSERTION` that passed (a failed one is an error). At the terminal it says so;
/// in scripts and under --json a pass prints nothing.
struct ExpectReport: CommandReport {
    var passed: Bool
    var assertion: String
    var interactive: Bool

    enum CodingKeys: String, CodingKey { case passed, assertion }

    static let fields = [ReportField("passed", "true (a failed expect is an error)"),
                         ReportField("assertion", "the assertion, as written")]
    static let example = ExpectReport(passed: true, assertion: "ttft_ms < 500ms", interactive: false)

    func renderText() -> String { interactive ? "expect passed" : "" }
}
