import FoundationEssentials
import Glibc

/// What a finished external program left behind.
package struct ProgramOutput: Sendable {
    package var exitStatus: Int32
    package var standardOutput: String
    package var standardError: String
    package var succeeded: Bool { exitStatus == 0 }
}

/// Why an external program could not be run to completion.
package enum ExternalProgramError: UserFacingError, Equatable {
    package var exitCode: ExitCode { .failure }
    case notFound(program: String)
    case launchFailed(program: String, reason: String)
    case timedOut(program: String, seconds: Double)
    case interrupted(program: String)

    package var description: String {
        switch self {
        case let .notFound(p): return "\(p) not found on PATH"
        case let .launchFailed(p, r): return "could not run \(p): \(r)"
        case let .timedOut(p, s): return "\(p) did not finish within \(DurationText.seconds(s))"
        case let .interrupted(p): return "\(p) interrupted"
        }
    }
}

/// Runs a program from PATH as an argument vector: no shell is involved, so nothing in an
/// argument (unit names from the config, service names typed by the user) is ever
/// interpreted. PATH comes from the given environment, not the process's, so tests can put
/// stand-ins first without touching global state.
package struct ExternalProgram: Sendable {
    package var name: String
    package var environment: [String: String]

    package init(name: String, environment: [String: String]) {
        self.name = name
        self.environment = environment
    }

    /// The executable `name` resolves to on PATH, or nil.
    package func resolvedPath() -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = "\(directory)/\(name)"
            var isDirectory: Bool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory,
                FileManager.default.isExecutableFile(atPath: candidate)
            {
                return candidate
            }
        }
        return nil
    }

    /// Runs to completion, polling `interrupt` every 20 ms; a timeout or Ctrl-C terminates
    /// the child (SIGTERM, then SIGKILL after a second) and throws.
    package func run(_ arguments: [String], timeout: Double, interrupt: InterruptFlag) throws -> ProgramOutput {
        guard let executable = resolvedPath() else { throw ExternalProgramError.notFound(program: name) }
        let child: SpawnedChild
        do {
            child = try SpawnedChild(executable: executable, arguments: [name] + arguments,
                                     environment: environment.map { "\($0.key)=\($0.value)" })
        } catch let e as SpawnFailure {
            throw ExternalProgramError.launchFailed(program: name, reason: e.reason)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while !child.hasExited {
            if interrupt.isRaised { child.stop(); throw ExternalProgramError.interrupted(program: name) }
            if Date() >= deadline { child.stop(); throw ExternalProgramError.timedOut(program: name, seconds: timeout) }
            child.pump(waitMs: 20)
        }
        // A grandchild may keep the pipes open; do not wait for it forever.
        let drainUntil = Date().addingTimeInterval(2)
        while !child.outputClosed, Date() < drainUntil { child.pump(waitMs: 20) }
        return ProgramOutput(exitStatus: child.exitStatus, standardOutput: String(decoding: child.stdout, as: UTF8.self),
                             standardError: String(decoding: child.stderr, as: UTF8.self))
    }
}

package struct SpawnFailure: UserFacingError {
    package var exitCode: ExitCode { .failure }
    package var reason: String
    package var description: String { reason }
}

/// A child started with posix_spawn, owning its pid and the read ends of its output pipes.
/// The child starts with an empty signal mask and default dispositions: threads of the
/// shell (and of test runners) block signals, and a spawned program would otherwise
/// inherit that and ignore SIGTERM and Ctrl-C.
package final class SpawnedChild {
    private let pid: pid_t
    private var outFD: Int32
    private var errFD: Int32
    package private(set) var stdout: [UInt8] = []
    package private(set) var stderr: [UInt8] = []
    package private(set) var exitStatus: Int32 = -1
    private var reaped = false
    /// The child leads a process group of its own: signals go to the group (its children too).
    private let ownGroup: Bool

    /// `ownGroup`: start the child in a new process group, so that stopping it also stops
    /// whatever it started (and a terminal's Ctrl-C reaches only this process, which stops it).
    package init(executable: String, arguments: [String], environment: [String], ownGroup: Bool = false) throws {
        self.ownGroup = ownGroup
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw SpawnFailure(reason: "pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw SpawnFailure(reason: "pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec, so children spawned meanwhile by other threads do not hold them.
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for p in cArguments { free(p) }
            for p in cEnvironment { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, &cArguments, &cEnvironment)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw SpawnFailure(reason: String(cString: strerror(rc)))
        }
        self.pid = pid
        outFD = outPipe[0]
        errFD = errPipe[0]
    }

    deinit {
        if !reaped { stop() }
        if outFD >= 0 { close(outFD) }
        if errFD >= 0 { close(errFD) }
    }

    /// True once the child has been reaped (checked without blocking).
    package var hasExited: Bool {
        if reaped { return true }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return false }
        record(status)
        return true
    }

    package var outputClosed: Bool { outFD < 0 && errFD < 0 }

    /// Waits up to `waitMs` for output and reads what is there.
    package func pump(waitMs: Int32) {
        var fds: [pollfd] = []
        if outFD >= 0 { fds.append(pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)) }
        if errFD >= 0 { fds.append(pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)) }
        guard !fds.isEmpty else { usleep(useconds_t(waitMs) * 1000); return }
        guard poll(&fds, nfds_t(fds.count), waitMs) > 0 else { return }
        for p in fds where p.revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(p.fd, &buffer, buffer.count)
            if n > 0 {
                if p.fd == outFD { stdout += buffer[0..<n] } else { stderr += buffer[0..<n] }
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                close(p.fd)
                if p.fd == outFD { outFD = -1 } else { errFD = -1 }
            }
        }
    }

    package var processID: pid_t { pid }

    /// Sends `signal` to the child, or to its whole group when it has one.
    package func signal(_ signal: Int32) {
        if ownGroup { kill(-pid, signal) } else { kill(pid, signal) }
    }

    /// SIGTERM, then SIGKILL after a second (`grace`); always reaps.
    package func stop(grace seconds: Double = 1) {
        guard !reaped else { return }
        signal(seconds > 0 ? SIGTERM : SIGKILL)
        let grace = Date().addingTimeInterval(seconds)
        while !hasExited, Date() < grace { pump(waitMs: 20) }
        if !reaped {
            signal(SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            record(status)
        }
    }

    private func record(_ status: Int32) {
        reaped = true
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
        let signal = status & 0x7F
        exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

