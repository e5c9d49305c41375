/// A position in an input file (1-based line and column).
package struct SourceLocation: Equatable, Hashable, Sendable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int

    package init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    package var description: String { "\(file):\(line):\(column)" }
}

/// Exit codes of SPEC section 1. Only `main` exits; everything below returns these.
package enum ExitCode: Int32, Sendable {
    case success = 0
    case failure = 1
    case usage = 2
    case config = 3
    case assertion = 4
}

/// Every error aish shows to a user conforms: `description` says what failed and where,
/// `exitCode` which code a script run ends with. `ErrorText` is the one place an error
/// becomes text.
package protocol UserFacingError: Error, CustomStringConvertible {
    var exitCode: ExitCode { get }
    /// True when `description` starts with where the problem is (`file:line:col: error: …`),
    /// so the program's name is not put before it.
    var namesItsLocation: Bool { get }
}

extension UserFacingError {
    package var namesItsLocation: Bool { false }
}

/// An error as the user sees it: its message and the exit code it ends a run with. Errors
/// that are not `UserFacingError` (none should reach here) are failures, exit 1.
package struct ErrorText: Equatable {
    package var message: String
    package var exitCode: Int32
    package var namesItsLocation: Bool

    package init(_ error: any Error) {
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
    package var programLine: String { namesItsLocation ? message : "aish: " + message }
}

/// Wrong arguments to a command or to aish itself.
package struct UsageError: UserFacingError {
    package var message: String
    package var usage: String?

    package init(message: String, usage: String? = nil) {
        self.message = message
        self.usage = usage
    }

    package var exitCode: ExitCode { .usage }
    package var description: String {
        if let usage { return "\(message)\nusage: \(usage)" }
        return message
    }
}

/// A command that could not do its job (network, disk, a failed request).
package struct CommandFailure: UserFacingError {
    package var message: String
    package var exitCode: ExitCode { .failure }
    package var description: String { message }
    package init(_ message: String) { self.message = message }
}
