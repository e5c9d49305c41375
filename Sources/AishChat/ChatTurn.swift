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
        let requestID = UUID().uuidString
        let start = clock()
        var out = Outcome(status: .failed)
        var failures: [String] = []
        var number = 0
        var failedProviders: [String: String] = [:]
        let promptEstimate = request.messages.reduce(0) { $0 + RoutingInput.estimateTokens($1.content) }
        let systemPrompt = request.messages.first(where: { $0.role == "system" })?.content
        let options = request.optionsJSON
        var pendingDrillFailure = failFirstTarget

        func record(_ step: PlanStep, _ status: AttemptStatus, error: String? = nil, http: Int? = nil, ttft: Double? = nil,
                    total: Double? = nil, summary: ChatCompletionSummary? = nil, text: String = "", at: Date = Date(),
                    tokensPerSecond: Double? = nil, gateway: GatewayInfo? = nil) {
            number += 1
            var reason = step.reason
            if let loc = step.location { reason += " (\(loc.citation))" }
            // The step's own reason often is the rule ("exact match 'x'"): say it once.
            if !reason.hasPrefix(plan.ruleDescription) { reason = "\(plan.ruleDescription): \(reason)" }
            // Through a LiteLLM gateway: answered from its response cache or not; else unknown (nil).
            let throughGateway = step.providerIndex.map { router.providers[$0].type == .litellm } ?? false
            out.records.append(AttemptRecord(
                requestID: requestID, requestedModel: plan.requestedModel, routeReason: reason, provider: step.provider,
                backendModel: step.backendModel, attempt: number, status: status, httpStatus: http ?? summary?.httpStatus,
                error: error, ttftMs: ttft, totalMs: total, promptTokens: summary?.promptTokens,
                completionTokens: summary?.completionTokens, tokensPerSecond: tokensPerSecond,
                serverTimings: summary?.serverTimings, prompt: prompt, replyText: text, startedAt: at, kind: kind,
                systemPrompt: systemPrompt, options: options, gateway: gateway,
                cacheHit: throughGateway ? (gateway?.cacheHit ?? false) : nil))
        }

        func skipped(_ step: PlanStep, _ why: String) {
            failures.append("\(step.provider): \(why)")
            if out.fallbackFrom == nil { out.fallbackFrom = (step.provider, why) }
        }

        for step in plan.steps {
            if let why = step.unusable {
                record(step, .skipped, error: why)
                continue
            }
            switch router.availability(of: step, state: state, environment: environment) {
            case .available: break
            case let .cooledDown(until, reason):
                record(step, .skipped, error: "cooled down until \(RouteReport.clockTime(until)) (\(reason))")
                skipped(step, "cooled down until \(RouteReport.clockTime(until))")
                continue
            case let .rateLimited(until, reason):
                record(step, .skipped, error: "rate limited until \(RouteReport.clockTime(until)) (\(reason))")
                skipped(step, "rate limited until \(RouteReport.clockTime(until))")
                continue
            case let .missingAPIKey(reason):
                record(step, .skipped, error: reason)
                skipped(step, "no API key")
                continue
            }
            // A provider that just failed as a whole (down, timed out, 5xx) is not asked again
            // for another model within the same request.
            if let earlier = failedProviders[step.provider] {
                record(step, .skipped, error: "provider \(step.provider) already failed for this request (\(earlier))")
                continue
            }
            guard let providerIndex = step.providerIndex else { continue }
            if pendingDrillFailure {
                pendingDrillFailure = false
                // Not sent: recorded as skipped, so that no error rate counts it.
                let why = "drill: marked failed for this request (not sent)"
                record(step, .skipped, error: why)
                failures.append("\(step.provider): \(why)")
                if out.fallbackFrom == nil { out.fallbackFrom = (step.provider, "drill") }
                continue
            }
            if interrupt.isRaised {
                out.status = .cancelled
                out.error = "cancelled (Ctrl-C) before \(step.provider) was tried"
                break
            }
            var provider = router.providers[providerIndex]
            if let cap = timeoutCap {
                provider.timeouts.connect = min(provider.timeouts.connect, cap)
                provider.timeouts.firstToken = min(provider.timeouts.firstToken, cap)
                provider.timeouts.idle = min(provider.timeouts.idle, cap)
            }
            var req = request
            req.model = step.backendModel
            // chat keeps the reply itself from the streamed pieces; the client need not keep a second copy.
            req.maxReplyBytes = 0
            req.maxWholeReplyBytes = HTTPTransport.BodyCap.wholeReply(keeping: request.maxReplyBytes)
            let startedAt = Date()
            let attemptStart = clock()
            var firstToken: Double?
            var text = BoundedReply(limit: request.maxReplyBytes)
            var chunks = 0
            let ticket = state.begin(step)
            out.tried += 1
            do {
                let summary = try backend(provider).streamChat(req, provider: provider, interrupt: interrupt) { event in
                    guard case let .text(piece) = event, !piece.isEmpty else { return }
                    // A request that was not streamed has no first token: its text comes whole at the end.
                    if firstToken == nil, request.stream { firstToken = clock() }
                    chunks += 1
                    text.append(piece)
                    onText(piece)
                }
                let end = clock()
                let completion = summary.completionTokens ?? chunks
                let rate = Self.rate(tokens: completion, firstToken: firstToken, end: end)
                let gateway = summary.gateway?.resolvingDeployment(router.providers)
                let attemptTTFT = firstToken.map { ($0 - attemptStart) * 1000 }
                state.finish(ticket, outcome: .success(ttftMs: attemptTTFT, totalMs: (end - attemptStart) * 1000),
                             tokens: (summary.promptTokens ?? promptEstimate) + completion, rules: router.specialCases)
                // A backend that streamed gave its pieces; one that did not gives its text whole.
                var reply = text.isEmpty ? BoundedReply(summary.text, limit: request.maxReplyBytes) : text
                text = BoundedReply(limit: 0)   // one owner of the kept text, so takeText appends in place
                let replyText = reply.takeText()
                record(step, .ok, ttft: attemptTTFT, total: (end - attemptStart) * 1000, summary: summary,
                       text: replyText, at: startedAt, tokensPerSecond: rate,
                       gateway: gateway)
                out.status = .ok
                out.reply = replyText
                out.replyBytes = reply.totalBytes
                out.replyTruncated = reply.isTruncated
                out.provider = step.provider
                out.backendModel = step.backendModel
                out.ttftMs = firstToken.map { ($0 - start) * 1000 }
                out.latencyMs = (end - start) * 1000
                out.promptTokens = summary.promptTokens
                out.completionTokens = completion
                out.tokensReported = summary.completionTokens != nil
                out.tokensPerSecond = rate
                out.finishReason = summary.finishReason
                out.gateway = gateway
                return out
            } catch {
                let end = clock()
                let e = error as? ProviderError ?? ProviderError(kind: .other, message: "\(step.provider): \(error)")
                let partial = text.isEmpty ? BoundedReply(e.partialText, limit: request.maxReplyBytes).text : text.takeText()
                let attemptTTFT = firstToken.map { ($0 - attemptStart) * 1000 }
                let total = (end - attemptStart) * 1000
                let shown = !text.isEmpty
                if e.kind == .cancelled {
                    state.finish(ticket, outcome: .cancelled, tokens: promptEstimate, rules: router.specialCases)
                    record(step, .cancelled, error: e.message, http: e.httpStatus, ttft: attemptTTFT, total: total,
                           text: partial, at: startedAt)
                    out.status = .cancelled
                    out.error = shown ? "reply cancelled (Ctrl-C); the partial reply is kept" : "request cancelled (Ctrl-C)"
                } else {
                    state.finish(ticket, outcome: .failure(e.kind), tokens: shown ? promptEstimate + chunks : 0,
                                 rules: router.specialCases)
                    let status: AttemptStatus = shown ? .partial
                        : (e.kind == .firstByteTimeout || e.kind == .idleTimeout ? .timeout : .error)
                    record(step, status, error: e.message, http: e.httpStatus, ttft: attemptTTFT, total: total,
                           text: partial, at: startedAt,
                           tokensPerSecond: shown ? Self.rate(tokens: chunks, firstToken: firstToken, end: end) : nil)
                    if !shown {
                        // Nothing shown yet: on to the next target, transparently.
                        failures.append("\(step.provider): \(e.message)")
                        if RouterState.countsAgainstHealth(e.kind) { failedProviders[step.provider] = Self.shortReason(e) }
                        if out.fallbackFrom == nil { out.fallbackFrom = (step.provider, Self.shortReason(e)) }
                        continue
                    }
                    out.status = .partial
                    out.error = "the reply from \(step.provider) broke off after \(chunks) chunk\(chunks == 1 ? "" : "s"): \(e.message)"
                }
                out.reply = partial
                out.replyBytes = text.isEmpty ? e.partialText.utf8.count : text.totalBytes
                out.replyTruncated = text.isTruncated
                out.provider = step.provider
                out.backendModel = step.backendModel
                out.ttftMs = firstToken.map { ($0 - start) * 1000 }
                out.latencyMs = (end - start) * 1000
                out.completionTokens = shown ? chunks : 0
                out.tokensPerSecond = shown ? Self.rate(tokens: chunks, firstToken: firstToken, end: end) : nil
                return out
            }
        }
        out.latencyMs = (clock() - start) * 1000
        if out.status == .failed {
            if out.tried == 0 && failures.isEmpty {
                var message = "no target for '\(plan.requestedModel)': \(plan.ruleDescription)"
                let names = router.configuredNames + router.providers.flatMap { $0.models.map(\.name) }
                if let s = Suggest.closest(to: plan.requestedModel, among: names) { message += " — did you mean '\(s)'?" }
                out.error = plan.steps.isEmpty ? message
                    : "no target for '\(plan.requestedModel)' can be tried (see: route \(plan.requestedModel))"
            } else {
                let n = failures.count
                out.error = "'\(plan.requestedModel)' failed on every target (\(n) tried or skipped):\n  "
                    + failures.joined(separator: "\n  ")
            }
        }
        return out
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
