import Foundation
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishSQLite
@testable import AishSessionLog

/// Shared pieces of the Services tests: fixture paths, configs built in code, temporary
/// directories with stand-in executables, and child processes the tests own.
enum ServiceFixtures {
    static var packageRoot: URL { URL(fileURLWithPath: TestPaths.inPackage("")) }

    static let directory = packageRoot.appendingPathComponent("Tests/Fixtures/Services")
    static var procRoot: String { directory.appendingPathComponent("proc").path }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func location(_ file: String, _ line: Int) -> SourceLocation { SourceLocation(file: file, line: line, column: 1) }

    static func port(_ name: String, _ port: Int, unit: String? = nil, health: String? = nil, line: Int = 1) -> PortService {
        PortService(name: name, port: port, proto: "http", required: true, serviceUnit: unit, healthCheck: health,
                    location: location("ports.yaml", line))
    }

    static func provider(_ name: String, _ type: String = "llama_cpp", baseURL: String, health: String? = nil,
                         unit: String? = nil, status: ProviderStatus = .active, line: Int = 1) -> ProviderConfig
    {
        ProviderConfig(name: name, type: ProviderType(type), baseURL: baseURL, status: status, models: [],
                       healthEndpoint: health, envVar: nil, requiresAPIKey: false, rateLimits: nil,
                       timeouts: ProviderTimeouts(), serviceUnit: unit, location: location("providers.yaml", line))
    }

    static func config(ports: [PortService] = [], providers: [ProviderConfig] = []) -> AishConfig {
        AishConfig(
            directory: "/config",
            providers: ProvidersFile(path: "providers.yaml", providers: providers, healthChecks: HealthCheckSettings()),
            mappings: ModelMappings(path: "model-mappings.yaml", exactMatches: [], patterns: [], capabilities: [],
                                    loadBalancing: [], fallbackChains: [], defaultChain: nil,
                                    routingRules: RoutingRules(), specialCases: SpecialCases()),
            ports: PortsFile(path: "ports.yaml", services: ports, reserved: []))
    }

    /// A context whose output is captured and whose PATH is the given one.
    static func context(path: String, extraEnvironment: [String: String] = [:], interactive: Bool = false,
                        json: Bool = false) -> ShellContext
    {
        var env = ["PATH": path, "HOME": NSTemporaryDirectory()]
        env.merge(extraEnvironment) { $1 }
        var options = GlobalOptions()
        options.interactive = interactive
        options.json = json
        return ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(),
                            environment: env)
    }
}

/// A temporary directory removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = NSTemporaryDirectory() + "aish-services-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes an executable script named `name`.
    @discardableResult
    func executable(_ name: String, _ script: String) throws -> String {
        // Written through a close-on-exec descriptor: a child spawned meanwhile by another
        // test must not inherit it, or executing the script fails with ETXTBSY.
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw CommandFailure("cannot create \(file)") }
        let bytes = Array(script.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw CommandFailure("cannot write \(file)") }
        return file
    }

    func read(_ name: String) -> String? { try? String(contentsOfFile: path + "/" + name, encoding: .utf8) }
}

/// A child process the test starts and always stops.
final class ChildProcess {
    let process = Process()
    let output = Pipe()

    /// Held open by the test: children that watch their stdin exit when it closes, so a
    /// crashed test run leaves nothing behind.
    let input = Pipe()

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = input
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// The first line the child prints.
    func firstLine() -> String {
        var bytes: [UInt8] = []
        let handle = output.fileHandleForReading
        while true {
            let d = handle.readData(ofLength: 1)
            if d.isEmpty || d.first == 0x0A { break }
            bytes.append(d.first!)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// SIGKILL: children spawned from a test thread inherit its blocked-signal mask, so
    /// SIGTERM may never arrive.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    static var python: String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return "/usr/bin/python3"
    }

    /// An HTTP server on 127.0.0.1 with a port the kernel picks; returns it with its port.
    static func httpServer() throws -> (ChildProcess, Int) {
        let script = """
            import http.server, os, sys, threading
            s = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            print(s.server_address[1], flush=True)
            threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
            s.serve_forever()
            """
        let child = try ChildProcess(python, ["-c", script])
        guard let port = Int(child.firstLine()) else {
            child.stop()
            throw CommandFailure("test HTTP server did not report its port")
        }
        return (child, port)
    }

    /// A process that keeps one core busy for at most 60 s (and stops when the test's
    /// end of its stdin closes).
    /// Returns once the loop runs (the interpreter may start slowly, e.g. behind a pyenv shim).
    static func busyLoop() throws -> ChildProcess {
        let child = try ChildProcess(python, ["-c", """
            import os, sys, threading, time
            threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
            print("busy", flush=True)
            end = time.time() + 60
            while time.time() < end: pass
            """])
        guard child.firstLine() == "busy" else {
            child.stop()
            throw CommandFailure("busy loop did not start")
        }
        return child
    }

    /// A port nothing listens on (bound and released at once).
    static func closedPort() -> Int { FreePort.unused() }
}

/// A real session log in a temporary directory, read back to check that every control
/// action reaches the `service_actions` table.
final class ServiceActionLog {
    let directory: TemporaryDirectory
    let recorder: SessionLogRecorder
    private let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path + "/aish.db"
        let log = try SessionLog(path: path)
        try log.beginSession(mode: "script", scriptPath: nil, aishVersion: "test")
        recorder = SessionLogRecorder(log: log, secrets: SecretFilter(environment: [:]),
                                      output: OutputSink(capturing: true))
    }

    struct Row: Equatable {
        var action: String, service: String, unit: String, ok: Bool, output: String
    }

    /// The recorded actions, oldest first.
    func rows() throws -> [Row] {
        let db = try Database(path: path)
        let s = try db.prepare("SELECT action, service, unit, ok, output FROM service_actions ORDER BY id")
        var out: [Row] = []
        while try s.step() {
            out.append(Row(action: s.string(0), service: s.string(1), unit: s.string(2), ok: s.int(3) != 0,
                           output: s.string(4)))
        }
        return out
    }
}
