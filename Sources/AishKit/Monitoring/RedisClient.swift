import FoundationEssentials
import Glibc

/// One value of Redis's wire protocol (RESP2): what a command answers.
enum RESPValue: Equatable, Sendable {
    case simple(String)
    case error(String)
    case integer(Int)
    case bulk(String?)          // nil: the null bulk string
    case array([RESPValue]?)    // nil: the null array

    var text: String? {
        switch self {
        case let .simple(s): return s
        case let .bulk(s): return s
        case let .integer(i): return String(i)
        default: return nil
        }
    }
}

/// Decodes RESP2 replies from bytes as they arrive. `next()` returns nil until a whole
/// reply is buffered, so a reply split across reads is handled.
struct RESPParser {
    private var buffer: [UInt8] = []
    private var start = 0
    /// Longest bulk string or array accepted: a misbehaving server cannot make us allocate freely.
    static let maxLength = 64 << 20

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    mutating func push(_ bytes: [UInt8]) {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, nil when more bytes are needed.
    mutating func next() throws -> RESPValue? {
        var i = start
        guard let value = try parse(&i) else { return nil }
        start = i
        return value
    }

    private func line(_ i: inout Int) -> String? {
        var j = i
        while j + 1 < buffer.count {
            if buffer[j] == 0x0D && buffer[j + 1] == 0x0A {
                let s = String(decoding: buffer[i..<j], as: UTF8.self)
                i = j + 2
                return s
            }
            j += 1
        }
        return nil
    }

    private func parse(_ i: inout Int) throws -> RESPValue? {
        guard i < buffer.count else { return nil }
        let kind = buffer[i]
        var j = i + 1
        guard let head = line(&j) else { return nil }
        switch kind {
        case UInt8(ascii: "+"): i = j; return .simple(head)
        case UInt8(ascii: "-"): i = j; return .error(head)
        case UInt8(ascii: ":"):
            guard let n = Int(head) else { throw Malformed(description: "integer reply ':\(head)' is not a number") }
            i = j
            return .integer(n)
        case UInt8(ascii: "$"):
            guard let n = Int(head), n >= -1, n <= RESPParser.maxLength else {
                throw Malformed(description: "bulk string length '\(head)' is not valid")
            }
            if n == -1 { i = j; return .bulk(nil) }
            guard buffer.count >= j + n + 2 else { return nil }
            guard buffer[j + n] == 0x0D, buffer[j + n + 1] == 0x0A else {
                throw Malformed(description: "bulk string of \(n) bytes is not followed by CRLF")
            }
            let s = String(decoding: buffer[j..<(j + n)], as: UTF8.self)
            i = j + n + 2
            return .bulk(s)
        case UInt8(ascii: "*"):
            guard let n = Int(head), n >= -1, n <= RESPParser.maxLength else {
                throw Malformed(description: "array length '\(head)' is not valid")
            }
            if n == -1 { i = j; return .array(nil) }
            var items: [RESPValue] = []
            items.reserveCapacity(min(n, 1024))
            for _ in 0..<n {
                guard let item = try parse(&j) else { return nil }
                items.append(item)
            }
            i = j
            return .array(items)
        default:
            throw Malformed(description: "unknown reply type byte 0x\(String(kind, radix: 16)) (is this a Redis server?)")
        }
    }

    /// A command as RESP: an array of bulk strings.
    static func encode(_ words: [String]) -> [UInt8] {
        var out = Array("*\(words.count)\r\n".utf8)
        for w in words {
            let bytes = Array(w.utf8)
            out += Array("$\(bytes.count)\r\n".utf8)
            out += bytes
            out += [0x0D, 0x0A]
        }
        return out
    }
}

/// Why a Redis command failed; names the server and the command.
struct RedisError: Error, CustomStringConvertible, Sendable {
    var message: String
    var description: String { message }
}

/// A small Redis client over one TCP connection (RESP2): enough for a health report —
/// PING, DBSIZE, INFO, SCAN. Owns its socket; every call is bounded by the timeout given
/// at connect and stops promptly on Ctrl-C.
final class RedisClient {
    let host: String
    let port: Int
    private var fd: Int32 = -1
    private let timeout: Double
    private let interrupt: InterruptFlag
    private var parser = RESPParser()

    var address: String { "\(host):\(port)" }

