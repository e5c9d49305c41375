import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishLineEditor
import AishScript

/// Where the commands being run come from: a script file (messages say `file:line:`),
/// or the terminal, a pipe or `-c` text.
package struct ScriptFrame {
    /// The script path as given, for messages and the log; nil for terminal and `-c` input.
    package var file: String?
    package var arguments: [String]
    package var depth: Int = 0
    package var scriptName: String { file ?? "aish" }
}

/// `exit [CODE]`: ends the whole aish run (also from inside `source`).
package struct ExitRequest: Error {
    package var code: Int32
}

/// `source` nested too deep: a script problem, exit 2 like a syntax error.
package struct SourceNestingError: UserFacingError {
    package var message: String
    package var exitCode: ExitCode { .usage }
    package var description: String { message }
}

/// A sourced script stopped at a failure that it already reported.
package struct SourcedScriptStopped: Error {
    package var code: Int32
}

/// The one runner behind the terminal, pipes, `-c` and script files: expands each command,
/// looks it up in the registry, runs it, prints its result, records it in the session log
/// and keeps `lastResult` for `expect`.
package final class CommandRunner {
    /// Exit status of a run cancelled with Ctrl-C, as in POSIX shells.
    package static let interruptedExitCode: Int32 = 130

    package let ctx: ShellContext
    package let ledger: ExpectLedger
    package private(set) var frames: [ScriptFrame] = []
    /// The first command failure that was not examined by a following `expect`.
    package private(set) var firstFailure: Int32?
    package private(set) var interrupted = false
    /// The first failure reported, as its first line was printed (for `aish test`).
    package private(set) var firstErrorText: String?
    /// Line of the command running now (for `expect` in `-c` text and at the terminal).
    package private(set) var currentLine = 0

    package init(ctx: ShellContext) {
        self.ctx = ctx
        self.ledger = ctx.state(ExpectLedger.self) { ExpectLedger() }
        ctx.state(RunnerLink.self) { RunnerLink() }.runner = self
    }

    /// The exit code of the run so far: 130 if cancelled, 4 if an expect failed, else the
    /// first unexamined command failure, else 0.
    package var exitCode: Int32 {
        if let signal = InterruptSignal.pendingTermination { return 128 + signal }
        if interrupted { return CommandRunner.interruptedExitCode }
        if ledger.failed > 0 { return ExitCode.assertion.rawValue }
        return firstFailure ?? 0
    }

    /// Error messages in red only when colour is on and stderr is a terminal.
    private lazy var errorColour = ctx.options.color && isatty(2) == 1

    private var stopsOnFailure: Bool {
        !ctx.options.continueOnError && (!ctx.options.interactive || frames.count > 1)
    }

    /// Runs commands in order. Returns false when the block stopped at a failure (the failure
    /// has been reported). Throws `ExitRequest` for `exit`.
    @discardableResult
    package func run(_ commands: [ScriptCommand], frame: ScriptFrame) throws -> Bool {
        // A line typed or piped in: the files it sources are checked before any of it runs
        // (script files and `-c` text were checked with the rest when they were read).
        if frames.isEmpty, frame.file == nil || frame.file == "<stdin>" {
            try ScriptCheck.checkSourcedFiles(commands, registry: ctx.registry, from: nil)
        }
        frames.append(frame)
        defer { frames.removeLast() }
        var i = 0
        while i < commands.count {
            if ctx.interrupt.isRaised && !ctx.options.interactive {
                interrupted = true
                return false
            }
            let command = commands[i]
            let isExpect = judgesLastResult(command)
            let code = try runOne(command)
            let nextIsExpect = i + 1 < commands.count && judgesLastResult(commands[i + 1])
            i += 1
            // Ctrl-C in a script cancels the command and then the script; SIGTERM also
            // ends an interactive session.
            if InterruptSignal.pendingTermination != nil || (ctx.interrupt.isRaised && !ctx.options.interactive) {
                interrupted = true
                return false
            }
            guard let code else { continue }
            if isExpect {
                if stopsOnFailure { return false }
                continue
            }
            // A failure followed by `expect` is for the expects to judge (`expect error`).
            if nextIsExpect { continue }
            if firstFailure == nil && !ctx.options.interactive { firstFailure = code }
            if stopsOnFailure {
                if let file = frame.file {
                    ledger.commandErrors.append(ExpectLedger.Case(
                        file: file, line: command.location.line, assertion: command.text, passed: false,
                        message: ctx.lastResult?.error ?? "command failed", seconds: 0))
                }
                return false
            }
        }
        return true
    }

    /// Whether a script line is an assertion on the line before (`expect`), known before it runs.
    private func judgesLastResult(_ command: ScriptCommand) -> Bool {
        command.literalName.flatMap { ctx.registry.lookup($0) }?.judgesLastResult ?? false
    }

    /// Runs `source FILE ARGS`: the file is parsed whole first, then run as a nested script.
    package func source(path: String, arguments: [String]) throws -> CommandResult {
        guard frames.count <= ScriptFile.maxSourceDepth else {
            throw SourceNestingError(message:
                "source: nesting limit of \(ScriptFile.maxSourceDepth) reached at '\(path)' (does a script source itself?)")
        }
        let resolved = ScriptFile.resolveSourced(path, from: frames.last?.file)
        let commands = try ScriptFile.load(path: resolved, registry: ctx.registry)
        let depth = (frames.last?.depth ?? 0) + 1
        let completed = try run(commands, frame: ScriptFrame(file: resolved, arguments: arguments, depth: depth))
        if !completed { throw SourcedScriptStopped(code: exitCode == 0 ? 1 : exitCode) }
        return CommandResult(status: .ok, text: "", alreadyPrinted: true)
    }

    // MARK: - One command

    /// Runs one command; returns nil on success or the exit code it failed with.
    private func runOne(_ command: ScriptCommand) throws -> Int32? {
        let frame = frames.last!
        let expansion = WordExpansion(variables: ctx.variables, environment: ctx.environment,
                                      arguments: frame.arguments, scriptName: frame.scriptName)
        let words = expansion.expand(command.words)
        guard let name = words.first else { return nil }
        let location = SourceLocation(file: frame.file ?? "-", line: command.location.line,
                                      column: command.location.column)
        currentLine = command.location.line
        let recordID = ctx.recorder?.beginCommand(text: command.text, sourceFile: frame.file,
                                                  line: frame.file == nil ? nil : command.location.line)
        let started = Date()
        // At the terminal each command starts afresh; in a script a Ctrl-C that lands between
        // two commands must still stop the script, so the flag is kept.
        if ctx.options.interactive { ctx.interrupt.clear() }

        var result: CommandResult
        var failureCode: Int32?
        var wantsJSON = ctx.options.json
        var quietFailure = false
        var exitRequest: ExitRequest?
        var isExpect = false
        var isSource = false
        do {
            guard let spec = ctx.registry.lookup(name) else { throw ctx.registry.unknownCommandError(name) }
            isExpect = spec.judgesLastResult
            isSource = spec.runsCommands
            let (invocation, outcome) = try spec.invoke(Array(words.dropFirst()), line: words.joined(separator: " "),
                                                        location: frame.file == nil ? nil : location, ctx: ctx)
            if invocation.flag("--json") { wantsJSON = true }
            result = outcome
            if result.status == .error { failureCode = (result.failureExitCode ?? .failure).rawValue }
        } catch let request as ExitRequest {
            exitRequest = request
            result = .ok()
        } catch let stopped as SourcedScriptStopped {
            result = .failure("sourced script stopped")
            failureCode = stopped.code
            quietFailure = true
        } catch {
            let text = ErrorText(error)
            result = .failure(text.message)
            failureCode = text.exitCode
        }
        if ctx.interrupt.isRaised, result.status == .error, failureCode == ExitCode.failure.rawValue,
            !(result.error ?? "").contains("interrupt")
        {
            result.error = (result.error.map { $0 + " " } ?? "") + "(interrupted)"
        }

        // `source` shows nothing itself and leaves the sourced script's last result for `expect`.
        if !(isSource && failureCode == nil) {
            if !quietFailure { show(result, json: wantsJSON, failure: failureCode, isExpect: isExpect, location: location) }
            if !isExpect { ctx.lastResult = result }
        }
        let duration = Date().timeIntervalSince(started) * 1000
        ctx.recorder?.endCommand(id: recordID, record: CommandRecord(
            text: command.text, sourceFile: frame.file, line: frame.file == nil ? nil : command.location.line,
            status: result.status, durationMs: duration, error: result.error, startedAt: started))
        if let exitRequest { throw exitRequest }
        return failureCode
    }

    private func show(_ result: CommandResult, json: Bool, failure: Int32?, isExpect: Bool, location: SourceLocation) {
        if json {
            if !(isExpect && result.status == .ok) { ctx.output.write(result.jsonForm.serialized() + "\n") }
        } else if !result.alreadyPrinted, let styled = result.styledText {
            ctx.output.write(result.text.hasSuffix("\n") ? styled : styled + "\n")
        } else if !result.alreadyPrinted && !result.text.isEmpty {
            ctx.output.write(result.text.hasSuffix("\n") ? result.text : result.text + "\n")
        }
        guard failure != nil || result.status == .error else { return }
        let error = result.error ?? "command failed"
        let message = errorColour ? TerminalText.styled(error, "31") : TerminalText(error)
        let isAssertion = failure == ExitCode.assertion.rawValue
        if firstErrorText == nil {
            let first = error.split(separator: "\n").first.map(String.init) ?? error
            firstErrorText = frames.last?.file != nil ? "\(location.file):\(location.line): " + (isAssertion ? "" : "error: ") + first
                : "aish: " + first
        }
        if frames.last?.file != nil {
            ctx.output.writeError("\(location.file):\(location.line): " + (isAssertion ? "" : "error: ") + message + "\n")
        } else {
            ctx.output.writeError("aish: " + message + "\n")
        }
    }
}

/// Lets built-ins that need the runner (`source`) reach it through the context.
package final class RunnerLink {
    package weak var runner: CommandRunner?
}
