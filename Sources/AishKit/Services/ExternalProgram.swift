import Foundation

/// What a finished external program left behind.
struct ProgramOutput: Sendable {
    var exitStatus: Int32
    var standardOutput: String
    var standardError: String
    var succeeded: Bool { exitStatus == 0 }
}

/// Why an external program could not be run to completion.
enum ExternalProgramError: Error, Equatable, CustomStringConvertible {
    case notFound(program: String)
    case launchFailed(program: String, reason: String)
    case timedOut(program: String, seconds: Double)
    case interrupted(program: String)

    var description: String {
        switch self {
        case let .notFound(p): return "\(p) not found on PATH"
        case let .launchFailed(p, r): return "could not run \(p): \(r)"
        case let .timedOut(p, s): return "\(p) did not finish within \(ServiceDurationText.seconds(s))"
        case let .interrupted(p): return "\(p) interrupted"
        }
    }
}

/// Runs a program from PATH as an argument vector: no shell is involved, so nothing in an
/// argument (unit names from the config, service names typed by the user) is ever
/// interpreted. PATH comes from the given environment, not the process's, so tests can put
/// stand-ins first without touching global state.
struct ExternalProgram: Sendable {
    var name: String
    var environment: [String: String]

    /// The executable `name` resolves to on PATH, or nil.
    func resolvedPath() -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = "\(directory)/\(name)"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate)
            {
                return candidate
            }
        }
        return nil
    }

    /// Runs to completion, polling `interrupt` every 20 ms; a timeout or Ctrl-C terminates
    /// the child (SIGTERM, then SIGKILL after a second) and throws.
    func run(_ arguments: [String], timeout: Double, interrupt: InterruptFlag) throws -> ProgramOutput {
        guard let executable = resolvedPath() else { throw ExternalProgramError.notFound(program: name) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ExternalProgramError.launchFailed(program: name, reason: error.localizedDescription)
        }
        // Drain both pipes on their own threads so a chatty child cannot block on a full pipe.
        let collected = CollectedOutput()
        let readers = DispatchGroup()
        for (handle, isError) in [(stdout.fileHandleForReading, false), (stderr.fileHandleForReading, true)] {
            readers.enter()
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                collected.store(data, isError: isError)
                readers.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        var failure: ExternalProgramError?
        while process.isRunning {
            if interrupt.isRaised { failure = .interrupted(program: name); break }
            if Date() >= deadline { failure = .timedOut(program: name, seconds: timeout); break }
            usleep(20_000)
        }
        if let failure {
            ExternalProgram.stop(process)
            _ = readers.wait(timeout: .now() + 1)
            throw failure
        }
        process.waitUntilExit()
        // A grandchild may keep the pipes open; do not wait for it forever.
        _ = readers.wait(timeout: .now() + 2)
        let (out, err) = collected.texts
        return ProgramOutput(exitStatus: process.terminationStatus, standardOutput: out, standardError: err)
    }

    private static func stop(_ process: Process) {
        process.terminate()
        let grace = Date().addingTimeInterval(1)
        while process.isRunning, Date() < grace { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Output gathered by the reader threads.
private final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()

    func store(_ data: Data, isError: Bool) { lock.withLock { if isError { err = data } else { out = data } } }

    var texts: (String, String) {
        lock.withLock { (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self)) }
    }
}

/// Short human durations for messages: "30 s", "200 ms", "1 h 2 min".
enum ServiceDurationText {
    static func seconds(_ s: Double) -> String {
        if s < 1 { return "\(Int((s * 1000).rounded())) ms" }
        if s < 60 { return s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s) }
        return uptime(s)
    }

    /// "45s", "12m", "3h 04m", "2d 05h": the uptime column.
    static func uptime(_ s: Double) -> String {
        let total = Int(max(0, s))
        let d = total / 86400, h = total % 86400 / 3600, m = total % 3600 / 60
        if d > 0 { return String(format: "%dd %02dh", d, h) }
        if h > 0 { return String(format: "%dh %02dm", h, m) }
        if m > 0 { return "\(m)m" }
        return "\(total)s"
    }
}
