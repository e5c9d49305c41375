import Foundation

/// How `compare` and `bench` turn a model name into requests, the way `chat` routes it:
/// the router's plan for the name, tried step by step until one answers (failover only
/// before the first token), with the router's state told of every attempt so that
/// cooldowns, rate limits, least-loaded and fastest-response choices see this traffic too.
enum MetricsRouting {
    static func requester(for model: String, ctx: ShellContext) throws -> ModelRequester {
        let config = try ctx.config()
        let router = ctx.routing.router(for: config)
        let state = ctx.routing.state
        let environment = ctx.environment
        let preview = router.plan(for: model, state: state, advance: false)
        if preview.usableSteps.isEmpty {
            var message = "no usable route for model '\(model)'"
            if let why = preview.steps.first?.unusable { message += ": \(why)" }
            if let s = Suggest.closest(to: model, among: modelNames(ctx)) { message += " — did you mean '\(s)'?" }
            throw CommandFailure(message)
        }
        return ModelRequester { prompt, maxTokens, interrupt, onText in
            let plan = router.plan(for: model, state: state)
            var lastError: ProviderError?
            var skipped: [String] = []
            var attempt = 0
            for step in plan.usableSteps {
                guard let provider = router.provider(named: step.provider) else { continue }
                let availability = router.availability(of: step, state: state, environment: environment)
                guard availability.isAvailable else {
                    skipped.append("\(step.provider): \(reason(availability))")
                    continue
                }
                attempt += 1
                let ticket = state.begin(provider: step.provider, routeKey: step.routeKey)
                let start = Stopwatch.now()
                var firstAt: Double?
                let request = ChatRequest(model: step.backendModel, messages: [ChatMessage(role: "user", content: prompt)],
                                          temperature: nil, maxTokens: maxTokens, topP: nil, seed: nil, stream: true)
                do {
                    let backend = ProviderClients.backend(for: provider, environment: environment)
                    let summary = try backend.streamChat(request, provider: provider, interrupt: interrupt) { event in
                        guard case let .text(piece) = event else { return }
                        if firstAt == nil, !piece.isEmpty { firstAt = Stopwatch.now() }
                        onText(piece)
                    }
                    let end = Stopwatch.now()
                    state.finish(ticket, outcome: .success(ttftMs: firstAt.map { ($0 - start) * 1000 }, totalMs: (end - start) * 1000),
                                 tokens: (summary.promptTokens ?? 0) + (summary.completionTokens ?? 0), rules: router.specialCases)
                    return RequestOutcome(provider: step.provider, backendModel: step.backendModel, summary: summary,
                                          attempts: attempt, routeReason: step.reason)
                } catch let e as ProviderError {
                    state.finish(ticket, outcome: e.kind == .cancelled ? .cancelled : .failure(e.kind), rules: router.specialCases)
                    // Once text was shown the request cannot move elsewhere; a cancel is the user's.
                    if firstAt != nil || !e.isRetryableElsewhere { throw e }
                    lastError = e
                }
            }
            if let lastError { throw lastError }
            throw ProviderError(kind: .other, message: "no target for '\(model)' can be tried now: \(skipped.joined(separator: "; "))")
        }
    }

    static func reason(_ a: RouterState.Availability) -> String {
        switch a {
        case .available: return "available"
        case let .cooledDown(_, reason), let .rateLimited(_, reason), let .missingAPIKey(reason): return reason
        }
    }

    static func modelNames(_ ctx: ShellContext) -> [String] {
        guard let config = try? ctx.config() else { return [] }
        var names = ctx.routing.router(for: config).configuredNames
        for p in config.providers.providers where p.isActive { names += p.models.map(\.name) }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
