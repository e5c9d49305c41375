import FoundationEssentials
import Glibc
import Synchronization

/// Options from the process's command line that every command sees.
struct GlobalOptions: Sendable {
    var configDirectory: String? = nil   // resolved by the config subsystem (SPEC §1 defaults)
    var databasePath: String? = nil
    var json = false
    var color = false
    var quiet = false
    var continueOnError = false
    var interactive = false
}

/// Set by SIGINT; polled by long-running work (sleep, transfers, tail) so that Ctrl-C
/// cancels the command in flight and never the shell.
final class InterruptFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    func raise() { raised.store(true, ordering: .relaxed) }
    func clear() { raised.store(false, ordering: .relaxed) }
    var isRaised: Bool { raised.load(ordering: .relaxed) }

    /// The process-wide flag the SIGINT handler sets.
    static let shared = InterruptFlag()
}

/// Where command output goes: the one step between aish and the terminal. Everything written
/// is redacted of secrets (the filter the session log uses); on a terminal, control
/// characters in the text are shown visibly (`ControlCharacters`), so that text from outside
/// cannot drive the terminal; aish's own colours and cursor movement come as `TerminalText`
/// controls. Writes are unbuffered so streamed text shows at once, also when stdout is a pipe.
final class OutputSink: @unchecked Sendable {
    private let lock = ThreadLock()
    private var captured: String?
    /// The secret filter applied to everything written.
    let secrets: SecretFilter
    /// Whether stdout and stderr are terminals (control characters in text shown visibly).
    let stdoutIsTerminal: Bool
    let stderrIsTerminal: Bool

    /// `capturing`: a sink that keeps what is written (for tests) instead of writing to fd 1/2;
    /// `terminal` says whether it sanitises as for a terminal (by default: whether fd 1 and 2
    /// are terminals; false for a capturing sink).
    init(capturing: Bool = false, terminal: Bool? = nil, secrets: SecretFilter = SecretFilter(environment: [:])) {
        captured = capturing ? "" : nil
        self.secrets = secrets
        stdoutIsTerminal = terminal ?? (!capturing && isatty(1) == 1)
        stderrIsTerminal = terminal ?? (!capturing && isatty(2) == 1)
    }

    var capturedText: String { lock.withLock { captured ?? "" } }

    /// True for a test sink: output is kept, never shown, so terminal drawing is off.
    var isCapturing: Bool { lock.withLock { captured != nil } }

    func write(_ text: String) { emit(fd: 1, clean(text, terminal: stdoutIsTerminal)) }
    func writeError(_ text: String) { emit(fd: 2, clean(text, terminal: stderrIsTerminal)) }
    func write(_ text: TerminalText) { emit(fd: 1, clean(text, terminal: stdoutIsTerminal)) }
    func writeError(_ text: TerminalText) { emit(fd: 2, clean(text, terminal: stderrIsTerminal)) }

    /// Text streamed to stdout in pieces (a reply): see `StreamedOutput`. `raw`: control
    /// characters are written as they are, also on a terminal (secrets are still masked).
    func stream(raw: Bool = false) -> StreamedOutput {
        StreamedOutput(sink: self, sanitise: stdoutIsTerminal && !raw)
    }

    /// Already redacted text to stdout, sanitised when asked (for `StreamedOutput`).
    func writeRedacted(_ text: String, sanitise: Bool) {
        emit(fd: 1, sanitise ? ControlCharacters.visible(text) : text)
    }

    /// What leaves aish for a file (`--out`, `--csv`, `--junit`, `export`): redacted of
    /// secrets, the text otherwise exact.
    func forFile(_ text: String) -> String { secrets.redact(text) }

    private func clean(_ text: String, terminal: Bool) -> String {
        let redacted = secrets.redact(text)
        return terminal ? ControlCharacters.visible(redacted) : redacted
    }

    private func clean(_ text: TerminalText, terminal: Bool) -> String {
        text.runs.reduce(into: "") { out, run in
            switch run {
            case let .text(s): out += clean(s, terminal: terminal)
            case let .control(c): out += c
            }
        }
    }

    private func emit(fd: Int32, _ text: String) {
        guard !text.isEmpty else { return }
        lock.withLock {
            if captured != nil { captured! += text; return }
            OutputSink.writeAll(fd: fd, text)
        }
    }

    private static func writeAll(fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buf in Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
        _ = bytes
    }
}

/// The state one aish process carries between commands: options, script variables, the
/// last result for `expect`, and per-subsystem state (config, router, conversation, log).
/// Used from the runner's thread only.
final class ShellContext {
    var options: GlobalOptions
    let registry: CommandRegistry
    let output: OutputSink
    let interrupt: InterruptFlag
    /// Script variables (`set`, `--var`), looked up before the environment.
    var variables: [String: String] = [:]
    /// `$1`, `$2`, … of the running script.
    var scriptArguments: [String] = []
    /// The result `expect` tests.
    var lastResult: CommandResult?
    /// Where the session log writes; nil when the log could not be opened.
    var recorder: SessionRecorder?
    /// The environment, injectable for tests.
    var environment: [String: String]

    private var subsystemState: [ObjectIdentifier: AnyObject] = [:]

    init(options: GlobalOptions = GlobalOptions(), registry: CommandRegistry = .standard,
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
    func learnSecretValues(_ values: [String]) { output.secrets.addSecretValues(values) }

    /// Variables whose values to mask from now on (the providers' `env_var`).
    func learnSecretVariableNames(_ names: [String]) { output.secrets.addSecretNames(names) }

    /// Per-subsystem state, created on first use. Each subsystem keeps its own class here
    /// so that the context does not grow a field per feature.
    func state<T: AnyObject>(_ type: T.Type, make: () -> T) -> T {
        let key = ObjectIdentifier(type)
        if let existing = subsystemState[key] as? T { return existing }
        let created = make()
        subsystemState[key] = created
        return created
    }

    func resetState<T: AnyObject>(_ type: T.Type) { subsystemState[ObjectIdentifier(type)] = nil }

    /// Sleeps in small steps; returns false if interrupted.
    func sleep(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if interrupt.isRaised { return false }
            let left = deadline.timeIntervalSinceNow
            usleep(useconds_t(max(0, min(left, 0.02)) * 1_000_000))
        }
        return !interrupt.isRaised
    }
}
