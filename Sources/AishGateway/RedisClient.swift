import FoundationEssentials
import Glibc
import AishBase
import AishHTTP

/// One value of Redis's wire protocol (RESP2): what a command answers.
package enum RESPValue: Equatable, Sendable {
    case simple(String)
    case error(String)
    case integer(Int)
    case bulk(String?)          // nil: the null bulk string
    case array([RESPValue]?)    // nil: the null array

    package var text: String? {
        switch self {
        case let .simple(s): return s
        case let .bulk(s): return s
        case let .integer(i): return String(i)
        default: return nil
        }
    }
}

/// Decodes RESP2 replies from bytes as they arrive. `next()` returns nil until a whole
/// reply is buffered, so a reply split across reads is handled. A misbehaving server cannot
/// make it recurse, allocate or buffer without bound: the limits below end the reply with
/// an error that names them.
package struct RESPParser {
    private var buffer: [UInt8] = []
    private var start = 0

    package init(buffer: [UInt8] = []) {
        self.buffer = buffer
    }

    /// Deepest nesting of arrays accepted (the replies aish reads are at most 2 deep).
    package static let maxDepth = 32
    /// Most elements in one reply, all its arrays together.
    package static let maxElements = 1 << 20
    /// Longest bulk string accepted.
    package static let maxBulkBytes = 16 << 20
    /// Most bytes one reply may take, buffered until it is whole.
    package static let maxReplyBytes = 32 << 20

    package struct Malformed: Error, CustomStringConvertible {
        package var description: String
    }

    package mutating func push(_ bytes: [UInt8]) {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, nil when more bytes are needed.
    package mutating func next() throws -> RESPValue? {
        var i = start
        var elements = 0
        guard let value = try parse(&i, depth: 0, elements: &elements) else {
            if buffer.count - start > RESPParser.maxReplyBytes {
                throw Malformed(description: "reply larger than \(RESPParser.maxReplyBytes >> 20) MiB (aish's limit) and not complete")
            }
            return nil
        }
        start = i
        return value
    }

    private func line(_ i: inout Int) -> String? {
        // memchr: a reply is parsed again from its start each time more of it arrives.
        let end: Int? = buffer.withUnsafeBufferPointer { b in
            var j = i
            while j + 1 < b.count {
                guard let cr = memchr(b.baseAddress! + j, 0x0D, b.count - j - 1) else { return nil }
                j = UnsafePointer<UInt8>(cr.assumingMemoryBound(to: UInt8.self)) - b.baseAddress!
                if b[j + 1] == 0x0A { return j }
                j += 1
            }
            return nil
        }
        guard let end else { return nil }
        let s = String(decoding: buffer[i..<end], as: UTF8.self)
        i = end + 2
        return s
    }

    private func parse(_ i: inout Int, depth: Int, elements: inout Int) throws -> RESPValue? {
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
            guard let n = Int(head), n >= -1 else {
                throw Malformed(description: "bulk string length '\(head)' is not valid")
            }
            guard n <= RESPParser.maxBulkBytes else {
                throw Malformed(description: "bulk string of \(n) bytes is longer than \(RESPParser.maxBulkBytes >> 20) MiB (aish's limit)")
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
            guard let n = Int(head), n >= -1 else {
                throw Malformed(description: "array length '\(head)' is not valid")
            }
            if n == -1 { i = j; return .array(nil) }
            guard depth < RESPParser.maxDepth else {
                throw Malformed(description: "arrays nested deeper than \(RESPParser.maxDepth) levels (aish's limit)")
            }
            elements += n
            guard elements <= RESPParser.maxElements else {
                throw Malformed(description: "more than \(RESPParser.maxElements) elements in one reply (aish's limit)")
            }
            var items: [RESPValue] = []
            items.reserveCapacity(min(n, 1024))
            for _ in 0..<n {
                guard let item = try parse(&j, depth: depth + 1, elements: &elements) else { return nil }
                items.append(item)
            }
            i = j
            return .array(items)
        default:
            throw Malformed(description: "unknown reply type byte 0x\(String(kind, radix: 16)) (is this a Redis server?)")
        }
    }

    /// A command as RESP: an array of bulk strings.
    package static func encode(_ words: [String]) -> [UInt8] {
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
package struct RedisError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}

/// A small Redis client over one TCP connection (RESP2): enough for a health report —
/// PING, DBSIZE, INFO, SCAN. RESP on top of a `TCPConnection`; every call is bounded by the
/// timeout given at connect and stops promptly on Ctrl-C.
package final class RedisClient {
    package let host: String
    package let port: Int
    /// nil once closed (after a transport or protocol error, the stream is out of step).
    private var connection: TCPConnection?
    private let timeout: Double
    private var parser = RESPParser()

    package var address: String { "\(host):\(port)" }

    package init(host: String, port: Int, timeout: Double, interrupt: InterruptFlag) throws {
        self.host = host
        self.port = port
        self.timeout = timeout
        do {
            connection = try TCPConnection(host: host, port: port, timeout: timeout, interrupt: interrupt)
        } catch {
            let what = error.step == .connect ? "connect \(error.reason)" : error.description
            throw RedisError(message: "redis \(host):\(port): \(what)")
        }
    }

    package func close() {
        connection?.close()
        connection = nil
    }

    /// Sends one command and reads its reply. A Redis error reply is thrown, naming the command.
    package func command(_ words: [String]) throws -> RESPValue {
        let name = words.first?.uppercased() ?? ""
        guard let connection else { throw RedisError(message: "redis \(address): \(name): connection closed") }
        let deadline = Date().addingTimeInterval(timeout)
        do {
            try connection.send(RESPParser.encode(words), deadline: deadline)
            while true {
                if let reply = try parser.next() {
                    if case let .error(message) = reply { throw RedisError(message: "redis \(address): \(name): \(message)") }
                    return reply
                }
                parser.push(try connection.receive(deadline: deadline))
            }
        } catch let e as TCPConnectionError {
            close()
            throw RedisError(message: "redis \(address): \(name): \(e.reason)")
        } catch let e as RESPParser.Malformed {
            close()
            throw RedisError(message: "redis \(address): \(name): malformed reply: \(e.description)")
        }
    }

    /// PING: true when the server answers PONG.
    package func ping() throws -> Bool { try command(["PING"]) == .simple("PONG") }

    /// DBSIZE: the number of keys in the selected database.
    package func dbSize() throws -> Int {
        guard case let .integer(n) = try command(["DBSIZE"]) else {
            throw RedisError(message: "redis \(address): DBSIZE: the answer is not an integer")
        }
        return n
    }

    /// INFO SECTION as key → value (lines "key:value"; comments and blank lines skipped).
    package func info(_ section: String) throws -> [String: String] {
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
    package func countKeys(matching pattern: String, limit: Int = 100_000,
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
}

// Read-only requests for the gateway's live view (`gateway`): they never write and never
// block the server (SCAN, not KEYS).
extension RedisClient {
    /// GET: the value, nil when the key does not exist.
    package func get(_ key: String) throws -> String? {
        switch try command(["GET", key]) {
        case let .bulk(s): return s
        default: throw RedisError(message: "redis \(address): GET: the answer is not a string")
        }
    }

    /// PTTL in seconds: nil when the key does not exist (-2) or has no expiry (-1).
    package func secondsToLive(_ key: String) throws -> Double? {
        guard case let .integer(ms) = try command(["PTTL", key]) else {
            throw RedisError(message: "redis \(address): PTTL: the answer is not an integer")
        }
        return ms < 0 ? nil : Double(ms) / 1000
    }

    /// The keys matching a glob, with SCAN, stopping after `limit` keys scanned;
    /// `complete` is false when it stopped early.
    package func scanKeys(matching pattern: String, limit: Int = 100_000) throws -> (keys: [String], complete: Bool) {
        var keys: [String] = []
        var cursor = "0"
        var scanned = 0
        repeat {
            let reply = try command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])
            guard case let .array(parts?) = reply, parts.count == 2, let next = parts[0].text, case let .array(found?) = parts[1] else {
                throw RedisError(message: "redis \(address): SCAN: the answer is not [cursor, keys]")
            }
            scanned += found.count
            keys += found.compactMap(\.text)
            cursor = next
            if scanned >= limit && cursor != "0" { return (keys, false) }
        } while cursor != "0"
        return (keys, true)
    }
}
