import AishBase

/// `help COMMAND`: one command's usage, options, fields and aliases.
package struct CommandHelpReport: CommandReport {
    package var command: String
    package var help: String

    package init(command: String, help: String) {
        self.command = command
        self.help = help
    }

    package static let fields = [ReportField("command", "the command's name (an alias is resolved)"),
                         ReportField("help", "the help text, as printed")]
    package static let example = CommandHelpReport(command: "echo", help: "usage: echo [TEXT...]\n")

    package func renderText() -> String { help }
}
