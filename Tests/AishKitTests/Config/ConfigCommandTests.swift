import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishYAML

@Suite struct ConfigCommandTests {
    static func context(_ dir: String) -> ShellContext {
        var options = GlobalOptions()
        options.configDirectory = dir
        return ShellContext(options: options, output: OutputSink(capturing: true), environment: [:])
    }

    static func run(_ words: [String], dir: String) throws -> CommandResult {
        let spec = try #require(CommandRegistry.standard.lookup(words[0]))
        let inv = try spec.parse(words: Array(words.dropFirst()), line: words.joined(separator: " "), location: nil)
        return try spec.run(inv, context(dir))
    }

    @Test func validateCleanIsOk() throws {
        let r = try Self.run(["validate"], dir: ConfigFixtures.fixture("clean"))
        #expect(r.status == .ok)
        #expect(r.text == "4 providers (3 active), 8 routes, 3 fallback chains: 0 errors, 0 warnings\n")
        #expect(r.field("errors") == 0)
        #expect(r.field("routes") == 8)
        #expect(r.jsonForm["findings"] == .array([]))
        try ReportAgreement.check(r, ["providers", "active_providers", "routes", "chains", "errors", "warnings"], report: ReportShape(ValidateReport.self))
    }

    @Test func validateAliasAndConfigOption() throws {
        let r = try Self.run(["check-config", "--config", ConfigFixtures.fixture("clean")], dir: "/nonexistent")
        #expect(r.status == .ok)
    }

    /// With errors validate fails with exit code 3: the findings and summary are its error
    /// (stderr), nothing goes to stdout, and --json is the same report with status error.
    @Test func validateWithErrorsFailsWithExitCode3AndEveryFinding() throws {
        let dir = ConfigFixtures.gathewhy
        let r = try Self.run(["validate"], dir: dir)
        #expect(r.status == .error)
        #expect(r.failureExitCode == .config)
        #expect(r.text == "")
        let lines = try #require(r.error).components(separatedBy: "\n")
        #expect(lines.first == "configuration invalid:")
        #expect(lines.contains("\(dir)/model-mappings.yaml:250:9: error: capability 'large_context' lists provider 'llama_cpp_python' where a model is expected"))
        #expect(lines.last == "9 providers (5 active), 30 routes, 13 fallback chains: 1 error, 27 warnings")
        #expect(lines.count == 30)
        #expect(r.jsonForm["status"] == "error")
        #expect(r.jsonForm["findings"]?[0]?["check"] != nil)
        // One name for the column: `col` (the finding also said `column` before).
        #expect(r.jsonForm["findings"]?[0]?["col"]?.intValue != nil)
        #expect(r.jsonForm["findings"]?[0]?["column"] == nil)
        try ReportAgreement.check(r, ["errors", "warnings", "routes"], report: ReportShape(ValidateReport.self))
        #expect(r.field("errors") == 1)
    }

