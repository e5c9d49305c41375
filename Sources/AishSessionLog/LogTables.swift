import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// The session log's other tables, each declared once (see `LogTable`; attempts are in
/// `AttemptColumns`). Sessions and commands are read back (`show`, `log --commands`), so
/// their records are their row types; the others are only written (`sql` reads them).
package enum LogTables {
    package static let sessions = LogTable<SessionRow, SessionRow>("sessions", [
        .id(\.id),
        .required("started_at", \.startedAt) { $0.startedAt },
        .optional("ended_at", \.endedAt) { $0.endedAt },
        .required("mode", \.mode) { $0.mode },
        .optional("script_path", \.scriptPath) { $0.scriptPath },
        .required("aish_version", \.aishVersion) { $0.aishVersion },
        .required("host", \.host) { $0.host },
        .required("pid", \.pid) { $0.pid },
    ])

    /// A session ends by setting its end time.
    package static let endSession = sessions.update(setting: ["ended_at"])

    /// A command is inserted as `running` when it starts; finishing it rewrites these.
    package static let commands = LogTable<CommandRow, CommandRow>("commands", [
        .id(\.id),
        .session(\.sessionID),
        .required("started_at", \.startedAt) { $0.startedAt },
        .required("text", \.text) { $0.text },
        .optional("source_file", \.sourceFile) { $0.sourceFile },
        .optional("line", \.line) { $0.line },
        .required("status", \.status, sqlSuffix: " DEFAULT 'running'") { $0.status },
        .optional("duration_ms", \.durationMs) { $0.durationMs },
        .optional("error", \.error) { $0.error },
    ])

    package static let finishCommand = commands.update(setting: ["text", "status", "duration_ms", "error"])

    package static let messages = LogTable<MessageRecord, MessageRecord>("messages", [
        .id(),
        .session(),
        .required("conversation_id") { $0.conversationID },
        .required("role") { $0.role },
        .required("content") { $0.content },
        .optional("model") { $0.model },
        .required("created_at") { LogTime.format($0.createdAt) },
    ])

    package static let healthProbes = LogTable<HealthProbeRecord, HealthProbeRecord>("health_probes", [
        .id(),
        .session(),
        .required("probed_at") { LogTime.format($0.probedAt) },
        .required("provider") { $0.provider },
        .required("url") { $0.url },
        .required("ok") { $0.ok },
        .optional("http_status") { $0.httpStatus },
        .optional("latency_ms") { $0.latencyMs },
        .optional("error") { $0.error },
    ])

    /// A compare or bench run; parameters and summary are JSON text.
    package static let runs = LogTable<RunRecord, RunRecord>("runs", [
        .id(),
        .session(),
        .required("kind") { $0.kind },
        .required("started_at") { LogTime.format($0.startedAt) },
        .required("duration_ms") { $0.durationMs },
        .required("parameters") { $0.parameters.serialized() },
        .required("summary") { $0.summary.serialized() },
    ])

    /// Each level of a bench run (schema version 6): what `bench --compare` and SQL read.
    package static let benchLevels = LogTable<BenchLevelRecord, BenchLevelRecord>("bench_levels", benchLevelColumns().map { $0.added(in: 6) })

    private static func benchLevelColumns() -> [LogColumn<BenchLevelRecord, BenchLevelRecord>] { [
        .id(),
        .reference("run_id", table: "runs", nil) { $0.runID },
        .required("level") { $0.level },
        .required("mode") { $0.mode },
        .optional("concurrency") { $0.concurrency },
        .optional("requested_rate") { $0.requestedRate },
        .optional("achieved_rate") { $0.achievedRate },
        .required("wall_ms") { $0.wallMs },
        .required("requests") { $0.requests },
        .required("ok") { $0.ok },
        .required("errors") { $0.errors },
        .required("requests_per_second") { $0.requestsPerSecond },
        .required("output_tokens_per_second") { $0.outputTokensPerSecond },
        .optional("ttft_p50_ms") { $0.ttftP50Ms },
        .optional("ttft_p99_ms") { $0.ttftP99Ms },
        .optional("itl_p50_ms") { $0.itlP50Ms },
        .optional("itl_p99_ms") { $0.itlP99Ms },
        .optional("icl_p50_ms") { $0.iclP50Ms },
        .optional("tpot_p50_ms") { $0.tpotP50Ms },
        .optional("latency_p50_ms") { $0.latencyP50Ms },
        .optional("latency_p99_ms") { $0.latencyP99Ms },
        .optional("goodput") { $0.goodput },
        .optional("slo_met") { $0.sloMet },
        .optional("stop_reason") { $0.stopReason },
    ] }

    package static let serviceActions = LogTable<ServiceActionRecord, ServiceActionRecord>("service_actions", [
        .id(),
        .session(),
        .required("at") { LogTime.format($0.at) },
        .required("action") { $0.action },
        .required("service") { $0.service },
        .required("unit") { $0.unit },
        .required("ok") { $0.ok },
        .required("output") { $0.output },
    ])

    package static let metricSamples = LogTable<MetricSampleRecord, MetricSampleRecord>("metric_samples", [
        .id(),
        .session(),
        .required("at") { LogTime.format($0.at) },
        .required("provider") { $0.provider },
        .required("name") { $0.name },
        .required("labels") { $0.labels },
        .required("value") { $0.value },
    ])

    /// Every table the log writes rows to, in the order the first migration creates them.
    package static let all: [LogTableShape] = [
        sessions.shape, commands.shape, AttemptColumns.table.shape, messages.shape, healthProbes.shape, runs.shape,
        serviceActions.shape, metricSamples.shape, benchLevels.shape,
    ]
}
