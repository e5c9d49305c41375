import Foundation
import Testing
@testable import AishBase
@testable import AishServices
@testable import AishSessionLog

/// Issue 24, items 1 and 11: the classes of secret on a command line and in text, and what
/// must not be masked (measurements whose names mention tokens or keys, numbers).
@Suite struct SecretMaskingClassTests {
    /// Names by word: a word ending in key or token, or holding password/secret/credential,
    /// unless it is a measurement (per token, token count, …).
    @Test(arguments: [
        ("api_key", true), ("apiKey", true), ("APIKey", true), ("x-api-key", true), ("access_token", true),
        ("accessToken", true), ("HF_TOKEN", true), ("refresh-token", true), ("client_secret", true),
        ("DB_PASSWORD", true), ("passphrase", true), ("LITELLM_MASTER_KEY", true), ("secrets", true),
        ("predicted_per_token_ms", false), ("prompt_per_token_ms", false), ("time_per_output_token_seconds", false),
        ("token_count", false), ("tokens", false), ("max_tokens", false), ("tokens_per_second", false),
        ("TOKENIZERS_PARALLELISM", false), ("keyspace_hits", false), ("expired_keys", false), ("token_id", false),
        ("tokenizer", false), ("keys", false),
    ] as [(String, Bool)])
    func secretNames(name: String, secret: Bool) {
        #expect(SecretRedactor.looksSecret(name) == secret, "\(name)")
    }

    /// Every option form of a secret in text (a command line in a log row, a unit file, an
    /// error message quoting one).
    @Test(arguments: [
        ("llama-server --api-key PLAINVALUE --port 8080", "llama-server --api-key *** --port 8080"),
        ("llama-server --api-key=PLAINVALUE --port 8080", "llama-server --api-key=*** --port 8080"),
        ("srv --token=abc123 -v", "srv --token=*** -v"),
        ("srv --token abc123 -v", "srv --token *** -v"),
        ("srv --password 'two words' --x", "srv --password '***' --x"),
        ("srv --password hunter2", "srv --password ***"),
        ("srv --auth-header XYZ123 --auth ABC", "srv --auth-header *** --auth ***"),
        ("srv --authorization=QQQ", "srv --authorization=***"),
        ("curl -H 'Authorization: Bearer PLAINTOKEN' http://h", "curl -H 'Authorization: Bearer ***' http://h"),
        ("curl -H \"X-Api-Key: PLAINKEY\" http://h", "curl -H \"X-Api-Key: ***\" http://h"),
        ("env API_KEY=PLAIN OPENAI_API_KEY=sk-notreallyakey123 run", "env API_KEY=*** OPENAI_API_KEY=*** run"),
        ("srv --api-key sk-live-ABCDEFGH123456", "srv --api-key ***"),
        ("redis: -ERR invalid password 'hunter2' given, password: hunter2", "redis: -ERR invalid password 'hunter2' given, password: ***"),
        ("Incorrect API key provided: Bearer sk-proj-abcdefgh1234", "Incorrect API key provided: Bearer ***"),
        // Not secrets: flags without values, counts, numbers given to secret-looking names.
        ("srv --api-key --port 8080", "srv --api-key --port 8080"),
        ("srv --max-tokens 64 --token-count 3", "srv --max-tokens 64 --token-count 3"),
        ("{\"predicted_per_token_ms\":8.183,\"prompt_per_token_ms\":1.37}", "{\"predicted_per_token_ms\":8.183,\"prompt_per_token_ms\":1.37}"),
        ("{\"api_key_count\": 3, \"token\": 12, \"secret\": true, \"key\": null}", "{\"api_key_count\": 3, \"token\": 12, \"secret\": true, \"key\": null}"),
        ("keyspace_hits:3\r\nkeyspace_misses:1\r\ndb0:keys=2,expires=0", "keyspace_hits:3\r\nkeyspace_misses:1\r\ndb0:keys=2,expires=0"),
        // A password is masked even when it is digits.
        ("password=123456 db_password: 42", "password=*** db_password: ***"),
    ])
    func optionAndAssignmentForms(input: String, expected: String) {
        #expect(SecretPatterns.redact(input) == expected)
    }

