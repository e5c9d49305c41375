import FoundationEssentials
import Glibc
import AishBase
import AishShell
import AishCommand
import AishSessionLog

/// Entry points for the benchmark harness (scripts/bench and its Swift executable): build
/// a large log quickly and time the read commands against it, in-process.
package enum SessionLogBenchmark {
    /// Appends `count` synthetic request attempts (deterministic for a given `seed`) to the
    /// log at `path`, creating it if needed, `batchSize` rows per transaction. Returns the
    /// rows written per second.
    @discardableResult
    package static func generateSyntheticAttempts(path: String, count: Int, batchSize: Int = 50_000, seed: UInt64 = 42)
        throws -> Double
    {
        let log = try SessionLog(path: path)
        try log.beginSession(mode: "benchmark", scriptPath: nil, aishVersion: SessionLogAccess.aishVersion)
        var generator = SyntheticAttempts(seed: seed, count: count)
        let start = Date()
        var written = 0
        while written < count {
            let n = min(batchSize, count - written)
            var batch: [AttemptRecord] = []
            batch.reserveCapacity(n)
            for _ in 0..<n { batch.append(generator.next()) }
            try log.insertAttempts(batch)
            written += n
        }
        try log.endSession()
        let seconds = Date().timeIntervalSince(start)
        return Double(count) / max(seconds, 1e-9)
    }

    /// Runs one log command (e.g. `["log", "-n", "20"]`, `["stats"]`) in-process against
    /// the log at `path` and returns its wall time in milliseconds and its text output.
    package static func runCommand(_ words: [String], path: String, json: Bool = false) throws -> (ms: Double, output: String) {
        guard let name = words.first, let spec = SessionLogCommands.all.first(where: { $0.name == name }) else {
            throw CommandFailure("not a session log command: \(words.first ?? "")")
        }
        var options = GlobalOptions()
        options.databasePath = path
        options.json = json
        let ctx = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag())
        let start = Date()
        let inv = try spec.parse(words: Array(words.dropFirst()), line: words.joined(separator: " "), location: nil)
        let result = try spec.run(inv, ctx)
        let ms = Date().timeIntervalSince(start) * 1000
        return (ms, json ? result.jsonForm.serialized() : result.text)
    }
}

/// Plausible attempts: a few models and providers, mostly successes, skewed latencies,
/// prompts and replies made of real words (so full-text search has something to find),
/// one second apart ending now.
package struct SyntheticAttempts {
    private var generator: SplitMix64
    private var index = 0
    private let count: Int
    private let end = Date()

    private static let models: [(String, String, String)] = [
        ("llama3", "ollama", "llama3:8b"), ("smollm2", "llama-cpp-python", "smollm2-135m"),
        ("smollm2-native", "llama-cpp-native", "smollm2-135m"), ("gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("gateway-smollm2", "litellm", "smollm2"), ("qwen2.5", "vllm", "Qwen/Qwen2.5-7B-Instruct"),
    ]
    private static let words = (
        "the a model server token stream latency request reply prompt cache write haiku about deploy config "
            + "routing fallback health check metrics gateway local llama python native small fast slow error "
            + "retry ocean mountain river forest summer winter rust swift sqlite index query table json"
    ).split(separator: " ").map(String.init)

    package init(seed: UInt64, count: Int) {
        generator = SplitMix64(seed: seed)
        self.count = count
    }

    private mutating func sentence(_ n: Int) -> String {
        var parts: [String] = []
        parts.reserveCapacity(n)
        for _ in 0..<n { parts.append(SyntheticAttempts.words[Int(generator.next() % UInt64(SyntheticAttempts.words.count))]) }
        return parts.joined(separator: " ")
    }

    package mutating func next() -> AttemptRecord {
        index += 1
        let (model, provider, backend) = SyntheticAttempts.models[Int(generator.next() % UInt64(SyntheticAttempts.models.count))]
        let roll = generator.unit()
        let status: AttemptStatus = roll < 0.95 ? .ok : roll < 0.97 ? .error : roll < 0.98 ? .timeout : roll < 0.99 ? .partial : .cancelled
        // Log-normal-ish: most fast, a long tail.
        let ttft = 20 + 200 * exp(generator.unit() * 2) * generator.unit()
        let tokens = 16 + Int(generator.next() % 240)
        let tps = 20 + generator.unit() * 80
        let total = ttft + Double(tokens) / tps * 1000
        let ok = status == .ok
        return AttemptRecord(
            requestID: "synthetic-\(index)", requestedModel: model, routeReason: "exact match (synthetic)",
            provider: provider, backendModel: backend, attempt: 1, status: status,
            httpStatus: status == .error ? 503 : 200, error: status == .error ? "HTTP 503 Service Unavailable" : nil,
            ttftMs: status == .error ? nil : ttft, totalMs: total, promptTokens: 12 + Int(generator.next() % 40),
            completionTokens: ok ? tokens : nil, tokensPerSecond: ok ? tps : nil, serverTimings: nil,
            prompt: sentence(8), replyText: sentence(ok ? 24 : 6),
            startedAt: end.addingTimeInterval(Double(index - count)), kind: "chat")
    }
}
