import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishSQLite
@testable import AishShell

/// `status` and `service` from YAML files on disk through the real config loader, and
/// through the built `aish` binary with a stand-in systemctl on its PATH.
@Suite struct ServiceBinaryTests {
    let dir: TemporaryDirectory
    let webPort: Int
    let server: ChildProcess

    init() throws {
        dir = try TemporaryDirectory()
        (server, webPort) = try ChildProcess.httpServer()
        let idlePort = ChildProcess.closedPort()
        try FileManager.default.createDirectory(atPath: dir.path + "/config", withIntermediateDirectories: true)
        let files = [
            "providers.yaml": """
                providers:
                  native:
                    type: llama_cpp
                    base_url: http://127.0.0.1:\(idlePort)
                    models: [smol]
                    health_endpoint: /health
                    service: llama-native.service
                """,
            "model-mappings.yaml": """
                exact_matches:
                  smol:
                    provider: native
                """,
            "ports.yaml": """
                web:
                  port: \(webPort)
                  protocol: http
                  required: true
                  service: web.service
                  health_check: "curl -f http://127.0.0.1:\(webPort)/"
                """,
        ]
        for (name, text) in files { try (text + "\n").write(toFile: dir.path + "/config/" + name, atomically: true, encoding: .utf8) }
        try dir.executable("systemctl", """
            #!/bin/sh
            for a in "$@"; do printf '%s\\n' "$a" >> "\(dir.path)/argv"; done
            case " $* " in *" show "*) echo loaded ;; esac
            exit 0
            """)
    }

    var configDirectory: String { dir.path + "/config" }

    @Test func completionOffersActionsThenServiceNamesFromTheLoadedConfig() throws {
        var options = GlobalOptions()
        options.configDirectory = configDirectory
        let ctx = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(),
                               environment: ["PATH": "/usr/bin:/bin"])
        let completer = Completer(registry: .standard, context: ctx)
        #expect(completer.complete(lineBeforeCursor: "service ") == ["start", "stop", "restart", "enable", "disable"])
        #expect(completer.complete(lineBeforeCursor: "service re") == ["restart"])
        #expect(completer.complete(lineBeforeCursor: "service restart ") == ["web", "web.service", "native",
                                                                             "llama-native.service"])
        #expect(completer.complete(lineBeforeCursor: "service stop --yes n") == ["native"])
        #expect(completer.complete(lineBeforeCursor: "status web ") == ["web", "web.service", "native",
                                                                        "llama-native.service"])
        #expect(completer.complete(lineBeforeCursor: "status --w") == ["--watch"])
    }

    /// Runs the binary with its own environment (never the test process's PATH).
    func aish(_ arguments: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try AishBinary.require())
        p.arguments = ["--config", configDirectory] + arguments
        p.environment = ["PATH": dir.path + ":/usr/bin:/bin", "HOME": dir.path, "AISH_DB": dir.path + "/aish.db",
                         "LANG": "C.UTF-8"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test
    func statusFromTheBinary() throws {
        defer { server.stop() }
        let (code, out, _) = try aish(["-c", "status"])
        #expect(code == 0)
        #expect(out.hasPrefix("services 1/2 up · avg CPU "))
        #expect(out.contains("\nweb "))
        #expect(out.contains(" \(server.pid) "))
        #expect(out.hasSuffix("\nno GPU found (nvidia-smi not available)\n"))

        let (jsonCode, json, _) = try aish(["--json", "-c", "status"])
        #expect(jsonCode == 0)
        let value = try JSONValue.parse(json.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(value["services"]?[0]?["pid"] == .int(Int(server.pid)))
        #expect(value["services"]?[1]?["name"] == "native")
        #expect(value["services"]?[1]?["state"] == "down")
    }

    @Test
    func smokeScriptPasses() throws {
        defer { server.stop() }
        let script = ServiceFixtures.directory.appendingPathComponent("services-smoke.ai").path
        let (code, out, err) = try aish(["--var", "WEB_PID=\(server.pid)", "-f", script])
        #expect(code == 0, "\(out)\(err)")
        #expect(out.hasSuffix("10 passed, 0 failed\n"))
    }

    @Test
    func serviceFromTheBinaryIsRecordedInTheSessionLog() throws {
        defer { server.stop() }
        let (refused, _, why) = try aish(["-c", "service stop web"])
        #expect(refused == 2)
        #expect(why == """
            aish: service stop: refusing to stop 'web' without confirmation; pass --yes in scripts
            usage: service start|stop|restart|enable|disable NAME [--yes] [--system] [--timeout S]

            """)
        let (code, out, err) = try aish(["-c", "service stop web --yes"])
        #expect(code == 0, "\(err)")
        #expect(out == "web: web.service stopped (systemctl --user stop -- web.service)\n")
        #expect(dir.read("argv") == """
            --user
            show
            --property=LoadState
            --value
            --
            web.service
            --user
            stop
            --
            web.service

            """)
        let db = try Database(path: dir.path + "/aish.db")
        let s = try db.prepare("SELECT action, service, unit, ok FROM service_actions")
        var rows: [String] = []
        while try s.step() { rows.append("\(s.string(0)) \(s.string(1)) \(s.string(2)) \(s.int(3))") }
        #expect(rows == ["stop web web.service 1"])
    }
}
