import Glibc

/// Starts detached POSIX threads for blocking work (libcurl transfers, connects): what
/// Foundation's Thread did, without Foundation.
package enum WorkerThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread. Traps if the system cannot make one (as Thread did).
    /// `name` (at most 15 bytes are kept) is what `top -H` and /proc show for the thread.
    package static func start(stackSize: Int = 1 << 20, name: String? = nil, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, stackSize)
        let context = Unmanaged.passRetained(Box {
            if let name { nameThisThread(name) }
            body()
        }).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(String(cString: strerror(rc)))")
    }

    /// Glibc's pthread_setname_np is not imported into Swift; Linux takes the name written to
    /// the thread's own comm file (and keeps its first 15 bytes).
    private static func nameThisThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
