import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishHTTP
import AishProviders
import AishRouting

/// One chat request carried through an attempt plan (SPEC §3): targets that cannot be tried
/// now are skipped; a failure before the first token moves on to the next target without a
/// trace on the screen; a failure after tokens were shown ends the request with the partial
/// reply kept; Ctrl-C cancels. Every attempt becomes an `AttemptRecord`, handed back for
/// the log once the stream is over.
package struct ChatTurn {
    package enum Status: Equatable, Sendable {
        case ok
        /// Every target failed (or none could be tried) before a token arrived.
        case failed
        /// The answering target failed after tokens were shown.
        case partial
        case cancelled
    }

    package struct Outcome {
        package var status: Status
        package var reply = ""
        package var provider: String?
        package var backendModel: String?
        /// From the start of the request (failed attempts included), as the user waits.
        package var ttftMs: Double?
        package var latencyMs: Double = 0
        package var promptTokens: Int?
        package var completionTokens: Int?
        /// Whether the server reported `completionTokens` (else they are the chunks counted).
        package var tokensReported = false
        package var tokensPerSecond: Double?
        package var finishReason: String?
        /// Size of the whole reply (shown in full), and whether `reply` keeps only its start.
        package var replyBytes = 0
        package var replyTruncated = false
        /// Targets actually sent a request.
        package var tried = 0
        package var fallbackFrom: (provider: String, reason: String)?
        package var error: String?
        package var records: [AttemptRecord] = []
        /// What the gateway said it did, when the answer came through a LiteLLM gateway.
        package var gateway: GatewayInfo?
    }

    package let router: Router
    package let state: RouterState
    package let environment: [String: String]
    package let interrupt: InterruptFlag
    package let backend: (ProviderConfig) -> ChatBackend
    /// Monotonic seconds.
    package var clock: () -> Double = { MonotonicClock.now() }
    /// A failover drill: the first target that would be tried counts as failed for this
    /// request only (nothing is sent to it, and the router's health state is not touched).
    package var failFirstTarget = false
    /// Caps every target's timeouts (seconds), e.g. a drill's --timeout.
    package var timeoutCap: Double? = nil

    package init(router: Router, state: RouterState, environment: [String: String], interrupt: InterruptFlag,
                 backend: @escaping (ProviderConfig) -> ChatBackend, failFirstTarget: Bool = false,
                 timeoutCap: Double? = nil) {
        self.router = router
        self.state = state
        self.environment = environment
        self.interrupt = interrupt
        self.backend = backend
        self.failFirstTarget = failFirstTarget
        self.timeoutCap = timeoutCap
    }

    package init(router: Router, state: RouterState, environment: [String: String], interrupt: InterruptFlag,
                 backend: @escaping (ProviderConfig) -> ChatBackend, timeoutCap: Double? = nil) {
        self.router = router
        self.state = state
        self.environment = environment
        self.interrupt = interrupt
        self.backend = backend
        self.timeoutCap = timeoutCap
    }

    /// Runs `request` (its `model` is set per target) through `plan`; `onText` gets each
    /// piece of the reply as it arrives.
    package func run(plan: AttemptPlan, request: ChatRequest, prompt: String, kind: String = "chat",
             onText: (String) -> Void) -> Outcome {
        let start = clock()
        var log = AttemptLog(plan: plan, prompt: prompt, kind: kind, request: request,
                             providers: router.providers)
        var pendingDrillFailure = failFirstTarget
        var cancelledBefore: String?
        for step in plan.steps {
            guard let provider = admit(step, &log) else { continue }
            if pendingDrillFailure {
                pendingDrillFailure = false
                // Not sent: recorded as skipped, so that no error rate counts it.
                let why = "drill: marked failed for this request (not sent)"
                log.record(step, .skipped, error: why)
                log.skipped(step, why, short: "drill")
                continue
            }
            if interrupt.isRaised {
                cancelledBefore = "cancelled (Ctrl-C) before \(step.provider) was tried"
                break
            }
            log.tried += 1
            if let ended = attempt(step, provider: provider, request: request, since: start, log: &log, onText: onText) {
                return log.completing(ended)
            }
        }
        return log.completing(Outcome(status: cancelledBefore == nil ? .failed : .cancelled, latencyMs: (clock() - start) * 1000,
                                      error: cancelledBefore ?? noAnswer(plan, log)))
    }

    /// The provider to send `step` to, or nil when it cannot be tried now (recorded as skipped, with why).
    private func admit(_ step: PlanStep, _ log: inout AttemptLog) -> ProviderConfig? {
        if let why = step.unusable {
            log.record(step, .skipped, error: why)
            return nil
        }
        switch router.availability(of: step, state: state, environment: environment) {
        case .available: break
        case let .cooledDown(until, reason):
            log.record(step, .skipped, error: "cooled down until \(RouteReport.clockTime(until)) (\(reason))")
            log.skipped(step, "cooled down until \(RouteReport.clockTime(until))")
            return nil
        case let .rateLimited(until, reason):
            log.record(step, .skipped, error: "rate limited until \(RouteReport.clockTime(until)) (\(reason))")
            log.skipped(step, "rate limited until \(RouteReport.clockTime(until))")
            return nil
        case let .missingAPIKey(reason):
            log.record(step, .skipped, error: reason)
            log.skipped(step, "no API key")
            return nil
        }
        // A provider that just failed as a whole (down, timed out, 5xx) is not asked again
        // for another model within the same request.
        if let earlier = log.failedProviders[step.provider] {
            log.record(step, .skipped, error: "provider \(step.provider) already failed for this request (\(earlier))")
            return nil
        }
        guard let index = step.providerIndex else { return nil }
        var provider = router.providers[index]
        if let cap = timeoutCap {
            provider.timeouts.connect = min(provider.timeouts.connect, cap)
            provider.timeouts.firstToken = min(provider.timeouts.firstToken, cap)
            provider.timeouts.idle = min(provider.timeouts.idle, cap)
        }
        return provider
    }

    /// Sends the request to one target. nil: it failed before any text was shown (recorded,
    /// and on to the next target); else how the request ends (answered, cancelled, or broken
    /// off after text was shown), timed from `start`.
    private func attempt(_ step: PlanStep, provider: ProviderConfig, request: ChatRequest, since start: Double,
                         log: inout AttemptLog, onText: (String) -> Void) -> Outcome? {
        var req = request
        req.model = step.backendModel
        // chat keeps the reply itself from the streamed pieces; the client need not keep a second copy.
        req.maxReplyBytes = 0
        req.maxWholeReplyBytes = HTTPTransport.BodyCap.wholeReply(keeping: request.maxReplyBytes)
        var sent = InFlight(step: step, start: clock(), ticket: state.begin(step), text: BoundedReply(limit: request.maxReplyBytes))
        do {
            let summary = try backend(provider).streamChat(req, provider: provider, interrupt: interrupt) { event in
                guard case let .text(piece) = event, !piece.isEmpty else { return }
                // A request that was not streamed has no first token: its text comes whole at the end.
                if sent.firstToken == nil, request.stream { sent.firstToken = clock() }
                sent.chunks += 1
                sent.text.append(piece)
                onText(piece)
            }
            return answered(&sent, summary, limit: request.maxReplyBytes, since: start, log: &log)
        } catch {
            let e = error as? ProviderError ?? ProviderError(kind: .other, message: "\(step.provider): \(error)")
            return brokeOff(&sent, e, limit: request.maxReplyBytes, since: start, log: &log)
        }
    }

    /// One request on the wire: when it started, and what has arrived.
    private struct InFlight {
        let step: PlanStep
        let startedAt = Date()
        /// Monotonic seconds.
        let start: Double
        let ticket: RouterState.Ticket
        var firstToken: Double?
        var text: BoundedReply
        var chunks = 0

        func ms(_ t: Double) -> Double { (t - start) * 1000 }
        var ttftMs: Double? { firstToken.map(ms) }
    }

    /// The target answered: recorded, and the request's outcome.
    private func answered(_ sent: inout InFlight, _ summary: ChatCompletionSummary, limit: Int, since start: Double,
                          log: inout AttemptLog) -> Outcome {
        let end = clock()
        let completion = summary.completionTokens ?? sent.chunks
        let rate = Self.rate(tokens: completion, firstToken: sent.firstToken, end: end)
        let gateway = summary.gateway?.resolvingDeployment(router.providers)
        state.finish(sent.ticket, outcome: .success(ttftMs: sent.ttftMs, totalMs: sent.ms(end)),
                     tokens: (summary.promptTokens ?? log.promptEstimate) + completion, rules: router.specialCases)
        // A backend that streamed gave its pieces; one that did not gives its text whole.
        var reply = sent.text.isEmpty ? BoundedReply(summary.text, limit: limit) : sent.text
        sent.text = BoundedReply(limit: 0)   // one owner of the kept text, so takeText appends in place
        let replyText = reply.takeText()
        log.record(sent.step, .ok, ttft: sent.ttftMs, total: sent.ms(end), summary: summary, text: replyText, at: sent.startedAt,
                   tokensPerSecond: rate, gateway: gateway)
        return Outcome(status: .ok, reply: replyText, provider: sent.step.provider, backendModel: sent.step.backendModel,
                       ttftMs: sent.firstToken.map { ($0 - start) * 1000 }, latencyMs: (end - start) * 1000,
                       promptTokens: summary.promptTokens, completionTokens: completion,
                       tokensReported: summary.completionTokens != nil, tokensPerSecond: rate, finishReason: summary.finishReason,
                       replyBytes: reply.totalBytes, replyTruncated: reply.isTruncated, gateway: gateway)
    }

    /// The target failed or Ctrl-C cancelled it: recorded. nil when nothing was shown yet
    /// (on to the next target, transparently); else the request ends here, its partial reply kept.
    private func brokeOff(_ sent: inout InFlight, _ e: ProviderError, limit: Int, since start: Double,
                          log: inout AttemptLog) -> Outcome? {
        let end = clock()
        let step = sent.step
        let shown = !sent.text.isEmpty
        let partial = shown ? sent.text.takeText() : BoundedReply(e.partialText, limit: limit).text
        let rate = shown ? Self.rate(tokens: sent.chunks, firstToken: sent.firstToken, end: end) : nil
        var ended = Outcome(status: .cancelled, reply: partial, provider: step.provider, backendModel: step.backendModel,
                            ttftMs: sent.firstToken.map { ($0 - start) * 1000 }, latencyMs: (end - start) * 1000,
                            completionTokens: shown ? sent.chunks : 0, tokensPerSecond: rate,
                            replyBytes: shown ? sent.text.totalBytes : e.partialText.utf8.count, replyTruncated: sent.text.isTruncated)
        if e.kind == .cancelled {
            state.finish(sent.ticket, outcome: .cancelled, tokens: log.promptEstimate, rules: router.specialCases)
            log.record(step, .cancelled, error: e.message, http: e.httpStatus, ttft: sent.ttftMs, total: sent.ms(end),
                       text: partial, at: sent.startedAt)
            ended.error = shown ? "reply cancelled (Ctrl-C); the partial reply is kept" : "request cancelled (Ctrl-C)"
            return ended
        }
        state.finish(sent.ticket, outcome: .failure(e.kind), tokens: shown ? log.promptEstimate + sent.chunks : 0,
                     rules: router.specialCases)
        let status: AttemptStatus = shown ? .partial : (e.kind == .firstByteTimeout || e.kind == .idleTimeout ? .timeout : .error)
        log.record(step, status, error: e.message, http: e.httpStatus, ttft: sent.ttftMs, total: sent.ms(end),
                   text: partial, at: sent.startedAt, tokensPerSecond: rate)
        guard shown else {
            if RouterState.countsAgainstHealth(e.kind) { log.failedProviders[step.provider] = Self.shortReason(e) }
            log.skipped(step, e.message, short: Self.shortReason(e))
            return nil
        }
        ended.status = .partial
        ended.error = "the reply from \(step.provider) broke off after \(sent.chunks) chunk\(sent.chunks == 1 ? "" : "s"): \(e.message)"
        return ended
    }

    /// Why no target answered (none could be tried, or every one failed before any text).
    private func noAnswer(_ plan: AttemptPlan, _ log: AttemptLog) -> String {
        guard log.tried == 0 && log.failures.isEmpty else {
            return "'\(plan.requestedModel)' failed on every target (\(log.failures.count) tried or skipped):\n  "
                + log.failures.joined(separator: "\n  ")
        }
        guard plan.steps.isEmpty else {
            return "no target for '\(plan.requestedModel)' can be tried (see: route \(plan.requestedModel))"
        }
        var message = "no target for '\(plan.requestedModel)': \(plan.ruleDescription)"
        let names = router.configuredNames + router.providers.flatMap { $0.models.map(\.name) }
        if let s = Suggest.closest(to: plan.requestedModel, among: names) { message += " — did you mean '\(s)'?" }
        return message
    }

    /// What one request leaves behind besides its ending: an `AttemptRecord` per target, why
    /// each one before the answer was skipped or failed, and the first of them (the fallback).
    private struct AttemptLog {
        let plan: AttemptPlan
        let prompt: String
        let kind: String
        let providers: [ProviderConfig]
        let requestID = RequestID.make()
        let systemPrompt: String?
        let options: JSONValue?
        let promptEstimate: Int
        var records: [AttemptRecord] = []
        var failures: [String] = []
        var fallbackFrom: (provider: String, reason: String)?
        var failedProviders: [String: String] = [:]
        var tried = 0

        init(plan: AttemptPlan, prompt: String, kind: String, request: ChatRequest, providers: [ProviderConfig]) {
            self.plan = plan
            self.prompt = prompt
            self.kind = kind
            self.providers = providers
            systemPrompt = request.messages.first(where: { $0.role == "system" })?.content
            options = request.optionsJSON
            promptEstimate = request.messages.reduce(0) { $0 + RoutingInput.estimateTokens($1.content) }
        }

        mutating func record(_ step: PlanStep, _ status: AttemptStatus, error: String? = nil, http: Int? = nil, ttft: Double? = nil,
                             total: Double? = nil, summary: ChatCompletionSummary? = nil, text: String = "", at: Date = Date(),
                             tokensPerSecond: Double? = nil, gateway: GatewayInfo? = nil) {
            var reason = step.reason
            if let loc = step.location { reason += " (\(loc.citation))" }
            // The step's own reason often is the rule ("exact match 'x'"): say it once.
            if !reason.hasPrefix(plan.ruleDescription) { reason = "\(plan.ruleDescription): \(reason)" }
            let throughGateway = step.providerIndex.map { providers[$0].type == .litellm } ?? false
            records.append(AttemptRecord(
                requestID: requestID, requestedModel: plan.requestedModel, routeReason: reason, provider: step.provider,
                backendModel: step.backendModel, attempt: records.count + 1, status: status, httpStatus: http ?? summary?.httpStatus,
                error: error, ttftMs: ttft, totalMs: total, promptTokens: summary?.promptTokens,
                completionTokens: summary?.completionTokens, tokensPerSecond: tokensPerSecond,
                serverTimings: summary?.serverTimings, prompt: prompt, replyText: text, startedAt: at, kind: kind,
                systemPrompt: systemPrompt, options: options, gateway: gateway,
                cacheHit: GatewayInfo.cacheHit(gateway, throughGateway: throughGateway)))
        }

        /// A target passed over before the answer: `why` for the failure list, `short` for the status line.
        mutating func skipped(_ step: PlanStep, _ why: String, short: String? = nil) {
            failures.append("\(step.provider): \(why)")
            if fallbackFrom == nil { fallbackFrom = (step.provider, short ?? why) }
        }

        /// `out` with what the request left behind on the way.
        func completing(_ out: Outcome) -> Outcome {
            var out = out
            out.tried = tried
            out.fallbackFrom = fallbackFrom
            out.records = records
            return out
        }
    }

    /// Decode speed: tokens after the first over the time since the first.
    package static func rate(tokens: Int, firstToken: Double?, end: Double) -> Double? {
        guard let first = firstToken, tokens > 1, end > first else { return nil }
        return Double(tokens - 1) / (end - first)
    }

    /// A few words for the status line: "HTTP 500", "connection refused", "429".
    package static func shortReason(_ e: ProviderError) -> String {
        switch e.kind {
        case .connectionFailed: return "connection failed"
        case .firstByteTimeout: return "no first token in time"
        case .idleTimeout: return "stalled"
        case let .http(status): return "HTTP \(status)"
        case let .rateLimited(retryAfter): return retryAfter.map { "HTTP 429, retry after \(JSONValue.format($0))s" } ?? "HTTP 429"
        case .malformedStream: return "malformed stream"
        case .truncatedStream: return "stream cut short"
        case .cancelled: return "cancelled"
        case .missingAPIKey: return "no API key"
        case .other: return e.message
        }
    }
}
