import Foundation
import Testing
@testable import AishBase
@testable import AishHTTP
@testable import AishTelemetry

/// Decoding of answers recorded from a real Prometheus 2.42 (Tests/Fixtures/Metrics/
/// PrometheusAPI), and the client against the fake Prometheus serving them over HTTP.
@Suite struct PrometheusAPIDecodingTests {
    private static func body(_ name: String) throws -> [UInt8] {
        Array(try MetricsFixtures.text("PrometheusAPI/\(name).json").utf8)
    }

    private func decode(_ name: String, query: String = "q") throws -> PrometheusQueryAnswer {
        try PrometheusAPI.decodeQuery(Self.body(name), query: query, url: "http://p/api/v1/query")
    }

    private func decodeError(_ body: String, query: String = "q") -> PrometheusError? {
        do { _ = try PrometheusAPI.decodeQuery(Array(body.utf8), query: query, url: "http://p/api/v1/query"); return nil } catch let e as PrometheusError {
            return e
        } catch { return nil }
    }

    @Test func vectorWithLabelsInOrder() throws {
        let samples = try decode("vector-up").vector()
        #expect(samples.count == 2)
        #expect(samples[0].labels == [MetricLabel(name: "__name__", value: "up"),
                                      MetricLabel(name: "instance", value: "127.0.0.1:1"),
                                      MetricLabel(name: "job", value: "llama-server")])
        #expect(samples[0].point == PrometheusPoint(time: 1795969916.994, value: 0))
        #expect(samples[1].labels[label: "job"] == "prometheus")
        #expect(samples[1].point.value == 1)
    }

    @Test func emptyVectorAndMatrix() throws {
        let v = try decode("vector-empty")
        #expect(v.result == .vector([]))
        #expect(v.result.isEmpty)
        let m = try decode("matrix-empty")
        #expect(m.result == .matrix([]))
        #expect(m.result.isEmpty)
        #expect(v.warnings.isEmpty)
    }

    @Test func nanAndInfinity() throws {
        let nan = try decode("vector-nan").vector()
        #expect(nan.count == 1)
        #expect(nan[0].labels.isEmpty)
        #expect(nan[0].point.value.isNaN)
        let inf = try decode("vector-inf").vector()
        #expect(inf[0].point.value == .infinity)
        #expect(PrometheusAPI.sampleValue("-Inf") == -.infinity)
        #expect(PrometheusAPI.sampleValue("1e+06") == 1_000_000)
        #expect(PrometheusAPI.sampleValue("0e+00") == 0)
        #expect(PrometheusAPI.sampleValue("fast") == nil)
    }

    @Test func histogramQuantileOfClassicBuckets() throws {
        let s = try decode("histogram-quantile").vector()
        #expect(s.count == 1)
        #expect(s[0].labels == [MetricLabel(name: "instance", value: "127.0.0.1:19090"),
                                MetricLabel(name: "job", value: "prometheus")])
        #expect(abs(s[0].point.value - 0.09) < 1e-12)
    }

    @Test func matrixSeriesAndPoints() throws {
        let m = try decode("matrix-rate").matrix()
        #expect(m.count == 2)
        #expect(m[1].labels[label: "handler"] == "/metrics")
        #expect(m[1].points == [PrometheusPoint(time: 1795969912, value: 0.49820000000000003),
                                PrometheusPoint(time: 1795969917, value: 1)])
        #expect(throws: PrometheusError.self) { try decode("vector-up").matrix() }
    }

    @Test func scalarAndString() throws {
        #expect(try decode("scalar").result == .scalar(PrometheusPoint(time: 1795969917.261, value: 0.25)))
        #expect(try decode("scalar").vector() == [PrometheusSample(labels: [], point: PrometheusPoint(time: 1795969917.261, value: 0.25))])
        #expect(try decode("string").result == .string("hello", at: 1795969917.342))
    }

    @Test func errorEnvelopesNameTheirKind() throws {
        let bad = try #require(decodeError(String(decoding: Self.body("error-bad-data"), as: UTF8.self), query: "rate(up[5m"))
        #expect(bad.kind == .badQuery)
        #expect(bad.errorType == "bad_data")
        #expect(bad.description == #"Prometheus at http://p/api/v1/query rejected the query: invalid parameter "query": 1:11: parse error: unclosed left parenthesis"#)
        #expect(bad.verboseDescription.hasSuffix("\n  PromQL: rate(up[5m"))
        let exec = try #require(decodeError(String(decoding: Self.body("error-execution"), as: UTF8.self)))
        #expect(exec.kind == .execution)
        #expect(exec.description.hasPrefix("Prometheus at http://p/api/v1/query could not execute the query: found duplicate series"))
        let timeout = try #require(decodeError(String(decoding: Self.body("error-timeout"), as: UTF8.self)))
        #expect(timeout.kind == .timeout)
        #expect(timeout.description == "Prometheus at http://p/api/v1/query: query timed out: query timed out in expression evaluation")
    }

    @Test func answersThatAreNotThePrometheusAPI() {
        #expect(decodeError("")?.description == "Prometheus at http://p/api/v1/query: unexpected answer: empty answer")
        #expect(decodeError("<html>Grafana</html>")?.description.hasPrefix(
            "Prometheus at http://p/api/v1/query: unexpected answer: answer is not JSON (") == true)
        #expect(decodeError(#"{"data":{}}"#)?.description
            == "Prometheus at http://p/api/v1/query: unexpected answer: answer has no status 'success' or 'error' (not a Prometheus API?)")
        #expect(decodeError(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}"#)?.detail
            == "data.result[0].value has the value 2, not a number in a string")
        #expect(decodeError(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"2"]}]}}"#)?.detail
            == "data.result[0].metric.a is not a string")
        #expect(decodeError(#"{"status":"success","data":{"resultType":"exemplars","result":[]}}"#)?.detail
            == "unknown resultType 'exemplars'")
        #expect(decodeError(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{"count":"2"}]}]}}"#)?.detail
            == "the answer holds native histogram samples, which aish does not read; query classic _bucket series")
    }

    @Test func warningsAreKept() throws {
        let a = try PrometheusAPI.decodeQuery(Array(#"{"status":"success","warnings":["partial response"],"data":{"resultType":"vector","result":[]}}"#.utf8),
                                              query: "up", url: "u")
        #expect(a.warnings == ["partial response"])
    }

    @Test func targetsWithHealthAndLastError() throws {
        let t = try PrometheusAPI.decodeTargets(Self.body("targets"), url: "u")
        #expect(t.count == 2)
        #expect(t[0].job == "llama-server")
        #expect(t[0].instance == "127.0.0.1:1")
        #expect(t[0].health == .down)
        #expect(t[0].lastError == #"Get "http://127.0.0.1:1/metrics": dial tcp 127.0.0.1:1: connect: connection refused"#)
        #expect(t[0].scrapeURL == "http://127.0.0.1:1/metrics")
        #expect(t[0].scrapeInterval == "1s")
        #expect(t[1].health == .up)
        #expect(t[1].lastError == nil)
        let when = try #require(t[1].lastScrape)
        #expect(abs(when.timeIntervalSince1970 - 1795969917.509139) < 0.001)
    }

    @Test func firingAlerts() throws {
        let a = try PrometheusAPI.decodeAlerts(Self.body("alerts"), url: "u")
        #expect(a.count == 1)
        #expect(a[0].name == "TargetDown")
        #expect(a[0].state == .firing)
        #expect(a[0].labels[label: "instance"] == "127.0.0.1:1")
        #expect(a[0].summary == "llama-server on 127.0.0.1:1 is down")
        #expect(a[0].value == 0)
        #expect(a[0].activeAt != nil)
    }

    @Test func formEncodingEscapesPromQL() {
        #expect(PrometheusAPI.formEncoded([("query", #"sum by (le) (rate(x_bucket{job=~"a|b"}[5m]))"#), ("step", "5")])
            == "query=sum%20by%20%28le%29%20%28rate%28x_bucket%7Bjob%3D~%22a%7Cb%22%7D%5B5m%5D%29%29&step=5")
        #expect(PrometheusAPI.percentEncoded("é+&") == "%C3%A9%2B%26")
    }

    @Test func rfc3339WithNanoseconds() throws {
        let d = try #require(PrometheusAPI.parseTime("2026-11-29T16:31:57.253467125Z"))
        #expect(abs(d.timeIntervalSince1970 - 1795969917.253467) < 1e-5)
        #expect(PrometheusAPI.parseTime("2026-11-29T16:31:57Z") != nil)
        #expect(PrometheusAPI.parseTime("0001-01-01T00:00:00Z") == nil)
        #expect(PrometheusAPI.parseTime("yesterday") == nil)
    }
}

