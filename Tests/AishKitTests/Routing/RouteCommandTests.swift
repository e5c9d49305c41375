import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishRouting

@Suite struct RouteCommandTests {
    static func context(environment: [String: String] = [:]) -> ShellContext {
        var options = GlobalOptions()
        options.configDirectory = FixtureRoutingTests.directory
        return ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(),
                            environment: environment)
    }

    static func run(_ words: [String], _ ctx: ShellContext) throws -> CommandResult {
        let spec = RoutingCommands.route
        return try spec.run(spec.parse(words: words, line: (["route"] + words).joined(separator: " "), location: nil), ctx)
    }

    @Test func planForAnAliasSaysWhyCloudStepsAreSkippedWithoutAKey() throws {
        let result = try Self.run(["qwen-coder-vllm"], Self.context())
        #expect(result.status == .ok)
        #expect(result.field("provider") == .string("vllm-qwen"))
        #expect(result.field("backend_model") == .string("Qwen/Qwen2.5-Coder-7B-Instruct-AWQ"))
        #expect(result.field("rule") == .string("exact match"))
        #expect(result.text.hasPrefix("qwen-coder-vllm: exact match 'qwen-coder-vllm' (model-mappings.yaml:65:3)\n"))
        #expect(result.text.contains("      skipped: provider ollama_cloud needs an API key in OLLAMA_API_KEY, which is not set\n"))
        let withKey = try Self.run(["qwen-coder-vllm"], Self.context(environment: ["OLLAMA_API_KEY": "k"]))
        #expect(!withKey.text.contains("skipped"))
        #expect(withKey.field("attempts") == .int(7))
        // One name per concept: `model` is the name asked for in expect and --json (--json said `requested`).
        try ReportAgreement.check(result, ["model", "rule", "provider", "backend_model", "attempts", "skipped"], report: ReportShape(RouteReport.self))
        #expect(result.jsonForm["requested"] == nil)
    }

    @Test func promptSizesCapabilityRequests() throws {
        let ctx = Self.context()
        let long = String(repeating: "word ", count: 100)
        let result = try Self.run(["code", "--prompt", long], ctx)
        #expect(result.text.contains("chosen by complexity_based: prompt ≈ 125 tokens → high"))
    }

    @Test func jsonCarriesEveryStep() throws {
        let result = try Self.run(["mistralai/Mixtral"], Self.context())
        let steps = try #require(result.data?["steps"])
        #expect(steps[0]?["status"] == .string("skipped"))
        #expect(steps[0]?["skip_reason"] == .string("provider vllm-dolphin is disabled (providers.yaml:119:3)"))
        #expect(steps[1]?["provider"] == .string("ollama"))
        #expect(steps[1]?["attempt"] == .int(1))
        #expect(result.data?["rule"] == .string("pattern"))
    }

    @Test func allListsEveryName() throws {
        let result = try Self.run(["--all"], Self.context())
        let lines = result.text.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.count == 1 + 23 + 6 + 1)
        #expect(lines.contains { $0.hasPrefix("llama-cpp-native ") && $0.hasSuffix("no fallback") })
    }

    @Test func usageErrors() {
        #expect(throws: UsageError.self) { try Self.run([], Self.context()) }
        do {
            _ = try Self.run(["a", "b"], Self.context())
        } catch let e as UsageError {
            #expect(e.message == "route: unexpected argument 'b'")
        } catch { Issue.record("unexpected \(error)") }
        do {
            _ = try Self.run(["a", "--all"], Self.context())
        } catch let e as UsageError {
            #expect(e.message == "route: give a MODEL or --all, not both")
        } catch { Issue.record("unexpected \(error)") }
    }
}
