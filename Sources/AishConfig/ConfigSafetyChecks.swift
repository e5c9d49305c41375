import FoundationEssentials
import Glibc
import AishBase
import AishYAML

/// `validate` checks about safety rather than routing (issue 16): a literal API key written
/// into providers.yaml (aish never reads it), and systemd unit names systemd would refuse.
/// Self-contained: it reads the loaded model and, only when the file mentions `api_key`,
/// parses providers.yaml once more for the key's position.
package enum ConfigSafetyChecks {
    package static func findings(_ config: AishConfig) -> [ConfigFinding] {
        apiKeyFindings(config.providers) + unitFindings(config)
    }

    // MARK: api_key

    /// Keys under a provider that look like a literal key: aish ignores them.
    package static let literalKeyNames: Set<String> = ["api_key", "apikey", "api-key", "api_token"]

    package static func apiKeyFindings(_ providers: ProvidersFile) -> [ConfigFinding] {
        guard let data = FileManager.default.contents(atPath: providers.path),
              data.firstRange(of: Array("api".utf8)) != nil,
              let document = try? YAMLParser.parse([UInt8](data), file: providers.path),
              let entries = document.root?["providers"]?.pairs
        else { return [] }
        var out: [ConfigFinding] = []
        for entry in entries {
            guard let name = entry.key.scalar, let keys = entry.value.pairs else { continue }
            let envVar = entry.value["env_var"]?.scalar
            for pair in keys {
                guard let key = pair.key.scalar, literalKeyNames.contains(key.lowercased()),
                      let value = pair.value.scalar, !value.isEmpty, !pair.value.isNull else { continue }
                // `os.environ/VAR` is LiteLLM's reference to a variable, not a key.
                if value.hasPrefix("os.environ/") { continue }
                let variable = envVar ?? suggestedVariable(name)
                let fix = envVar != nil
                    ? "put the key in the environment variable \(variable) (env_var already names it) and delete this line"
                    : "put the key in an environment variable, name it with `env_var: \(variable)`, and delete this line"
                out.append(ConfigFinding(
                    severity: .warning, location: pair.key.location,
                    message: "provider '\(name)': '\(key)' is not used: aish reads API keys only from the environment, never from providers.yaml; \(fix)",
                    check: .providers))
            }
        }
        return out
    }

    /// `openai` → OPENAI_API_KEY, `vllm-qwen` → VLLM_QWEN_API_KEY.
    package static func suggestedVariable(_ provider: String) -> String {
        let upper = provider.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        return String(upper) + "_API_KEY"
    }

    // MARK: systemd units

    package static func unitFindings(_ config: AishConfig) -> [ConfigFinding] {
        var out: [ConfigFinding] = []
        for p in config.providers.providers {
            guard let unit = UnitReference(configValue: p.serviceUnit), let why = SystemdUnitName.problem(unit.unit) else { continue }
            out.append(ConfigFinding(severity: .error, location: p.location,
                                     message: "provider '\(p.name)': service \(why)", check: .providers))
        }
        for s in config.ports.services {
            guard let unit = UnitReference(configValue: s.serviceUnit), let why = SystemdUnitName.problem(unit.unit) else { continue }
            out.append(ConfigFinding(severity: .error, location: s.location,
                                     message: "'\(s.name)': service \(why)", check: .ports))
        }
        return out
    }
}

/// Unit names as systemd checks them (`unit_name_is_valid`): `PREFIX[@INSTANCE].TYPE`, with
/// letters, digits and `:-_.\` (and one `@`), at most 255 bytes. A name without a type is
/// what `systemctl` completes with `.service`, so it is judged with that suffix.
package enum SystemdUnitName {
    package static let types: Set<String> = ["service", "socket", "target", "device", "mount", "automount", "swap", "timer",
                                     "path", "slice", "scope"]
    package static let maxLength = 255

    /// nil when systemd accepts `name`; else what is wrong, as the end of a sentence.
    package static func problem(_ name: String) -> String? {
        let shown = "'\(name.count > 80 ? String(name.prefix(80)) + "…" : name)'"
        guard !name.isEmpty else { return "is empty, not a systemd unit name" }
        let bad = name.unicodeScalars.filter { !isUnitCharacter($0) }
        if !bad.isEmpty {
            var seen: [String] = []
            for s in bad {
                let text = s == " " ? "space" : s.value < 0x20 || s.value == 0x7F ? "control character" : "'\(s)'"
                if !seen.contains(text) { seen.append(text) }
            }
            return "\(shown) is not a systemd unit name: \(seen.joined(separator: ", ")) not allowed (only letters, digits, ':', '-', '_', '.', '\\' and one '@')"
        }
        var full = name
        if let dot = name.lastIndex(of: "."), types.contains(String(name[name.index(after: dot)...])) {} else { full += ".service" }
        if full.utf8.count > maxLength { return "\(shown) is not a systemd unit name: longer than \(maxLength) bytes" }
        let base = String(full[..<full.lastIndex(of: ".")!])
        if base.isEmpty { return "\(shown) is not a systemd unit name: nothing before the type suffix" }
        let ats = base.filter { $0 == "@" }.count
        if ats > 1 { return "\(shown) is not a systemd unit name: more than one '@'" }
        if ats == 1, base.hasPrefix("@") { return "\(shown) is not a systemd unit name: nothing before '@'" }
        return nil
    }

    private static func isUnitCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", ":", "-", "_", ".", "\\", "@": return true
        default: return false
        }
    }
}
