import Foundation
import Testing
@testable import AishBase
@testable import AishCommand

/// Every option that takes a duration or a number refuses a value that is not one as a
/// usage error (exit 2, the command's usage line), before the command does anything: no
/// configuration read, no provider probed, no request sent.
@Suite struct OptionValueTests {
    /// (command words before the option, option name, valueName) for every typed option.
    static var typedOptions: [(words: [String], option: String, kind: OptionSpec.ValueKind)] {
        var out: [([String], String, OptionSpec.ValueKind)] = []
        for spec in CommandRegistry.standard.commands where !spec.rawArguments {
            for o in spec.options where o.valueKind != .text {
                // The first subcommand the option belongs to is not known here; the option is
                // refused before the words after the name are judged.
                out.append(([spec.name] + spec.positionals.filter { !$0.optional }.map { _ in "x" }, o.names.last!, o.valueKind))
            }
        }
        return out
    }

    @Test func theClassIsNotEmpty() {
        let names = Set(Self.typedOptions.map { $0.words[0] + " " + $0.option })
        for expected in ["wait --timeout", "wait --interval", "tail --for", "tail --every", "tail --count", "bench --requests",
                         "compare --requests", "health --timeout", "log --limit", "report --timeout", "test --jobs", "test --timeout", "status --count", "tail --slow"] {
            #expect(names.contains(expected), "\(expected) is not a typed option: \(names.sorted())")
        }
    }

    @Test func everyTypedOptionRefusesAWordAsAUsageError() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        for (words, option, kind) in Self.typedOptions {
            let spec = try #require(CommandRegistry.standard.lookup(words[0]))
            for form in [[option, "abc"], ["\(option)=abc"]] {
                let run = try aish.run(words + form)
                let what = (words + form).joined(separator: " ")
                #expect(run.code == 2, "\(what): exit \(run.code), \(run.stderr)")
                let ms = spec.option(named: option)?.valueName == "MS"
                let expected = kind == .wholeNumber ? "takes a whole number, got 'abc'"
                    : "takes \(ms ? "milliseconds or a duration" : "a duration") such as 500ms, 2s or 1m, got 'abc'"
                #expect(run.stderr.contains("\(words[0]): \(option) \(expected)"), "\(what): \(run.stderr)")
                #expect(run.stderr.contains("usage: \(spec.usage)"), "\(what): \(run.stderr)")
                #expect(run.stdout == "", "\(what): \(run.stdout)")
            }
        }
    }

    /// In a script the value is judged before line 1 runs, with its file:line:col.
    @Test func aScriptWithABadValueStopsBeforeAnythingRuns() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let run = try aish.run(["-c", "echo first\nwait gpu --timeout abc"])
        #expect(run.stdout == "")
        #expect(run.stderr == "-c:2:20: error: wait: --timeout takes a duration such as 500ms, 2s or 1m, got 'abc'\nwait gpu --timeout abc\n                   ^\n")
        #expect(run.code == 2)
        let inline = try aish.run(["-c", "echo first\ntail --count=x"])
        #expect(inline.stderr.hasPrefix("-c:2:6: error: tail: --count takes a whole number, got 'x'\n"), "\(inline.stderr)")
        #expect(inline.code == 2)
    }
}
