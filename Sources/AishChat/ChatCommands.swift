import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishProviders
import AishRouting

package enum ChatCommands {
    package static let all: [CommandSpec] = [chat, use, system, reset]

    package static let chat = CommandSpec(
        name: "chat",
        summary: "send a prompt through the router and stream the reply; keeps the conversation",
        help: """
            The prompt is the words after the options, or a heredoc for several lines:
                chat <<EOF
                Review this function:
                ...
                EOF
            When aish runs the command from its own arguments (aish chat …, aish -c '…') and stdin
            is a pipe or a file, the first chat takes stdin as its prompt, or after its words and a
            blank line (cat error.log | aish chat "what failed?"). -f FILE attaches a file's text,
            between "--- FILE ---" and "--- end of FILE ---" lines (-f - is stdin). At most 1 MiB
            of text from stdin and files, UTF-8 only: a binary or larger input is refused (exit 2)
            and nothing is sent. The log keeps the prompt as sent.

            The reply streams as it arrives. The request follows the plan `route MODEL` shows:
            when a target fails before the first token (down, HTTP error, 429, no first token in
            time) the next one is tried without a word; once text has been shown a failure ends
            the reply, which is kept. Ctrl-C stops the reply and keeps what arrived.
            --no-stream sends one request without streaming and prints the reply when complete
            (ttft is then null). -x prints only the first fenced code block of the reply (all of it
            when it has none); the whole reply is still logged and in the result.

            MODEL is -m (this turn only), else the one chosen with `use`, else $model, else
            $AISH_MODEL, else the 'chat' capability when configured, else the first exact match.
            Options come from variables: set temperature 0.7, set max_tokens 256, set top_p 0.9,
            set seed 42 (unset NAME to drop one), or for this turn only from -o NAME VALUE.
            `system TEXT` sets a system prompt, -s TEXT one for this turn only; `reset` starts a
            new conversation.

            After the reply a status line (on stderr; not with -q): provider · backend model · TTFT
            · total time · tokens · tokens/s, and "(fallback from X: reason)" when another target
            answered; "via gateway → DEPLOYMENT" when a LiteLLM gateway answered (the provider
            whose base URL is the deployment's api_base, from its x-litellm-* headers). With -q,
            stdout gets the reply alone (no newline added when it is not a terminal).
            `expect contains` and `expect matches` test the reply.
            """,
        options: [
            OptionSpec(["-m", "--model"], .text("MODEL"), help: "model, alias or capability for this turn",
                       completion: .dynamic(RoutingCommands.configuredNames)),
            OptionSpec(["-s", "--system"], .text("TEXT"),
                       help: "system prompt for this turn (instead of the conversation's)"),
            OptionSpec(["-o", "--option"], .text("NAME VALUE"),
                       help: "temperature, max_tokens, top_p, seed or max_reply_bytes for this turn (repeatable)",
                       completion: .words(ChatOptions.names), repeatable: true, arity: 2),
            OptionSpec(["-f", "--file"], .path("FILE"),
                       help: "attach the text of FILE, marked with its name (repeatable; - is stdin)",
                       repeatable: true),
            OptionSpec(["--no-stream"], help: "one request without streaming; the reply printed when complete"),
            OptionSpec(["-x", "--extract"], help: "print only the first fenced code block of the reply (the whole reply is logged)"),
            OptionSpec(["--raw"], help: "write the reply's control characters as they are, also at a terminal (secrets stay masked)"),
        ],
        positionals: [PositionalSpec(name: "PROMPT", help: "the prompt (or a heredoc)", optional: true, variadic: true)],
        report: ReportShape(ChatReport.self),
        run: { inv, ctx in try runChat(inv, ctx) })

    package static let use = CommandSpec(
        name: "use",
        summary: "choose the model the conversation talks to (shows it without MODEL)",
        help: """
            Later `chat` commands go to MODEL unless they name one with -m. The conversation's history is kept.
            Without MODEL: the fields model and chosen_by (use or default).
            """,
        positionals: [PositionalSpec(name: "MODEL", optional: true, completion: .dynamic(RoutingCommands.configuredNames))],
        report: ReportShape(UseReport.self),
        otherReports: [ReportShape(ConversationModelReport.self, mode: "use without a model")],
        run: { inv, ctx in
            let conversation = ctx.conversation
            guard let model = inv.positionals.first else {
                let current = conversation.model ?? defaultModel(ctx)
                return CommandResult(report: ConversationModelReport(
                    model: current, chosenBy: current == nil ? nil : (conversation.model != nil ? "use" : "default")))
            }
            let config = try ctx.config()
            let router = ctx.routing.router(for: config)
            let plan = router.plan(for: model, state: ctx.routing.state, advance: false)
            conversation.model = model
            let first = plan.usableSteps.first
            return CommandResult(report: UseReport(model: model, rule: plan.rule.rawValue, ruleDescription: plan.ruleDescription,
                                                   provider: first?.provider, backendModel: first?.backendModel))
        })

    package static let system = CommandSpec(
        name: "system",
        summary: "set the conversation's system prompt (shows it without TEXT)",
        help: "TEXT may be a heredoc. The system prompt is sent first with every request of the conversation and survives `reset`.",
        options: [OptionSpec(["--clear"], help: "remove the system prompt", alone: true)],
        positionals: [PositionalSpec(name: "TEXT", optional: true, variadic: true)],
        report: ReportShape(SystemPromptReport.self),
        run: { inv, ctx in
            let conversation = ctx.conversation
            if inv.flag("--clear") {
                conversation.system = nil
                return CommandResult(report: SystemPromptReport(system: nil, action: .cleared))
            }
            let text = promptText(inv.positionals)
            guard !text.isEmpty else {
                return CommandResult(report: SystemPromptReport(system: conversation.system, action: .shown))
            }
            conversation.system = text
            return CommandResult(report: SystemPromptReport(system: text, action: .set))
        })

    package static let reset = CommandSpec(
        name: "reset",
        summary: "start a new conversation (the model and the system prompt stay)",
        report: ReportShape(ResetReport.self),
        run: { _, ctx in
            let conversation = ctx.conversation
            let turns = conversation.turns.count / 2
            conversation.reset()
            return CommandResult(report: ResetReport(conversation: conversation.id, turnsDropped: turns))
        })

    // MARK: -

    /// Positionals joined by spaces; a heredoc body arrives as the last word.
    package static func promptText(_ words: [String]) -> String {
        words.joined(separator: " ").trimming(.whitespacesAndNewlines)
    }

    package static func defaultModel(_ ctx: ShellContext) -> String? {
        if let m = ctx.conversation.model { return m }
        if let m = ctx.variables["model"], !m.isEmpty { return m }
        if let m = ctx.environment["AISH_MODEL"], !m.isEmpty { return m }
        guard let config = try? ctx.config() else { return nil }
        let names = ctx.routing.router(for: config).configuredNames
        return names.contains("chat") ? "chat" : names.first
    }

    /// The prompt as sent: the words, then what stdin and `files` (`-f`, `-` for stdin) add.
    /// Everything is read and checked here, before a request is made.
    package static func promptWithInput(words: String, files: [String], ctx: ShellContext, command: String = "chat") throws -> String {
        let stdin = ctx.standardInputText
        var budget = PromptInput.maxBytes
        var piped: String?
        if !files.contains("-"),
           let text = try stdin.takeForFirstPrompt(budget: budget, command: command, interrupt: ctx.interrupt) {
            piped = text
            budget -= text.utf8.count
        }
        var parts: [PromptInput.Part] = []
        for file in files {
            let text = file == "-" ? try stdin.text(budget: budget, command: command, interrupt: ctx.interrupt)
                : try PromptInput.readFile(file, budget: budget, command: command)
            budget -= text.utf8.count
            parts.append(PromptInput.Part(name: file == "-" ? "stdin" : file, text: text))
        }
        return PromptInput.assemble(words: words, stdin: piped, files: parts)
    }

    package static func runChat(_ inv: Invocation, _ ctx: ShellContext) throws -> CommandResult {
        // Options first: a bad one is reported before stdin or a file is read.
        let options = try ChatOptions.from(variables: ctx.variables, overrides: inv.values("--option"))
        let config = try ctx.config()
        let session = ctx.routing
        let router = session.router(for: config)
        guard let model = inv.value("--model") ?? defaultModel(ctx) else {
            throw UsageError(message: "chat: no model: give -m MODEL, or choose one with: use MODEL")
        }
        let prompt = try promptWithInput(words: promptText(inv.positionals), files: inv.values("--file"), ctx: ctx)
        guard !prompt.isEmpty else {
            throw UsageError(message: "chat: no prompt. Give one as words (chat Why is the sky blue?) or, for several lines, as a heredoc: chat <<EOF … EOF")
        }
        let systemForTurn = inv.value("--system")
        let conversation = ctx.conversation
        let messages = conversation.messages(adding: prompt, systemForTurn: systemForTurn)
        let contextTokens = messages.reduce(0) { $0 + RoutingInput.estimateTokens($1.content) }
        let plan = router.plan(for: model, input: RoutingInput(promptTokens: RoutingInput.estimateTokens(prompt),
                                                                contextTokens: contextTokens),
                               state: session.state)
        var request = ChatRequest(model: model, messages: messages, temperature: options.temperature,
                                  maxTokens: options.maxTokens, topP: options.topP, seed: options.seed,
                                  maxReplyBytes: options.maxReplyBytes)
        request.stream = !inv.flag("--no-stream")
        let extract = inv.flag("--extract")
        // The reply (or its code) goes to stdout unless the result is printed as JSON; with -x
        // it is printed once complete.
        let showsText = !ctx.options.json && !inv.flag("--json")
        let printsAsItArrives = showsText && !extract
        let environment = ctx.environment
        let turn = ChatTurn(router: router, state: session.state, environment: environment, interrupt: ctx.interrupt,
                            backend: { ProviderClients.backend(for: $0, environment: environment) })
        let output = ctx.output
        let raw = inv.flag("--raw")
        let stream = output.stream(raw: raw)
        var endsInNewline = true
        let outcome = turn.run(plan: plan, request: request, prompt: prompt) { piece in
            guard printsAsItArrives else { return }
            stream.write(piece)
            endsInNewline = piece.utf8.last == UInt8(ascii: "\n")
        }
        stream.finish()

        let code = extract ? FencedCode.first(in: outcome.reply) : nil
        if showsText {
            if extract, !outcome.reply.isEmpty {
                let text = code ?? outcome.reply
                let whole = output.stream(raw: raw)
                whole.write(text)
                whole.finish()
                endsInNewline = text.utf8.last == UInt8(ascii: "\n")
            }
            // Under -q stdout is the reply byte for byte, unless it is a terminal (the next prompt).
            let addsNewline = !ctx.options.quiet || (!output.isCapturing && isatty(1) == 1)
            if !endsInNewline, addsNewline { output.write("\n") }
            if extract, code == nil, !outcome.reply.isEmpty, !ctx.options.quiet {
                output.writeError("chat -x: the reply has no fenced code block; all of it was printed\n")
            }
            if !ctx.options.quiet, outcome.provider != nil {
                let line = statusLine(outcome)
                output.writeError((ctx.options.color ? TerminalText.styled(line, "2") : TerminalText(line)) + "\n")
            }
        }

        // The log and the history get the turn only now, after the stream.
        if !outcome.reply.isEmpty || outcome.status == .ok {
            conversation.append(user: prompt, assistant: outcome.reply)
        }
        if let recorder = ctx.recorder {
            for r in outcome.records { recorder.recordAttempt(r) }
            let now = Date()
            // A system message is logged where the system prompt sent changes (the first turn, -s).
            if let s = systemForTurn ?? conversation.system, !s.isEmpty, s != conversation.loggedSystem {
                recorder.recordMessage(MessageRecord(conversationID: conversation.id, role: "system", content: s, model: nil, createdAt: now))
                conversation.loggedSystem = s
            }
            recorder.recordMessage(MessageRecord(conversationID: conversation.id, role: "user", content: prompt, model: model, createdAt: now))
            if !outcome.reply.isEmpty || outcome.status == .ok {
                recorder.recordMessage(MessageRecord(conversationID: conversation.id, role: "assistant", content: outcome.reply,
                                                     model: outcome.backendModel, createdAt: now))
            }
        }

        var report = ChatReport(outcome, model: model, rule: plan.rule, streamed: showsText)
        report.code = code
        return CommandResult(report: report)
    }

    /// "via gateway → llama_cpp_native", with the gateway's own fallbacks and retries.
    /// A reply from the gateway's response cache ends in "cache hit": no backend ran.
    package static func gatewayNote(_ g: GatewayInfo) -> String? {
        guard let d = g.deployment else { return g.cacheHit ? "via gateway · cache hit" : nil }
        var note = "via gateway → \(d)"
        var extra: [String] = []
        if let n = g.attemptedFallbacks, n > 0 { extra.append("\(n) gateway fallback\(n == 1 ? "" : "s")") }
        if let n = g.attemptedRetries, n > 0 { extra.append("\(n) gateway retr\(n == 1 ? "y" : "ies")") }
        if !extra.isEmpty { note += " (" + extra.joined(separator: ", ") + ")" }
        if g.cacheHit { note += " · cache hit" }
        return note
    }

    /// "ollama · llama3.1:latest · TTFT 212ms · 1.43s · 57 tokens · 46.8 tok/s (fallback from vllm-qwen: HTTP 500)"
    package static func statusLine(_ o: ChatTurn.Outcome) -> String {
        var parts = [o.provider ?? "-", o.backendModel ?? "-"]
        if let t = o.ttftMs { parts.append("TTFT " + DurationText.milliseconds(t)) }
        parts.append(DurationText.milliseconds(o.latencyMs))
        if let n = o.completionTokens {
            parts.append((o.tokensReported ? "" : "~") + "\(n) token" + (n == 1 ? "" : "s"))
        }
        if let r = o.tokensPerSecond { parts.append(cFormat("%.1f tok/s", r)) }
        if let g = o.gateway, let note = gatewayNote(g) { parts.append(note) }
        var line = parts.joined(separator: " · ")
        switch o.status {
        case .partial: line += " · broke off"
        case .cancelled: line += " · cancelled"
        default: break
        }
        if o.replyTruncated { line += " · \(o.replyBytes) bytes, truncated in memory and the log (max_reply_bytes)" }
        if let f = o.fallbackFrom, o.provider != nil {
            line += " (fallback from \(f.provider): \(f.reason))"
        }
        return line
    }
}
