@preconcurrency import CEdit
import FoundationEssentials
import Glibc
import AishBase

/// What one prompt gave back.
package enum LineRead: Equatable {
    case line(String)
    /// Ctrl-C: the line was cleared.
    case interrupted
    /// Ctrl-D on an empty line, or the terminal went away.
    case endOfInput
}

/// The one owner of libedit (through its readline interface): prompt, editing, history
/// file, tab completion. The only file that imports CEdit.
///
/// Input goes through our own `rl_getc_function`, which polls standard input and the
/// SIGINT self-pipe: Ctrl-C then ends `readline` at once (it returns NULL like end of
/// input, so the interrupt flag tells the two apart), and libedit never installs signal
/// handlers of its own. The function decodes UTF-8 itself because libedit stores whatever
/// it returns as one wide character.
package final class LineEditor {
    private let historyPath: String
    private let complete: (String) -> [String]
    package private(set) var entries: [String]

    /// The editor the C completion callback talks to (there is one per process).
    nonisolated(unsafe) private static weak var active: LineEditor?

    package init(historyPath: String, complete: @escaping (String) -> [String]) {
        self.historyPath = historyPath
        self.complete = complete
        LineEditor.useUTF8Locale()
        // Everything rl_initialize reads is set before using_history(), which calls it.
        rl_catch_signals = 0
        rl_getc_function = LineEditor.readCharacter
        rl_readline_name = UnsafePointer(strdup("aish"))
        if isatty(1) == 0 { rl_outstream = fdopen(2, "w") }  // the prompt must not go into piped output
        rl_attempted_completion_function = LineEditor.attemptCompletion
        rl_basic_word_break_characters = UnsafePointer(strdup(" \t\n;"))
        rl_completer_word_break_characters = strdup(" \t\n;")
        using_history()
        stifle_history(1000)
        if HistoryFile.createIfMissing(path: historyPath) { _ = read_history(historyPath) }
        entries = HistoryFile.read(path: historyPath)
        LineEditor.active = self
    }

    package func readLine(prompt: String) -> LineRead {
        InterruptSignal.drainWakeups()
        InterruptFlag.shared.clear()
        // libedit tracks window size changes only through its own signal handlers, which are
        // off; asking at each prompt keeps long lines wrapping right after a resize.
        rl_resize_terminal()
        guard let raw = readline(prompt) else {
            if InterruptFlag.shared.isRaised {
                InterruptFlag.shared.clear()
                _ = Glibc.write(STDERR_FILENO, "\n", 1)
                return .interrupted
            }
            return .endOfInput
        }
        defer { free(raw) }
        return .line(String(cString: raw))
    }

    /// Adds a line to the history and saves the file (libedit's format, mode 0600).
    package func addHistory(_ line: String) {
        _ = add_history(line)
        entries.append(line)
        if entries.count > 1000 { entries.removeFirst(entries.count - 1000) }
        HistoryFile.save(path: historyPath) { write_history($0) == 0 }
    }

    /// libedit drops non-ASCII input in the C locale.
    private static func useUTF8Locale() {
        setlocale(LC_CTYPE, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        if codeset != "UTF-8" { setlocale(LC_CTYPE, "C.UTF-8") }
    }

    // MARK: - C callbacks

    private static let readCharacter: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { _ in
        while true {
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0)]
            if InterruptSignal.wakeRead >= 0 { fds.append(pollfd(fd: InterruptSignal.wakeRead, events: Int16(POLLIN), revents: 0)) }
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 {
                if errno == EINTR {
                    if InterruptFlag.shared.isRaised { return -1 }
                    continue
                }
                return -1
            }
            if fds.count > 1, fds[1].revents & Int16(POLLIN) != 0 {
                InterruptSignal.drainWakeups()
                return -1
            }
            if fds[0].revents != 0 {
                guard let lead = readByte() else { return -1 }
                if lead == 3 {  // ^C arriving as a byte (terminal without ISIG)
                    InterruptFlag.shared.raise()
                    return -1
                }
                return Int32(bitPattern: decodeUTF8(lead: lead))
            }
        }
    }

    private static func readByte() -> UInt8? {
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n == 1 { return byte }
            if n < 0 && errno == EINTR && !InterruptFlag.shared.isRaised { continue }
            return nil
        }
    }

    /// The scalar a UTF-8 sequence starting with `lead` encodes (continuation bytes are
    /// read now); invalid input becomes U+FFFD.
    private static func decodeUTF8(lead: UInt8) -> UInt32 {
        let count: Int
        var value: UInt32
        switch lead {
        case 0..<0x80: return UInt32(lead)
        case 0xC2..<0xE0: count = 1; value = UInt32(lead & 0x1F)
        case 0xE0..<0xF0: count = 2; value = UInt32(lead & 0x0F)
        case 0xF0..<0xF5: count = 3; value = UInt32(lead & 0x07)
        default: return 0xFFFD
        }
        for _ in 0..<count {
            guard let b = readByte(), b & 0xC0 == 0x80 else { return 0xFFFD }
            value = (value << 6) | UInt32(b & 0x3F)
        }
        return Unicode.Scalar(value) == nil ? 0xFFFD : value
    }

    private static let attemptCompletion:
        @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = {
            text, _, end in
            rl_attempted_completion_over = 1  // never fall back to libedit's file-name completion
            guard let editor = LineEditor.active else { return nil }
            let buffer = rl_line_buffer.map { String(cString: $0) } ?? ""
            let before = String(String.UnicodeScalarView(buffer.unicodeScalars.prefix(Int(end))))
            let word = text.map { String(cString: $0) } ?? ""
            let matches = editor.complete(before).filter { $0.hasPrefix(word) }
            guard !matches.isEmpty else { return nil }
            rl_completion_append_character = matches.count == 1 && matches[0].hasSuffix("/") ? 0 : 32
            // libedit's convention: [common prefix, match..., NULL], all malloc'd; it frees them.
            // Also for one match ([m, m, NULL]): libedit reads the third slot to see a single match.
            let list = [commonPrefix(matches)] + matches
            let size = MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (list.count + 1)
            let array = malloc(size)!.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: list.count + 1)
            for (i, m) in list.enumerated() { array[i] = strdup(m) }
            array[list.count] = nil
            return array
        }

    package static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first.map(Array.init) else { return "" }
        for w in words.dropFirst() {
            let chars = Array(w)
            var n = 0
            while n < prefix.count, n < chars.count, prefix[n] == chars[n] { n += 1 }
            prefix = Array(prefix.prefix(n))
        }
        return String(prefix)
    }
}
