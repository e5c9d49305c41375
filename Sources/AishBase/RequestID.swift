import Glibc

/// The id that ties a request's attempts together in the session log (and that `log`,
/// `replay` and `sql` show): a UUID of version 7 (RFC 9562), lower case.
///
/// Version 7 begins with the Unix time in milliseconds, then (RFC 9562 §6.2, method 3) the
/// fraction of that millisecond in 12 bits, then 62 random bits. Ids made later sort later,
/// so the log's index on `request_id` grows at its end: random (version 4) ids put each row
/// of a fast benchmark on a page of its own, and writing those pages cost more than the rest
/// of the row.
package enum RequestID {
    package static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let random: UInt64 = generator.next()
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return make(unixNanoseconds: UInt64(max(0, now.tv_sec)) * 1_000_000_000 + UInt64(max(0, now.tv_nsec)),
                    random: random)
    }

    /// The id for a time and 64 random bits (of which 62 are used): for tests.
    package static func make(unixNanoseconds: UInt64, random: UInt64) -> String {
        let milliseconds = unixNanoseconds / 1_000_000
        let fraction = (unixNanoseconds % 1_000_000) * 4096 / 1_000_000   // 0..<4096
        // 48 bits of milliseconds, the version (7), 12 bits of the millisecond's fraction.
        let high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | fraction
        // The variant (binary 10), then 62 random bits.
        let low = 0x8000_0000_0000_0000 | random >> 2
        var text: [UInt8] = []
        text.reserveCapacity(36)
        // 8-4-4-4-12 digits.
        for (value, digits) in [(high >> 32, 8), (high >> 16, 4), (high, 4), (low >> 48, 4), (low, 12)] {
            if !text.isEmpty { text.append(UInt8(ascii: "-")) }
            ASCIIHex.append(value, digits: digits, to: &text)
        }
        return String(decoding: text, as: UTF8.self)
    }
}
