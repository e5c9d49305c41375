import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishProviders
@testable import AishSQLite
@testable import AishSessionLog

/// A config directory whose providers point at a running fake provider, plus a real
/// session log, for running the provider commands the way the shell does.
final class ProviderCommandBench {
    let fake: FakeProviderProcess
    let directory: String
    let downPort = FakeProviderProcess.unusedPort()
    let ctx: ShellContext
    let dbPath: String

    init(fakeArguments: [String] = [], environment: [String: String] = [:]) throws {
        fake = try FakeProviderProcess(fakeArguments)
        var template = Array("/tmp/aish-providers-XXXXXX".utf8CString)
        directory = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        let base = fake.baseURL
        try """
            providers:
              vllm_fake:
                type: vllm
                base_url: \(base)
                status: active
                health_endpoint: /health
                models:
                  - fake-model
                  - missing-model
              ollama_fake:
                type: ollama
                base_url: \(base)
                status: active
                models:
                  - name: fake-model
              down:
                type: llama_cpp
                base_url: http://127.0.0.1:\(downPort)
                status: active
                models: [gone-model]
              off:
                type: vllm
                base_url: http://127.0.0.1:8002
                status: disabled
              cloud:
                type: openai
                base_url: \(base)/v1
                status: active
                requires_api_key: true
                env_var: FAKE_CLOUD_KEY
                models: [fake-model-2]
            health_checks:
              timeout_seconds: 2
            """.write(toFile: directory + "/providers.yaml", atomically: true, encoding: .utf8)
        try """
            exact_matches:
              fake:
                provider: vllm_fake
                backend_model: fake-model
            """.write(toFile: directory + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        try """
            fake_server:
              port: \(fake.port)
              protocol: http
              required: true
              service: fake.service
            fake_twin:
              port: \(fake.port)
              protocol: http
              required: false
            gone:
              port: \(downPort)
              protocol: http
              required: true
            reserved:
              later:
                port: \(downPort)
                description: "not yet"
            """.write(toFile: directory + "/ports.yaml", atomically: true, encoding: .utf8)
        dbPath = directory + "/aish.db"
        var options = GlobalOptions()
        options.configDirectory = directory
        ctx = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: environment)
        let log = try SessionLog(path: dbPath)
        try log.beginSession(mode: "script", scriptPath: nil, aishVersion: "test")
        ctx.recorder = SessionLogRecorder(log: log, secrets: ctx.output.secrets, output: OutputSink(capturing: true))
    }

