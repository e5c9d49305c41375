import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishProviders
import AishRouting
import AishSQLite
import AishSessionLog

/// `replay`: logged prompts sent again, to another model or route, side by side.
package enum ReplayCommands {
    package static let all: [CommandSpec] = [replay]

    package static let replay = CommandSpec(
        name: "replay",
        summary: "send logged prompts (with their system prompt and options) to another model; compare side by side",
        help: """
            Picks logged chat requests that were answered: the attempt IDs given (from `log`), else
            the newest N (default 10) matching --since, -m (requested or backend model) and -q
            (full-text search). Each prompt is sent again with the system prompt and the options
            (temperature, max_tokens, top_p, seed) it was logged with, through the router to
            --to MODEL (any name `chat -m` takes). Side by side per prompt: provider, TTFT,
            latency, tokens, a word-level diff of the replies ([-removed-] {+added+}) and their
            similarity (0 to 1: twice the words in common over all the words of both). A prompt
            whose original model is no longer configured is noted and replayed all the same; a
            prompt the target cannot answer is an error for that prompt, and the rest go on.
            -s TEXT sends TEXT as the system prompt instead of the logged one, -o NAME VALUE an option
            (temperature, max_tokens, top_p, seed, max_reply_bytes) instead of the logged one, as
            `chat` takes them; --no-stream sends each request without streaming.
            The requests are logged (kind replay) and the whole replay as a run. Exit 1 when any
            prompt failed.
            """,
        options: [
            OptionSpec(["--to"], .text("MODEL"), help: "model, alias or capability to send the prompts to",
                       completion: .dynamic(RoutingCommands.configuredNames), required: true),
            OptionSpec(["-n", "--limit"], .wholeNumber("N"), help: "how many prompts (default 10)"),
            OptionSpec(["--since"], .text("T"), help: "only prompts logged since: 1h, 2d, 2026-11-27…"),
            OptionSpec(["-m", "--model"], .text("MODEL"), help: "only prompts for this requested or backend model"),
            OptionSpec(["-q", "--query"], .text("TEXT"), help: "only prompts or replies matching (full-text)"),
            OptionSpec(["-s", "--system"], .text("TEXT"), help: "system prompt instead of the logged one"),
            OptionSpec(["-o", "--option"], .text("NAME VALUE"),
                       help: "temperature, max_tokens, top_p, seed or max_reply_bytes instead of the logged one (repeatable)",
                       completion: .words(ChatOptions.names), repeatable: true, arity: 2),
            OptionSpec(["--no-stream"], help: "send each request without streaming"),
            OptionSpec(["--cache"], help: "let a LiteLLM gateway answer from its response cache (hits are marked, not compared for time)"),
        ],
        positionals: [PositionalSpec(name: "ID", help: "attempt ids from `log`", optional: true, variadic: true)],
        report: ReportShape(ReplayReport.self),
        run: { inv, ctx in try runReplay(inv, ctx) })

    package static func runReplay(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        guard let target = inv.value("--to") else {
            throw UsageError(message: "replay: which model? give --to MODEL", usage: replay.usage)
        }
        let overrides = ReplayOverrides(
            system: inv.value("--system"),
            options: try ChatOptions.from(variables: [:], overrides: inv.values("--option"), command: "replay"),
            stream: !inv.flag("--no-stream"))
        let limit = try inv.int("--limit", default: 10)
        guard limit > 0 else { throw UsageError(message: "replay: -n takes a positive number, got \(limit)", usage: replay.usage) }
        let ids = try inv.positionals.map { word -> Int64 in
            guard let id = Int64(word), id > 0 else {
                throw UsageError(message: "replay: '\(word)' is not an attempt id (a number from `log`)", usage: replay.usage)
            }
            return id
        }
        if !ids.isEmpty, inv.value("--since") != nil || inv.value("--model") != nil || inv.value("--query") != nil {
            throw UsageError(message: "replay: give attempt IDs or filters (--since, -m, -q), not both", usage: replay.usage)
        }
        var since: Date?
        if let raw = inv.value("--since") {
            guard let d = LogTime.parseSince(raw) else {
                throw UsageError(message: "replay: --since takes a duration back from now (30m, 1h, 2d), a date (2026-11-27) or a date and time (2026-11-27T10:00), got '\(raw)'")
            }
            since = d
        }
        let reader = try SessionLogCommands.openReader(ctx, command: "replay")
        var rows: [AttemptRow] = []
        do {
            if ids.isEmpty {
                // Answered chat requests, one per request, newest first; shown oldest first.
                var seen = Set<String>()
                for r in try reader.attempts(AttemptFilter(limit: limit * 20, kind: "chat", model: inv.value("--model"),
                                                           status: "ok", since: since, search: inv.value("--query")))
                where seen.insert(r.requestID).inserted {
                    rows.append(r)
                    if rows.count == limit { break }
                }
                rows.reverse()
            } else {
                for id in ids {
                    guard let r = try reader.attempt(id: id) else { throw CommandFailure("replay: no request attempt with id \(id)") }
                    rows.append(r)
                }
            }
        } catch let e as SQLiteError {
            throw CommandFailure("replay: session log unavailable: \(reader.path): \(e.description)")
        }
        guard !rows.isEmpty else {
            throw CommandFailure("replay: no logged prompts match (answered chat requests" + (since != nil ? " since \(inv.value("--since")!)" : "") + ")")
        }

        let config = try ctx.config()
        let session = ctx.routing
        let router = session.router(for: config)
        let environment = ctx.environment
        let turn = ChatTurn(router: router, state: session.state, environment: environment, interrupt: ctx.interrupt,
                            backend: { ProviderClients.backend(for: $0, environment: environment) })
        let started = Date()
        var results: [ReplayReport.Prompt] = []
        for row in rows {
            if ctx.interrupt.isRaised { break }
            results.append(replayOne(row, to: target, turn: turn, router: router, state: session.state, recorder: ctx.recorder,
                                     overrides: overrides, useGatewayCache: inv.flag("--cache")))
        }
        if ctx.interrupt.isRaised { throw CommandFailure("replay: interrupted after \(results.count) of \(rows.count) prompts") }
        let report = ReplayReport(to: target, results: results)
        ctx.recorder?.recordRun(RunRecord(
            kind: "replay",
            parameters: .object([
                ("to", .string(target)), ("ids", .array(rows.map { .int(Int($0.id)) })),
                ("since", since.map { .string(LogTime.format($0)) } ?? .null),
                ("model", inv.value("--model").map(JSONValue.string) ?? .null),
                ("query", inv.value("--query").map(JSONValue.string) ?? .null),
            ]),
            summary: .object([
                ("prompts", .int(report.prompts)), ("errors", .int(report.errors)),
                ("similarity", report.similarity.map(JSONValue.double) ?? .null), ("slower", .int(report.slower)),
            ]),
            startedAt: started, durationMs: Date().timeIntervalSince(started) * 1000))
        return CommandResult(report: report)
    }

    /// What `replay -s`, `-o` and `--no-stream` change in every request replayed.
    package struct ReplayOverrides {
        package var system: String?

        /// Only the options given with -o are set.
        package var options = ChatOptions()
        package var stream = true
    }

    /// Unless `useGatewayCache`, a LiteLLM gateway is asked neither to answer from its response
    /// cache nor to store the reply (a cached reply would compare Redis with the logged request).
    package static func replayOne(_ row: AttemptRow, to target: String, turn: ChatTurn, router: Router, state: RouterState,
                          recorder: SessionRecorder?, overrides: ReplayOverrides = ReplayOverrides(),
                          useGatewayCache: Bool = false) -> ReplayReport.Prompt {
        var messages: [ChatMessage] = []
        if let s = overrides.system ?? row.systemPrompt, !s.isEmpty { messages.append(ChatMessage(role: "system", content: s)) }
        messages.append(ChatMessage(role: "user", content: row.prompt))
        let options = row.options.flatMap { try? JSONValue.parse($0) }
        let given = overrides.options
        var request = ChatRequest(model: target, messages: messages,
                                  temperature: given.temperature ?? options?["temperature"]?.doubleValue,
                                  maxTokens: given.maxTokens ?? options?["max_tokens"]?.intValue,
                                  topP: given.topP ?? options?["top_p"]?.doubleValue,
                                  seed: given.seed ?? options?["seed"]?.intValue,
                                  maxReplyBytes: given.maxReplyBytes)
        request.stream = overrides.stream
        request.bypassGatewayCache = !useGatewayCache
        var note: String?
        if router.plan(for: row.requestedModel, state: state, advance: false).steps.isEmpty {
            note = "the original model '\(row.requestedModel)' is unknown to the current config"
        }
        let plan = router.plan(for: target, input: RoutingInput(prompt: row.prompt), state: state)
        let outcome = turn.run(plan: plan, request: request, prompt: row.prompt, kind: "replay") { _ in }
        recorder?.recordAttempts(outcome.records)

        let original = ReplayReport.Side(provider: row.provider, backendModel: row.backendModel, ttftMs: row.ttftMs,
                                         latencyMs: row.totalMs, tokens: row.completionTokens, reply: row.reply, error: nil)
        let ok = outcome.status == .ok
        let cacheHit = outcome.gateway?.cacheHit == true
        if cacheHit {
            let hit = "answered from the gateway's response cache (its time is the cache's, not the model's)"
            note = note.map { "\($0); \(hit)" } ?? hit
        }
        let replayed = ReplayReport.Side(
            provider: outcome.provider, backendModel: outcome.backendModel, ttftMs: outcome.ttftMs.map(round3),
            latencyMs: round3(outcome.latencyMs), tokens: outcome.completionTokens, reply: outcome.reply,
            error: ok ? nil : (outcome.error ?? "the request failed"))
        let diff = WordDiff(old: row.reply, new: outcome.reply)
        return ReplayReport.Prompt(
            id: Int(row.id), model: row.requestedModel, prompt: row.prompt, note: note, original: original, replay: replayed,
            similarity: ok ? (diff.similarity * 1000).rounded() / 1000 : nil, diff: ok ? diff.rendered : nil,
            slower: ok && !cacheHit ? (original.latencyMs.map { outcome.latencyMs > $0 } ?? false) : nil)
    }

    private static func round3(_ d: Double) -> Double { (d * 1000).rounded() / 1000 }
}

