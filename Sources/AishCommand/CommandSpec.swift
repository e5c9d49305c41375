import AishBase

/// How the shell completes a value: fixed words, or words computed from the session
/// (provider names, model names, services, files, commands).
package enum ValueCompletion: Sendable {
    case none
    case words([String])
    case files
    case dynamic(@Sendable (ShellContext) -> [String])
}

/// What an option's value is. The kind is checked when the command is parsed (and, when the
/// value is written literally, when its script is checked), before anything runs; the usage
/// line, `help` and tab completion show and complete it.
package enum OptionValue: Sendable, Equatable {
    /// No value: the option is a switch.
    case flag
    /// Free text, shown as its name ("MODEL", "TEXT"); the command judges it.
    case text(String)
    /// An integer ("N").
    case wholeNumber(String)
    /// A decimal number.
    case number(String)
    /// A duration: "500ms", "2s", "1m", or seconds ("1.5").
    case duration(String)
    /// Milliseconds or a duration: "500" is 500 ms, "2s" two seconds.
    case milliseconds(String)
    /// One word of a closed set, shown as "a|b|c" and completed from it. `hidden` words are
    /// accepted too but neither shown nor completed (another spelling, such as "markdown").
    case oneOf([String], hidden: [String] = [])
    /// A file or directory, completed from the file system.
    case path(String)

    /// The word that stands for the value in the usage line and `help`; nil for a flag.
    package var placeholder: String? {
        switch self {
        case .flag: return nil
        case let .text(name), let .wholeNumber(name), let .number(name), let .duration(name),
             let .milliseconds(name), let .path(name):
            return name
        case let .oneOf(words, _): return words.joined(separator: "|")
        }
    }
}

/// An option a command accepts.
package struct OptionSpec: Sendable {
    package var names: [String]            // e.g. ["-m", "--model"]; the last name is the canonical key
    package var value: OptionValue
    package var help: String
    /// Completion of the value beyond what its kind gives (provider names, models…).
    package var completion: ValueCompletion = .none
    package var repeatable: Bool = false
    /// Words of value each use takes (`-o NAME VALUE` takes 2); they are stored in order.
    /// The kind and `completion` apply to the first of them.
    package var arity: Int = 1
    /// The option this one is used with (`--seed` with `--poisson`): the usage line shows it
    /// inside that option's brackets. The command judges the pairing.
    package var goesWith: String? = nil
    /// Options with the same tag are alternatives (`-c | --rate | --sweep`): the usage line
    /// shows them in one pair of brackets. The command judges the choice.
    package var alternatives: String? = nil
    /// The option makes a form of the command of its own (`route --all`): the usage line shows
    /// it as a separate form, and the positionals are not counted when it is given.
    package var alone: Bool = false
    /// The command needs the option (`replay --to MODEL`): shown without brackets; the command
    /// says what is missing.
    package var required: Bool = false
    /// The subcommand words the option belongs to (`tail requests --slow`); nil for all. The
    /// usage line then shows one form per subcommand.
    package var subcommands: [String]? = nil

    package init(_ names: [String], _ value: OptionValue = .flag, help: String, completion: ValueCompletion = .none,
         repeatable: Bool = false, arity: Int = 1, goesWith: String? = nil, alternatives: String? = nil,
         alone: Bool = false, required: Bool = false, subcommands: [String]? = nil) {
        self.names = names
        self.value = value
        self.help = help
        self.completion = completion
        self.repeatable = repeatable
        self.arity = arity
        self.goesWith = goesWith
        self.alternatives = alternatives
        self.alone = alone
        self.required = required
        self.subcommands = subcommands
    }

    /// The earlier form, whose value's kind came from its name: nil a flag; S and DURATION a
    /// duration; MS milliseconds or a duration; N, K and W a whole number; any other text.
    package init(names: [String], valueName: String? = nil, help: String, completion: ValueCompletion = .none,
         repeatable: Bool = false, arity: Int = 1) {
        let value: OptionValue
        switch valueName {
        case nil: value = .flag
        case "S"?, "DURATION"?: value = .duration(valueName!)
        case "MS"?: value = .milliseconds("MS")
        case "N"?, "K"?, "W"?: value = .wholeNumber(valueName!)
        case let name?: value = .text(name)
        }
        self.init(names, value, help: help, completion: completion, repeatable: repeatable, arity: arity)
    }

    package var canonical: String { names.last! }
    package var takesValue: Bool { value != .flag }
    /// What stands for the value in messages, the usage line and `help` ("S", "NAME VALUE").
    package var valueName: String? { value.placeholder }

    /// What the shell offers for the value: the declared completion, else the allowed words
    /// of an enumeration, else files for a path.
    package var valueCompletion: ValueCompletion {
        if case .none = completion {
            switch value {
            case let .oneOf(words, _): return .words(words)
            case .path: return .files
            default: return .none
            }
        }
        return completion
    }

    /// The usage error's message for a value of the wrong kind; nil when it fits.
    package func problem(with value: String) -> String? {
        switch self.value {
        case .flag, .text, .path: return nil
        case .duration:
            guard DurationText.seconds(value) == nil else { return nil }
            return "\(canonical) takes a duration such as 500ms, 2s or 1m, got '\(value)'"
        case .milliseconds:
            guard DurationText.seconds(value) == nil else { return nil }
            return "\(canonical) takes milliseconds or a duration such as 500ms, 2s or 1m, got '\(value)'"
        case .wholeNumber:
            return Int(value) == nil ? "\(canonical) takes a whole number, got '\(value)'" : nil
        case .number:
            return Double(value).map(\.isFinite) == true ? nil : "\(canonical) takes a number, got '\(value)'"
        case let .oneOf(words, hidden):
            guard !words.contains(value), !hidden.contains(value) else { return nil }
            return "\(canonical) takes \(CommandSpec.alternatives(words)), got '\(value)'"
        }
    }
}

