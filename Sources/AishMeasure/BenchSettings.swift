import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishHTTP
import AishConfig
import AishSessionLog
import AishTelemetry

/// What `bench`'s options say is to be sent, before the workload is built (building it may
/// ask the server's /tokenize or read the log).
struct WorkloadSpec: Sendable {
    var promptsFile: String? = nil
    var promptTokens: (mean: Int, stdev: Int)? = nil
    var outputTokens: Int? = nil
    var samePrompt = false
    var fromLog = false
    /// --trace FILE: requests at the arrival times a trace file gives.
    var tracePath: String? = nil
    /// --from-log or --trace: one replayed level at given arrival times.
    var replays: Bool { fromLog || tracePath != nil }
    var since: Date? = nil
    var logModel: String? = nil
    var timeScale = 1.0
    /// How the prompts' length in tokens was learnt: "tokenize", "estimate"; nil for given text.
    var promptTokensCountedBy: String? = nil
    /// Why /tokenize could not be used (then the length is estimated).
    var tokenizeNote: String? = nil
    /// --output-tokens: "sent" when the first target takes ignore_eos, else why not.
    var ignoreEOS: String? = nil
}

/// Files a bench run writes (`--out`, `--csv`, `--requests-jsonl`) and whether to draw the chart.
struct BenchOutputs: Sendable {
    var json: String? = nil
    var csv: String? = nil
    var requests: String? = nil
    var chart = false
}

