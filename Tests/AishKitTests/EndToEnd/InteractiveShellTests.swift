import Foundation
import Testing
@testable import AishBase
@testable import AishLineEditor

/// The interactive shell driven through tmux: a private tmux server per test (its own
/// socket), the built binary inside it, keys sent and the screen read back.
final class TmuxShell {
    let aish: BinaryHarness
    let socket = "aish-test-\(UUID().uuidString.prefix(8))"
    let session = "aish"

    private let ownsHome: Bool
    /// stderr of the last tmux command that failed, shown when a wait times out.
    private var lastError = ""

    init() throws {
        aish = try BinaryHarness()
        ownsHome = true
    }

    init(aish: BinaryHarness) throws {
        self.aish = aish
        ownsHome = false
    }

    /// Starts aish in a 120×30 window; after aish ends the pane shows `[exited CODE]`.
    func start(arguments: String = "") throws {
        let env = aish.environment.map { "\($0.key)='\($0.value)'" }.sorted().joined(separator: " ")
        let command = "env \(env) '\(BinaryHarness.path)' \(arguments); echo \"[exited $?]\"; sleep 600"
        try tmux(["new-session", "-d", "-s", session, "-x", "120", "-y", "30", command])
        try waitFor("aish> ")
    }

    func send(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    /// Literal text (no key names).
    func type(_ text: String) throws { try tmux(["send-keys", "-t", session, "-l", text]) }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]) }

    /// Lines of the screen with trailing blanks removed.
    func lines() throws -> [String] {
        try screen().split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.filter { !$0.isEmpty }
    }

    /// Waits (generously) until the screen contains `text`, else fails with the screen.
    /// tmux drops trailing blanks from screen lines, so `text` is compared without them.
    @discardableResult
    func waitFor(_ wanted: String, count: Int = 1, timeout: Double = 15) throws -> String {
        var text = wanted
        while text.hasSuffix(" ") { text.removeLast() }
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if last.components(separatedBy: text).count - 1 >= count { return last }
            usleep(50_000)
        }
        throw TmuxTimeout(waitingFor: text, screen: last + (lastError.isEmpty ? "" : "\ntmux: " + lastError))
    }

    func stop() {
        _ = try? tmux(["kill-server"])
    }

    deinit {
        stop()
        if ownsHome { aish.cleanUp() }
    }

    /// Runs the tmux client with posix_spawn and waitpid: Foundation's Process on Linux
    /// waits until every process that inherited its child's descriptors is gone, and the
    /// tmux server started by new-session never goes. Output goes through a file.
    @discardableResult
    private func tmux(_ args: [String]) throws -> String {
        let outPath = aish.home + "/tmux-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: outPath + ".err")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, outPath + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The test runner blocks or ignores signals that tmux and aish must see (SIGINT, SIGHUP).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ["tmux", "-L", socket, "-f", "/dev/null"] + args
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "tmux", &actions, &attributes, &cArgs, environ)
        guard rc == 0 else { throw TmuxTimeout(waitingFor: "tmux to start (posix_spawnp: \(rc))", screen: "") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status != 0 {
            lastError = (try? String(contentsOfFile: outPath + ".err", encoding: .utf8)) ?? ""
        }
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }
}

struct TmuxTimeout: Error, CustomStringConvertible {
    var waitingFor: String
    var screen: String
    var description: String { "timed out waiting for '\(waitingFor)'; screen:\n\(screen)" }
}

@Suite(.serialized) struct InteractiveShellTests {
    @Test func tabCompletesCommandsArgumentsAndOptions() throws {
        let t = try TmuxShell()
        try t.start()
        try t.type("ech")
        try t.send("Tab")
        try t.waitFor("aish> echo ")
        try t.type("done-1")
        try t.send("Enter")
        try t.waitFor("\ndone-1")
        try t.type("help sle")
        try t.send("Tab")
        try t.waitFor("aish> help sleep ")
        try t.send("Enter")
        try t.waitFor("usage: sleep DURATION")
        try t.type("history --la")
        try t.send("Tab")
        try t.waitFor("aish> history --last ")
        try t.send("C-u")
        try t.type("exit")
        try t.send("Enter")
        try t.waitFor("[exited 0]")
    }

