import FoundationEssentials
import Glibc

/// A file aish writes because a user named it (`report --out`, `--junit`, `compare --csv`,
/// `export`, `config generate`). The one place such a file is opened, so the rules hold for
/// every output option:
///
/// - a regular file (or none yet) is replaced atomically: the text goes to a temporary file
///   in the same directory, is flushed to disk, and is renamed over the old one, so a reader
///   sees the old file or the new one, never half of it, and a failure leaves the old one;
/// - a FIFO, a character or block device (a terminal, `/dev/null`) is written into as a
///   stream, never truncated, replaced, unlinked or chmod-ed;
/// - a symbolic link is followed and its target written (the link stays); a link to nothing
///   is refused, as are directories and sockets, each saying why;
/// - `.privateToUser` files (they hold prompts or replies) are 0600, also when the file they
///   replace was wider; `.keepMode` files keep the mode of the file they replace (new ones get
///   0666 less the umask).
///
/// Writes are buffered; nothing is visible at the path before `commit()` for a regular file.
/// Dropping an uncommitted file removes its temporary file and leaves the old one.
package final class OutputFile {
    package enum Privacy {
        /// 0600: the file holds prompts or replies.
        case privateToUser
        /// The mode of the file replaced; new files get 0666 less the umask.
        case keepMode
    }

    /// What the path turned out to be.
    package enum Kind: Equatable {
        /// A regular file (or a new one), replaced by rename.
        case regular
        /// A FIFO or a device, written into as a stream.
        case stream
    }

    /// The path as named.
    package let path: String
    /// Where the bytes go: `path`, or the target of the symbolic link `path` is.
    package let target: String
    package let kind: Kind
    private var fd: Int32
    private var temporaryPath: String?
    private var buffer: [UInt8] = []
    private var finished = false
    private static let flushSize = 1 << 16

    package init(path: String, privacy: Privacy) throws(OutputFileError) {
        self.path = path
        var st = stat()
        var exists = true
        if lstat(path, &st) != 0 {
            guard errno == ENOENT else { throw OutputFileError.call("lstat", path) }
            exists = false
        }
        var target = path
        if exists && (st.st_mode & S_IFMT) == S_IFLNK {
            let link = OutputFile.readLink(path) ?? "?"
            guard let resolved = OutputFile.realPath(path) else {
                if errno == ENOENT {
                    throw OutputFileError(reason: "is a symbolic link to \(link), which does not exist (aish does not create files through a link)")
                }
                throw OutputFileError.call("realpath", path, note: "a symbolic link to \(link)")
            }
            target = resolved
            guard stat(target, &st) == 0 else { throw OutputFileError.call("stat", target) }
        }
        self.target = target
        let via = target == path ? "" : " (the target of the link \(path))"
        if !exists {
            kind = .regular
        } else {
            switch st.st_mode & S_IFMT {
            case S_IFREG: kind = .regular
            case S_IFIFO, S_IFCHR, S_IFBLK: kind = .stream
            case S_IFDIR: throw OutputFileError(reason: "\(target == path ? "is" : "leads to") a directory\(target == path ? "" : " (\(target))")")
            case S_IFSOCK: throw OutputFileError(reason: "\(target == path ? "is" : "leads to") a socket\(via); aish writes to regular files, FIFOs and devices")
            default: throw OutputFileError(reason: "is not a regular file, FIFO or device\(via)")
            }
        }

        if kind == .stream {
            // No O_TRUNC and no O_CREAT: the node is written into, never replaced.
            fd = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { throw OutputFileError.call("open", target) }
            return
        }

        if exists, faccessat(AT_FDCWD, target, W_OK, AT_EACCESS) != 0 {
            throw OutputFileError.call("access", target, note: "aish does not replace a file it may not write")
        }
        let directory = PathText.deletingLastComponent(target)
        let name = target.split(separator: "/").last.map(String.init) ?? target
        let prefix = (directory.isEmpty ? "" : directory.hasSuffix("/") ? directory : directory + "/") + ".\(name).aish-"
        let createMode: mode_t = privacy == .privateToUser ? 0o600 : 0o666
        var opened: (Int32, String)?
        for _ in 0..<100 {
            let candidate = prefix + OutputFile.randomSuffix()
            let f = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, createMode)
            if f >= 0 { opened = (f, candidate); break }
            guard errno == EEXIST else { throw OutputFileError.call("open", prefix + "XXXXXXXX") }
        }
        guard let (f, temporary) = opened else {
            throw OutputFileError(reason: "no unused temporary name beside \(target)")
        }
        fd = f
        temporaryPath = temporary
        if exists {
            // Keep the replaced file's owner where allowed (root writing a user's file).
            if st.st_uid != geteuid() || st.st_gid != getegid() { _ = fchown(fd, st.st_uid, st.st_gid) }
            let mode = privacy == .privateToUser ? 0o600 : st.st_mode & 0o7777
            if fchmod(fd, mode) != 0 {
                let e = OutputFileError.call("fchmod", temporary)
                abandon()
                throw e
            }
        }
    }

    deinit { if !finished { abandon() } }

    /// The private temporary file of a regular file, for a writer that needs a path (libedit
    /// saving its history): it writes there, then `commit()` renames it into place. Nil for
    /// a stream.
    package var temporaryFilePath: String? { temporaryPath }

    package func write(_ text: String) throws(OutputFileError) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= OutputFile.flushSize { try flush() }
    }

    package func write(bytes: some Sequence<UInt8>) throws(OutputFileError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= OutputFile.flushSize { try flush() }
    }

    /// Makes what was written the file: for a regular file, flushed to disk and renamed over
    /// the old one; for a stream, the last bytes written and the node closed.
    package func commit() throws(OutputFileError) {
        precondition(!finished, "an output file is committed once")
        do throws(OutputFileError) {
            try flush()
            if let temporary = temporaryPath {
                guard fsync(fd) == 0 else { throw OutputFileError.call("fsync", temporary) }
                guard close(fd) == 0 else { fd = -1; throw OutputFileError.call("close", temporary) }
                fd = -1
                guard rename(temporary, target) == 0 else { throw OutputFileError.call("rename", temporary, to: target) }
                temporaryPath = nil
                // The rename itself reaches the disk with the directory (best effort).
                let dir = open(PathText.deletingLastComponent(target).isEmpty ? "." : PathText.deletingLastComponent(target),
                               O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if dir >= 0 { _ = fsync(dir); close(dir) }
            } else {
                let rc = close(fd)
                fd = -1
                guard rc == 0 else { throw OutputFileError.call("close", target) }
            }
            finished = true
        } catch {
            abandon()
            throw error
        }
    }

    /// Gives up: the temporary file is removed and the old file, if any, stays as it was.
    package func abandon() {
        finished = true
        if fd >= 0 { close(fd); fd = -1 }
        if let temporary = temporaryPath { unlink(temporary); temporaryPath = nil }
    }

    private func flush() throws(OutputFileError) {
        var offset = 0
        defer {
            if offset > 0 { buffer.removeFirst(offset) }
        }
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw OutputFileError.call("write", temporaryPath ?? target)
            }
            offset += n
        }
    }

    /// Writes `text` to `path` in one go.
    package static func write(_ text: String, to path: String, privacy: Privacy) throws(OutputFileError) {
        let file = try OutputFile(path: path, privacy: privacy)
        try file.write(text)
        try file.commit()
    }

    // MARK: helpers

    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func randomSuffix() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in letters[Int(generator.next(upperBound: UInt32(letters.count)))] })
    }
}

/// Why an output file could not be written: the failing system call, the path it was given
/// and the system's reason, or why aish refused the path. Callers put the path the user
/// named before it ("report: cannot write out.md: rename(…): No space left on device").
package struct OutputFileError: Error, CustomStringConvertible, Sendable {
    package var reason: String
    package var description: String { reason }

    package static func call(_ name: String, _ path: String, to other: String? = nil, note: String? = nil) -> OutputFileError {
        let code = errno
        let target = other.map { "\(path), \($0)" } ?? path
        var reason = "\(name)(\(target)): \(String(cString: strerror(code)))"
        if let note { reason += " (\(note))" }
        return OutputFileError(reason: reason)
    }
}
