import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishGateway
import AishTelemetry

/// `status` and `service`.
package enum ServiceCommands {
    package static let all: [CommandSpec] = [statusSpec, serviceSpec]

    /// Service names for completion, from the loaded config (nothing when it does not load).
    package static let serviceNameCompletion = ValueCompletion.dynamic { ctx in
        guard let config = try? ctx.config() else { return [] }
        return ServiceTargets.from(config).flatMap(\.names)
    }

    // MARK: status

    package static let statusSpec = CommandSpec(
        name: "status",
        summary: "per service: up/down, pid, CPU, RSS, uptime, GPU memory",
        help: """
            One row per ports.yaml service and per provider whose base_url is on this machine
            (a provider on the same port as a ports.yaml service shares its row). A service is
            up when something listens on its port and its health endpoint answers 2xx/3xx
            (a TCP connect when it has none); unhealthy when it listens but the check fails.
            The listening process is found through /proc; CPU is measured over 200 ms.
            Processes of other users show '-'. GPU rows come from nvidia-smi when present.
            Under the table each engine's own state: llama.cpp's slots (GET /slots), vLLM's
            running and waiting requests and KV cache (/metrics), Ollama's loaded models
            (GET /api/ps); "not reported" with the reason when it does not say.
            --watch S redraws every S seconds until Ctrl-C; in a script or pipe it needs
            --count N and prints N frames. NAMEs limit the rows (totals count those rows).
            At a terminal the table fits its width (the command line is shortened).
            With a Prometheus configured (monitoring.prometheus in ports.yaml) it also shows
            Prometheus's scrape targets (up/down, last scrape error) and the alerts firing.
            """,
        options: [
            OptionSpec(["-w", "--watch"], .duration("S"), help: "refresh every S seconds (e.g. 2, 500ms)"),
            OptionSpec(["-n", "--count"], .wholeNumber("N"), help: "with --watch: stop after N frames", goesWith: "--watch"),
        ],
        positionals: [
            PositionalSpec(name: "NAME", help: "only these services", optional: true, variadic: true,
                           completion: serviceNameCompletion),
        ],
        report: ReportShape(StatusReport.self),
        run: { inv, ctx in try runStatus(inv, ctx, config: ctx.config()) })

    package static func runStatus(_ inv: Invocation, _ ctx: ShellContext, config: AishConfig) throws -> CommandResult {
        var services = ServiceTargets.from(config)
        if !inv.positionals.isEmpty {
            let wanted = try inv.positionals.map { try ServiceTargets.find($0, in: services).name }
            services = services.filter { wanted.contains($0.name) }
        }
        let settings = ctx.state(ServiceSettings.self) { ServiceSettings() }
        var collector = StatusCollector(proc: settings.proc, environment: ctx.environment, interrupt: ctx.interrupt)
        collector.engines = Dictionary(services.compactMap { s in EngineProbe.target(for: s, in: config).map { (s.name, $0) } },
                                       uniquingKeysWith: { first, _ in first })
        let json = ctx.options.json || inv.flag("--json")

        guard inv.value("--watch") != nil else {
            if inv.value("--count") != nil { throw UsageError(message: "status: --count goes with --watch") }
            guard let snapshot = collector.collect(services) else { throw CommandFailure("status: interrupted") }
            var report = StatusReport(snapshot: snapshot, color: ctx.options.color, width: json ? nil : terminalWidth(ctx))
            // Prometheus's view (targets, alerts) of the whole deployment, when one is configured.
            if inv.positionals.isEmpty {
                report.prometheus = PrometheusOverview.fetch(config, environment: ctx.environment, interrupt: ctx.interrupt)
                report.gateway = GatewayStatus.fetch(config, environment: ctx.environment, interrupt: ctx.interrupt)
            }
            return CommandResult(report: report)
        }

        let every = try inv.duration("--watch", default: 2)
        guard every > 0 else { throw UsageError(message: "status: --watch takes a positive interval") }
        let onTerminal = ctx.options.interactive && isatty(STDOUT_FILENO) == 1 && !json
        var count: Int?
        if inv.value("--count") != nil {
            let n = try inv.int("--count", default: 1)
            guard n > 0 else { throw UsageError(message: "status: --count takes a positive number") }
            count = n
        } else if !onTerminal {
            throw UsageError(message: "status: --watch outside a terminal needs --count N (it would never end)")
        }

        var frames = 0
        var last: StatusSnapshot?
        while count.map({ frames < $0 }) ?? true {
            let started = Date()
            guard let snapshot = collector.collect(services) else { break }
            last = snapshot
            frames += 1
            if json {
                // One object per line; the runner prints the last one (the command's result).
                if let count, frames >= count { break }
                ctx.output.write(CommandResult(report: StatusReport(snapshot: snapshot)).jsonForm.serialized() + "\n")
            } else if onTerminal {
                // Home the cursor and clear below: the frame is redrawn in place.
                ctx.output.write(TerminalText.control(TerminalControl.home + TerminalControl.clearToEnd)
                                 + StatusRendering.styled(snapshot, color: ctx.options.color, width: terminalWidth(ctx))
                                 + "\n\n(every \(DurationText.seconds(every)) · Ctrl-C to stop)\n")
            } else {
                ctx.output.write((frames > 1 ? "\n" : "") + StatusRendering.text(snapshot, color: false) + "\n")
            }
            if let count, frames >= count { break }
            if !ctx.sleep(seconds: max(0, every - Date().timeIntervalSince(started))) { break }
        }
        // After "^C" the prompt should start on a line of its own.
        if onTerminal, ctx.interrupt.isRaised { ctx.output.write("\n") }
        guard let last else { throw CommandFailure("status: interrupted") }
        // Under --json every frame but an interrupted run's is already out.
        if json, frames < count ?? Int.max { throw CommandFailure("status: interrupted after \(frames) frames") }
        return CommandResult(report: StatusReport(snapshot: last, frames: frames, alreadyPrinted: !json))
    }

    /// The columns of the terminal the text goes to; nil for a pipe, a file or a test's sink.
    private static func terminalWidth(_ ctx: ShellContext) -> Int? {
        ctx.output.isCapturing ? nil : TerminalSize.columns()
    }

    // MARK: service

    package static let serviceSpec = CommandSpec(
        name: "service",
        summary: "control a service's systemd unit (asks for confirmation)",
        help: """
            NAME is a ports.yaml service, a provider, or a unit name. The unit comes from
            `service:` in ports.yaml or `service`/`service_file` in providers.yaml. aish runs
            `systemctl --user ACTION -- UNIT` (system scope with --system, or when the
            service_file lives in a system unit directory). Interactive use asks first;
            scripts must pass --yes. After start and restart it waits (up to --timeout,
            default 30s) for the port and health endpoint and reports the result. Every
            action is recorded in the session log.
            """,
        options: [
            OptionSpec(["-y", "--yes"], help: "do not ask for confirmation (required in scripts)"),
            OptionSpec(["--system"], help: "use the system service manager instead of --user"),
            OptionSpec(["--timeout"], .duration("S"), help: "how long to wait for health after start (default 30s)"),
        ],
        // The action is the subcommand word; positionals are what follows it.
        positionals: [PositionalSpec(name: "NAME", help: "service, provider or unit", completion: serviceNameCompletion)],
        subcommands: ServiceAction.allCases.map(\.rawValue),
        report: ReportShape(ServiceReport.self),
        run: { inv, ctx in try runService(inv, ctx, config: ctx.config()) })

    package static func runService(_ inv: Invocation, _ ctx: ShellContext, config: AishConfig) throws -> CommandResult {
        // The spec has checked the action word and that one NAME follows it.
        guard let action = ServiceAction(rawValue: inv.positionals[0]) else {
            preconditionFailure("service: '\(inv.positionals[0])' passed the subcommand check but is no action")
        }
        let waitLimit = try inv.duration("--timeout", default: 30)

        let row = try ServiceTargets.find(inv.positionals[1], in: ServiceTargets.from(config))
        try requireUnit(row, action)
        let confirmed = inv.flag("--yes")
        if !confirmed, !ctx.options.interactive {
            throw UsageError(message: "service \(action.rawValue): refusing to \(action.rawValue) '\(row.name)' without confirmation; pass --yes in scripts")
        }
        let settings = ctx.state(ServiceSettings.self) { ServiceSettings() }
        let report = try perform(action, on: row, system: inv.flag("--system"), waitLimit: waitLimit,
                                 confirm: confirmed ? nil : { settings.confirm($0, ctx) }, ctx, config: config)
        return CommandResult(report: report)
    }

    /// One action on a configured service: systemctl (logged), then, for start and restart,
    /// a bounded wait until it answers its health check. `confirm` asks first (nil: already
    /// confirmed). `service` and `drill --kill` both act through it.
    package static func perform(_ action: ServiceAction, on row: MonitoredService, system: Bool, waitLimit: Double,
                        confirm: ((String) -> Bool)?, _ ctx: ShellContext, config: AishConfig) throws -> ServiceReport
    {
        let unit = try requireUnit(row, action)
        let scope: SystemdScope = system ? .system : (unit.scope ?? .user)
        let systemd = SystemdControl(environment: ctx.environment, interrupt: ctx.interrupt)
        let scopeWord = scope == .user ? "systemctl --user" : "systemctl"
        let state: String
        do {
            try systemd.requireSystemctl()
            state = try systemd.loadState(unit: unit.unit, scope: scope)
        } catch let e as ServiceControlError {
            throw ServiceControlError(message: "service \(action.rawValue): \(e.message)")
        }
        if state == "not-found" {
            var message = "service \(action.rawValue): unit '\(unit.unit)' not found (\(scopeWord))"
            if let at = row.unitLocation { message += "; configured at \(at)" }
            throw ServiceControlError(message: message)
        }

        let invocation = SystemdControl.displayed(SystemdControl.actionArguments(action, unit: unit.unit, scope: scope))
        if let confirm {
            guard confirm("\(action.rawValue) '\(row.name)' (\(invocation))? [y/N] ") else {
                return ServiceReport(action: action.rawValue, service: row.name, done: false)
            }
        }

        let out: ProgramOutput
        do {
            out = try systemd.perform(action, unit: unit.unit, scope: scope)
        } catch let e as ServiceControlError {
            record(ctx, action, row, unit, ok: false, output: e.message)
            throw e
        }
        let printed = (out.standardOutput + out.standardError).trimming(.whitespacesAndNewlines)
        record(ctx, action, row, unit, ok: out.succeeded, output: printed)
        guard out.succeeded else {
            throw ServiceControlError(message: "service \(action.rawValue) \(row.name): \(invocation) failed (exit \(out.exitStatus))"
                                      + SystemdControl.detail(out))
        }

        var report = ServiceReport(action: action.rawValue, service: row.name, unit: unit.unit, scope: scope.rawValue, done: true,
                                   performed: "\(row.name): \(unit.unit) \(action.pastTense) (\(invocation))")
        guard action.expectsRunning else { return report }

        let settings = ctx.state(ServiceSettings.self) { ServiceSettings() }
        let wait = HealthWait(proc: settings.proc, interrupt: ctx.interrupt).run(row, limit: waitLimit)
        if wait.interrupted, ctx.options.interactive { ctx.output.write("\n") }
        report.healthy = wait.healthy
        report.wait = (wait.waited * 1000).rounded()
        report.waitSummary = wait.summary(row)
        return report
    }

    /// The service's systemd unit, or an error saying where to configure one.
    @discardableResult
    package static func requireUnit(_ row: MonitoredService, _ action: ServiceAction) throws -> UnitReference {
        guard let unit = row.unit else {
            var message = "service \(action.rawValue): '\(row.name)' has no systemd unit"
            message += " (set `service:` in ports.yaml or `service_file:` in providers.yaml"
            message += row.unitLocation.map { ", entry at \($0))" } ?? ")"
            throw ServiceControlError(message: message)
        }
        return unit
    }

    private static func record(_ ctx: ShellContext, _ action: ServiceAction, _ row: MonitoredService, _ unit: UnitReference,
                               ok: Bool, output: String)
    {
        ctx.recorder?.recordServiceAction(ServiceActionRecord(action: action.rawValue, service: row.name, unit: unit.unit,
                                                              ok: ok, output: output, at: Date()))
    }
}

