import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishGateway

/// Where the report looks for Prometheus, Grafana and Redis.
@Suite struct MonitoringTargetsTests {
    func config(ports: String) throws -> AishConfig {
        var template = Array("/tmp/aish-montargets-XXXXXX".utf8CString)
        let dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "providers:\n  one:\n    type: vllm\n    base_url: http://127.0.0.1:8000\n    status: active\n    models: [m]\n"
            .write(toFile: dir + "/providers.yaml", atomically: true, encoding: .utf8)
        try ports.write(toFile: dir + "/ports.yaml", atomically: true, encoding: .utf8)
        return ConfigLoader.load(directory: dir).config
    }

    @Test func theMonitoringSectionComesFirst() throws {
        let t = MonitoringTargets.resolve(try config(ports: """
            monitoring:
              prometheus: http://10.0.0.5:9090/prom
              prometheus_key_env: PROM_TOKEN
              grafana: http://10.0.0.5:3000
              redis: redis://10.0.0.6:6380
            prometheus:
              port: 9091
            """))
        #expect(t.prometheus == "http://10.0.0.5:9090/prom")
        #expect(t.prometheusKeyVariable == "PROM_TOKEN")
        #expect(t.grafana == "http://10.0.0.5:3000")
        #expect(t.redisHost == "10.0.0.6" && t.redisPort == 6380)
    }

    @Test func servicesNamedLikeThemOtherwise() throws {
        let t = MonitoringTargets.resolve(try config(ports: """
            prometheus-main:
              port: 9090
              health_check: "curl -f http://127.0.0.1:9090/-/healthy"
            grafana:
              port: 3000
            redis:
              port: 6379
              health_check: "redis-cli -p 6379 ping"
            """))
        #expect(t.prometheus == "http://127.0.0.1:9090")
        #expect(t.grafana == "http://127.0.0.1:3000")
        #expect(t.redisHost == "127.0.0.1" && t.redisPort == 6379)
        #expect(MonitoringTargets.resolve(try config(ports: "api:\n  port: 8000\n")).configuredCount == 0)
    }
}
