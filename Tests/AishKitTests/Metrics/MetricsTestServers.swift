import Foundation
@testable import AishBase
@testable import AishConfig

/// A Python test server (the providers' fake provider, or the LiteLLM /metrics stand-in)
/// started on 127.0.0.1 with port 0, and stopped by the test (or when its stdin closes).
final class MetricsTestServer {
    let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `script` relative to the package root, e.g. "Tests/FakeProvider/fake_provider.py".
    init(script: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var args = ["python3", MetricsFixtures.packageRoot.appendingPathComponent(script).path] + arguments
        if script.hasSuffix("fake_provider.py") { args.append("--exit-on-stdin-eof") }
        process.arguments = args
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is "PORT n".
        var line = Data()
        let handle = stdout.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte == Data([0x0A]) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let p = Int(text.dropFirst(5)) else {
            process.terminate()
            throw CommandFailure("test server \(script) did not report its port (got '\(text)')")
        }
        port = p
    }

    static func fakeProvider(_ arguments: [String] = []) throws -> MetricsTestServer {
        try MetricsTestServer(script: "Tests/FakeProvider/fake_provider.py", arguments: arguments)
    }

    static func litellmMetrics(file: String = "litellm.prom", key: String) throws -> MetricsTestServer {
        try MetricsTestServer(script: "Tests/Fixtures/Metrics/litellm_metrics_server.py",
                              arguments: ["--file", MetricsFixtures.url(file).path, "--key", key])
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Providers and configs built in code for the tests (the YAML loader is the config
/// subsystem's; these tests need only the typed values).
enum MetricsTestConfig {
    static func provider(_ name: String, _ type: ProviderType, _ url: String, envVar: String? = nil,
                         models: [String] = ["fake-model"], status: ProviderStatus = .active) -> ProviderConfig {
        let here = SourceLocation(file: "providers.yaml", line: 1, column: 1)
        return ProviderConfig(name: name, type: type, baseURL: url, status: status,
                              models: models.map { ProviderModel(name: $0, contextLength: nil, location: here) },
                              healthEndpoint: nil, envVar: envVar, requiresAPIKey: envVar != nil, rateLimits: nil,
                              timeouts: ProviderTimeouts(connect: 2, firstToken: 10, idle: 10), serviceUnit: nil,
                              location: here)
    }

    static func config(_ providers: [ProviderConfig], ports: [PortService] = []) -> AishConfig {
        AishConfig(directory: "/tmp",
                   providers: ProvidersFile(path: "providers.yaml", providers: providers, healthChecks: HealthCheckSettings()),
                   mappings: ModelMappings(path: "model-mappings.yaml", exactMatches: [], patterns: [], capabilities: [],
                                           loadBalancing: [], fallbackChains: [], defaultChain: nil,
                                           routingRules: RoutingRules(), specialCases: SpecialCases()),
                   ports: PortsFile(path: "ports.yaml", services: ports, reserved: []))
    }
}