    @Test func warningsOnlyStayOk() throws {
        let dir = try ValidateHarness.editedCopy("model-mappings.yaml", "    fallback: local\n", "    fallback: spare\n")
        let r = try Self.run(["validate"], dir: dir)
        #expect(r.status == .ok)
        #expect(r.text == """
            \(dir)/model-mappings.yaml:21:15: warning: provider 'spare' is disabled
            4 providers (3 active), 8 routes, 3 fallback chains: 0 errors, 1 warning

            """)
    }

    @Test func showProvidersIsATableOfWhatWasUnderstood() throws {
        let dir = ConfigFixtures.fixture("clean")
        let r = try Self.run(["config", "show", "providers"], dir: dir)
        #expect(r.text == """
            providers (\(dir)/providers.yaml):
            PROVIDER  TYPE       STATUS    BASE URL                   MODELS                              KEY FROM         SERVICE
            local     ollama     active    http://127.0.0.1:11434     llama3.1:latest, qwen2.5-coder:7b   -                ollama.service
            fast      llama_cpp  active    http://127.0.0.1:8080      smol                                -                -
            cloud     openai     active    https://api.openai.com/v1  gpt-4o-mini                         $OPENAI_API_KEY  -
            spare     vllm       disabled  http://127.0.0.1:8001      Qwen/Qwen2.5-Coder-7B-Instruct-AWQ  -                -

            """)
    }

    @Test func showRoutesAndPorts() throws {
        let dir = ConfigFixtures.fixture("clean")
        let routes = try Self.run(["config", "show", "routes"], dir: dir).text
        #expect(routes.contains("coder            local     qwen2.5-coder:7b  -         100 rpm, 50000 tpm\n"))
        #expect(routes.contains("llama3.1:latest  smol → gpt-4o-mini\n"))
        #expect(routes.contains("chat           weighted_round_robin  local 0.7, fast 0.3\n"))
        #expect(routes.hasSuffix("default provider: local, default fallback: fast\n"))
        let portsResult = try Self.run(["config", "show", "ports"], dir: dir)
        // Only the section asked for, in text and --json alike (the others null).
        #expect(portsResult.jsonForm["routes"] == .null)
        #expect(portsResult.jsonForm["ports"]?[0]?["name"] == "gateway")
        try ReportAgreement.check(portsResult, ["directory"], report: ReportShape(ConfigShowReport.self))
        let ports = portsResult.text
        #expect(ports == """
            ports (\(dir)/ports.yaml):
            SERVICE  PORT   PROTOCOL  REQUIRED  UNIT
            gateway  4000   http      yes       litellm.service
            local    11434  http      yes       ollama.service
            fast     8080   http      no        -
            future   8004   reserved  -         -
            ranges: inference 8000-8999

            """)
    }

    @Test func showRejectsUnknownSection() {
        #expect {
            try Self.run(["config", "show", "route"], dir: ConfigFixtures.fixture("clean"))
        } throws: { error in
            (error as? UsageError)?.message == "config show: unknown section 'route' (did you mean 'routes'?)"
        }
    }

    @Test func showOnAConfigWithNothingUsableThrowsExitCode3() throws {
        let dir = try ConfigFixtures.directory(["providers.yaml": "providers:\n  a: \"unterminated\n"])
        #expect {
            try Self.run(["config", "show"], dir: dir)
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            return e.exitCode == .config && e.description.hasPrefix("configuration invalid (1 error):\n\(dir)/providers.yaml:")
        }
    }

    @Test func showOnAConfigWithABrokenRuleShowsTheRest() throws {
        let dir = try ValidateHarness.editedCopy("model-mappings.yaml", "    fallback: local\n", "    fallback: [local]\n")
        let r = try Self.run(["config", "show", "routes"], dir: dir)
        #expect(r.status == .ok)
        #expect(r.text.contains("smol"))
    }

    @Test func generatedFileIsDeterministicAndMatchesTheCommittedOne() throws {
        let dir = ConfigFixtures.fixture("clean")
        let config = ConfigLoader.load(directory: dir).config
        let committed = try String(contentsOfFile: dir + "/litellm-unified.yaml", encoding: .utf8)
        #expect(LiteLLMGenerator.text(config) == committed)
        #expect(LiteLLMGenerator.text(ConfigLoader.load(directory: dir).config) == committed)
    }

    @Test func generateWritesKeepsABackupAndIsIdempotent() throws {
        let dir = try ValidateHarness.editedCopy("model-mappings.yaml", "      - smol\n      - gpt-4o-mini", "      - gpt-4o-mini")
        let old = try String(contentsOfFile: dir + "/litellm-unified.yaml", encoding: .utf8)
        let r = try Self.run(["config", "generate"], dir: dir)
        let backup = try #require(r.field("backup")?.stringValue)
        #expect(backup.hasPrefix(dir + "/litellm-unified.yaml.bak."))
        #expect(backup.range(of: #"\.bak\.\d{8}T\d{6}Z$"#, options: .regularExpression) != nil)
        #expect(try String(contentsOfFile: backup, encoding: .utf8) == old)
        #expect(r.text == "wrote \(dir)/litellm-unified.yaml (6 models)\nprevious file kept as \(backup)\n")
        let written = try String(contentsOfFile: dir + "/litellm-unified.yaml", encoding: .utf8)
        #expect(written.contains("    - llama3.1:latest:\n        - gpt-4o-mini\n"))
        #expect(ValidateHarness.findings(in: dir) == [])
        let again = try Self.run(["config", "generate"], dir: dir)
        #expect(again.text == "\(dir)/litellm-unified.yaml is up to date (6 models)\n")
        #expect(again.field("changed") == false)
        #expect(again.field("backup") == .null)
        try ReportAgreement.check(r, ["path", "changed", "models", "backup", "text"], report: ReportShape(ConfigGenerateReport.self))
        try ReportAgreement.check(again, ["path", "changed", "models", "text"], report: ReportShape(ConfigGenerateReport.self))
    }

    @Test func generateIntoAnEmptyDirectoryWritesWithoutBackup() throws {
        let clean = ConfigFixtures.fixture("clean")
        var files: [String: String] = [:]
        for f in ["providers.yaml", "model-mappings.yaml"] { files[f] = try String(contentsOfFile: clean + "/" + f, encoding: .utf8) }
        let dir = try ConfigFixtures.directory(files)
        let r = try Self.run(["config", "generate"], dir: dir)
        #expect(r.field("backup") == .null)
        #expect(FileManager.default.fileExists(atPath: dir + "/litellm-unified.yaml"))
    }

    @Test func diffSaysNoChangesWhenInSync() throws {
        let dir = ConfigFixtures.fixture("clean")
        let r = try Self.run(["config", "diff"], dir: dir)
        #expect(r.status == .ok)
        #expect(r.text == "no changes: \(dir)/litellm-unified.yaml is what generation would write\n")
    }

    @Test func diffShowsWhatGenerationWouldChange() throws {
        let dir = try ValidateHarness.editedCopy("providers.yaml", "rpm: 600", "rpm: 60")
        let r = try Self.run(["config", "diff"], dir: dir)
        // Both deployments on provider fast (smol, and chat's load-balancing member) change.
        #expect(r.text.hasPrefix("--- \(dir)/litellm-unified.yaml\n+++ \(dir)/litellm-unified.yaml (generated)\n@@ -26,7 +26,7 @@\n"))
        #expect(r.text.components(separatedBy: "-      rpm: 600\n+      rpm: 60\n").count == 3)
        #expect(r.field("added") == 2)
        #expect(r.field("removed") == 2)
        try ReportAgreement.check(r, ["path", "changed", "added", "removed", "text"], report: ReportShape(ConfigDiffReport.self))
        #expect(r.field("text") == .string(r.text))
    }

    @Test func configNeedsAnAction() {
        #expect(throws: UsageError.self) { try Self.run(["config"], dir: ConfigFixtures.fixture("clean")) }
        #expect {
            try Self.run(["config", "generat"], dir: ConfigFixtures.fixture("clean"))
        } throws: { error in
            (error as? UsageError)?.message == "config: unknown action 'generat' (did you mean 'generate'?)"
        }
    }
}

@Suite struct LiteLLMGeneratorTests {
    @Test func keysAreOnlyEnvironmentReferences() {
        let config = ConfigLoader.load(directory: ConfigFixtures.gathewhy).config
        let text = LiteLLMGenerator.text(config)
        let keys = text.split(separator: "\n").filter { $0.contains("api_key:") }.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(Set(keys) == ["api_key: os.environ/OLLAMA_API_KEY", "api_key: none"])
        #expect(text.contains("callbacks:\n    - prometheus\n"))
        #expect(text.contains("  model_group_alias:\n    code: qwen3-coder:480b-cloud\n"))
        // A provider name listed as a capability model is not an alias target.
        #expect(text.contains("    large_context: kimi-k2:1t-cloud\n"))
        // Disabled providers' routes are not deployed.
        #expect(!text.contains("vllm-dolphin"))
    }

    /// `drill --via gateway` needs LiteLLM's opt-in for its fault switch: only a litellm
    /// provider with `allow_drills: true` turns it on.
    @Test func allowDrillsOnTheGatewayTurnsOnLiteLLMsMockTestingOptIn() throws {
        let plain = LiteLLMGenerator.text(ConfigLoader.load(directory: ConfigFixtures.gathewhy).config)
        #expect(!plain.contains("dangerously_allow_mock_testing_request_params"))
        let repo = try TestPaths.existing("config")
        let local = LiteLLMGenerator.text(ConfigLoader.load(directory: repo).config)
        #expect(local.hasSuffix("general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n  dangerously_allow_mock_testing_request_params: true\n"))
        // The repository's config/ is in sync with what generate writes.
        #expect(try String(contentsOfFile: repo + "/litellm-unified.yaml", encoding: .utf8) == local)
    }

    @Test func emitterQuotesAnythingAYAML11ReaderCouldMisread() throws {
        let tricky = ["yes", "No", "null", "~", "123", "1:30", "0x1F", "1e3", "", " lead", "a: b", "#x", "-x", "x #y",
                      "tab\there", "quote\"s", "ünï", "ok-name", "llama3.1:latest", "Qwen/Qwen2.5", "end:"]
        let doc = JSONValue.object(tricky.map { ($0, .string($0)) })
        let text = YAMLEmitter.emit(doc)
        let root = try #require(try YAMLParser.parse(text, file: "t").root)
        for (i, p) in (root.pairs ?? []).enumerated() {
            #expect(p.key.scalar == tricky[i])
            #expect(p.value.scalar == tricky[i])
            #expect(p.value.jsonValue == .string(tricky[i]), "'\(tricky[i])' must stay a string")
        }
        #expect(YAMLEmitter.isSafePlain("llama3.1:latest"))
        #expect(!YAMLEmitter.isSafePlain("yes"))
    }
}
