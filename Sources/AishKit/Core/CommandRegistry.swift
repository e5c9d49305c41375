/// All commands, looked up by name or alias. Each subsystem contributes its own list
/// (`XCommands.all` in its folder); this is the one place they are put together.
struct CommandRegistry: Sendable {
    let commands: [CommandSpec]
    private let index: [String: Int]

    init(_ commands: [CommandSpec]) {
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

    static let standard = CommandRegistry(
        BuiltinCommands.all + ConfigCommands.all + ProviderCommands.all + RoutingCommands.all
            + ChatCommands.all + SessionLogCommands.all + MetricsCommands.all + ServiceCommands.all
            + DrillCommands.all + ReplayCommands.all + ScriptCommands.all)

    func lookup(_ name: String) -> CommandSpec? { index[name].map { commands[$0] } }

    var allNames: [String] { commands.flatMap { [$0.name] + $0.aliases } }

    /// "unknown command 'provders' — did you mean 'providers'?"
    func unknownCommandError(_ name: String) -> UsageError {
        var message = "unknown command '\(name)'"
        if name.hasSuffix(".ai") {
            // `aish smoke.ai` is a common slip for running a script.
            message += " — to run a script: aish -f \(name)"
        } else if let s = Suggest.closest(to: name, among: allNames) { message += " — did you mean '\(s)'?" }
        message += " (type 'help' for the list)"
        return UsageError(message: message)
    }
}
