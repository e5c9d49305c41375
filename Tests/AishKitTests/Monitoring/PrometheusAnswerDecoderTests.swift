import Foundation
import Testing
@testable import AishBase
@testable import AishBenchmarks
@testable import AishTelemetry

/// The direct decoder of query answers against the JSON-tree decoding it replaced: the same
/// answers and the same errors on the recorded answers, on hand-made ones and on thousands
/// of mutations of both (what the `prometheus-api` fuzz target does for longer).
@Suite struct PrometheusAnswerDecoderTests {
    private static func recorded() throws -> [(String, [UInt8])] {
        let dir = try TestPaths.existing("Tests/Fixtures/Metrics/PrometheusAPI")
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }.sorted().map {
            ($0, Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0))))
        }
    }

    private func decode(_ body: String) throws -> PrometheusQueryAnswer {
        try PrometheusAPI.decodeQuery(Array(body.utf8), query: "q", url: "u")
    }

    private func detail(_ body: String) -> String? {
        do { _ = try decode(body); return nil } catch let e as PrometheusError { return e.detail } catch { return "\(error)" }
    }

    @Test func everyRecordedAnswerDecodesAsTheTreeDecodesIt() throws {
        let answers = try Self.recorded()
        #expect(answers.count >= 15)
        for (name, body) in answers {
            #expect(Fuzzing.prometheusAnswerDifference(body) == nil, "\(name)")
        }
        let m = try PrometheusAPI.decodeQuery(answers.first { $0.0 == "matrix-rate.json" }!.1, query: "q", url: "u").matrix()
        #expect(m.count == 2 && m[1].points.count == 2)
    }

    @Test func keysInAnyOrderUnknownKeysAndDuplicates() throws {
        let expected = PrometheusQueryAnswer(result: .matrix([PrometheusSeries(
            labels: [MetricLabel(name: "job", value: "j\u{e9}😀"), MetricLabel(name: "instance", value: "a:1")],
            points: [PrometheusPoint(time: 1795969912, value: 0.49820000000000003), PrometheusPoint(time: 1795969917.5, value: .nan),
                     PrometheusPoint(time: 1.5e9, value: .infinity), PrometheusPoint(time: -2, value: -.infinity),
                     PrometheusPoint(time: 3, value: 1e6)])]), warnings: ["partial"])
        let usual = #"{"status":"success","warnings":["partial"],"data":{"resultType":"matrix","result":[{"metric":{"job":"j\u00e9\ud83d\ude00","instance":"a:1"},"values":[[1795969912,"0.49820000000000003"],[1795969917.5,"NaN"],[1.5e9,"+Inf"],[-2,"-Inf"],[3,"1e+06"]]}]}}"#
        // result before resultType, status last, unknown keys of every kind, later duplicates ignored.
        let shuffled = #"""
            { "data" : { "stats": {"timings": [1, 2.5, null, true]}, "result" : [ { "values" : [[1795969912,"0.49820000000000003"],[1795969917.5,"NaN"],[1.5e9,"+Inf"],[-2,"-Inf"],[3,"1e+06"]],
              "metric": {"job":"j\u00e9\ud83d\ude00","instance":"a:1"}, "metric": {"ignored": 1}, "values": 7 } ], "resultType" : "matrix", "result": null },
              "warnings": ["partial", 3], "infos": [], "data": 1, "status" : "success", "status": "error" }
            """#
        #expect(try decode(usual) == expected)
        #expect(try decode(shuffled) == expected)
        #expect(Fuzzing.prometheusAnswerDifference(Array(shuffled.utf8)) == nil)
        let vector = #"{"data":{"result":[{"value":[7,"0.25"],"metric":{"__name__":"up"}}],"resultType":"vector"},"status":"success"}"#
        #expect(try decode(vector) == PrometheusQueryAnswer(
            result: .vector([PrometheusSample(labels: [MetricLabel(name: "__name__", value: "up")], point: PrometheusPoint(time: 7, value: 0.25))]),
            warnings: []))
        #expect(try decode(#"{"data":{"result":[7,"0.25"],"resultType":"scalar"},"status":"success"}"#).result
            == .scalar(PrometheusPoint(time: 7, value: 0.25)))
    }

    @Test func syntaxErrorsNameTheirByteAndWinOverShapeErrors() {
        #expect(detail(#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"],]}]}}"#)
            == #"answer is not JSON (invalid JSON at byte 91: unexpected character): '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values'"#)
        // The first item is already wrong, yet the broken end of the text is what is reported.
        #expect(detail(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":5},"#)?
            .hasPrefix("answer is not JSON (invalid JSON at byte 73: unexpected end of input)") == true)
        #expect(detail(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"\x"}}]}}"#)?
            .hasPrefix("answer is not JSON (invalid JSON at byte 77: bad escape)") == true)
        #expect(detail(String(repeating: "[", count: 600))?.hasPrefix("answer is not JSON (invalid JSON at byte 512: nesting deeper than 512 levels)") == true)
        #expect(detail("") == "empty answer")
    }

    @Test func shapeErrorsNameThePathInTheOrderTheTreeFindsThem() {
        // Labels are checked before values whatever the key order.
        #expect(detail(#"{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,2]],"metric":{"a":1}}]}}"#)
            == "data.result[0].metric.a is not a string")
        #expect(detail(#"{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,"1"],[2,{"v":[1.50,true]}]]}]}}"#)
            == #"data.result[0].values[1] has the value {"v":[1.5,true]}, not a number in a string"#)
        #expect(detail(#"{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,"1"]]},{"values":[["1","1"]]}]}}"#)
            == #"data.result[1].values[0] is not [time, "value"]"#)
        #expect(detail(#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{}}]}}"#) == "data.result[0] has no values")
        #expect(detail(#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"x"],"histogram":[1,{}]}]}}"#)
            == PrometheusAPI.nativeHistogramMessage)
        #expect(detail(#"{"status":"success","data":{"resultType":"vector","result":{}}}"#) == "data.result of a vector is not an array")
        #expect(detail(#"{"status":"success","data":{"result":[],"resultType":7}}"#) == "no data.resultType in the answer")
        #expect(detail(#"{"status":"success","data":{"resultType":"vector"}}"#) == "no data.result in the answer")
        #expect(detail(#"{"data":{"result":[],"resultType":"exemplars"},"status":"success"}"#) == "unknown resultType 'exemplars'")
        #expect(detail(#"[{"status":"success"}]"#) == "answer has no status 'success' or 'error' (not a Prometheus API?)")
    }

    @Test func mutatedAnswersDecodeAsTheTreeDecodesThem() throws {
        var fuzzer = Fuzzer(target: "prometheus-api", seed: 29)
        fuzzer.corpus += try Self.recorded().map(\.1)
        var differences: [String] = []
        for _ in 0..<6000 {
            let input = fuzzer.mutate(fuzzer.corpus[fuzzer.random.below(fuzzer.corpus.count)])
            if let d = Fuzzing.prometheusAnswerDifference(input) {
                differences.append("\(d) for \(Fuzzing.escaped(input))")
            }
        }
        let firstDifferences = differences.prefix(2).joined(separator: "\n")
        #expect(differences.count == 0, "\(firstDifferences)")
    }

    @Test func decimalsAreReadAsDoubleReadsThem() {
        var random = SplitMix64(seed: 5)
        var texts = ["0", "-0", "0.0", "-0.0", "1e+06", "1E-07", "123456789012345", "1234567890123456", "0.1", "9007199254740993",
                     "1.7976931348623157e308", "5e-324", "1e22", "1e23", "1.e5", ".5", "+1", "1e", "--1", "0x10", "1_0", "", "-", "1.5.2"]
        for _ in 0..<20000 {
            var t = random.below(4) == 0 ? "-" : ""
            t += String((random.next() % 10_000_000_000_000_000) >> UInt64(random.below(60)))
            if random.below(2) == 0 { t += "." + String((random.next() % 1_000_000) >> UInt64(random.below(20))) }
            if random.below(3) == 0 { t += ["e", "E", "e+", "e-"][random.below(4)] + String(random.below(30)) }
            texts.append(t)
        }
        for t in texts {
            let fast = Array(t.utf8).withUnsafeBufferPointer { DecimalText.value($0) }
            if let fast { #expect(fast.bitPattern == Double(t)!.bitPattern, "\(t)") }
            let int = Array(t.utf8).withUnsafeBufferPointer { DecimalText.integer($0) }
            if let int { #expect(int == Int(t), "\(t)") }
        }
        #expect(Array("0.25".utf8).withUnsafeBufferPointer { DecimalText.value($0) } == 0.25)
        #expect(Array("NaN".utf8).withUnsafeBufferPointer { DecimalText.value($0) } == nil)
    }
}
