import Dispatch
import FoundationEssentials
import Glibc
import Synchronization
import AishBase
import AishCommand

/// Writes measured requests to the session log in batches, from a thread of its own, while
/// the load runs: the load engine only appends to a list, and turning samples into rows and
/// writing them (SQLite, the full-text index) stays off its thread.
package final class AttemptRowWriter: Sendable {
    /// Rows wait at most this long before they are written.
    package static let interval = 0.2

    /// The log's recorder locks its own state, so another thread may write through it.
    private struct SharedRecorder: @unchecked Sendable { let recorder: SessionRecorder }

    private let recorder: SharedRecorder
    private let kind: String
    private let prompt: String
    private let pending = Locked<[RequestSample]>([])
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    package init(recorder: SessionRecorder, kind: String, prompt: String) {
        self.recorder = SharedRecorder(recorder: recorder)
        self.kind = kind
        self.prompt = prompt
        WorkerThread.start(name: "aish-log") { [self] in
            while true {
                let last = stopping.load(ordering: .acquiring)
                writePending()
                if last { break }
                usleep(UInt32(AttemptRowWriter.interval * 1e6))
            }
            done.signal()
        }
    }

    /// Queues a request's rows (cheap: one append under a lock).
    package func add(_ sample: RequestSample) {
        pending.withLock { $0.append(sample) }
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
        recorder.recorder.recordAttempts(batch.flatMap { sample in
            var s = sample
            s.warmup = s.warmup || s.rampUp   // "bench warm-up" in the log: not counted
            return RequestMeasurement.attemptRecords(s, kind: kind, prompt: s.prompt ?? prompt)
        })
    }
}
