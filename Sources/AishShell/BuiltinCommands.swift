import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishLineEditor
import AishScript

/// The shell's own commands: help, echo, sleep, vars, set, unset, source, history, exit, expect.
package enum BuiltinCommands {
    package static let all: [CommandSpec] = [help, echo, sleep, vars, set, unset, source, history, clear, exit, expect]

    package static let commandNames = ValueCompletion.dynamic { ctx in ctx.registry.commands.map(\.name) }

    package static let help = CommandSpec(
        name: "help", aliases: ["?"], summary: "list commands, or show one command's help",
        help: """
            Without an argument lists every command by group. 'help COMMAND' shows its usage,
            options, fields and aliases; its --json has the fields command and help.
            """,
        positionals: [PositionalSpec(name: "COMMAND", optional: true, completion: commandNames)],
        report: ReportShape(CommandListReport.self),
        otherReports: [ReportShape(CommandHelpReport.self, mode: "help COMMAND")],
        run: { inv, ctx in
            if let name = inv.positionals.first {
                guard let spec = ctx.registry.lookup(name) else { throw ctx.registry.unknownCommandError(name) }
                return CommandResult(report: CommandHelpReport(command: spec.name, help: spec.helpText))
            }
            return CommandResult(report: CommandListReport(ctx.registry))
        })

    package static let echo = CommandSpec(
        name: "echo", summary: "print the arguments, separated by spaces",
        positionals: [PositionalSpec(name: "TEXT", optional: true, variadic: true)],
        rawArguments: true,
        report: ReportShape(TextReport.self),
        run: { inv, _ in CommandResult(report: TextReport(text: inv.positionals.joined(separator: " "))) })

    package static let sleep = CommandSpec(
        name: "sleep", summary: "wait, e.g. 'sleep 2s' or 'sleep 500ms' (Ctrl-C stops it)",
        positionals: [PositionalSpec(name: "DURATION", completion: .words(["1s", "5s", "500ms"]))],
        report: ReportShape(SleepReport.self),
        run: { inv, ctx in
            guard let seconds = DurationText.seconds(inv.positionals[0]) else {
                throw UsageError(message: "sleep: '\(inv.positionals[0])' is not a duration such as 500ms, 2s or 1m")
            }
            let start = Date()
            let completed = ctx.sleep(seconds: seconds)
            let slept = Date().timeIntervalSince(start) * 1000
            if !completed { throw CommandFailure("sleep: interrupted") }
            return CommandResult(report: SleepReport(slept: slept.rounded()))
        })

    package static let vars = CommandSpec(
        name: "vars", summary: "list script variables (set with 'set' or --var)",
        report: ReportShape(VariablesReport.self),
        run: { _, ctx in CommandResult(report: variables(ctx)) })

    package static func variables(_ ctx: ShellContext) -> VariablesReport {
        VariablesReport(variables: ctx.variables.keys.sorted().map { ($0, ctx.variables[$0]!) })
    }

    package static let set = CommandSpec(
        name: "set",
        summary: "set a script variable ($NAME), or a chat option (temperature, max_tokens, top_p, seed, max_reply_bytes)",
        help: """
            'set NAME VALUE...' stores VALUE (the words joined by spaces) as $NAME. 'set NAME' shows it,
            'set' alone lists every variable. The chat options temperature, max_tokens, top_p and seed
            are variables too, checked when set. max_reply_bytes (default 1MiB) bounds how much of a
            reply is kept in memory, in the conversation and in the log; the whole reply is still shown.
            'set' alone answers as vars does (the field variables).
            """,
        positionals: [PositionalSpec(name: "NAME", optional: true,
                                     completion: .dynamic { ctx in Array(ctx.variables.keys).sorted() + ChatOptions.variables.map(\.name) }),
                      PositionalSpec(name: "VALUE", optional: true, variadic: true)],
        rawArguments: true,
        report: ReportShape(VariableReport.self),
        otherReports: [ReportShape(VariablesReport.self, mode: "set without a name")],
        run: { inv, ctx in
            guard let name = inv.positionals.first else { return CommandResult(report: variables(ctx)) }
            guard isVariableName(name) else {
                throw UsageError(message: "set: '\(name)' is not a variable name (letters, digits and _, not starting with a digit)")
            }
            if inv.positionals.count == 1 {
                guard let value = ctx.variables[name] else { throw CommandFailure("set: '\(name)' is not set") }
                return CommandResult(report: VariableReport(name: name, value: value, shown: true))
            }
            let value = inv.positionals.dropFirst().joined(separator: " ")
            if let option = ChatOptions.variables.first(where: { $0.name == name }), !option.check(value) {
                throw UsageError(message: "set: \(name) must be \(option.expected), got '\(value)'")
            }
            ctx.variables[name] = value
            // `set api_key V`: V is masked in the log from now on, wherever it appears.
            if SecretRedactor.looksSecret(name) { ctx.learnSecretValues([value]) }
            return CommandResult(report: VariableReport(name: name, value: value, shown: false))
        })

    package static func isVariableName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !(first.value >= 48 && first.value <= 57) else { return false }
        return s.unicodeScalars.allSatisfy { ($0.value >= 48 && $0.value <= 57) || ($0.value >= 65 && $0.value <= 90)
            || ($0.value >= 97 && $0.value <= 122) || $0 == "_" }
    }

    package static let unset = CommandSpec(
        name: "unset", summary: "remove script variables",
        positionals: [PositionalSpec(name: "NAME", variadic: true,
                                     completion: .dynamic { ctx in Array(ctx.variables.keys).sorted() })],
        report: ReportShape(UnsetReport.self),
        run: { inv, ctx in
            for name in inv.positionals { ctx.variables[name] = nil }
            return CommandResult(report: UnsetReport(unset: inv.positionals))
        })

    package static let source = CommandSpec(
        name: "source", aliases: ["."],
        summary: "run an .ai script inside this session ($1.. are ARGS)",
        help: """
            The file is parsed whole before it runs; it stops at its first failure unless
            --continue-on-error. A relative FILE is looked up beside the script that sources it,
            then in the current directory. Scripts may nest \(ScriptFile.maxSourceDepth) deep.
            """,
        positionals: [PositionalSpec(name: "FILE", completion: .files),
                      PositionalSpec(name: "ARGS", optional: true, variadic: true)],
        runsCommands: true,
        run: { inv, ctx in
            let path = inv.positionals[0]
            guard let runner = ctx.state(RunnerLink.self, make: { RunnerLink() }).runner else {
                throw CommandFailure("source: no script runner in this session")
            }
            return try runner.source(path: path, arguments: Array(inv.positionals.dropFirst()))
        })

    package static let history = CommandSpec(
        name: "history", summary: "show the commands typed at the terminal",
        help: "Reads the history file ($AISH_HISTORY, else ~/.local/share/aish/history).",
        options: [OptionSpec(["-n", "--last"], .wholeNumber("N"), help: "show only the last N entries")],
        report: ReportShape(HistoryReport.self),
        run: { inv, ctx in
            var entries = ctx.state(HistoryLink.self, make: { HistoryLink() }).entries?()
                ?? HistoryFile.read(path: HistoryFile.path(environment: ctx.environment))
            if let n = try inv.value("--last").map({ _ in try inv.int("--last", default: 0) }) {
                entries = Array(entries.suffix(max(0, n)))
            }
            return CommandResult(report: HistoryReport(entries: entries))
        })

    package static let clear = CommandSpec(
        name: "clear", summary: "clear the terminal screen",
        help: "Does nothing when the output is not a terminal, so scripts can keep it.",
        report: ReportShape(ClearReport.self),
        run: { _, ctx in
            let terminal = isatty(1) == 1 && !ctx.output.isCapturing
            if terminal { ctx.output.write(TerminalText.control(TerminalControl.home + TerminalControl.clearScreen)) }
            return CommandResult(report: ClearReport(cleared: terminal))
        })

    package static let exit = CommandSpec(
        name: "exit", aliases: ["quit"], summary: "leave aish (scripts: stop with CODE, default 0)",
        positionals: [PositionalSpec(name: "CODE", optional: true)],
        run: { inv, _ in
            guard let raw = inv.positionals.first else { throw ExitRequest(code: 0) }
            guard let code = Int32(raw), (0...255).contains(code) else {
                throw UsageError(message: "exit: CODE must be a whole number from 0 to 255, got '\(raw)'")
            }
            throw ExitRequest(code: code)
        })

    package static let expect = CommandSpec(
        name: "expect",
        summary: "assert on the last command's result (status, text, fields, JSON)",
        help: Expectation.usage + "\n\nExamples: expect ok · expect contains hello · expect ttft_ms < 500ms · "
            + "expect provider == ollama · expect json .models[0].name == llama3",
        positionals: [PositionalSpec(name: "ASSERTION", variadic: true,
                                     completion: .words(["ok", "error", "contains", "not", "matches", "json",
                                                         "latency", "ttft", "tokens", "provider"]))],
        rawArguments: true, judgesLastResult: true,
        report: ReportShape(ExpectReport.self),
        run: { inv, ctx in
            let started = Date()
            let assertion = inv.positionals.map { $0.contains(" ") || $0.isEmpty ? "\"\($0)\"" : $0 }
                .joined(separator: " ")
            let expectation = try Expectation.parse(inv.positionals)
            let (passed, actual) = expectation.check(ctx.lastResult)
            let runner = ctx.state(RunnerLink.self, make: { RunnerLink() }).runner
            let file = runner?.frames.last?.file ?? inv.location?.file ?? "-"
            let failure = ExpectationFailure(assertion: assertion, actual: actual)
            ctx.state(ExpectLedger.self, make: { ExpectLedger() }).cases.append(ExpectLedger.Case(
                file: file, line: inv.location?.line ?? runner?.currentLine ?? 0, assertion: assertion, passed: passed,
                message: passed ? nil : failure.description, seconds: Date().timeIntervalSince(started)))
            if !passed { throw failure }
            return CommandResult(report: ExpectReport(passed: true, assertion: assertion, interactive: ctx.options.interactive))
        })
}

/// Lets `history` read the line editor's in-memory list when there is one.
package final class HistoryLink {
    package var entries: (() -> [String])?
}
