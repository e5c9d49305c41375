import AishBase

/// A command's one output model. A command builds one report value; everything else is
/// derived from it, so the forms cannot disagree:
/// - `--json` prints the report encoded (`JSONValueEncoder`, keys in declaration order);
/// - `expect FIELD` reads the encoded report's top-level keys, so `expect X` and
///   `expect json .X` always see the same value;
/// - the text form is `renderText()`, written beside the report type;
/// - `help CMD` and the README list `fields` (a test checks they match the encoded keys of
///   `example`, so the documentation cannot drift from the type).
package protocol CommandReport: Encodable, Sendable {
    /// The text printed in text mode (without a trailing newline, or with one: both print the same).
    func renderText() -> String
    /// The text form with aish's own colours, for a terminal; nil: `renderText()` as it is.
    func renderTerminal() -> TerminalText?
    /// A failure the command reports without throwing (exit code 1 in scripts); nil when it succeeded.
    var failureMessage: String? { get }
    /// The reply text of a model request, which `expect contains/matches` test; nil for other commands.
    var replyText: String? { get }
    /// Whether the command already wrote its text while running (a streamed reply).
    var alreadyPrinted: Bool { get }
    /// The exit code of a failure when it is not 1 (nil: 1).
    var failureExitCode: ExitCode? { get }

    /// The top-level fields, documented, in the order the report encodes them.
    static var fields: [ReportField] { get }
    /// A representative value: the drift test encodes it and compares the keys with `fields`.
    static var example: Self { get }
}

extension CommandReport {
    package func renderTerminal() -> TerminalText? { nil }
    package var failureMessage: String? { nil }
    package var replyText: String? { nil }
    package var alreadyPrinted: Bool { false }
    package var failureExitCode: ExitCode? { nil }
}

/// One documented top-level field of a report. `unit` is shown in help ("ms", "bytes").
package struct ReportField: Sendable, Equatable {
    package var name: String
    package var help: String
    package var unit: String? = nil

    package init(_ name: String, _ help: String, unit: String? = nil) {
        self.name = name
        self.help = help
        self.unit = unit
    }
}

/// The report types a command can return, for help and the drift test.
package struct ReportShape: Sendable {
    package let type: any CommandReport.Type
    /// For a command's other outputs: the form that gives this report ("route --all",
    /// "show cmd:ID"); nil for the command's main report.
    package var mode: String?
    package var fields: [ReportField]
    /// The encoded keys of the type's example (what `--json` and `expect` really offer).
    package var encodedKeys: @Sendable () throws -> [String]

    /// Named on demand: `String(describing:)` of a type goes through reflection, ~0.15 ms
    /// per type, and every command's spec is built at start-up.
    package var typeName: String { String(describing: type) }

    package init<R: CommandReport>(_ type: R.Type, mode: String? = nil) {
        self.type = type
        self.mode = mode
        fields = R.fields
        encodedKeys = {
            guard case let .object(pairs) = try JSONValueEncoder.encode(R.example) else { return [] }
            return pairs.map(\.0)
        }
    }

    /// One line per field, for `help CMD`.
    package var fieldLines: [String] {
        let width = fields.map(\.name.count).max() ?? 0
        return fields.map { f in
            "  " + f.name.padded(toLength: width) + "  " + f.help
                + (f.unit.map { " (\($0))" } ?? "")
        }
    }
}

extension CommandResult {
    /// The result of a command that returns a report: text, fields and JSON all come from it.
    package init(report: some CommandReport) {
        let json: JSONValue
        do {
            json = try JSONValueEncoder.encode(report)
        } catch {
            // Encoding our own value types cannot fail; if one ever does, say which.
            preconditionFailure("encoding \(type(of: report)) failed: \(error)")
        }
        var fields: [(String, JSONValue)]
        if case let .object(pairs) = json { fields = pairs } else { fields = [("value", json)] }
        // Every command's JSON starts with its status and carries its error, as before reports.
        let status: CommandResult.Status = report.failureMessage == nil ? .ok : .error
        if !fields.contains(where: { $0.0 == "status" }) { fields.insert(("status", .string(status.rawValue)), at: 0) }
        if let message = report.failureMessage, !fields.contains(where: { $0.0 == "error" }) {
            fields.append(("error", .string(message)))
        }
        self.init(status: status, text: report.renderText(), fields: fields, data: .object(fields),
                  reply: report.replyText, error: report.failureMessage, alreadyPrinted: report.alreadyPrinted)
        failureExitCode = report.failureExitCode
        styledText = report.renderTerminal()
    }
}

/// The report of a command whose whole output is text (echo, use, reset, …): `--json` gives
/// `{"status": "ok", "text": …}`, as before reports.
package struct TextReport: CommandReport {
    package var text: String

    package init(text: String) {
        self.text = text
    }

    package static let fields = [ReportField("text", "the printed text")]
    package static let example = TextReport(text: "hi")

    package func renderText() -> String { text }
}
