import FoundationEssentials
import Glibc
import AishBase
import AishYAML

/// When a config file was last seen, so a session reloads only after an edit.
package struct ConfigFileStamp: Sendable, Equatable {
    package var path: String
    package var exists: Bool
    package var modified: timespec
    package var size: Int

    package static func == (a: ConfigFileStamp, b: ConfigFileStamp) -> Bool {
        a.path == b.path && a.exists == b.exists && a.size == b.size
            && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
    }

    package static func current(_ path: String) -> ConfigFileStamp {
        var st = stat()
        guard stat(path, &st) == 0 else { return ConfigFileStamp(path: path, exists: false, modified: timespec(), size: 0) }
        return ConfigFileStamp(path: path, exists: true, modified: st.st_mtim, size: Int(st.st_size))
    }
}

/// Reads the operator's config directory (SPEC §2) into `AishConfig`.
package enum ConfigLoader {
    package static let providersFile = "providers.yaml"
    package static let mappingsFile = "model-mappings.yaml"
    package static let portsFile = "ports.yaml"
    package static let litellmFile = "litellm-unified.yaml"
    package static let maxFileBytes = 8 * 1_048_576

    /// What one load produced. `config` is always filled as far as the files allowed;
    /// `findings` holds loading problems (syntax, types, required keys, likely typos).
    package struct Loaded: Sendable {
        package var config: AishConfig
        package var findings: [ConfigFinding]
        package var stamps: [ConfigFileStamp]
        /// A file was missing or not valid YAML: its content is absent, so cross-file checks
        /// would only repeat that one problem.
        package var incomplete: Bool = false

        /// Errors make the configuration unusable for other commands (exit code 3).
        package var usable: Bool { !findings.hasErrors }
    }

    package static func path(_ directory: String, _ file: String) -> String {
        directory.hasSuffix("/") ? directory + file : directory + "/" + file
    }

    /// `--config DIR`, else `$AISH_CONFIG`, else `./config` when it exists, else `~/.config/aish`.
    package static func resolveDirectory(option: String?, environment: [String: String]) -> String {
        if let option, !option.isEmpty { return option }
        if let env = environment["AISH_CONFIG"], !env.isEmpty { return env }
        var isDir: Bool = false
        if FileManager.default.fileExists(atPath: "config", isDirectory: &isDir), isDir { return "config" }
        let home = environment["HOME"] ?? homeDirectory()
        return path(home, ".config/aish")
    }

    package static func stamps(directory: String) -> [ConfigFileStamp] {
        [providersFile, mappingsFile, portsFile, litellmFile].map { ConfigFileStamp.current(path(directory, $0)) }
    }

    package static func load(directory: String) -> Loaded {
        let reader = NodeReader()
        let stamps = stamps(directory: directory)
        let providersPath = path(directory, providersFile)
        let mappingsPath = path(directory, mappingsFile)
        let portsPath = path(directory, portsFile)

        var isDir: Bool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) || !isDir {
            reader.error(SourceLocation(file: directory, line: 0, column: 0),
                         "configuration directory not found (set it with --config DIR or AISH_CONFIG)")
        } else if !stamps[0].exists {
            reader.error(SourceLocation(file: providersPath, line: 0, column: 0), "configuration file not found")
        }
        // providers.yaml is required; the mappings and ports files are optional.
        let providers = ConfigDecoder.providers(parse(providersPath, required: stamps[0].exists, reader: reader),
                                                path: providersPath, reader: reader, fileExists: stamps[0].exists)
        let mappings = ConfigDecoder.mappings(parse(mappingsPath, required: false, reader: reader), path: mappingsPath, reader: reader)
        let ports = ConfigDecoder.ports(parse(portsPath, required: false, reader: reader), path: portsPath, reader: reader)
        var config = AishConfig(directory: directory, providers: providers, mappings: mappings, ports: ports)
        linkServiceUnits(&config)
        let incomplete = reader.findings.contains { $0.severity == .error && ($0.location.line == 0 || reader.syntaxErrors.contains($0)) }
        return Loaded(config: config, findings: reader.findings, stamps: stamps, incomplete: incomplete)
    }

    /// Parses one file; a syntax error becomes one finding and the file counts as empty.
    package static func parse(_ path: String, required: Bool, reader: NodeReader) -> YAMLNode? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if required { reader.error(SourceLocation(file: path, line: 0, column: 0), "configuration file cannot be read") }
            return nil
        }
        // Config files are kilobytes; refuse anything that could only be a mistake.
        if data.count > maxFileBytes {
            reader.error(SourceLocation(file: path, line: 0, column: 0), "file is larger than \(maxFileBytes / 1_048_576) MB; not a config file?")
            reader.syntaxErrors.append(reader.findings[reader.findings.count - 1])
            return nil
        }
        do {
            let doc = try YAMLParser.parse([UInt8](data), file: path)
            for p in doc.problems { reader.error(p.location, p.message) }
            return doc.root
        } catch {
            reader.error(error.location, error.message)
            reader.syntaxErrors.append(reader.findings[reader.findings.count - 1])
            return nil
        }
    }

    /// A provider without its own `service` key takes the systemd unit of the ports.yaml
    /// entry with the same name (vllm-qwen ≙ vllm_qwen) or, for a local URL, the same port.
    package static func linkServiceUnits(_ config: inout AishConfig) {
        let services = config.ports.services
        guard !services.isEmpty else { return }
        let names = services.map { looseName($0.name) }
        for i in config.providers.providers.indices where config.providers.providers[i].serviceUnit == nil {
            let p = config.providers.providers[i]
            let name = looseName(p.name)
            if let k = names.firstIndex(of: name) {
                config.providers.providers[i].serviceUnit = services[k].serviceUnit
            } else if let url = BaseURL(p.baseURL), url.isLoopback, let port = url.port,
                      let byPort = services.first(where: { $0.port == port }) {
                config.providers.providers[i].serviceUnit = byPort.serviceUnit
            }
        }
    }
}
