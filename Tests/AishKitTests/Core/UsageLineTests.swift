import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishShell

/// Usage lines are made from the declarations (`UsageLine`); none is typed by hand.
@Suite struct UsageLineTests {
    /// Every command's usage line names the command, every option it declares (but those
    /// every command takes) with its value, and every positional; and every option word in
    /// the line is one the command declares. `help CMD` starts with it.
    @Test func everyCommandsUsageLineIsGeneratedFromItsDeclaration() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        for spec in CommandRegistry.standard.commands {
            let usage = spec.usage
            #expect(usage == UsageLine(spec).text)
            #expect(usage.hasPrefix(spec.name), "\(spec.name): \(usage)")
            for option in spec.options {
                let shown = option.canonical + (option.valueName.map { " \($0)" } ?? "")
                #expect(usage.contains(shown), "\(spec.name): \(shown) missing from \(usage)")
            }
            for p in spec.positionals {
                #expect(usage.contains(p.usageWord), "\(spec.name): \(p.usageWord) missing from \(usage)")
            }
            for word in spec.subcommands {
                #expect(usage.contains(word), "\(spec.name): \(word) missing from \(usage)")
            }
            let declared = Set(spec.options.map(\.canonical))
            for word in usage.split(separator: " ") where word.hasPrefix("[-") || word.hasPrefix("-") {
                let name = word.trimmingCharacters(in: CharacterSet(charactersIn: "[]."))
                #expect(declared.contains(name), "\(spec.name): \(name) in the usage line is not declared")
            }
            let help = try aish.run(["help", spec.name])
            #expect(help.stdout.hasPrefix("usage: \(usage)\n\n\(spec.summary)\n"), "\(spec.name): \(help.stdout)")
        }
    }

    /// The shapes the declarations can give, word for word on the registry's commands.
    @Test func theRegistrysLinesWordForWord() {
        func usage(_ name: String) -> String? { CommandRegistry.standard.lookup(name)?.usage }
        // Nested optional positionals; a form of its own; a required option.
        #expect(usage("set") == "set [NAME [VALUE...]]")
        #expect(usage("route") == "route MODEL [--prompt TEXT] | route --all")
        #expect(usage("system") == "system [TEXT...] | system --clear")
        #expect(usage("replay")?.hasPrefix("replay --to MODEL [--limit N] ") == true)
        // Subcommands with their own options and positionals, the default in brackets.
        #expect(usage("service") == "service start|stop|restart|enable|disable NAME [--yes] [--system] [--timeout S]")
        #expect(usage("config") == "config show [--config DIR] [providers|routes|ports] | config generate [--config DIR] | config diff [--config DIR]")
        #expect(usage("tail") == "tail metrics [--every S] [--prom [--since DURATION]] [--count N] [--for S] [PROVIDER]"
            + " | tail [requests] [--every S] [--count N] [--for S] [--model MODEL] [--provider PROVIDER] [--slow MS]")
        // Alternatives, options that go with another, enumerations, repeatable options.
        #expect(usage("metrics") == "metrics [--raw | --prom [--since DURATION] [--verbose]] [PROVIDER] [FILTER]")
        #expect(usage("status") == "status [--watch S [--count N]] [NAME...]")
        #expect(usage("bench") == "bench MODEL [--requests N] [--concurrency C1,C2,... | --rate R1,R2,... [--poisson] [--burstiness B] | --sweep N"
            + " | --from-log [--since T] [--model MODEL] [--time-scale X] | --trace FILE] [--seed SEED] [--max-concurrency M] [--slo SPEC [--find-max concurrency|rate]]"
            + " [--ramp-up S] [--threads N] [--duration S] [--warmup N] [--max-error-rate X] [--no-early-stop] [--max-tokens K | --output-tokens N]"
            + " [--option NAME VALUE]... [--prompt PROMPT | --prompts FILE | --prompt-tokens N[,SD]] [--same-prompt] [--out FILE] [--csv FILE]"
            + " [--requests-jsonl FILE] [--chart] [--compare RUN_ID|last] [--server-side [--verbose]] [--cache]")
        #expect(usage("report") == "report [--out FILE] [--format md|json|text] [--no-requests] [--cache] [--timeout S] [--compare RUN_ID]")
        #expect(usage("chat") == "chat [--model MODEL] [--system TEXT] [--option NAME VALUE]... [--file FILE]... [--no-stream] [--extract] [--raw] [PROMPT...]")
        #expect(usage("export") == "export FILE [--format json|csv] [--since T] [--timeout S]")
    }

    @Test func eachDeclarationShape() {
        let spec = CommandSpec(
            name: "t", summary: "",
            options: [
                OptionSpec(["--to"], .text("X"), help: "", required: true),
                OptionSpec(["-a"], help: "", alternatives: "g"),
                OptionSpec(["-b"], .wholeNumber("N"), help: "", alternatives: "g"),
                OptionSpec(["--under"], help: "", goesWith: "-b"),
                OptionSpec(["--many"], .path("FILE"), help: "", repeatable: true),
                OptionSpec(["--list"], help: "", alone: true),
            ],
            positionals: [PositionalSpec(name: "ONE"), PositionalSpec(name: "TWO", optional: true),
                          PositionalSpec(name: "REST", optional: true, variadic: true)],
            run: { _, _ in .ok() })
        #expect(spec.usage == "t ONE --to X [-a | -b N [--under]] [--many FILE]... [TWO [REST...]] | t --list")
        let sub = CommandSpec(
            name: "s", summary: "",
            options: [OptionSpec(["--x"], help: "", subcommands: ["one"]), OptionSpec(["--both"], help: "")],
            positionals: [PositionalSpec(name: "P", optional: true, subcommands: ["two"])],
            subcommands: ["one", "two"], defaultSubcommand: "two",
            run: { _, _ in .ok() })
        #expect(sub.usage == "s one [--x] [--both] | s [two] [--both] [P]")
        let completer = Completer(registry: CommandRegistry([sub]), context: nil)
        #expect(completer.complete(lineBeforeCursor: "s one --") == ["--x", "--both", "--json", "--help"])
        #expect(completer.complete(lineBeforeCursor: "s two --") == ["--both", "--json", "--help"])
    }

    /// A form of its own is not counted against the positionals; the command judges the rest.
    @Test func aFormOfItsOwnSkipsThePositionalCount() throws {
        let route = try #require(CommandRegistry.standard.lookup("route"))
        #expect(throws: Never.self) { try route.parse(words: ["--all"], line: "", location: nil) }
        do {
            _ = try route.parse(words: [], line: "", location: nil)
            Issue.record("expected an error")
        } catch let e as UsageError { #expect(e.message == "route: missing MODEL") }
    }

    /// Allowed values complete, and only those of the subcommand given.
    @Test func allowedValuesComplete() {
        let standard = Completer(registry: .standard, context: nil)
        #expect(standard.complete(lineBeforeCursor: "report --format ") == ["md", "json", "text"])
        #expect(standard.complete(lineBeforeCursor: "log --status c") == ["cancelled"])
        #expect(standard.complete(lineBeforeCursor: "bench m --find-max ") == ["concurrency", "rate"])
        #expect(standard.complete(lineBeforeCursor: "config show ") == ["providers", "routes", "ports"])
        #expect(standard.complete(lineBeforeCursor: "config diff ") == [])
        #expect(standard.complete(lineBeforeCursor: "tail requests --s") == ["--slow"])
        #expect(standard.complete(lineBeforeCursor: "tail metrics --s") == ["--since"])
    }
}
