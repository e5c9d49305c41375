/// A command's usage line, made from its declaration so that it cannot drift from what the
/// parser accepts:
///
///     name SUBCOMMAND REQUIRED... [--option VALUE [--goes-with]] [--a | --b] [OPTIONAL [REST...]]
///
/// Options show their canonical (long) name and the placeholder of their value kind
/// (`--format md|json|text`); options common to every command (`--json`, `--help`) are left
/// out. A command whose options or positionals belong to some subcommands shows one form per
/// subcommand, and an option that makes a form of its own (`route --all`) one more, joined
/// by " | ".
package struct UsageLine {
    package let spec: CommandSpec

    package init(_ spec: CommandSpec) { self.spec = spec }

    package var text: String {
        var forms: [String] = []
        let scoped = spec.options.contains { $0.subcommands != nil } || spec.positionals.contains { $0.subcommands != nil }
        if spec.subcommands.isEmpty {
            forms.append(form(head: spec.name, subcommand: nil))
        } else if scoped {
            for word in spec.subcommands {
                let head = word == spec.defaultSubcommand ? "[\(word)]" : word
                forms.append(form(head: "\(spec.name) \(head)", subcommand: word))
            }
        } else {
            let words = spec.subcommands.joined(separator: "|")
            forms.append(form(head: "\(spec.name) " + (spec.defaultSubcommand == nil ? words : "[\(words)]"), subcommand: nil))
        }
        for option in spec.options where option.alone {
            forms.append("\(spec.name) \(option.canonical)")
        }
        return forms.joined(separator: " | ")
    }

    private func form(head: String, subcommand: String?) -> String {
        func belongs(_ scope: [String]?) -> Bool { subcommand == nil || scope == nil || scope!.contains(subcommand!) }
        let options = spec.options.filter { !$0.alone && belongs($0.subcommands) }
        let positionals = spec.positionals.filter { belongs($0.subcommands) }
        let present = Set(options.map(\.canonical))
        // An option shown inside another's brackets is not shown on its own.
        let topLevel = options.filter { $0.goesWith.map { !present.contains($0) } ?? true }

        func inner(_ option: OptionSpec) -> String {
            var text = option.canonical + (option.valueName.map { " \($0)" } ?? "")
            for child in options where child.goesWith == option.canonical {
                text += " " + bracketed(child)
            }
            return text
        }
        func bracketed(_ option: OptionSpec) -> String {
            option.required ? inner(option) : "[\(inner(option))]" + (option.repeatable ? "..." : "")
        }

        var parts = [head]
        parts += positionals.filter { !$0.optional }.map(\.usageWord)
        var shownGroups = Set<String>()
        for option in topLevel {
            if let group = option.alternatives {
                guard shownGroups.insert(group).inserted else { continue }
                let members = topLevel.filter { $0.alternatives == group }
                parts.append("[" + members.map(inner).joined(separator: " | ") + "]")
            } else {
                parts.append(bracketed(option))
            }
        }
        // A trailing list of optional words is shown inside the optional word before it
        // (`set [NAME [VALUE...]]`): it can be given only after that word.
        var optional = ""
        for p in positionals.filter(\.optional).reversed() {
            if optional.isEmpty {
                optional = "[\(p.usageWord)]"
            } else if optional.hasSuffix("...]"), !optional.contains(" ") {
                optional = "[\(p.usageWord) \(optional)]"
            } else {
                optional = "[\(p.usageWord)] " + optional
            }
        }
        if !optional.isEmpty { parts.append(optional) }
        return parts.joined(separator: " ")
    }
}
