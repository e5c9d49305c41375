import FoundationEssentials
import Glibc
import Synchronization
import AishBase

/// Options from the process's command line that every command sees.
package struct GlobalOptions: Sendable {
    package var configDirectory: String? = nil   // resolved by the config subsystem (SPEC §1 defaults)
    package var databasePath: String? = nil
    package var json = false
    package var color = false
    package var quiet = false
    package var continueOnError = false
    package var interactive = false

    package init(configDirectory: String? = nil, databasePath: String? = nil, json: Bool = false, color: Bool = false,
                 quiet: Bool = false, continueOnError: Bool = false, interactive: Bool = false) {
        self.configDirectory = configDirectory
        self.databasePath = databasePath
        self.json = json
        self.color = color
        self.quiet = quiet
        self.continueOnError = continueOnError
        self.interactive = interactive
    }

}

/// The state one aish process carries between commands: options, script variables, the
/// last result for `expect`, and per-subsystem state (config, router, conversation, log).
/// Used from the runner's thread only.
package final class ShellContext {
    package var options: GlobalOptions
    package let registry: CommandRegistry
    package let output: OutputSink
    package let interrupt: InterruptFlag
    /// Script variables (`set`, `--var`), looked up before the environment.
    package var variables: [String: String] = [:]
    /// `$1`, `$2`, … of the running script.
    package var scriptArguments: [String] = []
    /// The result `expect` tests.
    package var lastResult: CommandResult?
    /// Where the session log writes; nil when the log could not be opened.
    package var recorder: SessionRecorder?
    /// The environment, injectable for tests.
    package var environment: [String: String]

    private var subsystemState: [ObjectIdentifier: AnyObject] = [:]

    package init(options: GlobalOptions = GlobalOptions(), registry: CommandRegistry,
         output: OutputSink = OutputSink(), interrupt: InterruptFlag = .shared,
         environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.options = options
        self.registry = registry
        self.output = output
        self.interrupt = interrupt
        self.environment = environment
        output.secrets.adopt(environment: environment)
    }

    /// Values to mask from now on, on the screen, in files, in the log and in the history
    /// (`set api_key V`): they all mask with `output.secrets`.
    package func learnSecretValues(_ values: [String]) { output.secrets.addSecretValues(values) }

    /// Variables whose values to mask from now on (the providers' `env_var`).
    package func learnSecretVariableNames(_ names: [String]) { output.secrets.addSecretNames(names) }

    /// Per-subsystem state, created on first use. Each subsystem keeps its own class here
    /// so that the context does not grow a field per feature.
    package func state<T: AnyObject>(_ type: T.Type, make: () -> T) -> T {
        let key = ObjectIdentifier(type)
        if let existing = subsystemState[key] as? T { return existing }
        let created = make()
        subsystemState[key] = created
        return created
    }

    package func resetState<T: AnyObject>(_ type: T.Type) { subsystemState[ObjectIdentifier(type)] = nil }

    /// Sleeps in small steps; returns false if interrupted.
    package func sleep(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if interrupt.isRaised { return false }
            let left = deadline.timeIntervalSinceNow
            usleep(useconds_t(max(0, min(left, 0.02)) * 1_000_000))
        }
        return !interrupt.isRaised
    }
}
