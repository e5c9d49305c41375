import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// Tab completion from the command registry: command names and aliases, subcommands,
/// option names, and option values and positionals: the allowed words of an enumeration,
/// files for a path, else the declared `ValueCompletion`.
/// Pure Swift so it is tested without a terminal; the line editor only asks it.
package struct Completer {
    package let registry: CommandRegistry
    /// For `.dynamic` completions (provider names, models…); nil in tests of static completion.
    package let context: ShellContext?

    /// Candidates for the word under the cursor, given the line up to the cursor.
    package func complete(lineBeforeCursor line: String) -> [String] {
        let (done, partial) = Completer.split(line)
        return candidates(done: done, partial: partial).filter { $0.hasPrefix(partial) }
    }

    private func candidates(done: [String], partial: String) -> [String] {
        guard let first = done.first else { return unique(registry.allNames.sorted()) }
        guard let spec = registry.lookup(first) else { return [] }
        var positionalCount = 0
        var pendingOption: OptionSpec?
        /// Value words still to come for `pendingOption` (`-o NAME VALUE` takes two).
        var pendingValues = 0
        var optionsEnded = spec.rawArguments
        /// The subcommand word, once given: options and positionals of other subcommands are not offered.
        var subcommand: String?
        for word in done.dropFirst() {
            if pendingValues > 0 {
                pendingValues -= 1
                continue
            }
            if !optionsEnded, word == "--" {
                optionsEnded = true
                continue
            }
            if !optionsEnded, word.hasPrefix("-"), word.count > 1, Double(word) == nil {
                if !word.contains("="), let option = spec.option(named: word), option.takesValue {
                    pendingOption = option
                    pendingValues = option.arity
                }
                continue
            }
            if positionalCount == 0, spec.subcommands.contains(word) { subcommand = word }
            positionalCount += 1
        }
        if subcommand == nil, positionalCount == 0 { subcommand = spec.defaultSubcommand }
        func belongs(_ scope: [String]?) -> Bool { scope == nil || subcommand.map { scope!.contains($0) } ?? true }
        if pendingValues > 0, let option = pendingOption {
            // The option's first value word is completed; the ones after it are free text.
            return pendingValues == option.arity ? values(option.valueCompletion, partial: partial) : []
        }
        if !optionsEnded, partial.hasPrefix("-") {
            return unique(spec.allOptions.filter { belongs($0.subcommands) }.flatMap(\.names)
                .filter { $0.hasPrefix("--") || partial.count <= 2 })
        }
        var index = positionalCount
        if !spec.subcommands.isEmpty {
            if positionalCount == 0 { return spec.subcommands }
            index -= 1
        }
        let positionals = spec.positionals.filter { belongs($0.subcommands) }
        guard !positionals.isEmpty else { return [] }
        if index >= positionals.count {
            guard positionals.last!.variadic else { return [] }
            index = positionals.count - 1
        }
        return values(positionals[index].valueCompletion, partial: partial)
    }

    private func values(_ completion: ValueCompletion, partial: String) -> [String] {
        switch completion {
        case .none: return []
        case let .words(words): return words
        case .files: return Completer.files(partial)
        case let .dynamic(make): return context.map { unique(make($0)) } ?? []
        }
    }

    private func unique(_ words: [String]) -> [String] {
        var seen = Set<String>()
        return words.filter { seen.insert($0).inserted }
    }

    /// Paths starting with `partial`; directories end in "/" so completion can go on.
    package static func files(_ partial: String) -> [String] {
        let slash = partial.lastIndex(of: "/")
        let dirPart = slash.map { String(partial[...$0]) } ?? ""
        let base = slash.map { String(partial[partial.index(after: $0)...]) } ?? partial
        var listDir = dirPart.isEmpty ? "." : dirPart
        if listDir.hasPrefix("~/") { listDir = homeDirectory() + listDir.dropFirst() }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: listDir) else { return [] }
        return names.filter { $0.hasPrefix(base) && (base.hasPrefix(".") || !$0.hasPrefix(".")) }.sorted().map { name in
            var isDir: Bool = false
            let directory = FileManager.default.fileExists(atPath: listDir + "/" + name, isDirectory: &isDir) && isDir
            return dirPart + name + (directory ? "/" : "")
        }
    }

    /// The finished words of the command under the cursor (after the last `;`) and the
    /// partial word being typed. Quotes are removed; an open quote belongs to the partial word.
    package static func split(_ line: String) -> (done: [String], partial: String) {
        var done: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in line {
            if escaped {
                current.append(c)
                escaped = false
                continue
            }
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            switch c {
            case "\\":
                escaped = true
                inWord = true
            case "'", "\"":
                quote = c
                inWord = true
            case " ", "\t":
                if inWord { done.append(current) }
                current = ""
                inWord = false
            case ";":
                done = []
                current = ""
                inWord = false
            default:
                current.append(c)
                inWord = true
            }
        }
        return (done, current)
    }
}
