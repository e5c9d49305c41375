import Glibc

/// printf-style number formatting for the fixed formats aish prints ("%.1f", "%02x",
/// "%dh %02dm"): the C library's vsnprintf, which is what Foundation's String(format:) used for
/// these conversions, so the digits are the same. No `%@`: pass Swift strings by interpolation.
func cFormat(_ format: String, _ arguments: CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 128)
        let needed = Int(vsnprintf(&buffer, buffer.count, format, list))
        guard needed >= buffer.count else { return String(cString: buffer) }
        return withVaList(arguments) { again in
            var big = [CChar](repeating: 0, count: needed + 1)
            _ = vsnprintf(&big, big.count, format, again)
            return String(cString: big)
        }
    }
}
