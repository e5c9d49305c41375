import FoundationEssentials
import Dispatch
import Glibc
import AishBase

/// The process listening on a service's port, as far as we may inspect it.
package struct ProcessObservation: Equatable, Sendable {
    package var pid: Int32
    package var command: String?            // full command line, else `comm`; nil when unreadable
    package var cpuPercent: Double?
    package var residentKiB: Int?
    package var uptimeSeconds: Double?
    package var gpuMemoryMiB: Int?
}

package struct ServiceObservation: Equatable, Sendable {
    package enum State: String, Sendable {
        case up                     // listening and healthy
        case unhealthy              // listening, but the health check failed
        case down                   // nothing listening
    }

    package var service: MonitoredService
    package var state: State
    package var listenAddresses: [String]   // "127.0.0.1:8000", "[::]:8000"
    package var health: HealthResult?
    /// nil when nothing listens or the owner is another user's process we cannot see.
    package var process: ProcessObservation?
    /// The engine's own state (slots, queue, loaded models); nil when the row serves no
    /// llama.cpp, vLLM or Ollama provider, or nothing listens.
    package var engine: EngineState? = nil
}

package struct StatusTotals: Equatable, Sendable {
    package var configured: Int
    package var up: Int
    package var unhealthy: Int
    package var down: Int
    package var averageCPUPercent: Double?  // over the processes we could inspect
    package var averageResidentKiB: Int?
    package var totalResidentKiB: Int?
}

/// One frame of the `status` dashboard.
package struct StatusSnapshot: Sendable {
    package var takenAt: Date
    package var services: [ServiceObservation]
    package var gpu: GPUReport

    package var totals: StatusTotals {
        var seen = Set<Int32>()
        let processes = services.compactMap(\.process).filter { seen.insert($0.pid).inserted }
        let cpus = processes.compactMap(\.cpuPercent)
        let rss = processes.compactMap(\.residentKiB)
        return StatusTotals(
            configured: services.count, up: services.filter { $0.state == .up }.count,
            unhealthy: services.filter { $0.state == .unhealthy }.count,
            down: services.filter { $0.state == .down }.count,
            averageCPUPercent: cpus.isEmpty ? nil : cpus.reduce(0, +) / Double(cpus.count),
            averageResidentKiB: rss.isEmpty ? nil : rss.reduce(0, +) / rss.count,
            totalResidentKiB: rss.isEmpty ? nil : rss.reduce(0, +))
    }
}

