/// The latency and metrics commands: `compare`, `bench`, `metrics`, `tail`.
enum MetricsCommands {
    static let all: [CommandSpec] = [CompareCommand.spec, BenchCommand.spec, MetricsCommand.spec, TailCommand.spec]
}
