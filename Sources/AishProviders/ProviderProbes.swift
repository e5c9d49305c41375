import FoundationEssentials
import Glibc
import AishBase
import AishConfig
import AishHTTP

/// One provider-level check: a health GET, a model listing or a 1-token generation.
package struct ProbeOutcome: Sendable {
    package var provider: String
    package var url: String                 // without credentials
    package var ok: Bool
    package var httpStatus: Int?
    package var latencyMs: Double?
    package var error: String?
    /// The models a listing returned, the reply of a generation.
    package var models: [String]? = nil
    package var reply: String? = nil
    package var model: String? = nil

    package static func failed(_ provider: String, url: String, _ message: String) -> ProbeOutcome {
        ProbeOutcome(provider: provider, url: url, ok: false, error: message)
    }
}

/// A probe's request, or its outcome when it cannot be sent (no API key, unsupported type).
package enum PreparedProbe {
    case request(HTTPRequest)
    case done(ProbeOutcome)
}

/// The calls `providers`, `health`, `models` and `wait` make. Each takes many providers
/// and runs their requests at once in one transfer loop (wall time = the slowest).
package enum ProviderProbes {
    package static let generatePrompt = "Reply with the single word OK."

    package static func timeouts(_ provider: ProviderConfig, limit: Double) -> HTTPTimeouts {
        HTTPTimeouts(connect: min(provider.timeouts.connect, limit), firstByte: limit, idle: limit, total: limit)
    }

    /// Runs prepared requests (nil = already failed) at once and maps each response.
    private static func run(_ prepared: [PreparedProbe], providers: [ProviderConfig],
                            interrupt: InterruptFlag, interpret: (Int, HTTPResponse) -> ProbeOutcome) -> [ProbeOutcome] {
        let requests = prepared.compactMap { p -> HTTPRequest? in if case let .request(r) = p { return r }; return nil }
        var responses = HTTPTransport.fetchAll(requests, interrupt: interrupt, maxBody: HTTPTransport.BodyCap.standard)[...]
        return prepared.enumerated().map { i, p in
            switch p {
            case let .done(outcome): return outcome
            case let .request(request):
                let r = responses.removeFirst()
                switch r {
                case let .success(response):
                    var o = interpret(i, response)
                    o.latencyMs = o.latencyMs ?? response.timings.total * 1000
                    return o
                case let .failure(e):
                    return ProbeOutcome(provider: providers[i].name, url: request.displayURL, ok: false, httpStatus: e.status,
                                        error: e.description)
                }
            }
        }
    }

    private static func request(_ provider: ProviderConfig, url: String, environment: [String: String], timeout: Double,
                                body: JSONValue? = nil) -> PreparedProbe {
        do {
            let auth = try ProviderAuth.resolve(provider, environment: environment)
            let limits = timeouts(provider, limit: timeout)
            if let body {
                return .request(.postJSON(url: url, body, headers: auth.headers, timeouts: limits, secrets: auth.secrets))
            }
            return .request(HTTPRequest(url: url, headers: auth.headers, timeouts: limits, secrets: auth.secrets))
        } catch let e as ProviderError {
            return .done(.failed(provider.name, url: URLRedaction.redact(url), e.message))
        } catch {
            return .done(.failed(provider.name, url: URLRedaction.redact(url), "\(error)"))
        }
    }

    /// GET each provider's health endpoint (its `health_endpoint`, else the type's usual
    /// one). 2xx is healthy.
    package static func health(_ providers: [ProviderConfig], environment: [String: String], timeout: Double,
                       interrupt: InterruptFlag) -> [ProbeOutcome] {
        let prepared = providers.map { p in
            request(p, url: ProviderEndpoints(p).health(for: p), environment: environment, timeout: timeout)
        }
        return run(prepared, providers: providers, interrupt: interrupt) { i, r in
            var o = ProbeOutcome(provider: providers[i].name, url: URLRedaction.redact(ProviderEndpoints(providers[i]).health(for: providers[i])),
                                 ok: true, httpStatus: r.head.status)
            // A listing endpoint used as the health check also says which models are served.
            if let json = try? r.json() { o.models = modelNames(in: json) }
            return o
        }
    }

    /// The URL that lists a provider's models.
    package static func modelsURL(_ p: ProviderConfig) -> String? {
        switch p.type {
        case .ollama: return ProviderEndpoints(p).ollamaTags
        case _ where p.type.isOpenAICompatible: return ProviderEndpoints(p).openAIModels
        default: return nil
        }
    }

    /// The models each provider serves (/api/tags for Ollama, /v1/models otherwise).
    package static func listModels(_ providers: [ProviderConfig], environment: [String: String], timeout: Double,
                           interrupt: InterruptFlag) -> [ProbeOutcome] {
        let prepared: [PreparedProbe] = providers.map { p in
            guard let url = modelsURL(p) else {
                return .done(.failed(p.name, url: URLRedaction.redact(p.baseURL), "type '\(p.type.rawValue)' is not supported (aish speaks the OpenAI-compatible and Ollama APIs)"))
            }
            return request(p, url: url, environment: environment, timeout: timeout)
        }
        return run(prepared, providers: providers, interrupt: interrupt) { i, r in
            let url = URLRedaction.redact(modelsURL(providers[i]) ?? "")
            guard let json = try? r.json(), let names = modelNames(in: json) else {
                return ProbeOutcome(provider: providers[i].name, url: url, ok: false, httpStatus: r.head.status,
                                    error: "GET \(url): the answer is not a model list: \(ServerErrorText.clip(r.bodyText, 120))")
            }
            return ProbeOutcome(provider: providers[i].name, url: url, ok: true, httpStatus: r.head.status, models: names)
        }
    }

    /// `data[].id` (OpenAI) or `models[].name` (Ollama).
    package static func modelNames(in json: JSONValue) -> [String]? {
        if case let .array(items)? = json["data"] { return items.compactMap { $0["id"]?.stringValue } }
        if case let .array(items)? = json["models"] { return items.compactMap { $0["name"]?.stringValue ?? $0["model"]?.stringValue } }
        return nil
    }

    /// A 1-token completion per provider, proving the model answers. `models[i]` is the
    /// model to ask (nil: the first one the provider declares).
    package static func generate(_ providers: [ProviderConfig], models: [String?], environment: [String: String], timeout: Double,
                         interrupt: InterruptFlag) -> [ProbeOutcome] {
        let prepared: [PreparedProbe] = providers.enumerated().map { i, p in
            let e = ProviderEndpoints(p)
            guard let model = models[i] ?? p.models.first?.name else {
                return .done(.failed(p.name, url: URLRedaction.redact(p.baseURL), "no model to ask: providers.yaml declares none for '\(p.name)'"))
            }
            let message: JSONValue = .array([.object([("role", "user"), ("content", .string(generatePrompt))])])
            switch p.type {
            case .ollama:
                return request(p, url: e.ollamaChat, environment: environment, timeout: timeout,
                               body: .object([("model", .string(model)), ("messages", message), ("stream", false),
                                              ("options", .object([("num_predict", 1)]))]))
            case _ where p.type.isOpenAICompatible:
                return request(p, url: e.chatCompletions, environment: environment, timeout: timeout,
                               body: .object([("model", .string(model)), ("messages", message), ("max_tokens", 1), ("stream", false)]))
            default:
                return .done(.failed(p.name, url: URLRedaction.redact(p.baseURL), "type '\(p.type.rawValue)' is not supported (aish speaks the OpenAI-compatible and Ollama APIs)"))
            }
        }
        let outcomes = run(prepared, providers: providers, interrupt: interrupt) { i, r in
            let p = providers[i]
            let model = models[i] ?? p.models.first?.name
            let url = URLRedaction.redact(p.type == .ollama ? ProviderEndpoints(p).ollamaChat : ProviderEndpoints(p).chatCompletions)
            let json = try? r.json()
            guard let reply = json?["choices"]?[0]?["message"]?["content"]?.stringValue ?? json?["message"]?["content"]?.stringValue else {
                return ProbeOutcome(provider: p.name, url: url, ok: false, httpStatus: r.head.status,
                                    error: "POST \(url): no completion in the answer: \(ServerErrorText.clip(r.bodyText, 120))", model: model)
            }
            return ProbeOutcome(provider: p.name, url: url, ok: true, httpStatus: r.head.status, reply: reply, model: model)
        }
        return outcomes.enumerated().map { i, o in
            var o = o
            o.model = o.model ?? models[i] ?? providers[i].models.first?.name
            return o
        }
    }

    /// Ollama's loaded models (/api/ps).
    package static func ollamaRunning(_ provider: ProviderConfig, environment: [String: String], timeout: Double,
                              interrupt: InterruptFlag) -> ProbeOutcome {
        let prepared = [request(provider, url: ProviderEndpoints(provider).ollamaRunning, environment: environment, timeout: timeout)]
        return run(prepared, providers: [provider], interrupt: interrupt) { _, r in
            let names = (try? r.json()).flatMap { modelNames(in: $0) }
            return ProbeOutcome(provider: provider.name, url: URLRedaction.redact(ProviderEndpoints(provider).ollamaRunning),
                                ok: names != nil, httpStatus: r.head.status, error: names == nil ? "not a model list" : nil, models: names)
        }[0]
    }

    /// Ollama's version (/api/version).
    package static func ollamaVersion(_ provider: ProviderConfig, environment: [String: String], timeout: Double,
                              interrupt: InterruptFlag) -> String? {
        guard case let .request(req) = request(provider, url: ProviderEndpoints(provider).ollamaVersion, environment: environment,
                                               timeout: timeout),
              let r = try? HTTPTransport.fetch(req, interrupt: interrupt) else { return nil }
        return (try? r.json())?["version"]?.stringValue
    }
}
