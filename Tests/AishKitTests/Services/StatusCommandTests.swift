import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishServices

@Suite struct ServiceTargetsTests {
    @Test func rowsFromPortsAndLocalProviders() {
        let config = ServiceFixtures.config(
            ports: [
                ServiceFixtures.port("litellm_gateway", 4000, unit: "litellm.service",
                                     health: "curl -f http://localhost:4000/health"),
                ServiceFixtures.port("ollama", 11434, unit: "ollama.service", health: "curl -f http://localhost:11434/api/tags"),
                ServiceFixtures.port("redis", 6379, unit: "redis-server.service", health: "redis-cli -p 6379 ping"),
            ],
            providers: [
                ServiceFixtures.provider("ollama", "ollama", baseURL: "http://127.0.0.1:11434", health: "/api/tags"),
                ServiceFixtures.provider("vllm-qwen", "vllm", baseURL: "http://localhost:8001/v1", health: "/v1/models",
                                         unit: "vllm-qwen.service"),
                ServiceFixtures.provider("openai", "openai", baseURL: "https://api.openai.com/v1"),
                ServiceFixtures.provider("custom", "openai_compatible", baseURL: "http://localhost:CUSTOM_PORT",
                                         status: .template),
                ServiceFixtures.provider("ipv6", "llama_cpp", baseURL: "http://[::1]:8090", health: "health"),
            ])
        let rows = ServiceTargets.from(config)
        #expect(rows.map(\.name) == ["litellm_gateway", "ollama", "redis", "vllm-qwen", "ipv6"])
        #expect(rows[0].healthURL == "http://localhost:4000/health")
        #expect(rows[1].providers == ["ollama"])
        #expect(rows[2].healthURL == nil)
        #expect(rows[3] == MonitoredService(
            name: "vllm-qwen", host: "localhost", port: 8001, healthURL: "http://localhost:8001/v1/models",
            unit: UnitReference(unit: "vllm-qwen.service"), unitLocation: ServiceFixtures.location("providers.yaml", 1),
            providers: ["vllm-qwen"], fromPortsFile: false, required: false))
        #expect(rows[4].host == "::1")
        #expect(rows[4].healthURL == "http://[::1]:8090/health")
    }

    @Test func unitReferences() {
        #expect(UnitReference(configValue: "ollama.service") == UnitReference(unit: "ollama.service"))
        #expect(UnitReference(configValue: "null") == nil)
        #expect(UnitReference(configValue: "  ") == nil)
        #expect(UnitReference(configValue: "/usr/lib/systemd/system/x.service") == UnitReference(unit: "x.service", scope: .system))
        #expect(UnitReference(configValue: "~/.config/systemd/user/y.service") == UnitReference(unit: "y.service", scope: .user))
        #expect(UnitReference(configValue: "./units/z.service") == UnitReference(unit: "z.service"))
    }
}

@Suite(.serialized) struct StatusCommandTests {
    func run(_ words: [String], _ ctx: ShellContext, _ config: AishConfig) throws -> CommandResult {
        let inv = try ServiceCommands.statusSpec.parse(words: words, line: "status", location: nil)
        return try ServiceCommands.runStatus(inv, ctx, config: config)
    }

