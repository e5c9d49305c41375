import AishBase

/// One piece of a word: literal text, or something expanded when the command runs.
package enum WordSegment: Equatable, Sendable {
    case literal(String)
    /// `$NAME` / `${NAME}`: script variables first, then the environment.
    case variable(String)
    /// `$1`, `${12}`; `$0` is the script's name.
    case positional(Int)
    /// `$@`: every script argument.
    case allArguments
    /// `$#`: how many script arguments there are.
    case argumentCount
}

/// A word as written: its segments are joined when the command runs. `quoted` records that
/// some part was quoted, so that a word which expands to nothing is kept (`""`) rather than
/// dropped (`$UNSET`).
package struct Word: Equatable, Sendable {
    package var segments: [WordSegment]
    package var quoted: Bool
    package var location: SourceLocation

    package init(segments: [WordSegment], quoted: Bool, location: SourceLocation) {
        self.segments = segments
        self.quoted = quoted
        self.location = location
    }

    /// The text of a word that has no expansions (nil if it has any).
    package var literalText: String? {
        var out = ""
        for s in segments {
            guard case let .literal(t) = s else { return nil }
            out += t
        }
        return out
    }
}

/// One command of a script: its words, where it starts, and its source text (for the log).
package struct ScriptCommand: Equatable, Sendable {
    package var words: [Word]
    package var location: SourceLocation
    package var text: String

    package init(words: [Word], location: SourceLocation, text: String) {
        self.words = words
        self.location = location
        self.text = text
    }

    /// The command name when it is written literally (used to see that a line is an `expect`).
    package var literalName: String? { words.first?.literalText }
}

/// A syntax error in a script: `file:line:col: error: message`, then the offending line and
/// a caret under the column. Scripts with a syntax error do not run at all (exit 2).
package struct ScriptSyntaxError: UserFacingError, Equatable {
    package var location: SourceLocation
    package var message: String
    /// The text of the offending line (without its newline).
    package var lineText: String

    package var exitCode: ExitCode { .usage }
    package var namesItsLocation: Bool { true }

    package var description: String {
        "\(location): error: \(message)\n" + ScriptSyntaxError.snippet(lineText, column: location.column)
    }

    /// The line and a caret under `column`; very long lines are cut around the column so a
    /// 1 MB line does not flood the terminal.
    package static func snippet(_ line: String, column: Int) -> String {
        let scalars = Array(line.unicodeScalars)
        let index = max(0, min(column - 1, scalars.count))
        let window = 100
        var start = 0
        var end = scalars.count
        if scalars.count > 2 * window {
            start = max(0, index - window)
            end = min(scalars.count, index + window)
        }
        var shown = String(String.UnicodeScalarView(scalars[start..<end]))
        var caret = ""
        // Tabs stay tabs so the caret lines up under tab-indented text.
        for s in scalars[start..<min(index, end)] { caret.unicodeScalars.append(s == "\t" ? "\t" : " ") }
        var prefix = ""
        if start > 0 { prefix = "..."; caret = "   " + caret }
        if end < scalars.count { shown += "..." }
        shown = prefix + shown
        return shown + "\n" + caret + "^"
    }
}

/// What parsing a piece of input gives: commands, or a request for more lines (an open
/// heredoc or a trailing `\` while reading from a terminal or a pipe).
package enum ParseOutcome: Equatable {
    case complete([ScriptCommand])
    case needsMoreInput
}
