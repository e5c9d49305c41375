import FoundationEssentials
import Glibc
import AishBase

// What the session log records. Producers (runner, chat, health, compare, services) build
// these; the SessionLog subsystem writes them. Durations are milliseconds.

package struct CommandRecord: Sendable {
    package var text: String              // as typed, secrets redacted by the log
    package var sourceFile: String?
    package var line: Int?
    package var status: CommandResult.Status
    package var durationMs: Double
    package var error: String?
    package var startedAt: Date

    package init(text: String, sourceFile: String? = nil, line: Int? = nil, status: CommandResult.Status,
                 durationMs: Double, error: String? = nil, startedAt: Date) {
        self.text = text
        self.sourceFile = sourceFile
        self.line = line
        self.status = status
        self.durationMs = durationMs
        self.error = error
        self.startedAt = startedAt
    }

}

package enum AttemptStatus: String, Sendable {
    case ok, error, partial, cancelled, timeout, skipped
}

/// One attempt of one request (a request is one plan; each step tried is an attempt).
package struct AttemptRecord: Sendable {
    package var requestID: String         // shared by the attempts of one request
    package var requestedModel: String
    package var routeReason: String       // how it was routed ("exact match model-mappings.yaml:48", …)
    package var provider: String
    package var backendModel: String
    package var attempt: Int              // 1-based
    package var status: AttemptStatus
    package var httpStatus: Int?
    package var error: String?
    package var ttftMs: Double?
    package var totalMs: Double?
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var tokensPerSecond: Double?
    package var serverTimings: JSONValue? // e.g. Ollama eval_duration, llama.cpp timings
    package var prompt: String            // the last user message
    package var replyText: String         // full or partial reply
    package var startedAt: Date
    package var kind: String = "chat"     // chat, compare, bench, health, drill, replay
    /// The system prompt sent with the request and its sampling options (for `replay`).
    package var systemPrompt: String? = nil
    package var options: JSONValue? = nil
    /// What the gateway said about serving it (its x-litellm-* response headers).
    package var gateway: GatewayInfo? = nil
    /// Through a LiteLLM gateway: whether its response cache answered (nil for any other provider).
    package var cacheHit: Bool? = nil

    package init(requestID: String, requestedModel: String, routeReason: String, provider: String,
                 backendModel: String, attempt: Int, status: AttemptStatus, httpStatus: Int? = nil,
                 error: String? = nil, ttftMs: Double? = nil, totalMs: Double? = nil, promptTokens: Int? = nil,
                 completionTokens: Int? = nil, tokensPerSecond: Double? = nil, serverTimings: JSONValue? = nil,
                 prompt: String, replyText: String, startedAt: Date, kind: String = "chat",
                 systemPrompt: String? = nil, options: JSONValue? = nil, gateway: GatewayInfo? = nil,
                 cacheHit: Bool? = nil) {
        self.requestID = requestID
        self.requestedModel = requestedModel
        self.routeReason = routeReason
        self.provider = provider
        self.backendModel = backendModel
        self.attempt = attempt
        self.status = status
        self.httpStatus = httpStatus
        self.error = error
        self.ttftMs = ttftMs
        self.totalMs = totalMs
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.tokensPerSecond = tokensPerSecond
        self.serverTimings = serverTimings
        self.prompt = prompt
        self.replyText = replyText
        self.startedAt = startedAt
        self.kind = kind
        self.systemPrompt = systemPrompt
        self.options = options
        self.gateway = gateway
        self.cacheHit = cacheHit
    }

}

package struct MessageRecord: Sendable {
    package var conversationID: String
    package var role: String              // system, user, assistant
    package var content: String
    package var model: String?
    package var createdAt: Date

    package init(conversationID: String, role: String, content: String, model: String? = nil, createdAt: Date) {
        self.conversationID = conversationID
        self.role = role
        self.content = content
        self.model = model
        self.createdAt = createdAt
    }

}

package struct HealthProbeRecord: Sendable {
    package var provider: String
    package var url: String
    package var ok: Bool
    package var httpStatus: Int?
    package var latencyMs: Double?
    package var error: String?
    package var probedAt: Date

    package init(provider: String, url: String, ok: Bool, httpStatus: Int? = nil, latencyMs: Double? = nil,
                 error: String? = nil, probedAt: Date) {
        self.provider = provider
        self.url = url
        self.ok = ok
        self.httpStatus = httpStatus
        self.latencyMs = latencyMs
        self.error = error
        self.probedAt = probedAt
    }

}

