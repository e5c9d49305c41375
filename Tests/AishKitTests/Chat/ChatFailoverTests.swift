import Foundation
import Synchronization
import Testing
@testable import AishBase
@testable import AishProviders

/// Failover between two real fake providers (Tests/FakeProvider/fake_provider.py): the
/// primary speaks OpenAI SSE, the backup Ollama NDJSON.
@Suite(.serialized) struct ChatFailoverTests {
    static func bench(primaryURL: String, primaryExtra: String = "", backup: FakeProviderProcess,
                      json: Bool = false) throws -> ChatBench {
        try ChatBench(providers: [("primary", "vllm", primaryURL, primaryExtra), ("backup", "ollama", backup.baseURL, "")],
                      mappings: ChatBench.twoProviderMappings, json: json)
    }

    @Test func aProviderThatIsDownFailsOverBeforeTheFirstToken() throws {
        let backup = try FakeProviderProcess(["--reply", "from the backup"])
        defer { backup.stop() }
        let b = try Self.bench(primaryURL: "http://127.0.0.1:\(FakeProviderProcess.unusedPort())", backup: backup)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "hello"])
        #expect(r.status == .ok)
        #expect(r.reply == "from the backup")
        #expect(b.ctx.output.capturedText.hasPrefix("from the backup\n"))
        #expect(r.string("provider") == "backup")
        #expect(r.string("backend_model") == "backup-model")
        #expect(r.field("fallback") == .bool(true))
        #expect(r.string("fallback_from") == "primary")
        #expect(r.string("fallback_reason") == "connection failed")
        #expect(r.int("attempts") == 2)
        #expect(b.ctx.output.capturedText.contains(" (fallback from primary: connection failed)\n"))
        let rows = try b.attempts()
        #expect(rows.map(\.status) == ["error", "ok"])
        #expect(rows.map(\.provider) == ["primary", "backup"])
        #expect(rows.map(\.attempt) == [1, 2])
        #expect(rows[0].requestID == rows[1].requestID)
        #expect(rows[1].reply == "from the backup")
        #expect(rows[1].routeReason.hasPrefix("exact match 'm': fallback provider of 'm'; backup does not list 'm', so its first model backup-model ("))
    }

    @Test func aServerErrorFailsOverAndIsRecordedWithItsStatus() throws {
        let primary = try FakeProviderProcess(["--fail-all", "500"])
        let backup = try FakeProviderProcess(["--reply", "backup here"])
        defer { primary.stop(); backup.stop() }
        let b = try Self.bench(primaryURL: primary.baseURL, backup: backup)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "hi"])
        #expect(r.reply == "backup here")
        #expect(r.string("fallback_reason") == "HTTP 500")
        let rows = try b.attempts()
        #expect(rows[0].status == "error")
        #expect(rows[0].httpStatus == 500)
        #expect(rows[0].backendModel == "primary-model")
    }

    @Test func noFirstTokenInTimeFailsOver() throws {
        let primary = try FakeProviderProcess(["--fault", "slow-first=5"])
        let backup = try FakeProviderProcess(["--reply", "quick"])
        defer { primary.stop(); backup.stop() }
        let b = try Self.bench(primaryURL: primary.baseURL, primaryExtra: "timeouts:\n  first_token: 0.5", backup: backup)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "hi"])
        #expect(r.reply == "quick")
        #expect(r.string("fallback_reason") == "no first token in time")
        #expect(try b.attempts().map(\.status) == ["timeout", "ok"])
    }

    @Test func a429CoolsTheProviderDownForItsRetryAfter() throws {
        let primary = try FakeProviderProcess(["--fault", "429:retry=30"])
        let backup = try FakeProviderProcess(["--reply", "ok"])
        defer { primary.stop(); backup.stop() }
        let b = try Self.bench(primaryURL: primary.baseURL, backup: backup)
        defer { b.cleanUp() }
        let first = try b.run(["chat", "-m", "m", "one"])
        #expect(first.string("fallback_reason") == "HTTP 429, retry after 30s")
        // The second request does not knock on the cooled-down provider again.
        let second = try b.run(["chat", "-m", "m", "two"])
        #expect(second.string("provider") == "backup")
        #expect(second.int("attempts") == 1)
        #expect(second.string("fallback_reason")?.hasPrefix("cooled down until ") == true)
        #expect(try primary.receivedRequests().filter { $0["path"]?.stringValue == "/v1/chat/completions" }.count == 1)
        let rows = try b.attempts()
        #expect(rows.map(\.status) == ["error", "ok", "skipped", "ok"])
        #expect(rows[0].httpStatus == 429)
        #expect(rows[2].error?.hasSuffix("(answered 429, Retry-After 30s)") == true)
        let route = try b.run(["route", "m"])
        #expect(route.text.contains("      skipped: cooled down until "))
        #expect(route.string("provider") == "backup")
    }

    @Test func threeFailuresInARowCoolDownTheProvider() throws {
        let primary = try FakeProviderProcess(["--fail-all", "503"])
        let backup = try FakeProviderProcess(["--reply", "ok"])
        defer { primary.stop(); backup.stop() }
        let b = try Self.bench(primaryURL: primary.baseURL, backup: backup)
        defer { b.cleanUp() }
        for i in 0..<4 { try b.run(["chat", "-m", "m", "turn \(i)"]) }
        let calls = try primary.receivedRequests().filter { $0["path"]?.stringValue == "/v1/chat/completions" }
        #expect(calls.count == 3)
        #expect(try b.attempts().suffix(2).map(\.status) == ["skipped", "ok"])
    }

    @Test func everyTargetFailingIsAnErrorListingThem() throws {
        let primary = try FakeProviderProcess(["--fail-all", "500"])
        let backup = try FakeProviderProcess(["--fail-all", "502"])
        defer { primary.stop(); backup.stop() }
        let b = try Self.bench(primaryURL: primary.baseURL, backup: backup)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "hi"])
        #expect(r.status == .error)
        #expect(r.string("outcome") == "failed")
        let error = try #require(r.error)
        #expect(error.hasPrefix("'m' failed on every target (2 tried or skipped):\n  primary: POST http://127.0.0.1:\(primary.port)/v1/chat/completions"))
        #expect(error.contains("\n  backup: POST http://127.0.0.1:\(backup.port)/api/chat"))
        #expect(b.ctx.output.capturedText.isEmpty)
        #expect(try b.messages().map(\.role) == ["user"])
    }

    @Test func aFailureAfterTheFirstTokenKeepsThePartialReply() throws {
        let primary = try FakeProviderProcess(["--reply", "one two three four five", "--fault", "truncate=2"])
        let backup = try FakeProviderProcess(["--reply", "never"])
        defer { primary.stop(); backup.stop() }
        let b = try Self.bench(primaryURL: primary.baseURL, backup: backup)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "count"])
        #expect(r.status == .error)
        #expect(r.string("outcome") == "partial")
        #expect(r.reply == "one two")
        #expect(r.field("fallback") == .bool(false))
        #expect(r.error?.hasPrefix("the reply from primary broke off after 2 chunks: ") == true)
        #expect(b.ctx.output.capturedText.hasPrefix("one two\n"))
        #expect(try b.attempts().map(\.status) == ["partial"])
        #expect(try b.attempts()[0].reply == "one two")
        #expect(try backup.receivedRequests().filter { $0["path"]?.stringValue == "/api/chat" }.isEmpty)
        // The partial reply stays in the conversation.
        #expect(b.ctx.conversation.turns.last == ChatMessage(role: "assistant", content: "one two"))
    }
}

