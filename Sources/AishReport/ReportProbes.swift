import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishGateway
import AishHTTP
import AishMeasure
import AishProviders
import AishServices

/// One real request of the routing section, through the gateway (LiteLLM picks and falls
/// back; its response headers say which deployment answered) or routed by aish directly.
package enum RouteProbe {
    package static let prompt = "Reply with the single word OK."
    package static let maxTokens = 8

    /// Straight to the gateway provider with the group's name as the model.
    /// Unless `useCache`, the gateway is asked neither to answer from its response cache nor
    /// to store the reply (a cached answer would time Redis, not the route).
    package static func viaGateway(group: String, gateway: ProviderConfig, config: AishConfig, environment: [String: String],
                           timeout: Double, interrupt: InterruptFlag, useCache: Bool = false) -> (RouteRequest, AttemptRecord) {
        var row = RouteRequest(group: group, path: "gateway", mark: .failed, ok: false, provider: nil, backendModel: nil, ttftMs: nil,
                               totalMs: nil, fallback: false, fallbackFrom: nil, attempts: 1, error: nil)
        let startedAt = Date()
        let start = MonotonicClock.now()
        var firstAt: Double?
        // The probe asks for a few tokens; a gateway that sends more is read to its end, but
        // only max_reply_bytes' default of it is kept (for the log).
        var reply = BoundedReply()
        var head: HTTPResponseHead?
        var decoder = OpenAIStreamDecoder()
        do {
            let auth = try ProviderAuth.resolve(gateway, environment: environment)
            var pairs: [(String, JSONValue)] = [
                ("model", .string(group)),
                ("messages", .array([.object([("role", "user"), ("content", .string(prompt))])])),
                ("max_tokens", .int(maxTokens)), ("stream", true),
            ]
            if !useCache { pairs.append(OpenAICompatibleBackend.noGatewayCache) }
            let body: JSONValue = .object(pairs)
            let limits = HTTPTimeouts(connect: min(gateway.timeouts.connect, timeout), firstByte: timeout, idle: timeout, total: timeout)
            let request = HTTPRequest.postJSON(url: ProviderEndpoints(gateway).chatCompletions, body, headers: auth.headers,
                                               timeouts: limits, secrets: auth.secrets)
            try HTTPTransport.stream(request, interrupt: interrupt, onHead: { head = $0 }) { bytes in
                try decoder.push(bytes) { piece in
                    if firstAt == nil, !piece.isEmpty { firstAt = MonotonicClock.now() }
                    reply.append(piece)
                }
            }
            try decoder.finish { piece in reply.append(piece) }
            row.ok = true
            row.mark = .ok
        } catch {
            row.error = "\(error)"
        }
        row.totalMs = (MonotonicClock.now() - start) * 1000
        row.ttftMs = firstAt.map { ($0 - start) * 1000 }
        if let head {
            if let base = head.header("x-litellm-model-api-base") {
                row.provider = MonitoringTargets.provider(servingAPIBase: base, config: config) ?? base
            }
            if let n = head.header("x-litellm-attempted-fallbacks").flatMap({ Int($0) }), n > 0 {
                row.fallback = true
                row.attempts = n + 1
                // The group's own deployment failed first.
                row.fallbackFrom = LiteLLMGenerator.deployments(config).first { $0.modelName == group }?
                    .info.first { $0.0 == "provider" }?.1.stringValue
                if row.ok { row.mark = .warning }
            }
        }
        row.backendModel = decoder.summary.model
        let status: AttemptStatus = row.ok ? .ok : (interrupt.isRaised ? .cancelled : (reply.isEmpty ? .error : .partial))
        let info = head.flatMap { GatewayInfo(headers: $0.headers) }?.resolvingDeployment(config.providers.providers)
        row.cacheHit = GatewayInfo.cacheHit(info, throughGateway: true)
        if row.cacheHit == true, row.ok { row.mark = .warning }
        var record = AttemptRecord(
            requestID: RequestID.make(), requestedModel: group, routeReason: "report: through the gateway",
            provider: gateway.name, backendModel: group, attempt: 1, status: status,
            httpStatus: head?.status, error: row.error, ttftMs: row.ttftMs, totalMs: row.totalMs,
            promptTokens: decoder.summary.promptTokens, completionTokens: decoder.summary.completionTokens, tokensPerSecond: nil,
            serverTimings: decoder.summary.serverTimings, prompt: prompt, replyText: reply.takeText(), startedAt: startedAt, kind: "report")
        record.gateway = info
        record.cacheHit = row.cacheHit
        return (row, record)
    }


    /// Routed by aish exactly as `chat` routes the name (failover included). The requester
    /// is made on the shell's thread (`MetricsRouting.requester`); nil with the reason when
    /// the name has no usable route.
    package static func direct(group: String, requester: Result<ModelRequester, CommandFailure>,
                       interrupt: InterruptFlag) -> (RouteRequest, [AttemptRecord]) {
        var row = RouteRequest(group: group, path: "direct", mark: .failed, ok: false, provider: nil, backendModel: nil, ttftMs: nil,
                               totalMs: nil, fallback: false, fallbackFrom: nil, attempts: 0, error: nil)
        let chosen: ModelRequester
        switch requester {
        case let .success(r): chosen = r
        case let .failure(e):
            row.error = e.message
            return (row, [])
        }
        let s = RequestMeasurement.measure(model: group, sequence: 0, warmup: false, prompt: prompt, maxTokens: maxTokens,
                                           requester: chosen, interrupt: interrupt)
        row.ok = s.ok
        row.mark = s.ok ? .ok : .failed
        row.provider = s.provider
        row.backendModel = s.backendModel
        row.ttftMs = s.ttftMs
        row.totalMs = s.totalMs
        row.error = s.error
        row.cacheHit = s.cacheHit
        let tried = s.records.filter { $0.status != .skipped }
        row.attempts = max(tried.count, s.ok ? 1 : 0)
        if let failed = tried.first(where: { $0.status != .ok }), s.ok {
            row.fallback = true
            row.fallbackFrom = failed.provider
            row.mark = .warning
        }
        return (row, RequestMeasurement.attemptRecords(s, kind: "report", prompt: prompt))
    }
}

