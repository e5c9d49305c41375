import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// Why a script file could not be read (missing, a directory, binary, not UTF-8). Exit 2,
/// like any other problem with the script itself.
package struct ScriptFileError: UserFacingError, Equatable {
    /// `file` or `file:line:col` when the problem is at a place in the file; nil when the
    /// file itself could not be read.
    package var location: String? = nil
    package var message: String

    package init(location: String? = nil, message: String) {
        self.location = location
        self.message = message
    }

    package var exitCode: ExitCode { .usage }
    package var namesItsLocation: Bool { location != nil }
    package var description: String { location.map { "\($0): error: \(message)" } ?? message }
}

/// Reading and parsing a `.ai` file as a whole, before any of it runs.
package enum ScriptFile {
    /// How deep `source` may nest (a script that sources itself stops here).
    package static let maxSourceDepth = 16

    /// Reads, parses and checks the whole file (commands and options against `registry`,
    /// and the files it sources that exist now). `sourcedFrom`: the files that source this
    /// one, so that a cycle is checked once.
    package static func load(path: String, registry: CommandRegistry, sourcedFrom: [String] = []) throws -> [ScriptCommand] {
        let text = try read(path: path)
        let commands = try ScriptParser.parse(text, file: path)
        try ScriptCheck.check(commands, registry: registry, text: text)
        try ScriptCheck.checkSourcedFiles(commands, registry: registry, from: path, chain: sourcedFrom + [path])
        return commands
    }

    /// Where `source PATH` run from the script `from` finds its file: beside that script when
    /// the file is there, else PATH as given (relative to the current directory).
    package static func resolveSourced(_ path: String, from: String?) -> String {
        guard !path.hasPrefix("/"), let from else { return path }
        let dir = PathText.deletingLastComponent(from)
        let beside = dir.isEmpty ? path : dir + "/" + path
        return FileManager.default.fileExists(atPath: beside) ? beside : path
    }

    package static func read(path: String) throws -> String {
        var isDirectory: Bool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            var st = stat()
            if stat(path, &st) != 0, errno == ELOOP {
                throw ScriptFileError(message: "cannot read script '\(path)': symbolic link loop")
            }
            throw ScriptFileError(message: "cannot read script '\(path)': no such file")
        }
        if isDirectory {
            throw ScriptFileError(message: "cannot read script '\(path)': it is a directory, not a script file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScriptFileError(message: "cannot read script '\(path)': permission denied or unreadable")
        }
        return try decode(data, path: path)
    }

    /// Text without a leading UTF-8 byte-order mark (U+FEFF), for every way commands come
    /// in: a file, `-c TEXT`, the first line of a pipe, the words of `aish CMD`.
    package static func droppingByteOrderMark(_ text: String) -> String {
        text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
    }

    /// Script text from bytes: NUL bytes mean a binary file, and the text must be UTF-8.
    /// A UTF-8 byte-order mark (some Windows editors write one) is dropped.
    package static func decode(_ data: Data, path: String) throws -> String {
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { return try decode(data.dropFirst(3), path: path) }
        if let nul = data.firstIndex(of: 0) {
            let (line, column) = position(of: nul, in: data)
            throw ScriptFileError(location: "\(path):\(line):\(column)", message: "binary file (NUL byte), not an aish script")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ScriptFileError(location: path, message: "not valid UTF-8 text, not an aish script")
        }
        return text
    }

    private static func position(of index: Data.Index, in data: Data) -> (Int, Int) {
        var line = 1
        var lineStart = data.startIndex
        for i in data.startIndex..<index where data[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return (line, index - lineStart + 1)
    }
}
