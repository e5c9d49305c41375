import Foundation
import Testing
@testable import AishBase
@testable import AishCommand
@testable import AishSQLite
@testable import AishSessionLog

/// A log with two requests (one failed over to a second provider), a command around them,
/// and an old attempt from two days ago.
private func seededLog(_ dir: TempDir) throws -> (path: String, commandID: Int64) {
    let path = dir.file("seed.db")
    let log = try SessionLog(path: path)
    try log.beginSession(mode: "script", scriptPath: "smoke.ai", aishVersion: "0.1.0")
    let now = Date()
    let cmd = try log.beginCommand(text: "chat -m llama3 write a haiku", sourceFile: "smoke.ai", line: 7, startedAt: now.addingTimeInterval(-60))
    try log.insertAttempt(
        attempt(request: "req-a", status: .error, http: 503, error: "HTTP 503 Service Unavailable", ttft: nil, total: 15,
                prompt: "write a haiku about the ocean", reply: "", at: now.addingTimeInterval(-59)), commandID: cmd)
    try log.insertAttempt(
        attempt(request: "req-a", provider: "llama-cpp", backend: "smollm2", attempt: 2, ttft: 230, total: 1420,
                prompt: "write a haiku about the ocean", reply: "waves fold into foam\nsalt wind", at: now.addingTimeInterval(-58),
                timings: .object([("prompt_ms", .double(12.5))])), commandID: cmd)
    try log.finishCommand(id: cmd, record: CommandRecord(text: "chat -m llama3 write a haiku", sourceFile: "smoke.ai", line: 7,
                                                         status: .ok, durationMs: 1500, error: nil, startedAt: now))
    try log.insertAttempt(
        attempt(request: "req-b", model: "gpt-4o-mini", provider: "openai", backend: "gpt-4o-mini", status: .partial,
                ttft: 90, total: 400, prompt: "explain sqlite write ahead logging", reply: "WAL keeps a sepa",
                at: now.addingTimeInterval(-30)), commandID: nil)
    try log.insertAttempt(
        attempt(request: "req-old", model: "gpt-4o-mini", provider: "openai", backend: "gpt-4o-mini", ttft: 50, total: 300,
                prompt: "old question about rivers", reply: "rivers flow", at: now.addingTimeInterval(-2 * 86400)), commandID: nil)
    return (path, cmd)
}

