enum MetricsCommands {
    static let all: [CommandSpec] = []
}
