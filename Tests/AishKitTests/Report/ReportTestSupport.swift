import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishReport
@testable import AishSQLite
@testable import AishSessionLog

/// A whole small stack of fakes for `report`: two llama.cpp servers, a LiteLLM gateway
/// (its /health lists one healthy and two unhealthy deployments, one of which aish finds
/// up), an Ollama provider that is down, Prometheus (one target down), Grafana and Redis
/// (the real redis-server when installed, else the RESP fake), a config directory for it
/// and a session log.
final class ReportBench {
    static let gatewayKey = "report-test-key"

    let python: FakeProviderProcess
    let native: FakeProviderProcess
    let gateway: FakeProviderProcess
    let prometheus: FakeProviderProcess?
    let grafana: FakeProviderProcess?
    let redis: RedisTestServer?
    let downPort = FakeProviderProcess.unusedPort()
    let directory: String
    let dbPath: String
    let ctx: ShellContext

    struct Options {
        var monitoring = true
        var gatewayKeySet = true
        var brokenConfig = false
    }

    init(_ options: Options = Options()) throws {
        python = try FakeProviderProcess(["--flavor", "llamacpp", "--models", "smollm2-135m", "--reply", "OK", "--name", "python"])
        native = try FakeProviderProcess(["--flavor", "llamacpp", "--models", "smollm2-135m", "--reply", "OK", "--name", "native"])
        let health = JSONValue.object([
            ("healthy_endpoints", .array([.object([("model", "openai/smollm2-135m"), ("api_base", .string(python.baseURL + "/v1"))])])),
            ("unhealthy_endpoints", .array([
                .object([("model", "openai/smollm2-135m"), ("api_base", .string(native.baseURL + "/v1")),
                         ("error", "litellm.BadRequestError: OpenAIException - max_tokens must be at least 2\nstack trace: Traceback (most recent call last): …")]),
                .object([("model", "ollama_chat/llama3.2:1b"), ("api_base", .string("http://127.0.0.1:\(downPort)")),
                         ("error", "litellm.APIConnectionError: OllamaException - [Errno 111] Connection refused")]),
            ])),
            ("healthy_count", 1), ("unhealthy_count", 2),
        ])
        gateway = try FakeProviderProcess([
            "--require-key", ReportBench.gatewayKey, "--litellm-health", health.serialized(), "--reply", "OK", "--name", "gateway",
            "--models", "smollm2-python,smollm2-native,llama3.2:1b",
            "--response-headers", JSONValue.object([("x-litellm-model-api-base", .string(python.baseURL + "/v1"))]).serialized(),
        ])
        if options.monitoring {
            prometheus = try FakeProviderProcess(["--prometheus-targets", """
                [{"job": "litellm", "instance": "127.0.0.1:4000", "health": "up"},
                 {"job": "node", "instance": "127.0.0.1:9100", "health": "down", "lastError": "connection refused"}]
                """])
            grafana = try FakeProviderProcess(["--grafana-health", #"{"commit": "abc123", "database": "ok", "version": "11.2.0"}"#])
            redis = try RedisTestServer.real() ?? RedisTestServer(fakeArguments: ["--keys", "5", "--cache-keys", "3"])
        } else {
            prometheus = nil
            grafana = nil
            redis = nil
        }
        var template = Array("/tmp/aish-report-XXXXXX".utf8CString)
        directory = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        try """
            providers:
              llama_python:
                type: llama_cpp
                base_url: \(python.baseURL)
                status: active
                health_endpoint: /v1/models
                models:
                  - name: smollm2-135m
              llama_native:
                type: llama_cpp
                base_url: \(native.baseURL)
                status: active
                health_endpoint: /health
                models:
                  - name: smollm2-135m
              gateway:
                type: litellm
                base_url: \(gateway.baseURL)
                status: active
                requires_api_key: true
                env_var: REPORT_GATEWAY_KEY
                models:
                  - name: smollm2-python
              ollama:
                type: ollama
                base_url: http://127.0.0.1:\(downPort)
                status: active
                models:
                  - name: llama3.2:1b
              spare:
                type: vllm
                base_url: http://127.0.0.1:8002
                status: disabled
                models: [qwen]
            health_checks:
              timeout_seconds: 2
            """.write(toFile: directory + "/providers.yaml", atomically: true, encoding: .utf8)
        try """
            exact_matches:
              smollm2-python:
                provider: llama_python
                backend_model: smollm2-135m
                fallback: llama_native
              smollm2-native:
                provider: llama_native
                backend_model: smollm2-135m
              llama3.2:1b:
                provider: ollama
                fallback: llama_python
              gateway-python:
                provider: gateway
                backend_model: smollm2-python
            fallback_chains:
              llama3.2:1b:
                chain: [smollm2-native]
            \(options.brokenConfig ? "  smollm2-native:\n    chain: [smollm2-native]\n" : "")
            """.write(toFile: directory + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        var ports = """
            llama_python:
              port: \(python.port)
              protocol: http
              required: true
            ollama:
              port: \(downPort)
              protocol: http
              required: false
              service: ollama.service

            """
        if let prometheus, let grafana, let redis {
            ports += """
                prometheus:
                  port: \(prometheus.port)
                  protocol: http
                  required: false
                grafana:
                  port: \(grafana.port)
                  protocol: http
                  required: false
                redis:
                  port: \(redis.port)
                  protocol: tcp
                  required: false

                """
        }
        try ports.write(toFile: directory + "/ports.yaml", atomically: true, encoding: .utf8)
        // The gateway file as `config generate` writes it, so the drift check passes.
        let loaded = ConfigLoader.load(directory: directory)
        try LiteLLMGenerator.text(loaded.config).write(toFile: directory + "/litellm-unified.yaml", atomically: true, encoding: .utf8)

        dbPath = directory + "/aish.db"
        var opts = GlobalOptions()
        opts.configDirectory = directory
        opts.databasePath = dbPath
        let environment = options.gatewayKeySet ? ["REPORT_GATEWAY_KEY": ReportBench.gatewayKey] : [:]
        ctx = ShellContext(options: opts, output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: environment)
        let log = try SessionLog(path: dbPath)
        try log.beginSession(mode: "script", scriptPath: nil, aishVersion: "test")
        ctx.recorder = SessionLogRecorder(log: log, secrets: ctx.output.secrets, output: OutputSink(capturing: true))
    }

    func stop() {
        for f in [python, native, gateway, prometheus, grafana].compactMap({ $0 }) { f.stop() }
        redis?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func run(_ words: [String]) throws -> CommandResult {
        let spec = ReportCommands.report
        return try spec.run(spec.parse(words: words, line: (["report"] + words).joined(separator: " "), location: nil), ctx)
    }

    /// The report of a result, decoded from its JSON form.
    static func json(_ r: CommandResult) -> JSONValue { r.jsonForm }

    /// Rows of a query on the session log, each column as text ("NULL" for null).
    func rows(_ sql: String, columns: Int) throws -> [[String]] {
        let db = try Database(path: dbPath)
        let s = try db.prepare(sql)
        var out: [[String]] = []
        while try s.step() { out.append((0..<columns).map { s.isNull($0) ? "NULL" : s.string($0) }) }
        return out
    }

    /// Masks what changes from run to run (times, ports, pids, CPU, memory, host) so a
    /// rendering can be compared with a golden file.
    func masked(_ text: String) -> String {
        var out = text
        let names = [(python.port, "PYTHON"), (native.port, "NATIVE"), (gateway.port, "GATEWAY"), (downPort, "DOWN")]
            + [(prometheus?.port, "PROMETHEUS"), (grafana?.port, "GRAFANA"), (redis?.port, "REDIS")].compactMap { p, n in p.map { ($0, n) } }
        for (port, name) in names { out = out.replacingOccurrences(of: String(port), with: "<\(name)>") }
        out = out.replacingOccurrences(of: directory, with: "<CONFIG>")
        out = out.replacingOccurrences(of: ReportCommands.hostName(), with: "<HOST>")
        let patterns: [(String, String)] = [
            (#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, "<TIME>"),
            (#"\b\d+(\.\d+)? (ms|s|µs)\b"#, "<DURATION>"),
            (#"\b\d+(\.\d+)?%"#, "<PERCENT>"),
            (#"\b\d+(\.\d+)? (MiB|GiB)"#, "<MEMORY>"),
            (#"cooled down until \d\d:\d\d:\d\d"#, "cooled down until <CLOCK>"),
            (#"version [0-9][0-9A-Za-z.\-]*"#, "version <VERSION>"),
            (#"\d+ keys; \d+ LiteLLM cache entries; [0-9.]+[KMG]? used"#, "<REDIS FIGURES>"),
        ]
        for (p, r) in patterns {
            out = out.replacingOccurrences(of: p, with: r, options: .regularExpression)
        }
        // The pid column of the resources table.
        out = out.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let cells = line.components(separatedBy: " | ")
            if cells.count == 5, cells[0].hasPrefix("| "), Int(cells[1]) != nil { return ([cells[0], "<PID>"] + cells[2...]).joined(separator: " | ") }
            return String(line)
        }.joined(separator: "\n")
        return out
    }
}
