import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig
import AishProviders
import AishTelemetry

/// What one request of `compare` or `bench` came to, measured on this side of the wire.
///
/// A level keeps one of these for every request it sent (millions in a long run against a
/// fast server), so the storage is compact behind the same properties: optional figures as
/// NaN or a sentinel instead of a tag and padding, and what only the log's rows need (the
/// reply, the prompt, the server's timings, the attempts) in one box a level drops
/// (`figuresOnly`). 184 bytes a request instead of 400.
package struct RequestSample: Sendable {
    package var model: String
    package var sequence: Int
    package var startedAt: Date
    package var totalMs: Double
    /// Short class of the failure for "errors by kind": timeout, connection, http 503, loading…
    package var errorKind: String?
    package var provider: String?
    package var backendModel: String?
    private var figures = Figures()
    private var details: Details?

    package var warmup: Bool
    package var ok: Bool
    /// The backend said it loaded the model for this request (Ollama load_duration > 0.5 s,
    /// llama.cpp 503 "Loading model").
    package var coldLoad: Bool
    /// Sent during --ramp-up or --warmup: logged, not counted in the level's figures.
    package var rampUp = false
    /// Where `outputTokens` came from.
    var tokenSource: TokenSource? = nil
    /// Answered from a LiteLLM gateway's response cache (nil: not through a gateway). Kept
    /// out of the timing figures: it measures the cache, not the model.
    package var cacheHit: Bool? = nil

    package init(model: String, sequence: Int, warmup: Bool, ok: Bool, startedAt: Date, ttftMs: Double? = nil, totalMs: Double,
                 outputTokens: Int? = nil, tokensPerSecond: Double? = nil, coldLoad: Bool, replyText: String) {
        self.model = model
        self.sequence = sequence
        self.warmup = warmup
        self.ok = ok
        self.startedAt = startedAt
        self.totalMs = totalMs
        self.coldLoad = coldLoad
        self.ttftMs = ttftMs
        self.outputTokens = outputTokens
        self.tokensPerSecond = tokensPerSecond
        if !replyText.isEmpty { self.replyText = replyText }   // no box for nothing
    }

    /// The optional figures: NaN, or `Figures.none` for a count, where there is none.
    private struct Figures {
        static let none = Int32.min
        var ttft = Double.nan, itl = Double.nan, icl = Double.nan, tpot = Double.nan
        var tokensPerSecond = Double.nan, queue = Double.nan, sendLag = Double.nan
        var outputTokens = none, promptTokens = none, httpStatus = none
        var chunks: Int32 = 0
        var attempts: Int32 = 1

        static func get(_ v: Double) -> Double? { v.isNaN ? nil : v }
        static func get(_ v: Int32) -> Int? { v == none ? nil : Int(v) }
        static func put(_ v: Int?) -> Int32 { v.map { Int32(clamping: $0) } ?? none }
    }

    /// The texts: copied on write. A level keeps the rare ones (an error, a cold load's note)
    /// and drops what only the log's rows need (`figuresOnly`).
    private final class Details: @unchecked Sendable {
        var error: String?
        var coldLoadNote: String?
        var replyText = ""
        var serverTimings: JSONValue?
        var routeReason: String?
        var records: [AttemptRecord] = []
        var prompt: String?

        func copy() -> Details {
            let d = Details()
            (d.error, d.coldLoadNote, d.replyText, d.serverTimings) = (error, coldLoadNote, replyText, serverTimings)
            (d.routeReason, d.records, d.prompt) = (routeReason, records, prompt)
            return d
        }
    }

    /// `details`, made this sample's own before a change (a copied sample shares the box).
    private mutating func ownDetails() -> Details {
        if details == nil { details = Details() } else if !isKnownUniquelyReferenced(&details!) { details = details!.copy() }
        return details!
    }

    package var ttftMs: Double? { get { Figures.get(figures.ttft) } set { figures.ttft = newValue ?? .nan } }
    /// Inter-token latency: the time from the first text chunk to the last over the tokens
    /// generated after the first chunk (see `TokenTiming`).
    var itlMs: Double? { get { Figures.get(figures.itl) } set { figures.itl = newValue ?? .nan } }
    /// Inter-chunk latency: the mean gap between consecutive text chunks.
    var iclMs: Double? { get { Figures.get(figures.icl) } set { figures.icl = newValue ?? .nan } }
    /// Time per output token as vLLM counts it: (end-to-end − TTFT) / (tokens − 1).
    var tpotMs: Double? { get { Figures.get(figures.tpot) } set { figures.tpot = newValue ?? .nan } }
    /// The server's count (usage, Ollama's eval_count) when it gave one, else the chunks counted.
    package var outputTokens: Int? { get { Figures.get(figures.outputTokens) } set { figures.outputTokens = Figures.put(newValue) } }
    /// Text chunks received (SSE events or NDJSON lines carrying text).
    var chunks: Int { get { Int(figures.chunks) } set { figures.chunks = Int32(clamping: newValue) } }
    package var promptTokens: Int? { get { Figures.get(figures.promptTokens) } set { figures.promptTokens = Figures.put(newValue) } }
    /// Output tokens after the first over the time since the first arrived (decode speed).
    package var tokensPerSecond: Double? {
        get { Figures.get(figures.tokensPerSecond) } set { figures.tokensPerSecond = newValue ?? .nan }
    }
    package var httpStatus: Int? { get { Figures.get(figures.httpStatus) } set { figures.httpStatus = Figures.put(newValue) } }
    package var attempts: Int { get { Int(figures.attempts) } set { figures.attempts = Int32(clamping: newValue) } }
    /// Open loop under --max-concurrency: how long the request waited for a free slot
    /// after its scheduled send time (0 when one was free).
    package var queueMs: Double? { get { Figures.get(figures.queue) } set { figures.queue = newValue ?? .nan } }
    /// How late the load engine handed the request to the wire after it was due (its
    /// scheduled time, or the moment a slot freed): the generator's own lag.
    package var sendLagMs: Double? { get { Figures.get(figures.sendLag) } set { figures.sendLag = newValue ?? .nan } }

    package var error: String? { get { details?.error } set { ownDetails().error = newValue } }
    /// Why `coldLoad` was set ("Ollama load_duration 3.20 s").
    package var coldLoadNote: String? { get { details?.coldLoadNote } set { ownDetails().coldLoadNote = newValue } }
    package var replyText: String { get { details?.replyText ?? "" } set { ownDetails().replyText = newValue } }
    package var serverTimings: JSONValue? { get { details?.serverTimings } set { ownDetails().serverTimings = newValue } }
    /// Why the router sent it where it went ("exact match 'x'", "fallback_chains … step 2").
    package var routeReason: String? { get { details?.routeReason } set { ownDetails().routeReason = newValue } }
    /// The attempts a routed request made (skips and failovers included); empty when the
    /// request went straight to one provider.
    package var records: [AttemptRecord] { get { details?.records ?? [] } set { ownDetails().records = newValue } }
    /// The prompt sent, when it differs from request to request (bench); nil: the run's.
    var prompt: String? { get { details?.prompt } set { ownDetails().prompt = newValue } }

    /// The sample without what only its log rows need (the reply, the prompt, the server's
    /// timings, the attempts' records): what a level keeps of each request for its figures.
    func figuresOnly() -> RequestSample {
        var kept = self
        kept.details = nil
        if error != nil || coldLoadNote != nil {
            kept.error = error
            kept.coldLoadNote = coldLoadNote
        }
        return kept
    }
}

