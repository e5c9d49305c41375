import Foundation
import Testing
@testable import AishBase
@testable import AishGateway

@Suite struct RESPParserTests {
    @Test func decodesEveryReplyType() throws {
        var p = RESPParser()
        p.push(Array("+PONG\r\n-ERR nope\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n:7\r\n*-1\r\n$0\r\n\r\n".utf8))
        #expect(try p.next() == .simple("PONG"))
        #expect(try p.next() == .error("ERR nope"))
        #expect(try p.next() == .integer(42))
        #expect(try p.next() == .bulk("hello"))
        #expect(try p.next() == .bulk(nil))
        #expect(try p.next() == .array([.bulk("a"), .integer(7)]))
        #expect(try p.next() == .array(nil))
        #expect(try p.next() == .bulk(""))
        #expect(try p.next() == nil)
    }

    @Test func waitsForAReplySplitAcrossReads() throws {
        let whole = Array("*2\r\n$1\r\n0\r\n*1\r\n$12\r\nhello\r\nworld\r\n".utf8)
        var p = RESPParser()
        for (i, byte) in whole.enumerated() {
            p.push([byte])
            if i < whole.count - 1 { #expect(try p.next() == nil, "complete after \(i + 1) of \(whole.count) bytes") }
        }
        #expect(try p.next() == .array([.bulk("0"), .array([.bulk("hello\r\nworld")])]))
    }

    @Test func rejectsWhatIsNotRESP() {
        var p = RESPParser()
        p.push(Array("HTTP/1.1 400 Bad Request\r\n".utf8))
        #expect(throws: RESPParser.Malformed.self) { try p.next() }
        var q = RESPParser()
        q.push(Array("$3\r\nabcdef\r\n".utf8))
        #expect(throws: RESPParser.Malformed.self) { try q.next() }
    }

    static func malformed(_ bytes: [UInt8], pushedInPiecesOf piece: Int = Int.max) -> String? {
        var p = RESPParser()
        var offset = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + piece)
                p.push(Array(bytes[offset..<end]))
                offset = end
                _ = try p.next()
            }
            return nil
        } catch {
            return (error as? RESPParser.Malformed)?.description
        }
    }

    /// A server cannot make the decoder recurse, allocate or buffer without bound (issue 24.5:
    /// 10,000 nested arrays crashed aish with a stack overflow).
    @Test func boundsDepthElementsBulkSizeAndReplySize() {
        let deep = Array(String(repeating: "*1\r\n", count: 10_000).utf8) + Array(":1\r\n".utf8)
        for piece in [Int.max, 4096] {
            #expect(Self.malformed(deep, pushedInPiecesOf: piece) == "arrays nested deeper than 32 levels (aish's limit)")
        }
        // 32 levels are fine.
        var ok = RESPParser()
        ok.push(Array(String(repeating: "*1\r\n", count: 32).utf8) + Array(":1\r\n".utf8))
        #expect(throws: Never.self) { _ = try ok.next() }

        // Many elements, across arrays: the count is for the whole reply.
        #expect(Self.malformed(Array("*2000000\r\n".utf8)) == "more than 1048576 elements in one reply (aish's limit)")
        let wide = Array("*2\r\n*600000\r\n".utf8) + Array(String(repeating: ":1\r\n", count: 600_000).utf8)
            + Array("*600000\r\n".utf8)
        #expect(Self.malformed(wide) == "more than 1048576 elements in one reply (aish's limit)")
        #expect(Self.malformed(Array("$17000000\r\n".utf8)) == "bulk string of 17000000 bytes is longer than 16 MiB (aish's limit)")
        // A line that never ends: buffered up to the limit, then refused.
        let endless = Array("+".utf8) + [UInt8](repeating: 0x61, count: RESPParser.maxReplyBytes + 1)
        #expect(Self.malformed(endless) == "reply larger than 32 MiB (aish's limit) and not complete")
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        #expect(String(decoding: RESPParser.encode(["SCAN", "0", "MATCH", "*"]), as: UTF8.self)
                == "*4\r\n$4\r\nSCAN\r\n$1\r\n0\r\n$5\r\nMATCH\r\n$1\r\n*\r\n")
    }

    @Test func recognisesLiteLLMCacheKeys() {
        #expect(RedisProbeResult.isLiteLLMCacheKey(String(repeating: "ab12", count: 16)))
        #expect(RedisProbeResult.isLiteLLMCacheKey("litellm:" + String(repeating: "0f", count: 32)))
        #expect(!RedisProbeResult.isLiteLLMCacheKey("session:1234"))
        #expect(!RedisProbeResult.isLiteLLMCacheKey(String(repeating: "AB12", count: 16)))
    }
}

