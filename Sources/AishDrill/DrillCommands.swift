import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishConfig
import AishProviders
import AishRouting
import AishServices

/// `drill`: prove that fallbacks work before an outage does.
package enum DrillCommands {
    package static let all: [CommandSpec] = [drill]

    package static let drill = CommandSpec(
        name: "drill",
        summary: "failover drills: make each name's first target fail and check that the next one in its plan answers",
        help: """
            For each NAME (default: every configured name whose plan has a fallback), one real,
            short request ("Reply with one word: ok.", max_tokens from $max_tokens, else 8):
              direct   aish's router marks the first target of `route NAME` failed for that
                       request only (nothing is sent to it, no cooldown is left behind); the
                       next target in the plan must answer.
              gateway  through the LiteLLM gateway that serves NAME (NAME's first target when
                       that is a litellm provider, else one that lists NAME under models), with
                       LiteLLM's own fault switch mock_testing_fallbacks: the model group fails
                       and the gateway falls back; the deployment that answered is read from
                       its x-litellm-* response headers and must be the next target in the
                       model group's plan.
            --via both (the default) runs both where a gateway serves the name.
            --kill PROVIDER stops PROVIDER's service for real (`service stop`, asks first unless
            --yes; scripts need --yes), drills the names whose first target is on it (nothing
            is marked: it fails for real), then starts it again and waits until it is healthy.
            --timeout S caps each request's timeouts (and the wait after the start, default 60s).
            A table: name, path, the target made to fail, the expected next target, the one that
            answered, time to answer, pass/fail. Exit 1 if any drill fails. Each drill is logged
            as a run (kind drill) with its request attempts (kind drill).
            """,
        options: [
            OptionSpec(["--via"], .oneOf(["direct", "gateway", "both"]), help: "how the first target is made to fail"),
            OptionSpec(["--kill"], .text("PROVIDER"), help: "stop this provider's service during the drills",
                       completion: ServiceCommands.serviceNameCompletion),
            OptionSpec(["-y", "--yes"], help: "with --kill: do not ask for confirmation", goesWith: "--kill"),
            OptionSpec(["--timeout"], .duration("S"), help: "cap on each request's timeouts"),
            OptionSpec(["--cache"], help: "let a LiteLLM gateway answer from its response cache (a drill it answers then fails)"),
        ],
        positionals: [PositionalSpec(name: "NAME", help: "model names, aliases or capabilities", optional: true,
                                     variadic: true, completion: .dynamic(RoutingCommands.configuredNames))],
        report: ReportShape(DrillReport.self),
        run: { inv, ctx in try runDrill(inv, ctx) })

    package static func runDrill(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let via = inv.value("--via") ?? "both"
        let paths: [DrillPath]
        switch via {  // direct, gateway or both: the parser refuses any other
        case "direct": paths = [.direct]
        case "gateway": paths = [.gateway]
        default: paths = [.direct, .gateway]
        }
        let timeout = try inv.value("--timeout").map { _ in try inv.duration("--timeout", default: 60) }
        if let timeout, timeout <= 0 { throw UsageError(message: "drill: --timeout takes a positive duration", usage: drill.usage) }
        let options = try ChatOptions.from(variables: ctx.variables)
        let config = try ctx.config()
        let session = ctx.routing
        let router = session.router(for: config)
        let killed = inv.value("--kill")
        var planner = DrillPlanner(router: router, state: session.state, environment: ctx.environment)
        planner.killed = killed

        // --kill: the service must exist and have a unit before anything is asked or stopped.
        var killedService: MonitoredService?
        if let killed {
            guard router.provider(named: killed) != nil else {
                var message = "drill --kill: unknown provider '\(killed)'"
                if let s = Suggest.closest(to: killed, among: router.providers.map(\.name)) { message += " — did you mean '\(s)'?" }
                throw UsageError(message: message, usage: drill.usage)
            }
            let row = try ServiceTargets.find(killed, in: ServiceTargets.from(config))
            guard row.unit != nil else {
                var message = "drill --kill \(killed): '\(killed)' has no service unit to stop"
                message += " (set `service:` in ports.yaml or `service_file:` in providers.yaml"
                message += row.unitLocation.map { ", entry at \($0))" } ?? ")"
                throw CommandFailure(message)
            }
            killedService = row
        }

        let explicit = !inv.positionals.isEmpty
        let names = explicit ? inv.positionals : planner.defaultNames()
        var cases: [DrillCase] = []
        for name in names {
            for path in paths {
                let c = path == .direct ? planner.directCase(name) : planner.gatewayCase(name)
                // --via both: the gateway drill only where a gateway serves the name.
                if path == .gateway, paths.count == 2, c.gateway == nil { continue }
                // Names chosen by default: only where the gateway has a fallback to drill (a
                // load-balanced group without a fallback entry has only its own deployments).
                if path == .gateway, !explicit, c.gateway != nil, c.expected == nil { continue }
                cases.append(c)
            }
        }
        if cases.isEmpty {
            let why = killed.map { "no configured name starts on \($0) and has a fallback" }
                ?? "no configured name has a fallback (see: route --all)"
            throw CommandFailure("drill: nothing to drill: \(why)")
        }

        var serviceError: String?
        if let killed, let killedService {
            if !inv.flag("--yes") {
                guard ctx.options.interactive else {
                    throw UsageError(message: "drill --kill: refusing to stop '\(killed)' without confirmation; pass --yes in scripts",
                                     usage: drill.usage)
                }
                let settings = ctx.state(ServiceSettings.self) { ServiceSettings() }
                guard settings.confirm("stop '\(killed)' for the drills, then start it again? [y/N] ", ctx) else {
                    throw CommandFailure("drill: not confirmed: nothing done")
                }
            }
            try service(.stop, killedService, waitLimit: 30, ctx, config)
        }

        var runner = DrillRunner(router: router, state: session.state, environment: ctx.environment, interrupt: ctx.interrupt,
                                 recorder: ctx.recorder, timeout: timeout, maxTokens: options.maxTokens ?? 8, killed: killed,
                                 backend: { [environment = ctx.environment] in ProviderClients.backend(for: $0, environment: environment) })
        runner.useGatewayCache = inv.flag("--cache")
        var rows: [DrillReport.Row] = []
        for c in cases {
            if ctx.interrupt.isRaised { break }
            rows.append(runner.run(c))
        }

        if let killed, let killedService {
            // Started again whatever happened to the drills.
            let wasInterrupted = ctx.interrupt.isRaised
            ctx.interrupt.clear()
            do {
                let started = try service(.start, killedService, waitLimit: timeout ?? 60, ctx, config)
                if let failure = started.failureMessage { serviceError = failure }
            } catch {
                serviceError = "service start \(killed): \(error)"
            }
            if wasInterrupted { ctx.interrupt.raise() }
        }
        if ctx.interrupt.isRaised { throw CommandFailure("drill: interrupted after \(rows.count) of \(cases.count) drills") }
        let passed = rows.filter(\.passed).count
        return CommandResult(report: DrillReport(drills: rows.count, passed: passed, failed: rows.count - passed,
                                                 killed: killed, results: rows, serviceError: serviceError))
    }

    /// A confirmed action on the killed provider's service, as `service` performs it (logged,
    /// waits for health after start); its lines go to stderr unless output is JSON or quiet.
    @discardableResult
    private static func service(_ action: ServiceAction, _ row: MonitoredService, waitLimit: Double,
                                _ ctx: ShellContext, _ config: AishConfig) throws -> ServiceReport {
        let report = try ServiceCommands.perform(action, on: row, system: false, waitLimit: waitLimit, confirm: nil, ctx,
                                                 config: config)
        if !ctx.options.json, !ctx.options.quiet { ctx.output.writeError(report.renderText() + "\n") }
        return report
    }
}
