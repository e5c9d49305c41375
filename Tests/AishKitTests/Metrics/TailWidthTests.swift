import Foundation
import Testing
@testable import AishBase
@testable import AishMeasure
@testable import AishTelemetry

/// `tail metrics` at a terminal of a given width: the table fits, the TREND column stays
/// whole, label sets keep what tells series apart, `--json` keeps every label.
@Suite struct TailWidthTests {
    static func points(_ values: [Double]) -> [PrometheusPoint] {
        values.enumerated().map { PrometheusPoint(time: 1_795_969_900 + Double($0.offset) * 5, value: $0.element) }
    }

    static func catalog(_ name: String) -> KeySeriesDefinition { KeySeriesCatalog.all.first { $0.name == name }! }

    /// What Prometheus gives for the local stack: the gateway's deployments (LiteLLM labels
    /// each with api_base and the same litellm_model_name), the native llama-server, and the
    /// Python server, whose /metrics is missing (a long scrape error).
    static func stackReport() -> PrometheusMetricsReport {
        let ramp = points((0..<60).map { Double($0 % 12) })
        func state(_ base: String) -> PrometheusMetricsReport.Series {
            .init(definition: catalog("deployment_state"), source: "litellm_deployment_state",
                  labels: [MetricLabel(name: "api_base", value: base),
                           MetricLabel(name: "litellm_model_name", value: "openai/smollm2-135m-instruct-q8_0")].canonicalText,
                  points: points(Array(repeating: 0, count: 60)))
        }
        let gateway = PrometheusMetricsReport.Target(
            host: "127.0.0.1", instance: "127.0.0.1:4000", job: "litellm_gateway", provider: "litellm_gateway", health: "up",
            lastError: nil, series: [
                .init(definition: catalog("requests_total"), source: "litellm_proxy_total_requests_metric_total", labels: "",
                      points: ramp),
                state("http://127.0.0.1:8000/v1"), state("http://127.0.0.1:8080/v1"),
            ])
        let native = PrometheusMetricsReport.Target(
            host: "127.0.0.1", instance: "127.0.0.1:8080", job: "llama_cpp_native", provider: "llama_cpp_native", health: "up",
            lastError: nil, series: [
                .init(definition: catalog("requests_running"), source: "llamacpp:requests_processing", labels: "", points: ramp),
                .init(definition: catalog("generation_tokens_total"), source: "llamacpp:tokens_predicted_total", labels: "",
                      points: ramp),
            ])
        let python = PrometheusMetricsReport.Target(
            host: "127.0.0.1", instance: "127.0.0.1:8000", job: "llama_cpp_python", provider: "llama_cpp_python",
            health: "down", lastError: "server returned HTTP status 404 Not Found while scraping http://127.0.0.1:8000/metrics; the Python server has no /metrics endpoint",
            series: [])
        return PrometheusMetricsReport(prometheus: "http://127.0.0.1:9090", windowMs: 300_000, stepMs: 5000,
                                       targets: [gateway, native, python], errors: [], promql: [], unreachable: nil)
    }

