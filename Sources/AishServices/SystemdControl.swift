import FoundationEssentials
import Glibc
import AishBase
import AishConfig

package enum ServiceAction: String, CaseIterable, Sendable {
    case start, stop, restart, enable, disable

    /// "started", "stopped", … for messages.
    package var pastTense: String {
        switch self {
        case .start: return "started"
        case .stop: return "stopped"
        case .restart: return "restarted"
        case .enable: return "enabled"
        case .disable: return "disabled"
        }
    }

    /// Actions after which the service should come up.
    package var expectsRunning: Bool { self == .start || self == .restart }
}

/// A `service` command that could not do its job; the message names the unit, the
/// systemctl invocation and what systemctl said.
package struct ServiceControlError: UserFacingError, Equatable {
    package var message: String
    package var exitCode: ExitCode { .failure }
    package var description: String { message }
}

/// Talks to systemd through the `systemctl` program, always as an argument vector. The
/// unit is passed after `--`, so even a name starting with '-' is never read as an option.
package struct SystemdControl {
    package var environment: [String: String]
    package var interrupt: InterruptFlag
    /// systemctl waits for the unit's start job; Type=notify servers loading a model can take a while.
    package var actionTimeout: Double = 120

    package static func scopeArguments(_ scope: SystemdScope) -> [String] { scope == .user ? ["--user"] : [] }

    package static func loadStateArguments(unit: String, scope: SystemdScope) -> [String] {
        scopeArguments(scope) + ["show", "--property=LoadState", "--value", "--", unit]
    }

    package static func actionArguments(_ action: ServiceAction, unit: String, scope: SystemdScope) -> [String] {
        scopeArguments(scope) + [action.rawValue, "--", unit]
    }

    /// How the invocation reads in messages ("systemctl --user start -- ollama.service").
    package static func displayed(_ arguments: [String]) -> String { (["systemctl"] + arguments).joined(separator: " ") }

    private var systemctl: ExternalProgram { ExternalProgram(name: "systemctl", environment: environment) }

    /// Throws unless systemctl is installed.
    package func requireSystemctl() throws {
        guard systemctl.resolvedPath() != nil else {
            throw ServiceControlError(message: "systemctl not found on PATH: aish controls services through systemd")
        }
    }

    /// systemd's LoadState of the unit: "loaded", "not-found", "masked", …
    package func loadState(unit: String, scope: SystemdScope) throws -> String {
        let arguments = SystemdControl.loadStateArguments(unit: unit, scope: scope)
        let out = try run(arguments, timeout: 30)
        guard out.succeeded else {
            throw ServiceControlError(message: "\(SystemdControl.displayed(arguments)) failed (exit \(out.exitStatus))"
                                      + SystemdControl.detail(out))
        }
        return out.standardOutput.trimming(.whitespacesAndNewlines)
    }

    package func perform(_ action: ServiceAction, unit: String, scope: SystemdScope) throws -> ProgramOutput {
        try run(SystemdControl.actionArguments(action, unit: unit, scope: scope), timeout: actionTimeout)
    }

    private func run(_ arguments: [String], timeout: Double) throws -> ProgramOutput {
        do {
            return try systemctl.run(arguments, timeout: timeout, interrupt: interrupt)
        } catch let e as ExternalProgramError {
            throw ServiceControlError(message: "\(SystemdControl.displayed(arguments)): \(e)")
        }
    }

    /// ": <what systemctl printed>", or "" when it printed nothing.
    package static func detail(_ out: ProgramOutput) -> String {
        let text = (out.standardError + "\n" + out.standardOutput).trimming(.whitespacesAndNewlines)
        return text.isEmpty ? "" : ": " + text.replacingAll("\n", with: " ")
    }
}
