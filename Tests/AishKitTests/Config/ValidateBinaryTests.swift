import Foundation
import Testing
@testable import AishBase

@Suite struct ValidateBinaryTests {
    @Test
    func exitCode3OnTheRealFixtureSet() throws {
        let dir = ConfigFixtures.gathewhy
        let (code, _, err) = try AishBinary.run(["--config", dir, "validate"])
        #expect(code == 3)
        #expect(err.contains("\(dir)/model-mappings.yaml:250:9: error: capability 'large_context' lists provider 'llama_cpp_python' where a model is expected\n"))
        #expect(err.hasSuffix("9 providers (5 active), 30 routes, 13 fallback chains: 1 error, 27 warnings\n"))
    }

    @Test
    func exitCode0OnACleanSet() throws {
        let (code, out, _) = try AishBinary.run(["--config", ConfigFixtures.fixture("clean"), "-c", "validate"])
        #expect(code == 0)
        #expect(out == "4 providers (3 active), 8 routes, 3 fallback chains: 0 errors, 0 warnings\n")
    }

    @Test
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
