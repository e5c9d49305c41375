import FoundationEssentials
import Glibc

// What the session log records. Producers (runner, chat, health, compare, services) build
// these; the SessionLog subsystem writes them. Durations are milliseconds.

struct CommandRecord: Sendable {
    var text: String              // as typed, secrets redacted by the log
    var sourceFile: String?
    var line: Int?
    var status: CommandResult.Status
    var durationMs: Double
    var error: String?
    var startedAt: Date
}

enum AttemptStatus: String, Sendable {
    case ok, error, partial, cancelled, timeout, skipped
}

/// One attempt of one request (a request is one plan; each step tried is an attempt).
struct AttemptRecord: Sendable {
    var requestID: String         // shared by the attempts of one request
    var requestedModel: String
    var routeReason: String       // how it was routed ("exact match model-mappings.yaml:48", …)
    var provider: String
    var backendModel: String
    var attempt: Int              // 1-based
    var status: AttemptStatus
    var httpStatus: Int?
    var error: String?
    var ttftMs: Double?
    var totalMs: Double?
    var promptTokens: Int?
    var completionTokens: Int?
    var tokensPerSecond: Double?
    var serverTimings: JSONValue? // e.g. Ollama eval_duration, llama.cpp timings
    var prompt: String            // the last user message
    var replyText: String         // full or partial reply
    var startedAt: Date
    var kind: String = "chat"     // chat, compare, bench, health, drill, replay
    /// The system prompt sent with the request and its sampling options (for `replay`).
    var systemPrompt: String? = nil
    var options: JSONValue? = nil
    /// What the gateway said about serving it (its x-litellm-* response headers).
    var gateway: GatewayInfo? = nil
    /// Through a LiteLLM gateway: whether its response cache answered (nil for any other provider).
    var cacheHit: Bool? = nil
}

struct MessageRecord: Sendable {
    var conversationID: String
    var role: String              // system, user, assistant
    var content: String
    var model: String?
    var createdAt: Date
}

struct HealthProbeRecord: Sendable {
    var provider: String
    var url: String
    var ok: Bool
    var httpStatus: Int?
    var latencyMs: Double?
    var error: String?
    var probedAt: Date
}

/// A compare or bench run: its parameters and summary as JSON.
struct RunRecord: Sendable {
    var kind: String              // compare, bench
    var parameters: JSONValue
    var summary: JSONValue
    var startedAt: Date
    var durationMs: Double
}

/// One level of a bench run, a row of `bench_levels` beside the run's row in `runs`.
struct BenchLevelRecord: Sendable {
    var level: Int                // 0-based, in the order run
    var mode: String
    var concurrency: Int?
    var requestedRate: Double?
    var achievedRate: Double?
    var wallMs: Double
    var requests: Int
    var ok: Int
    var errors: Int
    var requestsPerSecond: Double
    var outputTokensPerSecond: Double
    var ttftP50Ms: Double?
    var ttftP99Ms: Double?
    var itlP50Ms: Double?
    var itlP99Ms: Double?
    var iclP50Ms: Double?
    var tpotP50Ms: Double?
    var latencyP50Ms: Double?
    var latencyP99Ms: Double?
    var goodput: Double?
    var sloMet: Bool?
    var stopReason: String?
}

struct ServiceActionRecord: Sendable {
    var action: String            // start, stop, restart, enable, disable
    var service: String
    var unit: String
    var ok: Bool
    var output: String
    var at: Date
}

struct MetricSampleRecord: Sendable {
    var provider: String
    var name: String
    var labels: String
    var value: Double
    var at: Date
}

/// The session log's write side, as the rest of aish sees it. Implementations must never
/// throw into the caller: a log that cannot write warns once and keeps the shell working.
protocol SessionRecorder: AnyObject {
    func beginCommand(text: String, sourceFile: String?, line: Int?) -> Int64?
    func endCommand(id: Int64?, record: CommandRecord)
    func recordAttempt(_ record: AttemptRecord)
    func recordMessage(_ record: MessageRecord)
    func recordHealthProbe(_ record: HealthProbeRecord)
    func recordRun(_ record: RunRecord)
    /// A bench run and its levels; returns the run's id in the log (nil: not recorded).
    func recordBenchRun(_ record: RunRecord, levels: [BenchLevelRecord]) -> Int64?
    func recordServiceAction(_ record: ServiceActionRecord)
    func recordMetricSamples(_ records: [MetricSampleRecord])
    func endSession()
    // Requirements (not only extension methods) so that calls through `SessionRecorder`
    // reach the log's implementations; the extension gives the defaults.
    func addSecretVariableNames(_ names: [String])
    func addSecretValues(_ values: [String])
    func recordAttempts(_ records: [AttemptRecord])
}

extension SessionRecorder {
    /// Also redact the values of these environment variables (the providers' `env_var`
    /// names, known once the config is loaded). Names that look secret (…KEY…, …TOKEN…)
    /// are redacted anyway.
    func addSecretVariableNames(_ names: [String]) {}

    /// Also redact these values (script variables with secret-looking names).
    func addSecretValues(_ values: [String]) {}

    func recordBenchRun(_ record: RunRecord, levels: [BenchLevelRecord]) -> Int64? {
        recordRun(record)
        return nil
    }

    /// Many attempts at once (bench, compare): one transaction where the log supports it.
    func recordAttempts(_ records: [AttemptRecord]) {
        for r in records { recordAttempt(r) }
    }
}
