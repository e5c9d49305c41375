import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishScript

@Suite struct ExpectationTests {
    static let chatResult = CommandResult(
        status: .ok, text: "", fields: [("ttft", .double(312.5)), ("latency", .int(1800)), ("tokens", .int(12)),
                                        ("provider", .string("ollama"))],
        data: .object([("models", .array([.object([("name", "llama3")]), .object([("name", "qwen")])])),
                       ("reply", .string(#"{"answer": 42}"#))]),
        reply: "Hello there, operator")

    func check(_ words: String, _ result: CommandResult? = chatResult) throws -> (Bool, String) {
        let e = try Expectation.parse(words.split(separator: " ").map(String.init))
        let (passed, actual) = e.check(result)
        return (passed, actual)
    }

    @Test func status() throws {
        #expect(try check("ok") == (true, "ok"))
        #expect(try check("error") == (false, "ok"))
        #expect(try check("ok", .failure("boom")) == (false, "error: boom"))
        #expect(try check("ok", nil) == (false, "no command has run yet"))
    }

    @Test func containsAndMatches() throws {
        #expect(try check("contains there").0)
        #expect(try check("not contains nope").0)
        #expect(try check("contains nope") == (false, #""Hello there, operator""#))
        #expect(try check("matches ^Hel+o").0)
        #expect(try check("not matches ^x").0)
        #expect(try check("contains boom", .failure("boom")).0)
    }

    @Test func numericFieldsWithUnits() throws {
        #expect(try check("ttft < 500ms").0)
        #expect(try check("ttft < 0.3s") == (false, "312.5ms"))
        #expect(try check("latency < 2s").0)
        #expect(try check("latency >= 1800").0)
        #expect(try check("tokens >= 1").0)
        #expect(try check("tokens == 12").0)
        #expect(try check("tokens != 12") == (false, "12"))
        #expect(try check("tokens > 12") == (false, "12"))
        #expect(try check("tokens <= 11") == (false, "12"))
    }

    @Test func stringFieldsAndMissingFields() throws {
        #expect(try check("provider == ollama").0)
        #expect(try check("provider != vllm").0)
        #expect(try check("provider == vllm") == (false, #""ollama""#))
        #expect(try check("provider < 3") == (false, #""ollama" is not a number"#))
        #expect(try check("status == ok").0)
        #expect(try check("speed > 1") == (false, "no field 'speed'; fields: ttft, latency, tokens, provider"))
    }

    @Test func jsonPaths() throws {
        #expect(try check("json .models[0].name == llama3").0)
        #expect(try check("json models.1.name == qwen").0)
        #expect(try check("json .models[-1].name == qwen").0)
        #expect(try check("json .models[5].name == x") == (false, "no value at .models[5].name"))
        #expect(try check("json .reply.answer == 42").0)
        #expect(try check("json .reply.answer > 41").0)
        #expect(try check("json .models").0)
        #expect(try check("json .models[0] == x") == (false, #"{"name":"llama3"}"#))
    }

    @Test func parseErrorsAreUsageErrors() {
        #expect(throws: UsageError.self) { try Expectation.parse([]) }
        #expect(throws: UsageError.self) { try Expectation.parse(["ok", "extra"]) }
        #expect(throws: UsageError.self) { try Expectation.parse(["ttft", "~", "3"]) }
        do {
            _ = try Expectation.parse(["matches", "("])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)" == "expect: invalid regular expression '('")
        }
    }

    @Test func junitIsWellFormedXML() throws {
        let ledger = ExpectLedger()
        ledger.cases = [
            .init(file: "smoke.ai", line: 3, assertion: "contains <ok> & \"x\"", passed: true, message: nil, seconds: 0),
            .init(file: "smoke.ai", line: 5, assertion: "ttft < 500ms", passed: false,
                  message: "expect failed: ttft < 500ms (actual: 812ms)", seconds: 0.001),
            .init(file: "lib.ai", line: 1, assertion: "ok", passed: true, message: nil, seconds: 0),
        ]
        ledger.commandErrors = [.init(file: "smoke.ai", line: 9, assertion: "providers", passed: false,
                                      message: "no \u{1} config", seconds: 0)]
        let xml = JUnitReport.xml(ledger, suiteName: "smoke.ai")
        let doc = try XMLDocument(xmlString: xml)
        let root = try #require(doc.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "tests")?.stringValue == "4")
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        #expect(root.attribute(forName: "errors")?.stringValue == "1")
        let cases = try doc.nodes(forXPath: "//testcase").compactMap { $0 as? XMLElement }
        #expect(cases.map { $0.attribute(forName: "name")?.stringValue ?? "" }
            == ["expect contains <ok> & \"x\"", "expect ttft < 500ms", "providers", "expect ok"])
        #expect(cases[1].attribute(forName: "line")?.stringValue == "5")
        let failure = try #require(cases[1].elements(forName: "failure").first)
        #expect(failure.attribute(forName: "message")?.stringValue == "expect failed: ttft < 500ms (actual: 812ms)")
        #expect(cases[2].elements(forName: "error").count == 1)
    }
}
