import Foundation

/// Files under Tests/Fixtures/Metrics, found from this source file's location.
enum MetricsFixtures {
    static var packageRoot: URL { URL(fileURLWithPath: TestPaths.inPackage("")) }

    static func url(_ name: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures/Metrics").appendingPathComponent(name)
    }

    static func text(_ name: String) throws -> String { try String(contentsOf: url(name), encoding: .utf8) }
}