    func stop() {
        fake.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func run(_ words: [String]) throws -> CommandResult {
        try TestShell(ctx).run(words)
    }

    func errorText(_ words: [String]) -> String? { TestShell(ctx).errorText(words) }

    /// Rows of the session log's health_probes table: provider, ok, http status, error.
    func probeRows() throws -> [String] {
        let db = try Database(path: dbPath)
        let s = try db.prepare("SELECT provider, ok, http_status, error FROM health_probes ORDER BY id")
        var out: [String] = []
        while try s.step() { out.append("\(s.string(0)) \(s.int(1)) \(s.int(2)) \(s.string(3))") }
        return out
    }

    /// The text with every "N ms" latency replaced by "# ms" padded to the same width, so
    /// that a table can be compared whole.
    static func masked(_ text: String) -> String {
        let regex = try! NSRegularExpression(pattern: #"\b\d+ ms( *)"#)
        var out = text
        for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
            let range = Range(m.range, in: out)!
            let width = out[range].count
            out.replaceSubrange(range, with: "# ms" + String(repeating: " ", count: max(0, width - 4)))
        }
        return out
    }
}

@Suite(.serialized) struct ProviderCommandTests {
    @Test func providersTable() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        let r = try b.run(["providers"])
        #expect(r.status == .ok)
        let base = b.fake.baseURL
        var t = TextTable(headers: ["NAME", "TYPE", "STATUS", "URL", "UP", "LATENCY", "MODELS", "NOTE"])
        t.add(["vllm_fake", "vllm", "active", base, "up", "# ms", "2", ""])
        t.add(["ollama_fake", "ollama", "active", base, "up", "# ms", "2", ""])
        t.add(["down", "llama_cpp", "active", "http://127.0.0.1:\(b.downPort)", "down", "-", "-",
               "connection failed: Failed to connect to 127.0.0.1 port \(b.downPort): Couldn't connect to server"])
        t.add(["off", "vllm", "disabled", "http://127.0.0.1:8002", "-", "-", "-", "not probed (disabled)"])
        t.add(["cloud", "openai", "active", base + "/v1", "-", "-", "-", "not probed: API key variable FAKE_CLOUD_KEY is not set"])
        #expect(ProviderCommandBench.masked(r.text) == t.rendered + "2 up, 1 down, 2 not probed\n")
        #expect(r.field("up") == 2)
        #expect(r.field("down") == 1)
        #expect(r.field("not_probed") == 2)
        #expect(r.field("latency_ms")?.doubleValue != nil)
        let rows = try #require(r.data?["providers"])
        #expect(rows[0]?["up"] == true)
        #expect(rows[0]?["models_served"] == 2)
        #expect(rows[0]?["models_declared"] == 2)
        #expect(rows[2]?["up"] == false)
        #expect(rows[3]?["probed"] == false)
        #expect(rows[3]?["note"] == "not probed (disabled)")
        // One name for a latency: `latency_ms` on top (the slowest) and in each row.
        #expect(rows[0]?["latency_ms"]?.doubleValue != nil)
        #expect(rows[0]?["latency"] == nil)
        #expect(rows[2]?["latency_ms"] == .null)
        try ReportAgreement.check(r, ["up", "down", "not_probed", "total", "latency_ms"], report: ReportShape(ProvidersReport.self))
    }

    @Test func providersJSONWithAKey() throws {
        let b = try ProviderCommandBench(environment: ["FAKE_CLOUD_KEY": "sk-fake-123"])
        defer { b.stop() }
        let r = try b.run(["providers"])
        #expect(r.field("up") == 3)
        let cloud = try #require(r.data?["providers"]?[4])
        #expect(cloud["up"] == true)
        #expect(cloud["models_served"] == 2)
        #expect(!r.jsonForm.serialized().contains("sk-fake-123"))
        #expect(try b.fake.receivedRequests().contains { $0["headers"]?["Authorization"] == "Bearer sk-fake-123" })
    }

