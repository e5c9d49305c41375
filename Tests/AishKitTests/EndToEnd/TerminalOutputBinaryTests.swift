import Foundation
import Testing
@testable import AishBase

/// Issue 24, items 1–3 through the built binary: what reaches a real terminal (a
/// pseudo-terminal, the bytes read back), a pipe, `--json` and the log when a reply, an
/// error body, a Prometheus answer or a process's command line carries escape sequences
/// or secrets.
@Suite(.serialized) struct TerminalOutputBinaryTests {
    static let hostile = "Title \u{1B}]0;pwned\u{07} clear \u{1B}[2J\u{1B}[H clip \u{1B}]52;c;aGk=\u{07} csi \u{9B}31m key sk-proj-ABCDEFGH12345678 done"

    /// Runs aish with stdin, stdout and stderr on a new pseudo-terminal; returns every byte
    /// the terminal received (the terminal's output processing turns "\n" into "\r\n").
    static func onTerminal(_ aish: BinaryHarness, _ arguments: [String], extraEnvironment: [String: String] = [:]) throws -> (bytes: [UInt8], code: Int32) {
        let script = """
            import os, pty, sys
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:])
            out = bytearray()
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            _, status = os.waitpid(pid, 0)
            sys.stdout.buffer.write(bytes(out))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, AishBinary.path] + arguments
        p.environment = aish.environment.merging(["NO_COLOR": "1", "TERM": "xterm"]) { $1 }.merging(extraEnvironment) { $1 }
        p.currentDirectoryURL = URL(fileURLWithPath: aish.home)
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (Array(data), p.terminationStatus)
    }

    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// A config with one llama.cpp provider at `url`, reached as model `m`.
    static func config(_ aish: BinaryHarness, providerURL url: String, ports: String = "") throws -> String {
        let config = aish.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try """
            providers:
              local:
                type: llama_cpp
                base_url: \(url)
                status: active
                models:
                  - name: local-model

            """.write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try """
            exact_matches:
              m:
                provider: local

            """.write(toFile: config + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        if !ports.isEmpty { try ports.write(toFile: config + "/ports.yaml", atomically: true, encoding: .utf8) }
        return config
    }

    @Test func aReplysEscapeSequencesShowVisiblyOnATerminalAndItsSecretsAreMasked() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--reply", Self.hostile])
        defer { fake.stop() }
        let config = try Self.config(aish, providerURL: fake.baseURL)

        let (bytes, code) = try Self.onTerminal(aish, ["--config", config, "chat", "-m", "m", "hello"])
        let screen = Self.text(bytes)
        #expect(code == 0, "\(screen)")
        #expect(!bytes.contains(0x1B), "no escape byte reaches the terminal: \(screen.debugDescription)")
        #expect(!screen.unicodeScalars.contains("\u{9B}"))
        #expect(screen.contains("Title ^[]0;pwned^G clear ^[[2J^[[H clip ^[]52;c;aGk=^G csi <U+009B>31m key *** done\n"), "\(screen)")
        #expect(!screen.contains("ABCDEFGH"))

        // --raw: the reply's bytes as they are, the key still masked.
        let (raw, rawCode) = try Self.onTerminal(aish, ["--config", config, "chat", "--raw", "-m", "m", "hello"])
        #expect(rawCode == 0)
        #expect(Self.text(raw).contains("Title \u{1B}]0;pwned\u{07} clear \u{1B}[2J"))
        #expect(!Self.text(raw).contains("ABCDEFGH"))

        // A pipe gets the exact text; --json escapes it; neither has the key; nor has the log.
        let piped = try aish.run(["--config", config, "chat", "-m", "m", "hello"])
        #expect(piped.stdout == Self.hostile.replacingOccurrences(of: "sk-proj-ABCDEFGH12345678", with: "***") + "\n")
        let json = try aish.run(["--config", config, "--json", "chat", "-m", "m", "hello"])
        #expect(json.stdout.contains(#""reply":"Title \u001b]0;pwned\u0007 clear \u001b[2J\u001b[H clip"#), "\(json.stdout)")
        #expect(!json.stdout.contains("ABCDEFGH"))
        let log = try aish.run(["--json", "sql", "SELECT group_concat(reply, '|') FROM attempts"])
        #expect(log.stdout.contains("key ***"), "\(log.stdout)")
        #expect(!log.stdout.contains("ABCDEFGH"))

        // The same text, shown again from the log by `show` on a terminal.
        let (shown, _) = try Self.onTerminal(aish, ["show"])
        #expect(!shown.contains(0x1B), "\(Self.text(shown).debugDescription)")
        #expect(Self.text(shown).contains("Title ^[]0;pwned^G"), "\(Self.text(shown))")
    }

    @Test func aServersErrorThatEchoesSecretsIsMaskedOnTheScreenInJSONAndInTheLog() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let echoed = "Incorrect API key provided: Bearer sk-proj-OTHERKEY12345678; upstream: -ERR invalid password: hunter2pass \u{1B}]0;x\u{07}"
        let fake = try FakeProviderProcess(["--fail-all", "401", "--error-message", echoed])
        defer { fake.stop() }
        let config = try Self.config(aish, providerURL: fake.baseURL)

        let (bytes, code) = try Self.onTerminal(aish, ["--config", config, "chat", "-m", "m", "hello"])
        let screen = Self.text(bytes)
        #expect(code == 1, "\(screen)")
        #expect(screen.contains("Incorrect API key provided: Bearer ***; upstream: -ERR invalid password: *** ^[]0;x^G"), "\(screen)")
        #expect(!screen.contains("OTHERKEY") && !screen.contains("hunter2pass"))
        #expect(!bytes.contains(0x1B))

        let piped = try aish.run(["--config", config, "--json", "chat", "-m", "m", "hello"])
        #expect(piped.stdout.contains("Bearer ***"), "\(piped.stdout)")
        for text in [piped.stdout, piped.stderr] {
            #expect(!text.contains("OTHERKEY") && !text.contains("hunter2pass"))
        }
        let log = try aish.run(["--json", "sql", "SELECT group_concat(error, '|') FROM attempts"])
        #expect(log.stdout.contains("Bearer ***"), "\(log.stdout)")
        #expect(!log.stdout.contains("OTHERKEY") && !log.stdout.contains("hunter2pass"))
    }

    /// A probe once retitled the terminal and cleared the screen through `metrics --prom`: a
    /// label value and an error body from Prometheus now show visibly, secrets masked.
    @Test func prometheusLabelsAndErrorsCannotDriveTheTerminal() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let answers = aish.home + "/prom"
        try FileManager.default.createDirectory(atPath: answers, withIntermediateDirectories: true)
        let fixtures = MetricsFixtures.url("PrometheusAPI").path
        for name in ["alerts.json", "vector-empty.json", "matrix-empty.json"] {
            try FileManager.default.copyItem(atPath: fixtures + "/" + name, toPath: answers + "/" + name)
        }
        let evilInstance = #"gpu-9:8000\u001b]0;pwned\u0007\u001b[2J"#
        try #"{"status":"success","data":{"activeTargets":[{"discoveredLabels":{},"labels":{"instance":"\#(evilInstance)","job":"vllm"},"scrapePool":"vllm","scrapeUrl":"http://gpu-9:8000/metrics","globalUrl":"http://gpu-9:8000/metrics","lastError":"token=PLAINTOKEN9 refused \u001b[2J","lastScrape":"2026-12-07T05:00:00Z","lastScrapeDuration":0.01,"health":"down","scrapeInterval":"5s","scrapeTimeout":"5s"}],"droppedTargets":[]}}"#
            .write(toFile: answers + "/targets.json", atomically: true, encoding: .utf8)
        try #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"\#(evilInstance)","job":"vllm"},"value":[1795969915,"1"]}]}}"#
            .write(toFile: answers + "/up.json", atomically: true, encoding: .utf8)
        try #"{"status":"error","errorType":"execution","error":"query failed: Authorization: Bearer sk-proj-PROMKEY123456789 rejected \u001b]52;c;aGk=\u0007"}"#
            .write(toFile: answers + "/error.json", atomically: true, encoding: .utf8)
        let up = "max by (instance, job) (max_over_time(up[600s]))"
        let prometheus = try MetricsTestServer(script: "Tests/Fixtures/Metrics/fake_prometheus.py", arguments: [
            "--dir", answers, "--route", "up.json", "200", up, "--route", "error.json", "422", "*",
        ])
        defer { prometheus.stop() }
        let config = try Self.config(aish, providerURL: "http://127.0.0.1:\(FakeProviderProcess.unusedPort())", ports: """
            monitoring:
              prometheus: \(prometheus.baseURL)

            """)

        let (bytes, _) = try Self.onTerminal(aish, ["--config", config, "metrics", "--prom", "--since", "10m"])
        let screen = Self.text(bytes)
        #expect(screen.contains("gpu-9"), "\(screen)")
        #expect(!bytes.contains(0x1B), "\(screen.debugDescription)")
        #expect(screen.contains("^[]0;pwned^G"), "\(screen)")
        #expect(screen.contains("Bearer ***"), "\(screen)")
        #expect(!screen.contains("PROMKEY"))

        let json = try aish.run(["--config", config, "--json", "metrics", "--prom", "--since", "10m"])
        #expect(json.stdout.contains(#"gpu-9:8000\u001b]0;pwned\u0007"#), "\(json.stdout)")
        #expect(!json.stdout.contains("PROMKEY"))

        let (status, _) = try Self.onTerminal(aish, ["--config", config, "status"])
        #expect(!status.contains(0x1B), "\(Self.text(status).debugDescription)")
        #expect(!Self.text(status).contains("PLAINTOKEN9"), "\(Self.text(status))")
    }

    /// `status` (text and --json) and `report` show a backend's command line with its secrets
    /// masked, in each option form.
    @Test func statusAndReportMaskSecretsInProcessCommandLines() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let server = """
            import http.server, os, sys, threading
            s = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            print(s.server_address[1], flush=True)
            threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
            s.serve_forever()
            """
        let secrets = ["sk-live-ABCDEFGH1234567890", "PLAINKEY42", "TOKENVALUE7", "hunter2pw", "AUTHVAL99", "HEADERTOKEN5"]
        let child = try ChildProcess(ChildProcess.python, ["-c", server, "--api-key", secrets[0], "--api-key", secrets[1],
                                                           "--token=" + secrets[2], "--password", secrets[3],
                                                           "--auth", secrets[4], "-H", "Authorization: Bearer " + secrets[5]])
        defer { child.stop() }
        guard let port = Int(child.firstLine()) else { throw CommandFailure("test server did not start") }
        let config = try Self.config(aish, providerURL: "http://127.0.0.1:\(port)", ports: """
            local:
              port: \(port)
              protocol: http

            """)
        let text = try aish.run(["--config", config, "status", "--json"])
        #expect(text.stdout.contains("--api-key *** --api-key *** --token=*** --password *** --auth *** -H Authorization: Bearer ***"),
                "\(text.stdout)")
        let (screen, _) = try Self.onTerminal(aish, ["--config", config, "status"])
        let report = try aish.run(["--config", config, "report", "--no-requests", "--out", aish.home + "/r.md"])
        let file = (try? String(contentsOfFile: aish.home + "/r.md", encoding: .utf8)) ?? ""
        for s in secrets {
            #expect(!text.stdout.contains(s), "\(s)")
            #expect(!Self.text(screen).contains(s), "\(s)")
            #expect(!report.stdout.contains(s) && !file.contains(s), "\(s)")
        }
    }

    /// A Redis that quotes the password it was given in its `-ERR`: `report` on a terminal,
    /// its `--json` and its markdown file show the error with the password masked.
    @Test func aRedisErrorQuotingAPasswordIsMaskedInTheReport() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let redis = try RedisTestServer(fakeArguments: ["--error", "invalid password 'hunter2redis' for user default \u{1B}[2J"])
        defer { redis.stop() }
        let config = try Self.config(aish, providerURL: "http://127.0.0.1:\(FakeProviderProcess.unusedPort())", ports: """
            monitoring:
              redis: redis://127.0.0.1:\(redis.port)

            """)
        let env = ["REDIS_PASSWORD": "hunter2redis"]
        let (bytes, _) = try Self.onTerminal(aish, ["--config", config, "report", "--no-requests", "--out", aish.home + "/r.md"],
                                             extraEnvironment: env)
        let file = try String(contentsOfFile: aish.home + "/r.md", encoding: .utf8)
        #expect(file.contains("invalid password '***' for user default"), "\(file)")
        let json = try aish.run(["--config", config, "--json", "report", "--no-requests"], extraEnvironment: env)
        #expect(json.stdout.contains("invalid password '***'"), "\(json.stdout)")
        for text in [Self.text(bytes), file, json.stdout, json.stderr] {
            #expect(!text.contains("hunter2redis"))
        }
        // aish's own progress line is the only escape sequence (NO_COLOR): the server's is not.
        #expect(!Self.text(bytes).contains("\u{1B}[2J"))
    }
}
