import AishBase
import AishCommand
import AishRouting

/// The reports of the chat commands: `chat` (a streamed reply and its figures), `use`,
/// `system` and `reset`.

/// One `chat` turn. The reply was streamed while it arrived (not under --json), so the
/// runner does not print it again; the status line is written by the command itself.
package struct ChatReport: CommandReport {
    package var outcome: String
    package var model: String
    package var rule: String
    package var provider: String?
    package var backendModel: String?
    package var ttft: Double?
    package var latency: Double
    package var tokens: Int?
    package var promptTokens: Int?
    package var tokensPerSecond: Double?
    package var attempts: Int
    package var fallback: Bool
    package var fallbackFrom: String?
    package var fallbackReason: String?
    package var finishReason: String?
    package var replyBytes: Int
    package var truncated: Bool
    package var gateway: GatewayInfo?
    package var reply: String
    /// With `chat -x`: the reply's first fenced code block.
    package var code: String?
    package var error: String?
    package var streamed: Bool

    package init(_ o: ChatTurn.Outcome, model: String, rule: RouteRuleKind, streamed: Bool) {
        switch o.status {
        case .ok: outcome = "ok"
        case .failed: outcome = "failed"
        case .partial: outcome = "partial"
        case .cancelled: outcome = "cancelled"
        }
        self.model = model
        self.rule = rule.rawValue
        provider = o.provider
        backendModel = o.backendModel
        ttft = o.ttftMs
        latency = o.latencyMs
        tokens = o.completionTokens
        promptTokens = o.promptTokens
        tokensPerSecond = o.tokensPerSecond
        attempts = o.tried
        fallback = o.fallbackFrom != nil && o.provider != nil
        fallbackFrom = o.fallbackFrom?.provider
        fallbackReason = o.fallbackFrom?.reason
        finishReason = o.finishReason
        replyBytes = o.replyBytes
        truncated = o.replyTruncated
        gateway = o.gateway
        reply = o.reply
        // A turn that did not end well always says why.
        error = o.status == .ok ? nil : (o.error ?? "chat: the request did not complete")
        self.streamed = streamed
    }

    package enum CodingKeys: String, CodingKey {
        case outcome, model, rule, provider, backendModel = "backend_model", ttft = "ttft_ms", latency = "latency_ms", tokens
        case promptTokens = "prompt_tokens", tokensPerSecond = "tokens_per_second", attempts, fallback
        case fallbackFrom = "fallback_from", fallbackReason = "fallback_reason", finishReason = "finish_reason"
        case replyBytes = "reply_bytes", truncated
        case gatewayDeployment = "gateway_deployment", gatewayModelGroup = "gateway_model_group"
        case gatewayAPIBase = "gateway_api_base", gatewayFallbacks = "gateway_fallbacks"
        case gatewayRetries = "gateway_retries", gatewayOverhead = "gateway_overhead_ms", cacheHit = "cache_hit", reply, code
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // Every field is present in every turn (null when unknown), so scripts can rely on the keys.
        func put(_ v: (some Encodable)?, _ key: CodingKeys) throws {
            if let v { try c.encode(v, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
        // Times in ms to the microsecond: more digits would only be noise.
        func ms(_ v: Double?) -> Double? { v.map { ($0 * 1000).rounded() / 1000 } }
        try c.encode(outcome, forKey: .outcome)
        try c.encode(model, forKey: .model)
        try c.encode(rule, forKey: .rule)
        try put(provider, .provider)
        try put(backendModel, .backendModel)
        try put(ms(ttft), .ttft)
        try put(ms(latency), .latency)
        try put(tokens, .tokens)
        try put(promptTokens, .promptTokens)
        try put(ms(tokensPerSecond), .tokensPerSecond)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(fallback, forKey: .fallback)
        try put(fallbackFrom, .fallbackFrom)
        try put(fallbackReason, .fallbackReason)
        try put(finishReason, .finishReason)
        try c.encode(replyBytes, forKey: .replyBytes)
        try c.encode(truncated, forKey: .truncated)
        try put(gateway?.deployment, .gatewayDeployment)
        try put(gateway?.modelGroup, .gatewayModelGroup)
        try put(gateway?.apiBase, .gatewayAPIBase)
        try put(gateway?.attemptedFallbacks, .gatewayFallbacks)
        try put(gateway?.attemptedRetries, .gatewayRetries)
        try put(ms(gateway?.overheadMs), .gatewayOverhead)
        try put(gateway?.cacheHit, .cacheHit)
        try c.encode(reply, forKey: .reply)
        try put(code, .code)
    }

    package var failureMessage: String? { error }
    package var replyText: String? { reply }
    package var alreadyPrinted: Bool { streamed }

    package func renderText() -> String { reply }

    package static let fields = [
        ReportField("outcome", "ok, failed, partial (broke off after text was shown) or cancelled"),
        ReportField("model", "the name requested"),
        ReportField("rule", "the routing rule that matched it"),
        ReportField("provider", "the provider that answered"),
        ReportField("backend_model", "the model name sent to that provider"),
        ReportField("ttft_ms", "time to the first token, from the start of the request", unit: "ms"),
        ReportField("latency_ms", "total time, failed attempts included", unit: "ms"),
        ReportField("tokens", "completion tokens (as reported, else the pieces counted)"),
        ReportField("prompt_tokens", "prompt tokens, as reported"),
        ReportField("tokens_per_second", "decode speed after the first token"),
        ReportField("attempts", "targets sent a request"),
        ReportField("fallback", "whether a later target answered"),
        ReportField("fallback_from", "the first target that failed or was skipped"),
        ReportField("fallback_reason", "why it failed"),
        ReportField("finish_reason", "the server's finish_reason"),
        ReportField("reply_bytes", "size of the whole reply", unit: "bytes"),
        ReportField("truncated", "whether only the start of the reply was kept (max_reply_bytes)"),
        ReportField("gateway_deployment", "LiteLLM gateway: the deployment that answered; null without a gateway"),
        ReportField("gateway_model_group", "LiteLLM gateway: its model group"),
        ReportField("gateway_api_base", "LiteLLM gateway: the deployment's api_base"),
        ReportField("gateway_fallbacks", "LiteLLM gateway: its own fallbacks"),
        ReportField("gateway_retries", "LiteLLM gateway: its own retries"),
        ReportField("gateway_overhead_ms", "LiteLLM gateway: its own time, from x-litellm-overhead-duration-ms", unit: "ms"),
        ReportField("cache_hit", "LiteLLM gateway: answered from its response cache (null without a gateway)"),
        ReportField("reply", "the reply text (what expect contains and matches test)"),
        ReportField("code", "with -x: the reply's first fenced code block (null without -x or without a block)"),
    ]

    package static var example: ChatReport {
        var o = ChatTurn.Outcome(status: .ok)
        o.reply = "Hello!"
        o.provider = "llama_cpp_native"
        o.backendModel = "smollm2-135m"
        o.ttftMs = 231
        o.latencyMs = 610
        o.completionTokens = 10
        o.tried = 1
        o.replyBytes = 6
        return ChatReport(o, model: "llama3.2:1b", rule: .exactMatch, streamed: true)
    }
}

/// `use` without MODEL: the model the next `chat` goes to.
package struct ConversationModelReport: CommandReport, NilEncodesAsNull {
    package var model: String?
    /// "use" when chosen with `use`, "default" otherwise; null without a model.
    package var chosenBy: String?

    package enum CodingKeys: String, CodingKey { case model, chosenBy = "chosen_by" }

    package static let fields = [ReportField("model", "the conversation's model (null when none can be chosen)"),
                         ReportField("chosen_by", "use, or default ($model, $AISH_MODEL, the chat capability, the first name)")]
    package static let example = ConversationModelReport(model: "llama3.2:1b", chosenBy: "use")

    package func renderText() -> String {
        guard let model else { return "no model chosen: use MODEL" }
        return "\(model) (\(chosenBy == "use" ? "chosen with use" : "default"))"
    }
}

/// `use MODEL`: the model chosen and where a request would go now.
package struct UseReport: CommandReport, NilEncodesAsNull {
    package var model: String
    package var rule: String
    package var ruleDescription: String
    package var provider: String?
    package var backendModel: String?

    package enum CodingKeys: String, CodingKey { case model, rule, provider }

    package static let fields = [ReportField("model", "the model chosen"), ReportField("rule", "the routing rule that matched it"),
                         ReportField("provider", "the first provider a request would go to now (null when none can be tried)")]
    package static let example = UseReport(model: "llama3.2:1b", rule: "exact match", ruleDescription: "exact match 'llama3.2:1b'",
                                   provider: "ollama", backendModel: "llama3.2:1b")

    package func renderText() -> String {
        var text = "using \(model): \(ruleDescription)"
        if let provider, let backendModel { text += " → \(provider) · \(backendModel)" }
        return text
    }
}

/// `system`: the conversation's system prompt, after setting, clearing or showing it.
package struct SystemPromptReport: CommandReport, NilEncodesAsNull {
    package enum Action { case set, cleared, shown }
    package var system: String?
    package var action: Action

    package enum CodingKeys: String, CodingKey { case system }

    package static let fields = [ReportField("system", "the system prompt (null when there is none)")]
    package static let example = SystemPromptReport(system: "Answer briefly.", action: .set)

    package func renderText() -> String {
        switch action {
        case .set: return ""
        case .cleared: return "system prompt removed"
        case .shown: return system ?? "no system prompt"
        }
    }
}

/// `reset`: a new conversation.
package struct ResetReport: CommandReport {
    package var conversation: String
    package var turnsDropped: Int

    package enum CodingKeys: String, CodingKey { case conversation, turnsDropped = "turns_dropped" }

    package static let fields = [ReportField("conversation", "the new conversation's id (its messages in the log carry it)"),
                         ReportField("turns_dropped", "turns of the previous conversation")]
    package static let example = ResetReport(conversation: "3f2a…", turnsDropped: 2)

    package func renderText() -> String {
        "new conversation (\(turnsDropped) earlier turn\(turnsDropped == 1 ? "" : "s") dropped)"
    }
}
