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

/// Lower-case hexadecimal digits written straight into bytes (JSON's `\u00XX`, request ids),
/// where a formatted String for each would cost more than the digits.
package enum ASCIIHex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The low `count` hex digits of `value`, most significant first.
    package static func append(_ value: UInt64, digits count: Int, to out: inout [UInt8]) {
        for shift in stride(from: (count - 1) * 4, through: 0, by: -4) {
            out.append(digits[Int(value >> UInt64(shift) & 0xF)])
        }
    }
}