/// The client over real HTTP, against the fake Prometheus.
@Suite(.serialized) struct PrometheusAPIClientTests {
    private static func fake(_ args: [String] = []) throws -> MetricsTestServer {
        try MetricsTestServer(script: "Tests/Fixtures/Metrics/fake_prometheus.py",
                              arguments: ["--dir", MetricsFixtures.url("PrometheusAPI").path] + args)
    }

    private static func requests(_ server: MetricsTestServer) throws -> JSONValue {
        try HTTPTransport.fetch(HTTPRequest(url: server.baseURL + "/_fake/requests"), interrupt: nil).json()
    }

    @Test func healthyTargetsAlertsAndQueries() throws {
        let server = try Self.fake(["--route", "matrix-rate.json", "200", "rate(x[5s])",
                                    "--route", "vector-up.json", "200", "up"])
        defer { server.stop() }
        let api = PrometheusAPI(baseURL: server.baseURL + "/", bearerToken: "sk-prom-secret")
        #expect(try api.healthy(interrupt: nil) == "Prometheus Server is Healthy.")
        #expect(try api.targets(interrupt: nil).map(\.health) == [.down, .up])
        #expect(try api.alerts(interrupt: nil).map(\.name) == ["TargetDown"])
        #expect(try api.query("up", interrupt: nil).vector().count == 2)
        let start = Date(timeIntervalSince1970: 1795969912)
        let m = try api.queryRange("rate(x[5s])", start: start, end: start.addingTimeInterval(5), step: 5, interrupt: nil)
        #expect(try m.matrix().count == 2)
        #expect(try api.query("absent_metric", interrupt: nil).result.isEmpty)

        let asked = try Self.requests(server)
        #expect(asked[0]?["path"]?.stringValue == "/-/healthy")
        #expect(asked[1]?["path"]?.stringValue == "/api/v1/targets")
        #expect(asked[3]?["method"]?.stringValue == "POST")
        #expect(asked[3]?["form"] == .object([("query", "up"), ("timeout", "10")]))
        #expect(asked[4]?["form"] == .object([("query", "rate(x[5s])"), ("start", "1795969912.000"),
                                              ("end", "1795969917.000"), ("step", "5"), ("timeout", "10")]))
        #expect(asked[4]?["authorization"]?.stringValue == "Bearer sk-prom-secret")
    }

    @Test func errorStatusesFromTheAPI() throws {
        let server = try Self.fake(["--route", "error-bad-data.json", "400", "rate(up[5m",
                                    "--route", "error-execution.json", "422", "dup",
                                    "--route", "error-timeout.json", "503", "slow"])
        defer { server.stop() }
        let api = PrometheusAPI(baseURL: server.baseURL)
        func failure(_ q: String) -> PrometheusError? {
            do { _ = try api.query(q, interrupt: nil); return nil } catch let e as PrometheusError { return e } catch { return nil }
        }
        let bad = try #require(failure("rate(up[5m"))
        #expect(bad.kind == .badQuery)
        #expect(bad.description == "Prometheus at \(server.baseURL) rejected the query: invalid parameter \"query\": 1:11: parse error: unclosed left parenthesis")
        #expect(bad.query == "rate(up[5m")
        #expect(failure("dup")?.kind == .execution)
        let slow = try #require(failure("slow"))
        #expect(slow.kind == .timeout)
        #expect(slow.description == "Prometheus at \(server.baseURL): query timed out: query timed out in expression evaluation")
    }

    @Test func notAPrometheus() throws {
        let server = try Self.fake()
        defer { server.stop() }
        let api = PrometheusAPI(baseURL: server.baseURL + "/grafana")
        #expect(throws: PrometheusError.self) { try api.healthy(interrupt: nil) }
        do { _ = try api.targets(interrupt: nil) } catch let e as PrometheusError {
            #expect(e.kind == .status(404))
            #expect(e.description == "Prometheus at \(server.baseURL)/grafana: HTTP 404: 404 page not found")
        }
    }

    @Test func downWhenNothingListens() throws {
        let port = ChildProcess.closedPort()
        let api = PrometheusAPI(baseURL: "http://127.0.0.1:\(port)")
        do {
            _ = try api.query("up", interrupt: nil)
            Issue.record("a query to a closed port succeeded")
        } catch let e as PrometheusError {
            #expect(e.kind == .down)
            #expect(e.description.hasPrefix("Prometheus at http://127.0.0.1:\(port) is down: connection failed: "))
        }
    }

    @Test func timeoutWhenTheServerStopsAnswering() throws {
        let server = try Self.fake(["--delay", "3"])
        defer { server.stop() }
        // The fake answers after 3 s; the transport waits 0.1 + 0.4 s.
        var api = PrometheusAPI(baseURL: server.baseURL, queryTimeout: 0.1)
        api.transportGrace = 0.4
        do {
            _ = try api.query("up", interrupt: nil)
            Issue.record("a query to a stalled server succeeded")
        } catch let e as PrometheusError {
            #expect(e.kind == .timeout)
            #expect(e.description.hasPrefix("Prometheus at \(server.baseURL): query timed out: "))
        }
    }
}
