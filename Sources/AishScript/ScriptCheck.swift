import FoundationEssentials
import AishBase
import AishCommand

/// Checks a parsed script against the command registry before any of it runs (issue 16.4):
/// every command name written literally must be a command, its literal options must be
/// options that command declares (with their values), and a literal `expect` must be a
/// valid assertion. A mistake on line 40 then stops the script before line 1 has run, with
/// `file:line:col` and exit 2, as a syntax error does.
///
/// Words that are expanded when the command runs (`$CMD`, `--model=$M` aside from its
/// name) cannot be judged now and are left to the run.
package enum ScriptCheck {
    package static func check(_ commands: [ScriptCommand], registry: CommandRegistry, text: String, firstLine: Int = 1) throws {
        for command in commands {
            guard let nameWord = command.words.first, let name = nameWord.literalText else { continue }
            guard let spec = registry.lookup(name) else {
                throw failure(registry.unknownCommandError(name).message, at: nameWord.location, text: text, firstLine: firstLine)
            }
            let arguments = command.words.dropFirst()
            if spec.rawArguments {
                if spec.name == "expect" { try checkExpect(arguments, at: nameWord, text: text, firstLine: firstLine) }
                continue
            }
            if let (word, message) = optionProblem(spec, arguments) {
                throw failure(message, at: word.location, text: text, firstLine: firstLine)
            }
        }
    }

    /// The files sourced by name (`source lib.ai`), checked as a whole before anything of
    /// the sourcing script or line runs: a broken library stops the script before its first
    /// command, with the library's file:line:col. A file that does not exist yet (an earlier
    /// command may write it) and a name built from variables are read when `source` is reached.
    package static func checkSourcedFiles(_ commands: [ScriptCommand], registry: CommandRegistry, from file: String?,
                                  chain: [String] = []) throws {
        for command in commands {
            guard let name = command.words.first?.literalText, registry.lookup(name)?.name == "source",
                  command.words.count > 1, let path = command.words[1].literalText else { continue }
            let resolved = ScriptFile.resolveSourced(path, from: file)
            guard !chain.contains(resolved), chain.count < ScriptFile.maxSourceDepth else { continue }
            var isDirectory: Bool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory else { continue }
            _ = try ScriptFile.load(path: resolved, registry: registry, sourcedFrom: chain)
        }
    }

    /// The first option the command would refuse, mirroring `CommandSpec.parse`.
    package static func optionProblem(_ spec: CommandSpec, _ words: ArraySlice<Word>) -> (Word, String)? {
        var i = words.startIndex
        while i < words.endIndex {
            let word = words[i]
            i += 1
            let name: String
            var inline = false
            if let text = word.literalText {
                if text == "--" { return nil }
                guard text.hasPrefix("-"), text != "-", Double(text) == nil else { continue }
                if text.hasPrefix("--"), let eq = text.firstIndex(of: "=") {
                    name = String(text[..<eq])
                    inline = true
                } else {
                    name = text
                }
            } else if case let .literal(head)? = word.segments.first, head.hasPrefix("--"), let eq = head.firstIndex(of: "=") {
                name = String(head[..<eq])  // --model=$M: the name is known, the value is not
                inline = true
            } else {
                continue
            }
            guard let option = spec.option(named: name) else {
                var message = "\(spec.name): unknown option '\(name)'"
                if let s = Suggest.closest(to: name, among: spec.allOptions.flatMap(\.names)) { message += " (did you mean '\(s)'?)" }
                return (word, message)
            }
            if option.takesValue {
                var value: Word? = inline ? nil : (i < words.endIndex ? words[i] : nil)
                if !inline {
                    guard i + option.arity <= words.endIndex else {
                        return (word, "\(spec.name): option '\(name)' needs \(option.arity == 1 ? "a value" : "values") \(option.valueName!)")
                    }
                    i += option.arity
                }
                // A literal value of the wrong kind (`--timeout abc`); `--timeout=abc` too.
                var text = value?.literalText
                if inline, let whole = word.literalText, let eq = whole.firstIndex(of: "=") {
                    text = String(whole[whole.index(after: eq)...])
                    value = word
                }
                if let text, let value, let problem = option.problem(with: text) { return (value, "\(spec.name): " + problem) }
            } else if inline {
                return (word, "\(spec.name): option '\(name)' takes no value")
            }
        }
        return nil
    }

    private static func checkExpect(_ words: ArraySlice<Word>, at nameWord: Word, text: String, firstLine: Int) throws {
        let literal = words.map(\.literalText)
        guard literal.allSatisfy({ $0 != nil }) else { return }
        do {
            _ = try Expectation.parse(literal.map { $0! })
        } catch let e as UsageError {
            throw failure(e.message, at: words.first?.location ?? nameWord.location, text: text, firstLine: firstLine)
        }
    }

    private static func failure(_ message: String, at location: SourceLocation, text: String, firstLine: Int) -> ScriptSyntaxError {
        let index = location.line - firstLine
        var lineText = ""
        var n = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if n == index { lineText = String(line); break }
            n += 1
        }
        if lineText.hasSuffix("\r") { lineText.removeLast() }
        return ScriptSyntaxError(location: location, message: message, lineText: lineText)
    }
}
