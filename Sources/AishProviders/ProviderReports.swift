import AishBase
import AishCommand

/// The reports of `providers`, `health`, `models` and `wait`: what each prints, as text or
/// JSON, and what `expect` reads. Latencies are milliseconds and named `latency_ms` at the
/// top (the slowest answer) and in every row alike.

/// What `providers` prints.
package struct ProvidersReport: CommandReport, NilEncodesAsNull {
    package struct Row: Encodable, Sendable, NilEncodesAsNull {
        package var name: String
        package var type: String
        package var status: String
        package var url: String
        package var probed: Bool
        package var up: Bool?
        package var httpStatus: Int?
        package var latency: Double?
        package var modelsServed: Int?
        package var modelsDeclared: Int
        package var error: String?
        /// Why the provider was not probed.
        package var note: String?
        /// The error without the "GET url: " prefix, for the table's NOTE column.
        package var shortError: String?

        package enum CodingKeys: String, CodingKey {
            case name, type, status, url, probed, up, httpStatus = "http_status", latency = "latency_ms", modelsServed = "models_served",
                 modelsDeclared = "models_declared", error, note
        }
    }

    package var up: Int
    package var down: Int
    package var notProbed: Int
    package var total: Int
    /// The slowest answer of a provider that is up; null when none is.
    package var latency: Double?
    package var providers: [Row]

    package enum CodingKeys: String, CodingKey { case up, down, notProbed = "not_probed", total, latency = "latency_ms", providers }

    package static let fields = [
        ReportField("up", "providers that answered their health probe"),
        ReportField("down", "probed providers that did not"),
        ReportField("not_probed", "disabled, template, or API key variable not set"),
        ReportField("total", "providers in providers.yaml"),
        ReportField("latency_ms", "the slowest answer of a provider that is up (null when none is)", unit: "ms"),
        ReportField("providers", "each provider: name, type, status, url, probed, up, http_status, latency_ms, models_served, models_declared, error, note"),
    ]

    package static let example = ProvidersReport(
        up: 1, down: 0, notProbed: 0, total: 1, latency: 12.5,
        providers: [Row(name: "ollama", type: "ollama", status: "active", url: "http://127.0.0.1:11434", probed: true, up: true,
                        httpStatus: 200, latency: 12.5, modelsServed: 2, modelsDeclared: 2, error: nil, note: nil)])

    package func renderText() -> String {
        var table = TextTable(headers: ["NAME", "TYPE", "STATUS", "URL", "UP", "LATENCY", "MODELS", "NOTE"])
        for r in providers {
            table.add([r.name, r.type, r.status, r.url, r.up.map { $0 ? "up" : "down" } ?? "-",
                       r.up == true ? DurationText.milliseconds(r.latency) : "-", r.modelsServed.map(String.init) ?? "-",
                       r.note ?? (r.up == false ? r.shortError ?? "failed" : "")])
        }
        return table.rendered + "\(up) up, \(down) down, \(notProbed) not probed\n"
    }
}

/// What `health` prints.
package struct HealthReport: CommandReport, NilEncodesAsNull {
    package struct Probe: Encodable, Sendable, NilEncodesAsNull {
        package var provider: String
        /// "health" or "generate".
        package var check: String
        package var url: String
        package var ok: Bool
        package var httpStatus: Int?
        package var latency: Double?
        package var error: String?
        package var model: String?
        package var reply: String?

        package enum CodingKeys: String, CodingKey {
            case provider, check, url, ok, httpStatus = "http_status", latency = "latency_ms", error, model, reply
        }
    }

    /// A provider listed but not probed, and why.
    package struct Skipped: Encodable, Sendable {
        package var provider: String
        package var url: String
        package var reason: String
    }

    package var up: Int
    package var down: Int
    /// The slowest probe; null when no probe measured a time.
    package var latency: Double?
    /// With one provider probed: its name and its health probe's HTTP status (else null).
    package var provider: String?
    package var httpStatus: Int?
    package var probes: [Probe]
    package var skipped: [Skipped]

    package enum CodingKeys: String, CodingKey { case up, down, latency = "latency_ms", provider, httpStatus = "http_status", probes, skipped }

    package static let fields = [
        ReportField("up", "probed providers that are healthy"),
        ReportField("down", "probed providers with a failed probe"),
        ReportField("latency_ms", "the slowest probe", unit: "ms"),
        ReportField("provider", "the provider, when one is probed (else null)"),
        ReportField("http_status", "its health probe's HTTP status, when one is probed and answered (else null)"),
        ReportField("probes", "each probe: provider, check (health or generate), url, ok, http_status, latency_ms, error, model, reply"),
        ReportField("skipped", "providers listed but not probed: provider, url, reason"),
    ]

    package static let example = HealthReport(
        up: 1, down: 0, latency: 8, provider: "vllm", httpStatus: 200,
        probes: [Probe(provider: "vllm", check: "health", url: "http://127.0.0.1:8001/health", ok: true, httpStatus: 200,
                       latency: 8, error: nil, model: nil, reply: nil)],
        skipped: [Skipped(provider: "cloud", url: "https://api.example.com/v1", reason: "not probed: API key variable KEY is not set")])

    /// The unhealthy providers, each once, sorted.
    package var unhealthy: [String] { Array(Set(probes.filter { !$0.ok }.map(\.provider))).sorted() }

    package var summary: String {
        let targets = up + down
        let bad = unhealthy
        return bad.isEmpty ? "\(up) of \(targets) healthy" : "\(bad.count) of \(targets) unhealthy: \(bad.joined(separator: ", "))"
    }

    package var failureMessage: String? { unhealthy.isEmpty ? nil : "health: \(summary)" }

    package func renderText() -> String {
        var table = TextTable(headers: ["PROVIDER", "CHECK", "URL", "HTTP", "LATENCY", "RESULT"])
        for p in probes {
            var result = p.ok ? "ok" : ProviderCommands.shortError(p.error, url: p.url)
            if p.ok, let reply = p.reply { result += " (reply: \(JSONValue.string(reply).serialized()))" }
            let check = p.check == "generate" ? "generate" + (p.model.map { " \($0)" } ?? "") : p.check
            table.add([p.provider, check, p.url, p.httpStatus.map(String.init) ?? "-", DurationText.milliseconds(p.latency), result])
        }
        for s in skipped { table.add([s.provider, "-", s.url, "-", "-", s.reason]) }
        return table.rendered + summary + "\n"
    }
}

