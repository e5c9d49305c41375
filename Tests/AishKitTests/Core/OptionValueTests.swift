import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishMeasure
@testable import AishShell

/// Every option that takes a duration, a number or one of a closed set of words refuses a
/// value that is not one as a usage error (exit 2, the command's usage line), before the
/// command does anything: no configuration read, no provider probed, no request sent.
@Suite struct OptionValueTests {
    /// (command words before the option, option name, its spec) for every typed option.
    static var typedOptions: [(words: [String], option: String, spec: OptionSpec)] {
        var out: [([String], String, OptionSpec)] = []
        for spec in CommandRegistry.standard.commands where !spec.rawArguments {
            for o in spec.options where o.problem(with: "abc") != nil {
                // The first subcommand the option belongs to is not known here; the option is
                // refused before the words after the name are judged.
                out.append(([spec.name] + spec.positionals.filter { !$0.optional }.map { _ in "x" }, o.canonical, o))
            }
        }
        return out
    }

    @Test func theClassIsNotEmpty() {
        let names = Set(Self.typedOptions.map { $0.words[0] + " " + $0.option })
        for expected in ["wait --timeout", "wait --interval", "tail --for", "tail --every", "tail --count", "bench --requests",
                         "compare --requests", "health --timeout", "log --limit", "report --timeout", "test --jobs", "test --timeout",
                         "status --count", "tail --slow", "report --format", "export --format", "stats --by", "drill --via",
                         "bench --find-max", "log --status", "bench --max-concurrency"] {
            #expect(names.contains(expected), "\(expected) is not a typed option: \(names.sorted())")
        }
    }

    /// The message each kind gives, word for word.
    static func expectedProblem(_ option: OptionSpec, _ value: String) -> String {
        switch option.value {
        case .wholeNumber: return "\(option.canonical) takes a whole number, got '\(value)'"
        case .number: return "\(option.canonical) takes a number, got '\(value)'"
        case .duration: return "\(option.canonical) takes a duration such as 500ms, 2s or 1m, got '\(value)'"
        case .milliseconds: return "\(option.canonical) takes milliseconds or a duration such as 500ms, 2s or 1m, got '\(value)'"
        case let .oneOf(words, _): return "\(option.canonical) takes \(CommandSpec.alternatives(words)), got '\(value)'"
        case .flag, .text, .path: return "(no check)"
        }
    }

    @Test func everyTypedOptionRefusesAWordAsAUsageError() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        for (words, option, optionSpec) in Self.typedOptions {
            let spec = try #require(CommandRegistry.standard.lookup(words[0]))
            for form in [[option, "abc"], ["\(option)=abc"]] {
                let run = try aish.run(words + form)
                let what = (words + form).joined(separator: " ")
                #expect(run.code == 2, "\(what): exit \(run.code), \(run.stderr)")
                #expect(run.stderr.contains("\(words[0]): \(Self.expectedProblem(optionSpec, "abc"))"), "\(what): \(run.stderr)")
                #expect(run.stderr.contains("usage: \(spec.usage)"), "\(what): \(run.stderr)")
                #expect(run.stdout == "", "\(what): \(run.stdout)")
            }
        }
    }

    /// A declared enumeration takes its words (and hidden spellings) and refuses any other,
    /// naming the ones it takes.
    @Test func anEnumerationRefusesOtherWords() throws {
        let spec = CommandSpec(name: "t", summary: "",
                               options: [OptionSpec(["--format"], .oneOf(["md", "json", "text"], hidden: ["markdown"]), help: "")],
                               run: { _, _ in .ok() })
        func message(_ words: [String]) -> String? {
            do { _ = try spec.parse(words: words, line: "", location: nil); return nil } catch let e as UsageError {
                return e.message
            } catch { return "\(error)" }
        }
        #expect(message(["--format", "json"]) == nil)
        #expect(message(["--format=md"]) == nil)
        #expect(message(["--format", "markdown"]) == nil)
        #expect(message(["--format", "xml"]) == "t: --format takes md, json or text, got 'xml'")
        #expect(message(["--format=JSON"]) == "t: --format takes md, json or text, got 'JSON'")
        #expect(spec.usage == "t [--format md|json|text]")
        #expect(Completer(registry: CommandRegistry([spec]), context: nil).complete(lineBeforeCursor: "t --format ")
            == ["md", "json", "text"])
    }

    /// Each enumeration of the registry, through the binary: the command's message, and the
    /// script stops before its first line.
    @Test func theRegistrysEnumerationsRefuseOtherWords() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let run = try aish.run(["-c", "echo first\nreport --format xml"])
        #expect(run.stdout == "")
        #expect(run.stderr == "-c:2:17: error: report: --format takes md, json or text, got 'xml'\nreport --format xml\n                ^\n")
        #expect(run.code == 2)
        let find = try aish.run(["bench", "m", "--slo", "ttft_p95<=1s", "--find-max", "latency"])
        #expect(find.stderr == "aish: bench: --find-max takes concurrency or rate, got 'latency'\nusage: \(BenchCommand.spec.usage)\n")
        #expect(find.code == 2)
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
