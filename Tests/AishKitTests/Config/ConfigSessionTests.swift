import Foundation
import Testing
@testable import AishBase
@testable import AishBenchmarks
@testable import AishCommand
@testable import AishConfig
@testable import AishSessionLog

/// What a session does with a loaded config beyond typing it: service units and the
/// key variables the session log must mask.
@Suite struct ConfigSessionTests {
    static let providers = """
        providers:
          gpu:
            type: vllm
            base_url: http://127.0.0.1:8001
            service_file: /etc/systemd/system/vllm-qwen.service
            env_var: AISH_TEST_PLAINVAR
            models: [m]
          cpu:
            type: llama_cpp
            base_url: http://127.0.0.1:8000
            service: llamacpp.service
            service_file: ~/.config/systemd/user/ignored.service
            models: [m]

        """

    @Test func serviceFileNamesTheUnitWhenServiceIsAbsent() throws {
        let dir = try ConfigFixtures.directory(["providers.yaml": Self.providers])
        let loaded = ConfigLoader.load(directory: dir)
        #expect(loaded.findings.isEmpty)
        #expect(loaded.config.provider(named: "gpu")?.serviceUnit == "/etc/systemd/system/vllm-qwen.service")
        #expect(loaded.config.provider(named: "cpu")?.serviceUnit == "llamacpp.service")
    }

    @Test func providerKeyVariableIsMaskedInTheLogOnceConfigLoads() throws {
        // The variable's name says nothing about secrets, so only the config marks it as one.
        let secret = "plain-value-\(UUID().uuidString)"
        let dir = try ConfigFixtures.directory(["providers.yaml": Self.providers])
        let db = NSTemporaryDirectory() + "aish-cfgsession-\(UUID().uuidString).db"
        var options = GlobalOptions()
        options.configDirectory = dir
        let output = OutputSink(capturing: true)
        let ctx = ShellContext(options: options, output: output, interrupt: InterruptFlag(),
                               environment: ["AISH_TEST_PLAINVAR": secret, "HOME": NSTemporaryDirectory()])
        ctx.recorder = SessionLogAccess.open(path: db, mode: "test", scriptPath: nil, output: output,
                                             environment: ctx.environment)
        #expect(ctx.recorder != nil)
        _ = try ctx.config()
        let id = ctx.recorder?.beginCommand(text: "echo \(secret)", sourceFile: nil, line: nil)
        ctx.recorder?.endCommand(id: id, record: CommandRecord(text: "echo \(secret)", sourceFile: nil, line: nil,
                                                               status: .ok, durationMs: 1, error: nil, startedAt: Date()))
        ctx.recorder?.endSession()
        ctx.recorder = nil
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: db + suffix))) ?? Data()
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "secret found in \(db + suffix)")
        }
        let stored = try SessionLogBenchmark.runCommand(["sql", "SELECT text FROM commands"], path: db).output
        #expect(stored.contains("echo ***"))
    }
}

@Suite struct GatewayGenerationTests {
    @Test func routesToTheGatewayItselfAreNotGatewayDeployments() throws {
        let dir = try ConfigFixtures.directory([
            "providers.yaml": """
                providers:
                  local:
                    type: llama_cpp
                    base_url: http://127.0.0.1:8000
                    models: [smol]
                  gateway:
                    type: litellm
                    base_url: http://127.0.0.1:4000
                    env_var: LITELLM_MASTER_KEY
                    models: [smol-direct]

                """,
            "model-mappings.yaml": """
                exact_matches:
                  smol-direct:
                    provider: local
                    backend_model: smol
                  via-gateway:
                    provider: gateway
                    backend_model: smol-direct

                """,
        ])
        let names = LiteLLMGenerator.deployments(ConfigLoader.load(directory: dir).config).map(\.modelName)
        #expect(names == ["smol-direct"])
    }
}
