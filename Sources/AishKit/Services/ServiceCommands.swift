enum ServiceCommands {
    static let all: [CommandSpec] = []
}