@Suite(.serialized) struct ChatStreamingTests {
    @Test func multibyteCharactersSplitAcrossReadsArriveWholeAndInOrder() throws {
        let fake = try FakeProviderProcess(["--fault", "split-utf8"])
        defer { fake.stop() }
        for type in ["vllm", "ollama"] {
            let b = try ChatBench(providers: [("p", type, fake.baseURL, "")],
                                  mappings: "exact_matches:\n  m:\n    provider: p\n")
            defer { b.cleanUp() }
            let r = try b.run(["chat", "-m", "m", "hi"])
            #expect(r.reply == "héllo wörld 😀 ok", "\(type)")
            #expect(b.ctx.output.capturedText.hasPrefix("héllo wörld 😀 ok\n"), "\(type)")
        }
    }

    @Test func tokensAreWrittenAsTheyArrive() throws {
        // Each token 150 ms apart: the output must grow while the request is still running.
        let fake = try FakeProviderProcess(["--reply", "a b c d e f", "--token-delay", "0.15"])
        defer { fake.stop() }
        let b = try ChatBench(providers: [("p", "vllm", fake.baseURL, "")], mappings: "exact_matches:\n  m:\n    provider: p\n")
        defer { b.cleanUp() }
        let seen = Mutex<[String]>([])
        let output = b.ctx.output
        let watcher = Thread {
            for _ in 0..<40 {
                let text = output.capturedText
                seen.withLock { if $0.last != text { $0.append(text) } }
                Thread.sleep(forTimeInterval: 0.03)
            }
        }
        watcher.start()
        let r = try b.run(["chat", "-m", "m", "go"])
        Thread.sleep(forTimeInterval: 0.1)
        #expect(r.reply == "a b c d e f")
        let snapshots = seen.withLock { $0 }
        // Partial replies were visible, each a prefix of the next.
        #expect(snapshots.filter { !$0.isEmpty && !$0.hasPrefix("a b c d e f") }.count >= 3)
        for (a, c) in zip(snapshots, snapshots.dropFirst()) { #expect(c.hasPrefix(a)) }
    }

    @Test func ctrlCStopsTheReplyAndKeepsWhatArrived() throws {
        let fake = try FakeProviderProcess(["--reply", "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10", "--token-delay", "0.2"])
        defer { fake.stop() }
        let b = try ChatBench(providers: [("p", "vllm", fake.baseURL, "")], mappings: "exact_matches:\n  m:\n    provider: p\n")
        defer { b.cleanUp() }
        let interrupt = b.ctx.interrupt
        let output = b.ctx.output
        let raiser = Thread {
            while !output.capturedText.contains("w2") { Thread.sleep(forTimeInterval: 0.01) }
            interrupt.raise()
        }
        raiser.start()
        let r = try b.run(["chat", "-m", "m", "go"])
        #expect(r.status == .error)
        #expect(r.string("outcome") == "cancelled")
        #expect(r.reply?.hasPrefix("w1 w2") == true)
        #expect(r.reply != "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10")
        #expect(r.error == "reply cancelled (Ctrl-C); the partial reply is kept")
        let rows = try b.attempts()
        #expect(rows.map(\.status) == ["cancelled"])
        #expect(rows[0].reply == r.reply)
    }
}

@Suite(.serialized) struct ChatConversationTests {
    static func bench(_ fake: FakeProviderProcess, json: Bool = false) throws -> ChatBench {
        try ChatBench(providers: [("p", "vllm", fake.baseURL, "")],
                      mappings: "exact_matches:\n  m:\n    provider: p\n  other:\n    provider: p\n", json: json)
    }

