import Foundation
@testable import AishBase
@testable import AishCommand
@testable import AishSessionLog

/// A config directory whose providers point at fake providers, a shell context using it,
/// and a real session log in a temporary file.
struct ChatBench {
    let directory: String
    let databasePath: String
    let ctx: ShellContext
    let recorder: SessionRecorder?

    /// `providers`: name → (type, base URL, extra YAML lines under the provider).
    /// `mappings`: the model-mappings.yaml text.
    init(providers: [(name: String, type: String, url: String, extra: String)], mappings: String,
         environment: [String: String] = [:], json: Bool = false) throws {
        var yaml = "providers:\n"
        for p in providers {
            yaml += """
                  \(p.name):
                    type: \(p.type)
                    base_url: \(p.url)
                    status: active

                """
            // A provider's own `models:` in `extra` replaces the default one.
            if !p.extra.contains("models:") { yaml += "    models:\n      - name: \(p.name)-model\n" }
            if !p.extra.isEmpty { yaml += p.extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n" }
        }
        directory = NSTemporaryDirectory() + "aish-chat-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try yaml.write(toFile: directory + "/providers.yaml", atomically: true, encoding: .utf8)
        try mappings.write(toFile: directory + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        databasePath = directory + "/aish.db"
        var options = GlobalOptions()
        options.configDirectory = directory
        options.databasePath = directory + "/aish.db"   // the log commands read this one too
        options.json = json
        let output = OutputSink(capturing: true)
        ctx = ShellContext(options: options, output: output, interrupt: InterruptFlag(), environment: environment)
        recorder = SessionLogAccess.open(path: databasePath, mode: "test", scriptPath: nil, output: output,
                                         environment: environment)
        ctx.recorder = recorder
    }

    /// Runs a command of the registry as the runner would (parse, run).
    @discardableResult
    func run(_ words: [String]) throws -> CommandResult {
        let result = try TestShell(ctx).run(words)
        ctx.lastResult = result
        return result
    }

    /// Every attempt in the log, oldest first.
    func attempts() throws -> [AttemptRow] {
        try SessionLogReader(path: databasePath).attempts(AttemptFilter()).reversed()
    }

    func messages() throws -> [(role: String, content: String)] {
        let reader = try SessionLogReader(path: databasePath)
        let s = try reader.db.prepare("SELECT role, content FROM messages ORDER BY id")
        var out: [(String, String)] = []
        while try s.step() { out.append((s.string(0), s.string(1))) }
        return out
    }

    func cleanUp() {
        recorder?.endSession()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Two providers, `primary` (OpenAI SSE) and `backup` (Ollama NDJSON), behind one alias
    /// `m` whose fallback is the backup.
    static let twoProviderMappings = """
        exact_matches:
          m:
            provider: primary
            backend_model: primary-model
            fallback: backup
        routing_rules:
          default_provider: backup
        special_cases:
          rate_limited_fallback:
            enabled: true
            fallback_duration_seconds: 60
          error_based_routing:
            enabled: true
            error_threshold: 3
            cooldown_seconds: 300

        """
}

extension CommandResult {
    func string(_ name: String) -> String? { field(name)?.stringValue }
    func int(_ name: String) -> Int? { field(name)?.intValue }
}
