import Testing
import Foundation
@testable import AishBase
@testable import AishScript

/// Words of each command as plain text, `$` references shown as written, for compact checks.
private func shape(_ commands: [ScriptCommand]) -> [[String]] {
    commands.map { c in
        c.words.map { w in
            w.segments.map { s -> String in
                switch s {
                case let .literal(t): return t
                case let .variable(n): return "${\(n)}"
                case let .positional(n): return "${\(n)}"
                case .allArguments: return "$@"
                case .argumentCount: return "$#"
                }
            }.joined()
        }
    }
}

private func parse(_ text: String) throws -> [[String]] { shape(try ScriptParser.parse(text, file: "t.ai")) }

private func syntaxError(_ text: String) -> ScriptSyntaxError? {
    do {
        _ = try ScriptParser.parse(text, file: "t.ai")
        return nil
    } catch let e as ScriptSyntaxError {
        return e
    } catch {
        return nil
    }
}

@Suite struct ScriptParserTests {
    @Test func oneCommandPerLineCommentsAndBlankLines() throws {
        let text = "#!/usr/bin/env -S aish -f\n# comment\n\necho a b   # trailing\n  providers\n"
        #expect(try parse(text) == [["echo", "a", "b"], ["providers"]])
    }

    @Test func hashInsideAWordIsLiteral() throws {
        #expect(try parse("echo a#b '#c'") == [["echo", "a#b", "#c"]])
    }

    @Test func semicolonsSeparateCommands() throws {
        #expect(try parse("echo a; echo b;;echo c") == [["echo", "a"], ["echo", "b"], ["echo", "c"]])
        #expect(try parse("echo 'a;b' a\\;b") == [["echo", "a;b", "a;b"]])
    }

