import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishLineEditor
@testable import AishScript
@testable import AishShell

/// `providers` of the test registry: two lines and their count.
private struct TwoLinesReport: CommandReport {
    var count: Int
    static let fields = [ReportField("count", "lines")]
    static let example = TwoLinesReport(count: 2)
    func renderText() -> String { "p1\np2" }
}

/// `chat` of the test registry: a reply with the fields chat has.
private struct FakeReplyReport: CommandReport {
    var ttft: Double
    var provider: String
    var reply: String
    static let fields = [ReportField("ttft", "ms"), ReportField("provider", "who answered"), ReportField("reply", "the text")]
    static let example = FakeReplyReport(ttft: 1, provider: "p", reply: "r")
    func renderText() -> String { reply }
    var replyText: String? { reply }
}

/// A small registry of test commands next to the built-ins.
private let testRegistry = CommandRegistry(groups: [.init(title: "Shell", commands: BuiltinCommands.all), .init(title: "Test", commands: [
    CommandSpec(name: "providers", aliases: ["prov"], summary: "list providers",
                run: { _, _ in CommandResult(report: TwoLinesReport(count: 2)) }),
    CommandSpec(name: "chat", summary: "chat with a model",
                help: "Streams a reply.",
                options: [OptionSpec(names: ["-m", "--model"], valueName: "MODEL", help: "model to use",
                                     completion: .words(["llama3", "qwen2.5"])),
                          OptionSpec(names: ["--temperature"], valueName: "T", help: "sampling temperature")],
                positionals: [PositionalSpec(name: "PROMPT", optional: true, variadic: true)],
                run: { inv, _ in
                    CommandResult(report: FakeReplyReport(ttft: 120, provider: "ollama",
                                                          reply: "reply to \(inv.positionals.joined(separator: " "))"))
                }),
    CommandSpec(name: "config", summary: "configuration",
                positionals: [PositionalSpec(name: "FILE", optional: true, completion: .files)],
                subcommands: ["show", "generate", "diff"], run: { _, _ in .ok() }),
    CommandSpec(name: "fail", summary: "always fails", run: { _, _ in throw CommandFailure("it broke") }),
])])

private func makeContext(json: Bool = false) -> ShellContext {
    var options = GlobalOptions()
    options.json = json
    return ShellContext(options: options, registry: testRegistry, output: OutputSink(capturing: true),
                        interrupt: InterruptFlag(), environment: ["HOME": "/home/op", "GREETING": "hi"])
}

private func runScript(_ text: String, ctx: ShellContext = makeContext(), file: String? = "t.ai") throws
    -> (output: String, code: Int32)
{
    let runner = CommandRunner(ctx: ctx)
    let commands = try ScriptParser.parse(text, file: file ?? "-c")
    try runner.run(commands, frame: ScriptFrame(file: file, arguments: ["a1", "a 2"]))
    return (ctx.output.capturedText, runner.exitCode)
}

