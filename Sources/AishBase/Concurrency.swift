import FoundationEssentials
import Glibc
import Dispatch
import Synchronization

/// The one monotonic clock: timeouts and timings that must not jump with the wall clock.
package enum MonotonicClock {
    /// Seconds since an arbitrary start.
    package static func now() -> Double { Double(nanoseconds()) / 1e9 }

    /// Nanoseconds since an arbitrary start. Async-signal-safe (one clock_gettime call), so
    /// the SIGINT handler can use it.
    package static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// A value shared between threads behind a `Mutex`: aish's one lock. State that several
/// fields make up is one struct in it (the router's memory, the log recorder's connection),
/// changed inside `withLock`.
package final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    package init(_ value: Value) { mutex = Mutex(value) }

    package func withLock<R: Sendable>(_ body: (inout Value) throws -> R) rethrows -> R {
        try mutex.withLock { try body(&$0) }
    }

    package var value: Value { mutex.withLock { $0 } }
}

/// Runs `body` on every element at once, each on its own thread, and returns the results in
/// the order of `items`. Threads, not Swift tasks or `concurrentPerform`: the work blocks in
/// connect/poll/libcurl, and all of it must run at the same time even on two cores.
package func parallelMap<Element: Sendable, Result: Sendable>(_ items: [Element],
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

/// An interrupt flag raised when `parent` is (Ctrl-C) or when a deadline passes, so that
/// work bounded by a run's end (`tail --for`) stops inside a request as it does at Ctrl-C.
/// A watcher thread raises it; `finish()` ends the watcher.
package final class DeadlineInterrupt: Sendable {
    package let flag = InterruptFlag()
    private let expired = InterruptFlag()
    private let done = InterruptFlag()

    /// `deadline`: a `MonotonicClock` time; nil for none.
    package init(parent: InterruptFlag, deadline: Double?) {
        let flag = self.flag, expired = self.expired, done = self.done
        WorkerThread.start(stackSize: 64 << 10) {
            while !done.isRaised {
                if parent.isRaised { flag.raise(); return }
                if let deadline, MonotonicClock.now() >= deadline {
                    expired.raise()
                    flag.raise()
                    return
                }
                usleep(10_000)
            }
        }
    }

    /// True when the deadline (not Ctrl-C) raised the flag.
    package var deadlinePassed: Bool { expired.isRaised }

    package func finish() { done.raise() }
}