    @Test func quotingFollowsPOSIX() throws {
        #expect(try parse(#"echo 'single $HOME \n' "double \"q\" \\ \$x \n" back\ slash"#)
            == [["echo", #"single $HOME \n"#, #"double "q" \ $x \n"#, "back slash"]])
        #expect(try parse(#"echo "" '' x"y"'z'"#) == [["echo", "", "", "xyz"]])
    }

    @Test func backslashNewlineContinues() throws {
        let commands = try ScriptParser.parse("echo one \\\n  two\\\nthree\necho four\n", file: "t.ai")
        #expect(shape(commands) == [["echo", "one", "twothree"], ["echo", "four"]])
        #expect(commands[1].location == SourceLocation(file: "t.ai", line: 4, column: 1))
    }

    @Test func dollarReferencesBecomeSegments() throws {
        let commands = try ScriptParser.parse(#"echo $NAME ${NAME}x $1 ${12} $@ $# "$A-$B" $ 5$ a$-b"#, file: "t.ai")
        let words = commands[0].words.map(\.segments)
        #expect(words[1] == [.variable("NAME")])
        #expect(words[2] == [.variable("NAME"), .literal("x")])
        #expect(words[3] == [.positional(1)])
        #expect(words[4] == [.positional(12)])
        #expect(words[5] == [.allArguments])
        #expect(words[6] == [.argumentCount])
        #expect(words[7] == [.variable("A"), .literal("-"), .variable("B")])
        #expect(words[8] == [.literal("$")])
        #expect(words[9] == [.literal("5$")])
        #expect(words[10] == [.literal("a$-b")])
    }

    @Test func expansionUsesVariablesThenEnvironmentAndKeepsWordsWhole() throws {
        let commands = try ScriptParser.parse(#"echo $A "$B" $UNSET "$UNSET" $@ "$@" x$@ $# $0 $2"#, file: "t.ai")
        let expansion = WordExpansion(variables: ["A": "from var"], environment: ["A": "env", "B": "env b"],
                                      arguments: ["one", "two words"], scriptName: "t.ai")
        #expect(expansion.expand(commands[0].words)
            == ["echo", "from var", "env b", "", "one", "two words", "one", "two words", "xone two words", "2", "t.ai",
                "two words"])
    }

    @Test func heredocBecomesTheLastWord() throws {
        let text = "chat -m x <<EOF\nline one $NAME\n  line two \\$HOME\nEOF\necho after\n"
        let commands = try ScriptParser.parse(text, file: "t.ai")
        #expect(shape(commands) == [["chat", "-m", "x", "line one ${NAME}\n  line two $HOME"], ["echo", "after"]])
        #expect(commands[1].location.line == 5)
        #expect(commands[0].text == "chat -m x <<EOF\nline one $NAME\n  line two \\$HOME\nEOF")
    }

    @Test func quotedHeredocDoesNotExpandAndDashStripsTabs() throws {
        #expect(try parse("chat <<'EOF'\n$HOME \\n\nEOF\n") == [["chat", "$HOME \\n"]])
        #expect(try parse("chat <<-END\n\t\tindented\n\tEND\n") == [["chat", "indented"]])
        #expect(try parse("chat <<EOF; echo x\nbody\nEOF\n") == [["chat", "body"], ["echo", "x"]])
        #expect(try parse("chat <<EOF\n\nEOF") == [["chat", ""]])
    }

    @Test func unterminatedQuotesPointAtTheQuote() {
        let e = syntaxError("echo ok\necho \"abc\necho next\n")
        #expect(e?.description == "t.ai:2:6: error: unterminated double quote\necho \"abc\n     ^")
        #expect(e?.exitCode == .usage)
        let single = syntaxError("  echo 'x")
        #expect(single?.description == "t.ai:1:8: error: unterminated single quote\n  echo 'x\n       ^")
    }

    @Test func heredocWithoutEndMarker() {
        let e = syntaxError("echo a\nchat <<EOF\nhello\n")
        #expect(e?.description
            == "t.ai:2:6: error: heredoc has no end marker: expected a line 'EOF' before the end of the file\nchat <<EOF\n     ^")
        #expect(syntaxError("chat <<\n")?.message == "expected an end marker word after '<<' (as in <<EOF)")
    }

    @Test func badBraceReferences() {
        #expect(syntaxError("echo ${HOME")?.description == "t.ai:1:6: error: '${' has no closing '}'\necho ${HOME\n     ^")
        #expect(syntaxError("echo x ${a-b}")?.message == "bad variable name 'a-b' in '${a-b}'")
        #expect(syntaxError("echo <<EOF\n${}\nEOF")?.location == SourceLocation(file: "t.ai", line: 2, column: 1))
    }

    @Test func caretKeepsTabs() {
        let e = syntaxError("\techo 'x")
        #expect(e?.description == "t.ai:1:7: error: unterminated single quote\n\techo 'x\n\t     ^")
    }

    @Test func aOneMegabyteLineParses() throws {
        let big = String(repeating: "x", count: 1 << 20)
        let commands = try ScriptParser.parse("echo \(big)\n", file: "t.ai")
        #expect(commands[0].words[1].literalText?.count == 1 << 20)
        let e = syntaxError("echo \(big) \"")
        #expect(e?.location.column == (1 << 20) + 7)
        // The snippet is cut around the column instead of printing a megabyte.
        #expect((e?.description.count ?? .max) < 400)
    }

    @Test func incrementalParsingAsksForMoreInput() throws {
        #expect(try ScriptParser.parseIncremental("echo a \\", file: "t") == .needsMoreInput)
        #expect(try ScriptParser.parseIncremental("chat <<EOF", file: "t") == .needsMoreInput)
        #expect(try ScriptParser.parseIncremental("chat <<EOF\nhi", file: "t") == .needsMoreInput)
        guard case let .complete(commands) = try ScriptParser.parseIncremental("chat <<EOF\nhi\nEOF", file: "t") else {
            Issue.record("expected complete")
            return
        }
        #expect(shape(commands) == [["chat", "hi"]])
        #expect(throws: ScriptSyntaxError.self) { try ScriptParser.parseIncremental("echo 'x", file: "t") }
    }

    @Test func lineNumbersContinueFromFirstLine() throws {
        let commands = try ScriptParser.parse("\necho x", file: "<stdin>", firstLine: 7)
        #expect(commands[0].location == SourceLocation(file: "<stdin>", line: 8, column: 1))
    }
}

@Suite struct ScriptFileTests {
    @Test func binaryAndInvalidTextAreRefused() {
        #expect(throws: ScriptFileError(location: "b.ai:2:3", message: "binary file (NUL byte), not an aish script")) {
            try ScriptFile.decode(Array("echo\nab\0c".utf8).withUnsafeBufferPointer { Data($0) }, path: "b.ai")
        }
        #expect(throws: ScriptFileError(location: "b.ai", message: "not valid UTF-8 text, not an aish script")) {
            try ScriptFile.decode(Data([0x65, 0xFF, 0x0A]), path: "b.ai")
        }
    }

    @Test func missingFileAndDirectory() {
        #expect(throws: ScriptFileError(message: "cannot read script '/nonexistent/x.ai': no such file")) {
            try ScriptFile.read(path: "/nonexistent/x.ai")
        }
        #expect(throws: ScriptFileError(message: "cannot read script '/tmp': it is a directory, not a script file")) {
            try ScriptFile.read(path: "/tmp")
        }
    }
}
