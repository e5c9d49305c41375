/// A reply written to stdout as it streams in, redacted and sanitised like all output. A
/// secret can arrive split over pieces ("sk-ab" then "cd1234…", "Bearer " then the token), so
/// the text of the current line is redacted as a whole each time, and the part that may still
/// change is held back: the word being written, a secret that runs to the end of the line
/// (`Authorization: …`), and an ending that could be the start of a known secret value. The
/// rest shows at once; what is held back shows with the next blank, newline or `finish()`.
package final class StreamedOutput {
    private let sink: OutputSink
    private let sanitise: Bool
    /// The current line as received (since the last newline written).
    private var line: [UInt8] = []
    /// Bytes of `line` already written, and how many bytes their redacted form took.
    private var shown = 0
    private var shownRedacted = 0
    /// Past this much shown text of a line, all but the last `context` bytes of it are
    /// forgotten, so that the work per piece stays bounded on a long line.
    private static let longestLine = 384
    private static let context = 128
    private static let longestHeld = 8192

    package init(sink: OutputSink, sanitise: Bool) {
        self.sink = sink
        self.sanitise = sanitise
    }

    package func write(_ piece: String) {
        guard !piece.isEmpty else { return }
        line.append(contentsOf: piece.utf8)
        // Without a blank or a newline nothing more can be shown yet.
        let ends = piece.utf8.contains { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }
        guard ends || line.count - shown > StreamedOutput.longestHeld else { return }
        let redactor = sink.secrets.current
        var out = ""
        if let lastNewline = line.lastIndex(of: 0x0A) {
            out += redactedTail(of: lastNewline + 1, redactor)
            line.removeFirst(lastNewline + 1)
            shown = 0
            shownRedacted = 0
        }
        let cut = safeCut(redactor)
        if cut > shown {
            out += redactedTail(of: cut, redactor)
            shown = cut
        }
        if shown > StreamedOutput.longestLine { forgetShownText(redactor) }
        if !out.isEmpty { sink.writeRedacted(out, sanitise: sanitise) }
    }

    /// Keeps, of the text shown, the words of the last `context` bytes (what a secret still to
    /// come may refer to, such as `Bearer ` or `--api-key `).
    private func forgetShownText(_ redactor: SecretRedactor) {
        var limit = shown - StreamedOutput.context
        while limit > 0, line[limit] & 0xC0 == 0x80 { limit -= 1 }   // not inside a character
        // At a blank, so that no word is cut (a blob without blanks is cut anywhere).
        let start = line[..<limit].lastIndex(where: { $0 == 0x20 || $0 == 0x09 }).map { $0 + 1 } ?? limit
        line.removeFirst(start)
        shown -= start
        shownRedacted = redactor.redact(String(decoding: line[..<shown], as: UTF8.self)).utf8.count
    }

    /// Writes what was held back.
    package func finish() {
        guard !line.isEmpty else { return }
        let out = redactedTail(of: line.count, sink.secrets.current)
        line = []
        shown = 0
        shownRedacted = 0
        if !out.isEmpty { sink.writeRedacted(out, sanitise: sanitise) }
    }

    /// The redacted form of `line[..<end]` past what has been shown; records it as shown.
    private func redactedTail(of end: Int, _ redactor: SecretRedactor) -> String {
        let redacted = Array(redactor.redact(String(decoding: line[..<end], as: UTF8.self)).utf8)
        let from = min(shownRedacted, redacted.count)
        shownRedacted = redacted.count
        return String(decoding: redacted[from...], as: UTF8.self)
    }

    /// How much of `line` can be shown now without a secret showing in part.
    private func safeCut(_ redactor: SecretRedactor) -> Int {
        // A held-back run this long is no secret still growing (a blob without blanks): shown,
        // so that the work per piece stays bounded.
        if line.count - shown > StreamedOutput.longestHeld { return line.count }
        // Up to the last blank: the word after it may still grow.
        guard var cut = line.lastIndex(where: { $0 == 0x20 || $0 == 0x09 }).map({ $0 + 1 }), cut > shown else { return shown }
        // Not into a secret that has not ended yet.
        let text = String(decoding: line, as: UTF8.self)
        for span in SecretPatterns.spans(in: text) where span.range.lowerBound < cut {
            if span.toLineEnd || span.range.upperBound > cut { cut = span.range.lowerBound }
        }
        // Not into a known secret value, nor into an ending that may become one.
        for value in redactor.secretValues {
            let v = Array(value.utf8)
            guard !v.isEmpty else { continue }
            var start = max(0, shown - v.count)
            while start < line.count, start < cut {
                let n = min(v.count, line.count - start)
                if (n < v.count || start + n > cut) && line[start..<(start + n)].elementsEqual(v[..<n]) {
                    cut = start
                    break
                }
                start += 1
            }
        }
        return max(cut, shown)
    }
}
