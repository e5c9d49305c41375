import Foundation
import Testing
@testable import AishKit

/// Checks that `expect FIELD` and `expect json .FIELD` see the same value of a command's
/// result, and that the printed `--json` carries it too: for each name, both assertions
/// pass against the field's own value and both fail against another value.
enum ReportAgreement {
    static func check(_ result: CommandResult, _ names: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let printed = try? JSONValue.parse(bytes: Array(result.jsonForm.serialized().utf8))
        for name in names {
            guard let value = result.field(name) else {
                Issue.record("no field '\(name)'; fields: \(result.fields.map(\.0))", sourceLocation: sourceLocation)
                continue
            }
            let shown = value.displayText
            let other = value.doubleValue.map { JSONValue.format($0 + 1) } ?? shown + "-not"
            let byField = Expectation.field(name, .eq, shown).check(result).passed
            let byPath = Expectation.json("." + name, .eq, shown).check(result).passed
            #expect(byField && byPath, "expect \(name) == \(shown): field \(byField), json \(byPath)", sourceLocation: sourceLocation)
            let otherByField = Expectation.field(name, .eq, other).check(result).passed
            let otherByPath = Expectation.json("." + name, .eq, other).check(result).passed
            #expect(!otherByField && !otherByPath, "expect \(name) == \(other) must fail both ways", sourceLocation: sourceLocation)
            #expect(printed?[name] == value, "--json prints \(name) as \(String(describing: printed?[name]))",
                    sourceLocation: sourceLocation)
        }
    }
}
