import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishProviders

/// What the router remembers during a session (SPEC §3): consecutive failures and
/// cooldowns, client-side rate-limit windows, requests in flight, recent latency and use,
/// and the position of each weighted round robin. Keyed by provider and route names, so it
/// survives a config reload. Locked, because bench and compare may run requests on
/// several threads.
package final class RouterState: Sendable {
    /// Why a target is not tried right now.
    package enum Availability: Equatable, Sendable {
        case available
        case cooledDown(until: Date, reason: String)
        case rateLimited(until: Date, reason: String)
        /// The provider needs an API key and its environment variable is not set.
        case missingAPIKey(reason: String)

        package var isAvailable: Bool { self == .available }
    }

    /// How an attempt ended, as far as the provider's health is concerned.
    package enum Outcome: Sendable {
        case success(ttftMs: Double?, totalMs: Double)
        case failure(ProviderError.Kind)
        /// Cancelled by the user: says nothing about the provider.
        case cancelled
    }

    /// Identifies one request in flight (returned by `begin`).
    package struct Ticket: Sendable {
        package var provider: String
        package var routeKey: String
        package var limited = false
    }

    private struct Health {
        var consecutiveFailures = 0
        var cooldownUntil: Date?
        var cooldownReason = ""
    }

    /// Requests and tokens over the last `span` seconds.
    private struct Window {
        var requestTimes: [Double] = []
        var requestHead = 0
        var tokenEvents: [(Double, Int)] = []
        var tokenHead = 0
        var tokenSum = 0

        mutating func prune(now: Double, span: Double) {
            let cutoff = now - span
            while requestHead < requestTimes.count, requestTimes[requestHead] <= cutoff { requestHead += 1 }
            while tokenHead < tokenEvents.count, tokenEvents[tokenHead].0 <= cutoff {
                tokenSum -= tokenEvents[tokenHead].1
                tokenHead += 1
            }
            // Compact now and then so the arrays stay as long as the window.
            if requestHead > 64, requestHead * 2 > requestTimes.count {
                requestTimes.removeFirst(requestHead)
                requestHead = 0
            }
            if tokenHead > 64, tokenHead * 2 > tokenEvents.count {
                tokenEvents.removeFirst(tokenHead)
                tokenHead = 0
            }
        }

        var requests: Int { requestTimes.count - requestHead }
        var oldestRequest: Double? { requestHead < requestTimes.count ? requestTimes[requestHead] : nil }
        var oldestTokens: Double? { tokenHead < tokenEvents.count ? tokenEvents[tokenHead].0 : nil }
    }

    /// The router's memory; its methods run under the lock.
    private struct Memory: Sendable {
        var health: [String: Health] = [:]
        var providerWindows: [String: Window] = [:]
        var routeWindows: [String: Window] = [:]
        /// Requests to the target an exact match's `rate_limit` is about (its own provider).
        var limitWindows: [String: Window] = [:]
        var inFlight: [String: Int] = [:]
        var latencyMs: [String: Double] = [:]
        var roundRobin: [String: [Int]] = [:]
        var random: SplitMix64

        /// Smooth weighted round robin (as nginx does it): every `sum(weights)` picks give each
        /// entry exactly its weight, interleaved. `advance: false` shows the next pick without taking it.
        mutating func nextRoundRobin(key: String, weights: [Int], advance: Bool = true) -> Int {
            var current = roundRobin[key] ?? []
            if current.count != weights.count { current = [Int](repeating: 0, count: weights.count) }
            var total = 0
            var best = 0
            for i in weights.indices {
                current[i] += weights[i]
                total += weights[i]
                if current[i] > current[best] { best = i }
            }
            current[best] -= total
            if advance { roundRobin[key] = current }
            return best
        }

        /// A weighted random pick from the session's seedable generator.
        mutating func weightedShuffle(weights: [Int], advance: Bool = true) -> Int {
            let total = weights.reduce(0, +)
            guard total > 0 else { return 0 }
            var generator = random
            var r = Int(generator.next() % UInt64(total))
            if advance { random = generator }
            for (i, w) in weights.enumerated() {
                if r < w { return i }
                r -= w
            }
            return weights.count - 1
        }

        static func usage(_ windows: inout [String: Window], _ key: String, _ t: Double) -> (requests: Int, tokens: Int) {
            guard var w = windows[key] else { return (0, 0) }
            w.prune(now: t, span: RouterState.windowSeconds)
            windows[key] = w
            return (w.requests, w.tokenSum)
        }

        /// Whether `step` may be tried now: not cooled down, and under its provider's and its
        /// route's rpm/tpm limits.
        mutating func availability(of step: PlanStep, providerLimits: ProviderRateLimits?, date: Date) -> Availability {
            let t = date.timeIntervalSinceReferenceDate
            if let h = health[step.provider], let until = h.cooldownUntil {
                if until > date { return .cooledDown(until: until, reason: h.cooldownReason) }
            }
            if let limits = providerLimits, limits.requestsPerMinute != nil || limits.tokensPerMinute != nil {
                if let why = Self.limited(&providerWindows, key: step.provider, rpm: limits.requestsPerMinute,
                                     tpm: limits.tokensPerMinute, t: t, what: "provider \(step.provider)") {
                    return why
                }
            }
            if let limit = step.routeLimit, limit.rpm != nil || limit.tpm != nil {
                if let why = Self.limited(&limitWindows, key: step.routeKey, rpm: limit.rpm, tpm: limit.tpm, t: t,
                                     what: "route '\(step.routeKey)'") {
                    return why
                }
            }
            return .available
        }

        static func limited(_ windows: inout [String: Window], key: String, rpm: Int?, tpm: Int?, t: Double,
                             what: String) -> Availability? {
            guard var w = windows[key] else { return nil }
            w.prune(now: t, span: RouterState.windowSeconds)
            windows[key] = w
            if let rpm, w.requests >= rpm, let oldest = w.oldestRequest {
                return .rateLimited(until: Date(timeIntervalSinceReferenceDate: oldest + RouterState.windowSeconds),
                                    reason: "\(what) is at its limit of \(rpm) requests per minute")
            }
            if let tpm, w.tokenSum >= tpm, let oldest = w.oldestTokens {
                return .rateLimited(until: Date(timeIntervalSinceReferenceDate: oldest + RouterState.windowSeconds),
                                    reason: "\(what) used \(w.tokenSum) of its \(tpm) tokens per minute")
            }
            return nil
        }

        /// Ends a request: updates health, latency and token windows. A provider that fails
        /// `errorThreshold` times in a row is cooled down; a 429 cools it down at once.
        mutating func finish(_ ticket: Ticket, outcome: Outcome, tokens: Int, rules: SpecialCases, date: Date) {
            let t = date.timeIntervalSinceReferenceDate
            inFlight[ticket.provider] = max(0, (inFlight[ticket.provider] ?? 1) - 1)
            if tokens > 0 {
                providerWindows[ticket.provider, default: Window()].tokenEvents.append((t, tokens))
                providerWindows[ticket.provider]!.tokenSum += tokens
                routeWindows[ticket.routeKey, default: Window()].tokenEvents.append((t, tokens))
                routeWindows[ticket.routeKey]!.tokenSum += tokens
                if ticket.limited {
                    limitWindows[ticket.routeKey, default: Window()].tokenEvents.append((t, tokens))
                    limitWindows[ticket.routeKey]!.tokenSum += tokens
                }
            }
            var h = health[ticket.provider] ?? Health()
            switch outcome {
            case let .success(ttft, total):
                h.consecutiveFailures = 0
                let sample = ttft ?? total
                if let old = latencyMs[ticket.provider] {
                    latencyMs[ticket.provider] = old + RouterState.latencySmoothing * (sample - old)
                } else {
                    latencyMs[ticket.provider] = sample
                }
            case .cancelled:
                break
            case let .failure(kind):
                switch kind {
                case let .rateLimited(retryAfter):
                    let seconds = retryAfter ?? (rules.rateLimitedFallbackEnabled ? rules.rateLimitedFallbackSeconds : 0)
                    if seconds > 0 {
                        h.cooldownUntil = date.addingTimeInterval(seconds)
                        h.cooldownReason = retryAfter != nil
                            ? "answered 429, Retry-After \(JSONValue.format(seconds))s"
                            : "answered 429 (rate_limited_fallback.fallback_duration_seconds \(JSONValue.format(seconds))s)"
                    }
                default:
                    guard RouterState.countsAgainstHealth(kind) else { break }
                    h.consecutiveFailures += 1
                    if rules.errorBasedRoutingEnabled, h.consecutiveFailures >= rules.errorThreshold {
                        h.cooldownUntil = date.addingTimeInterval(rules.cooldownSeconds)
                        h.cooldownReason = "\(h.consecutiveFailures) failures in a row (error_threshold \(rules.errorThreshold), cooldown_seconds \(JSONValue.format(rules.cooldownSeconds)))"
                        h.consecutiveFailures = 0
                    }
                }
            }
            health[ticket.provider] = h
        }
    }

    package static let windowSeconds: Double = 60
    package static let latencySmoothing = 0.3

    package let now: @Sendable () -> Date
    /// Everything the router remembers, behind the one lock.
    private let memory: Locked<Memory>

    package init(clock: @escaping @Sendable () -> Date = { Date() }, seed: UInt64? = nil) {
        now = clock
        memory = Locked(Memory(random: SplitMix64(seed: seed ?? UInt64.random(in: 0...UInt64.max))))
    }

    package convenience init() { self.init(clock: { Date() }, seed: nil) }

    // MARK: choosing

    /// Smooth weighted round robin (as nginx does it): every `sum(weights)` picks give each
    /// entry exactly its weight, interleaved. `advance: false` shows the next pick without taking it.
    package func nextRoundRobin(key: String, weights: [Int], advance: Bool = true) -> Int {
        memory.withLock { $0.nextRoundRobin(key: key, weights: weights, advance: advance) }
    }

    /// A weighted random pick from the session's seedable generator.
    package func weightedShuffle(weights: [Int], advance: Bool = true) -> Int {
        memory.withLock { $0.weightedShuffle(weights: weights, advance: advance) }
    }

    package func requestsInFlight(provider: String) -> Int { memory.withLock { $0.inFlight[provider] ?? 0 } }

    /// Smoothed time to first token (else total time) of recent successes, in ms.
    package func recentLatencyMs(provider: String) -> Double? { memory.withLock { $0.latencyMs[provider] } }

    /// Requests started and tokens used in the last minute for a configured name.
    package func recentUsage(routeKey: String) -> (requests: Int, tokens: Int) {
        let t = now().timeIntervalSinceReferenceDate
        return memory.withLock { Memory.usage(&$0.routeWindows, routeKey, t) }
    }

    /// Requests started and tokens used in the last minute on a provider.
    package func recentUsage(provider: String) -> (requests: Int, tokens: Int) {
        let t = now().timeIntervalSinceReferenceDate
        return memory.withLock { Memory.usage(&$0.providerWindows, provider, t) }
    }

    // MARK: availability

    /// Whether `step` may be tried now: not cooled down, and under its provider's and its
    /// route's rpm/tpm limits.
    package func availability(of step: PlanStep, providerLimits: ProviderRateLimits?) -> Availability {
        let date = now()
        return memory.withLock { $0.availability(of: step, providerLimits: providerLimits, date: date) }
    }

    // MARK: recording

    /// Counts a request as started (rpm windows, requests in flight). `limited`: the target
    /// is the one its route's `rate_limit` is about.
    package func begin(provider: String, routeKey: String, limited: Bool = false) -> Ticket {
        let t = now().timeIntervalSinceReferenceDate
        memory.withLock { m in
            m.providerWindows[provider, default: Window()].requestTimes.append(t)
            m.routeWindows[routeKey, default: Window()].requestTimes.append(t)
            if limited { m.limitWindows[routeKey, default: Window()].requestTimes.append(t) }
            m.inFlight[provider, default: 0] += 1
        }
        return Ticket(provider: provider, routeKey: routeKey, limited: limited)
    }

    package func begin(_ step: PlanStep) -> Ticket {
        begin(provider: step.provider, routeKey: step.routeKey, limited: step.routeLimit != nil)
    }

    /// Ends a request: updates health, latency and token windows. A provider that fails
    /// `errorThreshold` times in a row is cooled down; a 429 cools it down at once.
    package func finish(_ ticket: Ticket, outcome: Outcome, tokens: Int = 0, rules: SpecialCases) {
        let date = now()
        memory.withLock { $0.finish(ticket, outcome: outcome, tokens: tokens, rules: rules, date: date) }
    }

    /// Failures that say the provider is unwell. A 4xx other than 429 (unknown model, bad
    /// request) and a missing API key are about the request or the config, not the provider.
    package static func countsAgainstHealth(_ kind: ProviderError.Kind) -> Bool {
        switch kind {
        case .connectionFailed, .firstByteTimeout, .idleTimeout, .malformedStream, .truncatedStream, .other: return true
        case let .http(status): return status >= 500
        case .rateLimited, .cancelled, .missingAPIKey: return false
        }
    }

    package func consecutiveFailures(provider: String) -> Int { memory.withLock { $0.health[provider]?.consecutiveFailures ?? 0 } }

    /// Forgets every cooldown and failure count (e.g. after the operator fixed a backend).
    package func clearHealth() { memory.withLock { $0.health.removeAll() } }
}

