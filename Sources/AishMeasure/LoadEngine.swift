import FoundationEssentials
import Glibc
import Synchronization
import Dispatch
import AishBase
import AishChat
import AishCommand
import AishConfig
import AishHTTP
import AishProviders
import AishTelemetry

/// Where one benchmark request goes on the wire: the provider's chat endpoint with its
/// headers (API key), timeouts and secrets, and the wire format to decode. A class, with
/// the endpoint and headers worked out once: bench copies a target with every request.
package final class WireTarget: Sendable {
    package enum Format: Sendable { case openAI, ollama }
    package let provider: String
    package let backendModel: String
    package let routeReason: String?
    package let format: Format
    let providerType: ProviderType
    /// A LiteLLM gateway: whether a reply can come from its response cache.
    package let throughGateway: Bool
    private let root: String
    /// The chat endpoint, its headers (with the API key's), timeouts and the secrets to mask.
    private let chatURL: String
    /// The chat request's headers (a JSON POST's).
    private let postHeaders: [(String, String)]
    private let timeouts: HTTPTimeouts
    private let auth: ProviderAuth
    /// Unless true, a LiteLLM gateway is asked neither to answer from its response cache
    /// nor to store into it: bench measures the model, not Redis.
    private let useGatewayCache: Bool

    /// Throws a `ProviderError` when the provider cannot be asked (no API key, a type aish
    /// has no client for).
    package init(provider: ProviderConfig, backendModel: String, environment: [String: String], routeReason: String?,
         useGatewayCache: Bool = false) throws {
        switch provider.type {
        case .ollama: format = .ollama
        case .llamaCpp, .vllm, .openai, .openaiCompatible, .litellm: format = .openAI
        case .anthropic, .unknown:
            throw ProviderError(kind: .other, message: "provider '\(provider.name)': type '\(provider.type.rawValue)' is not supported (aish speaks the OpenAI-compatible and Ollama APIs)")
        }
        auth = try ProviderAuth.resolve(provider, environment: environment)
        self.provider = provider.name
        self.backendModel = backendModel
        self.routeReason = routeReason
        self.useGatewayCache = useGatewayCache
        throughGateway = provider.type == .litellm
        providerType = provider.type
        let endpoints = ProviderEndpoints(provider)
        root = endpoints.root
        switch format {
        case .openAI:
            chatURL = endpoints.chatCompletions
            postHeaders = HTTPRequest.jsonHeaders([("Accept", "text/event-stream")] + auth.headers)
        case .ollama:
            chatURL = endpoints.ollamaChat
            postHeaders = HTTPRequest.jsonHeaders(auth.headers)
        }
        timeouts = HTTPTimeouts(provider.timeouts)
    }

    /// The server can be asked to generate past its end-of-sequence token: llama-server and
    /// vLLM take `ignore_eos` in an OpenAI-style request.
    var honoursIgnoreEOS: Bool { providerType == .llamaCpp || providerType == .vllm }

    /// POST /tokenize of `text` where the server has one (llama-server: `content`; vLLM:
    /// `model` and `prompt`), nil elsewhere.
    func tokenizeRequest(_ text: String) -> HTTPRequest? {
        let body: JSONValue
        switch providerType {
        case .llamaCpp: body = .object([("content", .string(text))])
        case .vllm: body = .object([("model", .string(backendModel)), ("prompt", .string(text))])
        default: return nil
        }
        return HTTPRequest.postJSON(url: root + "/tokenize", body, headers: auth.headers, timeouts: timeouts, secrets: auth.secrets)
    }

    /// The streamed chat request for `prompt`, as the provider clients send it; `ignoreEOS`
    /// asks a server that has the switch to generate all of `maxTokens`. The body is the
    /// serialized request of a stand-in prompt with this prompt put in its place: building and
    /// serializing the request's JSON for every request showed in bench's CPU time.
    package func request(prompt: String, system: String? = nil, maxTokens: Int?, ignoreEOS: Bool = false,
                         sampling: ChatOptions = ChatOptions()) -> HTTPRequest {
        let key = BodyKey(system: system, maxTokens: maxTokens, ignoreEOS: ignoreEOS, sampling: sampling)
        let known = bodies.withLock { $0[key] }
        let halves: BodyHalves?
        if let known {
            halves = known
        } else {
            let whole = body(prompt: Self.standIn, system: system, maxTokens: maxTokens, ignoreEOS: ignoreEOS,
                             sampling: sampling).serializedUTF8()
            halves = BodyHalves(whole, around: JSONValue.string(Self.standIn).serializedUTF8())
            bodies.withLock { if $0.count < 64 { $0[key] = halves } }
        }
        let bytes: [UInt8]
        if let halves {
            var b = halves.before
            b.reserveCapacity(halves.before.count + prompt.utf8.count + 2 + halves.after.count)
            JSONValue.string(prompt).write(to: &b)
            b.append(contentsOf: halves.after)
            bytes = b
        } else {
            bytes = body(prompt: prompt, system: system, maxTokens: maxTokens, ignoreEOS: ignoreEOS, sampling: sampling).serializedUTF8()
        }
        return HTTPRequest(method: "POST", url: chatURL, headers: postHeaders, body: bytes, timeouts: timeouts, secrets: auth.secrets)
    }

    /// A prompt no one sends, whose serialized form marks where a request's prompt goes.
    static let standIn = "\u{1}aish prompt stand-in\u{1}"

    private struct BodyKey: Hashable {
        let system: String?
        let maxTokens: Int?
        let ignoreEOS: Bool
        let sampling: ChatOptions
    }

    /// A serialized body cut around the stand-in prompt (nil unless it occurs exactly once).
    private struct BodyHalves {
        let before: [UInt8]
        let after: [UInt8]

        init?(_ whole: [UInt8], around token: [UInt8]) {
            guard let found = whole.firstRange(of: token), whole[found.upperBound...].firstRange(of: token) == nil else { return nil }
            before = Array(whole[..<found.lowerBound])
            after = Array(whole[found.upperBound...])
        }
    }

    /// The request bodies' halves by system prompt, token limit and ignore-EOS.
    private let bodies = Mutex<[BodyKey: BodyHalves]>([:])

    /// The request's JSON, as the provider clients build it.
    func body(prompt: String, system: String?, maxTokens: Int?, ignoreEOS: Bool, sampling: ChatOptions = ChatOptions()) -> JSONValue {
        var messages = [ChatMessage(role: "user", content: prompt)]
        if let system, !system.isEmpty { messages.insert(ChatMessage(role: "system", content: system), at: 0) }
        var chat = ChatRequest(model: backendModel, messages: messages, temperature: sampling.temperature,
                               maxTokens: maxTokens, topP: sampling.topP, seed: sampling.seed, stream: true)
        chat.bypassGatewayCache = !useGatewayCache
        if ignoreEOS, honoursIgnoreEOS, format == .openAI { chat.extraBody.append(("ignore_eos", true)) }
        return switch format {
        case .openAI: OpenAICompatibleBackend.body(chat, gateway: throughGateway)
        case .ollama: OllamaBackend.body(chat)
        }
    }

    /// Same provider and model: the same request can be sent again.
    package func sameWire(as other: WireTarget) -> Bool {
        self === other || (provider == other.provider && backendModel == other.backendModel)
    }
}

