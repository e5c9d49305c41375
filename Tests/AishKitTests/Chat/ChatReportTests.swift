import Foundation
import Testing
@testable import AishBase
@testable import AishChat
@testable import AishCommand
@testable import AishScript

/// chat, use, system and reset return reports: the streamed text, `--json` and `expect`
/// read one value, through the real runner and fake providers.
@Suite(.serialized) struct ChatReportTests {
    private func shape(_ name: String) throws -> ReportShape {
        try #require(CommandRegistry.standard.lookup(name)?.report, "\(name) declares no report")
    }

    @Test func aTurnAndTheConversationCommandsInAScript() throws {
        let backup = try FakeProviderProcess(["--reply", "from the backup"])
        defer { backup.stop() }
        let b = try ChatFailoverTests.bench(primaryURL: "http://127.0.0.1:\(FakeProviderProcess.unusedPort())", backup: backup)
        defer { b.cleanUp() }
        let (out, code) = try ReportAgreement.script("""
            chat -m m hello
            expect ok
            expect provider == backup
            expect json .provider == backup
            expect fallback == true
            expect json .fallback_from == primary
            expect contains from the backup
            expect reply == "from the backup"
            expect json .reply == "from the backup"
            expect ttft_ms >= 0
            expect json .ttft_ms >= 0
            use m
            expect provider == primary
            expect json .rule == "exact match"
            use
            expect chosen_by == use
            system Be brief.
            expect system == "Be brief."
            system
            reset
            expect turns_dropped == 1
            """, ctx: b.ctx)
        #expect(code == 0, "\(out)")
        #expect(b.ctx.state(ExpectLedger.self) { ExpectLedger() }.summary == "15 passed, 0 failed")
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "from the backup", "streamed once, not printed again")
        #expect(lines[1].hasPrefix("backup · backup-model · TTFT "))
        #expect(lines[2].hasPrefix("using m: exact match 'm'") && lines[2].hasSuffix(" → primary · primary-model"))
        #expect(Array(lines[3...]) == ["m (chosen with use)", "Be brief.", "new conversation (1 earlier turn dropped)", ""])

        // The same turn's fields, read both ways.
        let r = try b.run(["chat", "-m", "m", "again"])
        try ReportAgreement.check(r, ["outcome", "model", "rule", "provider", "backend_model", "ttft_ms", "latency_ms", "tokens",
                                      "attempts", "fallback", "fallback_from", "fallback_reason", "reply_bytes", "truncated",
                                      "gateway_deployment", "gateway_overhead_ms", "reply"],
                                  report: try shape("chat"))
        try ReportAgreement.check(try b.run(["use", "m"]), ["model", "rule", "provider"], report: try shape("use"))
        try ReportAgreement.check(try b.run(["system", "x"]), ["system"], report: try shape("system"))
        try ReportAgreement.check(try b.run(["reset"]), ["conversation", "turns_dropped"], report: try shape("reset"))
    }

    @Test func jsonHasEveryFieldInEveryTurnAndTheErrorOfAFailedOne() throws {
        let primary = try FakeProviderProcess(["--reply", "hi there"])
        let backup = try FakeProviderProcess(["--fail-all", "500"])
        defer { primary.stop(); backup.stop() }
        let b = try ChatFailoverTests.bench(primaryURL: primary.baseURL, backup: backup, json: true)
        defer { b.cleanUp() }
        let (out, code) = try ReportAgreement.script("chat -m m hello\nchat -m backup-model hello\nexpect error\nexpect outcome == failed",
                                                     ctx: b.ctx)
        #expect(code == 0, "\(out)")
        let lines = out.split(separator: "\n").map(String.init)
        let ok = try JSONValue.parse(lines[0])
        guard case let .object(pairs) = ok else { Issue.record("not an object: \(lines[0])"); return }
        #expect(pairs.map(\.0) == ["status"] + ChatReport.fields.map(\.name), "nothing streamed before the JSON")
        #expect(ok["reply"] == "hi there")
        #expect(ok["gateway_deployment"] == .null && ok["finish_reason"] != nil)
        let failed = try JSONValue.parse(lines[1])
        #expect(failed["status"] == "error")
        #expect(failed["outcome"] == "failed")
        #expect(failed["provider"] == .null)
        #expect(failed["error"]?.stringValue?.hasPrefix("'backup-model' failed on every target") == true)
    }
}