/// Gathers a snapshot: sockets and owners from /proc, health checks (in parallel), the
/// engines' own state (alongside, on a thread of its own), GPU use from nvidia-smi, then
/// CPU over `cpuInterval`.
package struct StatusCollector {
    package var proc = ProcFS()
    package var environment: [String: String]
    package var interrupt: InterruptFlag
    package var cpuInterval: Double = 0.2
    package var healthTimeout: Double = 2
    /// The engine to ask for its state, by row name (see `EngineProbe.target`).
    package var engines: [String: EngineProbe.Target] = [:]
    /// How long an engine may take to answer: as long as a health check, beside which it
    /// runs, so that status takes no longer for it.
    package var engineTimeout: Double = 2

    package init(proc: ProcFS = ProcFS(), environment: [String: String], interrupt: InterruptFlag,
                 cpuInterval: Double = 0.2, healthTimeout: Double = 2, engines: [String: EngineProbe.Target] = [:],
                 engineTimeout: Double = 2) {
        self.proc = proc
        self.environment = environment
        self.interrupt = interrupt
        self.cpuInterval = cpuInterval
        self.healthTimeout = healthTimeout
        self.engines = engines
        self.engineTimeout = engineTimeout
    }

    /// nil when interrupted.
    package func collect(_ services: [MonitoredService]) -> StatusSnapshot? {
        let listeners = proc.tcpSockets().filter(\.isListening)
        let byPort = Dictionary(grouping: listeners, by: \.localPort)
        let owners = proc.socketOwners(of: Set(services.flatMap { byPort[$0.port] ?? [] }.map(\.inode)))

        let engineRows = services.indices.filter { byPort[services[$0].port] != nil && engines[services[$0].name] != nil }
        let engineStates = askEngines(engineRows.map { engines[services[$0].name]! })
        defer { engineStates.wait() }

        let health = checkHealth(services.map { byPort[$0.port] == nil ? nil : $0 })
        if interrupt.isRaised { return nil }
        let gpu = NvidiaSMI.report(environment: environment, interrupt: interrupt)
        if interrupt.isRaised { return nil }

        var pidOfService: [Int32?] = []
        for s in services {
            let sockets = byPort[s.port] ?? []
            pidOfService.append(sockets.lazy.compactMap { owners[$0.inode] }.first)
        }
        let pids = Array(Set(pidOfService.compactMap { $0 })).sorted()
        guard let cpu = CPUSampler.sample(pids: pids, proc: proc, interval: cpuInterval, interrupt: interrupt) else {
            return nil
        }
        let bootSeconds = proc.uptime()
        let gpuByRow = gpuMemory(of: pids, report: gpu)

        var rows: [ServiceObservation] = []
        for (i, s) in services.enumerated() {
            let sockets = byPort[s.port] ?? []
            let addresses = Array(Set(sockets.map { $0.family == .ipv6 ? "[\($0.localAddress)]:\($0.localPort)" : "\($0.localAddress):\($0.localPort)" })).sorted()
            var process: ProcessObservation?
            if let pid = pidOfService[i] {
                let stat = proc.stat(pid: pid)
                let status = proc.status(pid: pid)
                var uptime: Double?
                if let stat, let bootSeconds { uptime = max(0, bootSeconds - Double(stat.startTicks) / CPUSampler.ticksPerSecond) }
                process = ProcessObservation(
                    pid: pid, command: proc.commandLine(pid: pid) ?? stat?.command, cpuPercent: cpu[pid],
                    residentKiB: status?.residentKiB, uptimeSeconds: uptime, gpuMemoryMiB: gpuByRow[pid])
            }
            let state: ServiceObservation.State
            if sockets.isEmpty { state = .down } else if health[i]?.healthy == false { state = .unhealthy } else { state = .up }
            rows.append(ServiceObservation(service: s, state: state, listenAddresses: addresses, health: health[i],
                                           process: process))
        }
        for (k, state) in engineStates.wait().enumerated() { rows[engineRows[k]].engine = state }
        return StatusSnapshot(takenAt: Date(), services: rows, gpu: gpu)
    }

    /// The engines' answers, asked on a worker thread while the health checks, nvidia-smi
    /// and the CPU sample run; `wait()` gives them (each bounded by `engineTimeout`).
    private func askEngines(_ targets: [EngineProbe.Target]) -> PendingEngineStates {
        let pending = PendingEngineStates()
        guard !targets.isEmpty else { return pending }
        pending.group.enter()
        let environment = environment, interrupt = interrupt, timeout = engineTimeout
        WorkerThread.start {
            let states = EngineProbe.probe(targets, environment: environment, timeout: timeout, interrupt: interrupt)
            pending.states.withLock { $0 = states }
            pending.group.leave()
        }
        return pending
    }

    /// Health checks for the listening services, all at once (each bounded by
    /// `healthTimeout`); nil entries are skipped.
    private func checkHealth(_ services: [MonitoredService?]) -> [HealthResult?] {
        let listening = services.indices.filter { services[$0] != nil }
        let targets = listening.map { services[$0]!.healthTarget }
        let results = HealthProbe.check(targets, timeout: healthTimeout, interrupt: interrupt)
        var out = [HealthResult?](repeating: nil, count: services.count)
        for (k, i) in listening.enumerated() { out[i] = results[k] }
        return out
    }

    /// GPU memory of each row's process, including its descendants (vLLM and llama.cpp
    /// may run model workers as child processes).
    private func gpuMemory(of pids: [Int32], report: GPUReport) -> [Int32: Int] {
        let wanted = Set(pids)
        var out: [Int32: Int] = [:]
        for (gpuPID, mib) in report.memoryByPID {
            var current = gpuPID
            for _ in 0..<64 {
                if wanted.contains(current) { out[current, default: 0] += mib; break }
                guard let parent = proc.stat(pid: current)?.parentPID, parent > 1 else { break }
                current = parent
            }
        }
        return out
    }
}

/// Engine states being fetched on a worker thread.
package final class PendingEngineStates: Sendable {
    package let group = DispatchGroup()
    package let states = Locked<[EngineState]>([])

    @discardableResult
    package func wait() -> [EngineState] {
        group.wait()
        return states.value
    }
}
