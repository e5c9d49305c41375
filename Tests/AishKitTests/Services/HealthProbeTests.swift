import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishServices

/// Health checks against the project's fake provider, started by each test on 127.0.0.1.
@Suite struct HealthProbeTests {
    func statusOf(_ providers: [ProviderConfig]) throws -> JSONValue {
        let empty = try TemporaryDirectory()
        let inv = try ServiceCommands.statusSpec.parse(words: [], line: "status", location: nil)
        let r = try ServiceCommands.runStatus(inv, ServiceFixtures.context(path: empty.path),
                                              config: ServiceFixtures.config(providers: providers))
        return try #require(r.data)
    }

    @Test func healthyProviderIsUpWithItsPid() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let data = try statusOf([fake.provider(name: "local-llama", type: .llamaCpp, healthEndpoint: "/health")])
        let row = try #require(data["services"]?[0])
        #expect(row["name"] == "local-llama")
        #expect(row["state"] == "up")
        #expect(row["health_url"] == .string("\(fake.baseURL)/health"))
        #expect(row["http_status"] == 200)
        #expect(row["pid"]?.intValue != nil)
    }

    @Test func loadingModelIsUnhealthy() throws {
        let fake = try FakeProviderProcess(["--fault", "503-loading"])
        defer { fake.stop() }
        let data = try statusOf([fake.provider(name: "native", type: .llamaCpp, healthEndpoint: "/health")])
        let row = try #require(data["services"]?[0])
        #expect(row["state"] == "unhealthy")
        #expect(row["http_status"] == 503)
        #expect(row["health_error"] == .string("GET \(fake.baseURL)/health answered 503"))
        #expect(data["unhealthy"] == 1)
    }

    @Test func aStalledHealthEndpointIsBoundedByTheTimeout() throws {
        let fake = try FakeProviderProcess(["--fault", "delay-headers=30"])
        defer { fake.stop() }
        let started = Date()
        let result = HealthProbe.check(HealthProbe.Target(host: "127.0.0.1", port: fake.port,
                                                          healthURL: fake.baseURL + "/health"),
                                       timeout: 0.5, interrupt: InterruptFlag())
        #expect(!result.healthy)
        #expect(result.httpStatus == nil)
        #expect(result.error?.hasPrefix("GET \(fake.baseURL)/health: ") == true)
        #expect(Date().timeIntervalSince(started) < 15)   // generous: far below the 30 s stall
    }

    @Test func tcpCheckOfAClosedPort() {
        let port = FakeProviderProcess.unusedPort()
        let result = HealthProbe.check(HealthProbe.Target(host: "127.0.0.1", port: port, healthURL: nil), timeout: 2,
                                       interrupt: InterruptFlag())
        #expect(result == HealthResult(reachable: false, httpStatus: nil,
                                       error: "connect to 127.0.0.1:\(port) failed: Connection refused"))
    }
}

/// `service start` whose unit really brings a server up a moment later: the stand-in
/// systemctl starts an HTTP server in the background, and the command waits for it.
@Suite struct ServiceStartWaitTests {
    @Test func startWaitsUntilTheServerAnswers() throws {
        let dir = try TemporaryDirectory()
        let port = FakeProviderProcess.unusedPort()
        try dir.executable("systemctl", """
            #!/bin/sh
            case " $* " in
              *" show "*) echo loaded ;;
              *" start "*)
                (sleep 0.7; exec "\(ChildProcess.python)" -m http.server \(port) --bind 127.0.0.1) \
                  </dev/null >/dev/null 2>&1 &
                echo $! > "\(dir.path)/server.pid" ;;
            esac
            """)
        defer {
            if let text = dir.read("server.pid"), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
        }
        let config = ServiceFixtures.config(ports: [
            ServiceFixtures.port("web", port, unit: "web.service", health: "curl -f http://127.0.0.1:\(port)/"),
        ])
        let ctx = ServiceFixtures.context(path: dir.path + ":/usr/bin:/bin")
        let inv = try ServiceCommands.serviceSpec.parse(words: ["start", "web", "--yes"], line: "", location: nil)
        let r = try ServiceCommands.runService(inv, ctx, config: config)
        #expect(r.status == .ok)
        #expect(r.field("healthy") == .bool(true))
        #expect((r.field("wait_ms")?.doubleValue ?? 0) >= 500)
        #expect(r.text.hasSuffix("(GET http://127.0.0.1:\(port)/ → 200)"))
    }
}
