extension ShellContext {
    /// The loaded, typed configuration (loaded once per session, reloadable).
    /// Placeholder until the loader lands.
    func config() throws -> AishConfig {
        throw CommandFailure("configuration loading is not built yet")
    }
}
