import Foundation
import Testing

/// The layering of aish's targets, read from the package graph (`swift package describe`)
/// and from the sources' imports: a target depends only on targets in layers above its
/// own, the C libraries each have one owner, and only the shell knows every command.
@Suite struct PackageGraphTests {
    /// Top to bottom of the stack; a target may depend on targets in earlier layers only.
    /// A new target must be placed here (and in Package.swift's order) before it builds green.
    static let layers: [[String]] = [
        ["AishBase"],
        ["AishCommand"],
        ["AishHTTP", "AishYAML", "AishSQLite", "AishLineEditor"],
        ["AishConfig"],
        ["AishSessionLog", "AishProviders"],
        ["AishGateway"],
        ["AishRouting"],
        ["AishTelemetry"],
        ["AishChat", "AishServices"],
        ["AishMeasure", "AishScript"],
        ["AishDrill", "AishReplay"],
        ["AishReport"],
        ["AishShell"],
        ["AishBenchmarks"],
    ]

    /// Each C library is imported by its owner alone.
    static let owners = ["CCurl": "AishHTTP", "CYAML": "AishYAML", "CSQLite": "AishSQLite", "CEdit": "AishLineEditor"]

    struct Target: Decodable {
        var name: String
        var type: String
        var path: String
        var target_dependencies: [String]?
        var dependencies: [String] { target_dependencies ?? [] }
    }

    struct Description: Decodable { var targets: [Target] }

    /// The graph as SwiftPM reads Package.swift. A scratch directory of its own, so the
    /// `swift test` that runs this holds no lock it needs.
    static func describe() throws -> [Target] {
        let root = try #require(TestPaths.packageRoot)
        let scratch = NSTemporaryDirectory() + "aish-describe-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["swift", "package", "--package-path", root, "--scratch-path", scratch, "describe", "--type", "json"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw MissingTestFile(path: "swift package describe", hint: "exit \(p.terminationStatus): \(errText)")
        }
        return try JSONDecoder().decode(Description.self, from: data).targets
    }

    static func layer(of name: String) -> Int? { layers.firstIndex { $0.contains(name) } }

    /// The arrows that break the layering, as "A -> B (why)"; empty when there are none.
    static func wrongArrows(_ targets: [Target]) -> [String] {
        var wrong: [String] = []
        for t in targets {
            for d in t.dependencies {
                if let owner = owners[d] {
                    if owner != t.name { wrong.append("\(t.name) -> \(d) (only \(owner) uses \(d))") }
                    continue
                }
                if d == "AishShell" && t.type != "executable" && t.name != "AishBenchmarks" && t.type != "test" {
                    wrong.append("\(t.name) -> AishShell (nothing below the shell imports it)")
                    continue
                }
                guard t.type == "library" || t.type == "system-target" else { continue }
                guard let from = layer(of: t.name) else { continue }
                guard let to = layer(of: d) else { wrong.append("\(t.name) -> \(d) (\(d) has no layer)"); continue }
                if to >= from { wrong.append("\(t.name) -> \(d) (layer \(to) is not above layer \(from))") }
            }
        }
        return wrong
    }

    @Test func everyLibraryTargetHasALayer() throws {
        let targets = try Self.describe()
        let libraries = targets.filter { $0.type == "library" }.map(\.name)
        #expect(!libraries.isEmpty)
        for name in libraries { #expect(Self.layer(of: name) != nil, "target \(name) is in no layer of PackageGraphTests.layers") }
        for name in Self.layers.joined() { #expect(libraries.contains(name), "layer names \(name), which is not a target") }
    }

    @Test func dependenciesRunOneWay() throws {
        let targets = try Self.describe()
        #expect(Self.wrongArrows(targets) == [])
        let executable = try #require(targets.first { $0.name == "aish" })
        #expect(executable.dependencies == ["AishShell"], "the aish executable stays thin: it only starts the shell")
    }

    /// What the sources import must be what Package.swift declares: on Linux a module built
    /// earlier can be imported without being declared, which would hide an arrow from the graph.
    @Test func importsAreDeclaredDependencies() throws {
        let targets = try Self.describe()
        let root = try #require(TestPaths.packageRoot)
        let known = Set(targets.map(\.name))
        var undeclared: [String] = []
        for t in targets where t.type == "library" || t.type == "executable" {
            let dir = root + "/" + t.path
            let files = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            #expect(!files.isEmpty, "no sources under \(t.path)")
            for file in files {
                let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ").map(String.init)
                    guard let i = words.firstIndex(of: "import"), i + 1 < words.count,
                          words[..<i].allSatisfy({ $0.hasPrefix("@") }) else { continue }
                    let module = words[i + 1]
                    if known.contains(module) && module != t.name && !t.dependencies.contains(module) {
                        undeclared.append("\(t.path)/\(file) imports \(module), not a dependency of \(t.name)")
                    }
                }
            }
        }
        #expect(undeclared == [])
    }

    /// The check itself finds an arrow that runs upward, a C library used by a second
    /// target, and a feature that imports the shell.
    @Test func wrongArrowsAreFound() {
        func lib(_ name: String, _ deps: [String]) -> Target {
            Target(name: name, type: "library", path: "Sources/\(name)", target_dependencies: deps)
        }
        #expect(Self.wrongArrows([lib("AishConfig", ["AishBase", "AishYAML"])]) == [])
        #expect(Self.wrongArrows([lib("AishConfig", ["AishRouting"])]) == ["AishConfig -> AishRouting (layer 6 is not above layer 3)"])
        #expect(Self.wrongArrows([lib("AishChat", ["AishServices"])]) == ["AishChat -> AishServices (layer 8 is not above layer 8)"])
        #expect(Self.wrongArrows([lib("AishConfig", ["CCurl"])]) == ["AishConfig -> CCurl (only AishHTTP uses CCurl)"])
        #expect(Self.wrongArrows([lib("AishReport", ["AishShell"])]) == ["AishReport -> AishShell (nothing below the shell imports it)"])
        #expect(Self.wrongArrows([lib("AishNew", ["AishBase"])]) == [])
        #expect(Self.wrongArrows([lib("AishBase", ["AishNew"])]) == ["AishBase -> AishNew (AishNew has no layer)"])
    }
}