/// What `models` prints.
package struct ModelsReport: CommandReport {
    package struct Model: Encodable, Sendable {
        package var name: String
        package var declared: Bool
        package var served: Bool
        package var missing: Bool
        package var unexpected: Bool
        package var loaded: Bool
    }

    /// One provider's listing: its models, or why they could not be listed.
    package struct Listing: Encodable, Sendable {
        package var provider: String
        package var ok: Bool
        /// Where the models were listed (ok), or the error (not ok).
        package var url: String
        package var error: String?
        /// The declared names (shown when the listing failed).
        package var declared: [String]
        package var models: [Model]

        package enum CodingKeys: String, CodingKey { case provider, ok, error, declared, url, models }

        // A failed listing says what failed and what was declared; a listing that worked, where.
        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(provider, forKey: .provider)
            try c.encode(ok, forKey: .ok)
            if ok {
                try c.encode(url, forKey: .url)
            } else {
                try c.encode(error ?? "failed", forKey: .error)
                try c.encode(declared, forKey: .declared)
            }
            try c.encode(models, forKey: .models)
        }
    }

    package struct Skipped: Encodable, Sendable {
        package var provider: String
        package var reason: String
    }

    package var declared: Int
    package var served: Int
    package var missing: Int
    package var unexpected: Int
    package var unreachable: Int
    package var providers: [Listing]
    package var skipped: [Skipped]

    package static let fields = [
        ReportField("declared", "models declared in providers.yaml (of the providers asked)"),
        ReportField("served", "models the providers serve"),
        ReportField("missing", "declared but not served"),
        ReportField("unexpected", "served but not declared"),
        ReportField("unreachable", "providers whose models could not be listed"),
        ReportField("providers", "each provider: provider, ok, url (or error and declared), models (name, declared, served, missing, unexpected, loaded)"),
        ReportField("skipped", "providers not asked: provider, reason"),
    ]

    package static let example = ModelsReport(
        declared: 1, served: 1, missing: 0, unexpected: 0, unreachable: 0,
        providers: [Listing(provider: "ollama", ok: true, url: "http://127.0.0.1:11434/api/tags", error: nil, declared: ["llama3.1"],
                            models: [Model(name: "llama3.1", declared: true, served: true, missing: false, unexpected: false,
                                           loaded: true)])],
        skipped: [])

    package var unreachableNames: [String] { providers.filter { !$0.ok }.map(\.provider) }

    package var failureMessage: String? {
        let names = unreachableNames
        return names.isEmpty ? nil : "models: could not list the models of \(names.joined(separator: ", "))"
    }

    package func renderText() -> String {
        var table = TextTable(headers: ["PROVIDER", "MODEL", "DECLARED", "SERVED", "NOTE"])
        for l in providers {
            guard l.ok else {
                let why = ProviderCommands.shortError(l.error, url: l.url)
                if l.declared.isEmpty { table.add([l.provider, "-", "-", "?", why]) }
                for (k, d) in l.declared.enumerated() { table.add([l.provider, d, "yes", "?", k == 0 ? why : ""]) }
                continue
            }
            for m in l.models {
                var note = m.missing ? "missing" : (m.unexpected ? "unexpected" : "")
                if m.loaded { note += note.isEmpty ? "loaded" : ", loaded" }
                table.add([l.provider, m.name, m.declared ? "yes" : "no", m.served ? "yes" : "no", note])
            }
            if l.models.isEmpty { table.add([l.provider, "-", "-", "-", "declares and serves no models"]) }
        }
        for s in skipped { table.add([s.provider, "-", "-", "-", s.reason]) }
        var summary = "\(served) served, \(declared) declared, \(missing) missing, \(unexpected) unexpected"
        let names = unreachableNames
        if !names.isEmpty { summary += "; could not list: \(names.joined(separator: ", "))" }
        return table.rendered + summary + "\n"
    }
}

/// What `wait` prints when the provider became healthy (every other ending is an error).
package struct WaitReport: CommandReport {
    package var provider: String
    /// From the start to the healthy answer.
    package var waited: Double
    package var probes: Int
    /// The healthy probe's own time.
    package var latency: Double

    package enum CodingKeys: String, CodingKey { case provider, waited = "waited_ms", probes, latency = "latency_ms", text }

    package static let fields = [
        ReportField("provider", "the provider waited for"),
        ReportField("waited_ms", "time until it answered healthy", unit: "ms"),
        ReportField("probes", "probes sent"),
        ReportField("latency_ms", "the healthy probe's time", unit: "ms"),
        ReportField("text", "the printed line"),
    ]

    package static let example = WaitReport(provider: "vllm", waited: 1200, probes: 2, latency: 9)

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(provider, forKey: .provider)
        try c.encode(waited, forKey: .waited)
        try c.encode(probes, forKey: .probes)
        try c.encode(latency, forKey: .latency)
        try c.encode(renderText(), forKey: .text)
    }

    package func renderText() -> String {
        "\(provider) is healthy (after \(DurationText.milliseconds(waited)), \(probes) probe\(probes == 1 ? "" : "s"))\n"
    }
}
