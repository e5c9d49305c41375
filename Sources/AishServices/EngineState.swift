import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishHTTP
import AishProviders
import AishTelemetry

/// What a model server says about its own load, beside the CPU and memory `status` reads
/// from /proc: llama.cpp's slots (`GET /slots`), vLLM's queue and KV cache (its Prometheus
/// `/metrics`), Ollama's loaded models (`GET /api/ps`).
package struct EngineState: Equatable, Sendable {
    package enum Kind: String, Sendable {
        case llamaCpp = "llama_cpp", vllm, ollama

        package init?(_ type: ProviderType) {
            switch type {
            case .llamaCpp: self = .llamaCpp
            case .vllm: self = .vllm
            case .ollama: self = .ollama
            default: return nil
            }
        }
    }

    /// llama.cpp: its slots (parallel sequences) and the context they hold.
    package struct Slots: Equatable, Sendable {
        package var total: Int
        package var busy: Int
        /// Tokens held in the slots' context (prompt and generated); nil when the server's
        /// /slots does not say (builds before `n_prompt_tokens`).
        package var contextUsed: Int?
        /// The slots' context sizes added up.
        package var contextSize: Int
    }

    /// vLLM: requests in the batch and queued, and the fullest engine's KV cache.
    package struct Queue: Equatable, Sendable {
        package var running: Double?
        package var waiting: Double?
        /// 0…1.
        package var kvCacheUsage: Double?
    }

    /// Ollama: one loaded model.
    package struct LoadedModel: Equatable, Sendable {
        package var name: String
        package var sizeBytes: Int?
        package var vramBytes: Int?
        /// When Ollama unloads it (keep_alive); nil when the answer has none it can read.
        package var expiresAt: Date?
        package var contextLength: Int?

        /// The share of the model in GPU memory, 0…1.
        package var vramShare: Double? {
            guard let sizeBytes, let vramBytes, sizeBytes > 0 else { return nil }
            return Double(vramBytes) / Double(sizeBytes)
        }
    }

    package var kind: Kind
    /// The provider it was asked through (a ports.yaml row may serve several).
    package var provider: String
    /// The endpoint asked, without credentials.
    package var url: String
    /// Why the state is not reported (endpoint absent, refused, timed out, not understood).
    package var error: String?
    package var slots: Slots? = nil
    package var queue: Queue? = nil
    package var models: [LoadedModel]? = nil

    package var reported: Bool { error == nil }
}

