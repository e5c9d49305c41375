import Glibc

/// printf-style number formatting for the fixed formats aish prints ("%.1f", "%02x",
/// "%dh %02dm"): the C library's vsnprintf, which is what Foundation's String(format:) used for
/// these conversions, so the digits are the same. No `%@`: pass Swift strings by interpolation.
package func cFormat(_ format: String, _ arguments: CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 128)
        let needed = Int(vsnprintf(&buffer, buffer.count, format, list))
        guard needed >= buffer.count else { return String(nulTerminated: buffer) }
        return withVaList(arguments) { again in
            var big = [CChar](repeating: 0, count: needed + 1)
            _ = vsnprintf(&big, big.count, format, again)
            return String(nulTerminated: big)
        }
    }
}

extension String {
    /// The text of a C buffer up to its first NUL (or all of it), as UTF-8.
    package init(nulTerminated buffer: [CChar]) {
        let end = buffer.firstIndex(of: 0) ?? buffer.endIndex
        self = buffer[..<end].withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }
}
