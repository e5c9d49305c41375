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

/// Every error the runner shows to a user conforms: it says what failed and which exit
/// code a script run ends with.
protocol UserFacingError: Error, CustomStringConvertible {
    var exitCode: ExitCode { get }
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