/// Asks the engines for their state: one GET per engine, all at once, each bounded by
/// `timeout`, so that `status` stays fast. An engine that does not answer, or answers
/// something else, gets "not reported" with the reason; it never fails `status`.
package enum EngineProbe {
    package struct Target: Sendable {
        package var kind: EngineState.Kind
        package var provider: ProviderConfig
    }

    /// The engine behind a row: its first provider whose type has a state endpoint.
    package static func target(for service: MonitoredService, in config: AishConfig) -> Target? {
        for name in service.providers {
            guard let p = config.providers.providers.first(where: { $0.name == name }),
                  let kind = EngineState.Kind(p.type) else { continue }
            return Target(kind: kind, provider: p)
        }
        return nil
    }

    package static func url(_ t: Target) -> String {
        let e = ProviderEndpoints(t.provider)
        switch t.kind {
        case .llamaCpp: return e.root + "/slots"
        case .vllm: return e.metrics
        case .ollama: return e.ollamaRunning
        }
    }

    package static func probe(_ targets: [Target], environment: [String: String], timeout: Double,
                      interrupt: InterruptFlag) -> [EngineState] {
        var states: [EngineState?] = targets.map { _ in nil }
        var requests: [HTTPRequest] = []
        var asked: [Int] = []
        for (i, t) in targets.enumerated() {
            let url = url(t)
            do {
                // llama-server started with --api-key wants it on /slots too.
                let auth = try ProviderAuth.resolve(t.provider, environment: environment)
                let limits = HTTPTimeouts(connect: min(timeout, t.provider.timeouts.connect), firstByte: timeout,
                                          idle: timeout, total: timeout)
                requests.append(HTTPRequest(url: url, headers: auth.headers, timeouts: limits, secrets: auth.secrets))
                asked.append(i)
            } catch {
                states[i] = EngineState(kind: t.kind, provider: t.provider.name, url: URLRedaction.redact(url),
                                        error: (error as? ProviderError)?.message ?? "\(error)")
            }
        }
        let responses = HTTPTransport.fetchAll(requests, interrupt: interrupt, maxBody: 4 << 20)
        for (k, i) in asked.enumerated() {
            let t = targets[i]
            let shown = requests[k].displayURL
            switch responses[k] {
            case let .failure(e):
                states[i] = EngineState(kind: t.kind, provider: t.provider.name, url: shown, error: e.description)
            case let .success(r):
                states[i] = interpret(t, url: shown, body: r.body)
            }
        }
        return states.map { $0! }
    }

    /// Reads an engine's answer; one that is not of the expected form is "not reported" with why.
    package static func interpret(_ t: Target, url: String, body: [UInt8]) -> EngineState {
        var state = EngineState(kind: t.kind, provider: t.provider.name, url: url)
        switch t.kind {
        case .llamaCpp:
            switch (try? JSONValue.parse(bytes: body)).flatMap(slots) {
            case let .some(s): state.slots = s
            case .none: state.error = "GET \(url): not a llama.cpp slot list: \(ServerErrorText.clip(String(decoding: body, as: UTF8.self), 80))"
            }
        case .vllm:
            do {
                let metrics = try PrometheusText.parse(String(decoding: body, as: UTF8.self), source: "GET \(url)")
                if let q = queue(metrics) {
                    state.queue = q
                } else {
                    state.error = "GET \(url): no vllm:num_requests_running, vllm:num_requests_waiting or KV-cache series"
                }
            } catch {
                state.error = "\(error)"
            }
        case .ollama:
            switch (try? JSONValue.parse(bytes: body)).flatMap(loadedModels) {
            case let .some(m): state.models = m
            case .none: state.error = "GET \(url): not an Ollama model list: \(ServerErrorText.clip(String(decoding: body, as: UTF8.self), 80))"
            }
        }
        return state
    }

    /// llama.cpp's `GET /slots`: an array of slots, each with `n_ctx` and `is_processing`;
    /// a slot that has had a task has `id_task`, and current builds add `n_prompt_tokens`
    /// (the tokens the slot holds, generated ones included). nil when the answer is not
    /// such a list.
    package static func slots(_ json: JSONValue) -> EngineState.Slots? {
        guard case let .array(items) = json else { return nil }
        var s = EngineState.Slots(total: 0, busy: 0, contextUsed: 0, contextSize: 0)
        for item in items {
            guard case .object = item, let nCtx = item["n_ctx"]?.intValue else { return nil }
            s.total += 1
            s.contextSize += nCtx
            if case .bool(true)? = item["is_processing"] { s.busy += 1 }
            // A slot that never had a task holds nothing; one that had, without the count
            // (older builds), holds an unknown number.
            let held = item["n_prompt_tokens"]?.intValue ?? (item["id_task"] == nil ? 0 : nil)
            if let c = s.contextUsed, let held { s.contextUsed = c + held } else { s.contextUsed = nil }
        }
        if items.isEmpty { s.contextUsed = nil }
        return s
    }

    /// vLLM's gauges as `metrics` reads them (KeySeriesCatalog): running and waiting added
    /// up over its series (one per model and engine), the fullest engine's KV cache (v1
    /// `kv_cache_usage_perc`, v0 `gpu_cache_usage_perc`). nil when none of them is there.
    package static func queue(_ m: MetricsExposition) -> EngineState.Queue? {
        // Only vLLM's spellings: the catalog also reads llama.cpp's under the same names.
        let readings = KeySeriesCatalog.read(m).filter { $0.source.hasPrefix("vllm:") }
        func value(_ name: String) -> Double? { readings.first(where: { $0.name == name })?.value }
        let q = EngineState.Queue(running: value("requests_running"), waiting: value("requests_waiting"),
                                  kvCacheUsage: value("kv_cache_usage"))
        return q.running == nil && q.waiting == nil && q.kvCacheUsage == nil ? nil : q
    }

    /// Ollama's `GET /api/ps`: `{"models": [{name, model, size, size_vram, expires_at,
    /// context_length, …}]}`. nil when the answer is not such a list.
    package static func loadedModels(_ json: JSONValue) -> [EngineState.LoadedModel]? {
        guard case let .array(items)? = json["models"] else { return nil }
        var out: [EngineState.LoadedModel] = []
        for item in items {
            guard let name = item["name"]?.stringValue ?? item["model"]?.stringValue else { return nil }
            out.append(EngineState.LoadedModel(
                name: name, sizeBytes: item["size"]?.intValue, vramBytes: item["size_vram"]?.intValue,
                expiresAt: item["expires_at"]?.stringValue.flatMap(LogTimestamps.parse),
                contextLength: item["context_length"]?.intValue))
        }
        return out
    }
}
