import Foundation
import Testing
@testable import AishBase

/// aish's plans against the real LiteLLM Router (Tests/Differential/litellm_router_diff.py):
/// every name in config/, in the real deployment's fixture and in 200 seeded random configs.
/// Runs wherever the stack's LiteLLM venv exists (`scripts/stack up` installs it; the e2e tier
/// runs this suite), or where AISH_LITELLM_PYTHON names a Python with litellm installed.
@Suite struct DifferentialRoutingTests {
    static var python: String {
        if let p = ProcessInfo.processInfo.environment["AISH_LITELLM_PYTHON"], !p.isEmpty { return p }
        return ConfigFixtures.packageRoot + "/.stack/venv-litellm/bin/python"
    }

    @Test func plansEqualTheGatewaysOrder() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            print("SKIPPED: differential routing test (no LiteLLM venv at \(Self.python); scripts/stack install makes one)")
            return
        }
        let aish = try AishBinary.require()
        let root = ConfigFixtures.packageRoot
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.python)
        p.arguments = [root + "/Tests/Differential/litellm_router_diff.py", "--aish", aish, "--random", "200", "--seed", "19",
                       root + "/config", ConfigFixtures.gathewhy]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        print(text.split(separator: "\n").last.map(String.init) ?? "")
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("differential routing test: 202 configs"), "\(text)")
    }
}
