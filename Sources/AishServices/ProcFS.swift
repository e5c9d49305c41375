import FoundationEssentials
import Glibc
import AishBase

/// One row of /proc/net/tcp or /proc/net/tcp6.
package struct SocketEntry: Equatable, Sendable {
    package enum Family: String, Sendable { case ipv4, ipv6 }

    package var family: Family
    package var localAddress: String      // printable: "127.0.0.1", "::1", "::"
    package var localPort: Int
    package var state: UInt8              // kernel TCP state; 0x0A is LISTEN
    package var uid: Int
    package var inode: UInt64

    package static let listenState: UInt8 = 0x0A
    package var isListening: Bool { state == SocketEntry.listenState }
}

/// What /proc/PID/stat says about a process (see proc(5)); times in clock ticks.
package struct ProcessStat: Equatable, Sendable {
    package var pid: Int32
    package var command: String           // `comm`, at most 15 characters
    package var state: Character
    package var parentPID: Int32
    package var userTicks: UInt64         // utime
    package var systemTicks: UInt64       // stime
    package var startTicks: UInt64        // starttime, ticks after boot

    package var cpuTicks: UInt64 { userTicks + systemTicks }
}

/// The parts of /proc/PID/status that `status` shows.
package struct ProcessStatusInfo: Equatable, Sendable {
    package var name: String?
    package var realUID: Int?
    package var residentKiB: Int?         // VmRSS; absent for kernel threads
}

