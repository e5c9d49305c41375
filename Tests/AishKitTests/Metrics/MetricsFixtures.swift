import Foundation

/// Files under Tests/Fixtures/Metrics, found from this source file's location.
enum MetricsFixtures {
    static let packageRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            let parent = dir.deletingLastPathComponent()
            precondition(parent.path != dir.path, "Package.swift not found above \(#filePath)")
            dir = parent
        }
        return dir
    }()

    static func url(_ name: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures/Metrics").appendingPathComponent(name)
    }

    static func text(_ name: String) throws -> String { try String(contentsOf: url(name), encoding: .utf8) }
}