/// A word-level diff of two replies and how alike they are.
package struct WordDiff {
    package let edits: [TextDiff.Edit]

    package init(old: String, new: String) {
        edits = TextDiff.diff(Self.words(old), Self.words(new))
    }

    package static func words(_ text: String) -> [String] { text.split(whereSeparator: \.isWhitespace).map(String.init) }

    /// 2 × words in common / (words of both); 1 for two empty replies.
    package var similarity: Double {
        var same = 0, total = 0
        for e in edits {
            switch e {
            case .same: same += 1; total += 2
            case .removed, .added: total += 1
            }
        }
        return total == 0 ? 1 : Double(2 * same) / Double(total)
    }

    /// "The [-quick-] {+slow+} fox", runs of changes grouped.
    package var rendered: String {
        var out: [String] = []
        var removed: [String] = [], added: [String] = []
        func flush() {
            if !removed.isEmpty { out.append("[-" + removed.joined(separator: " ") + "-]") }
            if !added.isEmpty { out.append("{+" + added.joined(separator: " ") + "+}") }
            removed = []; added = []
        }
        for e in edits {
            switch e {
            case let .same(w): flush(); out.append(w)
            case let .removed(w): removed.append(w)
            case let .added(w): added.append(w)
            }
        }
        flush()
        return out.joined(separator: " ")
    }
}

