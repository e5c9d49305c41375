import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// Text a prompt takes from outside its words: stdin (`cat error.log | aish chat "what
/// failed?"`) and files (`chat -f main.py "review this"`). All of it is read, checked and
/// assembled before anything is sent: at most `maxBytes` in all, UTF-8 text only.
package enum PromptInput {
    /// The most text stdin and the files of one prompt may add together: 1 MiB.
    package static let maxBytes = 1 << 20

    /// One piece of text read for a prompt; `name` is what marks it in the prompt and in
    /// messages (the path as given, or "stdin").
    package struct Part: Equatable {
        package var name: String
        package var text: String
    }

    /// The prompt as sent: the words; after a blank line the text of stdin; then each file,
    /// between a line naming it and a line ending it. Trailing blank lines of each part are dropped.
    package static func assemble(words: String, stdin: String?, files: [Part]) -> String {
        var parts: [String] = []
        if !words.isEmpty { parts.append(words) }
        if let stdin {
            let text = trimmingTrailingSpace(stdin)
            if !text.isEmpty { parts.append(text) }
        }
        for file in files {
            parts.append("--- \(file.name) ---\n" + trimmingTrailingSpace(file.text) + "\n--- end of \(file.name) ---")
        }
        return parts.joined(separator: "\n\n")
    }

    /// Leading spaces are kept (indented code), trailing blank lines and spaces are not.
    package static func trimmingTrailingSpace(_ text: String) -> String {
        var end = text.endIndex
        while end > text.startIndex {
            let before = text.index(before: end)
            guard text[before].isWhitespace else { break }
            end = before
        }
        return String(text[..<end])
    }

    /// "1 MiB", "512 KiB", "300 bytes".
    package static func sizeText(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    /// Reads the file at `path` as prompt text of at most `budget` bytes.
    package static func readFile(_ path: String, budget: Int, command: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw PromptInputError(message: "\(command): cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 {
            let type = info.st_mode & S_IFMT
            if type == S_IFDIR { throw PromptInputError(message: "\(command): '\(path)' is a directory, not a file") }
            // A regular file's size is known: refuse a big one without reading it.
            if type == S_IFREG, Int(info.st_size) > budget {
                throw tooLarge(command: command, name: "'\(path)'", budget: budget)
            }
        }
        return try readText(fd: fd, name: "'\(path)'", budget: budget, command: command)
    }

    /// Reads `fd` to its end as UTF-8 text of at most `budget` bytes (one byte more is read
    /// to know it was more).
    package static func readText(fd: Int32, name: String, budget: Int, command: String,
                         interrupt: InterruptFlag? = nil) throws -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= budget {
            let want = min(chunk.count, budget + 1 - bytes.count)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, want) }
            if n < 0 {
                if errno == EINTR {
                    if interrupt?.isRaised == true {
                        throw PromptInputError(message: "\(command): reading \(name) was interrupted; nothing was sent",
                                               exitCode: .failure)
                    }
                    continue
                }
                throw PromptInputError(message: "\(command): cannot read \(name): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        if bytes.count > budget { throw tooLarge(command: command, name: name, budget: budget) }
        return try text(bytes, name: name, command: command)
    }

    /// `bytes` as text, refused when they are binary: a NUL byte, or not UTF-8.
    package static func text(_ bytes: [UInt8], name: String, command: String) throws -> String {
        if let nul = bytes.firstIndex(of: 0) {
            throw PromptInputError(message: "\(command): \(name) is binary (a NUL byte at offset \(nul)), not text; nothing was sent")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PromptInputError(message: "\(command): \(name) is not UTF-8 text; nothing was sent")
        }
        return text
    }

    package static func tooLarge(command: String, name: String, budget: Int) -> PromptInputError {
        let whole = sizeText(maxBytes)
        let message = budget == maxBytes
            ? "\(command): \(name) is larger than \(whole), the limit on text from stdin and files for one prompt; nothing was sent"
            : "\(command): with \(name) the text from stdin and files is larger than \(whole), the limit for one prompt; nothing was sent"
        return PromptInputError(message: message)
    }
}

/// Input for a prompt that cannot be used: a missing, binary or oversized file or stdin.
/// Nothing was sent; like a bad option, it is a usage error (exit 2).
package struct PromptInputError: UserFacingError, Equatable {
    package var message: String
    package var exitCode: ExitCode = .usage
    package var description: String { message }
}

/// Standard input as prompt text. It is read once, when a command first asks, and only when
/// aish was given it for that: a pipe or a file, not a terminal, and not the commands
/// themselves (`echo providers | aish` keeps reading commands from the pipe).
package final class StandardInputText {
    package enum Offer: Equatable {
        /// Not for prompts: a terminal, /dev/null, or the commands come from it.
        case none
        /// Only when asked for with `-f -` (a script file's run: `… | aish -f triage.ai`).
        case onRequest
        /// Also the text of the first `chat` or `compare` that runs (`… | aish chat "…"`, `aish -c '…'`).
        case firstPrompt
    }

    package let offer: Offer
    private let fd: Int32
    private var read: Result<String, PromptInputError>?
    /// Whether a command has had it as prompt text already.
    package private(set) var taken = false

    package init(fd: Int32 = 0, offer: Offer = .none) {
        self.fd = fd
        self.offer = offer
    }

    /// The text for the first chat or compare of a run that offers it (nil otherwise, and later).
    package func takeForFirstPrompt(budget: Int, command: String, interrupt: InterruptFlag?) throws -> String? {
        guard offer == .firstPrompt, !taken else { return nil }
        taken = true
        return try text(budget: budget, command: command, interrupt: interrupt)
    }

    /// The text for `-f -` (read once; attached again whenever asked).
    package func text(budget: Int, command: String, interrupt: InterruptFlag?) throws -> String {
        guard offer != .none else {
            throw PromptInputError(message: "\(command): -f -: stdin is not available for a prompt here"
                + " (it is a terminal, not a pipe or a file, or it carries the commands); pipe the text into: aish chat -f - …")
        }
        taken = true
        if read == nil {
            read = Result { () throws(PromptInputError) -> String in
                do { return try PromptInput.readText(fd: fd, name: "stdin", budget: PromptInput.maxBytes,
                                                     command: command, interrupt: interrupt) }
                catch let e as PromptInputError { throw e }
                catch { throw PromptInputError(message: "\(command): cannot read stdin: \(error)") }
            }
        }
        let text = try read!.get()
        if text.utf8.count > budget { throw PromptInput.tooLarge(command: command, name: "stdin", budget: budget) }
        return text
    }
}

extension ShellContext {
    /// Stdin as prompt text; AishMain sets what the run offers (nothing by default).
    package var standardInputText: StandardInputText { state(StandardInputText.self) { StandardInputText() } }
}
