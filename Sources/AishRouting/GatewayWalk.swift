import FoundationEssentials
import Glibc
import AishBase
import AishConfig

/// The order in which LiteLLM's Router (1.108.7, with the settings `config generate` writes:
/// num_retries 0, enable_weighted_failover, max_fallbacks) tries model groups for a name when
/// every deployment fails. Mirrors router.py / fallback_event_handlers.py:
/// - the name's model group first (an alias reads its target's deployments); with weighted
///   failover each further deployment of the group is one nested fallback hop;
/// - then the fallback entry found for (the failed group, else the name first requested),
///   else `default_fallbacks` ("*"); every entry not yet attempted in this request is tried in
///   order, each one hop deeper than the one before, and followed into depth first;
/// - a walk that starts at depth >= max_fallbacks stops at once.
/// Checked against the real library by Tests/Differential.
package struct GatewayWalk {
    package struct Group {
        package var name: String
        package var deployments: [GatewayConfig.Deployment]
        /// How many of `deployments` the gateway reaches (all unless max_fallbacks cuts in).
        package var picks: Int
        /// Why the group is here: nil for the requested name, else the entry and step.
        package var via: (source: Source, step: Int)?
    }

    package enum Source: Equatable {
        case entry(String)                 // fallbacks[name]
        case resumed(String, from: String) // the first-requested name's entry, on a hop without one
        case defaults                      // default_fallbacks
    }

    package let gateway: GatewayConfig
    package private(set) var groups: [Group] = []
    /// Names in the order their model group was tried (for aish-only additions).
    package private(set) var visited: [String] = []
    private var attempted = Set<String>()
    /// The requested name's entry where the gateway has none (see `GatewayConfig.unservedEntry`).
    private var originEntry: (name: String, entry: [String])?

    package init(_ gateway: GatewayConfig) { self.gateway = gateway }

    /// The walk for a request of `name`. A name the gateway does not know gets only its
    /// fallback walk (LiteLLM would first try the first default fallback under that name);
    /// `ownEntry` is the entry such a name is walked with when aish sends it itself.
    package static func walk(_ name: String, _ gateway: GatewayConfig, ownEntry: [String]? = nil) -> GatewayWalk {
        var w = GatewayWalk(gateway)
        if let ownEntry, gateway.fallbackEntry[name] == nil { w.originEntry = (name, ownEntry) }
        w.call(name, depth: 0, origin: name, via: nil)
        return w
    }

    /// One request hop for model group `g`. `excluded` is the hop's `_excluded_deployment_ids`
    /// and `failedBefore` its metadata's `_failover_excluded_ids`: a weighted-failover hop sets
    /// both to the deployments already failed, and every hop below it inherits them.
    private mutating func call(_ g: String, depth: Int, origin: String, via: (Source, Int)?,
                               excluded: Set<Int> = [], failedBefore: Set<Int> = []) {
        visited.append(g)
        let all = gateway.deploymentIndices(g)
        let available = all.filter { !excluded.contains($0) }
        guard let first = available.first(where: { !failedBefore.contains($0) }) ?? available.first else {
            // No deployment to send to: the hop fails without a request and goes to fallbacks.
            regular(g, depth: depth, origin: origin, excluded: excluded, failedBefore: failedBefore)
            return
        }
        var levels: [(depth: Int, excluded: Set<Int>, failedBefore: Set<Int>)] = []
        var d = depth, e = excluded, m = failedBefore, hit = first
        var hits = [first]
        while true {
            let failed = m.union([hit])
            if let next = all.first(where: { !failed.contains($0) }), d < gateway.maxFallbacks {
                levels.append((d, e, failed))
                e = failed; m = failed; d += 1; hit = next
                hits.append(next)
            } else {
                levels.append((d, e, m))
                break
            }
        }
        groups.append(Group(name: g, deployments: available.map { gateway.deployments[$0] }, picks: hits.count,
                            via: via.map { ($0.0, $0.1) }))
        // The innermost failover hop walks the fallbacks first; the outer hops find them attempted.
        for level in levels.reversed() {
            regular(g, depth: level.depth, origin: origin, excluded: level.excluded, failedBefore: level.failedBefore)
        }
    }

    private func entry(_ g: String) -> [String]? {
        gateway.fallbackEntry[g] ?? (originEntry?.name == g ? originEntry?.entry : nil)
    }

    private mutating func regular(_ g: String, depth: Int, origin: String, excluded: Set<Int>, failedBefore: Set<Int>) {
        let list: [String]
        let source: Source
        if let own = entry(g) {
            list = own; source = .entry(g)
        } else if let first = entry(origin) {
            list = first; source = .resumed(origin, from: g)
        } else if !gateway.defaultFallbacks.isEmpty {
            list = gateway.defaultFallbacks; source = .defaults
        } else {
            return
        }
        guard depth < gateway.maxFallbacks else { return }
        attempted.insert(g)
        var d = depth
        for (k, next) in list.enumerated() where next != g && !attempted.contains(next) {
            attempted.insert(next)
            d += 1
            call(next, depth: d, origin: origin, via: (source, k), excluded: excluded, failedBefore: failedBefore)
        }
    }
}
