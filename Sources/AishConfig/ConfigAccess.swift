import AishBase
import AishCommand

/// The session's loaded configuration: loaded on first use, reloaded when a file changes.
package final class ConfigSession {
    package var directory: String?
    package var loaded: ConfigLoader.Loaded?
    /// The "config has N errors" line was printed for this load.
    package var errorNoticeShown = false
}

extension ShellContext {
    /// The config directory this session uses (SPEC §1 defaults).
    package var configDirectory: String {
        ConfigLoader.resolveDirectory(option: options.configDirectory, environment: environment)
    }

    /// The current load (cached; re-read when a file's mtime or size changed or the
    /// directory option changed). Never throws: problems are in `findings`.
    package func configLoad() -> ConfigLoader.Loaded {
        let session = state(ConfigSession.self) { ConfigSession() }
        let directory = configDirectory
        if let loaded = session.loaded, session.directory == directory,
           loaded.stamps == ConfigLoader.stamps(directory: directory) {
            return loaded
        }
        let loaded = ConfigLoader.load(directory: directory)
        session.directory = directory
        session.loaded = loaded
        session.errorNoticeShown = false
        // The log must mask the values of the providers' key variables wherever they appear.
        learnSecretVariableNames(loaded.config.providers.providers.compactMap(\.envVar))
        return loaded
    }

    /// The loaded, typed configuration. A config with errors is still used: the decoder skipped
    /// the broken rules and everything else routes (one line on stderr says so, once per load).
    /// Throws `ConfigError` (exit code 3) only when nothing usable loaded: the directory or
    /// providers.yaml is missing or unreadable, or it declares no provider.
    package func config() throws -> AishConfig {
        let loaded = configLoad()
        if loaded.usable { return loaded.config }
        if loaded.config.providers.providers.isEmpty { throw ConfigError(findings: loaded.findings, summary: nil) }
        let session = state(ConfigSession.self) { ConfigSession() }
        if !session.errorNoticeShown {
            session.errorNoticeShown = true
            let n = ConfigValidator.validate(loaded, checkDrift: false).findings.errorCount
            output.writeError("aish: config has \(n) error\(n == 1 ? "" : "s") (see validate)\n")
        }
        return loaded.config
    }

    /// Every finding of `validate` for the current files (loading plus semantic checks),
    /// without throwing.
    package func configValidation() -> ConfigValidation {
        ConfigValidator.validate(configLoad())
    }
}
