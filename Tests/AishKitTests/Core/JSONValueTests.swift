import Testing
@testable import AishBase
@testable import AishCommand

@Suite struct JSONValueTests {
    @Test func roundTripKeepsKeyOrder() throws {
        let v = try JSONValue.parse(#"{"b":1,"a":[true,null,"x\n\u00e9"],"c":1.5}"#)
        #expect(v.serialized() == #"{"b":1,"a":[true,null,"x\né"],"c":1.5}"#)
        #expect(v["a"]?[2]?.stringValue == "x\né")
    }

    @Test func stringsAreEscapedAsJSONAsksAndTheRestKeptAsItIs() throws {
        let text = "plain \"quoted\" back\\slash\n\r\t\u{1}\u{1f}\u{7f} é 😀 end"
        let v: JSONValue = .object([("k\"ey", .string(text)), ("e", .string("")), ("n", .array([.int(-3), .double(0.5), .null]))])
        #expect(v.serialized() == #"{"k\"ey":"plain \"quoted\" back\\slash\n\r\t\u0001\u001f\#u{7f} é 😀 end","e":"","n":[-3,0.5,null]}"#)
        #expect(try JSONValue.parse(v.serialized()) == v)
        #expect(v.serializedUTF8() == Array(v.serialized().utf8))
        #expect(JSONValue.object([("a", .array([.int(1)])), ("b", .object([]))]).serialized(pretty: true)
                == "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}")
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
        name: "chat", summary: "chat",
        options: [OptionSpec(names: ["-m", "--model"], valueName: "MODEL", help: "model")],
        positionals: [PositionalSpec(name: "PROMPT", optional: true, variadic: true)],
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

    /// The spec counts positionals; handlers never do.
    @Test func positionalCountsComeFromTheSpec() {
        let spec = CommandSpec(name: "svc", summary: "",
                               positionals: [PositionalSpec(name: "NAME"), PositionalSpec(name: "TAG", optional: true)],
                               subcommands: ["start", "stop"], run: { _, _ in .ok() })
        func message(_ words: [String]) -> String? {
            do { _ = try spec.parse(words: words, line: "", location: nil); return nil } catch let e as UsageError {
                return e.message
            } catch { return "\(error)" }
        }
        #expect(message([]) == "svc: missing action (start or stop)")
        #expect(message(["strat", "x"]) == "svc: unknown action 'strat' (did you mean 'start'?)")
        #expect(message(["launch"]) == "svc: unknown action 'launch' (start or stop)")
        #expect(message(["start"]) == "svc start: missing NAME")
        #expect(message(["start", "a", "b", "c"]) == "svc start: unexpected argument 'c'")
        #expect(message(["stop", "a", "b"]) == nil)
        #expect(message(["--help"]) == nil)  // help needs no arguments
        let none = CommandSpec(name: "vars", summary: "", run: { _, _ in .ok() })
        #expect(throws: UsageError.self) { try none.parse(words: ["x"], line: "", location: nil) }
    }

    /// A usage error thrown by a handler leaves `invoke` with the command's usage.
    @Test func invokeAttachesTheUsage() {
        let spec = CommandSpec(name: "t", summary: "",
                               positionals: [PositionalSpec(name: "N", optional: true)],
                               run: { _, _ in throw UsageError(message: "t: N must be a number") })
        let ctx = ShellContext(options: GlobalOptions(), output: OutputSink(capturing: true), interrupt: InterruptFlag(),
                               environment: [:])
        do {
            _ = try spec.invoke(["x"], line: "t x", location: nil, ctx: ctx)
            Issue.record("expected an error")
        } catch let e as UsageError {
            #expect(e.description == "t: N must be a number\nusage: t [N]")
        } catch { Issue.record("wrong error \(error)") }
    }

    @Test func theWordAtATimeStringScanMissesNoQuoteBackslashOrControlByte() throws {
        // Every byte value at every place of an 8-byte word: a quote, a backslash or a
        // control byte must stop the fast path; plain text and UTF-8 must not.
        for value in 0...255 {
            let special = value == 0x22 || value == 0x5C || value < 0x20
            for place in 0..<8 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                bytes[place] = UInt8(value)
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                if special { #expect(JSONStringScanner.firstStop(word) != nil, "byte \(value) at \(place)") }
                // The first stop is found exactly, also with a later one in the word.
                #expect(JSONStringScanner.firstStop(word) == (special ? place : nil), "byte \(value) at \(place)")
                for later in place + 1 ..< 8 {
                    bytes[later] = UInt8(ascii: "\"")
                    let two = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    #expect(JSONStringScanner.firstStop(two) == (special ? place : later), "byte \(value) at \(place), quote at \(later)")
                    bytes[later] = UInt8(ascii: "a")
                }
            }
        }
        for text in ["abcdefgh", "tok1 tok", "éééé", "日本語だ", "~}|{`_^]"] {
            let word = Array(text.utf8.prefix(8)).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            #expect(JSONStringScanner.firstStop(word) == nil, "\(text)")
        }
        // Strings of every length with an escape or the end at every place read as before.
        for length in 0..<40 {
            for escape in [-1] + Array(0..<length) {
                var body = String(repeating: "x", count: length)
                if escape >= 0 {
                    var chars = Array(body)
                    chars[escape] = "\n".first!
                    body = String(chars)
                }
                let json = "\"" + body.replacingOccurrences(of: "\n", with: "\\n") + "\""
                #expect(try JSONValue.parse(json).stringValue == body, "\(json)")
            }
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("\"abcdefghij\u{01}klmnopq\"") }
    }

    @Test func editDistance() {
        #expect(Suggest.editDistance("provders", "providers") == 1)
        #expect(Suggest.closest(to: "provders", among: ["providers", "ports"]) == "providers")
    }
}
