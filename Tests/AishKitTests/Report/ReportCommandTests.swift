import Foundation
import Testing
@testable import AishBase
@testable import AishReport
@testable import AishSessionLog

/// `report` against a stack of fakes: each section, the session log, the golden Markdown,
/// the JSON's stable shape, --compare, the overall timeout and the exit codes.
@Suite(.serialized) struct ReportCommandTests {
    static let golden = TestPaths.inPackage("Tests/Fixtures/Report/report.md")

    func rows(_ v: JSONValue?) -> [JSONValue] {
        if case let .array(items)? = v { return items }
        return []
    }

    func row(_ v: JSONValue?, _ key: String, _ value: String) -> JSONValue? {
        rows(v).first { $0[key]?.stringValue == value }
    }

    @Test func measuresEverySectionAgainstFakes() throws {
        let b = try ReportBench()
        defer { b.stop() }
        if let redis = b.redis {
            _ = try redis.command(["SET", String(repeating: "ab", count: 32), "{}"])
            _ = try redis.command(["SET", "litellm:" + String(repeating: "cd", count: 32), "{}"])
        }
        let r = try b.run(["--format", "json"])
        let j = r.jsonForm
        #expect(r.status == .error)
        #expect(r.failureExitCode == nil)
        #expect(j["overall"] == "degraded")
        #expect(j["providers_up"] == .int(3) && j["providers_active"] == .int(4))
        #expect(r.error?.hasPrefix("report: stack degraded, health score ") == true, "\(r.error ?? "")")

        // Configuration: valid, every check passed, counts.
        let c = j["configuration"]
        #expect(c?["valid"] == .bool(true))
        #expect(rows(c?["checks"]).allSatisfy { $0["mark"] == "ok" }, "\(c?["checks"] ?? .null)")
        #expect(c?["gateway_models"] == .int(3))

        // Providers.
        let p = j["providers"]?["providers"]
        #expect(row(p, "name", "llama_python")?["state"] == "up")
        #expect(row(p, "name", "llama_python")?["served"] == .array(["smollm2-135m"]))
        #expect(row(p, "name", "llama_native")?["state"] == "up")
        #expect(row(p, "name", "gateway")?["state"] == "up")
        #expect(row(p, "name", "gateway")?["missing"] == .array([]))
        #expect(row(p, "name", "ollama")?["state"] == "down")
        #expect(row(p, "name", "spare")?["state"] == "not probed")
        #expect(row(p, "name", "spare")?["mark"] == "not_configured")
        let svc = j["providers"]?["services"]
        #expect(row(svc, "name", "ollama")?["state"] == "down")
        #expect(row(svc, "name", "ollama")?["required"] == .bool(false))
        #expect(row(svc, "name", "llama_python")?["pid"]?.doubleValue != nil)

        // Gateway: LiteLLM's view next to aish's probe.
        let g = j["gateway"]
        #expect(g?["healthy"] == .int(1) && g?["unhealthy"] == .int(2))
        let dPython = row(g?["deployments"], "model_name", "smollm2-python")
        #expect(dPython?["gateway_healthy"] == .bool(true) && dPython?["agree"] == .bool(true) && dPython?["provider"] == "llama_python")
        let dNative = row(g?["deployments"], "model_name", "smollm2-native")
        #expect(dNative?["gateway_healthy"] == .bool(false) && dNative?["aish_probe"] == "up" && dNative?["agree"] == .bool(false))
        #expect(dNative?["gateway_error"] == "litellm.BadRequestError: OpenAIException - max_tokens must be at least 2")
        let dOllama = row(g?["deployments"], "model_name", "llama3.2:1b")
        #expect(dOllama?["aish_probe"] == "down" && dOllama?["agree"] == .bool(true) && dOllama?["mark"] == "failed")

        // Routing: one request per group through the gateway and direct.
        let q = rows(j["routing"]?["requests"])
        #expect(q.map { "\($0["group"]?.stringValue ?? "") \($0["path"]?.stringValue ?? "")" } == [
            "smollm2-python gateway", "smollm2-python direct", "smollm2-native gateway", "smollm2-native direct",
            "llama3.2:1b gateway", "llama3.2:1b direct",
        ])
        #expect(q.allSatisfy { $0["ok"] == .bool(true) }, "\(q)")
        #expect(q.filter { $0["path"] == "gateway" }.allSatisfy { $0["provider"] == "llama_python" })
        let failover = q.first { $0["group"] == "llama3.2:1b" && $0["path"] == "direct" }
        #expect(failover?["fallback"] == .bool(true) && failover?["fallback_from"] == "ollama" && failover?["provider"] == "llama_native")  // the chain before the aish-only fallback
        #expect(failover?["ttft_ms"]?.doubleValue != nil)
        #expect(row(j["routing"]?["chains"], "model", "llama3.2:1b")?["chain"] == .array(["smollm2-native"]))

        // Monitoring.
        let m = j["monitoring"]
        #expect(m?["configured"] == .int(3) && m?["up"] == .int(3))
        #expect(m?["prometheus"]?["mark"] == "warning")
        #expect(m?["prometheus"]?["targets_up"] == .int(1) && m?["prometheus"]?["targets_down"] == .int(1))
        #expect(m?["prometheus"]?["down_targets"] == .array(["node 127.0.0.1:9100: connection refused"]))
        #expect(m?["grafana"]?["mark"] == "ok" && m?["grafana"]?["version"] == "11.2.0" && m?["grafana"]?["database"] == "ok")
        #expect(m?["redis"]?["mark"] == "ok")
        #expect(m?["redis"]?["litellm_cache_entries"] == .int(b.redis?.isReal == true ? 2 : 3))

        // Issues, highest impact first, each with a fix.
        let issues = rows(j["issues"])
        let symptoms = issues.compactMap { $0["symptom"]?.stringValue }
        #expect(symptoms.contains { $0.hasPrefix("ollama (http://127.0.0.1:\(b.downPort)) is down") })
        #expect(symptoms.contains { $0.hasPrefix("the gateway reports deployment 'smollm2-native' (openai/smollm2-135m) unhealthy, while aish's probe of llama_native succeeds") })
        #expect(symptoms.contains("Prometheus scrape target down: node 127.0.0.1:9100"))
        #expect(symptoms.contains("'llama3.2:1b' routed by aish was answered only after a fallback"))
        let impacts = issues.compactMap { $0["impact"]?.stringValue }
        #expect(impacts == impacts.sorted { ["high", "medium", "low"].firstIndex(of: $0)! < ["high", "medium", "low"].firstIndex(of: $1)! })
        #expect(issues.allSatisfy { ($0["fix"]?.stringValue ?? "").isEmpty == false })
        let ollamaIssue = issues.first { $0["symptom"]?.stringValue?.hasPrefix("ollama") == true }
        #expect(ollamaIssue?["impact"] == "medium")
        #expect(ollamaIssue?["fix"]?.stringValue?.hasPrefix("start it: `aish service start ollama` (unit ollama.service)") == true)
        #expect(rows(j["summary"]?["top_problems"]).count == 3)

        // The session log: every probe and request, and the report as a run.
        let probes = try b.rows("SELECT provider, ok FROM health_probes ORDER BY id", columns: 2).map { $0.joined(separator: " ") }
        for expected in ["llama_python 1", "llama_native 1", "gateway 1", "ollama 0", "gateway/smollm2-python 1",
                         "gateway/smollm2-native 0", "prometheus 1", "grafana 1", "redis 1"] {
            #expect(probes.contains(expected), "\(probes)")
        }
        let attempts = try b.rows("SELECT requested_model, provider, status FROM attempts WHERE kind = 'report' ORDER BY id", columns: 3)
        #expect(attempts.count == 7, "\(attempts)")  // six requests, one of them two attempts
        #expect(attempts.contains(["llama3.2:1b", "ollama", "error"]))
        let run = try #require(j["run"]?.doubleValue)
        let stored = try b.rows("SELECT id, kind, summary FROM runs", columns: 3)
        #expect(stored.count == 1 && stored[0][0] == String(Int(run)) && stored[0][1] == "report")
        #expect(try JSONValue.parse(stored[0][2])["overall"] == "degraded")
    }

    @Test func markdownMatchesTheGoldenFile() throws {
        let b = try ReportBench()
        defer { b.stop() }
        let r = try b.run(["--format", "md"])
        let text = b.masked(r.text)
        if ProcessInfo.processInfo.environment["AISH_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: (Self.golden as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: Self.golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: Self.golden, encoding: .utf8)
        #expect(text == expected, "differs from \(Self.golden); AISH_UPDATE_GOLDEN=1 rewrites it:\n\(text)")
    }

    /// The JSON has the same keys in every situation: nothing is left out when it is unknown.
    @Test func jsonKeepsItsShapeWhateverIsMeasured() throws {
        let full = try ReportBench()
        defer { full.stop() }
        let bare = try ReportBench(ReportBench.Options(monitoring: false, gatewayKeySet: false))
        defer { bare.stop() }
        let a = try JSONValue.parse(try full.run(["--format", "json"]).text)
        let z = try JSONValue.parse(try bare.run(["--format", "json", "--no-requests"]).text)
        func keys(_ v: JSONValue) -> [String] {
            if case let .object(pairs) = v { return pairs.map(\.0) }
            return []
        }
        #expect(keys(a) == DiagnosticReport.fields.map(\.name))
        /// Object keys at every path (array elements compared with the first of the other side).
        func shape(_ v: JSONValue, _ path: String, into out: inout [String: [String]]) {
            switch v {
            case let .object(pairs):
                out[path] = pairs.map(\.0)
                for (k, child) in pairs { shape(child, path + "." + k, into: &out) }
            case let .array(items):
                for item in items.prefix(1) { shape(item, path + "[]", into: &out) }
            default: break
            }
        }
        var sa: [String: [String]] = [:], sz: [String: [String]] = [:]
        shape(a, "", into: &sa)
        shape(z, "", into: &sz)
        for (path, k) in sz { if let other = sa[path] { #expect(k == other, "keys at \(path)") } }
        #expect(sz[".monitoring.prometheus"] == ["mark", "url", "healthy", "latency_ms", "targets_up", "targets_down", "down_targets", "error"])
        #expect(z["monitoring"]?["prometheus"]?["url"] == .null)
        #expect(z["comparison"] == .null)
        #expect(z["routing"]?["requests_sent"] == .bool(false))
        // Without the gateway's key: the gateway is not probed and says why.
        #expect(row(z["providers"]?["providers"], "name", "gateway")?["note"] == "not probed: API key variable REPORT_GATEWAY_KEY is not set")
    }

    @Test func compareShowsWhatChangedSinceAnEarlierRun() throws {
        let b = try ReportBench(ReportBench.Options(monitoring: false))
        defer { b.stop() }
        let first = try b.run(["--format", "json", "--no-requests"]).jsonForm
        let run = Int(try #require(first["run"]?.doubleValue))
        b.native.stop()
        let second = try b.run(["--format", "md", "--no-requests", "--compare", String(run)])
        let cmp = second.jsonForm["comparison"]
        #expect(cmp?["base_run"] == .int(run))
        let changes = rows(cmp?["changes"]).map { "\($0["what"]?.stringValue ?? ""): \($0["before"]?.stringValue ?? "") → \($0["after"]?.stringValue ?? "")" }
        #expect(changes.contains("providers up: 3 → 2"), "\(changes)")
        #expect(changes.contains("provider llama_native: up → down"), "\(changes)")
        #expect(rows(cmp?["new_issues"]).contains { $0.stringValue?.hasPrefix("llama_native (") == true })
        #expect(second.text.contains("## Changes since run \(run) ("))
        #expect(second.text.contains("| provider llama_native | up | down |"))

        #expect(throws: CommandFailure.self) { try b.run(["--compare", "999"]) }
        #expect(throws: UsageError.self) { try b.run(["--compare", "latest"]) }
    }

    @Test func aHungServiceIsReportedAsSuchWithinTheTimeout() throws {
        let b = try ReportBench(ReportBench.Options(monitoring: false))
        defer { b.stop() }
        // Grafana that accepts the connection and never answers.
        let hung = try FakeProviderProcess(["--fault", "delay-headers=60", "--grafana-health", #"{"database":"ok"}"#])
        defer { hung.stop() }
        try (try String(contentsOfFile: b.directory + "/ports.yaml", encoding: .utf8)
             + "grafana:\n  port: \(hung.port)\n  protocol: http\n  required: false\n")
            .write(toFile: b.directory + "/ports.yaml", atomically: true, encoding: .utf8)
        let started = Date()
        let r = try b.run(["--format", "json", "--no-requests", "--timeout", "1.5"])
        let elapsed = Date().timeIntervalSince(started)
        let grafana = r.jsonForm["monitoring"]?["grafana"]
        #expect(grafana?["mark"] == "failed")
        let error = grafana?["error"]?.stringValue ?? ""
        #expect(error.contains("not finished within 1.5s") || error.contains("no answer within the report's timeout of 1.5 s"), "\(error)")
        // Bounded by the timeout (generously: the machine is shared), not by the 60 s stall.
        #expect(elapsed < 30, "took \(elapsed) s")
        #expect(rows(r.jsonForm["issues"]).contains { $0["symptom"]?.stringValue?.hasPrefix("Grafana (") == true })
    }

    /// The timeout cuts the routing requests short (the gateway stalls before its first
    /// token): the section says it is incomplete, with the requests not run and the one
    /// cancelled, which still counts and is a row of the session log.
    @Test func routingCutShortByTheTimeoutIsIncompleteAndCounted() throws {
        let b = try ReportBench(ReportBench.Options(monitoring: false))
        defer { b.stop() }
        try b.gateway.configure(.object([("first_token_delay", .double(60))]))
        let started = Date()
        let r = try b.run(["--format", "json", "--timeout", "6"])
        #expect(Date().timeIntervalSince(started) < 20)
        let routing = r.jsonForm["routing"]
        let requests = rows(routing?["requests"])
        #expect(routing?["complete"] == .bool(false))
        #expect(routing?["mark"] != "ok")
        #expect(routing?["cancelled"] == .int(1), "\(requests)")
        #expect(routing?["not_run"] == .int(5), "3 groups × (gateway, direct), the first cut short: \(requests)")
        #expect(requests.count == 1)
        #expect(requests.first?["path"] == "gateway")
        #expect(requests.first?["cancelled"] == .bool(true))
        #expect(requests.first?["ok"] == .bool(false))
        #expect(requests.first?["error"]?.stringValue?.hasPrefix("cancelled: the report's timeout of 6 s passed") == true, "\(requests)")
        let note = routing?["note"]?.stringValue ?? ""
        #expect(note == "incomplete: cut short by the report's timeout of 6 s; 5 of 6 requests not run, 1 cancelled", "\(note)")
        #expect(rows(r.jsonForm["issues"]).contains { $0["symptom"] == "the routing requests did not finish within the report's timeout (5 not run, 1 cancelled)" })
        // A request cut by the report is not evidence that the backends are down.
        #expect(r.jsonForm["overall"] != "down")
        // Every request sent is a row of the log, the cancelled one too.
        let logged = try b.rows("SELECT provider, status, requested_model FROM attempts WHERE kind = 'report'", columns: 3)
        #expect(logged.map { $0[0] + " " + $0[1] } == ["gateway cancelled"], "\(logged)")
        // The compact form says so too.
        let text = try b.run(["--format", "text", "--timeout", "4"]).text
        #expect(text.contains("incomplete: 0 of 1 requests answered, 1 cancelled, 5 not run"), "\(text)")
        #expect(!text.contains("✓ routing") && !text.contains("✓  routing"), "\(text)")
    }

    @Test func aWrongGatewayKeyIsNamedNotGuessed() throws {
        let b = try ReportBench(ReportBench.Options(monitoring: false))
        defer { b.stop() }
        b.ctx.environment["REPORT_GATEWAY_KEY"] = "not-the-key"
        let j = try b.run(["--format", "json", "--no-requests"]).jsonForm
        let g = j["gateway"]
        #expect(g?["mark"] == "failed")
        #expect(g?["http_status"] == .int(401))
        let error = g?["error"]?.stringValue ?? ""
        #expect(error.hasPrefix("GET http://127.0.0.1:\(b.gateway.port)/health: HTTP 401 Unauthorized: Incorrect API key provided"), "\(error)")
        #expect(error.hasSuffix("(LiteLLM answers this without a valid master key: is REPORT_GATEWAY_KEY the gateway's key?)"), "\(error)")
        #expect(!error.contains("not-the-key"))
        let issue = rows(j["issues"]).first { $0["section"] == "gateway" }
        #expect(issue?["symptom"] == "the gateway's own health check (/health) could not be read")
        #expect(issue?["fix"]?.stringValue?.contains("REPORT_GATEWAY_KEY") == true)
        // The summary's gateway component earns nothing.
        #expect(rows(j["summary"]?["score_components"]).first { $0["name"] == "gateway" }?["earned"] == .int(0))
    }

    @Test func writesTheChosenFormatToAFile() throws {
        let b = try ReportBench(ReportBench.Options(monitoring: false))
        defer { b.stop() }
        let md = b.directory + "/out.md", json = b.directory + "/out.json"
        let r = try b.run(["--no-requests", "--out", md])
        #expect(r.text.contains("report written to \(md)"))
        #expect(r.text.contains("issues:"))
        #expect(try String(contentsOfFile: md, encoding: .utf8).hasPrefix("# Infrastructure report: "))
        _ = try b.run(["--no-requests", "--out", json])
        let parsed = try JSONValue.parse(try String(contentsOfFile: json, encoding: .utf8))
        #expect(parsed["overall"] == "degraded")
        #expect(throws: UsageError.self) { try b.run(["--format", "pdf"]) }
    }
}

/// The exit codes of the binary: 0 operational, 1 degraded or down, 3 invalid configuration.
@Suite(.serialized) struct ReportExitCodeTests {
    @Test func exitCodes() throws {
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let fake = try FakeProviderProcess(["--models", "m1"])
        defer { fake.stop() }
        let ok = h.home + "/ok"
        try FileManager.default.createDirectory(atPath: ok, withIntermediateDirectories: true)
        try "providers:\n  one:\n    type: vllm\n    base_url: \(fake.baseURL)\n    status: active\n    models: [m1]\n"
            .write(toFile: ok + "/providers.yaml", atomically: true, encoding: .utf8)
        try "exact_matches:\n  m1:\n    provider: one\n".write(toFile: ok + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        let operational = try h.run(["--config", ok, "-c", "report --format text"])
        #expect(operational.code == 0, "\(operational.stdout)\(operational.stderr)")
        #expect(operational.stdout.contains("OPERATIONAL  score 10.0/10"), "\(operational.stdout)")

        let b = try ReportBench(ReportBench.Options(monitoring: false))
        defer { b.stop() }
        let degraded = try h.run(["--config", b.directory, "-c", "report --no-requests"],
                                 extraEnvironment: ["REPORT_GATEWAY_KEY": ReportBench.gatewayKey])
        #expect(degraded.code == 1)
        #expect(degraded.stdout.hasPrefix("# Infrastructure report: "))
        #expect(degraded.stderr.contains("aish: report: stack degraded, health score "), "\(degraded.stderr)")

        let broken = try ReportBench(ReportBench.Options(monitoring: false, brokenConfig: true))
        defer { broken.stop() }
        let invalid = try h.run(["--config", broken.directory, "--json", "-c", "report --no-requests"])
        #expect(invalid.code == 3, "\(invalid.stderr)")
        let j = try JSONValue.parse(invalid.stdout)
        #expect(j["status"] == "error")
        #expect(j["configuration"]?["valid"] == .bool(false))
        #expect(j["error"]?.stringValue?.hasPrefix("report: configuration invalid (1 error)") == true, "\(j["error"] ?? .null)")
        let chains = (j["configuration"]?["checks"]).flatMap { v -> JSONValue? in
            if case let .array(items) = v { return items.first { $0["name"] == "fallback chains acyclic and resolvable" } }
            return nil
        }
        #expect(chains?["mark"] == "failed")
    }
}

/// Ctrl-C in the middle of `report`: every request already sent is a row of the session log
/// (the one cut short as cancelled), and the interrupted report is not stored as a run.
@Suite(.serialized) struct ReportInterruptTests {
    @Test func ctrlCLogsEveryRequestSent() throws {
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let b = try ReportBench(ReportBench.Options(monitoring: false))
        defer { b.stop() }
        try b.gateway.configure(.object([("first_token_delay", .double(60))]))
        let db = h.home + "/report.db"
        let running = try h.start(["--config", b.directory, "--db", db, "report", "--format", "text", "--timeout", "60"],
                                  extraEnvironment: ["REPORT_GATEWAY_KEY": ReportBench.gatewayKey])
        // Into the routing requests: the gateway holds the first one.
        let deadline = Date().addingTimeInterval(30)
        var sent = false
        while Date() < deadline, !sent {
            usleep(100_000)
            sent = ((try? b.gateway.receivedRequests()) ?? []).contains { $0["path"]?.stringValue?.hasSuffix("/chat/completions") == true }
        }
        #expect(sent, "the report sent no routing request: \(running.stderr)")
        kill(running.process.processIdentifier, SIGINT)
        let killed = running.finish(within: 15)
        #expect(!killed, "report did not stop after Ctrl-C")
        #expect(running.process.terminationStatus == 130, "\(running.stdout)\(running.stderr)")
        #expect(running.stderr.contains("report: interrupted"), "\(running.stderr)")

        let reader = try SessionLogReader(path: db)
        func column(_ sql: String) throws -> [String] {
            let s = try reader.db.prepare(sql)
            var out: [String] = []
            while try s.step() { out.append(s.string(0)) }
            return out
        }
        #expect(try column("SELECT provider || ' ' || status FROM attempts WHERE kind = 'report'") == ["gateway cancelled"])
        // The health probes sent before are rows too.
        let probed = Set(try column("SELECT provider FROM health_probes"))
        #expect(probed.isSuperset(of: ["llama_python", "llama_native", "ollama"]), "\(probed)")
        #expect(try column("SELECT id FROM runs WHERE kind = 'report'").isEmpty)
    }
}
