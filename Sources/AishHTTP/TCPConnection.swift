import FoundationEssentials
import Dispatch
import Glibc
import AishBase

/// Why a TCP connection, or a send or receive over it, failed: the step and what happened.
package struct TCPConnectionError: UserFacingError {
    package enum Step: Sendable { case resolve, connect, send, receive }

    package var exitCode: ExitCode { .failure }
    package var host: String
    package var port: Int
    package var step: Step
    /// What happened: "timed out", "interrupted", "failed: Connection refused", "the server
    /// closed the connection", or the resolver's words.
    package var reason: String

    package var description: String {
        switch step {
        case .resolve: return "cannot resolve \(host): \(reason)"
        case .connect: return "connect to \(host):\(port) \(reason)"
        case .send, .receive: return "\(host):\(port): \(reason)"
        }
    }
}

/// A TCP connection made with a deadline and checked for Ctrl-C; owns the descriptor.
/// Used for services that have no HTTP health endpoint, and under the Redis client: sends
/// and receives wait under a deadline too, in 50 ms slices so that Ctrl-C is seen promptly.
package final class TCPConnection {
    package let host: String
    package let port: Int
    private var fd: Int32 = -1
    private let interrupt: InterruptFlag

    package init(host: String, port: Int, timeout: Double, interrupt: InterruptFlag) throws(TCPConnectionError) {
        self.host = host
        self.port = port
        self.interrupt = interrupt
        let deadline = Date().addingTimeInterval(timeout)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw TCPConnectionError(host: host, port: port, step: .resolve, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        var lastError = "connection refused"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let ai = candidate {
            candidate = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue)
                           | Int32(SOCK_NONBLOCK.rawValue), ai.pointee.ai_protocol)
            if s < 0 { lastError = String(cString: strerror(errno)); continue }
            if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { fd = s; return }
            guard errno == EINPROGRESS else { lastError = String(cString: strerror(errno)); Glibc.close(s); continue }
            do {
                try wait(s, for: Int16(POLLOUT), deadline: deadline, step: .connect)
            } catch {
                Glibc.close(s)
                throw error
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { fd = s; return }
            lastError = String(cString: strerror(soError))
            Glibc.close(s)
        }
        throw TCPConnectionError(host: host, port: port, step: .connect, reason: "failed: \(lastError)")
    }

    deinit { close() }

    package func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    /// Sends all of `bytes` before `deadline`.
    package func send(_ bytes: [UInt8], deadline: Date) throws(TCPConnectionError) {
        guard fd >= 0 else { throw TCPConnectionError(host: host, port: port, step: .send, reason: "connection closed") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buf in Glibc.send(fd, buf.baseAddress! + offset, buf.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                try wait(fd, for: Int16(POLLOUT), deadline: deadline, step: .send)
                continue
            }
            throw TCPConnectionError(host: host, port: port, step: .send, reason: "send failed: \(String(cString: strerror(errno)))")
        }
    }

    /// The next bytes that arrive (at least one) before `deadline`.
    package func receive(deadline: Date, upTo limit: Int = 16 << 10) throws(TCPConnectionError) -> [UInt8] {
        guard fd >= 0 else { throw TCPConnectionError(host: host, port: port, step: .receive, reason: "connection closed") }
        var chunk = [UInt8](repeating: 0, count: limit)
        while true {
            let n = chunk.withUnsafeMutableBytes { buf in recv(fd, buf.baseAddress!, buf.count, 0) }
            if n > 0 { return Array(chunk[0..<n]) }
            if n == 0 { throw TCPConnectionError(host: host, port: port, step: .receive, reason: "the server closed the connection") }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try wait(fd, for: Int16(POLLIN), deadline: deadline, step: .receive)
                continue
            }
            throw TCPConnectionError(host: host, port: port, step: .receive, reason: "recv failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Waits for readiness in 50 ms slices so Ctrl-C is seen promptly.
    private func wait(_ socket: Int32, for events: Int16, deadline: Date, step: TCPConnectionError.Step) throws(TCPConnectionError) {
        while true {
            if interrupt.isRaised { throw TCPConnectionError(host: host, port: port, step: step, reason: "interrupted") }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw TCPConnectionError(host: host, port: port, step: step, reason: "timed out") }
            var p = pollfd(fd: socket, events: events, revents: 0)
            let rc = poll(&p, 1, Int32(min(left, 0.05) * 1000) + 1)
            if rc > 0 { return }
            if rc < 0, errno != EINTR {
                throw TCPConnectionError(host: host, port: port, step: step, reason: "poll failed: \(String(cString: strerror(errno)))")
            }
        }
    }
}
