import Foundation
import Testing
@testable import AishKit

/// The built `aish` binary, next to the test bundle.
enum AishBinary {
    static let path: String? = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("aish").path,
            ConfigFixtures.packageRoot + "/.build/debug/aish",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Runs aish with `arguments`; returns (exit code, stdout, stderr).
    static func run(_ arguments: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(path))
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["AISH_DB"] = NSTemporaryDirectory() + "aish-config-test-\(UUID().uuidString).db"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

@Suite struct ValidateBinaryTests {
    @Test(.enabled(if: AishBinary.path != nil, "the aish binary is not built next to the tests"))
    func exitCode3OnTheRealFixtureSet() throws {
        let dir = ConfigFixtures.gathewhy
        let (code, _, err) = try AishBinary.run(["--config", dir, "validate"])
        #expect(code == 3)
        #expect(err.contains("\(dir)/model-mappings.yaml:250:9: error: capability 'large_context' lists provider 'llama_cpp_python' where a model is expected\n"))
        #expect(err.hasSuffix("9 providers (5 active), 30 routes, 13 fallback chains: 1 error, 27 warnings\n"))
    }

    @Test(.enabled(if: AishBinary.path != nil, "the aish binary is not built next to the tests"))
    func exitCode0OnACleanSet() throws {
        let (code, out, _) = try AishBinary.run(["--config", ConfigFixtures.fixture("clean"), "-c", "validate"])
        #expect(code == 0)
        #expect(out == "4 providers (3 active), 8 routes, 3 fallback chains: 0 errors, 0 warnings\n")
    }

    @Test(.enabled(if: AishBinary.path != nil, "the aish binary is not built next to the tests"))
    func brokenYAMLExitsWith3AndOneFinding() throws {
        let dir = try ConfigFixtures.directory(["providers.yaml": "providers:\n  a: \"unterminated\n"])
        let (code, _, err) = try AishBinary.run(["--config", dir, "validate"])
        #expect(code == 3)
        #expect(err == """
            aish: configuration invalid:
            \(dir)/providers.yaml:2:6: error: unterminated quoted string (the quote opened here is never closed)
            0 providers (0 active), 0 routes, 0 fallback chains: 1 error, 0 warnings

            """)
    }
}