/// The client against the real redis-server (when installed) and against the RESP fake.
@Suite(.serialized) struct RedisClientTests {
    @Test(.enabled(if: RedisTestServer.redisServerPath != nil, "redis-server is not installed (apt-get install redis-server); the fake covers the protocol"))
    func talksToTheRealRedisServer() throws {
        let server = try #require(try RedisTestServer.real())
        defer { server.stop() }
        for i in 0..<25 { _ = try server.command(["SET", "plain:\(i)", "x"]) }
        for i in 0..<12 { _ = try server.command(["SET", String(repeating: String(format: "%02x", i), count: 32), "{}"]) }
        let client = try RedisClient(host: "127.0.0.1", port: server.port, timeout: 2, interrupt: InterruptFlag())
        #expect(try client.ping())
        #expect(try client.dbSize() == 37)
        let info = try client.info("server")
        #expect(info["redis_version"]?.isEmpty == false)
        let scan = try client.countKeys(matching: "*", filter: RedisProbeResult.isLiteLLMCacheKey)
        #expect(scan.count == 12)
        #expect(scan.complete)
        #expect(throws: RedisError.self) { try client.command(["NOSUCHCOMMAND"]) }
        // An error reply leaves the connection usable.
        #expect(try client.ping())
        let probe = RedisProbeResult.probe(host: "127.0.0.1", port: server.port, timeout: 2, interrupt: InterruptFlag())
        #expect(probe.pong && probe.error == nil)
        #expect(probe.keys == 37 && probe.litellmCacheEntries == 12)
        #expect(probe.version == info["redis_version"])
    }

    @Test(.enabled(if: RedisTestServer.redisServerPath != nil, "redis-server is not installed (apt-get install redis-server)"))
    func authenticatesWhenAPasswordIsGiven() throws {
        let server = try #require(try RedisTestServer.real(extraArguments: ["--requirepass", "s3cret-pass"]))
        defer { server.stop() }
        let without = RedisProbeResult.probe(host: "127.0.0.1", port: server.port, timeout: 2, interrupt: InterruptFlag())
        #expect(without.error?.hasPrefix("redis 127.0.0.1:\(server.port): PING: NOAUTH") == true, "\(without.error ?? "")")
        let with = RedisProbeResult.probe(host: "127.0.0.1", port: server.port, password: "s3cret-pass", timeout: 2, interrupt: InterruptFlag())
        #expect(with.error == nil && with.pong)
        let wrong = RedisProbeResult.probe(host: "127.0.0.1", port: server.port, password: "nope", timeout: 2, interrupt: InterruptFlag())
        #expect(wrong.error?.contains("AUTH: WRONGPASS") == true, "\(wrong.error ?? "")")
        #expect(wrong.error?.contains("nope") == false)
    }

    @Test func talksToTheFakeWithRepliesSplitIntoBytes() throws {
        let server = try RedisTestServer(fakeArguments: ["--split", "--keys", "23", "--cache-keys", "4"])
        defer { server.stop() }
        let probe = RedisProbeResult.probe(host: "127.0.0.1", port: server.port, timeout: 5, interrupt: InterruptFlag())
        #expect(probe.error == nil, "\(probe.error ?? "")")
        #expect(probe.pong)
        #expect(probe.keys == 27)
        #expect(probe.litellmCacheEntries == 4)
        #expect(probe.version == "7.0.15-fake")
        #expect(probe.usedMemory == "1.02M")
    }

    @Test func anErrorReplyNamesTheServerAndCommand() throws {
        let server = try RedisTestServer(fakeArguments: [])
        defer { server.stop() }
        let client = try RedisClient(host: "127.0.0.1", port: server.port, timeout: 2, interrupt: InterruptFlag())
        do {
            _ = try client.command(["FLUSHALL"])
            Issue.record("FLUSHALL should have failed")
        } catch let e as RedisError {
            #expect(e.message == "redis 127.0.0.1:\(server.port): FLUSHALL: ERR unknown command 'FLUSHALL'")
        }
    }

    @Test func aDeeplyNestedReplyIsAnErrorNotACrash() throws {
        let server = try RedisTestServer(fakeArguments: ["--nested", "10000"])
        defer { server.stop() }
        let probe = RedisProbeResult.probe(host: "127.0.0.1", port: server.port, timeout: 2, interrupt: InterruptFlag())
        #expect(!probe.pong)
        #expect(probe.error == "redis 127.0.0.1:\(server.port): PING: malformed reply: arrays nested deeper than 32 levels (aish's limit)")
    }

    @Test func aClosedPortIsAClearError() {
        let port = FakeProviderProcess.unusedPort()
        let probe = RedisProbeResult.probe(host: "127.0.0.1", port: port, timeout: 1, interrupt: InterruptFlag())
        #expect(!probe.pong)
        #expect(probe.error?.hasPrefix("redis 127.0.0.1:\(port): connect") == true, "\(probe.error ?? "")")
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        // A listener that accepts and stays silent.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        listen(fd, 4)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let probe = RedisProbeResult.probe(host: "127.0.0.1", port: port, timeout: 0.3, interrupt: InterruptFlag())
        #expect(probe.error == "redis 127.0.0.1:\(port): PING: timed out")
    }
}
