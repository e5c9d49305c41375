import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishLineEditor
import AishScript
import AishSessionLog

/// Entry point used by the thin `aish` executable. Returns the process exit code; only the
/// executable exits.
package enum AishMain {
    package static var version: String { AishVersion.current }

    package static func run(arguments: [String]) -> Int32 {
        var environment = ProcessInfo.processInfo.environment
        // A script run by `aish test`: its results go back on their own channel.
        let testResults = TestChildChannel.take(&environment)
        let output = OutputSink(secrets: SecretFilter(environment: environment))
        let registry = CommandRegistry.standard
        let parsed: ProcessArguments
        do {
            parsed = try ProcessArguments.parse(arguments, registry: registry)
        } catch {
            output.writeError("aish: \(error)\nTry 'aish --help'.\n")
            return ExitCode.usage.rawValue
        }
        switch parsed.action {
        case .help:
            output.write(ProcessArguments.usage + "\n")
            return 0
        case .version:
            output.write("aish \(version)\n")
            return 0
        default: break
        }

        let interactive = parsed.action == .standardInput && isatty(0) == 1
        var options = GlobalOptions()
        options.configDirectory = parsed.resolvedConfigDirectory(environment: environment)
        options.databasePath = parsed.resolvedDatabasePath(environment: environment)
        options.json = parsed.json
        options.quiet = parsed.quiet
        options.continueOnError = parsed.continueOnError
        options.interactive = interactive
        options.color = !parsed.noColor && environment["NO_COLOR"] == nil && isatty(1) == 1
            && environment["TERM"] != "dumb"

        let ctx = ShellContext(options: options, registry: registry, output: output, environment: environment)
        for name in parsed.variableOrder { ctx.variables[name] = parsed.variables[name] }
        // Piped text is a prompt's only when the commands are not read from stdin themselves.
        let stdinOffer = StandardInputText.offer(for: parsed.action)
        ctx.state(StandardInputText.self) { StandardInputText(fd: 0, offer: stdinOffer) }
        InterruptSignal.install(interactive: interactive)

        let mode: String
        var scriptPath: String?
        switch parsed.action {
        case let .script(path, _): mode = "script"; scriptPath = path
        case .commands, .command: mode = "command"
        default: mode = interactive ? "interactive" : "pipe"
        }
        ctx.recorder = SessionLogAccess.open(path: options.databasePath, mode: mode, scriptPath: scriptPath,
                                             output: output, environment: environment)
        defer { ctx.recorder?.endSession() }
        ctx.learnSecretValues(ctx.variables.filter { SecretRedactor.looksSecret($0.key) }.map(\.value))

        let runner = CommandRunner(ctx: ctx)
        var code: Int32
        var alwaysSummarise = false
        var suiteName = "aish"
        var thrownFailure: String?
        do {
            switch parsed.action {
            case let .script(path, args):
                suiteName = path
                let commands = try ScriptFile.load(path: path, registry: registry)
                alwaysSummarise = true  // once the script has parsed and starts to run
                try runner.run(commands, frame: ScriptFrame(file: path, arguments: args))
                code = runner.exitCode
            case let .commands(text, args):
                suiteName = "-c"
                let text = ScriptFile.droppingByteOrderMark(text)
                let commands = try ScriptParser.parse(text, file: "-c")
                try ScriptCheck.check(commands, registry: registry, text: text)
                try runner.run(commands, frame: ScriptFrame(file: nil, arguments: args))
                code = runner.exitCode
            case let .command(words):
                let location = SourceLocation(file: "-", line: 1, column: 1)
                let command = ScriptCommand(
                    words: words.map { Word(segments: [.literal($0)], quoted: true, location: location) },
                    location: location, text: words.joined(separator: " "))
                try runner.run([command], frame: ScriptFrame(file: nil, arguments: []))
                code = runner.exitCode
            default:
                if interactive {
                    code = InteractiveShell(ctx: ctx, runner: runner).run()
                } else {
                    suiteName = "<stdin>"
                    code = PipeInput(runner: runner).run()
                }
            }
        } catch let request as ExitRequest {
            code = request.code
        } catch {
            let text = ErrorText(error)
            output.writeError(text.programLine + "\n")
            code = text.exitCode
            thrownFailure = text.programLine.split(separator: "\n").first.map(String.init)
        }

        let ledger = runner.ledger
        if (alwaysSummarise || !ledger.cases.isEmpty) && !options.json && !options.quiet && !interactive {
            output.write(ledger.summary + "\n")
        }
        if let junit = parsed.junitPath {
            let xml = output.forFile(JUnitReport.xml(ledger, suiteName: suiteName))
            do {
                // Private: a failed expect's message may quote a reply.
                try OutputFile.write(xml, to: junit, privacy: .privateToUser)
            } catch {
                output.writeError("aish: cannot write JUnit report '\(junit)': \(error)\n")
                if code == 0 { code = ExitCode.failure.rawValue }
            }
        }
        if let testResults {
            let results = TestChildChannel.Results(suiteName: suiteName, exitCode: code,
                                                   firstFailure: runner.firstErrorText ?? thrownFailure, ledger: ledger)
            do {
                try results.write(to: testResults)
            } catch {
                output.writeError("aish: cannot write the results for aish test to '\(testResults)': \(describeFileError(error))\n")
                if code == 0 { code = ExitCode.failure.rawValue }
            }
        }
        return code
    }

}

/// Commands from a pipe: no prompt, no line editing, no history. Lines are parsed as they
/// arrive (a heredoc or `\` continuation waits for its end), and run like a script named
/// `<stdin>`: the first failure stops the run unless --continue-on-error.
package struct PipeInput {
    package let runner: CommandRunner

    package func run() -> Int32 {
        let file = "<stdin>"
        var pending: [String] = []
        var firstLine = 1
        var lineNumber = 0
        do {
            while true {
                guard var line = readLine(strippingNewline: true) else { break }
                lineNumber += 1
                if lineNumber == 1 { line = ScriptFile.droppingByteOrderMark(line) }
                if line.contains("\0") {
                    throw ScriptFileError(location: "\(file):\(lineNumber)", message: "binary input (NUL byte), not aish commands")
                }
                pending.append(line)
                switch try ScriptParser.parseIncremental(pending.joined(separator: "\n"), file: file, firstLine: firstLine) {
                case .needsMoreInput:
                    continue
                case let .complete(commands):
                    pending = []
                    firstLine = lineNumber + 1
                    if !(try runner.run(commands, frame: ScriptFrame(file: file, arguments: []))) {
                        return runner.exitCode
                    }
                }
            }
            if let signal = InterruptSignal.pendingTermination { return 128 + signal }
            if runner.ctx.interrupt.isRaised { return CommandRunner.interruptedExitCode }
            if !pending.isEmpty {
                let commands = try ScriptParser.parse(pending.joined(separator: "\n"), file: file, firstLine: firstLine)
                try runner.run(commands, frame: ScriptFrame(file: file, arguments: []))
            }
        } catch let request as ExitRequest {
            return request.code
        } catch {
            let text = ErrorText(error)
            runner.ctx.output.writeError(text.programLine + "\n")
            return text.exitCode
        }
        return runner.exitCode
    }
}
