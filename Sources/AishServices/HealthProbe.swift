import FoundationEssentials
import Dispatch
import Glibc
import AishBase
import AishHTTP

/// The result of checking one service: can we connect, and does its health endpoint answer.
package struct HealthResult: Equatable, Sendable {
    package var reachable: Bool             // TCP connect succeeded
    package var httpStatus: Int?            // status of the health GET, when one was made
    package var error: String?              // why it is not healthy
    package var latencyMs: Double?

    package var healthy: Bool { reachable && error == nil }
}

/// Health of running services: an HTTP GET of the health endpoint (2xx or 3xx is healthy)
/// through aish's HTTP transport, or a TCP connect when a service has no HTTP endpoint
/// (redis). Every check is bounded by `timeout` and stops promptly on Ctrl-C.
package enum HealthProbe {
    /// What to check for one service.
    package struct Target: Sendable {
        package var host: String
        package var port: Int
        package var healthURL: String?
    }

    /// Checks all targets at once: the GETs share one transfer loop (wall time is the
    /// slowest), the TCP connects run side by side.
    package static func check(_ targets: [Target], timeout: Double, interrupt: InterruptFlag) -> [HealthResult] {
        var results = [HealthResult?](repeating: nil, count: targets.count)
        let httpIndices = targets.indices.filter { targets[$0].healthURL != nil }
        if !httpIndices.isEmpty {
            let limits = HTTPTimeouts(connect: timeout, firstByte: timeout, idle: timeout, total: timeout)
            let requests = httpIndices.map { HTTPRequest(url: targets[$0].healthURL!, timeouts: limits) }
            var statuses = [Int?](repeating: nil, count: requests.count)
            let started = Date()
            var latency = [Double?](repeating: nil, count: requests.count)
            // The status line is all a health check needs: stop each transfer at its head.
            let outcomes = HTTPTransport.streamAll(requests, interrupt: interrupt) { i, event in
                if case let .head(head) = event {
                    statuses[i] = head.status
                    latency[i] = Date().timeIntervalSince(started) * 1000
                }
                return false
            }
            for (k, i) in httpIndices.enumerated() {
                let url = targets[i].healthURL!
                if let status = statuses[k] {
                    let ok = (200..<400).contains(status)
                    results[i] = HealthResult(reachable: true, httpStatus: status,
                                              error: ok ? nil : "GET \(url) answered \(status)", latencyMs: latency[k])
                } else if case let .failure(e) = outcomes[k].0 {
                    let refused = e.kind == .connectFailed || e.kind == .connectTimeout || e.kind == .cancelled
                    results[i] = HealthResult(reachable: !refused, error: e.description)
                } else {
                    results[i] = HealthResult(reachable: false, error: "GET \(url): no response")
                }
            }
        }
        let tcpIndices = targets.indices.filter { targets[$0].healthURL == nil }
        let tcp = parallelMap(tcpIndices.map { targets[$0] }) { connect($0, timeout: timeout, interrupt: interrupt) }
        for (k, i) in tcpIndices.enumerated() { results[i] = tcp[k] }
        return results.map { $0! }
    }

    package static func check(_ target: Target, timeout: Double, interrupt: InterruptFlag) -> HealthResult {
        check([target], timeout: timeout, interrupt: interrupt)[0]
    }

    private static func connect(_ t: Target, timeout: Double, interrupt: InterruptFlag) -> HealthResult {
        let started = Date()
        do {
            let socket = try TCPConnection(host: t.host, port: t.port, timeout: timeout, interrupt: interrupt)
            socket.close()
            return HealthResult(reachable: true, latencyMs: Date().timeIntervalSince(started) * 1000)
        } catch {
            return HealthResult(reachable: false, error: error.description)
        }
    }
}

