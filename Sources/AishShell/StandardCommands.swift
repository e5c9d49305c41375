import FoundationEssentials
import AishBase
import AishChat
import AishCommand
import AishConfig
import AishDrill
import AishMeasure
import AishProviders
import AishReplay
import AishReport
import AishRouting
import AishScript
import AishServices
import AishSessionLog

extension CommandRegistry {
    /// Every command aish has: the one place that knows them all.
    package static let standard = CommandRegistry(groups: [
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
}

extension ShellContext {
    /// A context with every command (`CommandRegistry.standard`).
    package convenience init(options: GlobalOptions = GlobalOptions(), output: OutputSink = OutputSink(),
                     interrupt: InterruptFlag = .shared,
                     environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(options: options, registry: .standard, output: output, interrupt: interrupt, environment: environment)
    }
}
