import Foundation
@testable import AishBase

/// Locates fixture directories from the test source file, walking up to the package root.
enum ConfigFixtures {
    static var packageRoot: String { String(TestPaths.inPackage("").dropLast()) }

    /// The real deployment's four files, as they are (a copy of ../shared/fixtures/gathewhy,
    /// so a clone of the repository alone passes its tests).
    static var gathewhy: String { packageRoot + "/Tests/Fixtures/gathewhy" }

    static func fixture(_ name: String) -> String { packageRoot + "/Tests/Fixtures/Config/" + name }

    /// A fresh temporary directory holding the given files (name → text).
    static func directory(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "aish-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    /// A copy of the real fixture set with some files replaced or added.
    static func gathewhyCopy(replacing: [String: String] = [:], dropping: [String] = []) throws -> String {
        var files: [String: String] = [:]
        for name in ["providers.yaml", "model-mappings.yaml", "ports.yaml", "litellm-unified.yaml"] where !dropping.contains(name) {
            files[name] = try String(contentsOfFile: gathewhy + "/" + name, encoding: .utf8)
        }
        for (k, v) in replacing { files[k] = v }
        return try directory(files)
    }
}
