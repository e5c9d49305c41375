import AishBase
import AishCommand
import AishConfig
import AishGateway

package enum RoutingCommands {
    package static let all: [CommandSpec] = [route]

    /// Configured names, for completion.
    @Sendable package static func configuredNames(_ ctx: ShellContext) -> [String] {
        guard let config = try? ctx.config() else { return [] }
        return ctx.routing.router(for: config).configuredNames
    }

    package static let route = CommandSpec(
        name: "route",
        summary: "show the attempt plan for a model name and why each step is there",
        help: """
            Resolves MODEL the way chat does — exact match, load-balancing alias, capability,
            pattern, then routing_rules.default_provider — and lists the targets in the order
            they would be tried: first what the LiteLLM gateway does with the generated config
            (the name's model group, then its fallback entry depth first, each group once, the
            default chain only for a name without an entry), then aish's own additions, marked
            "aish only" (provider-level fallback, steps the gateway cannot serve, prompt-sized
            capability picks). Each step shows the rule that put it there with its file:line.
            Targets that would not be tried now say why:
            disabled or template provider, API key variable not set, cooled down after failures
            or a 429, rate limited.
            Showing a plan does not move round robins.

            --prompt TEXT sizes the request for complexity_based and context_based capabilities
            (tokens estimated as UTF-8 bytes / 4). --all prints one line per configured name,
            pattern and the default: where a request would go now.
            """,
        options: [
            OptionSpec(["-p", "--prompt"], .text("TEXT"), help: "prompt used to size the request"),
            OptionSpec(["-a", "--all"], help: "every configured name and where it goes now", alone: true),
        ],
        positionals: [PositionalSpec(name: "MODEL", help: "model name, alias or capability",
                                     completion: .dynamic(RoutingCommands.configuredNames))],
        report: ReportShape(RouteReport.self),
        otherReports: [ReportShape(RouteTable.self, mode: "route --all")],
        run: { inv, ctx in
            let all = inv.flag("--all")
            if all, !inv.positionals.isEmpty {
                throw UsageError(message: "route: give a MODEL or --all, not both")
            }
            if !all, inv.positionals.isEmpty {
                throw UsageError(message: "route: which model? give a MODEL or --all")
            }
            let config = try ctx.config()
            let session = ctx.routing
            let router = session.router(for: config)
            if all {
                return CommandResult(report: RouteTable(router: router, state: session.state, environment: ctx.environment))
            }
            let input = RoutingInput(prompt: inv.value("--prompt"))
            let plan = router.plan(for: inv.positionals[0], input: input, state: session.state, advance: false)
            var report = RouteReport(plan: plan, router: router, state: session.state, environment: ctx.environment)
            RoutingCommands.addGatewayState(&report, config: config, router: router, ctx: ctx)
            return CommandResult(report: report)
        })

    /// The gateway's cooldowns beside the steps that go through it: a gateway step is one of
    /// its deployments; a step to a litellm provider asks for a model group, whose
    /// deployments are listed. Only when a gateway is configured; Redis is asked briefly.
    package static func addGatewayState(_ report: inout RouteReport, config: AishConfig, router: Router, ctx: ShellContext) {
        let gatewayProviders = Set(config.providers.providers.filter { $0.type == .litellm && $0.status == .active }.map(\.name))
        guard !gatewayProviders.isEmpty else { return }
        // The deployments the gateway runs (/model/info), else those of the generated file.
        var ids = GatewayCooldowns.ids(config)
        var byGroup: [String: [(id: String, provider: String)]] = [:]
        for d in LiteLLMGenerator.deployments(config) {
            guard let id = d.info.first(where: { $0.0 == "id" })?.1.stringValue,
                  let p = d.info.first(where: { $0.0 == "provider" })?.1.stringValue else { continue }
            byGroup[d.modelName, default: []].append((id, p))
        }
        if let gw = config.providers.providers.first(where: { $0.type == .litellm && $0.status == .active }),
           case let .success(live) = GatewayState.modelInfo(gw, config: config, environment: ctx.environment, timeout: 2,
                                                            interrupt: ctx.interrupt) {
            byGroup = [:]
            ids = [:]
            for d in live {
                guard let id = d.id else { continue }
                byGroup[d.modelGroup, default: []].append((id, d.provider ?? "?"))
                if let p = d.provider { ids[d.modelGroup + "|" + p] = id }
            }
        }
        var wanted: [Int: [(id: String, provider: String)]] = [:]
        for (i, r) in report.rows.enumerated() {
            if r.step.scope == .gateway, let g = r.step.gatewayGroup, report.plan.gatewayGroups.indices.contains(g),
               let id = ids[report.plan.gatewayGroups[g].name + "|" + r.step.provider] {
                wanted[i] = [(id, r.step.provider)]
            } else if gatewayProviders.contains(r.step.provider) {
                let group = GatewayConfig(config).aliases.first { $0.0 == r.step.backendModel }?.1 ?? r.step.backendModel
                wanted[i] = byGroup[group] ?? []
            }
        }
        guard !wanted.isEmpty else { return }
        let cooldowns = GatewayCooldowns.read(config, environment: ctx.environment, interrupt: ctx.interrupt)
        report.liveNote = cooldowns.unavailable
        for (i, deps) in wanted {
            report.live[i] = deps.map { RouteReport.LiveDeployment(id: $0.id, provider: $0.provider, cooldown: cooldowns.byID[$0.id]) }
        }
    }
}