    /// Arguments of a process, as `status` and `report` show them: each form, including a
    /// value with spaces (one argument) and a value given in the next argument.
    @Test(arguments: [
        (["llama-server", "--api-key", "PLAIN", "--port", "8080"], "llama-server --api-key *** --port 8080"),
        (["llama-server", "--api-key=PLAIN"], "llama-server --api-key=***"),
        (["srv", "--token=abc", "--password", "two words here"], "srv --token=*** --password ***"),
        (["srv", "--auth", "u:p", "-x"], "srv --auth *** -x"),
        (["curl", "-H", "Authorization: Bearer PLAINTOKEN", "http://h"], "curl -H Authorization: Bearer *** http://h"),
        (["env", "API_KEY=PLAIN", "GITHUB_TOKEN=abc", "MAX_TOKENS=64", "python3", "x.py"],
         "env API_KEY=*** GITHUB_TOKEN=*** MAX_TOKENS=64 python3 x.py"),
        (["vllm", "serve", "m", "--api-key", "sk-live-abcdefgh12345"], "vllm serve m --api-key ***"),
        (["app", "sk-proj-abcdefgh12345678"], "app ***"),
        (["llama-server", "-m", "model.gguf", "--n-predict", "64"], "llama-server -m model.gguf --n-predict 64"),
    ] as [([String], String)])
    func processArguments(arguments: [String], expected: String) {
        #expect(SecretPatterns.maskArguments(arguments).joined(separator: " ") == expected)
    }

    /// /proc/PID/cmdline read by ProcFS comes back masked.
    @Test func procCommandLineIsMasked() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path + "/4242", withIntermediateDirectories: true)
        let argv = ["llama-server", "--api-key", "PLAIN", "--token=abc", "-H", "Authorization: Bearer T0KEN", "--port", "8080"]
        try Data(argv.joined(separator: "\0").utf8 + [0]).write(to: URL(fileURLWithPath: dir.path + "/4242/cmdline"))
        let line = ProcFS(root: dir.path).commandLine(pid: 4242)
        #expect(line == "llama-server --api-key *** --token=*** -H Authorization: Bearer *** --port 8080")
    }
}

/// Item 11: the servers' own payloads go through the log's masking unchanged; only a
/// planted secret changes.
@Suite struct RealPayloadMaskingTests {
    /// The last chunk of a llama.cpp server stream (timings), the last object of an Ollama
    /// /api/chat stream, a vLLM usage chunk, LiteLLM's /health, Redis INFO and Prometheus text.
    static let payloads: [String] = [
        #"{"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1733570000,"id":"chatcmpl-Qb1dzN8","model":"smollm2-135m","system_fingerprint":"b4273-2ad2a12d","object":"chat.completion.chunk","usage":{"completion_tokens":16,"prompt_tokens":9,"total_tokens":25},"timings":{"prompt_n":9,"prompt_ms":12.357,"prompt_per_token_ms":1.373,"prompt_per_second":728.33,"predicted_n":16,"predicted_ms":130.928,"predicted_per_token_ms":8.183,"predicted_per_second":122.204}}"#,
        #"{"model":"llama3.2:1b","created_at":"2026-12-07T05:00:00.123456Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":812345678,"load_duration":12345678,"prompt_eval_count":26,"prompt_eval_duration":45678901,"eval_count":57,"eval_duration":701234567}"#,
        #"{"id":"chatcmpl-9f2c","object":"chat.completion.chunk","created":1733570000,"model":"Qwen/Qwen2.5-0.5B","choices":[],"usage":{"prompt_tokens":9,"total_tokens":25,"completion_tokens":16,"prompt_tokens_details":null}}"#,
        #"{"healthy_endpoints":[{"api_base":"http://127.0.0.1:8080/v1","model":"openai/smollm2","api_key":"os.environ/LLAMA_KEY"}],"unhealthy_endpoints":[],"healthy_count":1,"unhealthy_count":0}"#,
        "# Keyspace\r\ndb0:keys=12,expires=0,avg_ttl=0\r\nkeyspace_hits:340\r\nkeyspace_misses:12\r\nexpired_keys:0\r\nevicted_keys:0\r\n",
        "vllm:time_per_output_token_seconds_bucket{le=\"0.01\",model_name=\"m\"} 3\nllamacpp:tokens_predicted_total 123\nllamacpp:n_tokens_max 512\n",
    ]

