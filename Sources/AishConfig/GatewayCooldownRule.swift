import FoundationEssentials
import AishBase

/// When LiteLLM's Router (1.108.7, router_utils/cooldown_handlers.py) can put a deployment in
/// cooldown, for the file `config generate` writes (no allowed_fails_policy, so the router-
/// and deployment-level policies are unset):
/// - `allowed_fails` equal to LiteLLM's default (3), or unset: the failure-rate rule
///   (`_should_cooldown_deployment`'s base case) skips a group with one deployment — it
///   cools down only after 1,000 requests in a minute all failed, or on a status it will
///   not retry (401, 404, …);
/// - another `allowed_fails`: a deployment alone in its group and without a fallback entry
///   (`is_lone_deployment`) is never cooled down; with one, after `allowed_fails` failures.
/// A deployment that is never cooled down costs every request its attempt while its backend
/// is down (a connect attempt, or the whole timeout) before the fallback.
package enum GatewayCooldownRule {
    /// LiteLLM's `litellm.allowed_fails` default.
    package static let liteLLMDefaultAllowedFails = 3

    package struct Uncooled: Sendable, Equatable {
        package var group: String
        package var provider: String
    }

    /// The single-deployment groups the gateway will not cool down, and why.
    package static func uncooled(_ config: AishConfig) -> (groups: [Uncooled], reason: String) {
        let gateway = GatewayConfig(config)
        let sc = config.mappings.specialCases
        let allowed: Int? = sc.errorBasedRoutingEnabled ? sc.errorThreshold : nil
        let defaultRule = allowed == nil || allowed == liteLLMDefaultAllowedFails
        var out: [Uncooled] = []
        for name in gateway.groupOrder {
            let members = gateway.groups[name] ?? []
            guard members.count == 1 else { continue }
            let hasFallback = !(gateway.fallbackEntry[name] ?? []).isEmpty
            if defaultRule || !hasFallback { out.append(Uncooled(group: name, provider: gateway.deployments[members[0]].provider)) }
        }
        let reason = defaultRule
            ? "allowed_fails is \(allowed.map(String.init) ?? "unset"), LiteLLM's default, so its failure-rate rule leaves "
                + "single-deployment groups alone (they cool down only after 1,000 failed requests in a minute)"
            : "a single-deployment group without a fallback entry is never cooled down"
        return (out, reason)
    }

    /// The `validate` finding (one for the whole file), or nil when every group can cool down.
    package static func finding(_ config: AishConfig) -> ConfigFinding? {
        let (groups, reason) = uncooled(config)
        // Only where aish is told of a gateway (an active litellm provider) that runs this routing.
        let runsGateway = config.providers.providers.contains(where: { $0.type == .litellm && $0.isActive })
        guard !groups.isEmpty, runsGateway else { return nil }
        let names = groups.prefix(5).map { "'\($0.group)'" }.joined(separator: ", ") + (groups.count > 5 ? ", …" : "")
        let at = config.mappings.specialCases.errorBasedRoutingLocation
            ?? GatewayConfig(config).deployments.first { $0.modelName == groups[0].group }?.location
            ?? SourceLocation(file: config.mappings.path, line: 1, column: 1)
        return ConfigFinding(severity: .warning, location: at,
                             message: "the LiteLLM gateway (1.108) never cools down the only deployment of \(groups.count) model "
                                + "group\(groups.count == 1 ? "" : "s") (\(names)): \(reason); while such a backend is down, "
                                + "every request pays its attempt before the fallback (give the group a second deployment, "
                                + "or an allowed_fails_policy that names the exception)",
                             check: .gatewayCooldown)
    }
}
