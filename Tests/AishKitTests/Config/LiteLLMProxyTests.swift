import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import AishBase
@testable import AishConfig

/// Where the real LiteLLM proxy is: $AISH_LITELLM, the stack's venv, or PATH.
enum LiteLLMBinary {
    static let path: String? = {
        let fm = FileManager.default
        let env = ProcessInfo.processInfo.environment
        if let p = env["AISH_LITELLM"], fm.isExecutableFile(atPath: p) { return p }
        let venv = ConfigFixtures.packageRoot + "/.stack/venv-litellm/bin/litellm"
        if fm.isExecutableFile(atPath: venv) { return venv }
        for dir in (env["PATH"] ?? "").split(separator: ":") where fm.isExecutableFile(atPath: "\(dir)/litellm") {
            return "\(dir)/litellm"
        }
        return nil
    }()

    static let skipReason: Comment =
        "litellm not found: set AISH_LITELLM, or install it into .stack/venv-litellm (scripts/stack install), or put it on PATH"
}

@Suite(.serialized) struct LiteLLMProxyTests {
    /// A free TCP port on 127.0.0.1 (bound to port 0, then released).
    static func freePort() throws -> Int { FreePort.unused() }

    /// GET with an optional bearer key; (status, body) or nil when nothing answers.
    static func get(_ url: String, key: String? = nil) -> (Int, Data)? {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 10
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, Data)?
        URLSession.shared.dataTask(with: request) { data, response, _ in
            if let http = response as? HTTPURLResponse { result = (http.statusCode, data ?? Data()) }
            done.signal()
        }.resume()
        done.wait()
        return result
    }

    static func post(_ url: String, key: String, json: JSONValue) -> (Int, JSONValue?) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.timeoutInterval = 60
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(json.serialized().utf8)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, JSONValue?) = (0, nil)
        URLSession.shared.dataTask(with: request) { data, response, _ in
            if let http = response as? HTTPURLResponse { result = (http.statusCode, data.flatMap { try? JSONValue.parse(bytes: $0) }) }
            done.signal()
        }.resume()
        done.wait()
        return result
    }

    /// The real deployment's sources with every backend URL pointed at a fake provider,
    /// generated into a scratch directory and served by the real LiteLLM proxy: the model
    /// list, the capability aliases, Ollama and OpenAI-compatible params, the API key taken
    /// from the environment, and a fallback chain all work in LiteLLM itself.
    @Test(.enabled(if: LiteLLMBinary.path != nil, LiteLLMBinary.skipReason))
    func generatedConfigRunsInTheRealProxy() throws {
        let litellm = try #require(LiteLLMBinary.path)
        let cloudKey = "test-cloud-key-\(UUID().uuidString)"
        let ollama = try FakeProviderProcess(["--reply", "from local ollama"])
        let cloud = try FakeProviderProcess(["--reply", "from ollama cloud", "--require-key", cloudKey])
        let python = try FakeProviderProcess(["--reply", "from llama.cpp python", "--flavor", "llamacpp"])
        let native = try FakeProviderProcess(["--reply", "from llama.cpp native", "--flavor", "llamacpp"])
        defer { [ollama, cloud, python, native].forEach { $0.stop() } }

        var providers = try String(contentsOfFile: ConfigFixtures.gathewhy + "/providers.yaml", encoding: .utf8)
        for (from, to) in [("http://127.0.0.1:11434", ollama.baseURL), ("https://ollama.com", cloud.baseURL),
                           ("http://127.0.0.1:8000", python.baseURL), ("http://127.0.0.1:8001", python.baseURL),
                           ("http://127.0.0.1:8080", native.baseURL)] {
            providers = providers.replacingOccurrences(of: from, with: to)
        }
        let dir = try ConfigFixtures.gathewhyCopy(replacing: ["providers.yaml": providers], dropping: ["litellm-unified.yaml"])
        let config = ConfigLoader.load(directory: dir).config
        let path = dir + "/litellm-unified.yaml"
        try LiteLLMFile.write(LiteLLMGenerator.text(config), to: path)
        #expect(!(try String(contentsOfFile: path, encoding: .utf8)).contains(cloudKey))
        let expected = LiteLLMGenerator.deployments(config).map(\.modelName)

        let port = try Self.freePort()
        let key = "sk-aish-test-\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: litellm)
        process.arguments = ["--config", path, "--host", "127.0.0.1", "--port", String(port)]
        var env = ProcessInfo.processInfo.environment
        env["LITELLM_MASTER_KEY"] = key
        env["OLLAMA_API_KEY"] = cloudKey
        env["NO_COLOR"] = "1"
        // Offline: use the cost map bundled with LiteLLM instead of fetching it (saves retries).
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        process.environment = env
        let logPath = dir + "/litellm.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                let deadline = Date().addingTimeInterval(10)
                while process.isRunning && Date() < deadline { usleep(100_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            try? log.close()
        }
        func logTail() -> String {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").suffix(30).joined(separator: "\n")
        }

        // LiteLLM takes ~15 s to start on an idle 2-core machine; allow much more under load.
        let base = "http://127.0.0.1:\(port)"
        let deadline = Date().addingTimeInterval(240)
        var live = false
        while Date() < deadline && process.isRunning {
            if let (status, _) = Self.get(base + "/health/liveliness"), status == 200 { live = true; break }
            usleep(500_000)
        }
        try #require(live, "LiteLLM did not become live with the generated config:\n\(logTail())")

        let (status, body) = try #require(Self.get(base + "/v1/models", key: key))
        #expect(status == 200, "GET /v1/models: \(String(decoding: body, as: UTF8.self))")
        let models = try JSONValue.parse(bytes: body)
        guard case let .array(items)? = models["data"] else {
            Issue.record("unexpected /v1/models body: \(String(decoding: body, as: UTF8.self))")
            return
        }
        // /v1/models lists each deployed model and each model_group_alias (capability).
        let served = items.compactMap { $0["id"]?.stringValue }
        let aliases = GatewayConfig(config).aliases.map(\.0)
        #expect(Set(served) == Set(expected + aliases), "log:\n\(logTail())")
        // 12 exact matches and 3 load-balancing groups, each group as weighted deployments (3 + 2 + 2).
        #expect(Set(expected).count == 15)
        #expect(expected.count == 20)
        #expect(aliases == ["code", "analytical", "reasoning", "creative", "chat", "high_throughput", "low_latency", "large_context"])

        func reply(_ model: String) -> String? {
            let (status, json) = Self.post(base + "/v1/chat/completions", key: key, json: .object([
                ("model", .string(model)), ("messages", .array([.object([("role", "user"), ("content", "hi")])])),
                ("stream", false), ("max_tokens", 8)]))
            guard status == 200 else {
                Issue.record("\(model): HTTP \(status) \(json?.serialized() ?? "")\n\(logTail())")
                return nil
            }
            return json?["choices"]?[0]?["message"]?["content"]?.stringValue
        }
        // llama3.1:latest is also a load-balancing group (ollama 0.7, llama_cpp_python 0.3): either answers.
        let llama = reply("llama3.1:latest")
        #expect(llama == "from local ollama" || llama == "from llama.cpp python", "\(llama ?? "no reply")")
        #expect(reply("gpt-oss:20b-cloud") == "from ollama cloud")          // key from os.environ/OLLAMA_API_KEY
        #expect(reply("llama-cpp-native") == "from llama.cpp native")
        #expect(reply("qwen-coder-vllm") == "from llama.cpp python")
        #expect(reply("code") == "from ollama cloud")                        // capability alias → qwen3-coder:480b-cloud
        // router_settings.fallbacks: llama-cpp-default → llama-cpp-native.
        try python.configure(.object([("fail_all", 500)]))
        #expect(reply("llama-cpp-default") == "from llama.cpp native")
    }
}
