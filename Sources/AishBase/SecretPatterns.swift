/// Secrets recognisable in text itself, masked as `***` in all output, the history file and
/// the session log whatever the environment holds:
///
/// - API keys by their published prefixes: `sk-…` (OpenAI, Anthropic), `sk_live_`/`sk_test_`
///   (Stripe), `AKIA…`/`ASIA…` (AWS access key ids), `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/
///   `github_pat_` (GitHub), `xoxb-`/`xoxp-`/`xoxa-`/`xoxr-`/`xoxs-` (Slack), `hf_` (Hugging
///   Face), and JSON Web Tokens (`eyJ….….…`);
/// - `Bearer <token>`, and the value of an `Authorization:` header (its scheme is kept);
/// - the value given to a name that looks secret (`SecretRedactor.looksSecret`): `api_key=V`,
///   `"db_password": "V"`, `token: V`, `--var api_key=V`, and `set api_key V` (the rest of
///   the command); not a number, true, false or null (a measurement, unless the name says
///   password) nor `os.environ/VAR`;
/// - the value of an option with such a name or one starting with auth: `--api-key V`,
///   `--password 'a b'`, `--auth V`.
///
/// A byte scanner, no regular expressions: the log calls it on every prompt and reply.
package enum SecretPatterns {
    package static let mask = "***"

    /// Prefix, shortest body after it, and which bytes the body may hold.
    private static let prefixes: [(prefix: [UInt8], minimumBody: Int, body: @Sendable (UInt8) -> Bool)] = [
        ("github_pat_", 16, isWordByte), ("sk_live_", 8, isWordByte), ("sk_test_", 8, isWordByte),
        ("rk_live_", 8, isWordByte), ("rk_test_", 8, isWordByte),
        ("xoxb-", 8, isWordByte), ("xoxp-", 8, isWordByte), ("xoxa-", 8, isWordByte), ("xoxr-", 8, isWordByte),
        ("xoxs-", 8, isWordByte), ("ghp_", 16, isWordByte), ("gho_", 16, isWordByte), ("ghu_", 16, isWordByte),
        ("ghs_", 16, isWordByte), ("ghr_", 16, isWordByte), ("sk-", 8, isWordByte),
        // Hugging Face tokens are hf_ + 34 letters; `hf_transfer` and the like are not.
        ("hf_", 20, isAlphanumeric),
    ].map { (Array($0.0.utf8), $0.1, $0.2) }

    /// Read in place and copied only when something is masked: a 1 MiB reply with no
    /// secret in it costs no memory here (it used to cost two copies of itself).
    package static func redact(_ text: String) -> String {
        var text = text
        text.makeContiguousUTF8()   // a no-op for native strings
        return text.utf8.withContiguousStorageIfAvailable { redact(bytes: $0, text) } ?? text
    }

    /// Where `text` (UTF-8 offsets) holds secrets; `toLineEnd` when the secret runs to the end
    /// of the line (an `Authorization:` value, `set NAME VALUE`), so text still to come on that
    /// line may belong to it.
    package static func spans(in text: String) -> [(range: Range<Int>, toLineEnd: Bool)] {
        var text = text
        text.makeContiguousUTF8()
        return text.utf8.withContiguousStorageIfAvailable { b in scan(b).map { ($0.range, $0.toLineEnd) } } ?? []
    }

    private typealias Bytes = UnsafeBufferPointer<UInt8>

    private struct Edit {
        var range: Range<Int>
        var with: [UInt8]
        var toLineEnd = false
    }

    private static func redact(bytes b: Bytes, _ text: String) -> String {
        let edits = scan(b)
        guard !edits.isEmpty else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var kept = 0
        for edit in edits {
            out.append(contentsOf: b[kept..<edit.range.lowerBound])
            out.append(contentsOf: edit.with)
            kept = edit.range.upperBound
        }
        out.append(contentsOf: b[kept...])
        return String(decoding: out, as: UTF8.self)
    }

    /// The secrets in `b`, in order.
    private static func scan(_ b: Bytes) -> [Edit] {
        guard b.count >= 4 else { return [] }
        var edits: [Edit] = []
        let masked = Array(mask.utf8)
        var i = 0
        // True at the start of the text and after a newline or `;` (for `set NAME VALUE`).
        var atCommandStart = true

        while i < b.count {
            let atWordStart = i == 0 || !isWordByte(b[i - 1])
            guard atWordStart, isWordByte(b[i]) else {
                if b[i] == 0x0A || b[i] == 0x3B { atCommandStart = true }
                else if b[i] != 0x20 && b[i] != 0x09 { atCommandStart = false }
                i += 1
                continue
            }
            let commandStart = atCommandStart
            atCommandStart = false
            if let end = prefixedKey(b, at: i) ?? awsKeyID(b, at: i) ?? jsonWebToken(b, at: i) {
                edits.append(Edit(range: i..<end, with: masked))
                i = end
                continue
            }
            if let valueStart = authorization(b, at: i) {
                if let value = valueToLineEnd(b, from: valueStart) {
                    edits.append(Edit(range: value, with: masked, toLineEnd: true))
                    i = value.upperBound
                } else {
                    i = valueStart
                }
                continue
            }
            if let (tokenStart, tokenEnd) = bearer(b, at: i) {
                edits.append(Edit(range: tokenStart..<tokenEnd, with: masked))
                i = tokenEnd
                continue
            }
            // A name: is it a secret one given a value?
            let nameStart = i
            var j = i
            while j < b.count, isNameByte(b[j]) { j += 1 }
            i = j
            // Most words are neither `set`, an option nor a name that may look secret: no
            // String is made of them (one a word showed in the session log writer's CPU time).
            let isOption = b[nameStart] == 0x2D
            if !isOption, !(commandStart && j - nameStart == 3), !SecretRedactor.mayLookSecret(utf8: b[nameStart..<j]) { continue }
            let name = String(decoding: b[nameStart..<j], as: UTF8.self)
            if commandStart, name == "set" {
                // `set NAME VALUE...`: the value is the rest of the command.
                var k = j
                while k < b.count, b[k] == 0x20 || b[k] == 0x09 { k += 1 }
                var e = k
                while e < b.count, isNameByte(b[e]) { e += 1 }
                guard e > k, SecretRedactor.looksSecret(String(decoding: b[k..<e], as: UTF8.self)) else { continue }
                var v = e
                while v < b.count, b[v] == 0x20 || b[v] == 0x09 { v += 1 }
                var end = v
                while end < b.count, b[end] != 0x0A, b[end] != 0x3B { end += 1 }
                guard v > e, end > v, !b[v..<end].elementsEqual(mask.utf8) else { continue }
                edits.append(Edit(range: v..<end, with: masked, toLineEnd: true))
                i = end
                continue
            }
            guard SecretRedactor.looksSecret(name) || (isOption && isAuthOption(b[nameStart..<j])) else { continue }
            var k = j
            if k < b.count, b[k] == 0x22 || b[k] == 0x27 { k += 1 }  // "api_key": …
            while k < b.count, b[k] == 0x20 || b[k] == 0x09 { k += 1 }
            guard k < b.count else { continue }
            if isOption, k > j, b[k] != 0x2D, b[k] != 0x3D, b[k] != 0x0A {
                // `--api-key VALUE`, `--password 'a phrase'`, `--auth-header VALUE`.
                if let (replacement, end) = maskedValue(b, from: k) {
                    edits.append(Edit(range: k..<end, with: replacement))
                    i = end
                }
                continue
            }
            // `key: …` in prose ("needs an API key: set …") is not an assignment.
            let separator = b[k] == 0x3D || (b[k] == 0x3A && name.lowercased() != "key")
            guard separator else { continue }
            k += 1
            while k < b.count, b[k] == 0x20 || b[k] == 0x09 { k += 1 }
            // A number, true, false or null given to a name is a measurement or a setting
            // (`"predicted_per_token_ms": 12.5`, `keyspace_hits:3`), not a credential; an
            // option's or a password's value is masked whatever it looks like.
            if !isOption, !mentionsPassword(b[nameStart..<j]), let end = plainValue(b, from: k) { i = end; continue }
            // `os.environ/VAR` (LiteLLM's reference to a variable) names a key, it is not one.
            let quoted = k < b.count && (b[k] == 0x22 || b[k] == 0x27)
            if b[(quoted ? k + 1 : k)...].starts(with: "os.environ/".utf8) { continue }
            if let (replacement, end) = maskedValue(b, from: k) {
                edits.append(Edit(range: k..<end, with: replacement))
                i = end
            }
        }
        return edits
    }

    /// `--auth`, `--auth-header`, `--authorization`: options whose value authenticates.
    private static func isAuthOption(_ name: Slice<Bytes>) -> Bool {
        let bare = name.drop { $0 == 0x2D }
        return bare.count >= 4 && zip(bare.prefix(4), "auth".utf8).allSatisfy { lower($0) == $1 }
    }

    private static func mentionsPassword(_ name: Slice<Bytes>) -> Bool {
        let word = Array("pass".utf8)
        guard name.count >= word.count else { return false }
        let lowered = name.map(lower)
        return (0...(lowered.count - word.count)).contains { s in (0..<word.count).allSatisfy { lowered[s + $0] == word[$0] } }
    }

    /// Where a bare JSON number, `true`, `false` or `null` at `start` ends; nil if the value is
    /// anything else.
    private static func plainValue(_ b: Bytes, from start: Int) -> Int? {
        var k = start
        while k < b.count, !endsBareValue(b[k]), b[k] != 0x5D { k += 1 }
        guard k > start else { return nil }
        let v = b[start..<k]
        for word in ["true", "false", "null"] where v.elementsEqual(word.utf8) { return k }
        var i = start
        if b[i] == 0x2D || b[i] == 0x2B { i += 1 }
        let digitsStart = i
        while i < k, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == 0x2E { i += 1 }
        guard i > digitsStart, b[digitsStart] != 0x2E else { return nil }
        if i < k, b[i] == 0x65 || b[i] == 0x45 {
            i += 1
            if i < k, b[i] == 0x2D || b[i] == 0x2B { i += 1 }
            while i < k, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        }
        return i == k ? k : nil
    }

    /// The masked form of the value at `start` and where it ends; nil when there is no value
    /// (or it is masked already). A quoted value keeps its quotes.
    ///
    /// Text may be JSON-escaped (a label set inside a `--json` string: `api_key=\"V\"`): an
    /// escape (`\"`, `\\`) is kept whole or masked whole, never cut in half, so masked JSON
    /// stays JSON.
    private static func maskedValue(_ b: Bytes, from start: Int) -> ([UInt8], Int)? {
        if start < b.count, b[start] == 0x22 || b[start] == 0x27 {
            let quote = b[start]
            var e = start + 1
            while e < b.count, b[e] != quote, b[e] != 0x0A { e += b[e] == 0x5C ? 2 : 1 }
            e = min(e, b.count)
            guard e > start + 1, !b[(start + 1)..<e].elementsEqual(mask.utf8) else { return nil }
            return ([quote] + Array(mask.utf8), e)
        }
        if start + 1 < b.count, b[start] == 0x5C, b[start + 1] == 0x22 || b[start + 1] == 0x27 {
            // An escaped quote opens the value: it ends at the matching escaped quote.
            let quote = b[start + 1]
            var e = start + 2
            while e < b.count, b[e] != 0x0A {
                if b[e] == 0x5C {
                    if e + 1 < b.count, b[e + 1] == quote { break }
                    e += 2
                    continue
                }
                e += 1
            }
            e = min(e, b.count)
            guard e > start + 2, !b[(start + 2)..<e].elementsEqual(mask.utf8) else { return nil }
            return ([0x5C, quote] + Array(mask.utf8), e)
        }
        var k = start
        while k < b.count, !endsBareValue(b[k]) {
            if b[k] == 0x5C {
                // An escaped quote ends the value; any other escape is one unit.
                guard k + 1 < b.count, b[k + 1] != 0x22, b[k + 1] != 0x27 else { break }
                k += 2
                continue
            }
            k += 1
        }
        k = min(k, b.count)
        guard k > start, !b[start..<k].elementsEqual(mask.utf8) else { return nil }
        return (Array(mask.utf8), k)
    }

    /// The value of a header from `start` to the end of its line (trailing blanks left out);
    /// nil when it is empty or masked already.
    private static func valueToLineEnd(_ b: Bytes, from start: Int) -> Range<Int>? {
        var end = start
        while end < b.count, b[end] != 0x0A, b[end] != 0x0D, b[end] != 0x22, b[end] != 0x27, b[end] != 0x3B { end += 1 }
        var valueEnd = end
        while valueEnd > start, b[valueEnd - 1] == 0x20 || b[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        guard valueEnd > start, !b[start..<valueEnd].elementsEqual(mask.utf8) else { return nil }
        return start..<valueEnd
    }

    // MARK: - Recognisers (each returns where the secret ends, or nil)

    /// Whether a byte begins one of `prefixes` (most words begin none).
    private static let prefixFirstBytes: [Bool] = (0..<256).map { c in prefixes.contains { $0.prefix[0] == UInt8(c) } }

    private static func prefixedKey(_ b: Bytes, at i: Int) -> Int? {
        guard prefixFirstBytes[Int(b[i])] else { return nil }
        for p in prefixes where b.count - i > p.prefix.count && b[i] == p.prefix[0] {
            guard b[i..<(i + p.prefix.count)].elementsEqual(p.prefix) else { continue }
            var k = i + p.prefix.count
            while k < b.count, p.body(b[k]) { k += 1 }
            if k - (i + p.prefix.count) >= p.minimumBody { return k }
        }
        return nil
    }

    /// AKIA/ASIA and exactly 16 upper-case letters or digits.
    private static func awsKeyID(_ b: Bytes, at i: Int) -> Int? {
        guard b.count - i >= 20, b[i] == 0x41, b[i + 2] == 0x49, b[i + 3] == 0x41, b[i + 1] == 0x4B || b[i + 1] == 0x53
        else { return nil }
        let body = b[(i + 4)..<(i + 20)]
        guard body.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }) else { return nil }
        if i + 20 < b.count, isWordByte(b[i + 20]) { return nil }
        return i + 20
    }

    /// `eyJ` + base64url, `.`, base64url, `.`, base64url (header, payload, signature).
    private static func jsonWebToken(_ b: Bytes, at i: Int) -> Int? {
        guard b.count - i > 12, b[i] == 0x65, b[i + 1] == 0x79, b[i + 2] == 0x4A else { return nil }
        var k = i
        for segment in 0..<3 {
            let start = k
            while k < b.count, isBase64URL(b[k]) { k += 1 }
            if k - start < (segment == 0 ? 10 : 1) { return nil }
            if segment < 2 {
                guard k < b.count, b[k] == 0x2E else { return nil }
                k += 1
            }
        }
        return k
    }

    /// `Authorization:` (any case): returns where the value starts (after the scheme, if any).
    private static let authorizationWord = Array("authorization:".utf8)

    private static func authorization(_ b: Bytes, at i: Int) -> Int? {
        let word = authorizationWord
        guard lower(b[i]) == word[0], b.count - i > word.count, (0..<word.count).allSatisfy({ lower(b[i + $0]) == word[$0] })
        else { return nil }
        var k = i + word.count
        while k < b.count, b[k] == 0x20 || b[k] == 0x09 { k += 1 }
        // A scheme (Bearer, Basic, Token) stays readable.
        var s = k
        while s < b.count, isLetter(b[s]) { s += 1 }
        if s > k, s < b.count, b[s] == 0x20 {
            var v = s
            while v < b.count, b[v] == 0x20 { v += 1 }
            // At the end of the text the value is still to come (a streamed reply).
            if v == b.count || b[v] != 0x0A { return v }
        }
        return k
    }

    /// `Bearer <token>` (any case).
    private static let bearerWord = Array("bearer".utf8)

    private static func bearer(_ b: Bytes, at i: Int) -> (Int, Int)? {
        let word = bearerWord
        guard lower(b[i]) == word[0], b.count - i > 7, (0..<6).allSatisfy({ lower(b[i + $0]) == word[$0] }), b[i + 6] == 0x20 || b[i + 6] == 0x09
        else { return nil }
        var j = i + 6
        while j < b.count, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
        var k = j
        while k < b.count, isTokenByte(b[k]) { k += 1 }
        guard k > j, !b[j..<k].elementsEqual(mask.utf8) else { return nil }
        return (j, k)
    }

    // MARK: - Bytes

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
    private static func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    private static func isWordByte(_ c: UInt8) -> Bool { isAlphanumeric(c) || c == 0x2D || c == 0x5F }
    private static func isNameByte(_ c: UInt8) -> Bool { isWordByte(c) || c == 0x2E }
    private static func isBase64URL(_ c: UInt8) -> Bool { isAlphanumeric(c) || c == 0x2D || c == 0x5F }
    private static func isTokenByte(_ c: UInt8) -> Bool {
        isWordByte(c) || c == 0x2E || c == 0x2B || c == 0x2F || c == 0x3D || c == 0x7E
    }
    /// Where an unquoted value ends.
    private static func endsBareValue(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x2C || c == 0x3B || c == 0x26 || c == 0x7D
            || c == 0x29 || c == 0x22 || c == 0x27
    }
    private static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c + 32 : c }
}

