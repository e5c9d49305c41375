import Foundation

/// Runs the built `aish` binary (`.build/debug/aish`, built by scripts/test before the
/// tests) with a private HOME, session log and history file, so tests never touch the
/// user's files.
struct BinaryHarness {
    struct Run {
        var stdout: String
        var stderr: String
        var code: Int32
    }

    static var path: String { AishBinary.path }
    static let fixtures = TestPaths.inPackage("Tests/Fixtures/Script")

    /// A fresh directory for one test's HOME, log and history.
    let home: String

    init() throws {
        _ = try AishBinary.require()
        home = FileManager.default.temporaryDirectory.appendingPathComponent("aish-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: home) }

    var environment: [String: String] {
        ["PATH": (BinaryHarness.path as NSString).deletingLastPathComponent + ":/usr/bin:/bin", "HOME": home,
         "AISH_DB": home + "/aish.db", "AISH_HISTORY": home + "/history", "AISH_CONFIG": home + "/no-config",
         "LANG": "C.UTF-8"]
    }

    func run(_ arguments: [String], stdin: String? = nil, cwd: String? = nil, executable: String = AishBinary.path,
             extraEnvironment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment.merging(extraEnvironment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: cwd ?? home)
        let outPath = home + "/stdout-\(UUID().uuidString)"
        let errPath = home + "/stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        if stdin != nil {
            process.standardInput = input
        } else {
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        }
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(stdin.data(using: .utf8)!)
            try input.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        let stdout = try String(contentsOfFile: outPath, encoding: .utf8)
        let stderr = try String(contentsOfFile: errPath, encoding: .utf8)
        return Run(stdout: stdout, stderr: stderr, code: process.terminationStatus)
    }
}
