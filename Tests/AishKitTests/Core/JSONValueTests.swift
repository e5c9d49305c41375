import Testing
@testable import AishKit

@Suite struct JSONValueTests {
    @Test func roundTripKeepsKeyOrder() throws {
        let v = try JSONValue.parse(#"{"b":1,"a":[true,null,"x\n\u00e9"],"c":1.5}"#)
        #expect(v.serialized() == #"{"b":1,"a":[true,null,"x\né"],"c":1.5}"#)
        #expect(v["a"]?[2]?.stringValue == "x\né")
    }

    @Test func rejectsTrailingGarbage() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{} x") }
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
    }
}

@Suite struct CommandSpecTests {
    static let spec = CommandSpec(
        name: "chat", usage: "chat [-m MODEL] [PROMPT]", summary: "chat",
        options: [OptionSpec(names: ["-m", "--model"], valueName: "MODEL", help: "model")],
        run: { _, _ in .ok() })

    @Test func parsesOptionsAndPositionals() throws {
        let inv = try Self.spec.parse(words: ["-m", "x", "hello", "--json", "--", "-m"], line: "", location: nil)
        #expect(inv.value("--model") == "x")
        #expect(inv.flag("--json"))
        #expect(inv.positionals == ["hello", "-m"])
    }

    @Test func unknownOptionSuggests() {
        do {
            _ = try Self.spec.parse(words: ["--modle", "x"], line: "", location: nil)
            Issue.record("expected an error")
        } catch let e as UsageError {
            #expect(e.message == "chat: unknown option '--modle' (did you mean '--model'?)")
        } catch { Issue.record("wrong error \(error)") }
    }

    @Test func editDistance() {
        #expect(Suggest.editDistance("provders", "providers") == 1)
        #expect(Suggest.closest(to: "provders", among: ["providers", "ports"]) == "providers")
    }
}
