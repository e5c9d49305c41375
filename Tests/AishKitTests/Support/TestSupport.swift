import Foundation
import Testing
@testable import AishBase
@testable import AishCommand

/// A file or program a test needs is not there. Thrown, never trapped: a missing fixture
/// or binary is one failing test with this message, not a crashed test process.
struct MissingTestFile: Error, CustomStringConvertible {
    var path: String
    var hint: String
    var description: String { "missing \(path) (\(hint))" }
}

/// Paths inside the package, found from this source file.
enum TestPaths {
    /// The directory holding Package.swift; nil when the sources were moved away from it.
    static let packageRoot: String? = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
            url.deleteLastPathComponent()
        }
        return nil
    }()

    /// `relative` under the package root; throws when it does not exist.
    static func existing(_ relative: String) throws -> String {
        guard let root = packageRoot else {
            throw MissingTestFile(path: "Package.swift above \(#filePath)", hint: "run the tests from the package")
        }
        let path = root + "/" + relative
        guard FileManager.default.fileExists(atPath: path) else {
            throw MissingTestFile(path: path, hint: "a fixture the tests read; it belongs in the repository")
        }
        return path
    }

    /// `relative` under the package root, whether or not it exists yet (files a test writes,
    /// or looks up and reports itself). Falls back to the working directory.
    static func inPackage(_ relative: String) -> String {
        (packageRoot ?? FileManager.default.currentDirectoryPath) + "/" + relative
    }
}

/// The one free-port helper: a port on 127.0.0.1 that nothing listens on (bound, read back,
/// closed), for servers a test starts and for "connection refused" cases.
enum FreePort {
    static func unused() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 1 }  // port 1: refused too, and the test shows why
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                _ = bind(fd, sa, len)
                _ = getsockname(fd, sa, &len)
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// The built `aish` binary. Every suite finds it here, and a missing binary fails each
/// test that needs it the same way: `MissingTestFile` thrown by `require()`.
enum AishBinary {
    static let path: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("aish").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return TestPaths.inPackage(".build/debug/aish")
    }()

    static func require() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingTestFile(path: path, hint: "build it with swift build before the tests")
        }
        return path
    }

    /// Runs aish with `arguments` and a private session log; returns (exit code, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try require())
        p.arguments = arguments
        var env = environment ?? ProcessInfo.processInfo.environment
        if env["AISH_DB"] == nil { env["AISH_DB"] = NSTemporaryDirectory() + "aish-test-\(UUID().uuidString).db" }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes at once so that neither fills up while the other is drained.
        let errData = Locked<Data>(Data())
        let errReader = Thread { errData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
        errReader.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while errReader.isExecuting || !errReader.isFinished { usleep(1000) }
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errData.value, as: UTF8.self))
    }
}

/// The one command harness: runs a command line the way the shell does (registry lookup,
/// parse, `--help`, usage attached to usage errors) without the runner's printing.
struct TestShell {
    let ctx: ShellContext

    init(_ ctx: ShellContext) { self.ctx = ctx }

    func run(_ words: [String]) throws -> CommandResult {
        guard let name = words.first, let spec = ctx.registry.lookup(name) else {
            throw ctx.registry.unknownCommandError(words.first ?? "")
        }
        return try spec.invoke(Array(words.dropFirst()), line: words.joined(separator: " "), location: nil, ctx: ctx).result
    }

    /// The text of the error a command throws, or nil when it succeeds.
    func errorText(_ words: [String]) -> String? {
        do {
            _ = try run(words)
            return nil
        } catch {
            return ErrorText(error).message
        }
    }
}