    init(host: String, port: Int, timeout: Double, interrupt: InterruptFlag) throws {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.interrupt = interrupt
        let deadline = Date().addingTimeInterval(timeout)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw RedisError(message: "redis \(host):\(port): cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "connection refused"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let ai = candidate {
            candidate = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                           ai.pointee.ai_protocol)
            if s < 0 { lastError = String(cString: strerror(errno)); continue }
            if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { fd = s; return }
            guard errno == EINPROGRESS else { lastError = String(cString: strerror(errno)); Glibc.close(s); continue }
            do {
                try RedisClient.wait(fd: s, events: Int16(POLLOUT), deadline: deadline, interrupt: interrupt)
            } catch let e as RedisError {
                Glibc.close(s)
                throw RedisError(message: "redis \(host):\(port): connect \(e.message)")
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { fd = s; return }
            lastError = String(cString: strerror(soError))
            Glibc.close(s)
        }
        throw RedisError(message: "redis \(host):\(port): connect failed: \(lastError)")
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    /// Sends one command and reads its reply. A Redis error reply is thrown, naming the command.
    func command(_ words: [String]) throws -> RESPValue {
        let name = words.first?.uppercased() ?? ""
        guard fd >= 0 else { throw RedisError(message: "redis \(address): \(name): connection closed") }
        let deadline = Date().addingTimeInterval(timeout)
        do {
            try send(RESPParser.encode(words), deadline: deadline)
            while true {
                if let reply = try parser.next() {
                    if case let .error(message) = reply { throw RedisError(message: "redis \(address): \(name): \(message)") }
                    return reply
                }
                try receive(deadline: deadline)
            }
        } catch let e as RedisError where !e.message.hasPrefix("redis ") {
            close()
            throw RedisError(message: "redis \(address): \(name): \(e.message)")
        } catch let e as RESPParser.Malformed {
            close()
            throw RedisError(message: "redis \(address): \(name): malformed reply: \(e.description)")
        }
    }

    /// PING: true when the server answers PONG.
    func ping() throws -> Bool { try command(["PING"]) == .simple("PONG") }

    /// DBSIZE: the number of keys in the selected database.
    func dbSize() throws -> Int {
        guard case let .integer(n) = try command(["DBSIZE"]) else {
            throw RedisError(message: "redis \(address): DBSIZE: the answer is not an integer")
        }
        return n
    }

    /// INFO SECTION as key → value (lines "key:value"; comments and blank lines skipped).
    func info(_ section: String) throws -> [String: String] {
        guard let text = try command(["INFO", section]).text else {
            throw RedisError(message: "redis \(address): INFO: the answer is not text")
        }
        var out: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return out
    }

    /// Counts the keys matching a glob and `filter` with SCAN (never KEYS, which blocks the
    /// server), stopping after `limit` keys scanned; `complete` is false when it stopped early.
    func countKeys(matching pattern: String, limit: Int = 100_000,
                   filter: (String) -> Bool = { _ in true }) throws -> (count: Int, complete: Bool, sample: [String]) {
        var scanned = 0
        var cursor = "0"
        var count = 0
        var sample: [String] = []
        repeat {
            let reply = try command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])
            guard case let .array(parts?) = reply, parts.count == 2, let next = parts[0].text, case let .array(keys?) = parts[1] else {
                throw RedisError(message: "redis \(address): SCAN: the answer is not [cursor, keys]")
            }
            scanned += keys.count
            for k in keys {
                guard let t = k.text, filter(t) else { continue }
                count += 1
                if sample.count < 3 { sample.append(t) }
            }
            cursor = next
            if scanned >= limit && cursor != "0" { return (count, false, sample) }
        } while cursor != "0"
        return (count, true, sample)
    }

    private func send(_ bytes: [UInt8], deadline: Date) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buf in Glibc.send(fd, buf.baseAddress! + offset, buf.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                try RedisClient.wait(fd: fd, events: Int16(POLLOUT), deadline: deadline, interrupt: interrupt)
                continue
            }
            throw RedisError(message: "send failed: \(String(cString: strerror(errno)))")
        }
    }

    private func receive(deadline: Date) throws {
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { buf in recv(fd, buf.baseAddress!, buf.count, 0) }
            if n > 0 { parser.push(Array(chunk[0..<n])); return }
            if n == 0 { throw RedisError(message: "the server closed the connection") }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try RedisClient.wait(fd: fd, events: Int16(POLLIN), deadline: deadline, interrupt: interrupt)
                continue
            }
            throw RedisError(message: "recv failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Waits for readiness in 50 ms slices so Ctrl-C is seen promptly.
    private static func wait(fd: Int32, events: Int16, deadline: Date, interrupt: InterruptFlag) throws {
        while true {
            if interrupt.isRaised { throw RedisError(message: "interrupted") }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw RedisError(message: "timed out") }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, Int32(min(left, 0.05) * 1000) + 1)
            if rc > 0 { return }
            if rc < 0, errno != EINTR { throw RedisError(message: "poll failed: \(String(cString: strerror(errno)))") }
        }
    }
}
