import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// The attempts table declared once (see `LogTable`): INSERT, SELECT, the row reader and
/// the JSON form (`log --json`, `show --json`, `export`) all come from this list.
package enum AttemptColumns {
    package typealias Column = LogColumn<AttemptRecord, AttemptRow>

    package static let table = LogTable<AttemptRecord, AttemptRow>("attempts", [
        .id(\.id),
        .session(\.sessionID),
        .reference("command_id", table: "commands", \.commandID) { $0.commandID },
        .required("request_id", \.requestID) { $0.requestID },
        .required("kind", \.kind) { $0.kind },
        .required("started_at", \.startedAt) { LogTime.format($0.startedAt) },
        .required("requested_model", \.requestedModel) { $0.requestedModel },
        .required("route_reason", \.routeReason) { $0.routeReason },
        .required("provider", \.provider) { $0.provider },
        .required("backend_model", \.backendModel) { $0.backendModel },
        .required("attempt", \.attempt) { $0.attempt },
        .required("status", \.status) { $0.status.rawValue },
        .optional("http_status", \.httpStatus) { $0.httpStatus },
        .optional("error", \.error) { $0.error },
        .optional("ttft_ms", \.ttftMs) { $0.ttftMs },
        .optional("total_ms", \.totalMs) { $0.totalMs },
        .optional("prompt_tokens", \.promptTokens) { $0.promptTokens },
        .optional("completion_tokens", \.completionTokens) { $0.completionTokens },
        .optional("tokens_per_second", \.tokensPerSecond) { $0.tokensPerSecond },
        jsonText("server_timings", \.serverTimings) { $0.serverTimings },
        .required("prompt", \.prompt) { $0.prompt },
        .required("reply", \.reply) { $0.replyText },
        // Schema version 4: what `replay` resends, and what the gateway said it did.
        Column.optional("system_prompt", \.systemPrompt) { $0.systemPrompt }.added(in: 4),
        jsonText("options", \.options) { $0.options }.added(in: 4),
        gateway("gateway_deployment", \.deployment),
        gateway("gateway_model_group", \.modelGroup),
        gateway("gateway_model_id", \.modelID),
        gateway("gateway_api_base", \.apiBase),
        gateway("gateway_fallbacks", \.attemptedFallbacks),
        gateway("gateway_retries", \.attemptedRetries),
        gateway("gateway_overhead_ms", \.overheadMs),
        gateway("gateway_response_ms", \.responseMs),
        // Schema version 5: answered from a LiteLLM gateway's response cache (null: not a gateway).
        Column.optional("cache_hit", \.cacheHit) { $0.cacheHit }.added(in: 5),
    ])

    /// JSON stored as text; shown as the JSON value it holds.
    private static func jsonText(_ name: String, _ row: WritableKeyPath<AttemptRow, String?>,
                                 _ write: @escaping (AttemptRecord) -> JSONValue?) -> Column {
        var c = Column.optional(name, row) { write($0)?.serialized() }
        c.json = { r in r[keyPath: row].map { (try? JSONValue.parse($0)) ?? .string($0) } ?? .null }
        return c
    }

    /// A column of the gateway's headers (schema version 4); a row with none of them has no `gateway`.
    private static func gateway<V: SQLColumnValue>(_ name: String, _ kp: WritableKeyPath<GatewayInfo, V?>) -> Column {
        Column(name: name, sqlType: V.sqlType, write: { r, _ in r.gateway?[keyPath: kp]?.sqlValue ?? .null },
               read: { row, s, i in
                   guard let v = V.read(s, i) else { return }
                   var g = row.gateway ?? GatewayInfo()
                   g[keyPath: kp] = v
                   row.gateway = g
               },
               json: { $0.gateway?[keyPath: kp]?.json ?? .null }, since: 4)
    }
}