    @Test(arguments: [80, 160])
    func theTableFitsAndKeepsItsTrendColumn(width: Int) throws {
        let rows = TailCommand.prometheusRows(Self.stackReport())
        let lines = TailMetricsView.table(rows, width: width).split(separator: "\n").map(String.init)
        #expect(lines.count == rows.count + 1)
        for line in lines { #expect(line.count < width, "\(line.count): \(line)") }
        // Every series row ends with its whole twelve-tick sparkline.
        for (row, line) in zip(rows, lines.dropFirst()) where row.error == nil {
            #expect(row.trend.count == 12)
            #expect(line.hasSuffix(row.trend), "\(line)")
        }
        #expect(lines[0].hasPrefix("PROVIDER "))
        #expect(lines[0].hasSuffix("TREND"))
        // The down target is one line, cut to the width, without widening the columns.
        let down = try #require(lines.first { $0.hasPrefix("llama_cpp_python 127.0.0.1:8000  error: down: server returned HTTP status 404") })
        #expect(down.count == width - 1 && down.hasSuffix("…"))
    }

    @Test func at160ColumnsTheDistinguishingLabelIsWhole() {
        let rows = TailCommand.prometheusRows(Self.stackReport())
        let table = TailMetricsView.table(rows, width: 160)
        // litellm_model_name is the same for both deployments: left out; api_base tells them apart.
        #expect(table.contains(#"  deployment_state{api_base="http://127.0.0.1:8000/v1"}  0 healthy  "#))
        #expect(table.contains(#"  deployment_state{api_base="http://127.0.0.1:8080/v1"}  0 healthy  "#))
        #expect(!table.contains("litellm_model_name"))
        // The rows keep the full set (--json and the plain lines print `series`).
        #expect(rows[1].series == #"deployment_state{api_base="http://127.0.0.1:8000/v1",litellm_model_name="openai/smollm2-135m-instruct-q8_0"}"#)
        #expect(TailCommand.jsonRow(rows[1])["series"]?.stringValue == rows[1].series)
        #expect(TailMetricsView.plainLines([rows[1]], at: Date()).contains(rows[1].series))
    }

    @Test func at80ColumnsLabelValuesKeepTheirEnds() {
        let rows = TailCommand.prometheusRows(Self.stackReport())
        let lines = TailMetricsView.table(rows, width: 80).split(separator: "\n").map(String.init)
        // The providers give way first; the api_base values keep the end that tells them apart.
        #expect(lines[2].hasPrefix(#"litellm_gateway…  deployment_state{api_base="…000/v1"}  0 healthy  "#), "\(lines[2])")
        #expect(lines[3].hasPrefix(#"litellm_gateway…  deployment_state{api_base="…080/v1"}  0 healthy  "#), "\(lines[3])")
    }

    @Test func fitCutsLabelValuesFromTheFront() {
        let labels = [MetricLabel(name: "api_base", value: "http://127.0.0.1:8000/v1"), MetricLabel(name: "m", value: "abc")]
        #expect(TailMetricsView.fit(base: "s", labels: labels, width: 100) == #"s{api_base="http://127.0.0.1:8000/v1",m="abc"}"#)
        #expect(TailMetricsView.fit(base: "s", labels: labels, width: 30) == #"s{api_base="…8000/v1",m="abc"}"#)
        #expect(TailMetricsView.fit(base: "s", labels: labels, width: 30).count <= 30)
        // Past what values can give, the end is cut.
        #expect(TailMetricsView.fit(base: "s", labels: labels, width: 12) == #"s{api_base=…"#)
    }

    @Test func withoutAWidthNothingIsCutButConstantLabelsAreLeftOut() {
        let rows = TailCommand.prometheusRows(Self.stackReport())
        let table = TailMetricsView.table(rows)
        #expect(table.contains("error: down: server returned HTTP status 404 Not Found while scraping http://127.0.0.1:8000/metrics; the Python server has no /metrics endpoint\n"))
        #expect(!table.contains("…"))
        #expect(!table.contains("litellm_model_name"))
    }

    @Test func whichLabelsAreShown() {
        func row(_ provider: String, _ name: String, _ labels: [MetricLabel]) -> TailMetricsView.Row {
            TailMetricsView.Row(provider: provider, series: name + labels.canonicalText, now: "1", value: 1, trend: "",
                                error: nil, labels: labels.canonicalText)
        }
        let rows = [
            row("a", "x", [.init(name: "engine", value: "0"), .init(name: "model", value: "m1")]),
            row("a", "x", [.init(name: "engine", value: "0"), .init(name: "model", value: "m2")]),
            // One series of its name: no label tells it apart from another.
            row("a", "y", [.init(name: "model", value: "m1")]),
            // Another provider's series of the same name are a group of their own.
            row("b", "x", [.init(name: "engine", value: "0"), .init(name: "model", value: "m1")]),
            row("b", "x", [.init(name: "engine", value: "1"), .init(name: "model", value: "m1")]),
            // A label only some series carry tells them apart; values with quotes and commas survive.
            row("c", "z", [.init(name: "k", value: #"a "q", b"#)]),
            row("c", "z", []),
        ]
        #expect(TailMetricsView.shortSeries(rows) == [
            #"x{model="m1"}"#, #"x{model="m2"}"#, "y", #"x{engine="0"}"#, #"x{engine="1"}"#, #"z{k="a \"q\", b"}"#, "z",
        ])
    }

    @Test func labelSetText() {
        let labels = [MetricLabel(name: "a", value: "x\\y"), MetricLabel(name: "b", value: "line\nnext \"q\"")]
        #expect(LabelSetText.parse(labels.canonicalText) == labels)
        #expect(LabelSetText.parse("{}") == [])
        for bad in ["", "{a=x}", "{a=\"x\"", "{a=\"x\"b=\"y\"}", "{=\"x\"}", "a=\"x\""] { #expect(LabelSetText.parse(bad) == nil, "\(bad)") }
    }
}