/// The part of a routed request the measurement needs back from whoever sent it.
package struct RequestOutcome: Sendable {
    package var provider: String
    package var backendModel: String
    package var summary: ChatCompletionSummary
    package var attempts: Int = 1
    package var routeReason: String? = nil
    package var records: [AttemptRecord] = []
    /// Through a LiteLLM gateway: whether its response cache answered (nil: not a gateway).
    package var cacheHit: Bool? = nil
}

/// How `compare` and `bench` send one streamed request for a model: through the router in
/// the shell, or straight to one provider. `onText` must be called as each piece arrives.
package struct ModelRequester: Sendable {
    package var send: @Sendable (_ prompt: String, _ maxTokens: Int?, _ interrupt: InterruptFlag,
                         _ onText: (String) -> Void) throws -> RequestOutcome
    /// Where the next request would go on the wire, in the order to try them before the
    /// first token, for the load engine (bench), which drives every request of a level from
    /// one event loop instead of calling `send`.
    package var wire: (@Sendable () throws -> [WireTarget])? = nil

    package init(wire: (@Sendable () throws -> [WireTarget])? = nil,
         send: @escaping @Sendable (_ prompt: String, _ maxTokens: Int?, _ interrupt: InterruptFlag,
                                    _ onText: (String) -> Void) throws -> RequestOutcome) {
        self.send = send
        self.wire = wire
    }

    /// Straight to one provider's chat API (no failover). `useGatewayCache` false: a LiteLLM
    /// gateway is asked neither to answer from its response cache nor to store the reply.
    package static func direct(provider: ProviderConfig, backendModel: String, environment: [String: String],
                       useGatewayCache: Bool = false) -> ModelRequester {
        let backend = ProviderClients.backend(for: provider, environment: environment)
        return ModelRequester(wire: {
            [try WireTarget(provider: provider, backendModel: backendModel, environment: environment, routeReason: nil,
                            useGatewayCache: useGatewayCache)]
        }) { prompt, maxTokens, interrupt, onText in
            var request = ChatRequest(model: backendModel, messages: [ChatMessage(role: "user", content: prompt)],
                                      temperature: nil, maxTokens: maxTokens, topP: nil, seed: nil, stream: true)
            request.bypassGatewayCache = !useGatewayCache
            let summary = try backend.streamChat(request, provider: provider, interrupt: interrupt) { event in
                if case let .text(t) = event { onText(t) }
            }
            return RequestOutcome(provider: provider.name, backendModel: backendModel, summary: summary,
                                  cacheHit: GatewayInfo.cacheHit(summary.gateway, throughGateway: provider.type == .litellm))
        }
    }
}