    @Test func statusFindsTheServerItsPidAndTheDownService() throws {
        let (server, port) = try ChildProcess.httpServer()
        defer { server.stop() }
        let closed = ChildProcess.closedPort()
        let empty = try TemporaryDirectory()  // no nvidia-smi on this PATH
        let config = ServiceFixtures.config(
            ports: [ServiceFixtures.port("web", port, unit: "web.service", health: "curl -f http://127.0.0.1:\(port)/")],
            providers: [ServiceFixtures.provider("llama_cpp_native", baseURL: "http://127.0.0.1:\(closed)", health: "/health")])
        let r = try run([], ServiceFixtures.context(path: empty.path), config)
        #expect(r.status == .ok)
        #expect(r.field("up") == .int(1))
        #expect(r.field("configured") == .int(2))
        let data = try #require(r.data)
        let web = try #require(data["services"]?[0])
        #expect(web["state"] == "up")
        #expect(web["pid"] == .int(Int(server.pid)))
        #expect(web["http_status"] == 200)
        #expect(web["listen"] == .array([.string("127.0.0.1:\(port)")]))
        #expect(web["command"]?.stringValue?.contains("http.server") == true)
        #expect((web["rss_kib"]?.intValue ?? 0) > 0)
        #expect(web["cpu_percent"] != nil && web["cpu_percent"] != .null)
        let native = try #require(data["services"]?[1])
        #expect(native["state"] == "down")
        #expect(native["pid"] == .null)
        #expect(data["gpu"] == .object([("present", false), ("message", "no GPU found (nvidia-smi not available)")]))
        // The totals are the top-level fields, in expect and --json alike (--json nested them under `totals`).
        #expect(data["up"] == 1)
        #expect(data["totals"] == nil)
        #expect(data["avg_rss_kib"]?.intValue != nil)
        try ReportAgreement.check(r, ["up", "configured", "unhealthy", "down", "taken_at"], report: ReportShape(StatusReport.self))

        let lines = r.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("services 1/2 up · avg CPU "))
        #expect(lines[2].hasPrefix("SERVICE"))
        #expect(lines[3].hasPrefix("web "))
        #expect(lines[3].contains(" up "))
        #expect(lines[3].contains(" \(server.pid) "))
        #expect(lines[4].hasPrefix("llama_cpp_native "))
        #expect(lines[4].contains(" down "))
        #expect(lines.last == "no GPU found (nvidia-smi not available)")
    }

    @Test func listeningButFailingHealthIsUnhealthy() throws {
        let (server, port) = try ChildProcess.httpServer()
        defer { server.stop() }
        let empty = try TemporaryDirectory()
        let config = ServiceFixtures.config(ports: [
            ServiceFixtures.port("web", port, health: "curl -f http://127.0.0.1:\(port)/no-such-page"),
        ])
        let r = try run([], ServiceFixtures.context(path: empty.path), config)
        #expect(r.field("unhealthy") == .int(1))
        #expect(r.data?["services"]?[0]?["health_error"] == .string("GET http://127.0.0.1:\(port)/no-such-page answered 404"))
        #expect(r.text.contains("  web: GET http://127.0.0.1:\(port)/no-such-page answered 404"))
    }

    @Test func gpuMemoryIsAttributedToTheListeningProcess() throws {
        let (server, port) = try ChildProcess.httpServer()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let fixtures = ServiceFixtures.directory.appendingPathComponent("nvidia-smi").path
        try dir.executable("nvidia-smi", """
            #!/bin/sh
            case "$1" in
              --query-gpu=*) /bin/cat "\(fixtures)/query-gpu-one.csv" ;;
              --query-compute-apps=*) printf '%s, 2048\\n' "\(server.pid)" ;;
            esac
            """)
        // No HTTP health endpoint (a redis-style check): up means the port accepts a connection.
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("web", port, health: "redis-cli -p \(port) ping")])
        let r = try run([], ServiceFixtures.context(path: dir.path), config)
        #expect(r.data?["services"]?[0]?["state"] == "up")
        #expect(r.data?["services"]?[0]?["http_status"] == .null)
        #expect(r.data?["services"]?[0]?["gpu_memory_mib"] == 2048)
        #expect(r.text.contains("GPUs 1 · GPU memory 10.0 GiB / 24.0 GiB"))
        // The per-process GPU MEM column is there only when a GPU is (see noGPUNoGPUColumn).
        #expect(r.text.contains("  UPTIME  GPU MEM  UNIT"))
        #expect(r.text.contains("  2.0 GiB  "))
        #expect(r.text.hasSuffix("""
            GPU  NAME                     MEMORY USED  MEMORY TOTAL  UTIL
            0    NVIDIA GeForce RTX 3090  10240 MiB    24576 MiB     37%
            """))
    }

    @Test func watchInAScriptNeedsCountAndPrintsPlainFrames() throws {
        let empty = try TemporaryDirectory()
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("nothing", ChildProcess.closedPort())])
        let ctx = ServiceFixtures.context(path: empty.path)
        let e = try #require(throws: UsageError.self) { try run(["--watch", "1"], ctx, config) }
        #expect(e.message == "status: --watch outside a terminal needs --count N (it would never end)")

        let r = try run(["--watch", "100ms", "--count", "2"], ctx, config)
        #expect(r.alreadyPrinted)
        #expect(r.field("frames") == 2)
        let printed = ctx.output.capturedText
        #expect(!printed.contains("\u{1B}"))
        #expect(printed.components(separatedBy: "services 0/1 up").count == 3)
    }

    @Test func watchWithJSONPrintsOneObjectPerFrame() throws {
        let empty = try TemporaryDirectory()
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("nothing", ChildProcess.closedPort())])
        let ctx = ServiceFixtures.context(path: empty.path, json: true)
        let r = try run(["--watch", "50ms", "--count", "3"], ctx, config)
        // Two frames printed as they come; the third is the result the runner prints.
        let lines = ctx.output.capturedText.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let frame = try JSONValue.parse(String(line))
            #expect(frame["status"] == "ok")
            #expect(frame["configured"] == 1)
            #expect(frame["frames"] == .null)
        }
        #expect(!r.alreadyPrinted)
        #expect(r.jsonForm["configured"] == 1)
        #expect(r.field("frames") == 3)
        try ReportAgreement.check(r, ["frames", "configured", "down"], report: ReportShape(StatusReport.self))
    }

    @Test func watchStopsOnCtrlC() throws {
        let empty = try TemporaryDirectory()
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("nothing", ChildProcess.closedPort())])
        let ctx = ServiceFixtures.context(path: empty.path)
        let flag = ctx.interrupt
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.8) { flag.raise() }
        let r = try run(["--watch", "100ms", "--count", "100000"], ctx, config)
        #expect((r.field("frames")?.intValue ?? 0) < 100000)
    }

    @Test func namesLimitTheRows() throws {
        let empty = try TemporaryDirectory()
        let config = ServiceFixtures.config(ports: [
            ServiceFixtures.port("ollama", ChildProcess.closedPort()), ServiceFixtures.port("redis", ChildProcess.closedPort()),
        ])
        let r = try run(["redis"], ServiceFixtures.context(path: empty.path), config)
        #expect(r.data?["services"]?[0]?["name"] == "redis")
        #expect(r.field("configured") == 1)
        let e = try #require(throws: UsageError.self) { try run(["redsi"], ServiceFixtures.context(path: empty.path), config) }
        #expect(e.message == "unknown service 'redsi' — did you mean 'redis'? (known: ollama, redis)")
    }

    @Test func noGPUNoGPUColumn() throws {
        let empty = try TemporaryDirectory()
        let config = ServiceFixtures.config(ports: [ServiceFixtures.port("nothing", ChildProcess.closedPort())])
        let r = try run([], ServiceFixtures.context(path: empty.path), config)
        #expect(r.text.contains("\nSERVICE  PORT"))
        #expect(r.text.contains("  UPTIME  UNIT  COMMAND\n"))
        #expect(r.text.hasSuffix("\nno GPU found (nvidia-smi not available)"))
    }

    @Test func noServicesConfigured() throws {
        let empty = try TemporaryDirectory()
        let r = try run([], ServiceFixtures.context(path: empty.path), ServiceFixtures.config())
        #expect(r.field("configured") == 0)
        #expect(r.text.hasPrefix("services 0/0 up · avg CPU - · avg RSS - · total RSS - · "))
    }
}

/// The collector on the copied /proc tree: which process listens, its memory, uptime and
/// (unchanging, so zero) CPU come from the fixture files; the health check finds nothing
/// live on those ports.
@Suite struct StatusCollectorFixtureTests {
    @Test func rowsAreAssembledFromTheCopiedProc() throws {
        let empty = try TemporaryDirectory()
        let services = [
            MonitoredService(name: "python", host: "127.0.0.1", port: 38471, healthURL: nil, unit: nil, unitLocation: nil,
                             providers: [], fromPortsFile: true, required: true),
            MonitoredService(name: "other-user", host: "::1", port: 38472, healthURL: nil, unit: nil, unitLocation: nil,
                             providers: [], fromPortsFile: true, required: false),
            MonitoredService(name: "absent", host: "127.0.0.1", port: 9, healthURL: nil, unit: nil, unitLocation: nil,
                             providers: [], fromPortsFile: true, required: false),
        ]
        let collector = StatusCollector(proc: ProcFS(root: ServiceFixtures.procRoot), environment: ["PATH": empty.path],
                                        interrupt: InterruptFlag(), cpuInterval: 0.05, healthTimeout: 1)
        let snapshot = try #require(collector.collect(services))
        let python = snapshot.services[0]
        #expect(python.listenAddresses == ["127.0.0.1:38471"])
        #expect(python.process?.pid == 8740)
        #expect(python.process?.command == "/root/.pyenv/versions/3.11.7/bin/python3 -m http.server 38471 --bind 127.0.0.1")
        #expect(python.process?.residentKiB == 21280)
        #expect(python.process?.cpuPercent == 0)
        // 490.54 s since boot, started 48522 ticks (at 100 per second) after boot.
        if CPUSampler.ticksPerSecond == 100 {
            let uptime = try #require(python.process?.uptimeSeconds)
            #expect(abs(uptime - 5.32) < 0.001)
        }
        let hidden = snapshot.services[1]
        #expect(hidden.listenAddresses == ["[::1]:38472"])
        #expect(hidden.process == nil)
        #expect(snapshot.services[2].state == .down)
        #expect(snapshot.totals == StatusTotals(configured: 3, up: 0, unhealthy: 2, down: 1, averageCPUPercent: 0,
                                                averageResidentKiB: 21280, totalResidentKiB: 21280))
        let text = StatusRendering.text(snapshot, color: false)
        #expect(text.contains("\n  other-user: listening process not visible (another user's; run as that user or root)\n"))
        #expect(text.contains("\npython      38471  unhealthy  8740  0.0   21 MiB  5s"))

        // At an 80-column terminal the summary breaks between its parts and each row fits.
        let narrow = StatusRendering.text(snapshot, color: false, width: 80).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(narrow[0] == "services 0/3 up (2 unhealthy) · avg CPU 0.0% · avg RSS 21 MiB · total RSS 21 MiB")
        #expect(narrow[1] == Substring(StatusRendering.timestamp(snapshot.takenAt)))
        let rows = narrow.filter { $0.hasPrefix("python ") || $0.hasPrefix("other-user ") || $0.hasPrefix("absent ") }
        #expect(rows.count == 3)
        for row in rows { #expect(row.count <= 80, "\(row)") }
        #expect(rows[0] == "python      38471  unhealthy  8740  0.0   21 MiB  5s      -     /root/.pyenv/ve…")
        // Too narrow for a useful COMMAND column: it is left out (the full line is in --json).
        let tiny = StatusRendering.text(snapshot, color: false, width: 60).split(separator: "\n")
        #expect(tiny.contains("python      38471  unhealthy  8740  0.0   21 MiB  5s      -"))
        #expect(!tiny.contains { $0.contains("COMMAND") })
        // Not at a terminal: one summary line, the command cut at 48 characters as before.
        #expect(text.hasPrefix("services 0/3 up (2 unhealthy) · avg CPU 0.0% · avg RSS 21 MiB · total RSS 21 MiB · "))
    }

    @Test func summaryPartsWrapAtTheWidth() {
        #expect(StatusRendering.wrap(["aaaa", "bbbb", "cc"], separator: " · ", width: 11) == ["aaaa · bbbb", "cc"])
        #expect(StatusRendering.wrap(["aaaa", "bbbb", "cc"], separator: " · ", width: nil) == ["aaaa · bbbb · cc"])
        #expect(StatusRendering.wrap(["a-very-long-part", "b"], separator: " · ", width: 5) == ["a-very-long-part", "b"])
    }
}