    @Test func payloadsPassUnchanged() {
        let redactor = SecretRedactor(environment: ["HOME": "/home/u", "TOKENIZERS_PARALLELISM": "false"])
        for p in Self.payloads {
            #expect(redactor.redact(p) == p)
        }
    }

    @Test func onlyAPlantedSecretChanges() {
        let redactor = SecretRedactor(environment: [:])
        let timings = Self.payloads[0]
        let planted = timings.replacingOccurrences(of: "\"model\":\"smollm2-135m\"", with: "\"model\":\"smollm2-135m\",\"api_key\":\"PLANTEDvalue1\"")
        let masked = redactor.redact(planted)
        #expect(masked == timings.replacingOccurrences(of: "\"model\":\"smollm2-135m\"", with: "\"model\":\"smollm2-135m\",\"api_key\":\"***\""))
        #expect((try? JSONValue.parse(masked)) != nil)
    }

    /// Text inside a JSON string is escaped: LiteLLM's Prometheus labels as `metrics --json`
    /// prints them (`api_key_alias=\"None\",hashed_api_key=\"…\"`), and values holding an
    /// escaped quote or backslash. Masking keeps every escape whole, so the JSON still parses,
    /// and the values are masked.
    @Test(arguments: [
        #"{api_key_alias="None",api_provider="openai",hashed_api_key="88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",team="None"}"#,
        #"token=ab"cd and more"#,
        #"password=a\\b\"c" then"#,
        #"secret: "x\"y" end"#,
        #"api_key=tail\\"#,
    ])
    func maskedJSONStringsStayJSON(_ inner: String) throws {
        let json = JSONValue.object([("labels", .string(inner)), ("value", .int(3))]).serialized()
        let masked = SecretPatterns.redact(json)
        let parsed = try JSONValue.parse(masked)
        #expect(parsed["value"] == .int(3), "\(masked)")
        let labels = try #require(parsed["labels"]?.stringValue)
        #expect(labels.contains("***"), "\(masked)")
        #expect(!labels.contains("88dc28d0") && !labels.contains("ab\"cd") && !labels.contains("x\"y"), "\(labels)")
    }

    /// The llama.cpp timings stored by the log are the server's JSON, numbers and all (they
    /// used to be stored as text with `"predicted_per_token_ms": ***`).
    @Test func llamaCppTimingsAreStoredIntact() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("timings.db")
        let output = OutputSink(capturing: true)
        let recorder = try #require(SessionLogAccess.open(path: path, mode: "script", scriptPath: nil, output: output, environment: [:]))
        let chunk = try JSONValue.parse(Self.payloads[0])
        let timings = try #require(chunk["timings"])
        recorder.recordAttempt(attempt(prompt: "hi", timings: timings))
        recorder.endSession()
        let stored = try LogShell(dbPath: path).run(["sql", "SELECT server_timings FROM attempts"]).field("value")
        let text = try #require(stored?.stringValue)
        #expect(try JSONValue.parse(text) == timings)
        #expect(text.contains("\"predicted_per_token_ms\":8.183"))
    }
}
