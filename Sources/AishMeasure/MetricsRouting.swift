import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishConfig
import AishProviders
import AishRouting

/// How `compare` and `bench` turn a model name into requests: exactly as `chat` does, one
/// `ChatTurn` through the router's plan per request (skips, failover before the first token,
/// router state told of every attempt), so the figures are what a chat user would see.
package enum MetricsRouting {
    /// `kind` goes into every attempt the turns record ("compare", "bench"); `system` and
    /// `options` (`compare -s`, `-o`) go with every request. Unless `useGatewayCache`, a
    /// LiteLLM gateway on the way is asked neither to answer from its response cache nor to
    /// store into it (`--cache` measures with it on purpose).
    package static func requester(for model: String, kind: String, ctx: ShellContext, system: String? = nil,
                          options: ChatOptions = ChatOptions(), useGatewayCache: Bool = false) throws -> ModelRequester {
        let config = try ctx.config()
        let router = ctx.routing.router(for: config)
        let state = ctx.routing.state
        let environment = ctx.environment
        let preview = router.plan(for: model, state: state, advance: false)
        if preview.usableSteps.isEmpty {
            var message = "\(kind): no usable route for model '\(model)'"
            if let why = preview.steps.first?.unusable { message += ": \(why)" }
            if let s = Suggest.closest(to: model, among: modelNames(ctx)), s != model { message += " — did you mean '\(s)'?" }
            throw CommandFailure(message)
        }
        // bench's load engine: each request goes to the available targets of a fresh plan
        // (so load-balancing strategies still spread the load), on to the next before the
        // first token as chat does.
        // A target is made once for each provider, model and reason a plan names (working
        // out its endpoint and API key for every request showed in bench's CPU time).
        struct TargetKey: Hashable { let provider: Int, model: String, reason: String }
        let made = Locked<[TargetKey: WireTarget]>([:])
        let wire: @Sendable () throws -> [WireTarget] = {
            let plan = router.plan(for: model, state: state)
            var targets: [WireTarget] = []
            var why: [String] = []
            for step in plan.usableSteps {
                guard let i = step.providerIndex else { continue }
                switch router.availability(of: step, state: state, environment: environment) {
                case .available:
                    let key = TargetKey(provider: i, model: step.backendModel, reason: step.reason)
                    if let known = made.withLock({ $0[key] }) {
                        targets.append(known)
                        continue
                    }
                    let target = try WireTarget(provider: router.providers[i], backendModel: step.backendModel,
                                                environment: environment, routeReason: step.reason,
                                                useGatewayCache: useGatewayCache)
                    made.withLock { $0[key] = target }
                    targets.append(target)
                case let .cooledDown(_, reason), let .rateLimited(_, reason), let .missingAPIKey(reason):
                    why.append("\(step.provider): \(reason)")
                }
            }
            guard targets.isEmpty else { return targets }
            throw RoutedRequestFailure(error: ProviderError(kind: .other, message: "no target of '\(model)' is available (\(why.joined(separator: "; ")))"),
                                       records: [], everyTargetSkipped: true)
        }
        return ModelRequester(wire: wire) { prompt, maxTokens, interrupt, onText in
            let failures = LastProviderError(nil)
            let turn = ChatTurn(router: router, state: state, environment: environment, interrupt: interrupt,
                                backend: { RememberingBackend(inner: ProviderClients.backend(for: $0, environment: environment),
                                                              failures: failures) })
            var messages = [ChatMessage(role: "user", content: prompt)]
            if let system, !system.isEmpty { messages.insert(ChatMessage(role: "system", content: system), at: 0) }
            var request = ChatRequest(model: model, messages: messages, temperature: options.temperature,
                                      maxTokens: maxTokens, topP: options.topP, seed: options.seed, stream: true)
            request.bypassGatewayCache = !useGatewayCache
            let plan = router.plan(for: model, input: RoutingInput(promptTokens: RoutingInput.estimateTokens(prompt),
                                                                   contextTokens: RoutingInput.estimateTokens(prompt)),
                                   state: state)
            let outcome = turn.run(plan: plan, request: request, prompt: prompt, kind: kind, onText: onText)
            let last = outcome.records.last(where: { $0.status != .skipped })
            switch outcome.status {
            case .ok:
                let summary = ChatCompletionSummary(text: outcome.reply, promptTokens: outcome.promptTokens,
                                                    completionTokens: outcome.tokensReported ? outcome.completionTokens : nil,
                                                    finishReason: outcome.finishReason, serverTimings: last?.serverTimings,
                                                    httpStatus: last?.httpStatus)
                return RequestOutcome(provider: outcome.provider ?? "", backendModel: outcome.backendModel ?? "",
                                      summary: summary, attempts: outcome.tried, routeReason: last?.routeReason,
                                      records: outcome.records, cacheHit: last?.cacheHit)
            case .cancelled:
                throw RoutedRequestFailure(error: ProviderError(kind: .cancelled, message: outcome.error ?? "cancelled",
                                                                partialText: outcome.reply),
                                           records: outcome.records)
            case .failed, .partial:
                // The backend's own error keeps its kind (timeout, 503, …) for "errors by kind".
                // (When every target was skipped no client ran: the turn's own words then.)
                var e = failures.value ?? ProviderError(kind: .other, message: outcome.error ?? "request failed")
                e.partialText = outcome.reply
                throw RoutedRequestFailure(error: e, records: outcome.records, everyTargetSkipped: failures.value == nil)
            }
        }
    }

    package static func modelNames(_ ctx: ShellContext) -> [String] {
        guard let config = try? ctx.config() else { return [] }
        var names = ctx.routing.router(for: config).configuredNames
        for p in config.providers.providers where p.isActive { names += p.models.map(\.name) }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}

/// A routed request that failed: the provider error that ended it, and the attempts the
/// turn recorded on the way.
package struct RoutedRequestFailure: UserFacingError {
    package var exitCode: ExitCode { .failure }
    package var error: ProviderError
    package var records: [AttemptRecord]
    /// No request went out: every target was skipped (cooling down after a 429, circuit open, …).
    package var everyTargetSkipped = false
    package var description: String { error.message }
}

/// The last error a provider client threw during one turn.
private typealias LastProviderError = Locked<ProviderError?>

/// Passes everything through to the real client, remembering what it threw.
private struct RememberingBackend: ChatBackend {
    var inner: ChatBackend
    var failures: LastProviderError

    func streamChat(_ request: ChatRequest, provider: ProviderConfig, interrupt: InterruptFlag,
                    onEvent: (ChatStreamEvent) -> Void) throws -> ChatCompletionSummary {
        do {
            return try inner.streamChat(request, provider: provider, interrupt: interrupt, onEvent: onEvent)
        } catch let e as ProviderError {
            failures.withLock { $0 = e }
            throw e
        }
    }
}
