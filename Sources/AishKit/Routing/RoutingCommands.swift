enum RoutingCommands {
    static let all: [CommandSpec] = []
}