/// How a level releases its requests.
package enum LoadShape: Sendable, Equatable {
    /// `concurrency` requests in flight; each ending one is followed at once by the next.
    case closed(concurrency: Int)
    /// Requests sent at `perSecond` whether or not earlier ones have ended: evenly spaced
    /// with `burstiness` nil, else with gamma-distributed gaps of that shape drawn from
    /// `seed` (1: a Poisson process; below 1 burstier, above 1 more even); at most
    /// `maxConcurrency` in flight, the rest wait in the client's queue.
    case rate(perSecond: Double, burstiness: Double?, seed: UInt64, maxConcurrency: Int?)
    /// Requests sent at these offsets in seconds from the level's start (a replayed log),
    /// at most `maxConcurrency` in flight.
    case replay(offsets: [Double], maxConcurrency: Int?)
}

/// One level's load: its shape and when it ends.
package struct LoadPlan: Sendable {
    package var shape: LoadShape
    /// Requests counted in the level (ramp-up requests come on top); nil with a duration.
    package var requests: Int?
    /// Seconds of counted load after the ramp-up.
    package var duration: Double?
    /// Seconds over which the load rises from nothing: the rate linearly from 0, or the
    /// closed loop's workers one after another. Requests sent meanwhile are logged as
    /// ramp-up and left out of the figures.
    package var rampUp: Double = 0
    /// When to end the level before its time: saturation, an error rate.
    var stop = EarlyStop.Rules()
    /// Event-loop threads that share the level's load; nil: `LoadEngine.lanes` decides.
    package var threads: Int? = nil
}

/// What the load engine measured over one level.
package struct LoadRun: Sendable {
    package var samples: [RequestSample]
    /// From the end of the ramp-up to the end of the last request.
    package var wallSeconds: Double
    /// Requests of an open-loop or replayed level handed to the wire per second, from the first
    /// send to the last; nil for a closed loop.
    package var achievedRate: Double?
    /// Most requests in flight at once.
    package var maxInFlight: Int
    /// Scheduled but not sent when the level's time was up (waiting for a free slot).
    package var unsent: Int
    /// Why the level ended before its time (saturation, the error rate), nil when it did not.
    var stopReason: String? = nil
    /// Event-loop threads that drove the level.
    package var threads: Int = 1
    /// Seconds the level sent nothing new because `holdBack` said so (the log's writer was
    /// behind): the longest of its lanes'.
    package var heldSeconds: Double = 0
}

