import FoundationEssentials
import Glibc
import AishBase
import AishSessionLog
import AishCommand
import AishConfig
import AishGateway
import AishRouting

/// `gateway`: the LiteLLM gateway's live view (see `GatewayState`).
package enum GatewayCommands {
    package static let all: [CommandSpec] = [gateway]

    /// LiteLLM's /health sends a request to every deployment and answers when the slowest
    /// did: a busy backend would hold the whole command up for --timeout.
    package static let defaultHealthTimeout = 5.0

    package static let gateway = CommandSpec(
        name: "gateway",
        summary: "the LiteLLM gateway now: deployments, health, cooldowns, failures, rpm/tpm, cache size, replicas",
        help: """
            Per model group, each deployment the gateway runs (GET /model/info: provider, backend
            model, api_base, model_info.id), LiteLLM's own /health result for it, and the Router's
            state the gateway keeps in Redis (router_settings.redis_host): cooldown_s (seconds
            left, from the key deployment:<id>:cooldown and its TTL) with the status code and
            exception that caused it, failures counted toward allowed_fails, this minute's rpm and
            tpm, and the number of response-cache entries. Each gateway process (the provider and
            its `replicas:`) is probed. Redis is read with SCAN, GET and PTTL only. What cannot be
            read (the gateway, its key, Redis, keys another LiteLLM version names differently) is
            said in a note; what is known is still shown. /health sends a request to every
            deployment and answers when the slowest has: it gets --health-timeout (default 5s),
            and a note says when it gave no answer in that time; --no-health skips it. Needs the
            gateway's key: scripts/stack exec aish gateway.
            """,
        options: [
            OptionSpec(["--timeout"], .duration("S"), help: "per request (default 10s)"),
            OptionSpec(["--health-timeout"], .duration("S"), help: "for LiteLLM's /health (default 5s)"),
            OptionSpec(["--no-health"], help: "do not call LiteLLM's /health"),
        ],
        report: ReportShape(GatewayReport.self),
        run: { inv, ctx in try run(inv, ctx) })

    package static func run(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        guard inv.positionals.isEmpty else {
            throw UsageError(message: "gateway: unexpected argument '\(inv.positionals[0])'", usage: gateway.usage)
        }
        let timeout = try inv.duration("--timeout", default: 10)
        guard timeout > 0 else { throw UsageError(message: "gateway: --timeout must be more than 0", usage: gateway.usage) }
        let healthTimeout = try inv.duration("--health-timeout", default: defaultHealthTimeout)
        guard healthTimeout > 0 else { throw UsageError(message: "gateway: --health-timeout must be more than 0", usage: gateway.usage) }
        let config = try ctx.config()
        let state = GatewayState.read(config, environment: ctx.environment, timeout: timeout, interrupt: ctx.interrupt,
                                      healthTimeout: inv.flag("--no-health") ? nil : healthTimeout)
        if ctx.interrupt.isRaised { throw CommandFailure("gateway: interrupted") }
        return CommandResult(report: GatewayReport(state: state, aliases: GatewayConfig(config).aliases))
    }
}

