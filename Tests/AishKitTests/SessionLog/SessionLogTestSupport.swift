import Foundation
@testable import AishBase
@testable import AishCommand

/// A fresh directory under /tmp, removed by `cleanup()`.
final class TempDir {
    let path: String

    init() {
        var template = Array("/tmp/aish-sessionlog-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: p!)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs log commands the way the shell does: parse with the spec, run, return the result.
struct LogShell {
    let ctx: ShellContext

    init(dbPath: String, json: Bool = false, environment: [String: String] = [:]) {
        var options = GlobalOptions()
        options.databasePath = dbPath
        options.json = json
        ctx = ShellContext(options: options, output: OutputSink(capturing: true), interrupt: InterruptFlag(),
                           environment: environment)
    }

    func run(_ words: [String]) throws -> CommandResult { try TestShell(ctx).run(words) }

    /// The message of the error a command throws, or nil when it succeeds.
    func errorText(_ words: [String]) -> String? { TestShell(ctx).errorText(words) }
}

func attempt(
    request: String = "r1", model: String = "llama3", provider: String = "ollama", backend: String = "llama3:8b",
    attempt: Int = 1, status: AttemptStatus = .ok, http: Int? = 200, error: String? = nil, ttft: Double? = 120,
    total: Double? = 900, prompt: String = "write a haiku about the ocean", reply: String = "waves fold into foam",
    at: Date = Date(), timings: JSONValue? = nil
) -> AttemptRecord {
    AttemptRecord(
        requestID: request, requestedModel: model, routeReason: "exact match model-mappings.yaml:12", provider: provider,
        backendModel: backend, attempt: attempt, status: status, httpStatus: http, error: error, ttftMs: ttft,
        totalMs: total, promptTokens: 14, completionTokens: status == .ok ? 32 : nil,
        tokensPerSecond: status == .ok ? 40 : nil, serverTimings: timings, prompt: prompt, replyText: reply,
        startedAt: at)
}

/// Reads every byte of a file (missing → empty).
func fileBytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

func mode(of path: String) -> Int {
    var st = stat()
    guard stat(path, &st) == 0 else { return -1 }
    return Int(st.st_mode & 0o777)
}

extension Data {
    func contains(_ text: String) -> Bool { range(of: Data(text.utf8)) != nil }
}
