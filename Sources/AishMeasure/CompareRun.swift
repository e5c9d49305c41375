import FoundationEssentials
import Dispatch
import Glibc
import AishBase

/// Sends the same prompt to several models and keeps every request's timings. Models run
/// one after another, or each on its own thread with `parallel` (wall time ≈ the slowest
/// model, not the sum). The calling thread only waits and reports progress, so Ctrl-C is
/// noticed within 100 ms.
package struct CompareRun {
    package struct Settings: Sendable {
        package var models: [String]
        package var requests: Int
        package var warmup: Int
        package var parallel: Bool
        package var prompt: String
        package var maxTokens: Int?
    }

    package struct ModelResult: Sendable {
        package var model: String
        /// Warm-ups first, then the measured requests, in order.
        package var samples: [RequestSample]
        package var measured: [RequestSample] { samples.filter { !$0.warmup } }
        package var summary: SampleSummary { SampleSummary(measured) }
        /// Cold loads seen in any request, warm-ups included (that is where they happen).
        package var coldLoads: [String] { SampleSummary(samples).coldLoads }
    }

    package var settings: Settings
    package var requesters: [ModelRequester]

    /// `progress(done, total)` is called on the calling thread about ten times a second.
    package func run(interrupt: InterruptFlag, progress: (Int, Int) -> Void) -> (results: [ModelResult], wallSeconds: Double) {
        precondition(requesters.count == settings.models.count, "one requester per model")
        let perModel = settings.warmup + settings.requests
        let total = perModel * settings.models.count
        let collected = CollectedSamples(models: settings.models.count)
        let started = MonotonicClock.now()
        let group = DispatchGroup()
        let settings = self.settings
        let requesters = self.requesters

        @Sendable func runModel(_ m: Int) {
            for i in 0..<perModel {
                if interrupt.isRaised { return }
                let warmup = i < settings.warmup
                let sample = RequestMeasurement.measure(
                    model: settings.models[m], sequence: warmup ? i : i - settings.warmup, warmup: warmup,
                    prompt: settings.prompt, maxTokens: settings.maxTokens, requester: requesters[m], interrupt: interrupt)
                collected.add(sample, model: m)
            }
        }

        let lanes: [[Int]] = settings.parallel ? settings.models.indices.map { [$0] } : [Array(settings.models.indices)]
        for lane in lanes {
            group.enter()
            WorkerThread.start {
                defer { group.leave() }
                for m in lane { runModel(m) }
            }
        }
        while group.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            progress(collected.count, total)
        }
        progress(collected.count, total)
        let wall = MonotonicClock.now() - started
        let results = settings.models.enumerated().map { m, name in ModelResult(model: name, samples: collected.samples(of: m)) }
        return (results, wall)
    }
}

/// Samples per model, filled from the worker threads.
private final class CollectedSamples: Sendable {
    private let state: Locked<(byModel: [[RequestSample]], done: Int)>

    init(models: Int) { state = Locked((Array(repeating: [], count: models), 0)) }

    func add(_ s: RequestSample, model: Int) {
        state.withLock {
            $0.byModel[model].append(s)
            $0.done += 1
        }
    }

    var count: Int { state.withLock { $0.done } }
    func samples(of model: Int) -> [RequestSample] { state.withLock { $0.byModel[model] } }
}