    @Test func healthOfEveryActiveProvider() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        let r = try b.run(["health"])
        #expect(r.status == .error)
        #expect(r.error == "health: 1 of 3 unhealthy: down")
        #expect(r.field("up") == 2)
        #expect(r.field("down") == 1)
        let lines = ProviderCommandBench.masked(r.text).components(separatedBy: "\n")
        #expect(lines[1].hasPrefix("vllm_fake    health  \(b.fake.baseURL)/health "))
        #expect(lines[1].hasSuffix("  200   # ms     ok"))
        #expect(lines[2].hasPrefix("ollama_fake  health  \(b.fake.baseURL)/api/version"))
        #expect(lines[3].hasSuffix("-     -        connection failed: Failed to connect to 127.0.0.1 port \(b.downPort): Couldn't connect to server"))
        #expect(lines[4].hasPrefix("off          -       http://127.0.0.1:8002"))
        #expect(lines[4].hasSuffix("not probed (disabled)"))
        #expect(lines[5].hasSuffix("not probed: API key variable FAKE_CLOUD_KEY is not set"))
        #expect(lines[6] == "1 of 3 unhealthy: down")
        try ReportAgreement.check(r, ["up", "down", "latency_ms"], report: ReportShape(HealthReport.self))
        #expect(r.jsonForm["probes"]?[0]?["latency_ms"]?.doubleValue != nil)
        #expect(r.jsonForm["skipped"]?[0]?["url"] == "http://127.0.0.1:8002")
        #expect(r.jsonForm["error"] == "health: 1 of 3 unhealthy: down")
        #expect(r.field("provider") == .null)
        #expect(r.field("http_status") == .null)
        #expect(try b.probeRows() == [
            "vllm_fake 1 200 ", "ollama_fake 1 200 ",
            "down 0 0 GET http://127.0.0.1:\(b.downPort)/v1/models: connection failed: Failed to connect to 127.0.0.1 port \(b.downPort): Couldn't connect to server",
        ])
    }

    @Test func healthOfNamedProvidersWithGenerate() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        let r = try b.run(["health", "vllm_fake", "ollama_fake", "--generate"])
        #expect(r.status == .ok)
        #expect(r.field("up") == 2)
        #expect(r.field("down") == 0)
        let probes = try #require(r.data?["probes"])
        #expect(probes[1]?["check"] == "generate")
        #expect(probes[1]?["model"] == "fake-model")
        #expect(probes[1]?["reply"] == "Hello")
        #expect(probes[3]?["url"] == .string("\(b.fake.baseURL)/api/chat"))
        #expect(r.text.contains("generate fake-model"))
        #expect(r.text.hasSuffix("2 of 2 healthy\n"))
        let sent = try b.fake.receivedRequests().filter { $0["path"] == "/v1/chat/completions" }
        #expect(sent.first?["body"]?["max_tokens"] == 1)
        #expect(try b.probeRows().count == 4)
    }

    @Test func healthSingleProviderFieldsAndLoadingModel() throws {
        let b = try ProviderCommandBench(fakeArguments: ["--fault", "503-loading"])
        defer { b.stop() }
        let r = try b.run(["health", "vllm_fake"])
        #expect(r.status == .error)
        #expect(r.field("provider") == "vllm_fake")
        #expect(r.field("http_status") == 503)
        #expect(r.text.contains("  503   -        HTTP 503 Service Unavailable: Loading model\n"))
        try ReportAgreement.check(r, ["provider", "http_status", "up", "down"], report: ReportShape(HealthReport.self))
    }

    @Test func healthOfAnUnknownProviderSuggestsOne() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        #expect(b.errorText(["health", "vlm_fake"]) == "health: no provider 'vlm_fake' in \(b.directory)/providers.yaml (did you mean 'vllm_fake'?)"
            + "\nusage: " + ProviderCommands.health.usage)
    }

    @Test func modelsDeclaredVersusServed() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        // Ollama marks the models it has loaded: chat once so that /api/ps lists fake-model.
        _ = chat(b.fake.provider(type: .ollama))
        let r = try b.run(["models", "ollama_fake"])
        #expect(r.status == .ok)
        #expect(r.text == """
            PROVIDER     MODEL         DECLARED  SERVED  NOTE
            ollama_fake  fake-model    yes       yes     loaded
            ollama_fake  fake-model-2  no        yes     unexpected
            2 served, 1 declared, 0 missing, 1 unexpected

            """)
        let all = try b.run(["models"])
        #expect(all.status == .error)
        #expect(all.error == "models: could not list the models of down")
        #expect(all.field("missing") == 1)
        #expect(all.field("unexpected") == 2)
        #expect(all.field("unreachable") == 1)
        #expect(all.text.contains("vllm_fake    missing-model  yes       no      missing\n"))
        #expect(all.text.contains("down         gone-model     yes       ?       connection failed: "))
        let vllm = try #require(all.data?["providers"]?[0]?["models"])
        #expect(vllm[1]?["name"] == "missing-model")
        #expect(vllm[1]?["missing"] == true)
        try ReportAgreement.check(all, ["declared", "served", "missing", "unexpected", "unreachable"], report: ReportShape(ModelsReport.self))
        #expect(all.jsonForm["providers"]?[2]?["error"]?.stringValue?.hasPrefix("GET http://127.0.0.1:\(b.downPort)/v1/models: connection failed") == true)
    }

    @Test func portsListeningAndConflicts() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        let r = try b.run(["ports"])
        let p = String(b.fake.port), d = String(b.downPort)
        var t = TextTable(headers: ["SERVICE", "PORT", "PROTOCOL", "REQUIRED", "UNIT", "LISTENING", "NOTE"])
        t.add(["fake_server", p, "http", "yes", "fake.service", "yes", "conflict: port also registered for fake_twin"])
        t.add(["fake_twin", p, "http", "no", "-", "yes", "conflict: port also registered for fake_server"])
        t.add(["gone", d, "http", "yes", "-", "no", "conflict: port also registered for later; required but not listening"])
        t.add(["later", d, "-", "reserved", "-", "no", "conflict: port also registered for gone"])
        #expect(r.text == t.rendered + "2 of 4 listening, 4 conflicts, 1 required not listening\n")
        #expect(r.field("listening") == 2)
        #expect(r.field("conflicts") == 4)
        #expect(r.field("required_down") == 1)
        #expect(r.data?["ports"]?[0]?["listening"] == true)
    }

    @Test func waitReturnsOnceHealthy() throws {
        let b = try ProviderCommandBench(fakeArguments: ["--fail-all", "503"])
        defer { b.stop() }
        let fake = b.fake
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.6)
            try? fake.configure(.object([("fail_all", 0)]))
        }
        let r = try b.run(["wait", "vllm_fake", "--timeout", "10s", "--interval", "200ms"])
        #expect(r.status == .ok)
        #expect((r.field("probes")?.intValue ?? 0) >= 2)
        #expect(r.text.hasPrefix("vllm_fake is healthy (after "))
        try ReportAgreement.check(r, ["provider", "waited_ms", "probes", "latency_ms", "text"], report: ReportShape(WaitReport.self))
        #expect(try b.probeRows() == ["vllm_fake 1 200 "])
    }

    @Test func waitTimesOut() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        var message: String?
        let took = elapsed { message = b.errorText(["wait", "down", "--timeout", "600ms", "--interval", "200ms"]) }
        #expect(message?.hasPrefix("wait: provider 'down' is not healthy after 600 ms (") == true)
        #expect(message?.hasSuffix(" probes; last: GET http://127.0.0.1:\(b.downPort)/v1/models: connection failed: Failed to connect to 127.0.0.1 port \(b.downPort): Couldn't connect to server)") == true)
        #expect(took < 3)
    }

    /// Waiting cannot heal a disabled provider, a missing API key or an unknown name: each
    /// fails on the spot with the reason, without a single probe (issue 16.5).
    @Test func waitFailsAtOnceOnWhatCannotHeal() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        let path = b.directory + "/providers.yaml"
        #expect(b.errorText(["wait", "off", "--timeout", "3s"])
            == "wait: provider 'off' has status disabled in \(path), so it never becomes healthy (set status: active to use it)")
        #expect(b.errorText(["wait", "cloud", "--timeout", "3s"])
            == "wait: provider 'cloud' needs an API key: set the environment variable FAKE_CLOUD_KEY; waiting would not change that")
        #expect(b.errorText(["wait", "clod", "--timeout", "3s"]) == "wait: no provider 'clod' in \(path) (did you mean 'cloud'?)"
            + "\nusage: " + ProviderCommands.wait.usage)
        #expect(try b.probeRows() == [])
    }

    @Test func waitStopsOnInterrupt() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        raise(b.ctx.interrupt, after: 0.4)
        var message: String?
        let took = elapsed { message = b.errorText(["wait", "down", "--timeout", "30s"]) }
        #expect(message == "wait: interrupted while waiting for 'down'")
        #expect(took < 2)
    }

    @Test func completionOffersProviderNames() throws {
        let b = try ProviderCommandBench()
        defer { b.stop() }
        #expect(ProviderCommands.providerNames(b.ctx) == ["vllm_fake", "ollama_fake", "down", "off", "cloud"])
    }
}