    @Test func historySystemPromptAndOptionsGoWithEveryRequest() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        try b.run(["use", "m"])
        try b.run(["system", "Be brief."])
        b.ctx.variables["temperature"] = "0.2"
        b.ctx.variables["max_tokens"] = "50"
        b.ctx.variables["seed"] = "7"
        let first = try b.run(["chat", "first", "question"])
        #expect(first.reply == "first question")
        #expect(first.string("model") == "m")
        try b.run(["chat", "second"])
        let bodies = try fake.receivedRequests().compactMap { $0["body"] }
        #expect(bodies.count == 2)
        let messages = try #require(bodies[1]["messages"])
        #expect(messages == .array([
            .object([("role", "system"), ("content", "Be brief.")]),
            .object([("role", "user"), ("content", "first question")]),
            .object([("role", "assistant"), ("content", "first question")]),
            .object([("role", "user"), ("content", "second")]),
        ]))
        #expect(bodies[1]["temperature"] == .double(0.2))
        #expect(bodies[1]["max_tokens"] == .int(50))
        #expect(bodies[1]["seed"] == .int(7))
        #expect(bodies[1]["top_p"] == nil)
        #expect(try b.messages().map(\.role) == ["system", "user", "assistant", "user", "assistant"])

        try b.run(["reset"])
        try b.run(["chat", "-m", "other", "fresh"])
        let third = try fake.receivedRequests().compactMap { $0["body"] }[2]
        #expect(third["messages"]?[1]?["content"] == .string("fresh"))
        #expect(third["messages"]?[2] == nil)
    }

    @Test func heredocPromptsKeepTheirLines() throws {
        let fake = try FakeProviderProcess(["--echo"])
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "Summarise:", "line one\nline two\n"])
        #expect(r.reply == "Summarise: line one\nline two")
    }

    @Test func resultFieldsForExpect() throws {
        let fake = try FakeProviderProcess(["--reply", "one two three"])
        defer { fake.stop() }
        let b = try Self.bench(fake, json: true)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "m", "hi"])
        #expect(r.alreadyPrinted == false)
        #expect(b.ctx.output.capturedText.isEmpty)   // under --json nothing streams; the runner prints the JSON
        #expect(r.field("ttft_ms")?.doubleValue.map { $0 > 0 } == true)
        #expect(r.field("latency_ms")?.doubleValue.map { $0 >= r.field("ttft_ms")!.doubleValue! } == true)
        #expect(r.int("tokens") == 3)
        #expect(r.int("prompt_tokens") != nil)
        #expect(r.string("outcome") == "ok")
        #expect(r.field("fallback") == .bool(false))
        #expect(r.jsonForm["reply"] == .string("one two three"))
    }

    @Test func badOptionsAndMissingPromptsSaySo() throws {
        let fake = try FakeProviderProcess()
        defer { fake.stop() }
        let b = try Self.bench(fake)
        defer { b.cleanUp() }
        b.ctx.variables["temperature"] = "hot"
        #expect(throws: UsageError.self) { try b.run(["chat", "-m", "m", "hi"]) }
        do { try b.run(["chat", "-m", "m", "hi"]) } catch let e as UsageError {
            #expect(e.message == "chat: temperature must be a number from 0 to 2, got 'hot' (change it with: set temperature VALUE)")
        }
        b.ctx.variables["temperature"] = nil
        do { try b.run(["chat"]) } catch let e as UsageError {
            #expect(e.message == "chat: no prompt. Give one as words (chat Why is the sky blue?) or, for several lines, as a heredoc: chat <<EOF … EOF")
        }
        #expect(try fake.receivedRequests().isEmpty)
    }
}

