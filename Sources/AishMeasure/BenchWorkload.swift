import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishHTTP
import AishConfig
import AishSessionLog
import AishTelemetry

/// One request's content as bench sends it.
struct BenchPrompt: Sendable, Equatable {
    var text: String
    var system: String? = nil
    /// max_tokens of this request (a replayed one keeps what it was logged with).
    var maxTokens: Int? = nil
}

/// What `bench` sends: the prompt of each request and how long its reply may be.
///
/// - one prompt (`-p`, the default question), the lines of a file (`--prompts`), synthetic
///   prompts of a length in tokens (`--prompt-tokens N[,stdev]`), or the prompts of the
///   session log replayed at their logged arrival times (`--from-log`);
/// - distinct by default: each request's text starts with a tag of its own (run and
///   request number), so a server's prefix cache cannot answer a repeat (`--same-prompt`
///   sends the text as it is; replayed prompts are always sent as logged);
/// - `--output-tokens N`: max_tokens N and, where the server has a way, `ignore_eos`.
final class BenchWorkload: Sendable {
    enum Source: Sendable, Equatable {
        case fixed(String)
        case file([BenchPrompt])
        case synthetic(SyntheticPrompts)
        /// Logged prompts in arrival order and their offsets in seconds from the first.
        case replay([BenchPrompt], offsets: [Double])
    }

    let source: Source
    let distinct: Bool
    let maxTokens: Int
    /// Ask the server to generate exactly `maxTokens` (`--output-tokens`).
    let ignoreEOS: Bool
    /// Temperature, top_p and seed of every request (`-o`).
    let sampling: ChatOptions
    /// Tells this run's requests apart from another run's.
    let nonce: String
    private let counter = Locked(0)

    init(source: Source, distinct: Bool, maxTokens: Int, ignoreEOS: Bool = false, sampling: ChatOptions = ChatOptions(), nonce: String? = nil) {
        self.source = source
        self.distinct = distinct
        self.maxTokens = maxTokens
        self.ignoreEOS = ignoreEOS
        self.sampling = sampling
        self.nonce = nonce ?? Self.newNonce()
    }

    /// Six hex digits that tell one run's prompts from another's.
    static func newNonce() -> String { String(UUID().uuidString.lowercased().prefix(6)) }

    /// The same text every time (the load ceiling, tests).
    static func fixed(_ prompt: String, maxTokens: Int) -> BenchWorkload {
        BenchWorkload(source: .fixed(prompt), distinct: false, maxTokens: maxTokens)
    }

    /// Replayed prompts: the requests of the level and their arrival offsets.
    var replayOffsets: [Double]? {
        if case let .replay(_, offsets) = source { return offsets }
        return nil
    }

    /// The prompt of the `sequence`-th request of a level (replay), or of the next request
    /// of the run (every other source: each call is a new request).
    func prompt(sequence: Int) -> BenchPrompt {
        let n = counter.withLock { c -> Int in
            defer { c += 1 }
            return c
        }
        var p: BenchPrompt
        switch source {
        case let .fixed(text): p = BenchPrompt(text: text)
        case let .file(prompts): p = prompts[n % prompts.count]
        case let .synthetic(s): return BenchPrompt(text: s.text(n, tag: "\(nonce)-\(n + 1)"), maxTokens: maxTokens)
        case let .replay(prompts, _): return prompts[min(sequence, prompts.count - 1)]
        }
        if distinct { p.text = "[\(nonce)-\(n + 1)] " + p.text }
        if p.maxTokens == nil { p.maxTokens = maxTokens }
        return p
    }

    /// The prompt as the log shows it for a run (the first one; synthetic prompts by shape).
    var description: String {
        switch source {
        case let .fixed(text): return text
        case let .file(prompts): return prompts.first?.text ?? ""
        case let .synthetic(s): return "synthetic prompts of \(s.meanTokens) tokens" + (s.stdevTokens > 0 ? " ± \(s.stdevTokens)" : "")
        case let .replay(prompts, _): return prompts.first?.text ?? ""
        }
    }
}

/// Prompts of a given length in tokens: words drawn from a fixed list, seeded per request,
/// their number set from the tokens wanted and the words a token is worth (measured with the
/// server's `/tokenize` where it has one, else estimated).
struct SyntheticPrompts: Sendable, Equatable {
    var meanTokens: Int
    var stdevTokens: Int
    var seed: UInt64
    /// Words per token: 0.75 is the usual English estimate; `/tokenize` replaces it.
    var wordsPerToken: Double = 0.75

