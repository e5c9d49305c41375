import AishBase

/// What every command returns: the runner prints it (as text, or as JSON under `--json`),
/// the session log records it, and `expect` asserts on it.
package struct CommandResult: Sendable {
    package enum Status: String, Sendable { case ok, error }

    package var status: Status
    /// Human-readable output, printed by the runner in text mode unless `alreadyPrinted`.
    package var text: String
    /// Named fields for `expect` (`latency`, `ttft`, `tokens`, `provider`, …) and for JSON.
    /// Durations are stored in milliseconds.
    package var fields: [(String, JSONValue)]
    /// The machine form printed under `--json`; when nil the runner builds one from
    /// status, fields and text.
    package var data: JSONValue?
    /// The reply text of a model request (what `expect contains` tests); falls back to `text`.
    package var reply: String?
    /// Error message when `status == .error`.
    package var error: String?
    /// True when the command streamed its text output itself (chat), so the runner must not print it again.
    package var alreadyPrinted: Bool
    /// The exit code a failed result ends a script with, when not 1 (`test` passes on a
    /// child script's 2, 3 or 4).
    package var failureExitCode: ExitCode?
    /// `text` with aish's colours, printed instead of it at a terminal (see `TerminalText`).
    package var styledText: TerminalText?

    package init(status: Status = .ok, text: String = "", fields: [(String, JSONValue)] = [], data: JSONValue? = nil,
         reply: String? = nil, error: String? = nil, alreadyPrinted: Bool = false) {
        self.status = status
        self.text = text
        self.fields = fields
        self.data = data
        self.reply = reply
        self.error = error
        self.alreadyPrinted = alreadyPrinted
        self.failureExitCode = nil
        self.styledText = nil
    }

    /// What the runner records when a command showed nothing (`exit`, a sourced script).
    /// Commands return `CommandResult(report:)`.
    package static func ok() -> CommandResult { CommandResult(status: .ok) }

    /// A failure the runner makes of a thrown error (exit code per `ErrorText`).
    package static func failure(_ message: String) -> CommandResult { CommandResult(status: .error, error: message) }

    package func field(_ name: String) -> JSONValue? { fields.first(where: { $0.0 == name })?.1 }

    package mutating func setField(_ name: String, _ value: JSONValue) {
        if let i = fields.firstIndex(where: { $0.0 == name }) { fields[i].1 = value } else { fields.append((name, value)) }
    }

    /// The JSON printed under `--json`.
    package var jsonForm: JSONValue {
        if let data { return data }
        var pairs: [(String, JSONValue)] = [("status", .string(status.rawValue))]
        pairs.append(contentsOf: fields)
        if let reply { pairs.append(("reply", .string(reply))) } else if !text.isEmpty { pairs.append(("text", .string(text))) }
        if let error { pairs.append(("error", .string(error))) }
        return .object(pairs)
    }
}
