import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSQLite

/// Opens the session log for a process (SPEC §6): the one entry point the shell calls.
package enum SessionLogAccess {
    /// Recorded in each session row.
    package static var aishVersion: String { AishVersion.current }

    /// `path` is `--db`, else `$AISH_DB`, else ~/.local/share/aish/aish.db.
    /// The log masks with `output`'s secret filter (which also takes `environment`'s secrets).
    /// On failure: one clear warning on `output`, and nil (the shell keeps working).
    package static func open(path: String?, mode: String, scriptPath: String?, output: OutputSink,
                     environment: [String: String]) -> SessionRecorder? {
        let resolved = resolvePath(path, environment: environment)
        do {
            let log = try SessionLog(path: resolved)
            if let mode = log.tightenedFromMode {
                output.writeError("aish: session log \(resolved) was readable by others (mode 0\(String(mode, radix: 8))); it is now private (0600)\n")
            }
            try log.beginSession(mode: mode, scriptPath: scriptPath, aishVersion: aishVersion)
            output.secrets.adopt(environment: environment)
            return SessionLogRecorder(log: log, secrets: output.secrets, output: output)
        } catch let e as SessionLogUnavailable {
            output.writeError(warning(path: resolved, reason: e.reason))
        } catch let e as SQLiteError {
            output.writeError(warning(path: resolved, reason: SessionLog.unavailable(e).reason))
        } catch {
            output.writeError(warning(path: resolved, reason: String(describing: error)))
        }
        return nil
    }

    package static func warning(path: String, reason: String) -> String {
        "aish: session log unavailable: \(path): \(reason); continuing without a log\n"
    }

    /// `--db`, else `$AISH_DB`, else ~/.local/share/aish/aish.db; `~` expanded.
    package static func resolvePath(_ path: String?, environment: [String: String]) -> String {
        let home = environment["HOME"] ?? homeDirectory()
        var chosen = path ?? environment["AISH_DB"].flatMap { $0.isEmpty ? nil : $0 }
            ?? home + "/.local/share/aish/aish.db"
        if chosen == "~" { chosen = home } else if chosen.hasPrefix("~/") { chosen = home + chosen.dropFirst(1) }
        return chosen
    }
}
