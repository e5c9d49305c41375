import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishServices

/// `service` against a stand-in `systemctl` first on PATH (passed through the context's
/// environment, never the test process's) that appends its argv, one argument per line,
/// and a line "<<end>>" per call, to a file.
@Suite struct ServiceCommandTests {
    let dir: TemporaryDirectory
    let argvLog: String

    init() throws {
        dir = try TemporaryDirectory()
        argvLog = dir.path + "/argv"
        try dir.executable("systemctl", """
            #!/bin/sh
            for a in "$@"; do printf '%s\\n' "$a" >> "$ARGV_LOG"; done
            printf '<<end>>\\n' >> "$ARGV_LOG"
            for unit; do :; done
            for a in "$@"; do
              case "$a" in
                show) printf '%s\\n' "${LOAD_STATE:-loaded}"; exit 0 ;;
                "$FAIL_ACTION") printf 'Job for %s failed because the control process exited with error code.\\n' "$unit" >&2; exit 1 ;;
              esac
            done
            exit 0
            """)
    }

    func context(_ env: [String: String] = [:], interactive: Bool = false) -> ShellContext {
        ServiceFixtures.context(path: dir.path + ":/usr/bin:/bin", extraEnvironment: ["ARGV_LOG": argvLog].merging(env) { $1 },
                                interactive: interactive)
    }

    func run(_ words: [String], _ ctx: ShellContext, _ config: AishConfig) throws -> CommandResult {
        let inv = try ServiceCommands.serviceSpec.parse(words: words, line: "service " + words.joined(separator: " "),
                                                        location: nil)
        return try ServiceCommands.runService(inv, ctx, config: config)
    }

