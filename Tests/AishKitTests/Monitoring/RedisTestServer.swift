import Foundation
@testable import AishBase
@testable import AishGateway

/// A Redis server for tests: the real `redis-server` when installed (on a free port, no
/// persistence), else Tests/FakeProvider/fake_redis.py speaking RESP. Stopped by `stop()`
/// or deinit; the fake also exits when the test process dies (its stdin is our pipe).
final class RedisTestServer: @unchecked Sendable {
    let port: Int
    let isReal: Bool
    private let process: Process
    private let stdinPipe = Pipe()

    static var redisServerPath: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/sbin", "/usr/bin"] {
            let path = "\(dir)/redis-server"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// The real server, nil when it is not installed.
    static func real(extraArguments: [String] = []) throws -> RedisTestServer? {
        guard let path = redisServerPath else { return nil }
        return try RedisTestServer(real: path, extraArguments: extraArguments)
    }

    private init(real path: String, extraArguments: [String]) throws {
        port = FakeProviderProcess.unusedPort()
        isReal = true
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--loglevel", "warning"] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = stdinPipe
        try process.run()
        try waitUntilAnswering(password: extraArguments.firstIndex(of: "--requirepass").map { extraArguments[$0 + 1] })
    }

    /// The fake (fake_redis.py) with these arguments.
    init(fakeArguments: [String]) throws {
        isReal = false
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = try TestPaths.existing("Tests/FakeProvider/fake_redis.py")
        process.arguments = ["python3", script, "--port", "0", "--exit-on-stdin-eof"] + fakeArguments
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdinPipe
        try process.run()
        var line = [UInt8]()
        while !line.contains(0x0A) {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            line.append(contentsOf: data)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let p = Int(text.dropFirst(5)) else {
            process.terminate()
            throw FakeProviderProcess.StartFailure(description: "fake redis did not start (first line: '\(text)')")
        }
        port = p
    }

    private func waitUntilAnswering(password: String?) throws {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let c = try? RedisClient(host: "127.0.0.1", port: port, timeout: 0.5, interrupt: InterruptFlag()) {
                if let password { _ = try? c.command(["AUTH", password]) }
                if (try? c.ping()) == true { return }
            }
            usleep(20_000)
        }
        stop()
        throw FakeProviderProcess.StartFailure(description: "redis-server did not answer PING on port \(port) within 5 s")
    }

    /// Runs one command on a connection of its own (to fill the database).
    func command(_ words: [String]) throws -> RESPValue {
        try RedisClient(host: "127.0.0.1", port: port, timeout: 2, interrupt: InterruptFlag()).command(words)
    }

    func stop() {
        guard process.isRunning else { return }
        try? stdinPipe.fileHandleForWriting.close()
        process.terminate()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
