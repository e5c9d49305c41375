import FoundationEssentials
import Glibc
import Synchronization

/// Set by SIGINT; polled by long-running work (sleep, transfers, tail) so that Ctrl-C
/// cancels the command in flight and never the shell.
package final class InterruptFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    package init() {}

    package func raise() { raised.store(true, ordering: .relaxed) }
    package func clear() { raised.store(false, ordering: .relaxed) }
    package var isRaised: Bool { raised.load(ordering: .relaxed) }

    /// The process-wide flag the SIGINT handler sets.
    package static let shared = InterruptFlag()
}
