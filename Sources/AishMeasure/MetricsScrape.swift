import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishHTTP
import AishSessionLog
import AishTelemetry

/// Something `metrics` and `tail metrics` can read: a provider's Prometheus endpoint, or
/// Ollama's /api/ps (Ollama has no /metrics).
package struct ScrapeTarget: Sendable {
    package enum Kind: Sendable { case prometheus, ollamaPS }

    package var name: String
    package var type: ProviderType
    package var url: String
    package var kind: Kind
    /// Name of the environment variable holding the bearer key (never the key itself).
    package var keyVariable: String?
    package var connectTimeout: Double

    /// The targets for `metrics [PROVIDER]`: every active provider that runs on servers the
    /// operator controls (cloud APIs have no /metrics), plus a LiteLLM gateway registered
    /// only in ports.yaml. A provider named explicitly is scraped whatever its status.
    package static func targets(in config: AishConfig, only name: String?) throws -> [ScrapeTarget] {
        var out: [ScrapeTarget] = []
        for p in config.providers.providers {
            if let name, p.name != name { continue }
            if name == nil {
                guard p.isActive else { continue }
                if p.type == .openai || p.type == .anthropic { continue }
            }
            out.append(target(for: p))
        }
        if !config.providers.providers.contains(where: { $0.type == .litellm }),
            let gateway = config.ports.services.first(where: { $0.name.lowercased().contains("litellm") }),
            name == nil || name == gateway.name
        {
            out.append(ScrapeTarget(name: gateway.name, type: .litellm, url: "http://127.0.0.1:\(gateway.port)/metrics",
                                    kind: .prometheus, keyVariable: "LITELLM_MASTER_KEY", connectTimeout: 5))
        }
        if let name, out.isEmpty {
            var names = config.providers.providers.map(\.name)
            names += config.ports.services.filter { $0.name.lowercased().contains("litellm") }.map(\.name)
            var message = "metrics: no provider named '\(name)'"
            if let s = Suggest.closest(to: name, among: names) { message += " — did you mean '\(s)'?" }
            throw UsageError(message: message)
        }
        return out
    }

    package static func target(for p: ProviderConfig) -> ScrapeTarget {
        let root = rootURL(p.baseURL)
        if p.type == .ollama {
            return ScrapeTarget(name: p.name, type: p.type, url: root + "/api/ps", kind: .ollamaPS,
                                keyVariable: p.envVar, connectTimeout: p.timeouts.connect)
        }
        let keyVariable = p.envVar ?? (p.type == .litellm ? "LITELLM_MASTER_KEY" : nil)
        return ScrapeTarget(name: p.name, type: p.type, url: root + "/metrics", kind: .prometheus,
                            keyVariable: keyVariable, connectTimeout: p.timeouts.connect)
    }

    /// The server root of an API base URL: `http://h:8001/v1/` → `http://h:8001`. A path
    /// prefix in front of /v1 (a reverse proxy) is kept.
    package static func rootURL(_ base: String) -> String {
        var s = base
        while s.hasSuffix("/") { s.removeLast() }
        if s.hasSuffix("/v1") { s.removeLast(3) }
        return s
    }

    package func request(environment: [String: String]) -> HTTPRequest {
        var headers: [(String, String)] = [("Accept", kind == .prometheus ? "text/plain; version=0.0.4" : "application/json")]
        var secrets: [String] = []
        if let keyVariable, let key = environment[keyVariable], !key.isEmpty {
            headers.append(("Authorization", "Bearer \(key)"))
            secrets.append(key)
        }
        let timeouts = HTTPTimeouts(connect: connectTimeout, firstByte: 10, idle: 10, total: 15)
        return HTTPRequest(method: "GET", url: url, headers: headers, timeouts: timeouts, secrets: secrets)
    }
}

/// One target read once.
package struct ScrapeResult: Sendable {
    package var target: ScrapeTarget
    package var backend: MetricsBackend
    package var exposition: MetricsExposition?
    package var readings: [KeyReading]
    package var error: String?
    package var latencyMs: Double?
    package var at: Date

    package var ok: Bool { error == nil }
}

package enum MetricsScraper {
    /// Reads every target at once (one transfer loop; wall time = the slowest target).
    package static func scrape(_ targets: [ScrapeTarget], environment: [String: String], interrupt: InterruptFlag?)
        -> [ScrapeResult]
    {
        let requests = targets.map { $0.request(environment: environment) }
        let started = Date()
        let responses = HTTPTransport.fetchAll(requests, interrupt: interrupt, maxBody: HTTPTransport.BodyCap.metricsPage,
                                                 maxTotal: HTTPTransport.BodyCap.metricsScrape)
        return zip(targets, responses).map { target, response in
            interpret(target, response, at: started)
        }
    }

    package static func interpret(_ target: ScrapeTarget, _ response: Result<HTTPResponse, HTTPError>, at: Date) -> ScrapeResult {
        var result = ScrapeResult(target: target, backend: MetricsBackend(providerType: target.type, exposition: nil),
                                  exposition: nil, readings: [], error: nil, latencyMs: nil, at: at)
        let r: HTTPResponse
        switch response {
        case let .failure(e):
            result.error = explain(e, target: target)
            return result
        case let .success(ok):
            r = ok
        }
        result.latencyMs = r.timings.total * 1000
        guard r.head.isSuccess else {
            let e = HTTPError(kind: .status(r.head.status), method: "GET", url: r.head.header("location") ?? target.url,
                              status: r.head.status, serverMessage: ServerErrorText.extract(r.body), retryAfter: nil,
                              detail: "")
            result.error = explain(e, target: target)
            return result
        }
        switch target.kind {
        case .prometheus:
            do {
                let e = try PrometheusText.parse(r.bodyText, source: target.url)
                result.exposition = e
                result.backend = MetricsBackend(providerType: target.type, exposition: e)
                result.readings = KeySeriesCatalog.read(e)
            } catch {
                result.error = "\(error)"
            }
        case .ollamaPS:
            result.backend = .ollama
            do {
                result.readings = try OllamaLoadedModels.readings(fromPS: r.json(), now: at)
            } catch {
                result.error = "GET \(target.url): the reply is not the JSON of /api/ps (\(error))"
            }
        }
        return result
    }

    /// Transport errors in the operator's terms, with hints for the usual causes.
    package static func explain(_ e: HTTPError, target: ScrapeTarget) -> String {
        var text = e.description
        if case let .status(code) = e.kind {
            switch (code, target.type) {
            case (404, .llamaCpp), (501, .llamaCpp):
                text += " (llama-server serves /metrics when started with --metrics; the Python server has none)"
            case (401, .litellm), (403, .litellm), (500, .litellm):
                if let v = target.keyVariable {
                    text += " (LiteLLM's /metrics needs the master key in $\(v))"
                }
            case (404, .litellm):
                text += " (enable it with litellm_settings.callbacks: [\"prometheus\"])"
            case (404, _):
                text += " (no /metrics endpoint)"
            default: break
            }
        }
        return text
    }
}