extension BenchCommand {
    /// The options of what is sent, the warm-up, early stops, outputs and --compare.
    static func parseWorkload(_ inv: Invocation, into s: inout Settings) throws {
        var w = WorkloadSpec()
        let sources = [inv.value("--prompt") != nil, inv.value("--prompts") != nil, inv.value("--prompt-tokens") != nil,
                       inv.flag("--from-log"), inv.value("--trace") != nil].filter { $0 }.count
        if sources > 1 { throw UsageError(message: "bench: give one of -p, --prompts, --prompt-tokens, --from-log and --trace") }
        w.tracePath = inv.value("--trace")
        w.promptsFile = inv.value("--prompts")
        if let raw = inv.value("--prompt-tokens") {
            let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimming(.whitespaces)) }
            guard (1...2).contains(parts.count), let mean = parts[0], mean >= 1, mean <= 1_000_000,
                  parts.count == 1 || (parts[1] ?? -1) >= 0 else {
                throw UsageError(message: "bench: --prompt-tokens takes N or N,SD (tokens, and their standard deviation), got '\(raw)'")
            }
            w.promptTokens = (mean, parts.count == 2 ? parts[1]! : 0)
        }
        if inv.value("--output-tokens") != nil {
            if inv.value("--max-tokens") != nil { throw UsageError(message: "bench: give --max-tokens K or --output-tokens N, not both") }
            let n = try inv.int("--output-tokens", default: 0)
            guard n >= 1 else { throw UsageError(message: "bench: --output-tokens must be at least 1, got \(n)") }
            w.outputTokens = n
            s.maxTokens = n
        }
        w.samePrompt = inv.flag("--same-prompt")
        w.fromLog = inv.flag("--from-log")
        if !w.fromLog, inv.value("--since") != nil || inv.value("--model") != nil {
            throw UsageError(message: "bench: --since and -m go with --from-log")
        }
        if !w.replays, inv.value("--time-scale") != nil {
            throw UsageError(message: "bench: --time-scale goes with --from-log or --trace")
        }
        if w.replays {
            let what = w.fromLog ? "--from-log replays the logged arrivals" : "--trace replays the trace's arrivals"
            if inv.value("--concurrency") != nil || inv.value("--rate") != nil || inv.value("--sweep") != nil || inv.value("--find-max") != nil {
                throw UsageError(message: "bench: \(what): leave out -c, --rate, --sweep and --find-max")
            }
            if let raw = inv.value("--since") {
                guard let d = LogTime.parseSince(raw) else {
                    throw UsageError(message: "bench: --since takes a duration back from now (30m, 1h, 2d), a date (2026-11-27) or a date and time (2026-11-27T10:00), got '\(raw)'")
                }
                w.since = d
            }
            w.logModel = inv.value("--model")
            if let raw = inv.value("--time-scale") {
                guard let x = Double(raw), x.isFinite, x >= 0 else {
                    throw UsageError(message: "bench: --time-scale takes a factor from 0 (0.5 replays twice as fast), got '\(raw)'")
                }
                w.timeScale = x
            }
            s.concurrencies = []
            // Every logged or traced request unless -n says how many.
            if inv.value("--requests") == nil { s.requests = nil }
        }
        s.workloadSpec = w
        if inv.value("--warmup") != nil {
            let n = try inv.int("--warmup", default: 0)
            guard n >= 0 else { throw UsageError(message: "bench: --warmup cannot be negative, got \(n)") }
            s.warmup = n
        }
        if let raw = inv.value("--max-error-rate") {
            guard let x = Double(raw), x >= 0, x < 1 else {
                throw UsageError(message: "bench: --max-error-rate takes a share from 0 to below 1 (0.1 = 10%), got '\(raw)'")
            }
            s.stop.maxErrorRate = x
        }
        s.stop.saturation = !inv.flag("--no-early-stop")
        s.outputs = BenchOutputs(json: inv.value("--out"), csv: inv.value("--csv"), requests: inv.value("--requests-jsonl"),
                                 chart: inv.flag("--chart"))
        if let raw = inv.value("--compare") {
            guard raw == "last" || (Int64(raw) ?? 0) > 0 else {
                throw UsageError(message: "bench: --compare takes a run id (from `sql SELECT id FROM runs`, or a report's run_id) or last, got '\(raw)'")
            }
            s.baseline = raw
        }
    }

    /// Builds what is sent: reads --prompts and the log, measures synthetic prompts with the
    /// first target's /tokenize, and tells whether ignore_eos can be sent.
    static func buildWorkload(_ s: inout Settings, requester: ModelRequester, ctx: ShellContext) throws {
        var w = s.workloadSpec
        let first = try? requester.wire?().first
        let distinct = !w.samePrompt
        let source: BenchWorkload.Source
        func read(_ path: String, _ option: String) throws -> String {
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw CommandFailure("bench: cannot read \(option) \(path): \(describeFileError(error))")
            }
        }
        // The words a token of `synthetic` is worth, from the first target's /tokenize where it
        // has one (else the estimate stays, and the note says why).
        func calibrate(_ synthetic: inout SyntheticPrompts) {
            w.promptTokensCountedBy = "estimate"
            guard let first else {
                w.tokenizeNote = "no target to ask"
                return
            }
            let (ratio, why) = PromptTokenizer.calibrate(synthetic, target: first, interrupt: ctx.interrupt)
            if let ratio {
                synthetic.wordsPerToken = ratio
                w.promptTokensCountedBy = "tokenize"
            } else {
                w.tokenizeNote = why
            }
        }
        if let path = w.promptsFile {
            source = .file(try PromptFile.parse(try read(path, "--prompts"), path: path))
        } else if let (mean, stdev) = w.promptTokens {
            var synthetic = SyntheticPrompts(meanTokens: mean, stdevTokens: stdev, seed: s.seed)
            calibrate(&synthetic)
            source = .synthetic(synthetic)
        } else if let path = w.tracePath {
            let text = try read(path, "--trace")
            var trace = try TraceFile.read(text, path: path, limit: s.requests, timeScale: w.timeScale)
            if trace.lengthsGiven {
                // Lines that give a length ("input_length"): written once the ratio is measured.
                var synthetic = SyntheticPrompts(meanTokens: 200, stdevTokens: 0, seed: s.seed)
                calibrate(&synthetic)
                trace.writeLengths(synthetic, tag: distinct ? BenchWorkload.newNonce() : nil)
            }
            source = .replay(trace.prompts, offsets: trace.offsets)
        } else if w.fromLog {
            let reader = try SessionLogCommands.openReader(ctx, command: "bench")
            let (prompts, offsets): ([BenchPrompt], [Double])
            do {
                (prompts, offsets) = try LogReplay.load(reader, since: w.since, model: w.logModel, limit: s.requests,
                                                        timeScale: w.timeScale)
            } catch let e as UserFacingError {
                throw e
            } catch {
                throw CommandFailure("bench: session log unavailable: \(reader.path): \(error)")
            }
            guard !prompts.isEmpty else {
                throw CommandFailure("bench: --from-log found no logged chat prompts" + (w.since != nil ? " since \(LogTime.format(w.since!))" : ""))
            }
            source = .replay(prompts, offsets: offsets)
        } else {
            source = .fixed(s.prompt)
        }
        if w.outputTokens != nil {
            if let first {
                w.ignoreEOS = first.honoursIgnoreEOS && first.format == .openAI ? "sent"
                    : "not sent: \(first.providerType.rawValue) has no ignore_eos"
            }
        }
        s.workloadSpec = w
        s.workload = BenchWorkload(source: source, distinct: distinct, maxTokens: s.maxTokens, ignoreEOS: w.outputTokens != nil,
                                   sampling: s.sampling)
    }
}