/// The routing requests as the request thread sends them. Unlike `ReportMeasurements` it is
/// never closed: whatever stops the report (its timeout, Ctrl-C), every request sent is a row
/// of the section and of the session log, and a request cut short is counted as cancelled.
package final class RoutingRun: Sendable {
    private struct State: Sendable {
        var rows: [RouteRequest] = []
        var records: [AttemptRecord] = []
        var inFlight: (group: String, path: String, provider: String, startedAt: Date, start: Double)?
        var ended = false
        /// Why a request still running is cut short ("the report's timeout of 30 s passed").
        var stopReason = "the report ended"
    }

    private let state = Locked(State())

    package init() {}

    package func begin(group: String, path: String, provider: String) {
        let startedAt = Date(), start = MonotonicClock.now()
        state.withLock { $0.inFlight = (group, path, provider, startedAt, start) }
    }

    /// One request done; `stopped`: the report had told it to stop, so a failure is a cancellation.
    package func finish(_ row: RouteRequest, _ attempts: [AttemptRecord], stopped: Bool) {
        state.withLock { s in
            var row = row
            if stopped && !row.ok { Self.markCancelled(&row, reason: s.stopReason) }
            s.rows.append(row)
            s.records += attempts
            s.inFlight = nil
        }
    }

    package func end() { state.withLock { $0.ended = true } }

    package func setStopReason(_ reason: String) { state.withLock { $0.stopReason = reason } }

    /// Waits (at most `seconds`) for the request thread to end after it was told to stop.
    package func waitForEnd(upTo seconds: Double) {
        let deadline = MonotonicClock.now() + seconds
        while !state.withLock({ $0.ended }) && MonotonicClock.now() < deadline { usleep(10_000) }
    }

    /// The rows and attempts so far. A request still in flight (its thread did not end in
    /// time) becomes a cancelled row and a cancelled attempt, so it is still counted and logged.
    package func collect() -> (rows: [RouteRequest], records: [AttemptRecord]) {
        let now = MonotonicClock.now()
        return state.withLock { s in
            guard let f = s.inFlight else { return (s.rows, s.records) }
            s.inFlight = nil
            let totalMs = (now - f.start) * 1000
            var row = RouteRequest(group: f.group, path: f.path, mark: .failed, ok: false, provider: nil, backendModel: nil, ttftMs: nil,
                                   totalMs: totalMs, fallback: false, fallbackFrom: nil, attempts: 1, error: nil)
            Self.markCancelled(&row, reason: s.stopReason)
            s.rows.append(row)
            s.records.append(AttemptRecord(
                requestID: RequestID.make(), requestedModel: f.group, routeReason: "report: \(f.path), cut short",
                provider: f.provider, backendModel: f.group, attempt: 1, status: .cancelled, httpStatus: nil, error: row.error,
                ttftMs: nil, totalMs: totalMs, promptTokens: nil, completionTokens: nil, tokensPerSecond: nil, serverTimings: nil,
                prompt: RouteProbe.prompt, replyText: "", startedAt: f.startedAt, kind: "report"))
            return (s.rows, s.records)
        }
    }

    private static func markCancelled(_ row: inout RouteRequest, reason: String) {
        row.cancelled = true
        row.mark = .warning
        row.error = "cancelled: \(reason)" + (row.error.map { " (\($0))" } ?? "")
    }
}

