enum RoutingCommands {
    static let all: [CommandSpec] = [route]

    /// Configured names, for completion.
    @Sendable static func configuredNames(_ ctx: ShellContext) -> [String] {
        guard let config = try? ctx.config() else { return [] }
        return ctx.routing.router(for: config).configuredNames
    }

    static let route = CommandSpec(
        name: "route",
        usage: "route MODEL [--prompt TEXT] | route --all",
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
            OptionSpec(names: ["-p", "--prompt"], valueName: "TEXT", help: "prompt used to size the request"),
            OptionSpec(names: ["-a", "--all"], valueName: nil, help: "every configured name and where it goes now"),
        ],
        positionals: [PositionalSpec(name: "MODEL", help: "model name, alias or capability", optional: true,
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
            return CommandResult(report: RouteReport(plan: plan, router: router, state: session.state, environment: ctx.environment))
        })
}
