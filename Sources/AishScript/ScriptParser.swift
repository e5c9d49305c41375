import AishBase

/// Parses `.ai` script text (SPEC §5) into commands: one command per line or per `;`,
/// `#` comments, `\` continuation, POSIX-like quoting, `$` references kept as segments for
/// run-time expansion, and heredocs (`<<EOF`, `<<'EOF'` without expansion, `<<-EOF`
/// stripping leading tabs) whose body becomes the command's last word.
///
/// Quotes must close on their line (multi-line text is what heredocs are for), which keeps
/// the error for a forgotten quote next to the quote.
package struct ScriptParser {
    /// Parses a whole file or `-c` text. An open heredoc at the end is an error.
    package static func parse(_ text: String, file: String, firstLine: Int = 1) throws -> [ScriptCommand] {
        var parser = ScriptParser(text: text, file: file, firstLine: firstLine, incremental: false)
        switch try parser.run() {
        case let .complete(commands): return commands
        case .needsMoreInput: preconditionFailure("a non-incremental parse never asks for more input")
        }
    }

    /// Parses lines typed so far (terminal or pipe). A trailing `\` or an open heredoc asks
    /// for more input instead of failing.
    package static func parseIncremental(_ text: String, file: String, firstLine: Int = 1) throws -> ParseOutcome {
        var parser = ScriptParser(text: text, file: file, firstLine: firstLine, incremental: true)
        return try parser.run()
    }

    // MARK: - State

    private struct PendingHeredoc {
        var commandIndex: Int
        var delimiter: String
        var stripTabs: Bool
        var expand: Bool
        var location: SourceLocation
    }

    private struct WordBuilder {
        var segments: [WordSegment] = []
        var quoted = false
        var location: SourceLocation

        mutating func append(_ scalar: Unicode.Scalar) {
            if case var .literal(t) = segments.last {
                segments.removeLast()
                t.unicodeScalars.append(scalar)
                segments.append(.literal(t))
            } else {
                segments.append(.literal(String(Character(scalar))))
            }
        }

        mutating func append(_ segment: WordSegment) {
            if case let .literal(new) = segment, case let .literal(old) = segments.last {
                segments[segments.count - 1] = .literal(old + new)
            } else {
                segments.append(segment)
            }
        }
    }

    /// Signals an open heredoc or trailing backslash at the end of incremental input.
    private struct NeedsMore: Error {}

    private let file: String
    private let s: [Unicode.Scalar]
    private let firstLine: Int
    private let incremental: Bool
    private var pos = 0
    private var line: Int
    private var col = 1

    private var commands: [ScriptCommand] = []
    private var words: [Word] = []
    private var word: WordBuilder?
    private var commandStart: (pos: Int, location: SourceLocation)?
    private var commandHasHeredoc = false
    private var pending: [PendingHeredoc] = []

    private init(text: String, file: String, firstLine: Int, incremental: Bool) {
        self.file = file
        self.s = Array(text.unicodeScalars)
        self.firstLine = firstLine
        self.line = firstLine
        self.incremental = incremental
    }

    private var here: SourceLocation { SourceLocation(file: file, line: line, column: col) }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        pos + offset < s.count ? s[pos + offset] : nil
    }

    private mutating func advance() {
        if s[pos] == "\n" { line += 1; col = 1 } else { col += 1 }
        pos += 1
    }

    // MARK: - Driver

    private mutating func run() throws -> ParseOutcome {
        do {
            try scan()
            return .complete(commands)
        } catch is NeedsMore {
            return .needsMoreInput
        }
    }

    private mutating func scan() throws {
        while let c = peek() {
            switch c {
            case " ", "\t", "\r":
                endWord()
                advance()
            case "\n":
                endWord()
                endCommand()
                advance()
                try readHeredocBodies()
            case ";":
                endWord()
                endCommand()
                advance()
            case "#" where word == nil:
                while let d = peek(), d != "\n" { advance() }
            case "\\":
                guard let next = peek(1) else {
                    if incremental { throw NeedsMore() }
                    advance()
                    continue
                }
                if next == "\n" {
                    advance()
                    advance()
                    continue
                }
                startWord()
                word!.quoted = true
                advance()
                word!.append(next)
                advance()
            case "'":
                startWord()
                try readSingleQuoted()
            case "\"":
                startWord()
                try readDoubleQuoted()
            case "$":
                startWord()
                try readDollar()
            case "<" where word == nil && peek(1) == "<":
                try readHeredocOperator()
            default:
                startWord()
                word!.append(c)
                advance()
            }
        }
        endWord()
        endCommand()
        if let first = pending.first {
            if incremental { throw NeedsMore() }
            throw error("heredoc has no end marker: expected a line '\(first.delimiter)' before the end of the file",
                        at: first.location)
        }
    }

    // MARK: - Words and commands

    private mutating func startWord() {
        if word == nil { word = WordBuilder(location: here) }
        if commandStart == nil { commandStart = (pos, here) }
    }

    private mutating func endWord() {
        guard let w = word else { return }
        words.append(Word(segments: w.segments, quoted: w.quoted, location: w.location))
        word = nil
    }

    private mutating func endCommand() {
        defer {
            words = []
            commandStart = nil
            commandHasHeredoc = false
        }
        guard let start = commandStart, !words.isEmpty || commandHasHeredoc else { return }
        var text = String(String.UnicodeScalarView(s[start.pos..<pos]))
        while let last = text.unicodeScalars.last, last == " " || last == "\t" || last == "\r" {
            text.unicodeScalars.removeLast()
        }
        commands.append(ScriptCommand(words: words, location: start.location, text: text))
    }

    // MARK: - Quoting

    private mutating func readSingleQuoted() throws {
        let open = here
        word!.quoted = true
        advance()
        while true {
            guard let c = peek(), c != "\n" else { throw error("unterminated single quote", at: open) }
            advance()
            if c == "'" { return }
            word!.append(c)
        }
    }

    private mutating func readDoubleQuoted() throws {
        let open = here
        word!.quoted = true
        advance()
        while true {
            guard let c = peek(), c != "\n" else { throw error("unterminated double quote", at: open) }
            switch c {
            case "\"":
                advance()
                return
            case "\\":
                guard let next = peek(1) else { throw error("unterminated double quote", at: open) }
                if next == "\n" {
                    advance()
                    advance()
                } else if next == "$" || next == "\"" || next == "\\" || next == "`" {
                    advance()
                    word!.append(next)
                    advance()
                } else {
                    word!.append(c)
                    advance()
                }
            case "$":
                try readDollar()
            default:
                word!.append(c)
                advance()
            }
        }
    }

    private mutating func readDollar() throws {
        let start = here
        switch ScriptParser.scanDollar(s, pos) {
        case let .segment(segment, end):
            while pos < end { advance() }
            word!.append(segment)
        case .literalDollar:
            word!.append("$")
            advance()
        case let .failure(message):
            throw error(message, at: start)
        }
    }

    package enum DollarScan: Equatable {
        case segment(WordSegment, end: Int)
        case literalDollar
        case failure(String)
    }

    /// Reads the reference that starts with the `$` at `i`: `$NAME`, `${NAME}`, `$1`,
    /// `${10}`, `$@`, `$#`. A `$` followed by anything else is a literal dollar.
    package static func scanDollar(_ s: [Unicode.Scalar], _ i: Int) -> DollarScan {
        guard i + 1 < s.count else { return .literalDollar }
        let c = s[i + 1]
        if c == "@" { return .segment(.allArguments, end: i + 2) }
        if c == "#" { return .segment(.argumentCount, end: i + 2) }
        if let d = digit(c) { return .segment(.positional(d), end: i + 2) }
        if isNameStart(c) {
            var j = i + 1
            while j < s.count, isNameChar(s[j]) { j += 1 }
            return .segment(.variable(String(String.UnicodeScalarView(s[(i + 1)..<j]))), end: j)
        }
        if c == "{" {
            var j = i + 2
            while j < s.count, s[j] != "}", s[j] != "\n" { j += 1 }
            guard j < s.count, s[j] == "}" else { return .failure("'${' has no closing '}'") }
            let inner = String(String.UnicodeScalarView(s[(i + 2)..<j]))
            if inner == "@" { return .segment(.allArguments, end: j + 1) }
            if inner == "#" { return .segment(.argumentCount, end: j + 1) }
            if !inner.isEmpty, inner.unicodeScalars.allSatisfy({ digit($0) != nil }), let n = Int(inner) {
                return .segment(.positional(n), end: j + 1)
            }
            let scalars = Array(inner.unicodeScalars)
            if let first = scalars.first, isNameStart(first), scalars.allSatisfy(isNameChar) {
                return .segment(.variable(inner), end: j + 1)
            }
            return .failure("bad variable name '\(inner)' in '${\(inner)}'")
        }
        return .literalDollar
    }

    private static func digit(_ c: Unicode.Scalar) -> Int? {
        c.value >= 48 && c.value <= 57 ? Int(c.value - 48) : nil
    }

    private static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        (c.value >= 65 && c.value <= 90) || (c.value >= 97 && c.value <= 122) || c == "_"
    }

    private static func isNameChar(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || digit(c) != nil }

    // MARK: - Heredocs

    private mutating func readHeredocOperator() throws {
        let start = here
        if commandStart == nil { commandStart = (pos, start) }
        advance()
        advance()
        var stripTabs = false
        if peek() == "-" {
            stripTabs = true
            advance()
        }
        while let c = peek(), c == " " || c == "\t" { advance() }
        var delimiter = ""
        var expand = true
        if let q = peek(), q == "'" || q == "\"" {
            expand = false
            advance()
            while true {
                guard let c = peek(), c != "\n" else {
                    throw error(q == "'" ? "unterminated single quote" : "unterminated double quote", at: start)
                }
                advance()
                if c == q { break }
                delimiter.unicodeScalars.append(c)
            }
        } else {
            while let c = peek(), !" \t\r\n;'\"<".unicodeScalars.contains(c) {
                delimiter.unicodeScalars.append(c)
                advance()
            }
        }
        if delimiter.isEmpty { throw error("expected an end marker word after '<<' (as in <<EOF)", at: start) }
        pending.append(PendingHeredoc(commandIndex: commands.count, delimiter: delimiter, stripTabs: stripTabs,
                                      expand: expand, location: start))
        commandHasHeredoc = true
    }

    /// Called just after a newline: reads the bodies of the heredocs opened on that line.
    private mutating func readHeredocBodies() throws {
        while !pending.isEmpty {
            let doc = pending.removeFirst()
            var body: [(text: String, line: Int, column: Int)] = []
            var raw: [String] = []
            while true {
                guard pos < s.count else {
                    if incremental { throw NeedsMore() }
                    throw error("heredoc has no end marker: expected a line '\(doc.delimiter)' before the end of the file",
                                at: doc.location)
                }
                let lineNumber = line
                var j = pos
                while j < s.count, s[j] != "\n" { j += 1 }
                var lineScalars = s[pos..<j]
                while pos < j { advance() }
                if pos < s.count { advance() }  // the newline
                raw.append(String(String.UnicodeScalarView(lineScalars)))
                var column = 1
                if doc.stripTabs {
                    while lineScalars.first == "\t" {
                        lineScalars = lineScalars.dropFirst()
                        column += 1
                    }
                }
                if lineScalars.last == "\r" { lineScalars = lineScalars.dropLast() }
                let text = String(String.UnicodeScalarView(lineScalars))
                if text == doc.delimiter { break }
                body.append((text, lineNumber, column))
            }
            let word: Word
            if doc.expand {
                word = try expandingHeredocWord(body, location: doc.location)
            } else {
                word = Word(segments: [.literal(body.map(\.text).joined(separator: "\n"))], quoted: true,
                            location: doc.location)
            }
            if doc.commandIndex < commands.count {
                commands[doc.commandIndex].words.append(word)
                commands[doc.commandIndex].text += "\n" + raw.joined(separator: "\n")
            }
        }
    }

    /// An unquoted heredoc's body: `$` references expand; `\` escapes `$`, `` ` `` and `\`.
    private func expandingHeredocWord(_ body: [(text: String, line: Int, column: Int)], location: SourceLocation)
        throws -> Word
    {
        var builder = WordBuilder(location: location)
        builder.quoted = true
        for (n, bodyLine) in body.enumerated() {
            if n > 0 { builder.append("\n") }
            let t = Array(bodyLine.text.unicodeScalars)
            var i = 0
            while i < t.count {
                let c = t[i]
                if c == "\\", i + 1 < t.count, t[i + 1] == "$" || t[i + 1] == "\\" || t[i + 1] == "`" {
                    builder.append(t[i + 1])
                    i += 2
                } else if c == "$" {
                    switch ScriptParser.scanDollar(t, i) {
                    case let .segment(segment, end):
                        builder.append(segment)
                        i = end
                    case .literalDollar:
                        builder.append("$")
                        i += 1
                    case let .failure(message):
                        throw error(message, at: SourceLocation(file: file, line: bodyLine.line,
                                                               column: bodyLine.column + i))
                    }
                } else {
                    builder.append(c)
                    i += 1
                }
            }
        }
        if builder.segments.isEmpty { builder.segments = [.literal("")] }
        return Word(segments: builder.segments, quoted: true, location: location)
    }

    // MARK: - Errors

    private func error(_ message: String, at location: SourceLocation) -> ScriptSyntaxError {
        ScriptSyntaxError(location: location, message: message, lineText: lineText(location.line))
    }

    private func lineText(_ number: Int) -> String {
        var current = firstLine
        var start = 0
        var i = 0
        while i < s.count, current < number {
            if s[i] == "\n" {
                current += 1
                start = i + 1
            }
            i += 1
        }
        var end = start
        while end < s.count, s[end] != "\n" { end += 1 }
        var text = String(String.UnicodeScalarView(s[start..<end]))
        if text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
