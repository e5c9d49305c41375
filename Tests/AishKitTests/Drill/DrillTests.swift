import Foundation
import Testing
@testable import AishBase
@testable import AishSessionLog

/// `drill` against fake providers: a chain that works, chains that are broken on purpose,
/// a gateway that speaks LiteLLM's headers and fault switch, and --kill with a stand-in
/// systemctl that really stops and starts a fake provider.
@Suite(.serialized) struct DrillTests {
    static let mappings = """
        exact_matches:
          m1:
            provider: one
            backend_model: one-model
          m2:
            provider: two
            backend_model: two-model
          gm1:
            provider: gw
            backend_model: m1
          solo:
            provider: one
            backend_model: one-model
          broken:
            provider: one
            backend_model: one-model
          down:
            provider: dead
            backend_model: dead-model
        fallback_chains:
          m1:
            chain: [m2]
          gm1:
            chain: [m1]
          broken:
            chain: [down]
          down:
            chain: []

        """

    let one: FakeProviderProcess
    let two: FakeProviderProcess
    let gateway: FakeProviderProcess
    let deadPort = FakeProviderProcess.unusedPort()

    init() throws {
        one = try FakeProviderProcess(["--reply", "from one"])
        two = try FakeProviderProcess(["--reply", "from two"])
        gateway = try FakeProviderProcess(["--reply", "through the gateway", "--gateway", JSONValue.object([
            ("groups", .object([("m1", .string(one.baseURL + "/v1")), ("m2", .string(two.baseURL + "/v1"))])),
            ("fallbacks", .object([("m1", .array([.string("m2")]))])),
            ("overhead_ms", .double(4.25)),
        ]).serialized()])
    }

    func bench(environment: [String: String] = [:], extraOne: String = "") throws -> ChatBench {
        try ChatBench(providers: [
            (name: "one", type: "vllm", url: one.baseURL, extra: extraOne),
            (name: "two", type: "vllm", url: two.baseURL, extra: ""),
            (name: "dead", type: "vllm", url: "http://127.0.0.1:\(deadPort)", extra: "timeouts:\n  connect: 1"),
            (name: "gw", type: "litellm", url: gateway.baseURL, extra: "models:\n  - name: m1\n  - name: m2"),
        ], mappings: Self.mappings, environment: environment)
    }

    func stop() { one.stop(); two.stop(); gateway.stop() }

    @Test func directAndGatewayDrillsPassWhenTheNextTargetAnswers() throws {
        defer { stop() }
        let b = try bench()
        defer { b.cleanUp() }
        let r = try b.run(["drill", "m1", "gm1"])
        #expect(r.status == .ok, "\(r.text)")
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(r.text)")
        #expect(lines[0].hasPrefix("NAME  VIA      FAILED           EXPECTED NEXT    ANSWERED BY      TIME"), "\(r.text)")
        #expect(lines[1].hasPrefix("m1    direct   one · one-model  two · two-model  two · two-model  "), "\(r.text)")
        #expect(lines[2].hasPrefix("m1    gateway  one · one-model  two · two-model  two (group m2)   "), "\(r.text)")
        #expect(lines[3].hasPrefix("gm1   direct   gw · m1          one · one-model  one · one-model  "), "\(r.text)")
        #expect(lines[4].hasPrefix("gm1   gateway  one · one-model  two · two-model  two (group m2)   "), "\(r.text)")
        #expect(lines[1...4].allSatisfy { $0.hasSuffix("  pass") }, "\(r.text)")
        #expect(lines[5] == "4 passed, 0 failed")
        #expect(r.int("passed") == 4)
        // Nothing was sent to the marked target; the gateway got the fault switch.
        let oneBodies = try one.receivedRequests().compactMap { $0["body"] }
        #expect(oneBodies.count == 1, "only gm1's direct drill answers from one: \(oneBodies)")
        let gwBodies = try gateway.receivedRequests().compactMap { $0["body"] }
        #expect(gwBodies.count == 2, "gm1's direct drill marks gw: nothing sent")
        #expect(gwBodies.filter { $0["mock_testing_fallbacks"] == .bool(true) }.count == 2)
        // Logged: a run per drill, the marked target as a skipped attempt (no error counted).
        let reader = try SessionLogReader(path: b.databasePath)
        let runs = try reader.db.prepare("SELECT count(*) FROM runs WHERE kind = 'drill'")
        _ = try runs.step()
        #expect(runs.int(0) == 4)
        let attempts = try b.attempts().filter { $0.kind == "drill" }
        #expect(attempts.first?.status == "skipped")
        #expect(attempts.first?.error == "drill: marked failed for this request (not sent)")
        #expect(attempts.contains { $0.gateway?.deployment == "two" && $0.gateway?.attemptedFallbacks == 1 })
    }