/// Waits, bounded and interruptible, until a service listens on its port and passes its
/// health check.
package struct HealthWait {
    package var proc: ProcFS
    package var interrupt: InterruptFlag
    package var pollInterval: Double = 0.25

    package struct Outcome {
        package var healthy: Bool
        package var interrupted: Bool
        package var waited: Double
        package var last: HealthResult?
        package var listening: Bool

        package func summary(_ s: MonitoredService) -> String {
            let took = DurationText.seconds((waited * 10).rounded() / 10)
            if healthy {
                let how = s.healthURL.map { url in "GET \(url) → \(last?.httpStatus.map(String.init) ?? "ok")" }
                    ?? "port \(s.port) accepts connections"
                return "up after \(took) (\(how))"
            }
            let why = !listening ? "port \(s.port) not listening" : (last?.error ?? "health check failed")
            if interrupted { return "wait interrupted after \(took): \(why)" }
            return "not healthy after \(took): \(why)"
        }
    }

    package func run(_ s: MonitoredService, limit: Double) -> Outcome {
        let start = Date()
        var last: HealthResult?
        var listening = false
        while true {
            listening = !proc.listeningSockets(port: s.port).isEmpty
            if listening {
                let left = max(0.1, limit - Date().timeIntervalSince(start))
                last = HealthProbe.check(s.healthTarget, timeout: min(2, left), interrupt: interrupt)
                if last?.healthy == true {
                    return Outcome(healthy: true, interrupted: false, waited: Date().timeIntervalSince(start), last: last,
                                   listening: true)
                }
            }
            let elapsed = Date().timeIntervalSince(start)
            if interrupt.isRaised || elapsed >= limit {
                return Outcome(healthy: false, interrupted: interrupt.isRaised, waited: elapsed, last: last,
                               listening: listening)
            }
            let pause = Date().addingTimeInterval(min(pollInterval, limit - elapsed))
            while Date() < pause, !interrupt.isRaised { usleep(20_000) }
        }
    }
}

