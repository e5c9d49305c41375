import Dispatch
import FoundationEssentials
import Glibc
import Synchronization
import AishBase
import AishCommand

/// Writes measured requests to the session log in batches, from a thread of its own, while
/// the load runs: the load engine only appends to a list, and turning samples into rows and
/// writing them (SQLite, the full-text index) stays off its thread.
///
/// Against a server that answers faster than the log can take rows (nginx, a cache), the
/// rows not yet written would grow without bound, a gigabyte in 20 s at concurrency 64 on
/// two cores. Past `backlogLimit` bytes of them the writer is `full`, and the load engine
/// sends no new request until it has room again: the level then reports how long the load
/// waited for the log, rather than the process running out of memory.
package final class AttemptRowWriter: Sendable {
    /// Rows wait at most this long before they are written.
    package static let interval = 0.2
    /// The bytes of rows not yet written above which the load waits for the log.
    package static let defaultBacklogLimit = 256 << 20

    /// The log's recorder locks its own state, so another thread may write through it.
    private struct SharedRecorder: @unchecked Sendable { let recorder: SessionRecorder }

    private let recorder: SharedRecorder
    private let kind: String
    private let prompt: String
    private let pending = Locked<[RequestSample]>([])
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let backlogLimit: Int
    /// What the rows queued and not yet written hold (`footprint`), from `add` to the end of
    /// their batch's write.
    private let backlogBytes = Atomic<Int>(0)

    package init(recorder: SessionRecorder, kind: String, prompt: String, backlogLimit: Int = AttemptRowWriter.defaultBacklogLimit) {
        self.recorder = SharedRecorder(recorder: recorder)
        self.kind = kind
        self.prompt = prompt
        self.backlogLimit = backlogLimit
        WorkerThread.start(name: "aish-log") { [self] in
            while true {
                let last = stopping.load(ordering: .acquiring)
                let began = MonotonicClock.now()
                writePending()
                if last { break }
                // A write that took the whole interval (the writer is behind) is followed by
                // the next at once.
                let left = AttemptRowWriter.interval - (MonotonicClock.now() - began)
                if left > 0 { usleep(UInt32(left * 1e6)) }
            }
            done.signal()
        }
    }

    /// Queues a request's rows (cheap: one append under a lock).
    package func add(_ sample: RequestSample) {
        backlogBytes.add(Self.footprint(sample), ordering: .relaxed)
        pending.withLock { $0.append(sample) }
    }

    /// Whether the rows not yet written have reached the limit: the load should wait.
    package var isFull: Bool { backlogBytes.load(ordering: .relaxed) >= backlogLimit }

    /// About what a queued sample holds in memory: the struct, its texts, its attempts' rows
    /// (which share the texts' storage).
    static func footprint(_ s: RequestSample) -> Int {
        MemoryLayout<RequestSample>.stride + s.replyText.utf8.count + (s.prompt?.utf8.count ?? 0)
            + s.records.count * MemoryLayout<AttemptRecord>.stride
    }

    /// Writes what is left and returns when every row is in the log.
    package func finish() {
        stopping.store(true, ordering: .releasing)
        done.wait()
    }

    private func writePending() {
        var batch: [RequestSample] = []
        pending.withLock { swap(&batch, &$0) }
        guard !batch.isEmpty else { return }
        var bytes = 0
        recorder.recorder.recordAttempts(batch.flatMap { sample in
            bytes += Self.footprint(sample)
            var s = sample
            s.warmup = s.warmup || s.rampUp   // "bench warm-up" in the log: not counted
            return RequestMeasurement.attemptRecords(s, kind: kind, prompt: s.prompt ?? prompt)
        })
        backlogBytes.subtract(bytes, ordering: .relaxed)
    }
}