/// A compare or bench run: its parameters and summary as JSON.
package struct RunRecord: Sendable {
    package var kind: String              // compare, bench
    package var parameters: JSONValue
    package var summary: JSONValue
    package var startedAt: Date
    package var durationMs: Double

    package init(kind: String, parameters: JSONValue, summary: JSONValue, startedAt: Date, durationMs: Double) {
        self.kind = kind
        self.parameters = parameters
        self.summary = summary
        self.startedAt = startedAt
        self.durationMs = durationMs
    }

}

/// One level of a bench run, a row of `bench_levels` beside the run's row in `runs`
/// (`level` is 0-based, in the order run).
package struct BenchLevelRecord: Sendable {
    package var level: Int
    package var mode: String
    package var concurrency: Int?
    package var requestedRate: Double?
    package var achievedRate: Double?
    package var wallMs: Double
    package var requests: Int
    package var ok: Int
    package var errors: Int
    package var requestsPerSecond: Double
    package var outputTokensPerSecond: Double
    package var ttftP50Ms: Double?
    package var ttftP99Ms: Double?
    package var itlP50Ms: Double?
    package var itlP99Ms: Double?
    package var iclP50Ms: Double?
    package var tpotP50Ms: Double?
    package var latencyP50Ms: Double?
    package var latencyP99Ms: Double?
    package var goodput: Double?
    package var sloMet: Bool?
    package var stopReason: String?

    package init(level: Int, mode: String, concurrency: Int?, requestedRate: Double?, achievedRate: Double?, wallMs: Double, requests: Int, ok: Int, errors: Int, requestsPerSecond: Double, outputTokensPerSecond: Double, ttftP50Ms: Double?, ttftP99Ms: Double?, itlP50Ms: Double?, itlP99Ms: Double?, iclP50Ms: Double?, tpotP50Ms: Double?, latencyP50Ms: Double?, latencyP99Ms: Double?, goodput: Double?, sloMet: Bool?, stopReason: String?) {
        self.level = level
        self.mode = mode
        self.concurrency = concurrency
        self.requestedRate = requestedRate
        self.achievedRate = achievedRate
        self.wallMs = wallMs
        self.requests = requests
        self.ok = ok
        self.errors = errors
        self.requestsPerSecond = requestsPerSecond
        self.outputTokensPerSecond = outputTokensPerSecond
        self.ttftP50Ms = ttftP50Ms
        self.ttftP99Ms = ttftP99Ms
        self.itlP50Ms = itlP50Ms
        self.itlP99Ms = itlP99Ms
        self.iclP50Ms = iclP50Ms
        self.tpotP50Ms = tpotP50Ms
        self.latencyP50Ms = latencyP50Ms
        self.latencyP99Ms = latencyP99Ms
        self.goodput = goodput
        self.sloMet = sloMet
        self.stopReason = stopReason
    }
}

package struct ServiceActionRecord: Sendable {
    package var action: String            // start, stop, restart, enable, disable
    package var service: String
    package var unit: String
    package var ok: Bool
    package var output: String
    package var at: Date

    package init(action: String, service: String, unit: String, ok: Bool, output: String, at: Date) {
        self.action = action
        self.service = service
        self.unit = unit
        self.ok = ok
        self.output = output
        self.at = at
    }

}

package struct MetricSampleRecord: Sendable {
    package var provider: String
    package var name: String
    package var labels: String
    package var value: Double
    package var at: Date

    package init(provider: String, name: String, labels: String, value: Double, at: Date) {
        self.provider = provider
        self.name = name
        self.labels = labels
        self.value = value
        self.at = at
    }

}

/// The session log's write side, as the rest of aish sees it. Implementations must never
/// throw into the caller: a log that cannot write warns once and keeps the shell working.
package protocol SessionRecorder: AnyObject {
    func beginCommand(text: String, sourceFile: String?, line: Int?) -> Int64?
    func endCommand(id: Int64?, record: CommandRecord)
    func recordAttempt(_ record: AttemptRecord)
    func recordMessage(_ record: MessageRecord)
    func recordHealthProbe(_ record: HealthProbeRecord)
    /// The run's id in the log; nil when the log is off or the write failed.
    @discardableResult func recordRun(_ record: RunRecord) -> Int64?
    /// A bench run and its levels (`bench_levels`); the run's id, nil when not recorded.
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
    package func addSecretVariableNames(_ names: [String]) {}

    /// Also redact these values (script variables with secret-looking names).
    package func addSecretValues(_ values: [String]) {}

    /// Without a table of levels: the run alone.
    package func recordBenchRun(_ record: RunRecord, levels: [BenchLevelRecord]) -> Int64? {
        recordRun(record)
    }

    /// Many attempts at once (bench, compare): one transaction where the log supports it.
    package func recordAttempts(_ records: [AttemptRecord]) {
        for r in records { recordAttempt(r) }
    }
}