/// Per-session settings of the services subsystem: where /proc is, and how a yes/no
/// question reaches the user (the terminal by default).
package final class ServiceSettings {
    package var proc = ProcFS()

    package init() {}

    package var confirm: (String, ShellContext) -> Bool = { question, ctx in
        TerminalQuestion.askYesNo(question, output: ctx.output, interrupt: ctx.interrupt)
    }
}

/// A y/N question on the terminal. Reads stdin directly (the line editor is idle while a
/// command runs), polling so that Ctrl-C counts as "no".
package enum TerminalQuestion {
    package static func askYesNo(_ question: String, output: OutputSink, interrupt: InterruptFlag) -> Bool {
        output.write(question)
        var line: [UInt8] = []
        while true {
            if interrupt.isRaised { output.write("\n"); return false }
            var p = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let rc = poll(&p, 1, 100)
            if rc < 0 { if errno == EINTR { continue }; return false }
            if rc == 0 { continue }
            var byte: UInt8 = 0
            let n = read(STDIN_FILENO, &byte, 1)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { output.write("\n"); return false }   // end of input
            if byte == 0x0A { break }
            line.append(byte)
        }
        let answer = String(decoding: line, as: UTF8.self).trimming(.whitespaces).lowercased()
        return answer == "y" || answer == "yes"
    }
}