@Suite(.serialized) struct ChatRateLimitTests {
    @Test func aRouteAtItsRPMGoesToTheFallbackAndRouteSaysWhy() throws {
        let primary = try FakeProviderProcess(["--reply", "primary"])
        let backup = try FakeProviderProcess(["--reply", "backup"])
        defer { primary.stop(); backup.stop() }
        let mappings = """
            exact_matches:
              m:
                provider: primary
                fallback: backup
                rate_limit:
                  rpm: 2

            """
        let b = try ChatBench(providers: [("primary", "vllm", primary.baseURL, ""), ("backup", "ollama", backup.baseURL, "")],
                              mappings: mappings)
        defer { b.cleanUp() }
        #expect(try b.run(["chat", "-m", "m", "1"]).reply == "primary")
        #expect(try b.run(["chat", "-m", "m", "2"]).reply == "primary")
        // The limit is about m on its own provider: the third request goes to the fallback.
        let third = try b.run(["chat", "-m", "m", "3"])
        #expect(third.reply == "backup")
        #expect(third.string("fallback_reason")?.hasPrefix("rate limited until ") == true)
        let route = try b.run(["route", "m"])
        #expect(route.text.contains("skipped: rate limited until "))
        #expect(route.text.contains("(route 'm' is at its limit of 2 requests per minute)"))
        #expect(route.string("provider") == "backup")
    }

    @Test func aProviderAtItsRPMIsSkippedForTheNextTarget() throws {
        let primary = try FakeProviderProcess(["--reply", "primary"])
        let backup = try FakeProviderProcess(["--reply", "backup"])
        defer { primary.stop(); backup.stop() }
        let b = try ChatBench(providers: [("primary", "vllm", primary.baseURL, "rate_limits:\n  requests_per_minute: 1"),
                                          ("backup", "ollama", backup.baseURL, "")],
                              mappings: ChatBench.twoProviderMappings)
        defer { b.cleanUp() }
        #expect(try b.run(["chat", "-m", "m", "1"]).reply == "primary")
        let second = try b.run(["chat", "-m", "m", "2"])
        #expect(second.reply == "backup")
        #expect(second.string("fallback_reason")?.hasPrefix("rate limited until ") == true)
        #expect(try b.attempts().map(\.status) == ["ok", "skipped", "ok"])
        #expect(try b.attempts()[1].error?.hasSuffix("(provider primary is at its limit of 1 requests per minute)") == true)
    }
}

@Suite(.serialized) struct ChatSameProviderTests {
    @Test func aProviderThatFailedIsNotAskedAgainForAnotherModelInTheSameRequest() throws {
        let primary = try FakeProviderProcess(["--fail-all", "500"])
        let backup = try FakeProviderProcess(["--reply", "ok"])
        defer { primary.stop(); backup.stop() }
        let mappings = """
            exact_matches:
              a:
                provider: primary
              b:
                provider: primary
              c:
                provider: backup
            fallback_chains:
              a:
                chain: [b, c]

            """
        let b = try ChatBench(providers: [("primary", "vllm", primary.baseURL, ""), ("backup", "ollama", backup.baseURL, "")],
                              mappings: mappings)
        defer { b.cleanUp() }
        let r = try b.run(["chat", "-m", "a", "hi"])
        #expect(r.reply == "ok")
        #expect(try primary.receivedRequests().filter { $0["path"]?.stringValue == "/v1/chat/completions" }.count == 1)
        let rows = try b.attempts()
        #expect(rows.map(\.status) == ["error", "skipped", "ok"])
        #expect(rows[1].backendModel == "b")
        #expect(rows[1].error == "provider primary already failed for this request (HTTP 500)")
    }
}