/// A positional argument: usage text, completion, and how many the command takes
/// (`CommandSpec.checkArguments` counts them, so handlers need not).
package struct PositionalSpec: Sendable {
    package var name: String
    package var help: String = ""
    package var optional: Bool = false
    package var variadic: Bool = false
    package var completion: ValueCompletion = .none
    /// The words it takes, when they are a closed set (`config show providers|routes|ports`):
    /// shown in the usage line instead of the name, and completed. The command judges them.
    package var choices: [String]? = nil
    /// The subcommand words it follows (`tail metrics PROVIDER`); nil for all.
    package var subcommands: [String]? = nil

    package init(name: String, help: String = "", optional: Bool = false, variadic: Bool = false,
                 completion: ValueCompletion = .none, choices: [String]? = nil, subcommands: [String]? = nil) {
        self.name = name
        self.help = help
        self.optional = optional
        self.variadic = variadic
        self.completion = completion
        self.choices = choices
        self.subcommands = subcommands
    }

    /// What the usage line shows for it: "NAME", "a|b|c", with "..." when it repeats.
    package var usageWord: String { (choices?.joined(separator: "|") ?? name) + (variadic ? "..." : "") }

    package var valueCompletion: ValueCompletion {
        if case .none = completion, let choices { return .words(choices) }
        return completion
    }
}

/// A parsed command line, handed to a command's `run`.
package struct Invocation: Sendable {
    package var name: String
    package var positionals: [String]
    /// Canonical option name (e.g. "--model") → values in order given.
    package var options: [String: [String]]
    /// The whole command line after expansion, for the log (redacted by the log).
    package var line: String
    package var location: SourceLocation?

    package func flag(_ name: String) -> Bool { options[name] != nil }
    package func value(_ name: String) -> String? { options[name]?.last }
    package func values(_ name: String) -> [String] { options[name] ?? [] }

    package func int(_ name: String, default def: Int) throws -> Int {
        guard let raw = value(name) else { return def }
        guard let v = Int(raw) else { throw UsageError(message: "\(name) takes a whole number, got '\(raw)'") }
        return v
    }

    package func double(_ name: String, default def: Double) throws -> Double {
        guard let raw = value(name) else { return def }
        guard let v = Double(raw) else { throw UsageError(message: "\(name) takes a number, got '\(raw)'") }
        return v
    }

    /// Seconds from "500ms", "2s", "1.5", "3m".
    package func duration(_ name: String, default def: Double) throws -> Double {
        guard let raw = value(name) else { return def }
        guard let v = DurationText.seconds(raw) else {
            throw UsageError(message: "\(name) takes a duration such as 500ms, 2s or 1m, got '\(raw)'")
        }
        return v
    }
}

