enum SessionLogCommands {
    static let all: [CommandSpec] = []
}