package enum RequestMeasurement {
    /// Ollama reports the time it spent loading the model; above this it was a cold start.
    package static let coldLoadSeconds = 0.5

    /// Sends one request and times it: TTFT at the first non-empty text piece, inter-token
    /// latency as the mean gap between pieces, tokens/s as the tokens after the first over
    /// the time since the first.
    package static func measure(model: String, sequence: Int, warmup: Bool, prompt: String, maxTokens: Int?,
                        requester: ModelRequester, interrupt: InterruptFlag) -> RequestSample {
        let startedAt = Date()
        let start = MonotonicClock.now()
        var timing = PieceTiming()
        var text = ""
        let outcome: Result<RequestOutcome, Error>
        do {
            outcome = .success(try requester.send(prompt, maxTokens, interrupt) { piece in
                guard !piece.isEmpty else { return }
                timing.piece(at: MonotonicClock.now())
                text += piece
            })
        } catch {
            outcome = .failure(error)
        }
        return sample(model: model, sequence: sequence, warmup: warmup, startedAt: startedAt, start: start,
                      end: MonotonicClock.now(), timing: timing, streamedText: text, outcome: outcome)
    }

    /// When the pieces of one reply arrived.
    package struct PieceTiming {
        package var firstAt: Double?
        package var lastAt: Double?
        package var pieces = 0

        package mutating func piece(at now: Double) {
            if firstAt == nil { firstAt = now }
            lastAt = now
            pieces += 1
        }
    }

    /// The sample of one request that started at `start` and ended at `end` (monotonic
    /// seconds) with `outcome`.
    package static func sample(model: String, sequence: Int, warmup: Bool, startedAt: Date, start: Double, end: Double,
                       timing: PieceTiming, streamedText: String, outcome: Result<RequestOutcome, Error>) -> RequestSample {
        var sample = RequestSample(model: model, sequence: sequence, warmup: warmup, ok: false, startedAt: startedAt,
                                   totalMs: (end - start) * 1000, coldLoad: false, replyText: "")
        let (firstAt, lastAt, pieces) = (timing.firstAt, timing.lastAt, timing.pieces)
        switch outcome {
        case let .success(outcome):
            sample.ok = true
            sample.provider = outcome.provider
            sample.backendModel = outcome.backendModel
            sample.attempts = outcome.attempts
            sample.routeReason = outcome.routeReason
            sample.records = outcome.records
            sample.cacheHit = outcome.cacheHit
            sample.replyText = outcome.summary.text.isEmpty ? streamedText : outcome.summary.text
            sample.chunks = pieces
            if let usage = outcome.summary.completionTokens {
                sample.outputTokens = usage
                sample.tokenSource = .usage
            } else if pieces > 0 {
                sample.outputTokens = pieces
                sample.tokenSource = .chunks
            }
            sample.promptTokens = outcome.summary.promptTokens
            sample.serverTimings = outcome.summary.serverTimings
            sample.httpStatus = outcome.summary.httpStatus
            if let firstAt {
                sample.ttftMs = (firstAt - start) * 1000
                let t = TokenTiming(start: start, firstAt: firstAt, lastAt: lastAt ?? firstAt, end: end,
                                    chunks: pieces, tokens: sample.outputTokens)
                sample.itlMs = t.itlMs
                sample.iclMs = t.iclMs
                sample.tpotMs = t.tpotMs
                // As chat and the log count it: the tokens after the first, over the time since the first.
                let decode = end - firstAt
                if let tokens = sample.outputTokens, tokens > 1, decode > 0 { sample.tokensPerSecond = Double(tokens - 1) / decode }
            }
            if let note = coldLoadNote(serverTimings: outcome.summary.serverTimings) {
                sample.coldLoad = true
                sample.coldLoadNote = note
            }
        case let .failure(error):
            sample.replyText = streamedText
            if let firstAt { sample.ttftMs = (firstAt - start) * 1000 }
            if let routed = error as? RoutedRequestFailure {
                sample.records = routed.records
                sample.provider = routed.records.last(where: { $0.status != .skipped })?.provider
                classify(routed.error, into: &sample)
                // Not the backend's failure: the router sent nothing (e.g. a 429's cool-down).
                if routed.everyTargetSkipped { sample.errorKind = "skipped" }
            } else {
                classify(error, into: &sample)
            }
        }
        return sample
    }

    /// "Ollama load_duration 3.20 s" when the server says it loaded the model for this
    /// request (Ollama reports nanoseconds); nil for a warm model or no timings.
    package static func coldLoadNote(serverTimings: JSONValue?) -> String? {
        guard let load = serverTimings?["load_duration"]?.doubleValue, load / 1e9 > coldLoadSeconds else { return nil }
        return "Ollama load_duration \(Format.seconds(load / 1e9))"
    }

    package static func classify(_ error: Error, into sample: inout RequestSample) {
        sample.ok = false
        sample.error = "\(error)"
        guard let e = error as? ProviderError else {
            sample.errorKind = "error"
            return
        }
        if !e.partialText.isEmpty { sample.replyText = e.partialText }
        sample.httpStatus = e.httpStatus
        switch e.kind {
        case .connectionFailed: sample.errorKind = "connection"
        case .firstByteTimeout: sample.errorKind = "timeout"
        case .idleTimeout: sample.errorKind = "stalled"
        case .rateLimited: sample.errorKind = "http 429"
        case .malformedStream: sample.errorKind = "malformed"
        case .truncatedStream: sample.errorKind = "truncated"
        case .cancelled: sample.errorKind = "cancelled"
        case .missingAPIKey: sample.errorKind = "no api key"
        case .other: sample.errorKind = "error"
        case let .http(status):
            if status == 503, e.message.lowercased().contains("loading model") {
                sample.errorKind = "loading"
                sample.coldLoad = true
                sample.coldLoadNote = "llama.cpp 503 Loading model"
            } else {
                sample.errorKind = "http \(status)"
            }
        }
    }

    /// The session log's rows for one measured request: the attempts its turn recorded, or
    /// one row for a request sent straight to a provider. Warm-ups say so in the reason.
    package static func attemptRecords(_ s: RequestSample, kind: String, prompt: String) -> [AttemptRecord] {
        guard !s.records.isEmpty else {
            return [attemptRecord(s, kind: kind, prompt: prompt, requestID: RequestID.make())]
        }
        return s.records.map { r in
            var r = r
            r.kind = kind
            if s.warmup { r.routeReason = "\(kind) warm-up: " + r.routeReason }
            return r
        }
    }

    /// The session log's row for one request sent straight to a provider.
    package static func attemptRecord(_ s: RequestSample, kind: String, prompt: String, requestID: String) -> AttemptRecord {
        let status: AttemptStatus
        if s.ok { status = .ok } else if s.errorKind == "cancelled" { status = .cancelled }
        else if s.errorKind == "timeout" || s.errorKind == "stalled" { status = .timeout }
        else if !s.replyText.isEmpty { status = .partial } else { status = .error }
        var reason = kind + (s.warmup ? " warm-up" : "")
        if let how = s.routeReason { reason += ": " + how }
        return AttemptRecord(requestID: requestID, requestedModel: s.model,
                             routeReason: reason, provider: s.provider ?? "",
                             backendModel: s.backendModel ?? "", attempt: s.attempts, status: status,
                             httpStatus: s.httpStatus, error: s.error, ttftMs: s.ttftMs, totalMs: s.totalMs,
                             promptTokens: s.promptTokens, completionTokens: s.outputTokens,
                             tokensPerSecond: s.tokensPerSecond, serverTimings: s.serverTimings, prompt: prompt,
                             replyText: s.replyText, startedAt: s.startedAt, kind: kind, cacheHit: s.cacheHit)
    }
}

