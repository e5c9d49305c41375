/// The part of a reply aish keeps in memory, in the conversation and in the log: at most
/// `limit` bytes (whole characters), plus the size of the whole reply. The terminal gets
/// every piece as it arrives; only what is kept is bounded, so memory stays flat whatever
/// a server sends (issue 16.3).
struct BoundedReply: Sendable {
    /// 1 MiB; `set max_reply_bytes N` (or `--var max_reply_bytes=N`) changes it.
    static let defaultLimit = 1 << 20
    static let variable = "max_reply_bytes"

    let limit: Int
    private(set) var kept = ""
    private(set) var totalBytes = 0

    init(limit: Int = BoundedReply.defaultLimit) { self.limit = max(0, limit) }

    init(_ text: String, limit: Int) {
        self.init(limit: limit)
        append(text)
    }

    var isTruncated: Bool { totalBytes > kept.utf8.count }
    var isEmpty: Bool { totalBytes == 0 }

    mutating func append(_ piece: String) {
        totalBytes += piece.utf8.count
        let room = limit - kept.utf8.count
        guard room > 0 else { return }
        if piece.utf8.count <= room {
            kept += piece
            return
        }
        var used = 0
        var end = piece.startIndex
        for (i, c) in zip(piece.indices, piece) {
            let n = c.utf8.count
            if used + n > room { end = i; break }
            used += n
        }
        kept += piece[..<end]
    }

    /// What is kept, and when the reply was longer, a last line that says so.
    var text: String {
        guard isTruncated else { return kept }
        return kept + (kept.hasSuffix("\n") || kept.isEmpty ? "" : "\n")
            + "[reply truncated by aish: \(kept.utf8.count) of \(totalBytes) bytes kept (max_reply_bytes \(limit))]"
    }

    /// "1048576", "512KiB", "4MiB", "2M", "64k": bytes; nil for anything else or below 1 KiB.
    static func parseLimit(_ raw: String) -> Int? {
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
