enum BuiltinCommands {
    static let all: [CommandSpec] = []
}
