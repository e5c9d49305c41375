import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishScript
@testable import AishShell

/// The shell's own commands return reports: text, `--json` and `expect` read one value.
@Suite struct BuiltinReportTests {
    private func shape(_ name: String) throws -> ReportShape {
        try #require(CommandRegistry.standard.lookup(name)?.report, "\(name) declares no report")
    }

    @Test func scriptsReadTheSameFieldsAsJSON() throws {
        let ctx = ReportAgreement.context()
        let (out, code) = try ReportAgreement.script("""
            echo hello there
            expect text == "hello there"
            expect json .text == "hello there"
            set x 1
            expect name == x
            expect value == 1
            expect json .value == 1
            set x
            expect contains 1
            set status broken
            vars
            expect json .variables.x == 1
            expect json .variables.status == broken
            expect contains x=1
            unset x
            expect json .unset[0] == x
            vars
            expect not contains x=1
            sleep 10ms
            expect slept_ms >= 10
            expect json .slept_ms >= 10
            clear
            expect cleared == false
            help echo
            expect command == echo
            expect contains usage: echo [TEXT...]
            help
            expect json .commands[0].name == help
            expect json .commands[0].group == Shell
            """, ctx: ctx)
        #expect(code == 0, "\(out)")
        let ledger = ctx.state(ExpectLedger.self) { ExpectLedger() }
        #expect(ledger.summary == "18 passed, 0 failed")
        let listing = try #require(out.range(of: "Shell:\n"))
        #expect(out[..<listing.lowerBound] == "hello there\n1\nstatus=broken\nx=1\nstatus=broken\n"
                + CommandRegistry.standard.lookup("echo")!.helpText)
        #expect(out.hasSuffix("Type 'help COMMAND' for details, COMMAND --help works too.\n"))
    }

    @Test func jsonIsTheReportWithItsStatus() throws {
        let ctx = ReportAgreement.context(json: true)
        ctx.state(HistoryLink.self) { HistoryLink() }.entries = { ["providers", "chat hi", "log"] }
        let (out, code) = try ReportAgreement.script("""
            set status broken
            set status
            vars
            unset status
            history -n 2
            expect count == 2
            help sleep
            """, ctx: ctx)
        #expect(code == 0)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(5)) == [
            #"{"status":"ok","name":"status","value":"broken"}"#,
            #"{"status":"ok","name":"status","value":"broken"}"#,
            #"{"status":"ok","variables":{"status":"broken"}}"#,
            #"{"status":"ok","unset":["status"]}"#,
            #"{"status":"ok","count":2,"entries":["chat hi","log"]}"#,
        ])
        let help = try JSONValue.parse(lines[5])
        #expect(help["status"] == "ok")
        #expect(help["command"] == "sleep")
        #expect(help["help"]?.stringValue?.contains("fields (for expect and --json") == true)
        #expect(lines.count == 6, "a passing expect prints nothing under --json")
    }

    @Test func eachBuiltinAgreesWithItself() throws {
        let ctx = ReportAgreement.context(interactive: true)
        ctx.state(HistoryLink.self) { HistoryLink() }.entries = { ["providers", "chat hi"] }
        let shell = TestShell(ctx)
        try ReportAgreement.check(try shell.run(["echo", "a", "b"]), ["text"], report: try shape("echo"))
        try ReportAgreement.check(try shell.run(["set", "t", "0.5"]), ["name", "value"], report: try shape("set"))
        try ReportAgreement.check(try shell.run(["vars"]), ["variables"], report: try shape("vars"))
        try ReportAgreement.check(try shell.run(["unset", "t"]), ["unset"], report: try shape("unset"))
        try ReportAgreement.check(try shell.run(["sleep", "1ms"]), ["slept_ms"], report: try shape("sleep"))
        let history = try shell.run(["history"])
        #expect(history.text == "    1  providers\n    2  chat hi")
        try ReportAgreement.check(history, ["count", "entries"], report: try shape("history"))
        try ReportAgreement.check(try shell.run(["clear"]), ["cleared"], report: try shape("clear"))
        let listing = try shell.run(["help"])
        try ReportAgreement.check(listing, ["commands"], report: try shape("help"))
        #expect(listing.jsonForm["commands"]?[0]?["usage"] == "help [COMMAND]")
        let one = try shell.run(["help", "quit"])
        #expect(one.field("command") == "exit", "an alias names its command")
        #expect(one.text == CommandRegistry.standard.lookup("exit")!.helpText)
        ctx.lastResult = history
        let passed = try shell.run(["expect", "count", ">=", "2"])
        #expect(passed.text == "expect passed")
        #expect(passed.field("assertion") == "count >= 2")
        try ReportAgreement.check(passed, ["passed", "assertion"], report: try shape("expect"))
    }
}