/// What Ollama's /api/ps says: the loaded models, their size, the share in VRAM, and when
/// each will be unloaded.
package enum OllamaLoadedModels {
    package static func readings(fromPS json: JSONValue, now: Date) throws -> [KeyReading] {
        guard case let .array(models)? = json["models"] else {
            throw CommandFailure("no \"models\" array")
        }
        var out = [KeyReading(name: "models_loaded", source: "/api/ps", shape: .gaugeSum, unit: .count, labels: "",
                              value: Double(models.count))]
        for m in models {
            let name = m["name"]?.stringValue ?? m["model"]?.stringValue ?? "?"
            let size = m["size"]?.doubleValue ?? 0
            let vram = m["size_vram"]?.doubleValue ?? 0
            var parts = [Format.bytes(size)]
            if size > 0 {
                parts.append("VRAM \(Format.bytes(vram)) (\(Int((vram / size * 100).rounded()))%)")
            }
            if let expires = m["expires_at"]?.stringValue, let date = LogTimestamps.parse(expires) {
                let left = date.timeIntervalSince(now)
                parts.append(left > 0 ? "unloads in \(Format.age(left))" : "unloading")
            }
            out.append(KeyReading(name: "loaded_model", source: "/api/ps", shape: .perLabelSet(["model"]), unit: .bytes,
                                  labels: [MetricLabel(name: "model", value: name)].canonicalText, value: size,
                                  display: parts.joined(separator: ", ")))
        }
        return out
    }
}


/// What the session log says about a provider's recent requests: Ollama has no /metrics,
/// so its latency figures come from what aish itself measured.
package enum LoggedProviderFigures {
    package static let window: Double = 3600

    /// Readings for the last hour of `provider`'s attempts; empty when the log is unavailable
    /// or holds none.
    package static func readings(provider: String, logPath: String, now: Date = Date()) -> [KeyReading] {
        guard let reader = try? SessionLogReader(path: logPath),
            let s = try? reader.db.prepare("""
                SELECT status, ttft_ms, total_ms, tokens_per_second, server_timings FROM attempts
                WHERE provider = ? AND started_at >= ? ORDER BY id DESC LIMIT 100000
                """)
        else { return [] }
        var requests = 0, errors = 0, coldLoads = 0
        var ttft: [Double] = [], total: [Double] = [], rates: [Double] = []
        do {
            try s.bind([.text(provider), .text(LogTime.format(now.addingTimeInterval(-window)))])
            while try s.step() {
                requests += 1
                guard s.string(0) == "ok" else { errors += 1; continue }
                if let v = s.optionalDouble(1) { ttft.append(v) }
                if let v = s.optionalDouble(2) { total.append(v) }
                if let v = s.optionalDouble(3) { rates.append(v) }
                if let timings = s.optionalString(4), let json = try? JSONValue.parse(timings),
                    let load = json["load_duration"]?.doubleValue, load / 1e9 > RequestMeasurement.coldLoadSeconds
                {
                    coldLoads += 1
                }
            }
        } catch {
            return []
        }
        guard requests > 0 else { return [] }
        let source = "session log, last hour"
        func count(_ name: String, _ v: Int) -> KeyReading {
            KeyReading(name: name, source: source, shape: .gaugeSum, unit: .count, labels: "", value: Double(v))
        }
        func latency(_ name: String, _ values: [Double]) -> KeyReading? {
            guard let l = LatencySummary(values) else { return nil }
            return KeyReading(name: name, source: source, shape: .gaugeMax, unit: .seconds, labels: "", value: l.p50 / 1000,
                              display: "p50 \(Format.milliseconds(l.p50))  p90 \(Format.milliseconds(l.p90))  p99 \(Format.milliseconds(l.p99))  (n=\(l.count))")
        }
        var out = [count("requests_logged", requests), count("errors_logged", errors)]
        if let r = latency("ttft_logged", ttft) { out.append(r) }
        if let r = latency("e2e_latency_logged", total) { out.append(r) }
        if let l = LatencySummary(rates) {
            out.append(KeyReading(name: "generation_tokens_per_second_logged", source: source, shape: .gaugeMax,
                                  unit: .tokensPerSecond, labels: "", value: l.p50))
        }
        out.append(count("cold_loads_logged", coldLoads))
        return out
    }
}