    @Test func aBrokenChainFailsTheDrillAndExitsOne() throws {
        defer { stop() }
        let b = try bench()
        defer { b.cleanUp() }
        let r = try b.run(["drill", "broken", "--via", "direct", "--timeout", "2s"])
        #expect(r.status == .error)
        #expect(r.error == "drill: 1 of 1 drill failed")
        let row = try #require(r.field("results")?[0])
        #expect(row["passed"] == .bool(false))
        #expect(row["expected"] == .string("dead · dead-model"))
        #expect(row["answered_by"] == .null)
        #expect(row["error"]?.stringValue?.hasPrefix("'broken' failed on every target") == true, "\(row.serialized())")
        #expect(r.text.contains("broken  direct  one · one-model  dead · dead-model  -"), "\(r.text)")
    }

    @Test func aNameWithoutFallbackOrGatewayIsReportedAsSuch() throws {
        defer { stop() }
        let b = try bench()
        defer { b.cleanUp() }
        let r = try b.run(["drill", "solo", "--via", "direct"])
        #expect(r.status == .error)
        #expect(r.field("results")?[0]?["error"]
            == .string("'solo' has no fallback: its plan has one target that can be tried now (see: route solo)"))
        // A gateway group without a fallback: the gateway answers 500 to the fault switch.
        let g = try b.run(["drill", "m2", "--via", "gateway"])
        #expect(g.status == .error)
        #expect(g.field("results")?[0]?["error"]?.stringValue == "model group 'm2' has no fallback the gateway could use (see: route m2)")
        // The gateway serves every name of its generated config, listed under it or not.
        let solo = try b.run(["drill", "solo", "--via", "gateway"])
        #expect(solo.field("results")?[0]?["error"]?.stringValue == "model group 'solo' has no fallback the gateway could use (see: route solo)")
        // A name routed by the default provider is no model group of the gateway.
        let none = try b.run(["drill", "not-configured-anywhere", "--via", "gateway"])
        #expect(none.field("results")?[0]?["error"]?.stringValue
            == "no LiteLLM gateway serves 'not-configured-anywhere' (none is its first target, lists it under models, or has it as a model group or alias in its generated config)")
    }

    /// LiteLLM refuses the fault switch unless its config opts in; the drill says how.
    @Test func aGatewayThatRefusesTheFaultSwitchIsExplained() throws {
        defer { stop() }
        try gateway.configure(.object([("gateway", .object([
            ("groups", .object([("m1", .string(one.baseURL + "/v1"))])), ("allow_mock", .bool(false)),
        ]))]))
        let b = try bench()
        defer { b.cleanUp() }
        let r = try b.run(["drill", "gm1", "--via", "gateway"])
        #expect(r.status == .error)
        #expect(r.field("results")?[0]?["error"] == .string(
            "gw refuses LiteLLM's fault switch mock_testing_fallbacks: set `allow_drills: true` on gw in providers.yaml, run `config generate` (it sets general_settings.dangerously_allow_mock_testing_request_params) and restart the gateway"))
    }

    @Test func killWithoutAServiceUnitSaysSo() throws {
        defer { stop() }
        let b = try bench()
        defer { b.cleanUp() }
        let e = try #require(throws: CommandFailure.self) { try b.run(["drill", "--kill", "two", "--yes"]) }
        #expect(e.message.hasPrefix("drill --kill two: 'two' has no service unit to stop (set `service:` in ports.yaml or `service_file:` in providers.yaml, entry at "), "\(e.message)")
    }

    /// --kill stops `one` for real through a stand-in systemctl, drills the names that start
    /// on it (m1 and solo-free ones), starts it again and waits until it answers.
    @Test func killStopsTheProviderDrillsAndStartsItAgain() throws {
        defer { stop() }
        let dir = try TemporaryDirectory()
        let port = FakeProviderProcess.unusedPort()
        let pidFile = dir.path + "/pid"
        try dir.executable("systemctl", """
            #!/bin/sh
            for a in "$@"; do printf '%s ' "$a" >> "\(dir.path)/calls"; done; echo >> "\(dir.path)/calls"
            for a in "$@"; do
              case "$a" in
                show) echo loaded; exit 0 ;;
                stop) kill "$(cat \(pidFile))"; while kill -0 "$(cat \(pidFile))" 2>/dev/null; do sleep 0.05; done; exit 0 ;;
                start) python3 \(FakeProviderProcess.scriptPath) --port \(port) --reply "one again" >/dev/null 2>&1 </dev/null &
                       echo $! > \(pidFile); exit 0 ;;
              esac
            done
            """)
        let env = ["PATH": dir.path + ":/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        let b = try ChatBench(providers: [
            (name: "local", type: "vllm", url: "http://127.0.0.1:\(port)", extra: "service: local.service\nhealth_endpoint: /health"),
            (name: "two", type: "vllm", url: two.baseURL, extra: ""),
        ], mappings: """
            exact_matches:
              lm:
                provider: local
                backend_model: local-model
              m2:
                provider: two
                backend_model: two-model
            fallback_chains:
              lm:
                chain: [m2]

            """, environment: env)
        defer {
            if let pid = try? String(contentsOfFile: pidFile, encoding: .utf8), let p = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(p, SIGTERM)
            }
            b.cleanUp()
        }
        // The service runs before the drill.
        let out = try ExternalProgram(name: "systemctl", environment: env).run(["--user", "start", "--", "local.service"],
                                                                                timeout: 5, interrupt: InterruptFlag())
        #expect(out.succeeded)
        var wait = try b.run(["wait", "local", "--timeout", "10s"])
        #expect(wait.status == .ok)

        // A script must pass --yes.
        let refused = try #require(throws: UsageError.self) { try b.run(["drill", "--kill", "local"]) }
        #expect(refused.message == "drill --kill: refusing to stop 'local' without confirmation; pass --yes in scripts")

        let r = try b.run(["drill", "--kill", "local", "--yes", "--via", "direct", "--timeout", "10s"])
        #expect(r.status == .ok, "\(r.text) \(r.error ?? "")")
        #expect(r.field("killed") == .string("local"))
        #expect(r.field("results")?[0]?["name"] == .string("lm"))
        #expect(r.field("results")?[0]?["failed_target"] == .string("local (stopped)"))
        #expect(r.field("results")?[0]?["answered_by"] == .string("two · two-model"))
        let calls = dir.read("calls") ?? ""
        #expect(calls.contains("--user stop -- local.service"), "\(calls)")
        #expect(calls.contains("--user start -- local.service"), "\(calls)")
        // Healthy again afterwards: the real attempt on the stopped service failed for real.
        wait = try b.run(["wait", "local", "--timeout", "10s"])
        #expect(wait.status == .ok)
        let attempts = try b.attempts().filter { $0.kind == "drill" }
        #expect(attempts.map(\.provider) == ["local", "two"])
        #expect(attempts.map(\.status) == ["error", "ok"])
    }
}