package struct GatewayReport: CommandReport {
    package var state: GatewayState
    /// model_group_alias of the generated config: name → model group.
    package var aliases: [(String, String)]

    package enum CodingKeys: String, CodingKey {
        case gateway, source, deployments, cooledDown = "cooled_down", cacheEntries = "cache_entries", redis
        case redisError = "redis_error", replicas, aliases, strayCooldowns = "stray_cooldowns", notes
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func put(_ v: (some Encodable)?, _ key: CodingKeys) throws {
            if let v { try c.encode(v, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
        try put(state.gateway, .gateway)
        try c.encode(state.source, forKey: .source)
        try c.encode(state.deployments, forKey: .deployments)
        try c.encode(state.cooledDown.count, forKey: .cooledDown)
        try put(state.cacheEntries, .cacheEntries)
        try put(state.redis, .redis)
        try put(state.redisError, .redisError)
        try c.encode(state.replicas, forKey: .replicas)
        try c.encode(JSONValue.object(aliases.map { ($0.0, .string($0.1)) }), forKey: .aliases)
        try c.encode(state.strayCooldowns, forKey: .strayCooldowns)
        try c.encode(state.notes, forKey: .notes)
    }

    package static let fields = [
        ReportField("gateway", "the LiteLLM gateway provider (null: none configured)"),
        ReportField("source", "where the deployments come from: gateway (its /model/info) or config (the generated file)"),
        ReportField("deployments", "per deployment: model_group, id, provider, backend_model, api_base, health, health_error, cooldown_s, cooldown_status, cooldown_reason, failures, rpm, tpm"),
        ReportField("cooled_down", "deployments cooling down now"),
        ReportField("cache_entries", "LiteLLM response-cache entries in Redis (null: unknown)"),
        ReportField("redis", "the Redis read (host:port; null: none configured)"),
        ReportField("redis_error", "why Redis could not be read, or null"),
        ReportField("replicas", "each gateway process: provider, url, up, error"),
        ReportField("aliases", "model_group_alias: name → model group"),
        ReportField("stray_cooldowns", "cooldown keys of deployment ids this gateway does not run"),
        ReportField("notes", "what could not be seen, and why"),
    ]

    package static var example: GatewayReport {
        var s = GatewayState()
        s.gateway = "litellm_gateway"
        s.source = "gateway"
        s.redis = "127.0.0.1:6379"
        s.cacheEntries = 3
        s.replicas = [.init(provider: "litellm_gateway", url: "http://127.0.0.1:4000", up: true, error: nil)]
        s.deployments = [.init(modelGroup: "smollm2", id: "llama_cpp_python/smollm2", provider: "llama_cpp_python",
                               backendModel: "openai/smollm2-135m", apiBase: "http://127.0.0.1:8000/v1", health: "unhealthy",
                               healthError: "Connection error.", cooldownS: 24, cooldownStatus: "500",
                               cooldownReason: "litellm.InternalServerError: InternalServerError: Op…", failures: nil, rpm: 1, tpm: nil)]
        return GatewayReport(state: s, aliases: [("fast", "smollm2-native")])
    }

    package func renderText() -> String {
        var out = ""
        if let g = state.gateway {
            let up = state.replicas.filter(\.up).count
            out += "\(g): \(state.replicas.count) process\(state.replicas.count == 1 ? "" : "es") (\(up) up)"
            if let r = state.redis { out += " · Redis \(r)" + (state.redisError == nil ? "" : " (unreadable)") }
            if let n = state.cacheEntries { out += " · \(n) cache entr\(n == 1 ? "y" : "ies")" }
            out += " · \(state.cooledDown.count) cooling down\n"
            if state.replicas.count > 1 || state.replicas.contains(where: { !$0.up }) {
                for r in state.replicas { out += "  \(r.up ? "✓" : "✗") \(r.url)" + (r.error.map { ": \($0)" } ?? "") + "\n" }
            }
        }
        if !state.deployments.isEmpty {
            var t = TextTable(headers: ["GROUP", "DEPLOYMENT", "PROVIDER", "BACKEND", "HEALTH", "COOLDOWN", "FAILS", "RPM", "TPM"])
            var lastGroup = ""
            for d in state.deployments {
                t.add([d.modelGroup == lastGroup ? "" : d.modelGroup, d.id ?? "-", d.provider ?? "-", d.backendModel ?? "-",
                       d.health ?? "-", d.cooldownS.map { "\(Int($0.rounded(.up))) s" } ?? "-",
                       d.failures.map(String.init) ?? "-", d.rpm.map(String.init) ?? "-", d.tpm.map(String.init) ?? "-"])
                lastGroup = d.modelGroup
            }
            out += t.rendered
            for d in state.deployments {
                if let c = d.cooldownText { out += "\(d.id ?? d.modelGroup): \(c)\n" }
                if d.health == "unhealthy", let e = d.healthError { out += "\(d.id ?? d.modelGroup): /health: \(LogFormat.preview(e, limit: 120))\n" }
            }
        }
        if !aliases.isEmpty { out += "aliases: " + aliases.map { "\($0.0) → \($0.1)" }.joined(separator: ", ") + "\n" }
        for id in state.strayCooldowns { out += "note: Redis has a cooldown for '\(id)', which this gateway does not run\n" }
        for n in state.notes { out += "note: \(n)\n" }
        return out
    }

    package var failureMessage: String? {
        state.gateway == nil ? "gateway: no active LiteLLM gateway in providers.yaml" : nil
    }
}
