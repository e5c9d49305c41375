import Foundation
import Testing
@testable import AishBase

/// The shell survives what a backend sends (issue 24.5): a Redis reply nested 10,000 deep
/// used to overflow the stack (exit 139) and leave its command `running` in the log.
@Suite struct MisbehavingBackendBinaryTests {
    @Test func aDeeplyNestedRedisReplyFailsTheCommandNotTheShell() throws {
        let redis = try RedisTestServer(fakeArguments: ["--nested", "10000"])
        defer { redis.stop() }
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let config = h.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try """
            providers:
              spare:
                type: vllm
                base_url: http://127.0.0.1:1
                status: disabled
                models: [qwen]
            """.write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try """
            monitoring:
              redis: redis://127.0.0.1:\(redis.port)
            """.write(toFile: config + "/ports.yaml", atomically: true, encoding: .utf8)

        let r = try h.run(["--config", config, "--continue-on-error"],
                          stdin: "report --no-requests --timeout 5s --json\necho still here\n")
        #expect(r.code != 139 && r.stdout.contains("still here"), "exit \(r.code)\n\(r.stderr)")
        let report = try JSONValue.parse(String(r.stdout.prefix { $0 != "\n" }))
        #expect(report["monitoring"]?["redis"]?["error"]?.stringValue
            == "redis 127.0.0.1:\(redis.port): PING: malformed reply: arrays nested deeper than 32 levels (aish's limit)",
            "\(report["monitoring"]?.serialized() ?? r.stdout)")

        let rows = try h.run(["--config", config, "sql", "--json", "SELECT text, status FROM commands ORDER BY id"])
        let parsed = try JSONValue.parse(rows.stdout)
        var statuses: [(String, String)] = []
        if case let .array(list)? = parsed["rows"] {
            for row in list {
                let text: String = row["text"]?.stringValue ?? row[0]?.stringValue ?? ""
                let status: String = row["status"]?.stringValue ?? row[1]?.stringValue ?? ""
                statuses.append((text, status))
            }
        }
        // report failed (the stack is degraded: Redis does not answer) and says so in the log.
        #expect(statuses.first?.0.hasPrefix("report") == true && statuses.first?.1 == "error", "\(rows.stdout)")
        #expect(statuses.dropFirst().first.map { $0 == ("echo still here", "ok") } == true, "\(statuses)")
    }
}