@Suite struct SessionLogCommandTests {
    @Test func logListsNewestFirstWithOneLineEach() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let r = try LogShell(dbPath: path).run(["log"])
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("ID  TIME"))
        #expect(lines[0].contains("MODEL → PROVIDER      STATUS     TTFT  LATENCY  TOKENS  PROMPT"))
        #expect(lines[1].hasPrefix(" 3  "))
        #expect(lines[1].contains("gpt-4o-mini → openai  partial   90 ms   400 ms       -  explain sqlite write ahead logging"))
        #expect(lines[2].contains("llama3 → llama-cpp    ok       230 ms   1.42 s      32  write a haiku about the ocean"))
        #expect(lines[3].contains("llama3 → ollama       error         -    15 ms       -  write a haiku about the ocean"))
        #expect(lines[4].hasPrefix(" 4  "))
        #expect(r.field("count") == .int(4))
        #expect(r.field("provider") == .string("openai"))
    }

    @Test func logFilters() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let shell = LogShell(dbPath: path)
        func ids(_ words: [String]) throws -> [Int] {
            guard case let .array(items)? = try shell.run(["log"] + words).data?["attempts"] else { return [] }
            return items.compactMap { $0["id"]?.intValue }
        }
        #expect(try ids(["-n", "2"]) == [3, 2])
        #expect(try ids(["-m", "llama3"]) == [2, 1])
        #expect(try ids(["-m", "smollm2"]) == [2])   // the backend model matches too
        #expect(try ids(["-p", "openai"]) == [3, 4])
        #expect(try ids(["--status", "error"]) == [1])
        #expect(try ids(["--since", "1h"]) == [3, 2, 1])
        #expect(try ids(["-q", "haiku"]) == [2, 1])
        #expect(try ids(["-q", "foam"]) == [2])          // replies are searched
        #expect(try ids(["-q", "riv*"]) == [4])          // prefix search
        #expect(try ids(["-q", "ocean haiku"]) == [2, 1])
        #expect(try ids(["-q", "what's \"this AND OR"]) == [])  // odd input is not a syntax error
        #expect(try shell.run(["log", "-p", "nobody"]).text == "no logged request attempts match\nno attempt in the log names provider 'nobody'\n")
        // A name the log has never seen is likely a typo; a known name that matched nothing is not.
        #expect(try shell.run(["log", "-p", "olama"]).text ==
            "no logged request attempts match\nno attempt in the log names provider 'olama' — did you mean 'ollama'?\n")
        #expect(try shell.run(["log", "-m", "lama3"]).text ==
            "no logged request attempts match\nno attempt in the log names model 'lama3' — did you mean 'llama3'?\n")
        #expect(try shell.run(["log", "-p", "ollama", "--status", "skipped"]).text == "no logged request attempts match\n")
        #expect(try shell.run(["log", "--commands", "-q", "zzzz"]).text == "no logged commands match\n")
    }

    @Test func logRejectsBadOptionsWordForWord() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let shell = LogShell(dbPath: path)
        #expect(shell.errorText(["log", "--since", "yesterday"]) ==
            "log: --since takes a duration back from now (30m, 1h, 2d), a date (2026-11-27) or a date and time (2026-11-27T10:00), got 'yesterday'"
            + "\nusage: " + SessionLogCommands.log.usage)
        #expect(shell.errorText(["log", "--status", "fine"]) ==
            "log: --status takes ok, error, partial, cancelled, timeout or skipped, got 'fine'"
            + "\nusage: " + SessionLogCommands.log.usage)
        #expect(shell.errorText(["log", "-n", "0"])?.hasPrefix("log: -n takes a positive number, got 0") == true)
    }

    @Test func logCommandsListsCommands() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, cmd) = try seededLog(dir)
        let r = try LogShell(dbPath: path).run(["log", "--commands"])
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[1].hasPrefix("cmd:\(cmd)  "))
        #expect(lines[1].hasSuffix("ok        1.50 s  smoke.ai:7  chat -m llama3 write a haiku"))
    }

    @Test func logJSONHasEveryColumn() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let r = try LogShell(dbPath: path, json: true).run(["log", "-n", "1", "-m", "llama3"])
        let json = r.jsonForm
        #expect(json["status"] == .string("ok"))
        #expect(json["count"] == .int(1))
        let a = try #require(json["attempts"]?[0])
        #expect(a["request_id"] == .string("req-a"))
        #expect(a["attempt"] == .int(2))
        #expect(a["backend_model"] == .string("smollm2"))
        #expect(a["server_timings"] == .object([("prompt_ms", .double(12.5))]))
        #expect(a["reply"] == .string("waves fold into foam\nsalt wind"))
        #expect(a["ttft_ms"] == .double(230))
    }

    @Test func showPrintsTheAttemptItsChainAndItsCommand() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, cmd) = try seededLog(dir)
        let r = try LogShell(dbPath: path).run(["show", "2"])
        let t = r.text
        #expect(t.hasPrefix("attempt 2 · request req-a · attempt 2 of 2\n"))
        #expect(t.contains("\nmodel    llama3 → llama-cpp (backend model smollm2)\n"))
        #expect(t.contains("\nroute    exact match model-mappings.yaml:12\n"))
        #expect(t.contains("\nstatus   ok · HTTP 200\n"))
        #expect(t.contains("\nttft     230 ms\n"))
        #expect(t.contains("\nlatency  1.42 s\n"))
        #expect(t.contains("\ntokens   14 prompt · 32 completion · 40.0 tok/s\n"))
        #expect(t.contains("\nserver   {\"prompt_ms\":12.5}\n"))
        #expect(t.contains("\nsession  1 · script · smoke.ai · aish 0.1.0 · "))
        #expect(t.contains("\ncommand  cmd:\(cmd) · chat -m llama3 write a haiku · smoke.ai:7 · ok · 1.50 s\n"))
        #expect(t.contains("\nattempts of this request:\n"))
        #expect(t.contains("      1  1  ollama     llama3:8b      error 503       -    15 ms  HTTP 503 Service Unavailable\n"))
        #expect(t.contains("  >   2  2  llama-cpp  smollm2        ok 200     230 ms   1.42 s\n"))
        #expect(t.hasSuffix("\nprompt:\n  write a haiku about the ocean\n\nreply:\n  waves fold into foam\n  salt wind\n"))
        #expect(r.field("provider") == .string("llama-cpp"))
        #expect(r.field("request_id") == .string("req-a"))

        let json = try LogShell(dbPath: path, json: true).run(["show", "2"]).jsonForm
        #expect(json["chain"]?[0]?["status"] == .string("error"))
        #expect(json["command"]?["line"] == .int(7))
        #expect(json["session"]?["script_path"] == .string("smoke.ai"))
    }

    @Test func showKeepsAPartialReplyAndDefaultsToTheNewest() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let t = try LogShell(dbPath: path).run(["show"]).text
        #expect(t.hasPrefix("attempt 3 · request req-b · attempt 1 of 1\n"))
        #expect(t.hasSuffix("\npartial reply (partial):\n  WAL keeps a sepa\n"))
        #expect(!t.contains("attempts of this request"))
    }

    @Test func showCommand() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, cmd) = try seededLog(dir)
        let r = try LogShell(dbPath: path).run(["show", "cmd:\(cmd)"])
        #expect(r.text.hasPrefix("command cmd:\(cmd) · ok · 1.50 s\n"))
        #expect(r.text.contains("\ntext     chat -m llama3 write a haiku\nsource   smoke.ai:7\n"))
        #expect(r.text.contains("\nrequest attempts:\n"))
        #expect(r.text.contains("   1  llama3 → ollama     1  error        -    15 ms       -\n"))
        #expect(r.field("attempt_count") == .int(2))
        // One meaning per name: `attempts` is the list in --json and for expect alike.
        if case let .array(items)? = r.jsonForm["attempts"] { #expect(items.count == 2) } else { Issue.record("attempts is not a list") }
        #expect(r.jsonForm["attempt_count"] == .int(2))
    }

    @Test func showErrorsWordForWord() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let shell = LogShell(dbPath: path)
        #expect(shell.errorText(["show", "99"]) == "show: no request attempt with id 99")
        #expect(shell.errorText(["show", "cmd:99"]) == "show: no command with id cmd:99")
        #expect(shell.errorText(["show", "abc"]) ==
            "show: 'abc' is not an attempt id (a number from `log`, or cmd:N)\nusage: show [ID | cmd:ID]")
    }

    @Test func statsPerModelAndProvider() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let shell = LogShell(dbPath: path)
        let r = try shell.run(["stats"])
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "MODEL        REQUESTS  ERRORS  TTFT p50     p90     p99  LATENCY p50     p90     p99  TOK/S")
        #expect(lines[1] == "gpt-4o-mini         2   50.0%     70 ms   86 ms   90 ms       300 ms  300 ms  300 ms   40.0")
        #expect(lines[2] == "llama3              2   50.0%    230 ms  230 ms  230 ms       1.42 s  1.42 s  1.42 s   40.0")
        #expect(lines[3] == "all                 4   50.0%     90 ms  202 ms  227 ms       860 ms  1.31 s  1.41 s   40.0")
        #expect(r.field("requests") == .int(4))
        #expect(r.field("errors") == .int(2))

        let byProvider = try LogShell(dbPath: path, json: true).run(["stats", "--by", "provider", "--since", "1h"]).jsonForm
        #expect(byProvider["by"] == .string("provider"))
        guard case let .array(groups)? = byProvider["groups"] else { Issue.record("no groups"); return }
        #expect(groups.compactMap { $0["name"]?.stringValue } == ["llama-cpp", "ollama", "openai"])
        #expect(byProvider["total"]?["requests"] == .int(3))
        // One name per figure: each row has `ttft_ms` (p50), `ttft_p90_ms`, … as the top level does.
        #expect(byProvider["total"]?["ttft_ms"] == .double(160))
        #expect(byProvider["ttft_ms"] == .double(160))
        #expect(byProvider["groups"]?[0]?["gateway_overhead_ms"] == .null)
        #expect(shell.errorText(["stats", "--by", "color"]) == "stats: --by takes model or provider, got 'color'\nusage: stats [--since T] [--by model|provider] [--timeout S]")
    }

    @Test func statsOnAnEmptyLog() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("empty.db")
        _ = try SessionLog(path: path)
        let r = try LogShell(dbPath: path).run(["stats", "--since", "2026-01-01"])
        #expect(r.text == "no request attempts logged since 2026-01-01\n")
        #expect(r.field("requests") == .int(0))
    }

    @Test func sqlPrintsATableAndJSON() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let r = try LogShell(dbPath: path).run(["sql", "SELECT provider, count(*) AS n, max(ttft_ms) FROM attempts GROUP BY provider ORDER BY provider"])
        #expect(r.text == """
            provider   n  max(ttft_ms)
            llama-cpp  1  230
            ollama     1  NULL
            openai     2  90
            (3 rows)

            """)
        let j = try LogShell(dbPath: path, json: true).run(["sql", "SELECT count(*) AS n FROM attempts WHERE attempts.id IN (SELECT rowid FROM attempts_fts WHERE attempts_fts MATCH 'ocean')"])
        #expect(j.jsonForm.serialized() == #"{"status":"ok","columns":["n"],"count":1,"value":2,"rows":[{"n":2}]}"#)
        #expect(j.field("value") == .int(2))
        #expect(try LogShell(dbPath: path).run(["sql", "PRAGMA table_info(sessions)"]).field("count") == .int(8))
        #expect(try LogShell(dbPath: path).run(["sql", "PRAGMA user_version"]).field("value") == .int(6))
    }

    @Test func sqlRefusesEveryWriteWordForWord() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let before = fileBytes(path)
        let shell = LogShell(dbPath: path)
        let refusals: [(String, String)] = [
            ("INSERT INTO sessions (started_at, mode, aish_version, host, pid) VALUES ('x', 'x', 'x', 'x', 1)", "INSERT"),
            ("UPDATE attempts SET status = 'ok'", "UPDATE"),
            ("DELETE FROM attempts", "DELETE"),
            ("DROP TABLE attempts", "DROP"),
            ("CREATE TABLE evil (x)", "CREATE"),
            ("CREATE TEMP TABLE evil (x)", "CREATE"),
            ("ATTACH DATABASE '\(dir.file("other.db"))' AS other", "ATTACH"),
            ("PRAGMA user_version = 5", "PRAGMA user_version = 5"),
            ("PRAGMA query_only = 0", "PRAGMA query_only = 0"),
            ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode = DELETE"),
            ("BEGIN", "transaction control"),
            ("ALTER TABLE attempts ADD COLUMN x", "ALTER TABLE"),
            ("REINDEX", "REINDEX"),
                    ]
        for (query, what) in refusals {
            #expect(shell.errorText(["sql", query]) == "sql: refused: \(what) is not allowed (the session log is read-only here)", "\(query)")
        }
        // Not an authorizer action: caught by sqlite3_stmt_readonly.
        #expect(shell.errorText(["sql", "VACUUM"]) == "sql: refused: the statement would write (the session log is read-only here)")
        #expect(shell.errorText(["sql", "SELECT 1; DELETE FROM attempts"]) == "sql: only one statement at a time")
        #expect(shell.errorText(["sql", "SELEC 1"]) == "sql: near \"SELEC\": syntax error")
        #expect(shell.errorText(["sql", "SELECT load_extension('/tmp/none')"]) == "sql: not authorized")
        #expect(!FileManager.default.fileExists(atPath: dir.file("other.db")))
        #expect(try shell.run(["sql", "SELECT count(*) FROM attempts"]).field("value") == .int(4))
        #expect(try shell.run(["sql", "SELECT 1;"]).field("value") == .int(1))
        #expect(fileBytes(path) == before)
    }

    /// The read-only connection holds even without the authorizer: SQLite refuses the write.
    @Test func theReadConnectionItselfIsReadOnly() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let reader = try SessionLogReader(path: path)
        let db = try Database(path: path, readOnly: true)
        try db.execute("PRAGMA query_only = 1")
        #expect(throws: SQLiteError.self) { try db.execute("DELETE FROM attempts") }
        let delete = try db.prepare("DELETE FROM attempts")
        #expect(!delete.isReadOnly)
        #expect(try reader.attempts(AttemptFilter()).count == 4)
    }

    @Test func exportJSONAndCSV() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, _) = try seededLog(dir)
        let shell = LogShell(dbPath: path)
        let jsonFile = dir.file("out.json")
        let r = try shell.run(["export", jsonFile])
        #expect(r.text == "exported 4 request attempts to \(jsonFile) (json)\n")
        #expect(mode(of: jsonFile) == 0o600)
        let parsed = try JSONValue.parse(String(decoding: fileBytes(jsonFile), as: UTF8.self))
        guard case let .array(rows) = parsed else { Issue.record("not an array"); return }
        #expect(rows.compactMap { $0["request_id"]?.stringValue } == ["req-old", "req-a", "req-a", "req-b"])
        #expect(rows[2]["reply"] == .string("waves fold into foam\nsalt wind"))

        let csvFile = dir.file("out.csv")
        #expect(try shell.run(["export", "--since", "1h", csvFile]).text == "exported 3 request attempts to \(csvFile) (csv)\n")
        let csv = String(decoding: fileBytes(csvFile), as: UTF8.self)
        let records = csv.components(separatedBy: "\r\n")
        #expect(records[0] == "id,session_id,command_id,request_id,kind,started_at,requested_model,route_reason,provider,backend_model,attempt,status,http_status,error,ttft_ms,total_ms,prompt_tokens,completion_tokens,tokens_per_second,server_timings,prompt,reply,system_prompt,options,gateway_deployment,gateway_model_group,gateway_model_id,gateway_api_base,gateway_fallbacks,gateway_retries,gateway_overhead_ms,gateway_response_ms,cache_hit")
        #expect(records[2].hasSuffix(",14,32,40,\"{\"\"prompt_ms\"\":12.5}\",write a haiku about the ocean,\"waves fold into foam\nsalt wind\",,,,,,,,,,,"))
        #expect(records.count == 5 && records[4] == "")

        let empty = dir.file("none.json")
        #expect(try shell.run(["export", "--since", "2099-01-01", empty]).field("count") == .int(0))
        #expect(String(decoding: fileBytes(empty), as: UTF8.self) == "[]\n")
        #expect(shell.errorText(["export", "--format", "xml", dir.file("x")]) == "export: --format takes json or csv, got 'xml'\nusage: export FILE [--format json|csv] [--since T] [--timeout S]")
        #expect(shell.errorText(["export", dir.file("missing/dir/x.json")]) == "export: cannot write \(dir.file("missing/dir/x.json")): open(\(dir.file("missing/dir"))/.x.json.aish-XXXXXXXX): No such file or directory")

        // An export over an existing file readable by others: replaced, and private now.
        let shared = dir.file("shared.json")
        try "old".write(toFile: shared, atomically: false, encoding: .utf8)
        chmod(shared, 0o644)
        #expect(try shell.run(["export", shared]).field("count") == .int(4))
        #expect(mode(of: shared) == 0o600)
        #expect(String(decoding: fileBytes(shared), as: UTF8.self).hasPrefix("[\n{"))
        // Into a device: written as a stream, the device stays a device.
        #expect(try shell.run(["export", "--format", "csv", "/dev/null"]).field("count") == .int(4))
        var st = stat()
        #expect(stat("/dev/null", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR && st.st_mode & 0o777 == 0o666)
        #expect(shell.errorText(["export", "/dev/full"]) == "export: cannot write /dev/full: write(/dev/full): No space left on device")
    }

    @Test func commandsSayWhyWhenThereIsNoLog() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("never.db")
        #expect(LogShell(dbPath: path).errorText(["log"]) == "log: session log unavailable: \(path): no session log has been written there yet")
        #expect(LogShell(dbPath: path).errorText(["stats"]) == "stats: session log unavailable: \(path): no session log has been written there yet")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func commandsSeeRowsWrittenAfterTheReaderOpened() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("live.db")
        let recorder = try #require(SessionLogAccess.open(path: path, mode: "interactive", scriptPath: nil, output: OutputSink(capturing: true), environment: [:]))
        let shell = LogShell(dbPath: path)
        #expect(try shell.run(["log"]).field("count") == .int(0))
        recorder.recordAttempt(attempt())
        #expect(try shell.run(["log"]).field("count") == .int(1))
        #expect(try shell.run(["stats"]).field("requests") == .int(1))
    }

    /// Each field `help CMD` names is one the command really sets, so a script written from
    /// the help does not fail with "no field"; the help of a command with a second report
    /// (log --commands, show cmd:ID) names that report's fields too.
    @Test func helpNamesTheFieldsTheCommandsSet() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, commandID) = try seededLog(dir)
        let shell = LogShell(dbPath: path)
        let cases: [([String], [ReportField])] = [
            (["log"], LogReport.fields),
            (["log", "--commands"], LogCommandsReport.fields),
            (["show"], ShowAttemptReport.fields),
            (["show", "cmd:\(commandID)"], ShowCommandReport.fields),
            (["stats"], StatsReport.fields),
            (["sql", "SELECT count(*) FROM attempts"], SQLReport.fields),
            (["export", dir.file("out.json")], ExportReport.fields),
        ]
        for (words, fields) in cases {
            let r = try shell.run(words)
            let help = try #require(SessionLogCommands.all.first { $0.name == words[0] }?.helpText)
            #expect(!help.contains("Fields for expect"), "help \(words[0]) still has hand-written fields")
            for f in fields {
                #expect(r.field(f.name) != nil, "\(words.joined(separator: " ")): no field \(f.name)")
                #expect(help.range(of: "\\b\(f.name)\\b", options: .regularExpression) != nil, "help \(words[0]) does not name \(f.name)")
            }
        }
    }

    /// The second report types (log --commands, show cmd:ID) are held to what the declared
    /// ones are: documented fields = encoded keys.
    @Test func secondReportsDocumentTheirKeys() throws {
        for shape in [ReportShape(LogCommandsReport.self), ReportShape(ShowCommandReport.self)] {
            #expect(shape.fields.map(\.name) == (try shape.encodedKeys()), "\(shape.typeName)")
        }
    }

    /// Text, --json and expect come from one report: the JSON is the same in both modes, and
    /// `expect X` passes exactly when `expect json .X` does (ReportAgreement).
    @Test func textJSONAndExpectAgree() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let (path, commandID) = try seededLog(dir)
        let cases: [([String], ReportShape, [String], (String, String))] = [
            (["log"], ReportShape(LogReport.self), ["count", "id", "model", "provider", "attempt_status", "ttft_ms", "latency_ms"],
             ("provider", "openai")),
            (["log", "--commands"], ReportShape(LogCommandsReport.self), ["count", "commands"], ("count", "1")),
            (["show", "2"], ReportShape(ShowAttemptReport.self), ["id", "provider", "ttft_ms", "latency_ms", "tokens", "request_id"],
             ("ttft_ms", "230")),
            (["show", "cmd:\(commandID)"], ReportShape(ShowCommandReport.self),
             ["id", "command_status", "attempt_count", "latency_ms", "attempts"], ("attempt_count", "2")),
            (["stats"], ReportShape(StatsReport.self),
             ["by", "requests", "errors", "error_rate", "ttft_ms", "ttft_p90_ms", "latency_ms", "tokens_per_second", "percentiles"],
             ("requests", "4")),
            (["stats", "--by", "provider"], ReportShape(StatsReport.self), ["by", "ttft_p90_ms"], ("ttft_p90_ms", "202")),
            (["sql", "SELECT count(*) FROM attempts"], ReportShape(SQLReport.self), ["columns", "count", "value"], ("value", "4")),
            (["export", dir.file("out.csv")], ReportShape(ExportReport.self), ["count", "file", "format"], ("count", "4")),
        ]
        for (words, shape, names, (field, value)) in cases {
            let t = try LogShell(dbPath: path).run(words), j = try LogShell(dbPath: path, json: true).run(words)
            #expect(!t.text.isEmpty)
            #expect(t.jsonForm == j.jsonForm, "\(words.joined(separator: " "))")
            #expect(t.field(field)?.displayText == value, "\(words.joined(separator: " ")): \(t.jsonForm.serialized())")
            try ReportAgreement.check(t, names, report: shape)
        }
    }

    /// With nothing to show, every field is still there: null, not absent.
    @Test func unknownFiguresAreNull() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let path = dir.file("empty.db")
        _ = try SessionLog(path: path)
        let log = try LogShell(dbPath: path).run(["log"])
        #expect(log.jsonForm.serialized() == #"{"status":"ok","count":0,"id":null,"model":null,"provider":null,"attempt_status":null,"ttft_ms":null,"latency_ms":null,"tokens":null,"cache_hit":null,"attempts":[]}"#)
        let stats = try LogShell(dbPath: path).run(["stats"])
        #expect(stats.field("ttft_ms") == .null && stats.field("gateway_overhead_ms") == .null && stats.field("requests") == .int(0))
        #expect(try LogShell(dbPath: path).run(["sql", "SELECT 1 UNION SELECT 2"]).field("value") == .null)
    }
}

@Suite struct PercentileAndTimeTests {
    @Test func percentilesInterpolateLinearly() {
        #expect(Percentiles.percentile([], 50).isNaN)
        #expect(Percentiles.percentile([7], 99) == 7)
        #expect(Percentiles.percentile([1, 2, 3, 4], 50) == 2.5)
        #expect(Percentiles.percentile([10, 20, 30, 40, 50], 90) == 46)
        #expect(Percentiles.percentile([10, 20, 30, 40, 50], 0) == 10)
        #expect(Percentiles.percentile([10, 20, 30, 40, 50], 100) == 50)
        let s = Percentiles.summary(Array(stride(from: 100.0, through: 1, by: -1)))
        #expect(s.p50 == 50.5)
        #expect(abs(s.p99 - 99.01) < 1e-9)
    }

    @Test func timesAreFixedWidthUTC() {
        let d = Date(timeIntervalSince1970: 1_795_755_600.25)
        #expect(LogTime.format(d) == "2026-11-27T05:00:00.250Z")
        #expect(LogTime.parse("2026-11-27T05:00:00.250Z") == d)
        #expect(LogTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test func sinceAcceptsDurationsDatesAndDateTimes() {
        let now = Date(timeIntervalSince1970: 1_795_755_600)
        #expect(LogTime.parseSince("1h", now: now) == now.addingTimeInterval(-3600))
        #expect(LogTime.parseSince("30m", now: now) == now.addingTimeInterval(-1800))
        #expect(LogTime.parseSince("2d", now: now) == now.addingTimeInterval(-172_800))
        #expect(LogTime.parseSince("2026-11-27T05:00:00Z", now: now) == now)
        #expect(LogTime.parseSince("2026-11-27T05:00Z", now: now) == now)
        #expect(LogTime.parseSince("2026-11-27") != nil)
        #expect(LogTime.parseSince("2026-11-27 10:30") != nil)
        #expect(LogTime.parseSince("2026-13-01") == nil)
        #expect(LogTime.parseSince("yesterday") == nil)
        #expect(LogTime.parseSince("1x") == nil)
    }
}