extension SecretPatterns {
    /// A process's arguments with their secrets masked, for showing a command line (`status`,
    /// `report`): the value of an option whose name looks secret or starts with auth
    /// (`--api-key V`, `--api-key=V`, `--token=V`, `--password 'a phrase'`, `--auth-header V`),
    /// `NAME=V` with a secret name (`env API_KEY=V …`), a header's secret value
    /// (`-H 'Authorization: Bearer V'`), and every key `redact` recognises.
    package static func maskArguments(_ arguments: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(arguments.count)
        var maskNext = false
        for arg in arguments {
            if maskNext {
                maskNext = false
                if !arg.isEmpty {
                    out.append(mask)
                    continue
                }
            }
            let (name, value) = split(arg)
            if arg.hasPrefix("-"), optionTakesSecret(name) {
                if value != nil { out.append(name + "=" + mask) } else { out.append(arg); maskNext = true }
                continue
            }
            if !arg.hasPrefix("-"), value != nil, !name.isEmpty, SecretRedactor.looksSecret(name) {
                out.append(name + "=" + mask)
                continue
            }
            out.append(redact(arg))
        }
        return out
    }

    private static func split(_ arg: String) -> (String, String?) {
        guard let eq = arg.firstIndex(of: "=") else { return (arg, nil) }
        return (String(arg[..<eq]), String(arg[arg.index(after: eq)...]))
    }

    private static func optionTakesSecret(_ option: String) -> Bool {
        let bare = option.drop { $0 == "-" }
        guard !bare.isEmpty else { return false }
        return SecretRedactor.looksSecret(String(bare)) || bare.lowercased().hasPrefix("auth")
    }
}