/// When each request of an open-loop level is due, in seconds from the level's start: the
/// k-th arrival of a unit-rate process (k for even spacing, a sum of random gaps of mean 1
/// otherwise) mapped through the inverse of the cumulative rate, which rises linearly over
/// the ramp-up and then stays at `rate`.
///
/// Random gaps are gamma-distributed with shape `burstiness` (as `vllm bench serve
/// --burstiness` draws them): 1 is a Poisson process (exponential gaps); below 1 the gaps'
/// coefficient of variation 1/√burstiness grows past 1 and arrivals come in bursts with
/// lulls between; above 1 they come more evenly. The mean rate is the same.
package struct ArrivalSchedule {
    package let rate: Double
    package let rampUp: Double
    package let burstiness: Double?
    private var random: SplitMix64
    private var units = 0.0
    private var index = 0

    package init(rate: Double, rampUp: Double, burstiness: Double?, seed: UInt64) {
        self.rate = rate
        self.rampUp = max(0, rampUp)
        self.burstiness = burstiness
        random = SplitMix64(seed: seed)
    }

    /// Arrivals expected by `t`: rate·t²/(2·ramp) during the ramp-up, then rate·(t − ramp/2).
    package func expected(by t: Double) -> Double {
        if t <= rampUp { return rampUp > 0 ? rate * t * t / (2 * rampUp) : 0 }
        return rate * (t - rampUp / 2)
    }

    /// The time by which `n` arrivals are expected (the inverse of `expected`).
    package func time(ofArrival n: Double) -> Double {
        let rampArrivals = rate * rampUp / 2
        if n <= rampArrivals { return rampUp > 0 ? (2 * rampUp * n / rate).squareRoot() : 0 }
        return n / rate + rampUp / 2
    }

    /// The next arrival's time.
    package mutating func next() -> Double {
        defer { index += 1 }
        if let shape = burstiness {
            units += shape == 1 ? random.exponential() : random.gamma(shape: shape) / shape
            return time(ofArrival: units)
        }
        // Evenly spaced: the first at once; with a ramp-up, each at the middle of its share
        // of the expected arrivals (so R·ramp/2 of them fall inside the ramp).
        return time(ofArrival: Double(index) + (rampUp > 0 ? 0.5 : 0))
    }
}

