/// Replaces secrets with `***` before anything reaches the terminal, a file, the log or the
/// history file: the values of environment variables whose names look secret
/// (`looksSecret`), that providers name as their `env_var`, or of script variables with such
/// names, plus everything `SecretPatterns` recognises in the text itself.
package struct SecretRedactor: Sendable {
    package static let mask = "***"
    /// Shorter values are too common to be secrets ("1", "yes"); masking them would mangle text.
    private static let minimumSecretLength = 4

    /// Longest first, so a secret that contains another is masked whole.
    package private(set) var secretValues: [String] = []
    /// Where `addSecretNames` looks the names up.
    let environment: [String: String]

    package init(environment: [String: String], extraSecretNames: [String] = []) {
        self.environment = environment
        var values = Set<String>()
        for (name, value) in environment where SecretRedactor.looksSecret(name) { values.insert(value) }
        for name in extraSecretNames { if let v = environment[name] { values.insert(v) } }
        secretValues = SecretRedactor.usable(values)
    }

    /// `api_key`, `GITHUB_TOKEN`, `db_password`, `accessToken`, `client_secret`; not counts
    /// and measurements such as `max_tokens`, `predicted_per_token_ms`, `token_count` or
    /// `TOKENIZERS_PARALLELISM`. The name is cut into words (at `_`, `-`, `.`, and where
    /// lower case turns upper case): a word that contains password, passwd, passphrase,
    /// secret or credential, or ends in key or token, unless that key or token is preceded by
    /// "per" or followed by a unit or count (`ms`, `seconds`, `count`, `id`, `limit`…).
    /// Compares ASCII bytes: it runs for every environment variable at start-up.
    package static func looksSecret(_ name: String) -> Bool {
        guard mayLookSecret(name) else { return false }
        let words = nameWords(name)
        for (n, w) in words.enumerated() {
            if secretWordParts.contains(where: { contains(w, $0) }) { return true }
            guard endsWith(w, keyBytes) || endsWith(w, tokenBytes) else { continue }
            if n > 0, words[n - 1] == perBytes { continue }
            if n + 1 < words.count, measureWords.contains(words[n + 1]) { continue }
            return true
        }
        return false
    }

    /// Whether the name holds "key", "ken" (token), "ass" (password, passwd, passphrase) or
    /// "cre" (secret, credential) in any case: most names the text scanner asks about do not,
    /// and this check allocates nothing.
    private static func mayLookSecret(_ name: String) -> Bool { mayLookSecret(utf8: name.utf8) }

    /// `mayLookSecret` of a name given as its bytes (the text scanner asks it of every word).
    static func mayLookSecret<Bytes: Sequence<UInt8>>(utf8 name: Bytes) -> Bool {
        var a: UInt8 = 0, b: UInt8 = 0
        for c in name {
            let l = c >= 0x41 && c <= 0x5A ? c + 0x20 : c
            switch (a, b, l) {
            case (0x6B, 0x65, 0x79), (0x6B, 0x65, 0x6E), (0x61, 0x73, 0x73), (0x63, 0x72, 0x65): return true
            default: (a, b) = (b, l)
            }
        }
        return false
    }

    private static let secretWordParts = ["password", "passwd", "passphrase", "secret", "credential"].map { Array($0.utf8) }
    private static let keyBytes = Array("key".utf8), tokenBytes = Array("token".utf8), perBytes = Array("per".utf8)
    private static let measureWords: Set<[UInt8]> = Set([
        "ms", "s", "sec", "secs", "second", "seconds", "count", "counts", "total", "id", "ids", "len", "length",
        "limit", "limits", "size", "type", "usage", "budget", "rate", "index", "idx", "bucket", "sum", "per",
    ].map { Array($0.utf8) })

    /// Lower-cased words of a name; bytes outside ASCII belong to words.
    private static func nameWords(_ name: String) -> [[UInt8]] {
        var words: [[UInt8]] = []
        var word: [UInt8] = []
        var previousLower = false
        for c in name.utf8 {
            let upper = c >= 0x41 && c <= 0x5A
            let lowerLetter = c >= 0x61 && c <= 0x7A
            let partOfWord = upper || lowerLetter || (c >= 0x30 && c <= 0x39) || c >= 0x80
            if !partOfWord || (upper && previousLower) {
                if !word.isEmpty { words.append(word); word = [] }
            }
            if partOfWord { word.append(upper ? c + 0x20 : c) }
            previousLower = lowerLetter || (c >= 0x30 && c <= 0x39)
        }
        if !word.isEmpty { words.append(word) }
        return words
    }

    private static func endsWith(_ w: [UInt8], _ suffix: [UInt8]) -> Bool {
        w.count >= suffix.count && w[(w.count - suffix.count)...].elementsEqual(suffix)
    }

    private static func contains(_ bytes: [UInt8], _ part: [UInt8]) -> Bool {
        guard part.count <= bytes.count else { return false }
        outer: for start in 0...(bytes.count - part.count) {
            for (k, b) in part.enumerated() where bytes[start + k] != b { continue outer }
            return true
        }
        return false
    }

    /// Also masks these values (script variables with secret-looking names).
    package mutating func addSecretValues(_ values: [String]) {
        secretValues = SecretRedactor.usable(Set(secretValues).union(values))
    }

    /// Also masks the values of these variables (providers' `env_var`).
    package mutating func addSecretNames(_ names: [String]) {
        var values = Set(secretValues)
        for name in names { if let v = environment[name] { values.insert(v) } }
        secretValues = SecretRedactor.usable(values)
    }

    private static func usable(_ values: Set<String>) -> [String] {
        values.filter { $0.count >= minimumSecretLength && !$0.allSatisfy(\.isWhitespace) }
            .sorted { $0.utf8.count > $1.utf8.count }
    }

    package func redact(_ text: String) -> String {
        var out = text
        for v in secretValues where out.contains(v) {
            out = out.replacingAll(v, with: SecretRedactor.mask)
        }
        return SecretRedactor.redactTokenPatterns(out)
    }

    package func redact(_ text: String?) -> String? { text.map { redact($0) } }

    /// Masks what looks like a secret whatever the environment holds (see `SecretPatterns`).
    package static func redactTokenPatterns(_ text: String) -> String { SecretPatterns.redact(text) }
}

/// The secret filter of one aish process, built once: the output step (terminal and files),
/// the session log and the history file all mask with it, and it learns the values that
/// become secret while aish runs (a provider's `env_var` once the config loads, `set api_key V`).
package final class SecretFilter: Sendable {
    private let redactor: Locked<SecretRedactor>

    package init(environment: [String: String]) { redactor = Locked(SecretRedactor(environment: environment)) }

    /// Masks the secret values of this environment too (the shell's, once it is known).
    package func adopt(environment: [String: String]) {
        redactor.withLock { redactor in
            guard environment != redactor.environment else { return }
            let learned = redactor.secretValues
            redactor = SecretRedactor(environment: environment)
            redactor.addSecretValues(learned)
        }
    }

    package var current: SecretRedactor { redactor.value }

    package func redact(_ text: String) -> String { current.redact(text) }

    package func addSecretNames(_ names: [String]) { redactor.withLock { $0.addSecretNames(names) } }
    package func addSecretValues(_ values: [String]) { redactor.withLock { $0.addSecretValues(values) } }
}
