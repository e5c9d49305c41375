import FoundationEssentials
import Glibc
import AishBase

/// CPU use over a short interval, like `top`: the process's user+system ticks are read
/// twice and the difference is divided by the wall time between the reads. (The totals in
/// /proc/PID/stat alone only give the average since the process started.) 100% is one
/// core busy; a multi-threaded process can exceed it.
package enum CPUSampler {
    package static let ticksPerSecond: Double = {
        let t = sysconf(Int32(_SC_CLK_TCK))
        return t > 0 ? Double(t) : 100
    }()

    /// Percent of one core, from two tick counts taken `elapsed` seconds apart.
    package static func percent(ticksBefore: UInt64, ticksAfter: UInt64, elapsed: Double,
                        ticksPerSecond: Double = CPUSampler.ticksPerSecond) -> Double
    {
        guard elapsed > 0, ticksAfter >= ticksBefore else { return 0 }
        return Double(ticksAfter - ticksBefore) / ticksPerSecond / elapsed * 100
    }

    /// Samples every pid over `interval` seconds. Pids that vanish or cannot be read are
    /// missing from the result. Returns nil when interrupted.
    package static func sample(pids: [Int32], proc: ProcFS, interval: Double, interrupt: InterruptFlag) -> [Int32: Double]? {
        guard !pids.isEmpty else { return [:] }
        let before = readTicks(pids, proc: proc)
        let start = Date()
        let deadline = start.addingTimeInterval(interval)
        while Date() < deadline {
            if interrupt.isRaised { return nil }
            usleep(useconds_t(max(1000, min(deadline.timeIntervalSinceNow, 0.02) * 1_000_000)))
        }
        let after = readTicks(pids, proc: proc)
        let elapsed = Date().timeIntervalSince(start)
        var out: [Int32: Double] = [:]
        for (pid, b) in before {
            guard let a = after[pid] else { continue }
            out[pid] = percent(ticksBefore: b, ticksAfter: a, elapsed: elapsed)
        }
        return out
    }

    private static func readTicks(_ pids: [Int32], proc: ProcFS) -> [Int32: UInt64] {
        var out: [Int32: UInt64] = [:]
        for pid in pids { if let s = proc.stat(pid: pid) { out[pid] = s.cpuTicks } }
        return out
    }
}
