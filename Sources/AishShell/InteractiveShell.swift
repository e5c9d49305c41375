import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishLineEditor
import AishScript

/// The terminal line source: prompt, line editing, history, completion. A line ending in `\`
/// or an open heredoc continues on the next line with the prompt `> `. Errors never end the
/// session; Ctrl-C clears the line or cancels the running command; Ctrl-D or `exit` leaves.
package final class InteractiveShell {
    package static let prompt = "aish> "
    package static let continuationPrompt = "> "

    package let ctx: ShellContext
    package let runner: CommandRunner

    package init(ctx: ShellContext, runner: CommandRunner) {
        self.ctx = ctx
        self.runner = runner
    }

    package func run() -> Int32 {
        let historyPath = HistoryFile.path(environment: ctx.environment)
        let completer = Completer(registry: ctx.registry, context: ctx)
        let editor = LineEditor(historyPath: historyPath) { line in completer.complete(lineBeforeCursor: line) }
        ctx.state(HistoryLink.self) { HistoryLink() }.entries = { editor.entries }
        if !ctx.options.quiet {
            ctx.output.writeError("aish \(AishMain.version) — type 'help' for commands, Ctrl-D to leave\n")
        }
        var lines: [String] = []
        while true {
            if let signal = InterruptSignal.pendingTermination { return 128 + signal }
            let prompt = lines.isEmpty ? InteractiveShell.prompt : InteractiveShell.continuationPrompt
            let read = editor.readLine(prompt: prompt)
            if let signal = InterruptSignal.pendingTermination { return 128 + signal }
            switch read {
            case .endOfInput:
                if lines.isEmpty {
                    ctx.output.writeError("\n")
                    return 0
                }
                lines = []  // Ctrl-D inside a continuation drops the unfinished entry
                ctx.output.writeError("\n")
            case .interrupted:
                lines = []
            case let .line(line):
                // The history file is written at once: secrets never reach it (issue 16.2).
                if !line.trimming(.whitespaces).isEmpty { editor.addHistory(ctx.output.secrets.redact(line)) }
                lines.append(line)
                let text = lines.joined(separator: "\n")
                do {
                    switch try ScriptParser.parseIncremental(text, file: "aish") {
                    case .needsMoreInput:
                        continue
                    case let .complete(commands):
                        lines = []
                        try runner.run(commands, frame: ScriptFrame(file: nil, arguments: []))
                    }
                } catch let request as ExitRequest {
                    return request.code
                } catch let error as ScriptSyntaxError {
                    lines = []
                    ctx.output.writeError("aish: column \(error.location.column): error: \(error.message)\n"
                        + ScriptSyntaxError.snippet(error.lineText, column: error.location.column) + "\n")
                } catch {
                    lines = []
                    ctx.output.writeError("aish: \(error)\n")
                }
            }
        }
    }
}