@Suite struct RegistryTests {
    @Test func didYouMean() {
        #expect(testRegistry.unknownCommandError("provders").description
            == "unknown command 'provders' — did you mean 'providers'? (type 'help' for the list)")
        #expect(testRegistry.unknownCommandError("zzzzzz").description
            == "unknown command 'zzzzzz' (type 'help' for the list)")
        #expect(testRegistry.unknownCommandError("smoke.ai").description
            == "unknown command 'smoke.ai' — to run a script: aish -f smoke.ai (type 'help' for the list)")
    }

    @Test func helpTextComesFromTheSpec() throws {
        let text = try #require(testRegistry.lookup("chat")).helpText
        #expect(text == """
            usage: chat [--model MODEL] [--temperature T] [PROMPT...]

            chat with a model

            Streams a reply.

            options:
              -m, --model MODEL  model to use
              --temperature T    sampling temperature
              --json             print machine-readable JSON
              -h, --help         show help for this command

            """)
    }

    @Test func helpListsGroupsAndOneCommand() throws {
        let (out, code) = try runScript("help\nhelp chat\nchat --help", file: nil)
        #expect(code == 0)
        #expect(out.hasPrefix("Shell:\n  help [COMMAND]"))
        #expect(out.contains("\n  providers "))
        #expect(out.contains("\n  fail "))
        #expect(out.contains("usage: chat [--model MODEL] [--temperature T] [PROMPT...]\n\nchat with a model\n"))
        #expect(out.components(separatedBy: "usage: chat").count == 3)
    }
}

@Suite struct CompletionTests {
    let completer = Completer(registry: testRegistry, context: nil)

    @Test func commandNamesAndAliases() {
        #expect(completer.complete(lineBeforeCursor: "pro") == ["prov", "providers"])
        #expect(completer.complete(lineBeforeCursor: "echo x; ch") == ["chat"])
    }

    @Test func optionNamesAndValues() {
        #expect(completer.complete(lineBeforeCursor: "chat --") == ["--model", "--temperature", "--json", "--help"])
        #expect(completer.complete(lineBeforeCursor: "chat -m ") == ["llama3", "qwen2.5"])
        #expect(completer.complete(lineBeforeCursor: "chat --model q") == ["qwen2.5"])
        #expect(completer.complete(lineBeforeCursor: "chat -m llama3 ") == [])
    }

    /// `chat -o NAME VALUE`: the first value word is completed, the second is free, and what
    /// follows is a positional or another option again.
    @Test func anOptionWithTwoValueWordsCompletesTheFirstAndSkipsBoth() throws {
        let standard = Completer(registry: .standard, context: nil)
        #expect(standard.complete(lineBeforeCursor: "chat -o t") == ["temperature", "top_p"])
        #expect(standard.complete(lineBeforeCursor: "chat -o temperature ") == [])
        #expect(standard.complete(lineBeforeCursor: "chat --option seed 3 --no-s") == ["--no-stream"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aish-complete-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/notes.txt", contents: Data())
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(standard.complete(lineBeforeCursor: "chat -o top_p 0.5 -f \(dir)/n") == ["\(dir)/notes.txt"])
        #expect(standard.complete(lineBeforeCursor: "replay -o m") == ["max_tokens", "max_reply_bytes"])
        #expect(standard.complete(lineBeforeCursor: "compare a b -o m") == ["max_tokens"])
    }

    @Test func subcommandsThenPositionals() throws {
        #expect(completer.complete(lineBeforeCursor: "config ") == ["show", "generate", "diff"])
        #expect(completer.complete(lineBeforeCursor: "config g") == ["generate"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aish-complete-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/smoke.ai", contents: Data())
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(completer.complete(lineBeforeCursor: "config show \(dir)/s") == ["\(dir)/smoke.ai", "\(dir)/sub/"])
    }

    @Test func dynamicAndBuiltinCompletions() {
        let ctx = makeContext()
        ctx.variables["model"] = "x"
        let live = Completer(registry: testRegistry, context: ctx)
        #expect(live.complete(lineBeforeCursor: "help pro") == ["providers"])
        #expect(live.complete(lineBeforeCursor: "set mo") == ["model"])
        #expect(live.complete(lineBeforeCursor: "set te") == ["temperature"])
        #expect(live.complete(lineBeforeCursor: "expect con") == ["contains"])
    }

    @Test func splitRespectsQuotes() {
        #expect(Completer.split(#"chat "two words" -m "#) == (["chat", "two words", "-m"], ""))
        #expect(Completer.split("chat 'open") == (["chat"], "open"))
    }
}

@Suite struct RunnerTests {
    @Test func expandsArgumentsAndVariables() throws {
        let ctx = makeContext()
        let (out, code) = try runScript("set who world\necho $GREETING $who $1 \"$2\" $#\nvars", ctx: ctx)
        #expect(out == "hi world a1 a 2 2\nwho=world\n")
        #expect(code == 0)
    }

    @Test func stopsAtFirstFailureWithFileAndLine() throws {
        let (out, code) = try runScript("echo one\nprovders\necho never")
        #expect(out == "one\nt.ai:2: error: unknown command 'provders' — did you mean 'providers'? (type 'help' for the list)\n")
        #expect(code == 2)
    }

    @Test func continueOnErrorRunsOn() throws {
        let ctx = makeContext()
        ctx.options.continueOnError = true
        let (out, code) = try runScript("fail\necho after", ctx: ctx)
        #expect(out == "t.ai:1: error: it broke\nafter\n")
        #expect(code == 1)
    }

    @Test func expectAfterAFailureJudgesIt() throws {
        let (out, code) = try runScript("fail\nexpect error\nexpect contains broke\necho on")
        #expect(out == "t.ai:1: error: it broke\non\n")
        #expect(code == 0)
    }

    @Test func failedExpectStopsWithCode4() throws {
        let ctx = makeContext()
        let (out, code) = try runScript("chat -m llama3 hello\nexpect ttft < 100ms\necho never", ctx: ctx)
        #expect(out == "reply to hello\nt.ai:2: expect failed: ttft < 100ms (actual: 120ms)\n")
        #expect(code == 4)
        let ledger = ctx.state(ExpectLedger.self) { ExpectLedger() }
        #expect(ledger.summary == "0 passed, 1 failed")
        #expect(ledger.cases.first?.line == 2)
    }

    @Test func expectDoesNotReplaceTheLastResult() throws {
        let (_, code) = try runScript("chat hi\nexpect ok\nexpect provider == ollama\nexpect contains reply to hi")
        #expect(code == 0)
    }

    @Test func jsonOutput() throws {
        let (out, _) = try runScript("providers --json\nfail", ctx: makeContext(), file: nil)
        #expect(out == "{\"status\":\"ok\",\"count\":2}\naish: it broke\n")
        let (all, _) = try runScript("echo hi\nfail", ctx: makeContext(json: true), file: nil)
        #expect(all == "{\"status\":\"ok\",\"text\":\"hi\"}\n{\"status\":\"error\",\"error\":\"it broke\"}\naish: it broke\n")
    }

    @Test func usageErrorsShowUsage() throws {
        let (out, code) = try runScript("chat --modle x", file: nil)
        #expect(out == "aish: chat: unknown option '--modle' (did you mean '--model'?)\nusage: chat [--model MODEL] [--temperature T] [PROMPT...]\n")
        #expect(code == 2)
    }

    @Test func setChecksChatOptions() throws {
        let ctx = makeContext()
        let (out, code) = try runScript("set temperature 0.2\nset max_tokens lots", ctx: ctx, file: nil)
        #expect(ctx.variables["temperature"] == "0.2")
        #expect(out == "aish: set: max_tokens must be a whole number above 0, got 'lots'\nusage: set [NAME [VALUE...]]\n")
        #expect(code == 2)
    }

    @Test func exitStopsEverything() throws {
        let ctx = makeContext()
        let runner = CommandRunner(ctx: ctx)
        #expect(throws: ExitRequest.self) {
            try runner.run(try ScriptParser.parse("echo a; exit 3; echo b", file: "-c"), frame: ScriptFrame(file: nil, arguments: []))
        }
        #expect(ctx.output.capturedText == "a\n")
    }

    @Test func sourceRunsNestedAndStopsRecursion() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aish-src-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "echo in lib $1\n".write(toFile: dir + "/lib.ai", atomically: true, encoding: .utf8)
        try "source loop.ai\n".write(toFile: dir + "/loop.ai", atomically: true, encoding: .utf8)
        let (out, code) = try runScript("source lib.ai X\necho back $1", file: dir + "/main.ai")
        #expect(out == "in lib X\nback a1\n")
        #expect(code == 0)
        let (loop, loopCode) = try runScript("source loop.ai", file: dir + "/main.ai")
        #expect(loop == "\(dir)/loop.ai:1: error: source: nesting limit of 16 reached at 'loop.ai' (does a script source itself?)\n")
        #expect(loopCode == 2)
    }
}

@Suite struct ProcessArgumentsTests {
    let registry = testRegistry

    @Test func modes() throws {
        #expect(try ProcessArguments.parse([], registry: registry).action == .standardInput)
        #expect(try ProcessArguments.parse(["-f", "s.ai", "a", "--json"], registry: registry).action
            == .script(path: "s.ai", arguments: ["a", "--json"]))
        #expect(try ProcessArguments.parse(["--json", "-c", "echo a; echo b"], registry: registry).action
            == .commands(text: "echo a; echo b", arguments: []))
        #expect(try ProcessArguments.parse(["--version"], registry: registry).action == .version)
    }

    @Test func options() throws {
        let p = try ProcessArguments.parse(["--config", "cfg", "--db=x.db", "--var", "a=1", "--var", "b=x=y", "-q",
                                            "--no-color", "--junit", "r.xml", "--continue-on-error", "--json"],
                                           registry: registry)
        #expect(p.configDirectory == "cfg")
        #expect(p.databasePath == "x.db")
        #expect(p.variables == ["a": "1", "b": "x=y"])
        #expect(p.variableOrder == ["a", "b"])
        #expect(p.quiet && p.noColor && p.continueOnError && p.json)
        #expect(p.junitPath == "r.xml")
    }

    @Test func commandFormTakesTrailingGlobals() throws {
        let p = try ProcessArguments.parse(["chat", "-m", "x", "--config", "cfg", "hi"], registry: registry)
        #expect(p.action == .command(["chat", "-m", "x", "hi"]))
        #expect(p.configDirectory == "cfg")
    }

    func usageError(_ args: [String]) -> String? {
        do {
            _ = try ProcessArguments.parse(args, registry: registry)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func errors() {
        #expect(usageError(["--jsn"]) == "unknown option '--jsn' — did you mean '--json'?")
        #expect(usageError(["-f"]) == "option '-f' needs a value")
        #expect(usageError(["--var", "1x=2"]) == "--var takes NAME=VALUE, got '1x=2'")
    }

    @Test func defaults() {
        let p = ProcessArguments()
        #expect(p.resolvedDatabasePath(environment: ["HOME": "/h"]) == "/h/.local/share/aish/aish.db")
        #expect(p.resolvedDatabasePath(environment: ["HOME": "/h", "AISH_DB": "/x.db"]) == "/x.db")
        #expect(p.resolvedConfigDirectory(environment: ["HOME": "/h", "AISH_CONFIG": "/c"]) == "/c")
        #expect(HistoryFile.path(environment: ["HOME": "/h"]) == "/h/.local/share/aish/history")
    }

    @Test func historyDecoding() {
        #expect(HistoryFile.unvis(#"echo\040a\\b\011c"#) == "echo a\\b\tc")
    }
}
