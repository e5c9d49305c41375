import Foundation
import Testing
@testable import AishBase

/// The aish binary against the real local stack (scripts/stack up: two llama.cpp servers
/// with SmolLM2-135M and a LiteLLM gateway, config/ of the repository). scripts/e2e sets
/// AISH_E2E_STACK=1 once the stack is up and LITELLM_MASTER_KEY (scripts/stack exec).
@Suite(.enabled(if: StackProcess.enabled, "needs the real local stack: scripts/e2e runs it (AISH_E2E_STACK=1)"),
       .serialized)
struct StackEndToEndTests {
    let aish: StackProcess

    init() throws { aish = try StackProcess() }

    @Test func directChatStreamsFromTheNativeServer() throws {
        // Greedy decoding: a sampled reply can be a single token ("120."), which arrives in one read.
        let run = try aish.run(["-c", "set max_tokens 48; set temperature 0; chat -m smollm2-native Count from one to twenty."])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("llama_cpp_native · smollm2-135m · TTFT "), "status line: \(run.stderr)")
        // Streamed: the reply reaches stdout in several writes spread over the generation.
        #expect(run.stdoutReads >= 3, "reply arrived in \(run.stdoutReads) read(s): \(run.stdout)")
        let row = try aish.attempts("requested_model = 'smollm2-native'").first
        #expect(row?["provider"]?.stringValue == "llama_cpp_native")
        #expect(row?["status"]?.stringValue == "ok")
        let ttft = try #require(row?["ttft_ms"]?.doubleValue)
        let total = try #require(row?["total_ms"]?.doubleValue)
        #expect(ttft < total)
    }

    @Test func chatThroughTheGatewayStreams() throws {
        // Greedy, as above: a sampled reply ("One.") can arrive in one read. The gateway caches
        // replies in Redis by their parameters, seed included: a seed of this run's own keeps a
        // rerun against a stack left up from answering from the cache (in one read).
        let seed = Int.random(in: 1...Int(Int32.max))
        let run = try aish.run(["-c", "set max_tokens 48; set temperature 0; set seed \(seed); chat -m gateway-native Count from one to twenty."])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("litellm_gateway · smollm2-native · TTFT "), "status line: \(run.stderr)")
        #expect(!run.stderr.contains("cache hit"), "status line: \(run.stderr)")
        #expect(run.stdoutReads >= 3, "reply arrived in \(run.stdoutReads) read(s): \(run.stdout)")
        let row = try aish.attempts("requested_model = 'gateway-native'").first
        #expect(row?["provider"]?.stringValue == "litellm_gateway")
        #expect(row?["status"]?.stringValue == "ok")
        let ttft = try #require(row?["ttft_ms"]?.doubleValue)
        let total = try #require(row?["total_ms"]?.doubleValue)
        #expect(ttft < total)
    }

    /// Ollama is configured but does not run: the request lands on the first step of its
    /// fallback chain (the native server, as the gateway would), and the log keeps both
    /// attempts of the one request.
    @Test func failoverFromTheDownOllamaIsObserved() throws {
        let run = try aish.run(["--json", "chat", "-m", "llama3.2:1b", "-o", "max_tokens", "32", "Say hi."])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let result = try JSONValue.parse(run.stdout)
        #expect(result["provider"]?.stringValue == "llama_cpp_native")
        #expect(result["fallback"] == .bool(true))
        #expect(result["fallback_from"]?.stringValue == "ollama")
        let rows = try aish.attempts("requested_model = 'llama3.2:1b'")
        #expect(rows.map { $0["provider"]?.stringValue ?? "?" } == ["ollama", "llama_cpp_native"])
        #expect(rows.map { $0["status"]?.stringValue ?? "?" } == ["error", "ok"])
        #expect(Set(rows.map { $0["request_id"]?.stringValue ?? "?" }).count == 1)
    }

    @Test func metricsReadsTheNativeServerAndTheGateway() throws {
        // One request through the gateway first, so that its request series exist.
        let warm = try aish.run(["-c", "set max_tokens 8; chat -m gateway-python Say hi."])
        #expect(warm.status == 0, "\(warm.stderr)")
        for provider in ["llama_cpp_native", "litellm_gateway"] {
            let run = try aish.run(["--json", "metrics", provider, "--raw"])
            #expect(run.status == 0, "\(provider): \(run.stdout)\(run.stderr)")
            let result = try JSONValue.parse(run.stdout)
            let scraped = try #require(result["providers"]?[0])
            #expect(scraped["ok"] == .bool(true), "\(provider): \(scraped.serialized())")
            let names = Set(elements(of: scraped["samples"]).compactMap { $0["name"]?.stringValue })
            let prefix = provider == "llama_cpp_native" ? "llamacpp:" : "litellm_"
            #expect(names.contains { $0.hasPrefix(prefix) }, "\(provider): no \(prefix)* series in \(names.sorted().prefix(20))")
        }
    }

    /// A session of three requests: every attempt is a row, failed ones included.
    @Test func sessionLogHoldsEveryAttempt() throws {
        let run = try aish.run(["-c", """
            set max_tokens 8
            chat -m smollm2-python Say one.
            chat -m llama3.2:1b Say two.
            chat -m gateway-python Say three.
            """])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try aish.attempts("1 = 1")
        #expect(rows.map { $0["provider"]?.stringValue ?? "?" }
            == ["llama_cpp_python", "ollama", "llama_cpp_native", "litellm_gateway"])
        #expect(rows.map { $0["requested_model"]?.stringValue ?? "?" }
            == ["smollm2-python", "llama3.2:1b", "llama3.2:1b", "gateway-python"])
        #expect(rows.allSatisfy { !($0["reply"]?.stringValue ?? "").isEmpty || $0["status"]?.stringValue == "error" })
    }

    /// The gateway's x-litellm-* headers name the deployment that answered: in the status
    /// line, the fields and the log, and `stats --by provider` splits the gateway's overhead.
    @Test func theGatewaySaysWhichDeploymentAnswered() throws {
        // Prompts of their own: a reply from the gateway's response cache has no backend time
        // to split (stats leaves cache hits out of its timings).
        let nonce = UUID().uuidString.prefix(8)
        let run = try aish.run(["-c", "set max_tokens 8; chat -m gateway-native Say hi (\(nonce))."])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains(" · via gateway → llama_cpp_native"), "status line: \(run.stderr)")
        let json = try aish.run(["--json", "-c", "set max_tokens 8; chat -m gateway-python Say hi (\(nonce))."])
        #expect(json.status == 0, "\(json.stderr)")
        let result = try JSONValue.parse(json.stdout.split(separator: "\n").last.map(String.init) ?? "")
        #expect(result["gateway_deployment"] == .string("llama_cpp_python"), "\(json.stdout)")
        #expect(result["gateway_model_group"] == .string("smollm2-python"))
        let rows = try aish.attempts("provider = 'litellm_gateway' AND gateway_deployment IS NOT NULL")
        #expect(rows.count == 2)
        let stats = try aish.run(["--json", "stats", "--by", "provider"])
        let s = try JSONValue.parse(stats.stdout)
        #expect(s["total"]?["gateway_overhead_ms"]?.doubleValue != nil, "\(stats.stdout)")
        #expect(s["total"]?["backend_latency_ms"]?.doubleValue != nil, "\(stats.stdout)")
        // expect reads the same split as fields.
        let expect = try aish.run(["-c", "stats --by provider; expect gateway_overhead_ms > 0; expect backend_latency_ms > 0"])
        #expect(expect.status == 0, "\(expect.stdout)\(expect.stderr)")
    }

    /// LiteLLM's own fault switch fails the model group; the gateway falls back, and its
    /// headers say where it went: the next target in aish's plan for that group.
    @Test func gatewayDrillUsesMockTestingFallbacks() throws {
        let run = try aish.run(["--json", "-c", "set max_tokens 8; drill gateway-python gateway-native --via gateway"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let report = try JSONValue.parse(run.stdout.split(separator: "\n").last.map(String.init) ?? "")
        #expect(report["passed"] == .int(2), "\(run.stdout)")
        #expect(report["results"]?[0]?["answered_by"] == .string("llama_cpp_native (group smollm2-native)"))
        #expect(report["results"]?[1]?["answered_by"] == .string("llama_cpp_python (group smollm2-python)"))
        let rows = try aish.attempts("kind = 'drill' AND provider = 'litellm_gateway'")
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0["status"]?.stringValue == "ok" })
    }

    @Test func directDrillsOverEveryRouteWithAFallbackPass() throws {
        let run = try aish.run(["-c", "set max_tokens 8; drill --via direct"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("smollm2-python  direct  llama_cpp_python · smollm2-135m"), "\(run.stdout)")
    }
}

