import FoundationEssentials
import Glibc
import AishBase
import AishChat
import AishCommand
import AishScript

/// aish's own command line (SPEC §1).
package struct ProcessArguments: Equatable {
    package enum Action: Equatable {
        /// Terminal (interactive) or pipe, decided by whether stdin is a terminal.
        case standardInput
        case script(path: String, arguments: [String])
        case commands(text: String, arguments: [String])
        /// `aish validate --config DIR`: the words after the options, run as one command.
        case command([String])
        case help
        case version
    }

    package var action: Action = .standardInput
    package var configDirectory: String?
    package var databasePath: String?
    package var json = false
    package var variables: [String: String] = [:]
    package var variableOrder: [String] = []
    package var junitPath: String?
    package var continueOnError = false
    package var noColor = false
    package var quiet = false

    package static let usage = """
        usage: aish [OPTIONS]                         interactive shell (commands from a pipe when not a terminal)
               aish [OPTIONS] -f FILE.ai [ARGS...]    run a script; $1.. are ARGS
               aish [OPTIONS] -c 'CMD; CMD' [ARGS...] run commands
               aish [OPTIONS] COMMAND [ARGS...]       run one command, e.g. aish validate --config DIR

        options:
          --config DIR          configuration directory (default $AISH_CONFIG, else ./config, else ~/.config/aish)
          --db PATH             session log (default $AISH_DB, else ~/.local/share/aish/aish.db)
          --json                machine-readable JSON output from every command
          --var NAME=VALUE      set a script variable (repeatable)
          --junit FILE          write a JUnit XML report of the expects
          --continue-on-error   keep running a script after a failure
          --no-color            no colour (also NO_COLOR); colour is only used on a terminal
          -q, --quiet           no banner or summary line
          --version             print the version
          -h, --help            this help

        exit codes: 0 ok, 1 command failed, 2 usage or script syntax error, 3 configuration invalid,
                    4 an expect failed, 130 interrupted
        """

    private static let valueOptions = ["--config", "--db", "--var", "--junit"]
    private static let flagOptions = ["--json", "--continue-on-error", "--no-color", "-q", "--quiet", "--version",
                                      "-h", "--help", "-f", "--file", "-c", "--command"]
    /// Global options also taken after a command word, unless that command has its own.
    private static let trailingGlobals = ["--config", "--db", "--var", "--junit", "--continue-on-error", "--no-color"]

    package static func parse(_ args: [String], registry: CommandRegistry) throws -> ProcessArguments {
        var result = ProcessArguments()
        var i = 0
        func value(for name: String, inline: String?) throws -> String {
            if let inline { return inline }
            guard i < args.count else { throw UsageError(message: "option '\(name)' needs a value") }
            i += 1
            return args[i - 1]
        }
        while i < args.count {
            let arg = args[i]
            i += 1
            var name = arg
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            switch name {
            case "--":
                if i < args.count { result.action = .command(Array(args[i...])) }
                return result
            case "-f", "--file":
                let path = try value(for: name, inline: inline)
                result.action = .script(path: path, arguments: Array(args[i...]))
                return result
            case "-c", "--command":
                let text = try value(for: name, inline: inline)
                result.action = .commands(text: text, arguments: Array(args[i...]))
                return result
            case "-h", "--help": result.action = .help; return result
            case "--version": result.action = .version; return result
            case "--json": result.json = true
            case "--continue-on-error": result.continueOnError = true
            case "--no-color": result.noColor = true
            case "-q", "--quiet": result.quiet = true
            case "--config", "--db", "--var", "--junit":
                try result.apply(name, try value(for: name, inline: inline))
            default:
                if arg.hasPrefix("-") && arg != "-" {
                    var message = "unknown option '\(name)'"
                    if let s = Suggest.closest(to: name, among: valueOptions + flagOptions) {
                        message += " — did you mean '\(s)'?"
                    }
                    throw UsageError(message: message)
                }
                // The command form: global options may also follow the command's own words.
                let command = ScriptFile.droppingByteOrderMark(arg)
                let spec = registry.lookup(command)
                var words = [command]
                while i < args.count {
                    let w = args[i]
                    i += 1
                    let wName = w.hasPrefix("--") ? String(w.prefix(while: { $0 != "=" })) : w
                    guard trailingGlobals.contains(wName), spec?.option(named: wName) == nil else {
                        words.append(w)
                        continue
                    }
                    let wInline = w.contains("=") ? String(w[w.index(after: w.firstIndex(of: "=")!)...]) : nil
                    if wName == "--continue-on-error" { result.continueOnError = true; continue }
                    if wName == "--no-color" { result.noColor = true; continue }
                    try result.apply(wName, try value(for: wName, inline: wInline))
                }
                result.action = .command(words)
                return result
            }
        }
        return result
    }

    private mutating func apply(_ name: String, _ value: String) throws {
        switch name {
        case "--config": configDirectory = value
        case "--db": databasePath = value
        case "--junit": junitPath = value
        case "--var":
            guard let eq = value.firstIndex(of: "="), BuiltinCommands.isVariableName(String(value[..<eq])) else {
                throw UsageError(message: "--var takes NAME=VALUE, got '\(value)'")
            }
            let key = String(value[..<eq])
            if variables[key] == nil { variableOrder.append(key) }
            variables[key] = String(value[value.index(after: eq)...])
        default: preconditionFailure("not a value option: \(name)")
        }
    }

    /// `--config`, else `$AISH_CONFIG`, else ./config when it exists, else ~/.config/aish.
    package func resolvedConfigDirectory(environment: [String: String]) -> String {
        if let configDirectory { return configDirectory }
        if let env = environment["AISH_CONFIG"], !env.isEmpty { return env }
        var isDir: Bool = false
        if FileManager.default.fileExists(atPath: "config", isDirectory: &isDir), isDir { return "config" }
        return (environment["HOME"] ?? homeDirectory()) + "/.config/aish"
    }

    /// `--db`, else `$AISH_DB`, else ~/.local/share/aish/aish.db.
    package func resolvedDatabasePath(environment: [String: String]) -> String {
        if let databasePath { return databasePath }
        if let env = environment["AISH_DB"], !env.isEmpty { return env }
        return (environment["HOME"] ?? homeDirectory()) + "/.local/share/aish/aish.db"
    }
}

extension StandardInputText {
    /// What aish offers for a run: stdin that is a pipe or a regular file, as the text of the
    /// first chat or compare when the commands are aish's own arguments, on request (`-f -`)
    /// for a script.
    package static func offer(for action: ProcessArguments.Action, fd: Int32 = 0) -> Offer {
        guard isatty(fd) == 0 else { return .none }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .none }
        let type = info.st_mode & S_IFMT
        guard type == S_IFIFO || type == S_IFREG else { return .none }
        switch action {
        case .command, .commands: return .firstPrompt
        case .script: return .onRequest
        case .standardInput, .help, .version: return .none
        }
    }
}
