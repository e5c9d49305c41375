enum ChatCommands {
    static let all: [CommandSpec] = []
}