/// Runs the built aish binary with the repository's config/ and a session log of its own.
struct StackProcess {
    static var enabled: Bool { ProcessInfo.processInfo.environment["AISH_E2E_STACK"] == "1" }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutReads: Int   // how many reads delivered stdout: > 1 when it was streamed
    }

    let root: URL
    let binary: URL
    let database: URL

    init() throws {
        root = URL(fileURLWithPath: try TestPaths.existing("config")).deletingLastPathComponent()
        let env = ProcessInfo.processInfo.environment
        binary = URL(fileURLWithPath: try env["AISH_BIN"] ?? AishBinary.require())
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("aish-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        database = tmp.appendingPathComponent("session.db")
    }

    /// The config the stack runs on: scripts/stack's AISH_STACK_CONFIG, else config/.
    var configDirectory: String {
        ProcessInfo.processInfo.environment["AISH_STACK_CONFIG"] ?? root.appendingPathComponent("config").path
    }

    /// `config`: another config directory; `extra`: more environment variables.
    func run(_ arguments: [String], config: String? = nil, extra: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--config", config ?? configDirectory, "--db", database.path, "--no-color"]
            + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { $1 }
        environment["NO_COLOR"] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // stderr drains on its own thread so that neither pipe can fill up and block aish.
        let errData = LockedData()
        let errThread = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        errThread.start()
        var stdout = Data()
        var reads = 0
        while true {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            stdout.append(chunk)
            reads += 1
        }
        process.waitUntilExit()
        while !errData.isSet { Thread.sleep(forTimeInterval: 0.01) }
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: errData.value, as: UTF8.self), stdoutReads: reads)
    }

    /// Attempt rows of this test's session log, oldest first, through `aish sql`.
    func attempts(_ condition: String) throws -> [JSONValue] {
        let query = "SELECT request_id, requested_model, provider, attempt, status, ttft_ms, total_ms, reply"
            + " FROM attempts WHERE \(condition) ORDER BY id"
        let run = try run(["--json", "sql", query])
        guard run.status == 0 else { throw StackTestError("aish sql failed: \(run.stdout)\(run.stderr)") }
        let result = try JSONValue.parse(run.stdout)
        let columns = elements(of: result["columns"]).compactMap(\.stringValue)
        guard case let .array(rows)? = result["rows"], !columns.isEmpty else {
            throw StackTestError("unexpected sql output: \(run.stdout)")
        }
        return rows.map { row in
            if case .object = row { return row }
            return .object(Array(zip(columns, elements(of: row))))
        }
    }
}

/// The items of a JSON array (none for anything else).
func elements(of value: JSONValue?) -> [JSONValue] {
    if case let .array(items)? = value { return items }
    return []
}

struct StackTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Data handed from the stderr reader thread to the test's thread.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var done = false

    func set(_ d: Data) { lock.lock(); data = d; done = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return done }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data }
}
