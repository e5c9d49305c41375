import Foundation
import Testing
@testable import AishBase

/// `report` on the real local stack (scripts/e2e: AISH_E2E_STACK=1, the gateway key in the
/// environment): the report an operator would hand on, measured for real.
@Suite(.enabled(if: StackProcess.enabled, "needs the real local stack: scripts/e2e runs it (AISH_E2E_STACK=1)"),
       .serialized)
struct ReportStackTests {
    let aish = try! StackProcess()

    @Test func reportsTheRealStack() throws {
        let file = aish.database.deletingLastPathComponent().appendingPathComponent("report.md").path
        let run = try aish.run(["-c", "report --out \(file) --timeout 90s"])
        // Ollama is configured but does not run here: degraded (1), never invalid (3).
        #expect(run.status == 0 || run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("report written to \(file)"))
        let md = try String(contentsOfFile: file, encoding: .utf8)
        // The configuration is valid with one warning: the gateway never cools down its single-deployment groups.
        #expect(md.contains("## ⚠ Configuration"), "\(md)")
        #expect(md.contains("the gateway never cools down the only deployment of 3 model groups"), "\(md)")
        for heading in ["# Infrastructure report: ", "Configuration", "Providers", "Gateway", "## ", "Routing", "Monitoring",
                        "Resources and performance", "Issues and recommendations", "## Architecture"] {
            #expect(md.contains(heading), "no '\(heading)' in:\n\(md)")
        }

        let json = try aish.run(["--json", "-c", "report --timeout 90s"])
        let r = try JSONValue.parse(json.stdout)
        #expect(r["configuration"]?["valid"] == .bool(true))
        let providers = elements(of: r["providers"]?["providers"])
        func state(_ name: String) -> String? { providers.first { $0["name"]?.stringValue == name }?["state"]?.stringValue }
        #expect(state("llama_cpp_python") == "up")
        #expect(state("litellm_gateway") == "up")
        #expect(state("ollama") == "down")
        #expect(providers.first { $0["name"] == "llama_cpp_python" }?["served"] == .array(["smollm2-135m"]))

        // LiteLLM's /health was read with the key, per deployment, next to aish's probe.
        let gateway = r["gateway"]
        #expect(gateway?["error"] == .null, "\(gateway?.serialized() ?? "")")
        let deployments = elements(of: gateway?["deployments"])
        // smollm2 is a load-balancing group: one weighted deployment per server.
        #expect(deployments.compactMap { $0["model_name"]?.stringValue }.sorted()
            == ["llama3.2:1b", "smollm2", "smollm2", "smollm2-native", "smollm2-python"])
        let ollama = deployments.first { $0["model_name"] == "llama3.2:1b" }
        #expect(ollama?["gateway_healthy"] == .bool(false) && ollama?["aish_probe"] == "down" && ollama?["agree"] == .bool(true))

        // One real request per group through the gateway and direct; the gateway says who answered.
        let requests = elements(of: r["routing"]?["requests"])
        let viaGateway = requests.first { $0["group"] == "smollm2-python" && $0["path"] == "gateway" }
        #expect(viaGateway?["ok"] == .bool(true), "\(viaGateway?.serialized() ?? "")")
        #expect(viaGateway?["provider"] == "llama_cpp_python")
        #expect(viaGateway?["ttft_ms"]?.doubleValue != nil)
        let failover = requests.first { $0["group"] == "llama3.2:1b" && $0["path"] == "direct" }
        #expect(failover?["ok"] == .bool(true) && failover?["fallback"] == .bool(true) && failover?["fallback_from"] == "ollama")

        // Monitoring services, when ports.yaml names them and they listen, answer.
        for service in ["prometheus", "grafana", "redis"] {
            let mark = r["monitoring"]?[service]?["mark"]?.stringValue ?? "?"
            #expect(["ok", "warning", "failed", "not_configured"].contains(mark), "\(service): \(mark)")
        }
        let score = try #require(r["score"]?.doubleValue)
        #expect(score > 0 && score <= 10)
        #expect(r["run"]?.doubleValue != nil)
    }
}
