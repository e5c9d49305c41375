import FoundationEssentials
import Dispatch
import Glibc
import Synchronization
import AishBase
import AishConfig
import AishTelemetry

/// A closed loop of requests on dedicated threads: each worker sends its next request as
/// soon as the previous one ends. Threads, not Swift tasks: the requests block in libcurl,
/// and blocking calls on the cooperative pool (one thread per core) would serialise.
package enum LoadGenerator {
    /// Runs `work(worker, sequence)` on `concurrency` threads until `requests` have been
    /// started in total, `duration` seconds have passed, or `interrupt` is raised (whichever
    /// comes first; at least one of `requests` and `duration` must be given). Returns what
    /// each call returned, in completion order, and the wall time in seconds.
    /// `progress(done)` is called on the calling thread about ten times a second.
    package static func run<Sample: Sendable>(concurrency: Int, requests: Int?, duration: Double?, interrupt: InterruptFlag,
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

/// The load generator's own ceiling, for the benchmark script: `bench`'s load engine
/// (every SSE chunk decoded) straight at a chat completions URL, no router, no log.
package enum LoadCeiling {
    package struct Level: Sendable {
        package var concurrency: Int
        package var requests: Int
        package var errors: Int
        package var wallSeconds: Double
        package var requestsPerSecond: Double
        /// Client-side time to first token (the first decoded text), p50 and p99, in ms.
        package var ttftP50Ms: Double?
        package var ttftP99Ms: Double?
        /// CPU time of this process (user + system) over the level.
        package var cpuSeconds: Double
        package var maxInFlight: Int
        /// Event-loop threads that drove the level.
        package var threads: Int
        /// Text pieces decoded, all requests.
        package var pieces: Int
        /// The first failure's message, if any.
        package var firstError: String?
    }

    /// `url` is a chat completions endpoint (e.g. http://127.0.0.1:PORT/v1/chat/completions).
    package static func run(url: String, model: String = "fake-model", concurrencies: [Int] = [1, 8, 64],
                           requestsPerLevel: Int? = nil, secondsPerLevel: Double? = 3, threads: Int? = nil) -> [Level] {
        let suffix = "/v1/chat/completions"
        let base = url.hasSuffix(suffix) ? String(url.dropLast(suffix.count)) : url
        let here = SourceLocation(file: "load", line: 1, column: 1)
        // Short timeouts: a request stuck in a full listen queue must not stretch the level.
        let provider = ProviderConfig(name: "load", type: .openaiCompatible, baseURL: base, status: .active, models: [],
                                      healthEndpoint: nil, envVar: nil, requiresAPIKey: false, rateLimits: nil,
                                      timeouts: ProviderTimeouts(connect: 2, firstToken: 5, idle: 5), serviceUnit: nil,
                                      location: here)
        let interrupt = InterruptFlag()
        // Made once: every request goes to the same target (and fails the same way if it cannot).
        let target = Result { try WireTarget(provider: provider, backendModel: model, environment: [:], routeReason: nil) }
        return concurrencies.map { c in
            let plan = LoadPlan(shape: .closed(concurrency: c), requests: requestsPerLevel,
                                duration: requestsPerLevel == nil ? secondsPerLevel : nil, threads: threads)
            let cpu0 = cpuSeconds()
            let run = LoadEngine.run(plan: plan, model: model, prompt: "hi", maxTokens: 16, keepBytes: 4096, wire: {
                [try target.get()]
            }, interrupt: interrupt)
            let cpu = cpuSeconds() - cpu0
            let ok = run.samples.filter(\.ok)
            let ttft = LatencySummary(ok.compactMap(\.ttftMs))
            return Level(concurrency: c, requests: run.samples.count, errors: run.samples.count - ok.count,
                         wallSeconds: run.wallSeconds,
                         requestsPerSecond: run.wallSeconds > 0 ? Double(ok.count) / run.wallSeconds : 0,
                         ttftP50Ms: ttft?.p50, ttftP99Ms: ttft?.p99, cpuSeconds: cpu, maxInFlight: run.maxInFlight, threads: run.threads,
                         pieces: ok.compactMap(\.outputTokens).reduce(0, +),
                         firstError: run.samples.first(where: { !$0.ok })?.error)
        }
    }

    /// User + system CPU time of this process so far, in seconds.
    package static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
