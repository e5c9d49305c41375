import Foundation

/// The result of checking one service: can we connect, and does its health endpoint answer.
struct HealthResult: Equatable, Sendable {
    var reachable: Bool             // TCP connect succeeded
    var httpStatus: Int?            // status of the health GET, when one was made
    var error: String?              // why it is not healthy
    var latencyMs: Double?

    var healthy: Bool { reachable && error == nil }
}

/// A TCP connect, then (when the service has an HTTP health endpoint) a GET whose status
/// must be 2xx or 3xx. Plain sockets keep this independent of the HTTP client: it only
/// needs the status line. Every wait is bounded by `timeout` and checks `interrupt`.
enum HealthProbe {
    static func check(host: String, port: Int, healthURL: String?, timeout: Double, interrupt: InterruptFlag)
        -> HealthResult
    {
        let started = Date()
        if let healthURL {
            do {
                let status = try httpStatus(of: healthURL, timeout: timeout, interrupt: interrupt)
                let ms = Date().timeIntervalSince(started) * 1000
                if (200..<400).contains(status) { return HealthResult(reachable: true, httpStatus: status, latencyMs: ms) }
                return HealthResult(reachable: true, httpStatus: status, error: "GET \(healthURL) answered \(status)",
                                    latencyMs: ms)
            } catch let e as ProbeError {
                return HealthResult(reachable: e.connected, error: e.message)
            } catch {
                return HealthResult(reachable: false, error: "\(error)")
            }
        }
        do {
            let socket = try TCPConnection(host: host, port: port, timeout: timeout, interrupt: interrupt)
            socket.close()
            return HealthResult(reachable: true, latencyMs: Date().timeIntervalSince(started) * 1000)
        } catch let e as ProbeError {
            return HealthResult(reachable: false, error: e.message)
        } catch {
            return HealthResult(reachable: false, error: "\(error)")
        }
    }

    /// GET `url` and return the HTTP status code. https is checked at TCP level only
    /// (no TLS here): a reachable port counts as 200.
    static func httpStatus(of url: String, timeout: Double, interrupt: InterruptFlag) throws -> Int {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), var host = c.host else {
            throw ProbeError(message: "bad health URL '\(url)'", connected: false)
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = c.port ?? (scheme == "https" ? 443 : 80)
        let connection: TCPConnection
        do {
            connection = try TCPConnection(host: host, port: port, timeout: timeout, interrupt: interrupt)
        } catch var e as ProbeError {
            e.message = "GET \(url): \(e.message)"
            throw e
        }
        defer { connection.close() }
        if scheme == "https" { return 200 }
        var path = c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath
        if let q = c.percentEncodedQuery { path += "?" + q }
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let request = "GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: aish\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        do {
            try connection.send(Array(request.utf8))
            let head = try connection.receiveLine(limit: 8192)
            // "HTTP/1.1 200 OK"
            let parts = head.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
                throw ProbeError(message: "not an HTTP response: '\(head.prefix(60))'", connected: true)
            }
            return status
        } catch var e as ProbeError {
            e.message = "GET \(url): \(e.message)"
            e.connected = true
            throw e
        }
    }
}

struct ProbeError: Error {
    var message: String
    var connected: Bool
}

/// A connected TCP socket with deadline-bounded, interruptible I/O. Owns the descriptor.
final class TCPConnection {
    private var fd: Int32
    private let deadline: Date
    private let interrupt: InterruptFlag

    init(host: String, port: Int, timeout: Double, interrupt: InterruptFlag) throws {
        let deadline = Date().addingTimeInterval(timeout)
        self.deadline = deadline
        self.interrupt = interrupt
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw ProbeError(message: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))", connected: false)
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
                try TCPConnection.wait(fd: s, events: Int16(POLLOUT), deadline: deadline, interrupt: interrupt)
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
        throw ProbeError(message: "connect to \(host):\(port) failed: \(lastError)", connected: false)
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0, errno == EAGAIN || errno == EINTR {
                try TCPConnection.wait(fd: fd, events: Int16(POLLOUT), deadline: deadline, interrupt: interrupt)
                continue
            }
            throw ProbeError(message: "send failed: \(String(cString: strerror(errno)))", connected: true)
        }
    }

    /// Reads up to the first CRLF (or LF).
    func receiveLine(limit: Int) throws -> String {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while buffer.count < limit {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                if let nl = buffer.firstIndex(of: 0x0A) {
                    var line = buffer[..<nl]
                    if line.last == 0x0D { line = line.dropLast() }
                    return String(decoding: line, as: UTF8.self)
                }
                continue
            }
            if n == 0 { throw ProbeError(message: "connection closed before a response", connected: true) }
            if errno == EAGAIN || errno == EINTR {
                try TCPConnection.wait(fd: fd, events: Int16(POLLIN), deadline: deadline, interrupt: interrupt)
                continue
            }
            throw ProbeError(message: "receive failed: \(String(cString: strerror(errno)))", connected: true)
        }
        throw ProbeError(message: "response line longer than \(limit) bytes", connected: true)
    }

    /// Waits for readiness in 50 ms slices so Ctrl-C is seen promptly.
    private static func wait(fd: Int32, events: Int16, deadline: Date, interrupt: InterruptFlag) throws {
        while true {
            if interrupt.isRaised { throw ProbeError(message: "interrupted", connected: false) }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { throw ProbeError(message: "timed out", connected: false) }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, Int32(min(left, 0.05) * 1000) + 1)
            if rc > 0 { return }
            if rc < 0, errno != EINTR {
                throw ProbeError(message: "poll failed: \(String(cString: strerror(errno)))", connected: false)
            }
        }
    }
}