/// Reads the Linux /proc file system under `root` (a copied tree in tests). Every reader
/// returns nil or skips an entry when a file is unreadable: processes come and go, and
/// other users' processes cannot be inspected, neither of which is an error for `status`.
package struct ProcFS: Sendable {
    package var root: String = "/proc"

    // MARK: sockets

    /// Parses a socket table. The header line and malformed lines are skipped.
    package static func parseSocketTable(_ text: String, family: SocketEntry.Family) -> [SocketEntry] {
        var entries: [SocketEntry] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
            guard f.count >= 10 else { continue }
            let local = f[1].split(separator: ":")
            guard local.count == 2, let port = Int(local[1], radix: 16), let state = UInt8(f[3], radix: 16),
                let uid = Int(f[7]), let inode = UInt64(f[9]),
                let address = decodeAddress(String(local[0]), family: family)
            else { continue }
            entries.append(SocketEntry(family: family, localAddress: address, localPort: port, state: state,
                                       uid: uid, inode: inode))
        }
        return entries
    }

    /// The kernel prints each 32-bit word of the network-order address as a native integer
    /// (so byte-swapped on little-endian machines): IPv4 "0100007F" is 127.0.0.1; IPv6 is
    /// four such words.
    package static func decodeAddress(_ hex: String, family: SocketEntry.Family) -> String? {
        let wordCount = family == .ipv4 ? 1 : 4
        guard hex.count == wordCount * 8 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        for _ in 0..<wordCount {
            let end = hex.index(index, offsetBy: 8)
            guard let word = UInt32(hex[index..<end], radix: 16) else { return nil }
            // The word's in-memory bytes are the address in network order.
            withUnsafeBytes(of: word) { bytes.append(contentsOf: $0) }
            index = end
        }
        // `bytes` is now in network order.
        if family == .ipv4 { return bytes.map(String.init).joined(separator: ".") }
        return formatIPv6(bytes)
    }

    /// RFC 5952 text: lower-case hex groups, the longest run of two or more zero groups as
    /// "::", IPv4-mapped addresses as ::ffff:a.b.c.d.
    package static func formatIPv6(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 16)
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return "::ffff:" + bytes[12..<16].map(String.init).joined(separator: ".")
        }
        let groups = (0..<8).map { Int(bytes[2 * $0]) << 8 | Int(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength, i - runStart >= 2 { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        if bestStart < 0 { return hex.joined(separator: ":") }
        let head = hex[0..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }

    /// Every TCP socket (IPv4 and IPv6). A missing table (no IPv6 in the kernel) is empty.
    package func tcpSockets() -> [SocketEntry] {
        var all: [SocketEntry] = []
        if let text = read("net/tcp") { all += ProcFS.parseSocketTable(text, family: .ipv4) }
        if let text = read("net/tcp6") { all += ProcFS.parseSocketTable(text, family: .ipv6) }
        return all
    }

    package func listeningSockets(port: Int) -> [SocketEntry] {
        tcpSockets().filter { $0.isListening && $0.localPort == port }
    }

    /// Which process holds each socket inode, found by scanning /proc/PID/fd links
    /// ("socket:[12345]"). Processes whose fd directory we may not read are skipped.
    package func socketOwners(of inodes: Set<UInt64>) -> [UInt64: Int32] {
        guard !inodes.isEmpty else { return [:] }
        var owners: [UInt64: Int32] = [:]
        for pid in processIDs() {
            let fdDirectory = "\(root)/\(pid)/fd"
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else { continue }
            for fd in fds {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(fd)"),
                    let inode = ProcFS.socketInode(fromLink: target), inodes.contains(inode)
                else { continue }
                // Pids are scanned in ascending order and the first holder wins: the
                // listening socket of a pre-forking server is shared with its workers, and
                // the parent usually has the lowest id.
                if owners[inode] == nil { owners[inode] = pid }
            }
            if owners.count == inodes.count { break }
        }
        return owners
    }

    /// "socket:[12345]" → 12345.
    package static func socketInode(fromLink link: String) -> UInt64? {
        guard link.hasPrefix("socket:["), link.hasSuffix("]") else { return nil }
        return UInt64(link.dropFirst(8).dropLast())
    }

    package func processIDs() -> [Int32] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        return names.compactMap { Int32($0) }.sorted()
    }

    // MARK: processes

    /// Parses /proc/PID/stat. The command is in parentheses and may itself contain spaces
    /// and parentheses, so fields are counted from the last ')'.
    package static func parseStat(_ text: String) -> ProcessStat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close,
            let pid = Int32(text[..<open].trimming(.whitespaces))
        else { return nil }
        let command = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // rest[0] is field 3 (state); field N is rest[N - 3].
        guard rest.count >= 20, let state = rest[0].first, let ppid = Int32(rest[1]), let utime = UInt64(rest[11]),
            let stime = UInt64(rest[12]), let start = UInt64(rest[19])
        else { return nil }
        return ProcessStat(pid: pid, command: command, state: state, parentPID: ppid, userTicks: utime, systemTicks: stime,
                           startTicks: start)
    }

    package static func parseStatus(_ text: String) -> ProcessStatusInfo {
        var info = ProcessStatusInfo()
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            let value = line[line.index(after: colon)...].trimming(.whitespaces)
            switch key {
            case "Name": info.name = value
            case "Uid": info.realUID = value.split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { Int($0) }
            case "VmRSS":
                // "21280 kB"
                info.residentKiB = value.split(separator: " ").first.flatMap { Int($0) }
            default: break
            }
        }
        return info
    }

    /// Seconds since boot, the first number of /proc/uptime.
    package static func parseUptime(_ text: String) -> Double? {
        text.split(separator: " ").first.flatMap { Double($0.trimming(.whitespacesAndNewlines)) }
    }

    package func stat(pid: Int32) -> ProcessStat? { read("\(pid)/stat").flatMap(ProcFS.parseStat) }
    package func status(pid: Int32) -> ProcessStatusInfo? { read("\(pid)/status").map(ProcFS.parseStatus) }
    package func uptime() -> Double? { read("uptime").flatMap(ProcFS.parseUptime) }

    /// The full command line (NUL-separated in /proc), or nil when unreadable or empty. Its
    /// secrets are masked here, where the arguments are still apart (`--password 'a b'` is one).
    package func commandLine(pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "\(root)/\(pid)/cmdline"), !data.isEmpty else { return nil }
        let parts = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let joined = SecretPatterns.maskArguments(parts.filter { !$0.isEmpty }).joined(separator: " ")
        return joined.isEmpty ? nil : joined
    }

    private func read(_ relative: String) -> String? {
        guard let data = FileManager.default.contents(atPath: "\(root)/\(relative)") else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
