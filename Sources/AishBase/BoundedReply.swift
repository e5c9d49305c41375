/// The part of a reply aish keeps in memory, in the conversation and in the log: at most
/// `limit` bytes (whole characters), plus the size of the whole reply. The terminal gets
/// every piece as it arrives; only what is kept is bounded, so memory stays flat whatever
/// a server sends (issue 16.3).
package struct BoundedReply: Sendable {
    /// 1 MiB; `set max_reply_bytes N` (or `--var max_reply_bytes=N`) changes it.
    package static let defaultLimit = 1 << 20
    package static let variable = "max_reply_bytes"

    package let limit: Int
    /// The kept reply as UTF-8 (whole characters: pieces are Strings, cut only between
    /// characters). Bytes rather than a String: appending a piece to a String cost hundreds
    /// of instructions (a tenth of bench's decoding); the String is made once, at the end.
    private var bytes: [UInt8] = []
    /// The whole text once `takeText` has appended the note: the reply is then spent.
    private var spentText: String?
    /// Bytes of the reply in `kept` (without the note `takeText` appends).
    package private(set) var keptBytes = 0
    package private(set) var totalBytes = 0
    /// The byte capacity asked for `bytes` so far (see `makeRoom`).
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

    /// What is kept (with the note, once `takeText` has spent the reply).
    package var kept: String { spentText ?? String(decoding: bytes, as: UTF8.self) }

    package mutating func append(_ piece: String) {
        var piece = piece
        // Through the piece's storage (a short piece's, copied out of the String): the
        // generic append of a UTF-8 view cost over a hundred instructions a piece.
        if !piece.withUTF8({ keepWhole($0) }) { keepCut(piece) }
    }

    /// `append` of a piece given as its UTF-8 (valid, whole characters).
    package mutating func append(utf8 piece: UnsafeBufferPointer<UInt8>) {
        // Cut at a character's end through a String, as a piece given as one.
        if !keepWhole(piece) { keepCut(String(decoding: piece, as: UTF8.self)) }
    }

    /// Keeps the whole characters of `piece` (counted already) that fit.
    private mutating func keepCut(_ piece: String) {
        var used = 0
        let room = limit - keptBytes
        for c in piece {
            let n = c.utf8.count
            if used + n > room { break }
            used += n
        }
        makeRoom(for: used)
        bytes.append(contentsOf: piece.utf8.prefix(used))
        keptBytes += used
    }

    /// Counts `piece` and keeps it when it fits whole (or nothing more is kept); false
    /// when part of it still fits, to be cut at a character's end.
    private mutating func keepWhole(_ piece: UnsafeBufferPointer<UInt8>) -> Bool {
        totalBytes += piece.count
        let room = limit - keptBytes
        guard room > 0, spentText == nil else { return true }
        guard piece.count <= room else { return false }
        makeRoom(for: piece.count)
        bytes.append(contentsOf: piece)
        keptBytes += piece.count
        return true
    }

    /// Grows `bytes` by doubling, as Array does, but never past the limit (plus room for
    /// the note): Array's own doubling gives a reply cut at 1 MiB a 2 MiB buffer.
    private mutating func makeRoom(for extra: Int) {
        let needed = keptBytes + extra
        guard needed > reserved else { return }
        reserved = min(max(needed, reserved * 2, 256), limit + Self.noteRoom)
        bytes.reserveCapacity(reserved)
    }

    /// What is kept, and when the reply was longer, a last line that says so.
    package var text: String {
        if let spentText { return spentText }
        guard isTruncated else { return kept }
        return kept + truncationNote
    }

    /// `text`, made with one copy of a truncated reply (into the String): the note is
    /// appended in place to the kept bytes, whose room `makeRoom` left for it. Call it once,
    /// when the reply is complete: afterwards the reply is spent (it holds the note) and
    /// takes no more pieces.
    package mutating func takeText() -> String {
        if let spentText { return spentText }
        guard isTruncated else { return kept }
        bytes.append(contentsOf: truncationNote.utf8)
        let whole = String(decoding: bytes, as: UTF8.self)
        spentText = whole
        bytes = []
        return whole
    }

    private var truncationNote: String {
        (bytes.last == UInt8(ascii: "\n") || bytes.isEmpty ? "" : "\n")
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