/// One registry entry: everything the shell knows about a command. `help`, usage errors,
/// did-you-mean, tab completion and `--json` all come from it.
package struct CommandSpec: Sendable {
    package var name: String
    package var aliases: [String] = []
    package var summary: String               // one line
    package var help: String = ""             // long help
    package var options: [OptionSpec] = []
    package var positionals: [PositionalSpec] = []
    /// Words accepted as the first positional (`config show|generate|diff`), completed first.
    /// `positionals` describe the words after it.
    package var subcommands: [String] = []
    /// The subcommand meant when none is given (`tail` → requests); nil when one is required.
    package var defaultSubcommand: String? = nil
    /// What the subcommand word is called in messages ("action", "view").
    package var subcommandTitle: String = "action"
    /// Every word is a positional, options included (`echo`, `expect`, `set`): no option
    /// parsing, no `--help`/`--json`.
    package var rawArguments: Bool = false
    /// The command judges the previous command's result (`expect`): it does not replace that
    /// result, a failure just before it is its to judge, and under `--json` a pass prints nothing.
    package var judgesLastResult: Bool = false
    /// The command runs other commands (`source`): when it succeeds it shows nothing itself
    /// and leaves their last result for `expect`.
    package var runsCommands: Bool = false
    /// The report type the command returns, when it has been given one: help lists its
    /// fields, and a test checks them against what the type encodes.
    package var report: ReportShape? = nil
    /// The reports of the command's other forms (`log --commands`, `route --all`): help
    /// lists each one's fields under its mode, and the same tests check them.
    package var otherReports: [ReportShape] = []
    package var run: @Sendable (Invocation, ShellContext) throws -> CommandResult

    package init(name: String, aliases: [String] = [], summary: String, help: String = "",
                 options: [OptionSpec] = [], positionals: [PositionalSpec] = [], subcommands: [String] = [],
                 defaultSubcommand: String? = nil, subcommandTitle: String = "action", rawArguments: Bool = false,
                 judgesLastResult: Bool = false, runsCommands: Bool = false, report: ReportShape? = nil,
                 otherReports: [ReportShape] = [],
                 run: @escaping @Sendable (Invocation, ShellContext) throws -> CommandResult) {
        self.name = name
        self.aliases = aliases
        self.summary = summary
        self.help = help
        self.options = options
        self.positionals = positionals
        self.subcommands = subcommands
        self.defaultSubcommand = defaultSubcommand
        self.subcommandTitle = subcommandTitle
        self.rawArguments = rawArguments
        self.judgesLastResult = judgesLastResult
        self.runsCommands = runsCommands
        self.report = report
        self.otherReports = otherReports
        self.run = run
    }

    /// Options every command takes (not shown in usage lines).
    package static let commonOptions: [OptionSpec] = [
        OptionSpec(["--json"], help: "print machine-readable JSON"),
        OptionSpec(["-h", "--help"], help: "show help for this command"),
    ]

    /// "chat [--model MODEL] ... [PROMPT...]", generated from the declarations (`UsageLine`).
    package var usage: String { UsageLine(self).text }

    package var allOptions: [OptionSpec] { options + CommandSpec.commonOptions }

    package func option(named n: String) -> OptionSpec? { allOptions.first(where: { $0.names.contains(n) }) }

    /// Splits words into positionals and options per this spec. `--` ends options;
    /// a lone `-` and negative numbers are positionals; `--name=value` is accepted.
    package func parse(words: [String], line: String, location: SourceLocation?) throws -> Invocation {
        if rawArguments {
            let invocation = Invocation(name: name, positionals: words, options: [:], line: line, location: location)
            try checkArguments(invocation)
            return invocation
        }
        var positionals: [String] = []
        var options: [String: [String]] = [:]
        var i = 0
        var optionsEnded = false
        while i < words.count {
            let w = words[i]
            i += 1
            if optionsEnded || !w.hasPrefix("-") || w == "-" || Double(w) != nil {
                positionals.append(w)
                continue
            }
            if w == "--" { optionsEnded = true; continue }
            var name = w
            var inline: String?
            if w.hasPrefix("--"), let eq = w.firstIndex(of: "=") {
                name = String(w[..<eq])
                inline = String(w[w.index(after: eq)...])
            }
            guard let spec = option(named: name) else {
                let known = allOptions.flatMap(\.names)
                var message = "\(self.name): unknown option '\(name)'"
                if let s = Suggest.closest(to: name, among: known) { message += " (did you mean '\(s)'?)" }
                throw UsageError(message: message)
            }
            if spec.takesValue {
                var values: [String] = []
                if let inline, spec.arity == 1 { values = [inline] } else {
                    if inline != nil {
                        throw UsageError(message: "\(self.name): option '\(name)' takes \(spec.valueName!) as separate words")
                    }
                    guard i + spec.arity <= words.count else {
                        throw UsageError(message: "\(self.name): option '\(name)' needs \(spec.arity == 1 ? "a value" : "values") \(spec.valueName!)")
                    }
                    values = Array(words[i..<(i + spec.arity)])
                    i += spec.arity
                }
                for value in values {
                    if let problem = spec.problem(with: value) { throw UsageError(message: "\(self.name): " + problem) }
                }
                if spec.repeatable { options[spec.canonical, default: []] += values } else { options[spec.canonical] = values }
            } else {
                if inline != nil { throw UsageError(message: "\(self.name): option '\(name)' takes no value") }
                options[spec.canonical] = [""]
            }
        }
        let invocation = Invocation(name: self.name, positionals: positionals, options: options, line: line, location: location)
        if options["--help"] == nil { try checkArguments(invocation) }
        return invocation
    }

    /// Parses `words` and runs the command, or answers `--help` with its help. Every usage
    /// error that leaves here shows this command's usage.
    package func invoke(_ words: [String], line: String, location: SourceLocation?, ctx: ShellContext) throws
        -> (invocation: Invocation, result: CommandResult)
    {
        do {
            let invocation = try parse(words: words, line: line, location: location)
            if invocation.flag("--help") && !rawArguments {
                return (invocation, CommandResult(report: CommandHelpReport(command: name, help: helpText)))
            }
            return (invocation, try run(invocation, ctx))
        } catch var error as UsageError where error.usage == nil {
            error.usage = usage
            throw error
        }
    }

    /// Checks the subcommand word and the number of positionals against `subcommands` and
    /// `positionals`, so that no handler counts its own arguments.
    package func checkArguments(_ inv: Invocation) throws {
        // A form of its own (`route --all`): the command judges the words given with it.
        if options.contains(where: { $0.alone && inv.options[$0.canonical] != nil }) { return }
        var words = inv.positionals[...]
        var prefix = name
        if !subcommands.isEmpty {
            if let first = words.first {
                guard subcommands.contains(first) else {
                    var message = "\(name): unknown \(subcommandTitle) '\(first)'"
                    if let near = Suggest.closest(to: first, among: subcommands) {
                        message += " (did you mean '\(near)'?)"
                    } else {
                        message += " (\(Self.alternatives(subcommands)))"
                    }
                    throw UsageError(message: message)
                }
                prefix += " " + first
                words = words.dropFirst()
            } else if defaultSubcommand == nil {
                throw UsageError(message: "\(name): missing \(subcommandTitle) (\(Self.alternatives(subcommands)))")
            }
        }
        let required = positionals.filter { !$0.optional }
        if words.count < required.count {
            throw UsageError(message: "\(prefix): missing \(required[words.count].name)")
        }
        let most = positionals.contains(where: \.variadic) ? Int.max : positionals.count
        if words.count > most {
            throw UsageError(message: "\(prefix): unexpected argument '\(words[words.startIndex + most])'")
        }
    }

    /// "a, b or c".
    package static func alternatives(_ words: [String]) -> String {
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " or " + words.last!
    }

    /// The text of `help NAME`.
    package var helpText: String {
        var out = "usage: \(usage)\n\n\(summary)\n"
        if !help.isEmpty { out += "\n\(help)\n" }
        if let report {
            out += "\nfields (for expect and --json; also status, and error when it failed):\n"
            out += report.fieldLines.joined(separator: "\n") + "\n"
        }
        for other in otherReports {
            out += "\nfields of \(other.mode ?? name):\n"
            out += other.fieldLines.joined(separator: "\n") + "\n"
        }
        if !aliases.isEmpty { out += "\naliases: \(aliases.joined(separator: ", "))\n" }
        let described = positionals.filter { !$0.help.isEmpty }
        if !described.isEmpty {
            out += "\narguments:\n"
            let width = described.map(\.usageWord.count).max() ?? 0
            for p in described { out += "  " + p.usageWord.padded(toLength: width) + "  " + p.help + "\n" }
        }
        let opts = allOptions
        if !opts.isEmpty {
            out += "\noptions:\n"
            let labels = opts.map { o in o.names.joined(separator: ", ") + (o.valueName.map { " \($0)" } ?? "") }
            let width = labels.map(\.count).max() ?? 0
            for (label, o) in zip(labels, opts) {
                out += "  " + label.padded(toLength: width) + "  " + o.help + "\n"
            }
        }
        return out
    }
}

