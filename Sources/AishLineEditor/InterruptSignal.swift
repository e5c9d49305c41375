import FoundationEssentials
import Glibc
import Synchronization
import AishBase

/// SIGINT handling: Ctrl-C raises `InterruptFlag.shared`, so the running command stops (it
/// polls the flag), and wakes the line editor through a self-pipe so a prompt can be cleared.
/// In a non-interactive run a second Ctrl-C within a second ends the process with 130, for
/// a command that does not stop.
///
/// SIGTERM (CI timeouts, service managers) cancels the running command the same way and then
/// ends aish with 143 after the session log is closed; a second SIGTERM ends it at once.
package enum InterruptSignal {
    /// The self-pipe: the handler writes one byte to `wakeWrite`; the line editor polls
    /// `wakeRead` next to standard input.
    nonisolated(unsafe) private(set) static var wakeRead: Int32 = -1
    nonisolated(unsafe) private static var wakeWrite: Int32 = -1
    nonisolated(unsafe) private static var exitOnSecond = false
    private static let lastInterruptNanos = Atomic<Int64>(0)
    private static let terminationSignal = Atomic<Int32>(0)

    /// The signal that asked aish to end (SIGTERM), if one came.
    package static var pendingTermination: Int32? {
        let s = terminationSignal.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }

    package static func install(interactive: Bool) {
        _ = InterruptFlag.shared  // initialise the global before a handler can touch it
        exitOnSecond = !interactive
        if interactive, wakeRead < 0 {
            var fds: [Int32] = [0, 0]
            if pipe(&fds) == 0 {
                for fd in fds {
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                }
                wakeRead = fds[0]
                wakeWrite = fds[1]
            }
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in InterruptSignal.handle() }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: a blocking read returns EINTR and the reader looks at the flag
        sigaction(SIGINT, &action, nil)
        var terminate = sigaction()
        terminate.__sigaction_handler.sa_handler = { signal in InterruptSignal.handleTermination(signal) }
        sigemptyset(&terminate.sa_mask)
        terminate.sa_flags = 0
        sigaction(SIGTERM, &terminate, nil)
        // A parent may have left these blocked (test runners, some process supervisors).
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// Runs inside the signal handler: only async-signal-safe calls.
    private static func handle() {
        let nanos = Int64(MonotonicClock.nanoseconds())
        let previous = lastInterruptNanos.exchange(nanos, ordering: .relaxed)
        if exitOnSecond, previous != 0, nanos - previous < 1_000_000_000 { _exit(130) }
        InterruptFlag.shared.raise()
        if wakeWrite >= 0 {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    private static func handleTermination(_ signal: Int32) {
        if terminationSignal.exchange(signal, ordering: .relaxed) != 0 { _exit(128 + signal) }
        InterruptFlag.shared.raise()
        if wakeWrite >= 0 {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    /// Empties the self-pipe before a new prompt so an old Ctrl-C does not clear it.
    package static func drainWakeups() {
        guard wakeRead >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }
}