/// What `service ACTION NAME` prints. Not confirmed: `done` false, unit and scope null.
package struct ServiceReport: CommandReport {
    package var action: String
    package var service: String
    package var unit: String? = nil
    /// "user" or "system".
    package var scope: String? = nil
    package var done: Bool
    /// After start and restart: whether the service answered its health check, and how long that took.
    package var healthy: Bool? = nil
    package var wait: Double? = nil
    /// "NAME: UNIT restarted (systemctl --user restart -- UNIT)".
    package var performed: String? = nil
    /// "up after 1.2 s (GET … → 200)", after start and restart.
    package var waitSummary: String? = nil

    package enum CodingKeys: String, CodingKey { case action, service, unit, scope, done, healthy, wait = "wait_ms", text }

    package static let fields = [
        ReportField("action", "start, stop, restart, enable or disable"),
        ReportField("service", "the service, provider or unit named"),
        ReportField("unit", "the systemd unit (null when not confirmed)"),
        ReportField("scope", "user or system (null when not confirmed)"),
        ReportField("done", "whether systemctl ran (false: not confirmed)"),
        ReportField("healthy", "after start and restart: whether the health check passed (else null)"),
        ReportField("wait_ms", "after start and restart: time until healthy or given up (else null)", unit: "ms"),
        ReportField("text", "the printed lines"),
    ]

    package static let example = ServiceReport(action: "restart", service: "ollama", unit: "ollama.service", scope: "user", done: true,
                                       healthy: true, wait: 1200, performed: "ollama: ollama.service restarted (systemctl --user restart -- ollama.service)",
                                       waitSummary: "up after 1.2 s (GET http://127.0.0.1:11434/api/tags → 200)")

    package var failureMessage: String? {
        guard healthy == false, let waitSummary else { return nil }
        return "service \(action) \(service): \(waitSummary)"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(action, forKey: .action)
        try c.encode(service, forKey: .service)
        // Null, not absent, when they do not apply (not confirmed; stop, enable, disable).
        try c.encode(unit, forKey: .unit)
        try c.encode(scope, forKey: .scope)
        try c.encode(done, forKey: .done)
        try c.encode(healthy, forKey: .healthy)
        try c.encode(wait, forKey: .wait)
        try c.encode(renderText(), forKey: .text)
    }

    package func renderText() -> String {
        guard let performed else { return "not confirmed: nothing done" }
        return performed + (waitSummary.map { "\n" + $0 } ?? "")
    }
}