/// What `replay` prints, as text or JSON, and what `expect` reads.
package struct ReplayReport: CommandReport {
    package struct Side: Encodable, Sendable, NilEncodesAsNull {
        package var provider: String?
        package var backendModel: String?
        package var ttftMs: Double?
        package var latencyMs: Double?
        package var tokens: Int?
        package var reply: String
        package var error: String?

        package enum CodingKeys: String, CodingKey {
            case provider, backendModel = "backend_model", ttftMs = "ttft_ms", latencyMs = "latency_ms", tokens, reply, error
        }
    }

    package struct Prompt: Encodable, Sendable, NilEncodesAsNull {
        package var id: Int
        package var model: String
        package var prompt: String
        package var note: String?
        package var original: Side
        package var replay: Side
        package var similarity: Double?
        package var diff: String?
        package var slower: Bool?

        package enum CodingKeys: String, CodingKey { case id, model, prompt, note, original, replay, similarity, diff, slower }
    }

    package var to: String
    package var results: [Prompt]

    package var prompts: Int { results.count }
    package var errors: Int { results.filter { $0.replay.error != nil }.count }
    package var slower: Int { results.filter { $0.slower == true }.count }
    /// The mean over the prompts that were answered.
    package var similarity: Double? {
        let s = results.compactMap(\.similarity)
        return s.isEmpty ? nil : (s.reduce(0, +) / Double(s.count) * 1000).rounded() / 1000
    }

    package enum CodingKeys: String, CodingKey { case to, prompts, errors, similarity, slower, results }
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(to, forKey: .to)
        try c.encode(prompts, forKey: .prompts)
        try c.encode(errors, forKey: .errors)
        try c.encode(similarity, forKey: .similarity)
        try c.encode(slower, forKey: .slower)
        try c.encode(results, forKey: .results)
    }

    package static let fields = [
        ReportField("to", "the model the prompts were sent to"),
        ReportField("prompts", "prompts replayed"),
        ReportField("errors", "prompts the target did not answer"),
        ReportField("similarity", "mean word similarity of replay and logged reply, 0 to 1 (null when none answered)"),
        ReportField("slower", "prompts whose replay took longer end to end than the logged request"),
        ReportField("results", "per prompt: id, model, prompt, note, original and replay (provider, backend_model, ttft_ms, latency_ms, tokens, reply, error), similarity, diff, slower"),
    ]

    package static let example = ReplayReport(to: "smollm2-native", results: [
        Prompt(id: 12, model: "smollm2-python", prompt: "Say hi.", note: nil,
               original: Side(provider: "llama_cpp_python", backendModel: "smollm2-135m", ttftMs: 30, latencyMs: 200, tokens: 3,
                              reply: "Hi there!", error: nil),
               replay: Side(provider: "llama_cpp_native", backendModel: "smollm2-135m", ttftMs: 25, latencyMs: 180, tokens: 3,
                            reply: "Hi there.", error: nil),
               similarity: 0.5, diff: "Hi [-there!-] {+there.+}", slower: false),
    ])

    package func renderText() -> String {
        var out = ""
        for p in results {
            out += "#\(p.id) \(p.model) → \(to): \(LogFormat.preview(p.prompt, limit: 70))\n"
            if let note = p.note { out += "  note: \(note)\n" }
            var t = TextTable(headers: ["", "PROVIDER", "TTFT", "LATENCY", "TOKENS"])
            for (label, s) in [("logged", p.original), ("replay", p.replay)] {
                t.add([label, s.provider.map { "\($0) · \(s.backendModel ?? "-")" } ?? "-", DurationText.milliseconds(s.ttftMs),
                       DurationText.milliseconds(s.latencyMs), s.tokens.map(String.init) ?? "-"])
            }
            out += t.rendered.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
            if let e = p.replay.error {
                out += "  error: \(e)\n"
            } else {
                out += "  similarity \(cFormat("%.2f", p.similarity ?? 0))" + (p.slower == true ? " · slower" : "") + "\n"
                out += "  diff: \(p.diff ?? "")\n"
            }
            out += "\n"
        }
        out += "\(prompts) prompt\(prompts == 1 ? "" : "s") replayed to \(to): similarity "
            + (similarity.map { cFormat("%.2f", $0) } ?? "-") + ", \(slower) slower, \(errors) error\(errors == 1 ? "" : "s")"
        return out
    }

    package var failureMessage: String? {
        errors == 0 ? nil : "replay: \(errors) of \(prompts) prompt\(prompts == 1 ? "" : "s") not answered by \(to)"
    }
}
