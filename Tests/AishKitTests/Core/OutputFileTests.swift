import Foundation
import Testing
@testable import AishBase
@testable import AishLineEditor

/// Every file aish writes because a user named it goes through `OutputFile` (issue 24.4):
/// regular files are replaced atomically, FIFOs and devices are written into as streams and
/// never replaced, links are followed, private files end up 0600 whatever was there.
@Suite struct OutputFileTests {
    static func fileType(_ path: String, follow: Bool = false) -> mode_t {
        var st = stat()
        guard (follow ? stat(path, &st) : lstat(path, &st)) == 0 else { return 0 }
        return st.st_mode & S_IFMT
    }

    static func inode(_ path: String) -> ino_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_ino : 0
    }

    static func text(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Nothing of aish's temporary files is left beside the outputs.
    static func leftovers(_ dir: TempDir) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.contains(".aish-") }
    }

    /// Reads a FIFO to its end on another thread (opening it lets the writer's open return).
    final class FIFOReader: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private(set) var received = Data()

        init(_ path: String) {
            Thread {
                let fd = open(path, O_RDONLY)
                var chunk = [UInt8](repeating: 0, count: 4096)
                while fd >= 0 {
                    let n = read(fd, &chunk, chunk.count)
                    if n <= 0 { break }
                    self.received.append(contentsOf: chunk[..<n])
                }
                if fd >= 0 { close(fd) }
                self.done.signal()
            }.start()
        }

        func wait() -> String {
            _ = done.wait(timeout: .now() + 10)
            return String(decoding: received, as: UTF8.self)
        }
    }

    @Test func aFIFOIsWrittenAsAStreamAndStaysAFIFO() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let fifo = dir.file("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let reader = FIFOReader(fifo)
        let big = String(repeating: "line of the report\n", count: 20_000)   // more than a pipe holds
        for privacy in [OutputFile.Privacy.privateToUser] {
            let file = try OutputFile(path: fifo, privacy: privacy)
            #expect(file.kind == .stream)
            try file.write(big)
            try file.commit()
        }
        #expect(reader.wait() == big)
        #expect(Self.fileType(fifo) == S_IFIFO)
        #expect(mode(of: fifo) == 0o644)   // private or not, a FIFO's mode is not aish's to change
        #expect(Self.leftovers(dir).isEmpty)
    }

    @Test func characterDevicesAreWrittenIntoNeverReplaced() throws {
        for privacy in [OutputFile.Privacy.privateToUser, .keepMode] {
            let before = mode(of: "/dev/null")
            try OutputFile.write("report text\n", to: "/dev/null", privacy: privacy)
            #expect(Self.fileType("/dev/null") == S_IFCHR)
            #expect(mode(of: "/dev/null") == before)
            // A device that refuses the bytes fails with the call and the reason; it stays a device.
            #expect(throws: OutputFileError(reason: "write(/dev/full): No space left on device")) {
                try OutputFile.write("report text\n", to: "/dev/full", privacy: privacy)
            }
            #expect(Self.fileType("/dev/full") == S_IFCHR)
        }
    }

    @Test func aSymbolicLinkIsFollowedAndKept() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let target = dir.file("real.md"), link = dir.file("link.md")
        try "old\n".write(toFile: target, atomically: false, encoding: .utf8)
        chmod(target, 0o640)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.md")
        let file = try OutputFile(path: link, privacy: .keepMode)
        #expect(file.target == target)
        try file.write("new\n")
        try file.commit()
        #expect(Self.fileType(link) == S_IFLNK)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.md")
        #expect(Self.text(target) == "new\n")
        #expect(mode(of: target) == 0o640)
        // Private output through the link: the target becomes 0600, the link stays a link.
        try OutputFile.write("private\n", to: link, privacy: .privateToUser)
        #expect(Self.text(target) == "private\n" && mode(of: target) == 0o600 && Self.fileType(link) == S_IFLNK)
        // A link to a FIFO leads to a stream.
        let fifo = dir.file("fifo"), fifoLink = dir.file("to-fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: fifoLink, withDestinationPath: fifo)
        let reader = FIFOReader(fifo)
        try OutputFile.write("through\n", to: fifoLink, privacy: .privateToUser)
        #expect(reader.wait() == "through\n")
        #expect(Self.fileType(fifo) == S_IFIFO && Self.fileType(fifoLink) == S_IFLNK)
        #expect(Self.leftovers(dir).isEmpty)
    }

    @Test func pathsThatCannotHoldAFileAreRefusedSayingWhy() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let dangling = dir.file("dangling")
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: dir.file("nowhere"))
        #expect(throws: OutputFileError(reason: "is a symbolic link to \(dir.file("nowhere")), which does not exist (aish does not create files through a link)")) {
            try OutputFile.write("x", to: dangling, privacy: .keepMode)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("nowhere")))
        #expect(throws: OutputFileError(reason: "is a directory")) { try OutputFile.write("x", to: dir.path, privacy: .keepMode) }

        // A listening Unix socket.
        let socketPath = dir.file("sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in socketPath.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(throws: OutputFileError(reason: "is a socket; aish writes to regular files, FIFOs and devices")) {
            try OutputFile.write("x", to: socketPath, privacy: .keepMode)
        }
        #expect(Self.fileType(socketPath) == S_IFSOCK)

        #expect(throws: OutputFileError(reason: "open(\(dir.file("missing"))/.x.json.aish-XXXXXXXX): No such file or directory")) {
            try OutputFile.write("x", to: dir.file("missing/x.json"), privacy: .keepMode)
        }
        #expect(Self.leftovers(dir).isEmpty)
    }

    @Test func aRegularFileIsReplacedAtomically() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("export.json")
        try "old contents\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o644)
        let oldInode = Self.inode(path)
        let reader = open(path, O_RDONLY)
        defer { close(reader) }

        let file = try OutputFile(path: path, privacy: .privateToUser)
        try file.write(String(repeating: "x", count: 200_000))   // past the write buffer
        // Until the commit, the path still holds the old file, whole.
        #expect(Self.text(path) == "old contents\n")
        #expect(Self.leftovers(dir).count == 1)
        try file.commit()
        #expect(Self.text(path) == String(repeating: "x", count: 200_000))
        #expect(Self.inode(path) != oldInode)   // a new file took the name: rename, not truncate
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(reader, &buffer, 64)       // a reader of the old file still reads it whole
        #expect(String(decoding: buffer[..<max(0, n)], as: UTF8.self) == "old contents\n")
        #expect(mode(of: path) == 0o600)        // private, though the old one was 0644
        #expect(Self.leftovers(dir).isEmpty)

        // A writer that gives up leaves the old file and no temporary file.
        let abandoned = try OutputFile(path: path, privacy: .privateToUser)
        try abandoned.write("half")
        abandoned.abandon()
        #expect(Self.text(path) == String(repeating: "x", count: 200_000))
        do { _ = try OutputFile(path: path, privacy: .keepMode) }   // dropped without a commit
        #expect(Self.leftovers(dir).isEmpty)
    }

    @Test func keepModeKeepsTheReplacedFilesModeAndNewFilesFollowTheUmask() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("report.md")
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o640)
        try OutputFile.write("new", to: path, privacy: .keepMode)
        #expect(mode(of: path) == 0o640 && Self.text(path) == "new")
        let old = umask(0o022)
        defer { umask(old) }
        try OutputFile.write("fresh", to: dir.file("fresh.csv"), privacy: .keepMode)
        #expect(mode(of: dir.file("fresh.csv")) == 0o644)
        try OutputFile.write("fresh", to: dir.file("fresh.xml"), privacy: .privateToUser)
        #expect(mode(of: dir.file("fresh.xml")) == 0o600)
        // A file aish may not write is not replaced behind its back (unless running as root).
        if geteuid() != 0 {
            chmod(path, 0o444)
            #expect(throws: OutputFileError(reason: "access(\(path)): Permission denied (aish does not replace a file it may not write)")) {
                try OutputFile.write("x", to: path, privacy: .keepMode)
            }
        }
    }

    /// The history file is no output option, but the same rules hold: `AISH_HISTORY=/dev/null`
    /// turns history off without libedit chmod-ing the device, and saving replaces the file.
    @Test func historyIsKeptOnlyInRegularFiles() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        #expect(!HistoryFile.createIfMissing(path: "/dev/null"))
        #expect(!HistoryFile.isKeepable(path: "/dev/null"))
        let fifo = dir.file("fifo")
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect(!HistoryFile.createIfMissing(path: fifo) && mode(of: fifo) == 0o644)
        #expect(HistoryFile.read(path: fifo) == [])   // returns at once: no open of the FIFO

        let path = dir.file("history")
        try "_HiStOrY_V2_\nold\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o644)
        #expect(HistoryFile.createIfMissing(path: path) && mode(of: path) == 0o600)
        HistoryFile.save(path: path) { temporary in
            (try? "_HiStOrY_V2_\nnew\n".write(toFile: temporary, atomically: false, encoding: .utf8)) != nil
        }
        #expect(HistoryFile.read(path: path) == ["new"] && mode(of: path) == 0o600)
        #expect(Self.leftovers(dir).isEmpty)
    }
}

extension OutputFileError: Equatable {
    public static func == (a: OutputFileError, b: OutputFileError) -> Bool { a.reason == b.reason }
}
