import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishScript
@testable import AishShell

/// Checks that a command's forms agree: `expect NAME == V` and `expect json .NAME == V`
/// give the same verdict (for the value the result holds, which must pass, and for another
/// one, which must not), the field `expect` reads is the one `--json` prints, and every key
/// of `--json` is a documented field of the report.
enum ReportAgreement {
    static func check(_ r: CommandResult, _ names: [String], report: ReportShape,
                      sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let documented = report.fields.map(\.name)
        guard case let .object(pairs) = r.jsonForm else {
            Issue.record("--json is not an object", sourceLocation: sourceLocation)
            return
        }
        let keys = pairs.map(\.0)
        #expect(keys.first == "status", "--json starts with status", sourceLocation: sourceLocation)
        let undocumented = keys.filter { !["status", "error"].contains($0) && !documented.contains($0) }
        #expect(undocumented.isEmpty, "keys of --json not among \(report.typeName)'s fields: \(undocumented)",
                sourceLocation: sourceLocation)
        for name in names {
            #expect(documented.contains(name), "\(name) is not a field of \(report.typeName)", sourceLocation: sourceLocation)
            let value = try #require(r.jsonForm[name], "--json has no \(name)", sourceLocation: sourceLocation)
            #expect(r.field(name) == value, "expect's \(name) differs from --json's", sourceLocation: sourceLocation)
            if case .array = value { continue }
            if case .object = value { continue }
            let held = value.displayText
            for (candidate, shouldPass) in [(held, true), (held + "0x", false)] {
                let field = try Expectation.parse([name, "==", candidate]).check(r).passed
                let json = try Expectation.parse(["json", "." + name, "==", candidate]).check(r).passed
                #expect(field == shouldPass, "expect \(name) == \(candidate)", sourceLocation: sourceLocation)
                #expect(json == shouldPass, "expect json .\(name) == \(candidate)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Runs script text through the real runner and the standard registry; returns what was
    /// printed (stdout and stderr together) and the exit code.
    static func script(_ text: String, ctx: ShellContext) throws -> (output: String, code: Int32) {
        let runner = CommandRunner(ctx: ctx)
        try runner.run(try ScriptParser.parse(text, file: "t.ai"), frame: ScriptFrame(file: "t.ai", arguments: []))
        return (ctx.output.capturedText, runner.exitCode)
    }

    static func context(json: Bool = false, interactive: Bool = false) -> ShellContext {
        var options = GlobalOptions()
        options.json = json
        options.interactive = interactive
        options.databasePath = NSTemporaryDirectory() + "aish-reports-none-\(UUID().uuidString).db"
        return ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(),
                            environment: [:])
    }
}
