import FoundationEssentials
import Dispatch
import Glibc
import Synchronization

/// A closed loop of requests on dedicated threads: each worker sends its next request as
/// soon as the previous one ends. Threads, not Swift tasks: the requests block in libcurl,
/// and blocking calls on the cooperative pool (one thread per core) would serialise.
enum LoadGenerator {
    /// Runs `work(worker, sequence)` on `concurrency` threads until `requests` have been
    /// started in total, `duration` seconds have passed, or `interrupt` is raised (whichever
    /// comes first; at least one of `requests` and `duration` must be given). Returns what
    /// each call returned, in completion order, and the wall time in seconds.
    /// `progress(done)` is called on the calling thread about ten times a second.
    static func run<Sample: Sendable>(concurrency: Int, requests: Int?, duration: Double?, interrupt: InterruptFlag,
                                      progress: (Int) -> Void = { _ in },
                                      work: @escaping @Sendable (_ worker: Int, _ sequence: Int) -> Sample)
        -> (samples: [Sample], wallSeconds: Double)
    {
        precondition(concurrency >= 1, "concurrency must be at least 1")
        precondition(requests != nil || duration != nil, "a load needs a request count or a duration")
        let started = MonotonicClock.now()
        let deadline = duration.map { started + $0 }
        let state = LoadState<Sample>(limit: requests ?? Int.max)
        let group = DispatchGroup()
        for worker in 0..<concurrency {
            group.enter()
            WorkerThread.start {
                defer { group.leave() }
                while !interrupt.isRaised {
                    if let deadline, MonotonicClock.now() >= deadline { break }
                    guard let sequence = state.claim() else { break }
                    state.append(work(worker, sequence))
                }
            }
        }
        while group.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            progress(state.count)
        }
        return (state.collected(), MonotonicClock.now() - started)
    }
}

/// What the workers share: the next request number and the samples so far.
private final class LoadState<Sample: Sendable>: Sendable {
    private let next = Atomic<Int>(0)
    private let limit: Int
    private let samples = Locked<[Sample]>([])

    init(limit: Int) {
        self.limit = limit
        samples.withLock { $0.reserveCapacity(min(limit, 100_000)) }
    }

    func claim() -> Int? {
        let n = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return n < limit ? n : nil
    }

    func append(_ s: Sample) { samples.withLock { $0.append(s) } }
    var count: Int { samples.withLock { $0.count } }
    func collected() -> [Sample] { samples.value }
}

/// The load generator's own ceiling, for the benchmark script: streamed chat completions
/// straight to `url` (no router, no log) as fast as the closed loop allows.
public enum LoadCeiling {
    public struct Level: Sendable {
        public var concurrency: Int
        public var requests: Int
        public var errors: Int
        public var wallSeconds: Double
        public var requestsPerSecond: Double
    }

    /// `url` is a chat completions endpoint (e.g. http://127.0.0.1:PORT/v1/chat/completions).
    public static func run(url: String, model: String = "fake-model", concurrencies: [Int] = [1, 8, 64],
                           requestsPerLevel: Int? = nil, secondsPerLevel: Double? = 3) -> [Level] {
        let body: JSONValue = .object([
            ("model", .string(model)), ("stream", .bool(true)), ("max_tokens", .int(16)),
            ("messages", .array([.object([("role", "user"), ("content", "hi")])])),
        ])
        // Short timeouts: a request stuck in a full listen queue must not stretch the level.
        let request = HTTPRequest.postJSON(url: url, body, headers: [("Accept", "text/event-stream")],
                                           timeouts: HTTPTimeouts(connect: 2, firstByte: 5, idle: 5, total: 10))
        let interrupt = InterruptFlag()
        return concurrencies.map { c in
            let (oks, wall) = LoadGenerator.run(concurrency: c, requests: requestsPerLevel,
                                                duration: requestsPerLevel == nil ? secondsPerLevel : nil,
                                                interrupt: interrupt) { _, _ -> Bool in
                (try? HTTPTransport.stream(request, interrupt: nil) { _ in }) != nil
            }
            let ok = oks.filter { $0 }.count
            return Level(concurrency: c, requests: oks.count, errors: oks.count - ok, wallSeconds: wall,
                         requestsPerSecond: wall > 0 ? Double(ok) / wall : 0)
        }
    }
}
