import AishBase

/// The parts of a provider's `base_url` that config checks need, split without Foundation's
/// URL machinery (it runs for every provider on every load).
package struct BaseURL: Equatable, Sendable {
    package var scheme: String
    package var host: String
    package var port: Int?
    package var path: String

    /// nil unless the text looks like `scheme://host[:port][/path]`.
    package init?(_ text: String) {
        // Split at the first "://" (scanned by hand: Foundation's range(of:) is slow here).
        let utf8 = text.utf8
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")),
              utf8[colon...].starts(with: "://".utf8) else { return nil }
        scheme = String(text[..<colon]).lowercased()
        let rest = text[text.utf8.index(colon, offsetBy: 3)...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        path = String(rest[authorityEnd...].prefix { $0 != "?" && $0 != "#" })
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") {
            // [v6]:port
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { port = nil } else {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (0...65535).contains(p) else { return nil }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]), (0...65535).contains(p) else { return nil }
            port = p
        } else {
            host = String(authority)
            port = nil
        }
        if scheme.isEmpty || host.isEmpty { return nil }
    }

    package var isLoopback: Bool { host == "127.0.0.1" || host == "localhost" || host == "::1" }
}

/// Service and provider names compare loosely: `vllm-qwen` is the ports entry `vllm_qwen`.
package func looseName(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    for c in s.unicodeScalars {
        if c == "-" { out.append("_") } else if c >= "A" && c <= "Z" { out.append(Unicode.Scalar(c.value + 32)!) } else { out.append(c) }
    }
    return String(out)
}
