import FoundationEssentials
import Glibc

/// The router of the session: its runtime state (`ctx.state(RoutingSession.self)`) and a
/// `Router` compiled for the loaded config, rebuilt when the config changes.
final class RoutingSession {
    let state: RouterState
    private var compiled: (fingerprint: Int, router: Router)?

    init(state: RouterState = RouterState()) { self.state = state }

    /// The router for `config`, compiled once per distinct config.
    func router(for config: AishConfig) -> Router {
        let fp = Self.fingerprint(config)
        if let c = compiled, c.fingerprint == fp { return c.router }
        let r = Router(config: config)
        compiled = (fp, r)
        return r
    }

    /// A hash of what routing depends on (names, providers, statuses, rules, positions).
    static func fingerprint(_ config: AishConfig) -> Int {
        var h = Hasher()
        h.combine(config.directory)
        for p in config.providers.providers {
            h.combine(p.name); h.combine(p.status.rawValue); h.combine(p.baseURL); h.combine(p.location)
            h.combine(p.rateLimits?.requestsPerMinute); h.combine(p.rateLimits?.tokensPerMinute)
            for m in p.models { h.combine(m.name); h.combine(m.contextLength) }
        }
        let m = config.mappings
        for e in m.exactMatches {
            h.combine(e.alias); h.combine(e.provider); h.combine(e.backendModel); h.combine(e.fallback); h.combine(e.location)
            h.combine(e.rateLimit?.rpm); h.combine(e.rateLimit?.tpm)
        }
        for p in m.patterns { h.combine(p.pattern); h.combine(p.provider); h.combine(p.fallback); h.combine(p.location) }
        for c in m.capabilities {
            h.combine(c.name); h.combine(c.preferredModels); h.combine(c.provider); h.combine(c.fallback)
            h.combine(c.routingStrategy); h.combine(c.location); h.combine(c.minContext)
            for (a, b) in c.complexityThresholds + c.contextThresholds { h.combine(a); h.combine(b) }
        }
        for l in m.loadBalancing {
            h.combine(l.alias); h.combine(l.strategy); h.combine(l.location)
            for w in l.providers { h.combine(w.provider); h.combine(w.weight); h.combine(w.preferredModel); h.combine(w.condition) }
        }
        for c in m.fallbackChains + (m.defaultChain.map { [$0] } ?? []) { h.combine(c.model); h.combine(c.chain); h.combine(c.location) }
        h.combine(m.routingRules.defaultProvider); h.combine(m.routingRules.defaultFallback)
        let s = m.specialCases
        h.combine(s.errorThreshold); h.combine(s.cooldownSeconds); h.combine(s.rateLimitedFallbackSeconds)
        h.combine(s.errorBasedRoutingEnabled); h.combine(s.rateLimitedFallbackEnabled)
        return h.finalize()
    }
}

extension ShellContext {
    var routing: RoutingSession { state(RoutingSession.self) { RoutingSession() } }
}
