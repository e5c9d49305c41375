/// Replaces secrets with `***` before anything reaches the log or the history file: the
/// values of environment variables whose names look secret (…KEY…, …TOKEN…, …SECRET…,
/// …PASSWORD…), that providers name as their `env_var`, or of script variables with such
/// names, plus everything `SecretPatterns` recognises in the text itself.
struct SecretRedactor: Sendable {
    static let mask = "***"
    private static let secretNameParts = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
    /// Shorter values are too common to be secrets ("1", "yes"); masking them would mangle text.
    private static let minimumSecretLength = 4

    /// Longest first, so a secret that contains another is masked whole.
    private(set) var secretValues: [String] = []
    private let environment: [String: String]

    init(environment: [String: String], extraSecretNames: [String] = []) {
        self.environment = environment
        var values = Set<String>()
        for (name, value) in environment where SecretRedactor.looksSecret(name) { values.insert(value) }
        for name in extraSecretNames { if let v = environment[name] { values.insert(v) } }
        secretValues = SecretRedactor.usable(values)
    }

    /// `api_key`, `GITHUB_TOKEN`, `db_password`; not counts such as `max_tokens`.
    /// Compares ASCII bytes: it runs for every environment variable at start-up, and
    /// String's generic `contains` costs far more there than the whole check.
    static func looksSecret(_ name: String) -> Bool {
        var upper = name.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        while let i = firstOccurrence(of: countsBytes, in: upper) { upper.removeSubrange(i..<i + countsBytes.count) }
        return secretNamePartBytes.contains { firstOccurrence(of: $0, in: upper) != nil }
    }

    private static let secretNamePartBytes = secretNameParts.map { Array($0.utf8) }
    /// "TOKENS" names counts (max_tokens), not tokens.
    private static let countsBytes = Array("TOKENS".utf8)

    private static func firstOccurrence(of part: [UInt8], in bytes: [UInt8]) -> Int? {
        guard part.count <= bytes.count else { return nil }
        outer: for start in 0...(bytes.count - part.count) {
            for (k, b) in part.enumerated() where bytes[start + k] != b { continue outer }
            return start
        }
        return nil
    }

    /// Also masks these values (script variables with secret-looking names).
    mutating func addSecretValues(_ values: [String]) {
        secretValues = SecretRedactor.usable(Set(secretValues).union(values))
    }

    /// Also masks the values of these variables (providers' `env_var`).
    mutating func addSecretNames(_ names: [String]) {
        var values = Set(secretValues)
        for name in names { if let v = environment[name] { values.insert(v) } }
        secretValues = SecretRedactor.usable(values)
    }

    private static func usable(_ values: Set<String>) -> [String] {
        values.filter { $0.count >= minimumSecretLength && !$0.allSatisfy(\.isWhitespace) }
            .sorted { $0.utf8.count > $1.utf8.count }
    }

    func redact(_ text: String) -> String {
        var out = text
        for v in secretValues where out.contains(v) {
            out = out.replacingAll(v, with: SecretRedactor.mask)
        }
        return SecretRedactor.redactTokenPatterns(out)
    }

    func redact(_ text: String?) -> String? { text.map { redact($0) } }

    /// Masks what looks like a secret whatever the environment holds (see `SecretPatterns`).
    static func redactTokenPatterns(_ text: String) -> String { SecretPatterns.redact(text) }
}
