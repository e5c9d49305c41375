/// The session's loaded configuration: loaded on first use, reloaded when a file changes.
final class ConfigSession {
    var directory: String?
    var loaded: ConfigLoader.Loaded?
}

extension ShellContext {
    /// The config directory this session uses (SPEC §1 defaults).
    var configDirectory: String {
        ConfigLoader.resolveDirectory(option: options.configDirectory, environment: environment)
    }

    /// The current load (cached; re-read when a file's mtime or size changed or the
    /// directory option changed). Never throws: problems are in `findings`.
    func configLoad() -> ConfigLoader.Loaded {
        let session = state(ConfigSession.self) { ConfigSession() }
        let directory = configDirectory
        if let loaded = session.loaded, session.directory == directory,
           loaded.stamps == ConfigLoader.stamps(directory: directory) {
            return loaded
        }
        let loaded = ConfigLoader.load(directory: directory)
        session.directory = directory
        session.loaded = loaded
        // The log must mask the values of the providers' key variables wherever they appear.
        recorder?.addSecretVariableNames(loaded.config.providers.providers.compactMap(\.envVar))
        return loaded
    }

    /// The loaded, typed configuration. Throws `ConfigError` (exit code 3) listing the
    /// findings when a file is missing, is not valid YAML, or has wrong types or missing
    /// required keys. Semantic problems (unknown references, cycles) do not stop loading:
    /// `validate` reports them.
    func config() throws -> AishConfig {
        let loaded = configLoad()
        guard loaded.usable else { throw ConfigError(findings: loaded.findings, summary: nil) }
        return loaded.config
    }

    /// Every finding of `validate` for the current files (loading plus semantic checks),
    /// without throwing.
    func configValidation() -> ConfigValidation {
        ConfigValidator.validate(configLoad())
    }
}
