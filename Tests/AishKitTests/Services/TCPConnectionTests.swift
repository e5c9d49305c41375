import Foundation
import Testing
@testable import AishBase
@testable import AishHTTP

/// A listening socket on a free port of 127.0.0.1; `accept()` takes one connection.
private final class Listener {
    let fd: Int32
    let port: Int

    init() throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        guard bound == 0, listen(s, 4) == 0 else {
            close(s)
            throw MissingTestFile(path: "a listening socket on 127.0.0.1", hint: "bind or listen failed")
        }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func accept() -> Int32 { Glibc.accept(fd, nil, nil) }
    deinit { close(fd) }
}

/// TCPConnection's sends and receives under a deadline, against a listener of the test's own
/// on 127.0.0.1 (what Redis's client builds on).
@Suite struct TCPConnectionTests {
    private func error(_ body: () throws -> Void) -> TCPConnectionError? {
        do { try body(); return nil } catch { return error as? TCPConnectionError }
    }

    @Test func sendsAndReceivesUnderADeadline() throws {
        let listener = try Listener()
        let c = try TCPConnection(host: "127.0.0.1", port: listener.port, timeout: 2, interrupt: InterruptFlag())
        let peer = listener.accept()
        defer { close(peer) }
        try c.send(Array("PING\r\n".utf8), deadline: Date().addingTimeInterval(2))
        var got = [UInt8](repeating: 0, count: 64)
        let n = recv(peer, &got, got.count, 0)
        #expect(String(decoding: got[0..<max(0, n)], as: UTF8.self) == "PING\r\n")
        _ = send(peer, "+PONG\r\n", 7, 0)
        #expect(try c.receive(deadline: Date().addingTimeInterval(2)) == Array("+PONG\r\n".utf8))

        // Nothing arrives: the deadline ends the wait.
        let silent = error { _ = try c.receive(deadline: Date().addingTimeInterval(0.2)) }
        #expect(silent?.reason == "timed out")
        #expect(silent?.description == "127.0.0.1:\(listener.port): timed out")
    }

    @Test func aClosedPeerAndCtrlCAreSaidAsSuch() throws {
        let listener = try Listener()
        let interrupt = InterruptFlag()
        let waiting = try TCPConnection(host: "127.0.0.1", port: listener.port, timeout: 2, interrupt: interrupt)
        let first = listener.accept()
        defer { close(first) }
        interrupt.raise()
        #expect(error { _ = try waiting.receive(deadline: Date().addingTimeInterval(5)) }?.reason == "interrupted")

        let c = try TCPConnection(host: "127.0.0.1", port: listener.port, timeout: 2, interrupt: InterruptFlag())
        close(listener.accept())
        let closed = error { _ = try c.receive(deadline: Date().addingTimeInterval(2)) }
        #expect(closed?.reason == "the server closed the connection")
        #expect(closed?.step == .receive)
        c.close()
        #expect(error { try c.send([1], deadline: Date().addingTimeInterval(1)) }?.reason == "connection closed")
    }

    @Test func connectErrorsNameTheAddress() {
        let port = FreePort.unused()
        let refused = error { _ = try TCPConnection(host: "127.0.0.1", port: port, timeout: 1, interrupt: InterruptFlag()) }
        #expect(refused?.step == .connect)
        #expect(refused?.description == "connect to 127.0.0.1:\(port) failed: Connection refused")
    }
}
