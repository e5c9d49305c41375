import AishBase

/// Commands, looked up by name or alias, under the group titles `help` lists. Each
/// subsystem contributes its own list (`XCommands.all` in its target); the shell puts them
/// together (`CommandRegistry.standard`).
package struct CommandRegistry: Sendable {
    package struct Group: Sendable {
        package var title: String
        package var commands: [CommandSpec]

        package init(title: String, commands: [CommandSpec]) {
            self.title = title
            self.commands = commands
        }

    }

    package let groups: [Group]
    package let commands: [CommandSpec]
    private let index: [String: Int]

    /// Commands without groups (tests): `help` lists them under "Commands".
    package init(_ commands: [CommandSpec]) {
        self.init(groups: [Group(title: "Commands", commands: commands)])
    }

    package init(groups: [Group]) {
        self.groups = groups
        let commands = groups.flatMap(\.commands)
        self.commands = commands
        var index: [String: Int] = [:]
        for (i, c) in commands.enumerated() {
            for n in [c.name] + c.aliases {
                precondition(index[n] == nil, "command name '\(n)' registered twice")
                index[n] = i
            }
        }
        self.index = index
    }

    package func lookup(_ name: String) -> CommandSpec? { index[name].map { commands[$0] } }

    package var allNames: [String] { commands.flatMap { [$0.name] + $0.aliases } }

    /// "unknown command 'provders' — did you mean 'providers'?"
    package func unknownCommandError(_ name: String) -> UsageError {
        var message = "unknown command '\(name)'"
        if name.hasSuffix(".ai") {
            // `aish smoke.ai` is a common slip for running a script.
            message += " — to run a script: aish -f \(name)"
        } else if let s = Suggest.closest(to: name, among: allNames) { message += " — did you mean '\(s)'?" }
        message += " (type 'help' for the list)"
        return UsageError(message: message)
    }
}
