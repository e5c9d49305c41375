/// Replaces secrets with `***` before anything reaches the log file: the values of
/// environment variables whose names look secret (…KEY…, …TOKEN…, …SECRET…, …PASSWORD…)
/// or that providers name as their `env_var`, plus `Bearer <token>` and `sk-…` keys.
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

    static func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return secretNameParts.contains { upper.contains($0) }
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

    /// `Bearer <token>` (any case) and OpenAI-style `sk-…` keys (at least 8 key characters
    /// after the prefix, at a word start).
    static func redactTokenPatterns(_ text: String) -> String {
        let bytes = Array(text.utf8)
        // Fast path: nothing that could match.
        guard bytes.count >= 6 else { return text }
        var out: [UInt8] = []
        var i = 0
        var changed = false
        func isKeyByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x5f
        }
        func isTokenByte(_ b: UInt8) -> Bool { isKeyByte(b) || b == 0x2e || b == 0x2b || b == 0x2f || b == 0x3d || b == 0x7e }
        func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5a) ? b + 32 : b }
        let bearer: [UInt8] = Array("bearer".utf8)
        while i < bytes.count {
            let atWordStart = i == 0 || !isKeyByte(bytes[i - 1])
            if atWordStart, i + 7 < bytes.count, (0..<6).allSatisfy({ lower(bytes[i + $0]) == bearer[$0] }),
                bytes[i + 6] == 0x20 || bytes[i + 6] == 0x09
            {
                var j = i + 6
                while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 { j += 1 }
                var k = j
                while k < bytes.count, isTokenByte(bytes[k]) { k += 1 }
                if k > j, !(bytes[j..<k].elementsEqual(SecretRedactor.mask.utf8)) {
                    out.append(contentsOf: bytes[i..<j])
                    out.append(contentsOf: SecretRedactor.mask.utf8)
                    i = k
                    changed = true
                    continue
                }
            }
            if atWordStart, i + 3 < bytes.count, bytes[i] == 0x73, bytes[i + 1] == 0x6b, bytes[i + 2] == 0x2d {
                var k = i + 3
                while k < bytes.count, isKeyByte(bytes[k]) { k += 1 }
                if k - (i + 3) >= 8 {
                    out.append(contentsOf: SecretRedactor.mask.utf8)
                    i = k
                    changed = true
                    continue
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }
}
