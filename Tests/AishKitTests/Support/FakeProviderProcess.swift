import Foundation
@testable import AishBase
@testable import AishConfig
@testable import AishHTTP

/// Starts Tests/FakeProvider/fake_provider.py on 127.0.0.1 with an ephemeral port and
/// stops it when the test is done (`stop()` or deinit). Any helper's tests may use it:
///
///     let fake = try FakeProviderProcess(["--reply", "hi there", "--token-delay", "0.05"])
///     defer { fake.stop() }
///     let p = fake.provider(name: "local", type: .vllm)      // a ProviderConfig pointing at it
///
/// The server exits by itself if the test process dies (its stdin is a pipe we hold).
final class FakeProviderProcess: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let stdinPipe = Pipe()

    var baseURL: String { "http://127.0.0.1:\(port)" }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    static var scriptPath: String { TestPaths.inPackage("Tests/FakeProvider/fake_provider.py") }

    init(_ arguments: [String] = []) throws {
        _ = try TestPaths.existing("Tests/FakeProvider/fake_provider.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", FakeProviderProcess.scriptPath, "--port", "0", "--exit-on-stdin-eof"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdinPipe
        try process.run()
        // The first stdout line is "PORT n".
        var line = [UInt8]()
        let handle = out.fileHandleForReading
        while !line.contains(0x0A) {
            let data = handle.availableData
            if data.isEmpty { break }
            line.append(contentsOf: data)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let p = Int(text.dropFirst(5)) else {
            process.terminate()
            throw StartFailure(description: "fake provider did not start (first line: '\(text)')")
        }
        port = p
    }

    func stop() {
        guard process.isRunning else { return }
        // Closing its stdin ends the server (--exit-on-stdin-eof); SIGTERM, then SIGKILL, if not.
        try? stdinPipe.fileHandleForWriting.close()
        process.terminate()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// A port with nothing listening: bound, then closed (connection refused).
    static func unusedPort() -> Int { FreePort.unused() }

    /// A ProviderConfig pointing at this server.
    func provider(name: String = "fake", type: ProviderType = .vllm, models: [String] = ["fake-model"],
                  status: ProviderStatus = .active, healthEndpoint: String? = nil, envVar: String? = nil,
                  requiresAPIKey: Bool = false, timeouts: ProviderTimeouts = ProviderTimeouts(),
                  baseSuffix: String = "") -> ProviderConfig {
        FakeProviderProcess.provider(name: name, type: type, baseURL: baseURL + baseSuffix, models: models, status: status,
                                     healthEndpoint: healthEndpoint, envVar: envVar, requiresAPIKey: requiresAPIKey,
                                     timeouts: timeouts)
    }

    static func provider(name: String, type: ProviderType = .vllm, baseURL: String, models: [String] = ["fake-model"],
                         status: ProviderStatus = .active, healthEndpoint: String? = nil, envVar: String? = nil,
                         requiresAPIKey: Bool = false, timeouts: ProviderTimeouts = ProviderTimeouts()) -> ProviderConfig {
        let here = SourceLocation(file: "providers.yaml", line: 1, column: 1)
        return ProviderConfig(name: name, type: type, baseURL: baseURL, status: status,
                              models: models.map { ProviderModel(name: $0, contextLength: nil, location: here) },
                              healthEndpoint: healthEndpoint, envVar: envVar, requiresAPIKey: requiresAPIKey,
                              rateLimits: nil, timeouts: timeouts, serviceUnit: nil, location: here)
    }

    /// What the server received so far (GET /_fake/requests).
    func receivedRequests() throws -> [JSONValue] {
        let r = try HTTPTransport.fetch(HTTPRequest(url: baseURL + "/_fake/requests"), interrupt: nil)
        guard case let .array(items)? = try r.json()["requests"] else { return [] }
        return items
    }

    /// Changes the server's options at run time (POST /_fake/config), e.g. ["fail_all": 503].
    func configure(_ settings: JSONValue) throws {
        _ = try HTTPTransport.fetch(.postJSON(url: baseURL + "/_fake/config", settings), interrupt: nil)
    }
}
