import FoundationEssentials
import Glibc
import Dispatch
import Synchronization

/// The one monotonic clock: timeouts and timings that must not jump with the wall clock.
enum MonotonicClock {
    /// Seconds since an arbitrary start.
    static func now() -> Double { Double(nanoseconds()) / 1e9 }

    /// Nanoseconds since an arbitrary start. Async-signal-safe (one clock_gettime call), so
    /// the SIGINT handler can use it.
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// A value shared between threads behind a `Mutex`: the one box for state that worker
/// threads fill in (results of probes, samples of a load run).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R: Sendable>(_ body: (inout Value) throws -> R) rethrows -> R {
        try mutex.withLock { try body(&$0) }
    }

    var value: Value { mutex.withLock { $0 } }
}

/// Runs `body` on every element at once, each on its own thread, and returns the results in
/// the order of `items`. Threads, not Swift tasks or `concurrentPerform`: the work blocks in
/// connect/poll/libcurl, and all of it must run at the same time even on two cores.
func parallelMap<Element: Sendable, Result: Sendable>(_ items: [Element],
                                                     _ body: @escaping @Sendable (Element) -> Result) -> [Result]
{
    if items.count == 1 { return [body(items[0])] }
    let slots = Locked<[Result?]>(Array(repeating: nil, count: items.count))
    let group = DispatchGroup()
    for (i, item) in items.enumerated() {
        group.enter()
        WorkerThread.start {
            let r = body(item)
            slots.withLock { $0[i] = r }
            group.leave()
        }
    }
    group.wait()
    return slots.value.map { $0! }
}
