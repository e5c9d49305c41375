import Foundation
import Testing
@testable import AishBase
@testable import AishBenchmarks
@testable import AishCommand
@testable import AishScript
@testable import AishSessionLog
@testable import AishShell

/// Secrets recognised in text whatever the environment holds (issue 16.2).
@Suite struct SecretPatternTests {
    /// Which environment variable names the redactor treats as secret (their values are masked).
    @Test(arguments: [("OPENAI_API_KEY", true), ("api_key", true), ("GITHUB_TOKEN", true), ("db_password", true),
                      ("PASSWD", true), ("aws_secret_access_key", true), ("GCP_CREDENTIALS", true),
                      ("max_tokens", false), ("MAX_TOKENS", false), ("TOKENS_TOKEN", true), ("HOME", false),
                      ("PATH", false), ("monkey", true), ("", false), ("naïve_key", true)] as [(String, Bool)])
    func secretLookingNames(name: String, secret: Bool) {
        #expect(SecretRedactor.looksSecret(name) == secret, "\(name)")
    }

    @Test(arguments: [
        // Published key prefixes.
        ("key sk-proj-ABCDEFGH12345678 end", "key *** end"),
        ("stripe sk_live_51Habcdefgh and sk_test_51Habcdefgh", "stripe *** and ***"),
        ("aws AKIAIOSFODNN7EXAMPLE, ASIAIOSFODNN7EXAMPLE", "aws ***, ***"),
        ("gh ghp_abcdefghijklmnop0123 gho_abcdefghijklmnop0123", "gh *** ***"),
        ("pat github_pat_11ABCDEFG0123456789_abcdef", "pat ***"),
        ("slack xoxb-1234-5678-abcdef xoxp-1234-5678-abcdef", "slack *** ***"),
        ("hf hf_abcdefghijklmnopqrstuvwxyz012345", "hf ***"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_def ok", "jwt *** ok"),
        // Headers.
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer ***"),
        ("-H 'authorization: Basic dXNlcjpwYXNz' -d x", "-H 'authorization: Basic ***' -d x"),
        ("Authorization: abc123secret", "Authorization: ***"),
        ("bearer   tok123 rest", "bearer   *** rest"),
        // By name.
        ("set api_key V3ryS3cret", "set api_key ***"),
        ("set db_password hunter2 with spaces; echo next", "set db_password ***; echo next"),
        ("echo a; set GITHUB_TOKEN abc", "echo a; set GITHUB_TOKEN ***"),
        ("--var api_key=abc123 -c x", "--var api_key=*** -c x"),
        ("export DB_PASSWORD=hunter2", "export DB_PASSWORD=***"),
        ("{\"api_key\": \"abc123\", \"model\": \"x\"}", "{\"api_key\": \"***\", \"model\": \"x\"}"),
        ("client_secret: s3cr3t", "client_secret: ***"),
        ("https://h/x?access_token=abc&b=1", "https://h/x?access_token=***&b=1"),
        // Not secrets.
        ("set max_tokens 64", "set max_tokens 64"),
        ("max_tokens=64 prompt_tokens: 12", "max_tokens=64 prompt_tokens: 12"),
        ("provider 'x' needs an API key: set the environment variable K", "provider 'x' needs an API key: set the environment variable K"),
        ("task-list and sk-short hf_transfer AKIA", "task-list and sk-short hf_transfer AKIA"),
        ("a Bearer", "a Bearer"),
        ("set api_key ***", "set api_key ***"),
        ("naïve résumé ✓ eyJ", "naïve résumé ✓ eyJ"),
    ])
    func masks(input: String, expected: String) {
        #expect(SecretPatterns.redact(input) == expected)
    }

    @Test func redactingTwiceChangesNothing() {
        let text = "set api_key sk-abcdefgh12345678; Authorization: Bearer x.y; a=1 token=abc"
        let once = SecretPatterns.redact(text)
        #expect(once == "set api_key ***; Authorization: Bearer ***; a=1 token=***")
        #expect(SecretPatterns.redact(once) == once)
    }

    /// `set` and `--var` with a secret-looking name: the value is masked wherever it shows up
    /// later (a prompt that expands `$api_key`), not only in the `set` line.
    @Test func secretScriptVariablesAreMaskedInTheLog() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("vars.db")
        let output = OutputSink(capturing: true)
        var options = GlobalOptions()
        options.databasePath = path
        let ctx = ShellContext(options: options, output: output, interrupt: InterruptFlag(), environment: ["HOME": dir.path])
        ctx.recorder = SessionLogAccess.open(path: path, mode: "script", scriptPath: nil, output: output, environment: [:])
        let runner = CommandRunner(ctx: ctx)
        try runner.run(ScriptParser.parse("set db_password plainhunter2\necho pw is $db_password\n", file: "s.ai"),
                       frame: ScriptFrame(file: "s.ai", arguments: []))
        ctx.recorder?.recordAttempt(attempt(prompt: "the password is plainhunter2"))
        ctx.recorder?.endSession()
        let shell = LogShell(dbPath: path)
        #expect(try shell.run(["sql", "SELECT group_concat(text, '|') FROM commands"]).field("value")
            == .string("set db_password ***|echo pw is $db_password"))
        #expect(try shell.run(["sql", "SELECT prompt FROM attempts"]).field("value") == .string("the password is ***"))
    }
}

/// The fuzz targets run (briefly) and their invariants hold on the seeds and a few
/// thousand mutations; scripts/fuzz runs them for longer.
@Suite struct FuzzTargetTests {
    @Test func everyTargetRunsCleanForAShortBudget() {
        let (report, code) = Fuzzing.run(arguments: ["--seconds", "0.2", "--seed", "16"])
        #expect(code == 0, "\(report)")
        #expect(report.split(separator: "\n").count == Fuzzing.targetNames.count)
    }

    @Test func splitDependentDecodingWouldBeReported() {
        var random = SplitMix64(seed: 1)
        #expect(throws: Never.self) {
            try Fuzzing.exercise("sse", Array("data: {\"choices\":[{\"delta\":{\"content\":\"h\u{e9}\"},\"finish_reason\":\"stop\"}]}\n\n".utf8), random: &random)
        }
        #expect(Fuzzing.run(arguments: ["nope"]).1 == 2)
    }
}
