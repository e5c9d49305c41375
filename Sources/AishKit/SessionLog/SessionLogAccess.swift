/// Opens the session log for a process (SPEC §6). Placeholder until the store lands:
/// returns nil, so nothing is recorded.
enum SessionLogAccess {
    /// `path` is `--db`, else `$AISH_DB`, else ~/.local/share/aish/aish.db.
    /// On failure: one clear warning on `output`, and nil (the shell keeps working).
    static func open(path: String?, mode: String, scriptPath: String?, output: OutputSink,
                     environment: [String: String]) -> SessionRecorder? {
        nil
    }
}
