import FoundationEssentials
import Glibc
import Synchronization

/// Where command output goes: the one step between aish and the terminal. Everything written
/// is redacted of secrets (the filter the session log uses); on a terminal, control
/// characters in the text are shown visibly (`ControlCharacters`), so that text from outside
/// cannot drive the terminal; aish's own colours and cursor movement come as `TerminalText`
/// controls. Writes are unbuffered so streamed text shows at once, also when stdout is a pipe.
package final class OutputSink: @unchecked Sendable {
    /// What a capturing sink kept; nil for a sink that writes. Its lock also keeps writes whole.
    private let captured: Locked<String?>
    /// The secret filter applied to everything written.
    package let secrets: SecretFilter
    /// Whether stdout and stderr are terminals (control characters in text shown visibly).
    package let stdoutIsTerminal: Bool
    package let stderrIsTerminal: Bool

    /// `capturing`: a sink that keeps what is written (for tests) instead of writing to fd 1/2;
    /// `terminal` says whether it sanitises as for a terminal (by default: whether fd 1 and 2
    /// are terminals; false for a capturing sink).
    package init(capturing: Bool = false, terminal: Bool? = nil, secrets: SecretFilter = SecretFilter(environment: [:])) {
        captured = Locked(capturing ? "" : nil)
        self.secrets = secrets
        stdoutIsTerminal = terminal ?? (!capturing && isatty(1) == 1)
        stderrIsTerminal = terminal ?? (!capturing && isatty(2) == 1)
    }

    package var capturedText: String { captured.withLock { $0 ?? "" } }

    /// True for a test sink: output is kept, never shown, so terminal drawing is off.
    package var isCapturing: Bool { captured.withLock { $0 != nil } }

    package func write(_ text: String) { emit(fd: 1, clean(text, terminal: stdoutIsTerminal)) }
    package func writeError(_ text: String) { emit(fd: 2, clean(text, terminal: stderrIsTerminal)) }
    package func write(_ text: TerminalText) { emit(fd: 1, clean(text, terminal: stdoutIsTerminal)) }
    package func writeError(_ text: TerminalText) { emit(fd: 2, clean(text, terminal: stderrIsTerminal)) }

    /// Text streamed to stdout in pieces (a reply): see `StreamedOutput`. `raw`: control
    /// characters are written as they are, also on a terminal (secrets are still masked).
    package func stream(raw: Bool = false) -> StreamedOutput {
        StreamedOutput(sink: self, sanitise: stdoutIsTerminal && !raw)
    }

    /// Already redacted text to stdout, sanitised when asked (for `StreamedOutput`).
    package func writeRedacted(_ text: String, sanitise: Bool) {
        emit(fd: 1, sanitise ? ControlCharacters.visible(text) : text)
    }

    /// What leaves aish for a file (`--out`, `--csv`, `--junit`, `export`): redacted of
    /// secrets, the text otherwise exact.
    package func forFile(_ text: String) -> String { secrets.redact(text) }

    private func clean(_ text: String, terminal: Bool) -> String {
        let redacted = secrets.redact(text)
        return terminal ? ControlCharacters.visible(redacted) : redacted
    }

    private func clean(_ text: TerminalText, terminal: Bool) -> String {
        text.runs.reduce(into: "") { out, run in
            switch run {
            case let .text(s): out += clean(s, terminal: terminal)
            case let .control(c): out += c
            }
        }
    }

    private func emit(fd: Int32, _ text: String) {
        guard !text.isEmpty else { return }
        captured.withLock { kept in
            if kept != nil { kept! += text; return }
            OutputSink.writeAll(fd: fd, text)
        }
    }

    private static func writeAll(fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buf in Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
        _ = bytes
    }
}