/// One probe of the report: its name (in the progress line, and in the list of what did not
/// finish in time) and what it does.
struct ReportProbe: Sendable {
    var name: String
    var body: @Sendable () -> Void

    init(_ name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// Runs the report's probes under its one deadline, a list at a time, each probe of a list on
/// its own thread. At the deadline or on Ctrl-C it raises `stop`, which every probe watches,
/// and names the probes still running.
struct ReportProbeRunner: Sendable {
    let deadline: Date
    /// Ctrl-C.
    let interrupt: InterruptFlag
    /// Raised when the report stops waiting: every probe ends at once.
    let stop = InterruptFlag()
    let progress: @Sendable ([String], Int) -> Void

    /// Whether a next list may start: time is left and Ctrl-C was not pressed.
    var timeLeft: Bool { !interrupt.isRaised && Date() < deadline }

    /// Runs `probes` at once and waits for them; the names of those that did not finish.
    /// `atDeadline` runs before they are told to stop (see `ConcurrentJobs.wait`).
    func run(_ probes: [ReportProbe], atDeadline: () -> Void) -> [String] {
        let jobs = ConcurrentJobs()
        for p in probes { jobs.start(p.name, p.body) }
        return jobs.wait(until: deadline, interrupt: interrupt, stop: stop, atDeadline: atDeadline, progress: progress)
    }
}

/// The report's routing requests: per route group one request through the gateway (when it
/// can take them) and one routed by aish, sent one after another so that each TTFT is
/// measured on a quiet machine. The requesters are made on the shell's thread (the router
/// lives there).
struct ReportRouteRequests {
    let config: AishConfig
    let environment: [String: String]
    let gateway: ProviderConfig?
    let useCache: Bool
    let requesters: [(group: String, requester: Result<ModelRequester, CommandFailure>)]
    let gatewayGroups: Set<String>
    /// Without its key the gateway refuses every request: one issue says so, not one per group.
    let gatewayUsable: Bool
    let run = RoutingRun()

    init(_ config: AishConfig, gateway: ProviderConfig?, ctx: ShellContext, options: ReportCommands.Options) {
        self.config = config
        environment = ctx.environment
        self.gateway = gateway
        useCache = options.useCache
        let groups = options.sendRequests ? ReportBuilder.routeGroups(config) : []
        requesters = groups.map { g in
            do { return (g, .success(try MetricsRouting.requester(for: g, kind: "report", ctx: ctx, useGatewayCache: options.useCache))) }
            catch { return (g, .failure(CommandFailure("\(error)"))) }
        }
        gatewayGroups = Set(LiteLLMGenerator.deployments(config).map(\.modelName))
        gatewayUsable = gateway.map { ProviderCommands.notProbedReason($0, environment: ctx.environment) == nil } ?? false
    }

    /// One per group and path.
    var planned: Int { requesters.reduce(0) { n, r in n + 1 + (throughGateway(r.group) ? 1 : 0) } }

    private func throughGateway(_ group: String) -> Bool { gatewayUsable && gatewayGroups.contains(group) }

    /// Sends them all, in the time the report has left; "routing" when they did not all end in time.
    func send(with runner: ReportProbeRunner, measurements m: ReportMeasurements, timeout: Double) -> [String] {
        guard !requesters.isEmpty else { return [] }
        guard runner.timeLeft else { return ["routing"] }
        let stop = runner.stop
        let stopReason = { [run, interrupt = runner.interrupt] in
            run.setStopReason(interrupt.isRaised ? "interrupted (Ctrl-C)" : "the report's timeout of \(ReportFormatting.seconds(timeout)) passed")
        }
        let timedOut = runner.run([ReportProbe("routing") { [self] in
            defer { run.end() }
            for (group, requester) in requesters {
                if stop.isRaised { break }
                // A second past the report's end: at the end the report cancels the request itself.
                let left = max(0.5, runner.deadline.timeIntervalSinceNow) + 1
                if let gateway, throughGateway(group) {
                    run.begin(group: group, path: "gateway", provider: gateway.name)
                    let (row, record) = RouteProbe.viaGateway(group: group, gateway: gateway, config: config, environment: environment,
                                                              timeout: min(left, gateway.timeouts.firstToken), interrupt: stop,
                                                              useCache: useCache)
                    run.finish(row, [record], stopped: stop.isRaised)
                }
                if stop.isRaised { break }
                run.begin(group: group, path: "direct", provider: "")
                let (row, attempts) = RouteProbe.direct(group: group, requester: requester, interrupt: stop)
                run.finish(row, attempts, stopped: stop.isRaised)
            }
        }], atDeadline: { m.close(); stopReason() })
        // Told to stop, the request in flight ends at once (and is logged as cancelled).
        run.waitForEnd(upTo: 5)
        return timedOut
    }
}

/// Runs named jobs at once on their own threads and waits for them until a deadline; a job
/// still running then is reported by name (and told to stop through `stop`).
package final class ConcurrentJobs: Sendable {
    private let jobs = Locked<(started: [String], finished: Set<String>)>(([], []))

    package init() {}

    package func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        jobs.withLock { $0.started.append(name) }
        WorkerThread.start { [self] in
            body()
            jobs.withLock { _ = $0.finished.insert(name) }
        }
    }

    package var pending: [String] { jobs.withLock { j in j.started.filter { !j.finished.contains($0) } } }

    /// Waits until every job ended, the deadline passed or `interrupt` was raised; raises
    /// `stop` in the last two cases and gives the jobs a moment to notice. Returns the jobs
    /// that did not finish.
    /// `atDeadline` runs before the jobs are told to stop, so that what they report after
    /// being cut off ("cancelled") can be ignored in favour of "no answer in time".
    package func wait(until deadline: Date, interrupt: InterruptFlag, stop: InterruptFlag, atDeadline: () -> Void = {},
              progress: (([String], Int) -> Void)? = nil) -> [String] {
        while true {
            let left = pending
            if left.isEmpty { return [] }
            if interrupt.isRaised || Date() >= deadline {
                atDeadline()
                stop.raise()
                let grace = Date().addingTimeInterval(0.5)
                while !pending.isEmpty && Date() < grace { usleep(20_000) }
                return pending
            }
            progress?(left, jobs.withLock { $0.started.count })
            usleep(50_000)
        }
    }
}

/// Results written by the probe threads; ignored once the report stopped waiting.
package final class ReportMeasurements: Sendable {
    /// What the probes measured; each is nil until its probe answered.
    package struct Values: Sendable {
        package var providerHealth: [ProbeOutcome]?
        package var listings: [ProbeOutcome]?
        package var status: StatusSnapshot?
        package var gateway: GatewayHealthAnswer?
        package var prometheus: PrometheusHealth?
        package var grafana: GrafanaHealth?
        package var redis: RedisProbeResult?
        package var recent: RecentFigures?
        package var gatewayLive: GatewayStatus?
    }

    private let state = Locked<(closed: Bool, values: Values)>((false, Values()))

    package init() {}

    /// What was measured until now (and, once closed, for good).
    package var values: Values { state.withLock { $0.values } }

    package var providerHealth: [ProbeOutcome]? { values.providerHealth }
    package var listings: [ProbeOutcome]? { values.listings }
    package var status: StatusSnapshot? { values.status }
    package var gateway: GatewayHealthAnswer? { values.gateway }
    package var prometheus: PrometheusHealth? { values.prometheus }
    package var grafana: GrafanaHealth? { values.grafana }
    package var redis: RedisProbeResult? { values.redis }
    package var recent: RecentFigures? { values.recent }
    package var gatewayLive: GatewayStatus? { values.gatewayLive }

    package func set(_ body: (inout Values) -> Void) {
        state.withLock { if !$0.closed { body(&$0.values) } }
    }

    package func close() { state.withLock { $0.closed = true } }

    package func setProviders(health: [ProbeOutcome], listings: [ProbeOutcome]) { set { $0.providerHealth = health; $0.listings = listings } }
    package func setStatus(_ s: StatusSnapshot?) { set { $0.status = s } }
    package func setGateway(_ g: GatewayHealthAnswer) { set { $0.gateway = g } }
    package func setGatewayLive(_ g: GatewayStatus?) { set { $0.gatewayLive = g } }
    package func setPrometheus(_ p: PrometheusHealth) { set { $0.prometheus = p } }
    package func setGrafana(_ g: GrafanaHealth) { set { $0.grafana = g } }
    package func setRedis(_ r: RedisProbeResult) { set { $0.redis = r } }
    package func setRecent(_ r: RecentFigures) { set { $0.recent = r } }
}
