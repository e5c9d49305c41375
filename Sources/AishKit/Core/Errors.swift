/// A position in an input file (1-based line and column).
struct SourceLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
    var file: String
    var line: Int
    var column: Int
    var description: String { "\(file):\(line):\(column)" }
}

/// Exit codes of SPEC section 1. Only `main` exits; everything below returns these.
enum ExitCode: Int32, Sendable {
    case success = 0
    case failure = 1
    case usage = 2
    case config = 3
    case assertion = 4
}

/// Every error aish shows to a user conforms: `description` says what failed and where,
/// `exitCode` which code a script run ends with. `ErrorText` is the one place an error
/// becomes text.
protocol UserFacingError: Error, CustomStringConvertible {
    var exitCode: ExitCode { get }
    /// True when `description` starts with where the problem is (`file:line:col: error: …`),
    /// so the program's name is not put before it.
    var namesItsLocation: Bool { get }
}

extension UserFacingError {
    var namesItsLocation: Bool { false }
}

/// An error as the user sees it: its message and the exit code it ends a run with. Errors
/// that are not `UserFacingError` (none should reach here) are failures, exit 1.
struct ErrorText: Equatable {
    var message: String
    var exitCode: Int32
    var namesItsLocation: Bool

    init(_ error: any Error) {
        if let e = error as? UserFacingError {
            message = e.description
            exitCode = e.exitCode.rawValue
            namesItsLocation = e.namesItsLocation
        } else {
            message = String(describing: error)
            exitCode = ExitCode.failure.rawValue
            namesItsLocation = false
        }
    }

    /// The line the program prints for an error outside any script line: `aish: message`,
    /// or the message alone when it names its own file and line.
    var programLine: String { namesItsLocation ? message : "aish: " + message }
}

/// Wrong arguments to a command or to aish itself.
struct UsageError: UserFacingError {
    var message: String
    var usage: String?
    var exitCode: ExitCode { .usage }
    var description: String {
        if let usage { return "\(message)\nusage: \(usage)" }
        return message
    }
}

/// A command that could not do its job (network, disk, a failed request).
struct CommandFailure: UserFacingError {
    var message: String
    var exitCode: ExitCode { .failure }
    var description: String { message }
    init(_ message: String) { self.message = message }
}
