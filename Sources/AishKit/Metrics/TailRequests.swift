import Foundation

/// `tail requests`: new rows of the session log's attempts table as they land.
enum TailRequests {
    static func run(_ inv: Invocation, _ ctx: ShellContext, bounds: TailCommand.Bounds) throws -> CommandResult {
        throw CommandFailure("tail requests: waiting for the session log store")   // STUB: replaced when the log lands
    }
}
