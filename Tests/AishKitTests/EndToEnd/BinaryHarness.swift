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

    /// aish running in the background, its output going to files that can be read while it runs.
    struct Background {
        let process: Process
        let outPath: String
        let errPath: String
        fileprivate let handles: [FileHandle]

        var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

        /// Waits (at most `seconds`) until stdout is exactly `text`.
        func waitForStdout(_ text: String, seconds: Double = 15) {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline, stdout != text { usleep(20_000) }
        }

        /// Waits for the exit, at most `seconds` when given (then kills it); true if it had to be killed.
        @discardableResult
        func finish(within seconds: Double? = nil) -> Bool {
            var killed = false
            if let seconds {
                let deadline = Date().addingTimeInterval(seconds)
                while process.isRunning, Date() < deadline { usleep(20_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL); killed = true }
            }
            process.waitUntilExit()
            for h in handles { try? h.close() }
            return killed
        }
    }

    /// Starts aish with `arguments`; stdin is `stdin` (then closed) or /dev/null.
    func start(_ arguments: [String], stdin: String? = nil, cwd: String? = nil, executable: String = AishBinary.path,
               extraEnvironment: [String: String] = [:]) throws -> Background {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment.merging(extraEnvironment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: cwd ?? home)
        let outPath = home + "/stdout-\(UUID().uuidString)"
        let errPath = home + "/stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
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
        return Background(process: process, outPath: outPath, errPath: errPath, handles: [out, err])
    }

    func run(_ arguments: [String], stdin: String? = nil, cwd: String? = nil, executable: String = AishBinary.path,
             extraEnvironment: [String: String] = [:]) throws -> Run {
        let running = try start(arguments, stdin: stdin, cwd: cwd, executable: executable, extraEnvironment: extraEnvironment)
        running.finish()
        return Run(stdout: try String(contentsOfFile: running.outPath, encoding: .utf8),
                   stderr: try String(contentsOfFile: running.errPath, encoding: .utf8),
                   code: running.process.terminationStatus)
    }
}
