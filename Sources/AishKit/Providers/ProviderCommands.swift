enum ProviderCommands {
    static let all: [CommandSpec] = []
}
