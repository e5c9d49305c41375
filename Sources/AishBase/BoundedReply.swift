/// The part of a reply aish keeps in memory, in the conversation and in the log: at most
/// `limit` bytes (whole characters), plus the size of the whole reply. The terminal gets
/// every piece as it arrives; only what is kept is bounded, so memory stays flat whatever
/// a server sends (issue 16.3).
package struct BoundedReply: Sendable {
    /// 1 MiB; `set max_reply_bytes N` (or `--var max_reply_bytes=N`) changes it.
    package static let defaultLimit = 1 << 20
    package static let variable = "max_reply_bytes"

    package let limit: Int
    package private(set) var kept = ""
    /// Bytes of the reply in `kept` (without the note `takeText` appends).
    package private(set) var keptBytes = 0
    package private(set) var totalBytes = 0
    private var spent = false
    /// The byte capacity asked for `kept` so far (see `makeRoom`).
    private var reserved = 0

    /// Room for the truncation note `takeText` appends in place.
    private static let noteRoom = 160

    package init(limit: Int = BoundedReply.defaultLimit) { self.limit = max(0, limit) }

    package init(_ text: String, limit: Int) {
        self.init(limit: limit)
        append(text)
    }

    package var isTruncated: Bool { totalBytes > keptBytes }
    package var isEmpty: Bool { totalBytes == 0 }

    package mutating func append(_ piece: String) {
        totalBytes += piece.utf8.count
        let room = limit - keptBytes
        guard room > 0, !spent else { return }
        if piece.utf8.count <= room {
            makeRoom(for: piece.utf8.count)
            kept += piece
            keptBytes += piece.utf8.count
            return
        }
        var used = 0
        var end = piece.startIndex
        for (i, c) in zip(piece.indices, piece) {
            let n = c.utf8.count
            if used + n > room { end = i; break }
            used += n
        }
        makeRoom(for: used)
        kept += piece[..<end]
        keptBytes += used
    }

    /// Grows `kept` by doubling, as String does, but never past the limit (plus room for
    /// the note): String's own doubling gives a reply cut at 1 MiB a 2 MiB buffer. A new
    /// string is reserved and filled because `reserveCapacity` on a unique string doubles too.
    private mutating func makeRoom(for extra: Int) {
        let needed = keptBytes + extra
        guard needed > reserved else { return }
        // Still a small (inline) string: nothing to reserve yet. (Counting 256 as reserved
        // here left String's own growth, 32 to 256 bytes in four allocations, to every
        // reply of a few hundred bytes.)
        if needed <= 15 { reserved = 15; return }
        reserved = min(max(needed, reserved * 2, 256), limit + Self.noteRoom)
        var grown = String()
        grown.reserveCapacity(reserved)
        grown += kept
        kept = grown
    }

    /// What is kept, and when the reply was longer, a last line that says so.
    package var text: String {
        guard isTruncated, !spent else { return kept }
        return kept + truncationNote
    }

    /// `text`, made without copying a truncated reply: the note is appended in place.
    /// Call it once, when the reply is complete: afterwards the reply is spent (it holds
    /// the note) and takes no more pieces.
    package mutating func takeText() -> String {
        guard isTruncated, !spent else { return kept }
        kept += truncationNote
        spent = true
        return kept
    }

    private var truncationNote: String {
        (kept.hasSuffix("\n") || kept.isEmpty ? "" : "\n")
            + "[reply truncated by aish: \(keptBytes) of \(totalBytes) bytes kept (max_reply_bytes \(limit))]"
    }

    /// "1048576", "512KiB", "4MiB", "2M", "64k": bytes; nil for anything else or below 1 KiB.
    package static func parseLimit(_ raw: String) -> Int? {
        let t = String(raw.lowercased().drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
        let units: [(String, Int)] = [("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("kb", 1000), ("mb", 1_000_000),
                                      ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1)]
        var number = Substring(t)
        var factor = 1
        for (suffix, f) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            factor = f
            break
        }
        while number.hasSuffix(" ") { number = number.dropLast() }
        guard let n = Int(number), n > 0, n <= Int.max / factor else { return nil }
        let bytes = n * factor
        return bytes >= 1024 ? bytes : nil
    }
}
