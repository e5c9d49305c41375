import FoundationEssentials
import Glibc
import AishBase

/// Where the terminal history lives and how to read it without the line editor (for
/// `history` outside the interactive shell). The file is libedit's own format.
package enum HistoryFile {
    /// `$AISH_HISTORY`, else ~/.local/share/aish/history.
    package static func path(environment: [String: String]) -> String {
        if let p = environment["AISH_HISTORY"], !p.isEmpty { return p }
        let home = environment["HOME"] ?? homeDirectory()
        return home + "/.local/share/aish/history"
    }

    /// True when history can be kept at `path`: a regular file, a link to one, or nothing
    /// yet. Anything else (`/dev/null`, a FIFO, a link to nothing) means no history is read
    /// or saved: libedit would chmod the node 0600 or block on it.
    package static func isKeepable(path: String) -> Bool {
        var st = stat()
        if stat(path, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFREG }
        return errno == ENOENT && lstat(path, &st) != 0
    }

    /// Creates the file (and its directory) private to the user: history holds prompts.
    /// Returns false, touching nothing, when the path cannot hold history (`isKeepable`).
    @discardableResult
    package static func createIfMissing(path: String) -> Bool {
        guard isKeepable(path: path) else { return false }
        let dir = PathText.deletingLastComponent(path)
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                                  attributes: [.posixPermissions: 0o700]) }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        _ = fchmod(fd, 0o600)
        return true
    }

    /// Saves libedit's history through `OutputFile`: libedit writes a private temporary file
    /// beside the history file, which then replaces it (a crash never leaves half a history).
    package static func save(path: String, write: (String) -> Bool) {
        guard isKeepable(path: path), let file = try? OutputFile(path: path, privacy: .privateToUser),
              let temporary = file.temporaryFilePath else { return }
        guard write(temporary) else { file.abandon(); return }
        try? file.commit()
    }

    /// Entries of a libedit history file (`_HiStOrY_V2_` header, entries encoded with vis(3)).
    package static func read(path: String) -> [String] {
        guard isKeepable(path: path), let data = FileManager.default.contents(atPath: path) else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        if lines.first == "_HiStOrY_V2_" { lines.removeFirst() }
        return lines.map(unvis)
    }

    /// Undoes vis(3) encoding: `\\`, octal `\040`, and `\^X` / `\M-x` forms.
    package static func unvis(_ s: String) -> String {
        let b = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        func octal(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x37 }
        while i < b.count {
            guard b[i] == 0x5C, i + 1 < b.count else { out.append(b[i]); i += 1; continue }
            let n = b[i + 1]
            if n == 0x5C { out.append(0x5C); i += 2 }
            else if i + 3 < b.count, octal(n), octal(b[i + 2]), octal(b[i + 3]) {
                out.append(UInt8(truncatingIfNeeded: (Int(n - 0x30) << 6) | (Int(b[i + 2] - 0x30) << 3) | Int(b[i + 3] - 0x30)))
                i += 4
            } else if n == UInt8(ascii: "^"), i + 2 < b.count {
                out.append(b[i + 2] == UInt8(ascii: "?") ? 0x7F : b[i + 2] & 0x1F)
                i += 3
            } else if n == UInt8(ascii: "M"), i + 3 < b.count, b[i + 2] == UInt8(ascii: "-") {
                out.append(b[i + 3] | 0x80)
                i += 4
            } else if n == UInt8(ascii: "s") { out.append(0x20); i += 2 }
            else if n == UInt8(ascii: "n") { out.append(0x0A); i += 2 }
            else if n == UInt8(ascii: "t") { out.append(0x09); i += 2 }
            else { out.append(n); i += 2 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
