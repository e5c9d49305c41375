import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishGateway
import AishMeasure
import AishProviders
import AishSQLite
import AishServices
import AishSessionLog

/// `report`: measure the whole stack now and write the operator's infrastructure report.
package enum ReportCommands {
    package static let all: [CommandSpec] = [report]

    package static let defaultTimeout = 30.0

    package static let report = CommandSpec(
        name: "report",
        summary: "measure the whole stack now and write the infrastructure report (Markdown, JSON or terminal)",
        help: """
            Measures, all at once under one overall --timeout (default 30s): the configuration
            (each file, the cross-file checks, counts, the backups of config generate); every
            provider (health, models served next to those declared, response time, CPU, RSS,
            GPU memory); the services of ports.yaml; LiteLLM's own GET /health per deployment
            (needs the master key from the gateway provider's env_var) next to aish's probe of
            the same backend; one short real request per route group through the gateway and
            routed by aish directly (not with --no-requests); Prometheus (/-/healthy, targets),
            Grafana (/api/health) and Redis (PING, DBSIZE, LiteLLM cache keys) when ports.yaml
            names them; the session log's figures of the last hour. A service that does not
            answer in time is reported as such; it delays the report by at most the timeout.

            Then it lists every problem with its cause, impact and fix, draws the stack, and
            gives one verdict: operational, degraded or down, and a health score:
            \(HealthScore.formula)
            Down: no active provider answers, or every request failed. Degraded: an issue of
            high or medium impact.

            Output: at a terminal the compact coloured form (a progress line while probing),
            else Markdown; --format chooses; --out FILE writes the report there (format from
            --format, else .json → JSON, .txt → text, else Markdown) and prints the compact
            form. Every probe and request goes to the session log, and the report's figures
            are stored as a run: `report --compare RUN_ID` adds what changed since that run.
            Exit code: 0 operational, 1 degraded or down, 3 configuration invalid.
            """,
        options: [
            OptionSpec(["-o", "--out"], .path("FILE"), help: "write the report to FILE"),
            OptionSpec(["--format"], .oneOf(["md", "json", "text"], hidden: ["markdown"]), help: "the report's format"),
            OptionSpec(["--no-requests"], help: "send no model requests (probes only)"),
            OptionSpec(["--cache"], help: "let a LiteLLM gateway answer the routing requests from its response cache (hits are marked)"),
            OptionSpec(["-t", "--timeout"], .duration("S"), help: "overall timeout for the probes (default 30s)"),
            OptionSpec(["--compare"], .text("RUN_ID"), help: "show what changed since an earlier report's run"),
        ],
        report: ReportShape(DiagnosticReport.self),
        run: { inv, ctx in try run(inv, ctx) })

    /// What the command line asks for.
    struct Options {
        var timeout = ReportCommands.defaultTimeout
        var format: ReportFormat?
        var out: String?
        /// `--compare`: the earlier run and its stored figures.
        var base: (Int, JSONValue)?
        var sendRequests = true
        var useCache = false

        init(_ inv: Invocation, _ ctx: ShellContext) throws {
            if !inv.positionals.isEmpty {
                throw UsageError(message: "report: unexpected argument '\(inv.positionals[0])'", usage: report.usage)
            }
            timeout = try inv.duration("--timeout", default: defaultTimeout)
            guard timeout > 0 else { throw UsageError(message: "report: --timeout must be more than 0", usage: report.usage) }
            if let f = inv.value("--format") {
                guard let parsed = ReportFormat(rawValue: f == "markdown" ? "md" : f) else {
                    throw UsageError(message: "report: --format takes md, json or text, got '\(f)'", usage: report.usage)
                }
                format = parsed
            }
            out = inv.value("--out")
            if let raw = inv.value("--compare") {
                guard let id = Int(raw), id > 0 else {
                    throw UsageError(message: "report: --compare takes a run id (a whole number, see `report` output or `sql 'SELECT id, started_at FROM runs WHERE kind = \"report\"'`), got '\(raw)'", usage: report.usage)
                }
                base = (id, try storedReport(id, ctx))
            }
            sendRequests = !inv.flag("--no-requests")
            useCache = inv.flag("--cache")
        }
    }

    package static func run(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        let options = try Options(inv, ctx)
        let started = Date()
        let stopwatch = MonotonicClock.now()
        let loaded = ctx.configLoad()
        let validation = ConfigValidator.validate(loaded)
        let config = loaded.config
        let gateway = config.providers.providers.first { $0.type == .litellm && $0.isActive }
        let m = ReportMeasurements()
        let progress = ReportProgressLine(enabled: !ctx.options.quiet && !ctx.options.json && !ctx.output.isCapturing && isatty(2) == 1,
                                          output: ctx.output, started: stopwatch)
        let runner = ReportProbeRunner(deadline: started.addingTimeInterval(options.timeout), interrupt: ctx.interrupt,
                                       progress: progress.show)
        // The probes at once, then the routing requests one after another (each TTFT measured on a quiet machine).
        let requests = ReportRouteRequests(config, gateway: gateway, ctx: ctx, options: options)
        var timedOut = runner.run(probes(config, gateway: gateway, ctx: ctx, timeout: options.timeout, started: started,
                                         stop: runner.stop, into: m), atDeadline: m.close)
        timedOut += requests.send(with: runner, measurements: m, timeout: options.timeout)
        progress.clear()
        m.close()
        let interrupted = ctx.interrupt.isRaised
        let (requestRows, requestRecords) = requests.run.collect()

        var report = ReportBuilder.build(ReportInputs(
            config: config, validation: validation, environment: ctx.environment, generatedAt: started,
            host: hostName(), durationMs: (MonotonicClock.now() - stopwatch) * 1000, timeout: options.timeout,
            targets: MonitoringTargets.resolve(config), providerHealth: m.providerHealth, listings: m.listings, status: m.status,
            gateway: m.gateway, prometheus: m.prometheus, grafana: m.grafana, redis: m.redis, recent: m.recent,
            requestsSent: options.sendRequests, requests: requestRows, requestsPlanned: requests.planned,
            chains: chainRows(config, ctx), backups: ReportBuilder.backups(in: config.directory), timedOut: timedOut,
            gatewayLive: m.gatewayLive))
        if let (id, json) = options.base { report.comparison = try ReportComparison.between(base: json, baseRun: id, current: report) }

        // What was sent is logged whatever stopped the report; an interrupted report is not stored as a run.
        record(report, measurements: m, attempts: requestRecords, gateway: gateway, ctx: ctx, started: started, storeRun: !interrupted)
        if interrupted { throw CommandFailure("report: interrupted") }
        report.run = storedRunID(ctx, startedAt: started)
        return CommandResult(report: try deliver(report, options, ctx))
    }

    /// Every probe of the report, each writing into `m`; each one's own timeout is the
    /// overall one (or less), and each watches `stop`.
    static func probes(_ config: AishConfig, gateway: ProviderConfig?, ctx: ShellContext, timeout: Double, started: Date,
                       stop: InterruptFlag, into m: ReportMeasurements) -> [ReportProbe] {
        let environment = ctx.environment
        let targets = MonitoringTargets.resolve(config)
        let logPath = SessionLogAccess.resolvePath(ctx.options.databasePath, environment: environment)
        let active = config.providers.providers.filter { ProviderCommands.notProbedReason($0, environment: environment) == nil }
        let probeTimeout = min(timeout, config.providers.healthChecks.timeoutSeconds)
        var probes = [
            ReportProbe("providers") {
                let health = ProviderProbes.health(active, environment: environment, timeout: probeTimeout, interrupt: stop)
                let needListing = zip(active, health).filter { $0.1.ok && $0.1.models == nil && ProviderProbes.modelsURL($0.0) != nil }.map(\.0)
                let listings = ProviderProbes.listModels(needListing, environment: environment, timeout: probeTimeout, interrupt: stop)
                m.setProviders(health: health, listings: listings)
            },
            ReportProbe("status") {
                let collector = StatusCollector(environment: environment, interrupt: stop, healthTimeout: min(2, timeout))
                m.setStatus(collector.collect(ServiceTargets.from(config)))
            },
        ]
        if let gateway {
            probes.append(ReportProbe("gateway /health") {
                m.setGateway(GatewayHealthAnswer.fetch(gateway, environment: environment, timeout: timeout, interrupt: stop))
            })
            probes.append(ReportProbe("gateway cooldowns") {
                m.setGatewayLive(GatewayStatus.fetch(config, environment: environment, timeout: min(timeout, 5), interrupt: stop))
            })
        }
        if let url = targets.prometheus {
            let token = targets.prometheusKeyVariable.flatMap { environment[$0] }
            probes.append(ReportProbe("prometheus") {
                m.setPrometheus(PrometheusProbe.check(base: url, token: token, timeout: timeout, interrupt: stop))
            })
        }
        if let url = targets.grafana {
            probes.append(ReportProbe("grafana") { m.setGrafana(GrafanaProbe.check(base: url, timeout: timeout, interrupt: stop)) })
        }
        if let port = targets.redisPort {
            let host = targets.redisHost ?? "127.0.0.1"
            let password = environment["REDIS_PASSWORD"]
            probes.append(ReportProbe("redis") {
                m.setRedis(RedisProbeResult.probe(host: host, port: port, password: password, timeout: timeout, interrupt: stop))
            })
        }
        probes.append(ReportProbe("session log") {
            if let reader = try? SessionLogReader(path: logPath) {
                m.setRecent(ReportBuilder.recentFigures(reader: reader, now: started))
            } else {
                m.setRecent(RecentFigures(windowSeconds: 3600, available: false, note: "no session log at \(logPath) yet", requests: 0,
                                          errors: 0, errorRate: 0, ttftP50Ms: nil, ttftP99Ms: nil, latencyP50Ms: nil, latencyP99Ms: nil,
                                          byProvider: []))
            }
        })
        return probes
    }

    /// Each fallback chain (and the default one): as configured, and the plan aish would follow now.
    static func chainRows(_ config: AishConfig, _ ctx: ShellContext) -> [ChainRow] {
        let router = ctx.routing.router(for: config)
        var chainNames = config.mappings.fallbackChains.map(\.model)
        if config.mappings.defaultChain != nil { chainNames.append("default") }
        return chainNames.map { name -> ChainRow in
            let configured = name == "default" ? (config.mappings.defaultChain?.chain ?? [])
                : (config.mappings.fallbackChains.first { $0.model == name }?.chain ?? [])
            let plan = name == "default" ? [] : router.plan(for: name, state: ctx.routing.state, advance: false).steps.map { s in
                "\(s.provider)/\(s.backendModel)" + (s.unusable == nil ? "" : " (skipped)")
            }
            return ChainRow(model: name, plan: plan, chain: configured)
        }
    }

    /// Where the report goes: the file in its format (the terminal then gets the compact
    /// form), else stdout (compact at a terminal, else Markdown, unless --format).
    static func deliver(_ report: DiagnosticReport, _ options: Options, _ ctx: ShellContext) throws -> DiagnosticReport {
        var report = report
        let terminal = isatty(1) == 1 && !ctx.output.isCapturing
        if let out = options.out {
            var fileReport = report
            fileReport.format = options.format ?? (out.hasSuffix(".json") ? .json : (out.hasSuffix(".txt") ? .text : .markdown))
            fileReport.color = false
            do {
                try OutputFile.write(ctx.output.forFile(fileReport.renderText()), to: out, privacy: .keepMode)
            } catch {
                throw CommandFailure("report: cannot write \(out): \(error)")
            }
            report.format = .text
            report.writtenTo = out
        } else {
            report.format = options.format ?? (terminal ? .text : .markdown)
        }
        report.color = ctx.options.color && terminal
        return report
    }

    /// The figures of an earlier report, as stored in its run.
    package static func storedReport(_ id: Int, _ ctx: ShellContext) throws -> JSONValue {
        let reader = try SessionLogCommands.openReader(ctx, command: "report --compare")
        do {
            let s = try reader.db.prepare("SELECT kind, summary FROM runs WHERE id = ?")
            try s.bind([.int(Int64(id))])
            guard try s.step() else { throw CommandFailure("report --compare: no run \(id) in the session log \(reader.path)") }
            let kind = s.string(0)
            guard kind == "report" else { throw CommandFailure("report --compare: run \(id) is a \(kind) run, not a report") }
            let stored = try JSONValue.parse(s.string(1))
            // The log stores a summary its secret filter changed as text.
            if case let .string(text) = stored {
                guard let inner = try? JSONValue.parse(text) else {
                    throw CommandFailure("report --compare: run \(id)'s figures were masked by the session log's secret filter and cannot be read")
                }
                return inner
            }
            return stored
        } catch let e as SQLiteError {
            throw CommandFailure("report --compare: session log unavailable: \(reader.path): \(e)")
        } catch let e as JSONParseError {
            throw CommandFailure("report --compare: run \(id) holds no readable report: \(e)")
        }
    }

    /// Probes and requests into the session log, then the report itself as a run.
    package static func record(_ report: DiagnosticReport, measurements m: ReportMeasurements, attempts: [AttemptRecord],
                       gateway: ProviderConfig?, ctx: ShellContext, started: Date, storeRun: Bool = true) {
        guard let recorder = ctx.recorder else { return }
        if let health = m.providerHealth {
            for o in health {
                recorder.recordHealthProbe(HealthProbeRecord(provider: o.provider, url: o.url, ok: o.ok, httpStatus: o.httpStatus,
                                                             latencyMs: o.latencyMs, error: o.error, probedAt: started))
            }
        } else {
            // The probes were sent and cut short: each is still a row, with why it has no answer.
            for p in report.providers.providers where p.state == "down" && p.error != nil {
                recorder.recordHealthProbe(HealthProbeRecord(provider: p.name, url: p.url, ok: false, httpStatus: nil,
                                                             latencyMs: nil, error: p.error, probedAt: started))
            }
        }
        if m.gateway == nil, let gateway, report.gateway.error != nil {
            recorder.recordHealthProbe(HealthProbeRecord(provider: gateway.name, url: report.gateway.url ?? "", ok: false, httpStatus: nil,
                                                         latencyMs: nil, error: report.gateway.error, probedAt: started))
        }
        if let g = m.gateway, let gateway {
            if g.error != nil {
                recorder.recordHealthProbe(HealthProbeRecord(provider: gateway.name, url: g.url, ok: false, httpStatus: g.httpStatus,
                                                             latencyMs: g.latencyMs, error: g.error, probedAt: started))
            }
            for d in report.gateway.deployments {
                recorder.recordHealthProbe(HealthProbeRecord(provider: "\(gateway.name)/\(d.modelName)", url: g.url, ok: d.gatewayHealthy,
                                                             httpStatus: g.httpStatus, latencyMs: g.latencyMs, error: d.gatewayError,
                                                             probedAt: started))
            }
        }
        let mon = report.monitoring
        if mon.prometheus.mark != .notConfigured {
            recorder.recordHealthProbe(HealthProbeRecord(provider: "prometheus", url: mon.prometheus.url ?? "", ok: mon.prometheus.mark != .failed,
                                                         httpStatus: m.prometheus?.httpStatus, latencyMs: mon.prometheus.latencyMs,
                                                         error: mon.prometheus.error, probedAt: started))
        }
        if mon.grafana.mark != .notConfigured {
            recorder.recordHealthProbe(HealthProbeRecord(provider: "grafana", url: mon.grafana.url ?? "", ok: mon.grafana.mark == .ok,
                                                         httpStatus: m.grafana?.httpStatus, latencyMs: mon.grafana.latencyMs,
                                                         error: mon.grafana.error, probedAt: started))
        }
        if mon.redis.mark != .notConfigured {
            recorder.recordHealthProbe(HealthProbeRecord(provider: "redis", url: "redis://\(mon.redis.address ?? "")", ok: mon.redis.mark == .ok,
                                                         httpStatus: nil, latencyMs: mon.redis.latencyMs, error: mon.redis.error,
                                                         probedAt: started))
        }
        recorder.recordAttempts(attempts)
        guard storeRun else { return }
        let summary = (try? JSONValueEncoder.encode(report)) ?? .null
        let parameters: JSONValue = .object([("timeout_s", .double(report.timeoutSeconds)), ("requests", .bool(report.routing.requestsSent)),
                                             ("config", .string(report.configuration.directory))])
        recorder.recordRun(RunRecord(kind: "report", parameters: parameters, summary: summary, startedAt: started,
                                     durationMs: report.durationMs))
    }

    /// The id of the run just stored (found by its kind and start time); nil without a log.
    package static func storedRunID(_ ctx: ShellContext, startedAt: Date) -> Int? {
        guard ctx.recorder != nil, let reader = try? SessionLogCommands.openReader(ctx, command: "report") else { return nil }
        guard let s = try? reader.db.prepare("SELECT max(id) FROM runs WHERE kind = 'report' AND started_at = ?"),
              (try? s.bind([.text(LogTime.format(startedAt))])) != nil, (try? s.step()) == true, !s.isNull(0) else { return nil }
        return s.int(0)
    }

    package static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(nulTerminated: buffer)
    }
}

/// "report: measuring… 5 of 8 done; waiting for gateway /health (2.1 s)" on stderr at a terminal.
private struct ReportProgressLine {
    var enabled: Bool
    var output: OutputSink
    var started: Double

    func show(_ pending: [String], _ total: Int) {
        guard enabled else { return }
        let elapsed = MonotonicClock.now() - started
        let text = "report: measuring… \(total - pending.count) of \(total) done; waiting for \(pending.joined(separator: ", ")) ("
            + cFormat("%.1f s", elapsed) + ")"
        output.writeError(TerminalText.control(TerminalControl.clearLine) + text)
    }

    func clear() {
        if enabled { output.writeError(TerminalText.control(TerminalControl.clearLine)) }
    }
}
