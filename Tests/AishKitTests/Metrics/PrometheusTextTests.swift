import Foundation
import Testing
@testable import AishBase
@testable import AishTelemetry

@Suite struct PrometheusTextTests {
    private func parse(_ text: String) throws -> MetricsExposition { try PrometheusText.parse(text, source: "t") }

    private func error(_ text: String) -> String? {
        do { _ = try PrometheusText.parse(text, source: "t"); return nil } catch let e as PrometheusParseError {
            return e.description
        } catch { return "unexpected \(error)" }
    }

    @Test func helpAndTypeWithEscapes() throws {
        let e = try parse(#"""
            # HELP http_requests_total Requests \\ served,\nby code; \t stays
            # TYPE http_requests_total counter
            http_requests_total{code="200"} 1027
            """#)
        let f = try #require(e.family(named: "http_requests_total"))
        #expect(f.kind == .counter)
        #expect(f.declared)
        #expect(f.help == "Requests \\ served,\nby code; \\t stays")
        #expect(f.samples.count == 1)
        #expect(f.samples[0].labels == [MetricLabel(name: "code", value: "200")])
        #expect(f.samples[0].value == 1027)
    }

    @Test func labelValuesUnescapeBackslashQuoteAndNewline() throws {
        let e = try parse(#"msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9"#)
        let s = try #require(e.samples(named: "msdos_file_access_time_seconds").first)
        #expect(s.labels[label: "path"] == #"C:\DIR\FILE.TXT"#)
        #expect(s.labels[label: "error"] == "Cannot find file:\n\"FILE.TXT\"")
        #expect(s.value == 1.458255915e9)
        #expect(e.family(named: "msdos_file_access_time_seconds")?.kind == .untyped)
        #expect(e.family(named: "msdos_file_access_time_seconds")?.declared == false)
    }

    @Test func specialValuesAndTimestamps() throws {
        let e = try parse("""
            a +Inf
            b -Inf
            c NaN
            d Inf 1395066363000
            e 3.5e-3 -1
            f 12 0
            """)
        #expect(e.samples(named: "a")[0].value == .infinity)
        #expect(e.samples(named: "b")[0].value == -.infinity)
        #expect(e.samples(named: "c")[0].value.isNaN)
        #expect(e.samples(named: "d")[0].value == .infinity)
        #expect(e.samples(named: "d")[0].timestampMs == 1_395_066_363_000)
        #expect(e.samples(named: "e")[0].value == 0.0035)
        #expect(e.samples(named: "e")[0].timestampMs == -1)
        #expect(e.samples(named: "f")[0].timestampMs == 0)
        #expect(e.samples(named: "a")[0].timestampMs == nil)
    }

    @Test func commentsBlankLinesCRLFAndNoFinalNewline() throws {
        let e = try parse("#\n# a free comment\n# HELP\n\n   \r\n  x{a=\"1\",} 2\r\ny{} 3\t 17\n# TYPE z gauge\nz 4")
        #expect(e.families.map(\.name) == ["x", "y", "z"])
        #expect(e.samples(named: "x")[0].labels == [MetricLabel(name: "a", value: "1")])
        #expect(e.samples(named: "y")[0].labels.isEmpty)
        #expect(e.samples(named: "y")[0].timestampMs == 17)
        #expect(e.samples(named: "z")[0].value == 4)
        #expect(e.samples(named: "x")[0].line == 6)
    }

    @Test func histogramSamplesJoinTheirFamily() throws {
        let e = try parse("""
            # HELP http_request_duration_seconds A histogram of the request duration.
            # TYPE http_request_duration_seconds histogram
            http_request_duration_seconds_bucket{le="0.05"} 24054
            http_request_duration_seconds_bucket{le="0.1"} 33444
            http_request_duration_seconds_bucket{le="0.2"} 100392
            http_request_duration_seconds_bucket{le="0.5"} 129389
            http_request_duration_seconds_bucket{le="1"} 133988
            http_request_duration_seconds_bucket{le="+Inf"} 144320
            http_request_duration_seconds_sum 53423
            http_request_duration_seconds_count 144320
            """)
        #expect(e.families.count == 1)
        let f = try #require(e.family(named: "http_request_duration_seconds"))
        #expect(f.kind == .histogram)
        #expect(f.samples.count == 8)
        let h = try #require(e.histogram(named: "http_request_duration_seconds").first)
        #expect(h.buckets.map(\.upperBound) == [0.05, 0.1, 0.2, 0.5, 1, .infinity])
        #expect(h.buckets.last?.cumulativeCount == 144320)
        #expect(h.sum == 53423)
        #expect(h.count == 144320)
    }

    @Test func summaryQuantiles() throws {
        let e = try parse("""
            # TYPE rpc_duration_seconds summary
            rpc_duration_seconds{quantile="0.01"} 3102
            rpc_duration_seconds{quantile="0.5"} 4773
            rpc_duration_seconds{quantile="0.99"} 76656
            rpc_duration_seconds_sum 1.7560473e+07
            rpc_duration_seconds_count 2693
            """)
        #expect(e.family(named: "rpc_duration_seconds")?.samples.count == 5)
        let s = try #require(e.summary(named: "rpc_duration_seconds").first)
        #expect(s.quantiles.map(\.0) == [0.01, 0.5, 0.99])
        #expect(s.quantiles.map(\.1) == [3102, 4773, 76656])
        #expect(s.count == 2693)
    }

    @Test func openMetricsVariants() throws {
        let e = try parse("""
            # TYPE foo counter
            # UNIT foo seconds
            # HELP foo Time spent.
            foo_total{a="b"} 17.0 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
            foo_created{a="b"} 1520872607.123
            # TYPE build info
            build_info{version="1.2"} 1
            {"my.dotted.metric", "label.with.dots"="v"} 5
            # EOF
            this is ignored
            """)
        let foo = try #require(e.family(named: "foo"))
        #expect(foo.kind == .counter)
        #expect(foo.unit == "seconds")
        #expect(foo.samples.map(\.name) == ["foo_total", "foo_created"])
        #expect(e.family(named: "build")?.samples.first?.name == "build_info")
        let dotted = try #require(e.samples(named: "my.dotted.metric").first)
        #expect(dotted.labels == [MetricLabel(name: "label.with.dots", value: "v")])
    }

    @Test func prometheusClientCounterWithCreatedGauge() throws {
        let e = try parse(try MetricsFixtures.text("litellm.prom"))
        #expect(e.family(named: "litellm_proxy_total_requests_metric_total")?.kind == .counter)
        #expect(e.family(named: "litellm_proxy_total_requests_metric_created")?.kind == .gauge)
        #expect(e.samples(named: "litellm_proxy_total_requests_metric_total").count == 3)
        #expect(e.family(named: "litellm_request_total_latency_metric")?.kind == .histogram)
        #expect(e.histogram(named: "litellm_request_total_latency_metric").count == 2)
        #expect(e.family(named: "litellm_request_total_latency_metric_created")?.kind == .gauge)
    }

    @Test func canonicalLabelsIgnoreOrderAndEscape() {
        let a = [MetricLabel(name: "b", value: "x\"y"), MetricLabel(name: "a", value: "1\n")]
        #expect(a.canonicalText == #"{a="1\n",b="x\"y"}"#)
        #expect([MetricLabel]().canonicalText == "")
    }

    @Test func errorsSayWhereAndWhat() {
        #expect(error(#"x{a="b\t"} 1"#) == #"t:1:7: invalid escape '\t' in label value"#)
        #expect(error(#"x{a="b"} 1"# + "\n" + #"y{a="b" 1"#) == "t:2:9: expected ',' or '}' after the value of label 'a'")
        #expect(error(#"x{a="b} 1"#) == "t:1:10: unterminated label value")
        #expect(error("x") == "t:1:2: missing value for 'x'")
        #expect(error("x ") == "t:1:3: missing value for 'x'")
        #expect(error("x one") == "t:1:3: invalid value 'one' for 'x'")
        #expect(error("x 1 12.5") == "t:1:5: invalid timestamp '12.5' for 'x'")
        #expect(error("x 1 2 3") == "t:1:7: unexpected text after the sample of 'x'")
        #expect(error("# TYPE x gauge\n# TYPE x counter") == "t:2:10: second TYPE line for metric 'x'")
        #expect(error("x 1\n# TYPE x gauge") == "t:2:10: TYPE line for metric 'x' comes after its samples")
        #expect(error("# HELP x one\n# HELP x two") == "t:2:8: second HELP line for metric 'x'")
        #expect(error("# TYPE x timer") == "t:1:10: unknown metric type 'timer' for 'x' (expected counter, gauge, histogram, summary or untyped)")
        #expect(error(#"x{a="1",a="2"} 1"#) == "t:1:9: duplicate label 'a'")
        #expect(error(#"x{1a="1"} 1"#) == "t:1:3: invalid label name")
        #expect(error(#"x{a} 1"#) == "t:1:4: expected '=' after label name 'a'")
        #expect(error(#"x{a=1} 1"#) == #"t:1:5: expected '"' to open the value of label 'a'"#)
        #expect(error("1x 1") == "t:1:1: invalid metric name")
        #expect(error("x-y 1") == "t:1:2: invalid character '-' after metric name 'x'")
        #expect(error("# TYPE h histogram\nh_bucket 1") == "t:2:1: histogram bucket 'h_bucket' without an 'le' label")
        #expect(error("# TYPE h histogram\nh_bucket{le=\"x\"} 1") == #"t:2:1: invalid bucket bound le="x" in 'h_bucket'"#)
        #expect(error("# TYPE h histogram\nh 1") == "t:2:1: sample 'h' does not fit histogram 'h' (expected h_bucket, h_sum or h_count)")
        #expect(error("# TYPE s summary\ns 1") == "t:2:1: summary sample 's' without a 'quantile' label")
        #expect(error("é{} 1") == "t:1:1: invalid metric name")
        #expect(error("{a=\"1\"} 1") == "t:1:1: sample without a metric name")
    }

    @Test func columnsCountCharactersNotBytes() {
        #expect(error(#"x{a="é",b="\q"} 1"#) == #"t:1:12: invalid escape '\q' in label value"#)
    }

    @Test func formatsValuesAsTheFormatDoes() {
        #expect(PrometheusText.formatValue(.infinity) == "+Inf")
        #expect(PrometheusText.formatValue(-.infinity) == "-Inf")
        #expect(PrometheusText.formatValue(.nan) == "NaN")
        #expect(PrometheusText.formatValue(3) == "3")
        #expect(PrometheusText.formatValue(0.25) == "0.25")
    }

    @Test func realSamplesParseCompletely() throws {
        for name in ["vllm-v1.prom", "vllm-v0.prom", "llamacpp-native.prom", "llamacpp-kvcache.prom", "litellm.prom"] {
            let text = try MetricsFixtures.text(name)
            let e = try PrometheusText.parse(text, source: name)
            let sampleLines = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.count
            #expect(e.allSamples.count == sampleLines, "\(name)")
            #expect(e.families.allSatisfy { $0.declared }, "\(name): every family has a TYPE line")
        }
    }
}
