import AishBase
import AishCommand

/// The latency and metrics commands: `compare`, `bench`, `metrics`, `tail`.
package enum MetricsCommands {
    package static let all: [CommandSpec] = [CompareCommand.spec, BenchCommand.spec, MetricsCommand.spec, TailCommand.spec]
}
