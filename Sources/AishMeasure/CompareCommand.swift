import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishTelemetry

/// `compare M1 M2 ... [-n N] [--warmup W] [--parallel] [-p PROMPT | --prompt-file F]
/// [--max-tokens K] [--csv FILE]`.
package enum CompareCommand {
    package static let defaultPrompt = "In two sentences, explain why the sky is blue."
    package static let defaultMaxTokens = 64
    /// What `compare -o` takes.
    package static let optionNames = ["temperature", "top_p", "seed", "max_tokens"]

    package static let spec = CommandSpec(
        name: "compare",
        summary: "stream the same prompt to several models: TTFT, inter-token latency, end-to-end, tokens/s, errors",
        help: """
            Sends the prompt N times (default 5) to each model through the router, streamed, after W
            warm-up requests (default 1) that are not counted. Per model: successes and errors by
            kind, and p50/p90/p99 of time to first token, inter-token latency (mean gap between
            streamed pieces), end-to-end latency and output tokens/s (the tokens after the first,
            over the time since the first arrived); --json adds mean, min and max. A model whose backend reported a cold
            load (Ollama load_duration over 0.5 s, llama.cpp 503 "Loading model") is marked *.
            --parallel runs the models at the same time (wall time about the slowest model's).
            Every request and the summary are written to the session log; --csv FILE writes one
            row per request. `expect ttft_ms < 500ms` tests the slowest model's median.
            Error kinds: connection, timeout, stalled, http NNN, loading, malformed, truncated,
            no api key, cancelled, skipped (the router sent nothing: every target was cooling
            down or unusable), error.
            --server-side adds what Prometheus recorded over the same window (monitoring.prometheus):
            per target, requests, TTFT and end-to-end p50/p90/p99 and output tokens/s, beside
            aish's client-side figures; in --json under server_side.
            As for chat: piped stdin (aish compare …, aish -c '…') is the prompt, or follows -p after a
            blank line; -f FILE attaches a file (- is stdin); -s TEXT is the system prompt and
            -o NAME VALUE an option (temperature, top_p, seed; max_tokens as --max-tokens) of every request.
            """,
        options: [
            OptionSpec(["-n", "--requests"], .wholeNumber("N"), help: "measured requests per model (default 5)"),
            OptionSpec(["--warmup"], .wholeNumber("W"), help: "warm-up requests per model, not counted (default 1)"),
            OptionSpec(["--parallel"], help: "run the models concurrently"),
            OptionSpec(["-p", "--prompt"], .text("PROMPT"), help: "the prompt (default: a short question)", alternatives: "prompt"),
            OptionSpec(["--prompt-file"], .path("FILE"), help: "read the prompt from FILE", alternatives: "prompt"),
            OptionSpec(["-f", "--file"], .path("FILE"), help: "attach the text of FILE, marked with its name (repeatable; - is stdin)",
                       repeatable: true),
            OptionSpec(["-s", "--system"], .text("TEXT"), help: "system prompt of every request"),
            OptionSpec(["-o", "--option"], .text("NAME VALUE"), help: "temperature, top_p, seed or max_tokens of every request (repeatable)",
                       completion: .words(optionNames), repeatable: true, arity: 2),
            OptionSpec(["--max-tokens"], .wholeNumber("K"), help: "max_tokens of each request (default 64)"),
            OptionSpec(["--csv"], .path("FILE"), help: "write one CSV row per request to FILE"),
            OptionSpec(["--server-side"], help: "also show what Prometheus recorded for the same window (monitoring.prometheus)"),
            OptionSpec(["--verbose"], help: "with --server-side: show the PromQL sent", goesWith: "--server-side"),
            OptionSpec(["--cache"], help: "let a LiteLLM gateway answer from its response cache (hits are counted apart, not timed)"),
        ],
        positionals: [
            PositionalSpec(name: "MODEL", help: "model names or aliases, as for chat", variadic: true,
                           completion: .dynamic({ ctx in MetricsRouting.modelNames(ctx) })),
        ],
        report: ReportShape(CompareReport.self),
        run: { inv, ctx in try run(inv, ctx) })

    package static func settings(_ inv: Invocation, environmentPrompt: (String) throws -> String) throws -> CompareRun.Settings {
        let n = try inv.int("--requests", default: 5)
        let warmup = try inv.int("--warmup", default: 1)
        guard n >= 1 else { throw UsageError(message: "compare: -n must be at least 1, got \(n)") }
        guard warmup >= 0 else { throw UsageError(message: "compare: --warmup cannot be negative, got \(warmup)") }
        let maxTokens = try inv.int("--max-tokens", default: defaultMaxTokens)
        guard maxTokens >= 1 else { throw UsageError(message: "compare: --max-tokens must be at least 1, got \(maxTokens)") }
        if inv.value("--prompt") != nil, inv.value("--prompt-file") != nil {
            throw UsageError(message: "compare: give -p PROMPT or --prompt-file FILE, not both")
        }
        var prompt = inv.value("--prompt") ?? defaultPrompt
        if let file = inv.value("--prompt-file") { prompt = try environmentPrompt(file) }
        guard !prompt.trimming(.whitespacesAndNewlines).isEmpty else {
            throw UsageError(message: "compare: the prompt is empty")
        }
        return CompareRun.Settings(models: inv.positionals, requests: n, warmup: warmup, parallel: inv.flag("--parallel"),
                                   prompt: prompt, maxTokens: maxTokens)
    }

    package static func readPrompt(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CommandFailure("compare: cannot read prompt file \(path): \(describeFileError(error))")
        }
    }

    /// `requesters` is given by tests; else each model is routed as `chat` routes it.
    package static func run(_ inv: Invocation, _ ctx: ShellContext, requesters given: [ModelRequester]? = nil) throws -> CommandResult {
        var settings = try settings(inv, environmentPrompt: readPrompt)
        let options = try ChatOptions.from(variables: [:], overrides: inv.values("--option"), command: "compare",
                                           allowed: optionNames)
        if let k = options.maxTokens {
            if inv.value("--max-tokens") != nil { throw UsageError(message: "compare: give --max-tokens K or -o max_tokens K, not both") }
            settings.maxTokens = k
        }
        let system = inv.value("--system")
        let requesters = try given ?? settings.models.map {
            try MetricsRouting.requester(for: $0, kind: "compare", ctx: ctx, system: system, options: options,
                                         useGatewayCache: inv.flag("--cache"))
        }
        // Read last, once the options are known to be good: piped stdin and -f files join the prompt.
        let words = inv.value("--prompt") != nil || inv.value("--prompt-file") != nil ? settings.prompt : ""
        let prompt = try ChatCommands.promptWithInput(words: words, files: inv.values("--file"), ctx: ctx, command: "compare")
        if !prompt.isEmpty { settings.prompt = prompt }
        let terminal = TerminalCheck(ctx)
        let progress = ProgressLine(output: ctx.output, enabled: terminal.stderrIsTerminal)
        let startedAt = Date()
        let (results, wall) = CompareRun(settings: settings, requesters: requesters).run(interrupt: ctx.interrupt) { done, total in
            progress.update("compare: \(done)/\(total) requests…")
        }
        progress.clear()

        for r in results {
            for s in r.samples {
                for record in RequestMeasurement.attemptRecords(s, kind: "compare", prompt: settings.prompt) {
                    ctx.recorder?.recordAttempt(record)
                }
            }
        }
        ctx.recorder?.recordRun(RunRecord(kind: "compare", parameters: CompareReport.parameters(settings),
                                          summary: CompareReport.json(settings, results, wallSeconds: wall),
                                          startedAt: startedAt, durationMs: wall * 1000))
        if let path = inv.value("--csv") {
            do { try OutputFile.write(ctx.output.forFile(CompareReport.csv(results)), to: path, privacy: .keepMode) } catch {
                throw CommandFailure("compare: cannot write \(path): \(error)")
            }
        }
        var serverSide: ServerSideView?
        if inv.flag("--server-side") {
            serverSide = ServerSideView.fetch(try ctx.config(), ctx, runStart: startedAt, runEnd: Date())
        }
        var failure: String?
        if ctx.interrupt.isRaised {
            let done = results.flatMap(\.samples).filter { $0.errorKind != "cancelled" }.count
            let planned = (settings.requests + settings.warmup) * settings.models.count
            failure = "compare: cancelled after \(done) of \(planned) requests"
        } else {
            let failedModels = results.filter { $0.summary.ok == 0 }.map(\.model)
            if !failedModels.isEmpty { failure = "compare: every request failed for \(failedModels.joined(separator: ", "))" }
        }
        return CommandResult(report: CompareReport(settings: settings, results: results, wallSeconds: wall,
                                                   serverSide: serverSide, verbose: inv.flag("--verbose"),
                                                   barChart: terminal.stdoutIsTerminal, failure: failure))
    }
}

/// Where output goes, for the choices that differ on a terminal: bar charts, progress
/// lines and in-place refresh are for people; scripts and pipes get plain lines.
package struct TerminalCheck {
    package var stdoutIsTerminal: Bool
    package var stderrIsTerminal: Bool
    /// A person at a terminal is running commands (not a script or a pipe).
    package var interactive: Bool

    package init(_ ctx: ShellContext) {
        let real = !ctx.output.isCapturing
        stdoutIsTerminal = real && !ctx.options.json && isatty(1) == 1
        stderrIsTerminal = real && isatty(2) == 1
        interactive = ctx.options.interactive && stdoutIsTerminal
    }
}
