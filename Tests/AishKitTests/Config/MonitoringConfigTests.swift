import Foundation
import Testing
@testable import AishBase
@testable import AishConfig

@Suite struct MonitoringConfigTests {
    private static let providers = "providers:\n  a:\n    type: ollama\n    base_url: http://127.0.0.1:11434\n    status: active\n    models: [m]\n"

    private func load(_ ports: String) throws -> (ConfigLoader.Loaded, String) {
        let dir = try ConfigFixtures.directory(["providers.yaml": Self.providers, "ports.yaml": ports])
        return (ConfigLoader.load(directory: dir), dir)
    }

    @Test func fromTheDeploymentsPortsServices() throws {
        let c = ConfigLoader.load(directory: ConfigFixtures.gathewhy).config
        let m = c.monitoring
        #expect(m.prometheus?.url == "http://127.0.0.1:9090")
        #expect(m.prometheus?.origin == "ports.yaml service 'prometheus'")
        #expect(m.grafana?.url == "http://127.0.0.1:3000")
        #expect(m.redis?.url == "redis://127.0.0.1:6379")
        #expect(m.redisHostPort?.host == "127.0.0.1")
        #expect(m.redisHostPort?.port == 6379)
        #expect(m.queryTimeout == 10)
    }

    @Test func theSectionWinsOverServices() throws {
        let (loaded, dir) = try load("""
            prometheus:
              port: 9090
            monitoring:
              prometheus: https://prom.example.net/prometheus
              prometheus_key_env: PROM_TOKEN
              query_timeout: 2.5
              redis: redis://cache.example.net:6380
            """)
        #expect(loaded.findings.isEmpty, "\(loaded.findings)")
        let m = loaded.config.monitoring
        #expect(m.prometheus?.url == "https://prom.example.net/prometheus")
        #expect(m.prometheus?.origin == "monitoring.prometheus")
        #expect(m.prometheus?.location == SourceLocation(file: dir + "/ports.yaml", line: 4, column: 15))
        #expect(m.prometheusKeyVariable == "PROM_TOKEN")
        #expect(m.queryTimeout == 2.5)
        #expect(m.grafana == nil)
        #expect(m.redisHostPort?.host == "cache.example.net")
        #expect(m.redisHostPort?.port == 6380)
        #expect(loaded.config.ports.services.map(\.name) == ["prometheus"])
    }

    @Test func badValuesNameFileLineAndColumn() throws {
        let (loaded, dir) = try load("""
            monitoring:
              prometheus: prom:9090
              redis: http://127.0.0.1:6379
              prometheus_key_env: "1 bad"
              query_timeout: 0
              grafanna: http://127.0.0.1:3000
            """)
        #expect(loaded.findings.map(\.description) == [
            "\(dir)/ports.yaml:6:3: warning: unknown key 'grafanna' in monitoring (did you mean 'grafana'?)",
            "\(dir)/ports.yaml:2:15: error: monitoring.prometheus must be a URL like http://127.0.0.1:9090, found 'prom:9090'",
            "\(dir)/ports.yaml:3:10: error: monitoring.redis must be a URL like redis://127.0.0.1:6379, found 'http://127.0.0.1:6379'",
            "\(dir)/ports.yaml:4:23: error: monitoring.prometheus_key_env must name an environment variable (letters, digits, _), found '1 bad'",
            "\(dir)/ports.yaml:5:18: error: monitoring.query_timeout must be between 0 and 600 seconds, found 0",
        ])
        #expect(!loaded.usable)
    }

    @Test func noMonitoringAtAll() throws {
        let (loaded, _) = try load("ollama:\n  port: 11434\n")
        #expect(loaded.config.monitoring == MonitoringConfig())
        #expect(LiteLLMGenerator.cacheSettings(loaded.config).isEmpty)
    }

    @Test func generatedGatewayConfigCachesInTheNamedRedis() throws {
        let (loaded, _) = try load("redis:\n  port: 6390\n  protocol: tcp\n")
        let text = LiteLLMGenerator.text(loaded.config)
        #expect(text.contains("""
            litellm_settings:
              callbacks:
                - prometheus
              drop_params: true
              cache: true
              cache_params:
                type: redis
                host: "127.0.0.1"
                port: 6390
            """))
    }
}