/// The figures of one model (compare) or one concurrency level (bench).
package struct SampleSummary: Sendable {
    package var requests: Int
    package var ok: Int
    package var errors: Int
    package var errorKinds: [(String, Int)]
    package var ttft: LatencySummary?
    /// Per token (from the server's count), per chunk, and vLLM's time per output token.
    var itl: LatencySummary?
    var icl: LatencySummary?
    var tpot: LatencySummary?
    package var latency: LatencySummary?
    package var tokensPerSecond: LatencySummary?
    package var outputTokens: Int
    /// Prompt tokens as the server counted them (usage), per request.
    var promptTokens: LatencySummary?
    package var coldLoads: [String]
    /// Successful requests a LiteLLM gateway answered from its response cache: counted in
    /// `ok`, left out of every timing (TTFT, inter-token, latency, tokens/s).
    package var cacheHits: Int
    /// Where the output token counts came from, and where they disagree with the chunks.
    var tokens: TokenCounts

    package init(_ samples: [RequestSample]) {
        requests = samples.count
        // Copied only when something is left out (a bench level has tens of thousands).
        let answered = samples.allSatisfy(\.ok) ? samples : samples.filter(\.ok)
        ok = answered.count
        cacheHits = answered.count { $0.cacheHit == true }
        let good = cacheHits == 0 ? answered : answered.filter { $0.cacheHit != true }
        errors = samples.count - answered.count
        var kinds: [String: Int] = [:]
        for s in samples where !s.ok { kinds[s.errorKind ?? "error", default: 0] += 1 }
        errorKinds = kinds.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
        ttft = LatencySummary(good.compactMap(\.ttftMs))
        itl = LatencySummary(good.compactMap(\.itlMs))
        icl = LatencySummary(good.compactMap(\.iclMs))
        tpot = LatencySummary(good.compactMap(\.tpotMs))
        tokens = TokenCounts(good)
        latency = LatencySummary(good.map(\.totalMs))
        tokensPerSecond = LatencySummary(good.compactMap(\.tokensPerSecond))
        outputTokens = good.compactMap(\.outputTokens).reduce(0, +)
        promptTokens = LatencySummary(good.compactMap { $0.promptTokens.map(Double.init) })
        coldLoads = samples.filter(\.coldLoad).map { s in
            "\(s.warmup ? "warm-up" : "request") \(s.sequence + 1): \(s.coldLoadNote ?? "cold load")"
        }
    }

    package var errorKindsText: String { errorKinds.map { "\($0.0) ×\($0.1)" }.joined(separator: ", ") }

    package func json() -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [("requests", .int(requests)), ("ok", .int(ok)), ("errors", .int(errors))]
        out.append(("error_kinds", .object(errorKinds.map { ($0.0, .int($0.1)) })))
        out.append(("ttft_ms", ttft?.json() ?? .null))
        out.append(("itl_ms", itl?.json() ?? .null))
        out.append(("icl_ms", icl?.json() ?? .null))
        out.append(("tpot_ms", tpot?.json() ?? .null))
        out.append(("latency_ms", latency?.json() ?? .null))
        out.append(("tokens_per_second", tokensPerSecond?.json() ?? .null))
        out.append(("output_tokens", .int(outputTokens)))
        out.append(("prompt_tokens", promptTokens?.json(digits: 1) ?? .null))
        out += tokens.json()
        out.append(("cold_loads", .array(coldLoads.map { .string($0) })))
        out.append(("cache_hits", .int(cacheHits)))
        return out
    }
}
