import Foundation
import Testing
@testable import AishBase
@testable import AishBenchmarks
@testable import AishTelemetry
@testable import AishYAML

/// Every recursive decoder of what a server or a file sends bounds its depth with an error
/// naming the limit (issue 24.5): 10,000 levels of nesting, of each kind a format has, are
/// an error, not a stack overflow. They run on a worker thread's 1 MiB stack, where requests
/// are decoded.
@Suite struct DeepInputTests {
    static let levels = 10_000

    /// Runs `body` on a `WorkerThread` (1 MiB of stack) and returns what it returned.
    static func onWorkerThread(_ body: @escaping @Sendable () -> String?) -> String? {
        let result = Locked<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        WorkerThread.start {
            result.withLock { $0 = body() }
            done.signal()
        }
        done.wait()
        return result.value
    }

    static func jsonError(_ text: String) -> String? {
        onWorkerThread {
            do { _ = try JSONValue.parse(text); return nil } catch { return "\(error)" }
        }
    }

    @Test func jsonArraysObjectsAndBoth() {
        let n = Self.levels
        let deep: [String] = [
            String(repeating: "[", count: n) + String(repeating: "]", count: n),
            String(repeating: #"{"a":"#, count: n) + "1" + String(repeating: "}", count: n),
            String(repeating: #"[{"a":"#, count: n / 2) + "1" + String(repeating: "}]", count: n / 2),
            String(repeating: "[", count: n),   // never closed
        ]
        for text in deep {
            let error = Self.jsonError(text)
            #expect(error?.hasSuffix("nesting deeper than 512 levels") == true, "\(error ?? "parsed")")
        }
        // At the limit it parses, on the same stack, and the value serialises back.
        let limit = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        let back = Self.onWorkerThread { (try? JSONValue.parse(limit))?.serialized() }
        #expect(back == limit)
    }

    @Test func prometheusAnswersDecodeDirectlyAndThroughTheTree() {
        let n = Self.levels
        let body = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"],"x":"#
            + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "}]}}"
        let error = Self.onWorkerThread {
            do { _ = try PrometheusAPI.decodeQuery(Array(body.utf8), query: "up", url: "http://p/api/v1/query"); return nil } catch { return "\(error)" }
        }
        #expect(error?.contains("nesting deeper than 512 levels") == true, "\(error ?? "decoded")")
        #expect(Fuzzing.prometheusAnswerDifference(Array(body.utf8)) == nil)
    }

    @Test func yamlFlowBlockAndAliasedNesting() {
        let n = Self.levels
        let documents: [String] = [
            String(repeating: "[", count: n) + String(repeating: "]", count: n),
            String(repeating: "{a: ", count: n) + "1" + String(repeating: "}", count: n),
            (0..<1_000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n") + " 1\n",
            String(repeating: "- ", count: n) + "1\n",
        ]
        for text in documents {
            let error = Self.onWorkerThread {
                do { _ = try YAMLParser.parse(text, file: "deep.yaml"); return nil } catch { return "\(error)" }
            }
            #expect(error?.hasSuffix("error: nesting deeper than 64 levels") == true, "\(error ?? "parsed")")
        }
        // Aliases cannot build depth either: each anchor nests the one before 60 levels deeper.
        var chain = "a0: &a0 " + String(repeating: "[", count: 60) + "1" + String(repeating: "]", count: 60) + "\n"
        for i in 1..<200 {
            chain += "a\(i): &a\(i) " + String(repeating: "[", count: 60) + "*a\(i - 1)" + String(repeating: "]", count: 60) + "\n"
        }
        let chained = chain
        let aliased = Self.onWorkerThread {
            do {
                let doc = try YAMLParser.parse(chained, file: "deep.yaml")
                return "parsed, \(doc.root?.jsonValue.serialized().count ?? 0) bytes as JSON"
            } catch { return "\(error)" }
        }
        #expect(aliased == "deep.yaml:2:69: error: alias '*a0' nests the document deeper than 64 levels", "\(aliased ?? "")")
    }

    @Test func prometheusTextHasNoNestingToOverflow() {
        let n = Self.levels
        for text in ["x" + String(repeating: "{", count: n) + " 1\n",
                     "x{" + (0..<n).map { "l\($0)=\"v\"" }.joined(separator: ",") + "} 1\n"] {
            let outcome = Self.onWorkerThread {
                do { return "parsed \(try PrometheusText.parse(text, source: "t").samples(named: "x").count)" } catch { return "\(error)" }
            }
            #expect(outcome != nil)
        }
    }
}
