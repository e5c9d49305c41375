import Foundation
import Testing

/// `tail` at a real terminal (tmux): Ctrl-C ends the live view and the next prompt starts
/// on a line of its own, not after the "^C" the terminal echoed.
@Suite(.serialized) struct TailTerminalTests {
    @Test func ctrlCEndsTailRequestsAndThePromptStartsANewLine() throws {
        let t = try TmuxShell()
        try t.start()
        try t.type("tail requests")
        try t.send("Enter")
        try t.waitFor("(Ctrl-C to stop)")
        usleep(300_000)
        try t.send("C-c")
        try t.waitFor("aish> ", count: 2)
        let lines = try t.lines()
        #expect(lines.contains("^C"), "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("^Caish>") }, "\(lines)")
        try t.type("echo alive")
        try t.send("Enter")
        try t.waitFor("\nalive")
    }
}