    static let words = """
        time year people way day man thing woman life child world school state family student group country problem \
        hand part place case week company system program question work government number night point home water room \
        mother area money story fact month lot right study book eye job word business issue side kind head house \
        service friend father power hour game line end member law car city community name president team minute idea \
        kid body information back parent face others level office door health person art war history party result \
        change morning reason research girl guy moment air teacher force education river garden market window light \
        paper music table voice letter field island bridge forest mountain engine signal winter summer village planet
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

    /// The tokens the `n`-th request asks for: normal around the mean (at least 1).
    func tokens(_ n: Int) -> Int {
        guard stdevTokens > 0 else { return meanTokens }
        var r = SplitMix64(seed: seed &+ UInt64(n) &* 0x9E37_79B9)
        return max(1, Int((Double(meanTokens) + r.normal() * Double(stdevTokens)).rounded()))
    }

    /// The `n`-th prompt: `tag` first (it makes the request distinct), then the words.
    func text(_ n: Int, tag: String) -> String {
        let count = max(1, Int((Double(tokens(n)) * wordsPerToken).rounded()) - 1)
        var r = SplitMix64(seed: seed ^ (UInt64(n) &+ 1) &* 0xD1B5_4A32_D192_ED03)
        var out = tag
        for _ in 0..<count {
            let w = Self.words[r.below(Self.words.count)]
            out += " " + w
        }
        return out
    }

    /// A sample of `words` words, for measuring the words a token is worth.
    func calibrationText(words: Int) -> String {
        var r = SplitMix64(seed: seed &+ 7)
        return (0..<words).map { _ in Self.words[r.below(Self.words.count)] }.joined(separator: " ")
    }
}

/// How bench learns the length of a text in tokens: the server's own tokenizer where the
/// server has one (llama-server's and vLLM's POST /tokenize), else an estimate.
enum PromptTokenizer {
    /// Tokens in `text` as the target's server counts them; nil when it has no /tokenize or
    /// the call failed (`why` says which).
    static func count(_ text: String, target: WireTarget, interrupt: InterruptFlag) -> (tokens: Int?, why: String?) {
        guard let request = target.tokenizeRequest(text) else {
            return (nil, "\(target.provider) (\(target.providerType.rawValue)) has no /tokenize")
        }
        do {
            let r = try HTTPTransport.fetch(request, interrupt: interrupt, maxBody: 1 << 22)
            guard r.head.isSuccess else { return (nil, "\(request.displayURL): HTTP \(r.head.status)") }
            let json = try r.json()
            if let n = json["count"]?.intValue { return (n, nil) }
            if case let .array(tokens)? = json["tokens"] { return (tokens.count, nil) }
            return (nil, "\(request.displayURL): no count or tokens in its answer")
        } catch {
            return (nil, "\(error)")
        }
    }

    /// Measures the words a token is worth with the server's tokenizer; nil and the reason
    /// when it cannot (then the estimate stands).
    static func calibrate(_ prompts: SyntheticPrompts, target: WireTarget, interrupt: InterruptFlag)
        -> (wordsPerToken: Double?, why: String?)
    {
        let sample = 400
        let (tokens, why) = count(prompts.calibrationText(words: sample), target: target, interrupt: interrupt)
        guard let tokens, tokens > 0 else { return (nil, why) }
        return (Double(sample) / Double(tokens), nil)
    }
}

/// Reading `--prompts FILE`: one prompt a line; a line that is a JSON object takes its
/// "prompt" (or "text"), with "system" and "max_tokens" when present; a JSON string line is
/// that string. Blank lines are skipped.
enum PromptFile {
    static func parse(_ text: String, path: String) throws -> [BenchPrompt] {
        var out: [BenchPrompt] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimming(.whitespaces)
            if line.isEmpty { continue }
            guard line.hasPrefix("{") || line.hasPrefix("\"") else { out.append(BenchPrompt(text: String(line))); continue }
            let json: JSONValue
            do { json = try JSONValue.parse(String(line)) } catch {
                throw CommandFailure("bench: --prompts \(path):\(i + 1): not JSON: \(error)")
            }
            if case let .string(s) = json { out.append(BenchPrompt(text: s)); continue }
            guard let prompt = json["prompt"]?.stringValue ?? json["text"]?.stringValue else {
                throw CommandFailure("bench: --prompts \(path):\(i + 1): a JSON line needs \"prompt\"")
            }
            out.append(BenchPrompt(text: prompt, system: json["system"]?.stringValue, maxTokens: json["max_tokens"]?.intValue))
        }
        guard !out.isEmpty else { throw CommandFailure("bench: --prompts \(path) holds no prompt") }
        return out
    }
}

/// `--trace FILE`: requests at the arrival times of a trace, one JSON object a line, in the
/// shape of aiperf's mooncake_trace: `timestamp` (milliseconds from the trace's start) and
/// either `prompt` (or `text`: sent as written) or `input_length` (a synthetic prompt of that
/// many tokens, tagged to be distinct unless `tag` is nil); optionally `output_length` (or
/// `max_tokens`) and `system`. Other keys (`hash_ids`, …) are left alone. Requests go in
/// timestamp order (lines in file order at a tie), the gaps multiplied by `timeScale`.
enum TraceFile {
    struct Trace {
        /// A prompt of a line that gave a length has no text until `writeLengths`.
        var prompts: [BenchPrompt]
        var offsets: [Double]
        /// Per request, where its line gave a length instead of a text: the tokens, and the
        /// line's request number in the file (its tag).
        var lengths: [(tokens: Int, number: Int)?]
        /// Some line gave a length, not a text.
        var lengthsGiven: Bool { lengths.contains { $0 != nil } }

        /// The synthetic prompts of the lines that gave a length, as `synthetic` writes them
        /// (its words per token measured by then), tagged `[tag-N]` unless `tag` is nil.
        mutating func writeLengths(_ synthetic: SyntheticPrompts, tag: String?) {
            for (i, length) in lengths.enumerated() {
                guard let (tokens, number) = length else { continue }
                var s = synthetic
                s.meanTokens = tokens
                s.stdevTokens = 0
                var words = s.text(number - 1, tag: tag.map { "[\($0)-\(number)]" } ?? "")
                if tag == nil { words.removeFirst() }   // the space after an empty tag
                prompts[i].text = words
            }
        }
    }

    /// `read`, then the synthetic prompts written.
    static func parse(_ text: String, path: String, limit: Int?, timeScale: Double, synthetic: SyntheticPrompts,
                      tag: String?) throws -> Trace {
        var trace = try read(text, path: path, limit: limit, timeScale: timeScale)
        trace.writeLengths(synthetic, tag: tag)
        return trace
    }

    /// The requests of the trace in time order, a length's prompt without its text yet.
    static func read(_ text: String, path: String, limit: Int?, timeScale: Double) throws -> Trace {
        var rows: [(at: Double, line: Int, prompt: BenchPrompt, length: (tokens: Int, number: Int)?)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimming(.whitespaces)
            if line.isEmpty { continue }
            let here = "bench: --trace \(path):\(i + 1)"
            let json: JSONValue
            do { json = try JSONValue.parse(String(line)) } catch { throw CommandFailure("\(here): not JSON: \(error)") }
            guard case .object = json else {
                throw CommandFailure("\(here): a line is a JSON object with \"timestamp\" and \"prompt\" or \"input_length\"")
            }
            guard let at = json["timestamp"]?.doubleValue, at.isFinite, at >= 0 else {
                throw CommandFailure("\(here): needs \"timestamp\", milliseconds from the trace's start (a number from 0)")
            }
            let maxTokens = json["output_length"]?.intValue ?? json["max_tokens"]?.intValue
            if let m = maxTokens, m < 1 { throw CommandFailure("\(here): output_length must be at least 1, got \(m)") }
            let system = json["system"]?.stringValue
            if let given = json["prompt"]?.stringValue ?? json["text"]?.stringValue {
                rows.append((at, i, BenchPrompt(text: given, system: system, maxTokens: maxTokens), nil))
            } else if let n = json["input_length"]?.intValue, n >= 1, n <= 1_000_000 {
                rows.append((at, i, BenchPrompt(text: "", system: system, maxTokens: maxTokens), (n, rows.count + 1)))
            } else {
                throw CommandFailure("\(here): needs \"prompt\" (the text) or \"input_length\" (tokens, 1 to 1000000)")
            }
        }
        guard !rows.isEmpty else { throw CommandFailure("bench: --trace \(path) holds no request") }
        rows.sort { ($0.at, $0.line) < ($1.at, $1.line) }
        if let limit, rows.count > limit { rows.removeLast(rows.count - limit) }
        let first = rows[0].at
        return Trace(prompts: rows.map(\.prompt), offsets: rows.map { ($0.at - first) / 1000 * timeScale },
                     lengths: rows.map(\.length))
    }
}

/// `--from-log`: the chat requests of the session log, one per request, oldest first, with
/// their arrival offsets multiplied by `timeScale` (0.5 replays twice as fast).
enum LogReplay {
    static func load(_ reader: SessionLogReader, since: Date?, model: String?, limit: Int?, timeScale: Double) throws
        -> (prompts: [BenchPrompt], offsets: [Double])
    {
        var seen = Set<String>()
        var rows: [AttemptRow] = []
        try reader.forEachAttempt(AttemptFilter(since: since)) { r in
            guard r.kind == "chat", !r.prompt.isEmpty, seen.insert(r.requestID).inserted else { return true }
            if let model, r.requestedModel != model, r.backendModel != model { return true }
            rows.append(r)
            return limit.map { rows.count < $0 } ?? true
        }
        guard let first = rows.first.flatMap({ LogTime.parse($0.startedAt) }) else { return ([], []) }
        var prompts: [BenchPrompt] = []
        var offsets: [Double] = []
        for r in rows {
            guard let at = LogTime.parse(r.startedAt) else { continue }
            var maxTokens: Int?
            if let o = r.options, let json = try? JSONValue.parse(o) { maxTokens = json["max_tokens"]?.intValue }
            prompts.append(BenchPrompt(text: r.prompt, system: r.systemPrompt, maxTokens: maxTokens))
            offsets.append(max(0, at.timeIntervalSince(first)) * timeScale)
        }
        return (prompts, offsets)
    }
}