/// Drives a level's requests from event loops on libcurl's multi interface, one per core
/// (`lanes(for:)`): connections are reused, each SSE chunk is decoded as it arrives, and a
/// precise timer (timerfd) releases open-loop sends on time. No thread per request: the
/// client's own scheduling stays out of the latencies it measures.
package enum LoadEngine {
    /// Runs one level. `onSample` sees each request as it ends (on a loop's thread, one
    /// call at a time: keep it cheap); while `holdBack` is true no new request is sent (what
    /// `onSample` feeds is behind); `progress(done)` is called about ten times a second.
    package static func run(plan: LoadPlan, model: String, prompt: String, maxTokens: Int?, keepBytes: Int = BoundedReply.defaultLimit,
                    kind: String = "bench", wire: @escaping () throws -> [WireTarget], interrupt: InterruptFlag,
                    onSample: @escaping (RequestSample) -> Void = { _ in }, holdBack: @escaping @Sendable () -> Bool = { false },
                    progress: (Int) -> Void = { _ in }) -> LoadRun {
        run(plan: plan, model: model, workload: .fixed(prompt, maxTokens: maxTokens ?? CompareCommand.defaultMaxTokens),
            keepBytes: keepBytes, kind: kind, wire: wire, interrupt: interrupt, onSample: onSample, holdBack: holdBack,
            progress: progress)
    }

    /// Runs one level of `workload`'s requests on `lanes(for:)` event loops: lane 0 on the
    /// calling thread (it reports progress), the others on threads of their own.
    static func run(plan: LoadPlan, model: String, workload: BenchWorkload, keepBytes: Int = BoundedReply.defaultLimit,
                    kind: String = "bench", wire: @escaping () throws -> [WireTarget], interrupt: InterruptFlag,
                    onSample: @escaping (RequestSample) -> Void = { _ in }, holdBack: @escaping @Sendable () -> Bool = { false },
                    progress: (Int) -> Void = { _ in }) -> LoadRun {
        let count = lanes(for: plan)
        let board = LaneBoard(wire: wire, onSample: onSample, holdBack: holdBack)
        let t0 = MonotonicClock.now()
        @Sendable func lane(_ index: Int) -> Level {
            Level(plan: plan, lane: Lane(index: index, count: count), board: board, model: model, workload: workload,
                  keepBytes: keepBytes, kind: kind, interrupt: interrupt)
        }
        let others = Locked<[LaneResult]>([])
        let joined = DispatchGroup()
        for index in 1..<max(1, count) {
            joined.enter()
            WorkerThread.start(name: "aish-load \(index)") {
                let result = lane(index).run(t0: t0, progress: nil)
                others.withLock { $0.append(result) }
                joined.leave()
            }
        }
        var results = [withoutActuallyEscaping(progress) { progress in lane(0).run(t0: t0, progress: progress) }]
        joined.wait()
        // Taken out of the lock: `merge` frees each lane's blocks as it copies them.
        others.withLock {
            results += $0
            $0 = []
        }
        return LaneResult.merge(&results, t0: t0, plan: plan, board: board, lanes: count)
    }

    /// By start (then sequence): an order of indices is sorted, then applied one cycle
    /// of the permutation at a time, so no second array of samples is made.
    static func sortByStart(_ samples: inout [RequestSample]) {
        var order = Array(samples.indices)
        order.sort { (samples[$0].startedAt, samples[$0].sequence) < (samples[$1].startedAt, samples[$1].sequence) }
        for i in order.indices where order[i] != i {
            let first = samples[i]
            var j = i
            while order[j] != i {
                let k = order[j]
                samples[j] = samples[k]
                order[j] = j
                j = k
            }
            samples[j] = first
            order[j] = j
        }
    }

    /// Requests in flight that make an event loop worth its own thread.
    package static let transfersPerLoop = 8

    /// How many event loops drive a level: one per core this process may use, at most one
    /// per eight requests in flight, and one for a replayed log. A loop needs several
    /// transfers to be worth its thread: against nginx on 2 cores, one loop drove 8 requests
    /// in flight 6% faster than two loops of 4 (at 16 the two broke even, at 64 two were
    /// 25% faster). `plan.threads` overrides it (at most one per request in
    /// flight, when there is a cap).
    package static func lanes(for plan: LoadPlan) -> Int {
        let inFlight: Int?
        switch plan.shape {
        case let .closed(c): inFlight = c
        case let .rate(_, _, _, cap): inFlight = cap
        case .replay: return 1
        }
        if let asked = plan.threads { return max(1, min(asked, inFlight ?? asked)) }
        let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        return max(1, min(cores, (inFlight ?? transfersPerLoop * cores) / transfersPerLoop))
    }

    /// Lane `index` of `count`: its share of a level's slots, requests and arrivals.
    struct Lane {
        let index: Int
        let count: Int

        /// This lane's part of `total` split as evenly as can be (the first lanes take the rest).
        func share(_ total: Int) -> Int { total / count + (index < total % count ? 1 : 0) }

        /// Whether the level's `k`-th arrival (from 0) is this lane's.
        func owns(arrival k: Int) -> Bool { k % count == index }
    }

    /// What a level's lanes share: the reason one of them stopped the level, how many
    /// requests are in flight over all of them, and the caller's closures (the router, the
    /// log writer), which are called under one lock: they expect one caller at a time.
    private final class LaneBoard: @unchecked Sendable {
        private let calls = Mutex<Void>(())
        private let wire: () throws -> [WireTarget]
        private let onSample: (RequestSample) -> Void
        /// True while no new request should go out (called without the lock, from every lane).
        let holdBack: @Sendable () -> Bool
        let stopReason = Locked<String?>(nil)
        private let inFlight = Atomic<Int>(0)
        private let mostInFlight = Atomic<Int>(0)
        /// Requests ended over all lanes (for the progress line).
        let ended = Atomic<Int>(0)

        init(wire: @escaping () throws -> [WireTarget], onSample: @escaping (RequestSample) -> Void,
             holdBack: @escaping @Sendable () -> Bool) {
            self.wire = wire
            self.onSample = onSample
            self.holdBack = holdBack
        }

        func targets() throws -> [WireTarget] { try calls.withLock { _ in try wire() } }

        func sample(_ s: RequestSample) {
            calls.withLock { _ in onSample(s) }
            ended.add(1, ordering: .relaxed)
        }

        func started() {
            let now = inFlight.add(1, ordering: .relaxed).newValue
            var most = mostInFlight.load(ordering: .relaxed)
            while now > most {
                let (exchanged, seen) = mostInFlight.compareExchange(expected: most, desired: now, ordering: .relaxed)
                if exchanged { break }
                most = seen
            }
        }

        func transferEnded() { inFlight.subtract(1, ordering: .relaxed) }

        var maxInFlight: Int { mostInFlight.load(ordering: .relaxed) }
    }

    /// One lane's part of a level.
    private struct LaneResult: Sendable {
        /// The lane's samples in blocks of `Level.blockSize`, in the order they ended.
        var blocks: [[RequestSample]]
        var end: Double
        var firstSend: Double?
        var lastSend: Double?
        /// Counted requests sent.
        var sends: Int
        var unsent: Int
        var heldSeconds: Double

        /// The level from its lanes: samples in the order they were sent, the achieved rate
        /// over every lane's sends. Each block is freed once copied, and lanes' samples are
        /// put in order in place: a level of millions never holds its samples twice.
        static func merge(_ lanes: inout [LaneResult], t0: Double, plan: LoadPlan, board: LaneBoard, lanes count: Int) -> LoadRun {
            let countedFrom = t0 + plan.rampUp
            let end = lanes.map(\.end).max() ?? t0
            var samples: [RequestSample] = []
            samples.reserveCapacity(lanes.reduce(0) { $0 + $1.blocks.reduce(0) { $0 + $1.count } })
            for i in lanes.indices {
                for j in lanes[i].blocks.indices {
                    samples += lanes[i].blocks[j]
                    lanes[i].blocks[j] = []
                }
            }
            if lanes.count > 1 { LoadEngine.sortByStart(&samples) }
            let sends = lanes.map(\.sends).reduce(0, +)
            var rate: Double?
            // A closed loop sends when a slot frees: its send times are no rate (a level that
            // starts all its requests at once would show thousands a second).
            let onSchedule: Bool = if case .closed = plan.shape { false } else { true }
            if onSchedule, let first = lanes.compactMap(\.firstSend).min(), let last = lanes.compactMap(\.lastSend).max(), sends >= 2, last > first {
                rate = Double(sends - 1) / (last - first)
            }
            return LoadRun(samples: samples, wallSeconds: end - min(countedFrom, end), achievedRate: rate,
                           maxInFlight: board.maxInFlight, unsent: lanes.map(\.unsent).reduce(0, +),
                           stopReason: board.stopReason.value, threads: count,
                           heldSeconds: lanes.map(\.heldSeconds).max() ?? 0)
        }
    }

    /// The state of one attempt of a request in flight.
    private final class InFlight {
        let sequence: Int
        let rampUp: Bool
        let prompt: BenchPrompt
        /// When it was due (its arrival, or the moment a closed-loop slot freed).
        var scheduled: Double = 0
        let startedAt = Date()
        /// This attempt's start, and the request's (its first attempt's): when the transfer
        /// was queued, then, once it ends, when its request went out on the connection.
        var start: Double
        var requestStart: Double
        /// When the request was released to the wire (its due time plus any wait for a slot).
        var released: Double = 0
        let target: WireTarget
        /// The targets still to try before the first token, and the attempts that failed.
        var fallbacks: ArraySlice<WireTarget> = []
        var earlier: [RequestSample] = []
        var openAI: ChatStreamReader<OpenAIStreamDecoder>?
        var ollama: ChatStreamReader<OllamaStreamDecoder>?
        var timing = RequestMeasurement.PieceTiming()
        var readerError: Error?
        var queueMs: Double?
        var sendLagMs: Double?

        init(sequence: Int, rampUp: Bool, prompt: BenchPrompt, start: Double, target: WireTarget, request: HTTPRequest,
             keepBytes: Int) {
            self.sequence = sequence
            self.rampUp = rampUp
            self.prompt = prompt
            self.start = start
            requestStart = start
            self.target = target
            switch target.format {
            case .openAI: openAI = ChatStreamReader(request, decoder: OpenAIStreamDecoder(), keepBytes: keepBytes)
            case .ollama: ollama = ChatStreamReader(request, decoder: OllamaStreamDecoder(), keepBytes: keepBytes)
            }
        }

        /// Takes an event; false stops the transfer (the reader failed).
        func take(_ event: TransferEvent) -> Bool {
            switch event {
            case let .head(head):
                if openAI != nil { _ = openAI!.head(head) } else { _ = ollama!.head(head) }
                return true
            case let .body(bytes, at):
                // Pieces are timed when their bytes were read off the socket, not when the
                // loop got round to decoding them: the client's own backlog stays out of TTFT.
                do {
                    if openAI != nil {
                        try openAI!.body(bytes) { timing.piece(at: at) }
                    } else {
                        try ollama!.body(bytes) { timing.piece(at: at) }
                    }
                    return true
                } catch {
                    readerError = error
                    return false
                }
            }
        }

        /// The request's outcome once the transfer ended with `result`.
        func outcome(_ result: Result<HTTPResponseHead, HTTPError>) -> Result<RequestOutcome, Error> {
            do {
                if let readerError { throw readerError }
                _ = try result.get()
                let summary = try openAI != nil ? openAI!.finish { _ in } : ollama!.finish { _ in }
                return .success(RequestOutcome(provider: target.provider, backendModel: target.backendModel,
                                               summary: summary, routeReason: target.routeReason,
                                               cacheHit: GatewayInfo.cacheHit(summary.gateway, throughGateway: target.throughGateway)))
            } catch {
                return .failure(openAI != nil ? openAI!.failure(error) : ollama!.failure(error))
            }
        }
    }

    private final class Level {
        let plan: LoadPlan
        let lane: Lane
        let board: LaneBoard
        let model: String
        let workload: BenchWorkload
        let keepBytes: Int
        let kind: String
        let interrupt: InterruptFlag

        var driver = TransferDriver()
        var inFlight: [Int: InFlight] = [:]
        /// Ended requests, in blocks of `blockSize`: one array growing by doubling copied
        /// every sample so far each time, a pause of milliseconds in the middle of the load
        /// (and in its TTFT p99) once a level had tens of thousands.
        var blocks: [[RequestSample]] = []
        var recent: [RequestSample] = []
        static let blockSize = 2048
        /// Open loop under a cap: requests waiting for a slot (when each was due, its arrival number).
        var queue: [(due: Double, sequence: Int)] = []
        var queueHead = 0
        /// Closed loop: requests this lane has sent (its sequence numbers are lane + lanes·k).
        var sentHere = 0
        var nextTransfer = 0
        var counted = 0
        var firstSend: Double?
        var lastSend: Double?
        var sends = 0
        var cached: [(target: WireTarget, request: HTTPRequest)] = []
        var stop: EarlyStop
        /// Set when the level ends before its time (by this lane or another); no request is
        /// claimed after it.
        var stopReason: String?

        init(plan: LoadPlan, lane: Lane, board: LaneBoard, model: String, workload: BenchWorkload, keepBytes: Int, kind: String,
             interrupt: InterruptFlag) {
            self.plan = plan
            self.lane = lane
            self.board = board
            self.kind = kind
            self.model = model
            self.workload = workload
            stop = EarlyStop(plan.stop)
            self.keepBytes = keepBytes
            self.interrupt = interrupt
        }

        /// Runs this lane's part of the level from `t0`; `progress` (lane 0's) sees the
        /// requests ended over all lanes.
        func run(t0: Double, progress: ((Int) -> Void)?) -> LaneResult {
            let countedFrom = t0 + plan.rampUp
            let deadline = plan.duration.map { countedFrom + $0 }
            var schedule: ArrivalSchedule?
            var replayed: [Double] = []
            var replayIndex = 0
            var nextArrival = Double.infinity
            /// The level's number of `nextArrival` (all lanes' arrivals are numbered in one row).
            var arrivalNumber = 0
            var cap: Int?
            var slots = 0
            switch plan.shape {
            case let .closed(c): slots = lane.share(c)
            case let .rate(r, burstiness, seed, m):
                schedule = ArrivalSchedule(rate: r, rampUp: plan.rampUp, burstiness: burstiness, seed: seed)
                nextArrival = t0 + schedule!.next()
                cap = m.map(lane.share)
            case let .replay(offsets, m):
                replayed = offsets
                nextArrival = offsets.isEmpty ? .infinity : t0 + offsets[0]
                replayIndex = 1
                cap = m.map(lane.share)
            }
            // A closed loop's requests are shared out up front; an open loop's are claimed in
            // arrival order, counted the same way on every lane.
            let closedRequests = plan.requests.map(lane.share)
            func arrivalAfter() -> Double {
                if schedule != nil { return t0 + schedule!.next() }
                defer { replayIndex += 1 }
                return replayIndex < replayed.count ? t0 + replayed[replayIndex] : .infinity
            }
            var nextProgress = t0 + 0.1
            var unsent = 0

            // Whether the level has time and requests left for an arrival at `t` (the same
            // answer on every lane).
            func claimable(_ t: Double, count: Int, limit: Int?) -> Bool {
                if t < countedFrom { return true }
                if let deadline, t >= deadline { return false }
                if let limit, count >= limit { return false }
                return true
            }
            // Whether another request may be claimed at `now` (sent during the ramp-up, or counted).
            func mayClaim(_ now: Double, limit: Int?) -> Bool {
                if interrupt.isRaised || stopReason != nil { return false }
                return claimable(now, count: counted, limit: limit)
            }
            // Moves past the other lanes' arrivals, counting those the level claims.
            func skipOthers() {
                while nextArrival.isFinite, !lane.owns(arrival: arrivalNumber) {
                    if nextArrival >= countedFrom, claimable(nextArrival, count: counted, limit: plan.requests) { counted += 1 }
                    nextArrival = arrivalAfter()
                    arrivalNumber += 1
                }
            }
            skipOthers()

            var freedAt = t0
            var heldSeconds = 0.0
            var heldSince: Double?
            loop: while true {
                let now = MonotonicClock.now()
                if stopReason == nil, let reason = board.stopReason.value { stopReason = reason }
                let held = board.holdBack()
                if held { heldSince = heldSince ?? now } else if let since = heldSince {
                    heldSeconds += now - since
                    heldSince = nil
                }
                switch plan.shape {
                case let .closed(c):
                    // During a ramp-up the workers join one after another.
                    let open = plan.rampUp > 0 && now < countedFrom
                        ? min(slots, lane.share(min(c, 1 + Int(Double(c) * (now - t0) / plan.rampUp)))) : slots
                    // A request that could not be sent ends this round: the next waits for the
                    // loop's next turn rather than spinning out errors.
                    while !held, inFlight.count < open, mayClaim(now, limit: closedRequests),
                          send(sequence: lane.index + lane.count * sentHere, scheduled: freedAt, queued: nil, now: now,
                               countedFrom: countedFrom) {}
                case .rate, .replay:
                    while nextArrival <= now, mayClaim(nextArrival, limit: plan.requests) {
                        queue.append((nextArrival, arrivalNumber))
                        if nextArrival >= countedFrom { counted += 1 }   // claimed at its time
                        nextArrival = arrivalAfter()
                        arrivalNumber += 1
                        skipOthers()
                    }
                    // No more claims: nothing left to wake for.
                    if nextArrival <= now || !mayClaim(nextArrival, limit: plan.requests) { nextArrival = .infinity }
                    while !held, queueHead < queue.count, inFlight.count < (cap ?? Int.max) {
                        // A generator far behind its schedule (a rate beyond what this machine
                        // sends) stops at the level's end: what is left is unsent, not sent
                        // seconds late into a level that is over.
                        let sendAt = MonotonicClock.now()
                        if let deadline, sendAt >= deadline, queue[queueHead].due >= countedFrom { break }
                        let (due, sequence) = queue[queueHead]
                        queueHead += 1
                        let waited = max(0, freedAt - due)
                        send(sequence: sequence, scheduled: due, queued: cap == nil ? nil : waited, now: sendAt,
                             countedFrom: countedFrom, alreadyCounted: true)
                    }
                    if let deadline, MonotonicClock.now() >= deadline, queueHead < queue.count {
                        unsent += queue.count - queueHead
                        queueHead = queue.count
                    }
                }
                if inFlight.isEmpty && queueHead >= queue.count {
                    let more: Bool
                    switch plan.shape {
                    case .closed: more = mayClaim(MonotonicClock.now(), limit: closedRequests)
                    case .rate, .replay: more = nextArrival.isFinite
                    }
                    if !more { break loop }
                }
                if interrupt.isRaised || stopReason != nil {
                    // Ends at once: what is in flight is cancelled, what waits is unsent.
                    driver.cancelAll { id, outcome in self.finish(id, outcome) }
                    unsent += queue.count - queueHead
                    queueHead = queue.count
                    break loop
                }
                if let reason = stop.check(now: now, countedFrom: countedFrom, backlog: inFlight.count + queue.count - queueHead) {
                    // This lane saw it; every lane stops (what is in flight ends "stopped").
                    stopReason = reason
                    board.stopReason.withLock { if $0 == nil { $0 = reason } }
                    continue
                }
                // Another lane's stop is seen at the next turn (a wait is at most 50 ms); a held
                // level looks again for room in 5 ms.
                let wake = min(nextArrival, stop.nextCheck(after: now), held ? now + 0.005 : .infinity)
                driver.wait(until: wake.isFinite ? wake : nil)
                driver.drive(onEvent: { id, event in self.inFlight[id]?.take(event) ?? false },
                             onDone: { id, outcome in self.finish(id, outcome) })
                freedAt = MonotonicClock.now()
                if let progress, freedAt >= nextProgress {
                    progress(board.ended.load(ordering: .relaxed))
                    nextProgress = freedAt + 0.1
                }
            }
            driver.close()
            let end = MonotonicClock.now()
            if let since = heldSince { heldSeconds += end - since }
            blocks.append(recent)
            recent = []
            defer { blocks = [] }   // the result's blocks are then the only copy: `merge` frees them
            return LaneResult(blocks: blocks, end: end,
                              firstSend: firstSend, lastSend: lastSend,
                              sends: sends, unsent: unsent, heldSeconds: heldSeconds)
        }

        /// Hands one request to the wire; false when it could not be sent (it is then an
        /// error sample). `scheduled`: when it was due (its arrival, or the moment a
        /// closed-loop slot freed).
        @discardableResult
        func send(sequence: Int, scheduled: Double, queued: Double?, now: Double, countedFrom: Double,
                  alreadyCounted: Bool = false) -> Bool {
            sentHere += 1
            let rampUp = scheduled < countedFrom
            if !rampUp && !alreadyCounted { counted += 1 }
            let prompt = workload.prompt(sequence: sequence)
            let targets: [WireTarget]
            do {
                targets = try board.targets()
                precondition(!targets.isEmpty, "a wire target list is never empty")
            } catch {
                // Nothing sent (no available target, no API key): still a row and an error.
                var s = RequestMeasurement.sample(model: model, sequence: sequence, warmup: false, startedAt: Date(),
                                                  start: now, end: now, timing: .init(), streamedText: "",
                                                  outcome: .failure(error))
                s.rampUp = rampUp
                s.prompt = prompt.text
                done(s)
                return false
            }
            let start = MonotonicClock.now()
            let f = attempt(sequence: sequence, rampUp: rampUp, prompt: prompt, target: targets[0], start: start)
            f.scheduled = scheduled
            f.fallbacks = targets.dropFirst()
            f.queueMs = queued.map { $0 * 1000 }
            f.released = scheduled + (queued ?? 0)
            f.sendLagMs = max(0, start - f.released) * 1000
            if !rampUp {
                if firstSend == nil { firstSend = start }
                lastSend = start
                sends += 1
            }
            return true
        }

        /// Starts one attempt on the wire.
        func attempt(sequence: Int, rampUp: Bool, prompt: BenchPrompt, target: WireTarget, start: Double) -> InFlight {
            let request: HTTPRequest
            // The same text every time (the load ceiling, --same-prompt): built once a target.
            let reusable: Bool
            if case .fixed = workload.source { reusable = !workload.distinct } else { reusable = false }
            if reusable, let known = cached.first(where: { $0.target.sameWire(as: target) }) {
                request = known.request
            } else {
                request = target.request(prompt: prompt.text, system: prompt.system, maxTokens: prompt.maxTokens ?? workload.maxTokens,
                                         ignoreEOS: workload.ignoreEOS, sampling: workload.sampling)
                if reusable, cached.count < 16 { cached.append((target, request)) }
            }
            let f = InFlight(sequence: sequence, rampUp: rampUp, prompt: prompt, start: start, target: target, request: request,
                             keepBytes: keepBytes)
            let id = nextTransfer
            nextTransfer += 1
            inFlight[id] = f
            board.started()
            driver.start(request, id: id)
            return f
        }

        /// A request has ended: it is handed to `onSample` (the log's rows) whole, and kept for
        /// the level's figures without its texts, which a long run would otherwise hold in
        /// memory request by request.
        func done(_ s: RequestSample) {
            board.sample(s)
            if recent.count >= Level.blockSize {
                blocks.append(recent)
                recent = []
            }
            if recent.isEmpty { recent.reserveCapacity(Level.blockSize) }
            recent.append(s.figuresOnly())
        }

        func finish(_ id: Int, _ outcome: TransferDriver.Outcome) {
            guard let f = inFlight.removeValue(forKey: id) else { return }
            board.transferEnded()
            // A reply ends with its last byte off the socket, not when the loop noticed.
            var end = MonotonicClock.now()
            if case .success = outcome.result, let last = outcome.timings.lastByteAt, last <= end { end = last }
            if let sent = outcome.timings.sentAt, sent >= f.start, outcome.timings.newConnections == 0 {
                // On a kept-alive connection, measured from the moment the request went out:
                // setting up the transfer and waiting for the loop's next turn are the client's,
                // reported as send lag. A new connection's handshake stays in the measurement.
                if f.requestStart == f.start {
                    f.requestStart = sent
                    f.sendLagMs = max(0, sent - f.released) * 1000
                }
                f.start = sent
            }
            let result = f.outcome(outcome.result)
            var s = RequestMeasurement.sample(model: model, sequence: f.sequence, warmup: false, startedAt: f.startedAt,
                                              start: f.start, end: end, timing: f.timing, streamedText: "", outcome: result)
            s.provider = s.provider ?? f.target.provider
            s.backendModel = s.backendModel ?? f.target.backendModel
            s.routeReason = s.routeReason ?? f.target.routeReason
            s.attempts = f.earlier.count + 1
            // Nothing arrived yet: on to the route's next target, as chat does.
            if !s.ok, f.timing.pieces == 0, s.errorKind != "cancelled", let next = f.fallbacks.first, !interrupt.isRaised {
                let g = attempt(sequence: f.sequence, rampUp: f.rampUp, prompt: f.prompt, target: next, start: MonotonicClock.now())
                g.scheduled = f.scheduled
                g.released = f.released
                g.fallbacks = f.fallbacks.dropFirst()
                g.earlier = f.earlier + [s]
                g.requestStart = f.requestStart
                g.queueMs = f.queueMs
                g.sendLagMs = f.sendLagMs
                return
            }
            if !f.earlier.isEmpty {
                // The request as a whole: from its first attempt, every attempt one row.
                let final = s
                s = RequestMeasurement.sample(model: model, sequence: f.sequence, warmup: false, startedAt: f.earlier[0].startedAt,
                                              start: f.requestStart, end: end, timing: f.timing, streamedText: "", outcome: result)
                s.provider = final.provider
                s.backendModel = final.backendModel
                s.routeReason = final.routeReason
                s.attempts = final.attempts
                let requestID = RequestID.make()
                s.records = (f.earlier + [final]).map { a in
                    RequestMeasurement.attemptRecord(a, kind: kind, prompt: f.prompt.text, requestID: requestID)
                }
            }
            s.queueMs = f.queueMs
            s.sendLagMs = f.sendLagMs
            s.rampUp = f.rampUp
            s.prompt = f.prompt.text
            if stopReason != nil, s.errorKind == "cancelled" { s.errorKind = "stopped" }
            if !s.rampUp { stop.finished(s, waitedMs: (end - f.scheduled) * 1000 - s.totalMs + (s.ttftMs ?? s.totalMs), at: end) }
            done(s)
        }
    }
}