    /// The recorded calls, each an argument vector.
    func calls() -> [[String]] {
        guard let text = dir.read("argv") else { return [] }
        var out: [[String]] = [], current: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line == "<<end>>" { out.append(current); current = [] } else { current.append(String(line)) }
        }
        return out
    }

    @Test func restartRunsSystemctlUserAndWaitsForHealth() throws {
        let (server, port) = try ChildProcess.httpServer()
        defer { server.stop() }
        let config = ServiceFixtures.config(ports: [
            ServiceFixtures.port("llama_cpp_python", port, unit: "llamacpp-python.service",
                                 health: "curl -f http://127.0.0.1:\(port)/"),
        ])
        let ctx = context()
        let log = try ServiceActionLog()
        ctx.recorder = log.recorder
        let r = try run(["restart", "llama_cpp_python", "--yes"], ctx, config)
        #expect(calls() == [
            ["--user", "show", "--property=LoadState", "--value", "--", "llamacpp-python.service"],
            ["--user", "restart", "--", "llamacpp-python.service"],
        ])
        #expect(r.status == .ok)
        #expect(r.field("healthy") == .bool(true))
        try ReportAgreement.check(r, ["action", "service", "unit", "scope", "done", "healthy", "wait_ms", "text"], report: ReportShape(ServiceReport.self))
        #expect(r.text.hasPrefix("""
            llama_cpp_python: llamacpp-python.service restarted (systemctl --user restart -- llamacpp-python.service)
            up after
            """))
        #expect(r.text.hasSuffix("(GET http://127.0.0.1:\(port)/ → 200)"))
        #expect(try log.rows() == [
            ServiceActionLog.Row(action: "restart", service: "llama_cpp_python", unit: "llamacpp-python.service", ok: true,
                                 output: ""),
        ])
    }

    @Test func shellMetacharactersReachSystemctlAsOneLiteralArgument() throws {
        let hostile = "x; touch /tmp/pwned $(id) `id` && echo \"$HOME\" | cat > out"
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("evil", ChildProcess.closedPort(), unit: hostile)])
        let r = try run(["stop", "evil", "--yes"], context(), config)
        #expect(r.status == .ok)
        #expect(calls() == [
            ["--user", "show", "--property=LoadState", "--value", "--", hostile],
            ["--user", "stop", "--", hostile],
        ])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/out"))
    }

    @Test func systemScopeFromFlagOrFromAUnitFileInASystemDirectory() throws {
        let config = ServiceFixtures.config(
            ports: [ServiceFixtures.port("redis", ChildProcess.closedPort(), unit: "redis-server.service")],
            providers: [ServiceFixtures.provider("vllm", "vllm", baseURL: "http://127.0.0.1:\(ChildProcess.closedPort())/v1",
                                                 unit: "/etc/systemd/system/vllm-qwen.service")])
        _ = try run(["enable", "redis", "--yes", "--system"], context(), config)
        _ = try run(["disable", "vllm", "-y"], context(), config)
        #expect(calls() == [
            ["show", "--property=LoadState", "--value", "--", "redis-server.service"],
            ["enable", "--", "redis-server.service"],
            ["show", "--property=LoadState", "--value", "--", "vllm-qwen.service"],
            ["disable", "--", "vllm-qwen.service"],
        ])
    }

    @Test func unitFromAProviderServiceFileIsItsBasename() throws {
        let config = ServiceFixtures.config(providers: [
            ServiceFixtures.provider("llama_cpp_python", baseURL: "http://127.0.0.1:\(ChildProcess.closedPort())",
                                     unit: "~/.config/systemd/user/llamacpp-python.service"),
        ])
        _ = try run(["stop", "llama_cpp_python", "--yes"], context(), config)
        #expect(calls().last == ["--user", "stop", "--", "llamacpp-python.service"])
    }

    @Test func scriptsMustPassYes() throws {
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("ollama", 11434, unit: "ollama.service")])
        let e = try #require(throws: UsageError.self) { try run(["start", "ollama"], context(), config) }
        #expect(e.message == "service start: refusing to start 'ollama' without confirmation; pass --yes in scripts")
        #expect(calls().isEmpty)
    }

    @Test func interactiveUseAsksAndANoDoesNothing() throws {
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("ollama", 11434, unit: "ollama.service")])
        let ctx = context(interactive: true)
        let log = try ServiceActionLog()
        ctx.recorder = log.recorder
        var asked: [String] = []
        ctx.state(ServiceSettings.self) { ServiceSettings() }.confirm = { q, _ in asked.append(q); return false }
        let r = try run(["stop", "ollama"], ctx, config)
        #expect(asked == ["stop 'ollama' (systemctl --user stop -- ollama.service)? [y/N] "])
        #expect(r.text == "not confirmed: nothing done")
        #expect(r.field("done") == .bool(false))
        #expect(r.jsonForm.serialized() == #"{"status":"ok","action":"stop","service":"ollama","unit":null,"scope":null,"done":false,"healthy":null,"wait_ms":null,"text":"not confirmed: nothing done"}"#)
        #expect(calls().map { $0[1] } == ["show"])
        #expect(try log.rows().isEmpty)

        ctx.state(ServiceSettings.self) { ServiceSettings() }.confirm = { _, _ in true }
        let yes = try run(["stop", "ollama"], ctx, config)
        #expect(yes.text == "ollama: ollama.service stopped (systemctl --user stop -- ollama.service)")
        #expect(calls().last == ["--user", "stop", "--", "ollama.service"])
        #expect(try log.rows().map(\.action) == ["stop"])
    }

    @Test func unknownServiceGetsADidYouMean() throws {
        let config = ServiceFixtures.config(
            ports: [ServiceFixtures.port("ollama", 11434, unit: "ollama.service"),
                    ServiceFixtures.port("litellm_gateway", 4000, unit: "litellm.service")])
        let e = try #require(throws: UsageError.self) { try run(["start", "olama", "--yes"], context(), config) }
        #expect(e.message == "unknown service 'olama' — did you mean 'ollama'? (known: ollama, litellm_gateway)")
        let a = try #require(throws: UsageError.self) { try run(["strat", "ollama", "--yes"], context(), config) }
        #expect(a.message == "service: unknown action 'strat' (did you mean 'start'?)")
        let m = try #require(throws: UsageError.self) { try run(["start"], context(), config) }
        #expect(m.message == "service start: missing NAME")
    }

    @Test func missingSystemctlIsAClearError() throws {
        let empty = try TemporaryDirectory()
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("ollama", 11434, unit: "ollama.service")])
        let ctx = ServiceFixtures.context(path: empty.path)
        let e = try #require(throws: ServiceControlError.self) { try run(["start", "ollama", "--yes"], ctx, config) }
        #expect(e.message == "service start: systemctl not found on PATH: aish controls services through systemd")
    }

    @Test func unitNotFoundIsAClearErrorNamingTheConfigEntry() throws {
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("ollama", 11434, unit: "ollama.service", line: 21)])
        let e = try #require(throws: ServiceControlError.self) {
            try run(["start", "ollama", "--yes"], context(["LOAD_STATE": "not-found"]), config)
        }
        #expect(e.message == "service start: unit 'ollama.service' not found (systemctl --user); configured at ports.yaml:21:1")
        #expect(calls().count == 1)
    }

    @Test func serviceWithoutAUnit() throws {
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("llama_cpp_native", 8080, unit: "null", line: 39)])
        let e = try #require(throws: ServiceControlError.self) { try run(["start", "llama_cpp_native", "--yes"], context(), config) }
        #expect(e.message == "service start: 'llama_cpp_native' has no systemd unit (set `service:` in ports.yaml or `service_file:` in providers.yaml, entry at ports.yaml:39:1)")
    }

    @Test func failedActionIsRecordedAndReported() throws {
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("ollama", 11434, unit: "ollama.service")])
        let ctx = context(["FAIL_ACTION": "start"])
        let log = try ServiceActionLog()
        ctx.recorder = log.recorder
        let e = try #require(throws: ServiceControlError.self) { try run(["start", "ollama", "--yes"], ctx, config) }
        let said = "Job for ollama.service failed because the control process exited with error code."
        #expect(e.message == "service start ollama: systemctl --user start -- ollama.service failed (exit 1): \(said)")
        #expect(try log.rows() == [
            ServiceActionLog.Row(action: "start", service: "ollama", unit: "ollama.service", ok: false, output: said),
        ])
    }

    @Test func startThatNeverBecomesHealthyFailsAfterTheBoundedWait() throws {
        let port = ChildProcess.closedPort()
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("vllm_qwen", port, unit: "vllm-qwen.service")])
        let r = try run(["start", "vllm_qwen", "--yes", "--timeout", "1s"], context(), config)
        #expect(r.status == .error)
        #expect(r.field("healthy") == .bool(false))
        // Said once, with the action and the service, like the other service errors. The time
        // is the one measured: a loaded machine may see the last poll end a tenth later.
        let said = try #require(r.error)
        #expect(said == "service start vllm_qwen: not healthy after 1 s: port \(port) not listening"
            || said == "service start vllm_qwen: not healthy after 1.1 s: port \(port) not listening", "\(said)")
        #expect(r.jsonForm["error"] == .string(r.error!))
        try ReportAgreement.check(r, ["healthy", "done"], report: ReportShape(ServiceReport.self))
    }

    @Test func completionOffersEveryNameOfEveryService() {
        let config = ServiceFixtures.config(
            ports: [ServiceFixtures.port("ollama", 11434, unit: "ollama.service")],
            providers: [ServiceFixtures.provider("ollama_local", "ollama", baseURL: "http://localhost:11434"),
                        ServiceFixtures.provider("llama_cpp_native", baseURL: "http://127.0.0.1:8080")])
        #expect(ServiceTargets.from(config).flatMap(\.names) == ["ollama", "ollama_local", "ollama.service", "llama_cpp_native"])
        #expect(ServiceCommands.serviceSpec.subcommands == ["start", "stop", "restart", "enable", "disable"])
    }
}
