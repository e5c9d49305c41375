import FoundationEssentials
import Glibc
import Synchronization
import AishBase

/// A compiled `patterns[].pattern`. NSRegularExpression is immutable after creation and
/// documented as safe to use from several threads.
package final class CompiledPattern: @unchecked Sendable {
    private let regex: PythonRegex

    package init?(_ pattern: String) {
        guard let r = try? PythonRegex(pattern) else { return nil }
        regex = r
    }

    /// Search semantics (a match anywhere, as LiteLLM's Python `re.search`); anchors in the
    /// pattern say otherwise.
    package func matches(_ text: String) -> Bool {
        regex.matches(text)
    }
}

/// Compiles each distinct pattern once per process: validate and the router call this for
/// every load and every routed request, and compiling is the expensive part.
package final class PatternCache: Sendable {
    package static let shared = PatternCache()
    private let compiled = Mutex<[String: CompiledPattern?]>([:])

    /// nil when the pattern does not compile.
    package func regex(_ pattern: String) -> CompiledPattern? {
        if let hit = compiled.withLock({ $0[pattern] }) { return hit }
        let made = CompiledPattern(pattern)
        compiled.withLock { $0[pattern] = made }
        return made
    }
}
