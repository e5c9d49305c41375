import AishBase

/// Turns parsed words into argument strings when a command runs: `$NAME` from script
/// variables then the environment, `$1..`/`$@`/`$#` from the script's arguments.
///
/// Unlike a POSIX shell there is no word splitting: `$VAR` is one argument whatever it holds
/// (a prompt with spaces stays one prompt). A word that is exactly `$@` (quoted or not)
/// becomes one argument per script argument; an unquoted word that expands to nothing is
/// dropped, as in a shell.
package struct WordExpansion {
    package var variables: [String: String]
    package var environment: [String: String]
    package var arguments: [String]
    package var scriptName: String

    package init(variables: [String: String], environment: [String: String], arguments: [String], scriptName: String) {
        self.variables = variables
        self.environment = environment
        self.arguments = arguments
        self.scriptName = scriptName
    }

    package func expand(_ words: [Word]) -> [String] {
        var out: [String] = []
        for w in words {
            if w.segments == [.allArguments] {
                out.append(contentsOf: arguments)
                continue
            }
            let text = expand(w)
            if text.isEmpty && !w.quoted { continue }
            out.append(text)
        }
        return out
    }

    package func expand(_ word: Word) -> String {
        var text = ""
        for segment in word.segments {
            switch segment {
            case let .literal(t): text += t
            case let .variable(name): text += variables[name] ?? environment[name] ?? ""
            case let .positional(n):
                if n == 0 { text += scriptName } else if n <= arguments.count { text += arguments[n - 1] }
            case .allArguments: text += arguments.joined(separator: " ")
            case .argumentCount: text += String(arguments.count)
            }
        }
        return text
    }
}
