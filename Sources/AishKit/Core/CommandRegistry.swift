/// All commands, looked up by name or alias. Each subsystem contributes its own list
/// (`XCommands.all` in its folder); this is the one place they are put together, under the
/// group titles `help` lists.
struct CommandRegistry: Sendable {
    struct Group: Sendable {
        var title: String
        var commands: [CommandSpec]
    }

    let groups: [Group]
    let commands: [CommandSpec]
    private let index: [String: Int]

    /// Commands without groups (tests): `help` lists them under "Commands".
    init(_ commands: [CommandSpec]) {
        self.init(groups: [Group(title: "Commands", commands: commands)])
    }

    init(groups: [Group]) {
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

    static let standard = CommandRegistry(groups: [
        Group(title: "Shell", commands: BuiltinCommands.all),
        Group(title: "Configuration", commands: ConfigCommands.all),
        Group(title: "Providers", commands: ProviderCommands.all + GatewayCommands.all),
        Group(title: "Routing", commands: RoutingCommands.all),
        Group(title: "Chat", commands: ChatCommands.all),
        Group(title: "Session log", commands: SessionLogCommands.all),
        Group(title: "Metrics", commands: MetricsCommands.all),
        Group(title: "Services", commands: ServiceCommands.all),
        Group(title: "Drills and replay", commands: DrillCommands.all + ReplayCommands.all),
        Group(title: "Scripts", commands: ScriptCommands.all),
        Group(title: "Report", commands: ReportCommands.all),
    ])

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