    @Test func chatCompletesFileNamesAfterDashFAndOptionNamesAfterDashO() throws {
        let t = try TmuxShell()
        let home = t.aish.home
        try "notes".write(toFile: home + "/prompt-notes.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: home + "/prompt-dir", withIntermediateDirectories: true)
        try "code".write(toFile: home + "/prompt-dir/main.py", atomically: true, encoding: .utf8)
        try t.start()
        try t.type("chat -o te")
        try t.send("Tab")
        try t.waitFor("aish> chat -o temperature ")
        // After -o NAME VALUE (two words), -f completes a file name.
        try t.type("0.2 -f \(home)/prompt-no")
        try t.send("Tab")
        try t.waitFor("aish> chat -o temperature 0.2 -f \(home)/prompt-notes.txt ")
        try t.send("C-u")
        try t.type("chat --file \(home)/prompt-d")
        try t.send("Tab")
        try t.waitFor("aish> chat --file \(home)/prompt-dir/")
        try t.type("ma")
        try t.send("Tab")
        try t.waitFor("aish> chat --file \(home)/prompt-dir/main.py ")
        try t.send("C-u")
        try t.type("exit")
        try t.send("Enter")
        try t.waitFor("[exited 0]")
    }

    @Test func historyIsKeptAcrossSessionsInAPrivateFile() throws {
        let t = try TmuxShell()
        try t.start()
        try t.type("echo remembered-42")
        try t.send("Enter")
        try t.waitFor("\nremembered-42")
        try t.send("C-d")
        try t.waitFor("[exited 0]")
        let path = t.aish.home + "/history"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("_HiStOrY_V2_\n"))
        t.stop()

        let again = try TmuxShell(aish: t.aish)  // same HOME and history file
        try again.start()
        try again.send("Up")
        try again.waitFor("aish> echo remembered-42")
        try again.send("Enter")
        try again.waitFor("\nremembered-42")
        try again.type("history")
        try again.send("Enter")
        try again.waitFor("    1  echo remembered-42")
    }

    /// Keys typed at the prompt are masked before the history file is written (issue 16.2).
    @Test func secretsNeverReachTheHistoryFile() throws {
        let t = try TmuxShell()
        try t.start()
        for line in ["echo sk-abcdefghijklmnop1234", "echo Bearer tok-123456", "set db_password hunter2",
                     "echo ghp_abcdefghijklmnop0123 done"] {
            try t.type(line)
            try t.send("Enter")
        }
        // The output of the last echo (masked on the screen too), not the typed line.
        try t.waitFor("\n*** done")
        try t.send("C-d")
        try t.waitFor("[exited 0]")
        let text = try String(contentsOfFile: t.aish.home + "/history", encoding: .utf8)
        #expect(!text.contains("abcdefghijklmnop"))
        #expect(!text.contains("tok-123456"))
        #expect(!text.contains("hunter2"))
        #expect(HistoryFile.read(path: t.aish.home + "/history")
            == ["echo ***", "echo Bearer ***", "set db_password ***", "echo *** done"])
    }

    /// A value that became secret in the session (`set db_password V`) is masked in the lines
    /// typed after it too, as on the screen and in the log: one secret filter serves all three.
    @Test func aSecretSetInTheSessionIsMaskedInLaterHistoryLines() throws {
        let t = try TmuxShell()
        try t.start()
        for line in ["set db_password plainvalue9", "echo plainvalue9 again"] {
            try t.type(line)
            try t.send("Enter")
        }
        try t.waitFor("\n*** again")
        try t.send("C-d")
        try t.waitFor("[exited 0]")
        #expect(HistoryFile.read(path: t.aish.home + "/history") == ["set db_password ***", "echo *** again"])
    }

    @Test func ctrlCClearsThePromptAndCancelsACommandButNeverExits() throws {
        let t = try TmuxShell()
        try t.start()
        try t.type("echo partial")
        try t.send("C-c")
        try t.waitFor("aish> ", count: 2)
        try t.type("echo fresh")
        try t.send("Enter")
        try t.waitFor("\nfresh")
        #expect(!(try t.screen().contains("partial fresh")))
        try t.type("sleep 60s")
        try t.send("Enter")
        usleep(300_000)
        try t.send("C-c")
        try t.waitFor("aish: sleep: interrupted")
        try t.type("echo alive")
        try t.send("Enter")
        try t.waitFor("\nalive")
        #expect(!(try t.screen().contains("[exited")))
    }

    @Test func nonASCIIInputAndMultiLineHeredoc() throws {
        let t = try TmuxShell()
        try t.start()
        try t.type("echo héllo wörld ✓ 日本")
        try t.send("Enter")
        try t.waitFor("\nhéllo wörld ✓ 日本")
        try t.type("echo <<EOF")
        try t.send("Enter")
        try t.waitFor("\n> ")
        try t.type("first line")
        try t.send("Enter")
        try t.type("second $HOME")
        try t.send("Enter")
        try t.type("EOF")
        try t.send("Enter")
        try t.waitFor("\nsecond \(t.aish.home)")
        #expect(try t.lines().contains("first line"))
        try t.type("echo one \\")
        try t.send("Enter")
        try t.type("two")
        try t.send("Enter")
        try t.waitFor("\none two")
    }
}

