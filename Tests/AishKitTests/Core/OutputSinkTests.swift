import Foundation
import Testing
@testable import AishBase

/// Issue 24, items 2 and 3: the output step masks secrets in everything and, for a terminal,
/// shows control characters visibly; aish's own controls pass; streamed text is handled
/// piece by piece without a secret or a sequence slipping through a split.
@Suite struct OutputSinkTests {
    /// Every class of control character: C0 (ESC, BEL, BS, CR alone, NUL), DEL, C1 (CSI,
    /// OSC as one code point) and the bidirectional overrides.
    @Test(arguments: [
        ("title \u{1B}]0;pwned\u{07} done", "title ^[]0;pwned^G done"),
        ("clear \u{1B}[2J\u{1B}[H", "clear ^[[2J^[[H"),
        ("clip \u{1B}]52;c;aGVsbG8=\u{07}", "clip ^[]52;c;aGVsbG8=^G"),
        ("back\u{08}\u{08}space \u{7F} nul\u{00}", "back^H^Hspace ^? nul^@"),
        ("over\rwrite", "over^Mwrite"),
        ("crlf\r\nkept\ttab\n", "crlf\r\nkept\ttab\n"),
        ("c1 \u{9B}2J osc \u{9D}0;x\u{9C}", "c1 <U+009B>2J osc <U+009D>0;x<U+009C>"),
        ("bidi \u{202E}txt.exe\u{2066}x\u{2069}", "bidi <U+202E>txt.exe<U+2066>x<U+2069>"),
        ("naïve ✓ 😀 日本", "naïve ✓ 😀 日本"),
    ])
    func controlCharactersAreShownVisibly(input: String, expected: String) {
        #expect(ControlCharacters.visible(input) == expected)
        let sink = OutputSink(capturing: true, terminal: true)
        sink.write(input)
        sink.writeError(input)
        #expect(sink.capturedText == expected + expected)
    }

    /// Not a terminal (a pipe, a file, --json): the text is exact, only secrets are masked.
    @Test func notATerminalKeepsTheTextExactButMasked() {
        let sink = OutputSink(capturing: true, terminal: false)
        sink.write("\u{1B}]0;t\u{07} Bearer sk-proj-abcdefgh1234\n")
        #expect(sink.capturedText == "\u{1B}]0;t\u{07} Bearer ***\n")
    }

    @Test func aishsOwnControlsPassAndTheTextBetweenIsSanitised() {
        let sink = OutputSink(capturing: true, terminal: true)
        sink.write(TerminalText.styled("up \u{1B}[2J", "32") + " api_key=abc123")
        #expect(sink.capturedText == "\u{1B}[32mup ^[[2J\u{1B}[0m api_key=***")
    }

    @Test func secretsOfTheEnvironmentAndLearnedOnesAreMasked() {
        let sink = OutputSink(capturing: true, secrets: SecretFilter(environment: ["MY_API_KEY": "plain-env-secret"]))
        sink.write("env plain-env-secret; ")
        sink.secrets.addSecretValues(["learned-value"])
        sink.writeError("learned-value\n")
        #expect(sink.capturedText == "env ***; ***\n")
    }

    // MARK: streaming

    /// Writes `text` through a stream in pieces cut at `cuts` and returns what came out.
    private func streamed(_ pieces: [String], terminal: Bool = true, raw: Bool = false,
                          environment: [String: String] = [:]) -> String {
        let sink = OutputSink(capturing: true, terminal: terminal, secrets: SecretFilter(environment: environment))
        let stream = sink.stream(raw: raw)
        for p in pieces { stream.write(p) }
        stream.finish()
        return sink.capturedText
    }

    /// Every way of cutting a text into two or three pieces gives the same output as the
    /// whole text written at once: secrets split over pieces are masked, escape sequences
    /// split over pieces still show visibly.
    @Test(arguments: [
        "my key is sk-proj-abcdefgh12345678 ok\n",
        "Authorization: Bearer abc.def-ghi and more\nnext line",
        "curl -H 'Authorization: Basic dXNlcjpwYXNz' x",
        "token = PLAINsecretVALUE, then --api-key ANOTHER done",
        "export DB_PASSWORD=hunter2\r\n",
        "esc \u{1B}]0;title\u{07} and \u{1B}[2J done",
        "the env secret correct horse battery staple shows",
        "ünïcödé 😀 sk-ant-api03-abcdefgh ✓",
    ])
    func splitsDoNotMatter(text: String) {
        let env = ["DB_PASSWORD": "correct horse battery staple"]
        let whole = streamed([text], environment: env)
        let expected = ControlCharacters.visible(SecretRedactor(environment: env).redact(text))
        #expect(whole == expected)
        let chars = Array(text)
        for i in 1..<chars.count {
            let a = String(chars[..<i]), b = String(chars[i...])
            #expect(streamed([a, b], environment: env) == expected, "cut at \(i)")
            if i + 3 < chars.count {
                let b1 = String(chars[i..<(i + 3)]), b2 = String(chars[(i + 3)...])
                #expect(streamed([a, b1, b2], environment: env) == expected, "cuts at \(i), \(i + 3)")
            }
        }
        // One character at a time.
        #expect(streamed(chars.map { String($0) }, environment: env) == expected)
    }

    @Test func textShowsBeforeTheReplyEnds() {
        let sink = OutputSink(capturing: true, terminal: true)
        let stream = sink.stream()
        stream.write("Hello there, ")
        #expect(sink.capturedText == "Hello there, ")
        stream.write("wor")
        #expect(sink.capturedText == "Hello there, ")
        stream.write("ld\nnext")
        #expect(sink.capturedText == "Hello there, world\n")
        stream.finish()
        #expect(sink.capturedText == "Hello there, world\nnext")
    }

    @Test func rawKeepsControlsButMasksSecrets() {
        #expect(streamed(["a \u{1B}[1mb", "old\u{1B}[0m sk-proj-abcd", "efgh1234\n"], raw: true)
            == "a \u{1B}[1mbold\u{1B}[0m ***\n")
    }

    /// A long line in small pieces: the work per piece stays bounded (the time grows with the
    /// number of pieces, not with its square), and is small next to the time between tokens.
    @Test func aLongLineInSmallPiecesCostsTheSamePerPiece() {
        func seconds(pieces: Int) -> Double {
            let piece = "0123456789abcde "
            let sink = OutputSink(capturing: true, terminal: true)
            let stream = sink.stream()
            let started = Date()
            for _ in 0..<pieces { stream.write(piece) }
            stream.finish()
            let elapsed = Date().timeIntervalSince(started)
            #expect(sink.capturedText.utf8.count == piece.utf8.count * pieces)
            return elapsed
        }
        let short = seconds(pieces: 1000), long = seconds(pieces: 8000)
        #expect(long < short * 8 * 3, "1000 pieces: \(short) s, 8000 pieces: \(long) s")
        // Debug build on a shared machine; tokens come 10–50 ms apart.
        #expect(long / 8000 < 0.005)
    }
}
