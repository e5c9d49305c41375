import Foundation
import Testing
@testable import AishBase

@Suite struct ExternalProgramTests {
    let env = ["PATH": "/usr/bin:/bin"]

    @Test func argumentsArriveLiterallyAndOutputsStaySeparate() throws {
        let sh = ExternalProgram(name: "sh", environment: env)
        let out = try sh.run(["-c", "printf '%s|' \"$@\"; echo oops >&2; exit 3", "sh", "a b", "$(id)", "*", ""],
                             timeout: 10, interrupt: InterruptFlag())
        #expect(out.standardOutput == "a b|$(id)|*||")
        #expect(out.standardError == "oops\n")
        #expect(out.exitStatus == 3)
        #expect(!out.succeeded)
    }

    @Test func largeOutputDoesNotBlockTheChild() throws {
        let out = try ExternalProgram(name: "head", environment: env)
            .run(["-c", "300000", "/dev/zero"], timeout: 20, interrupt: InterruptFlag())
        #expect(out.standardOutput.utf8.count == 300_000)
        #expect(out.succeeded)
    }

    @Test func childStartsWithNoBlockedSignals() throws {
        let out = try ExternalProgram(name: "grep", environment: env)
            .run(["-E", "^Sig(Blk|Ign)", "/proc/self/status"], timeout: 10, interrupt: InterruptFlag())
        let lines = out.standardOutput.split(separator: "\n")
        #expect(lines.first == "SigBlk:\t0000000000000000")
        // SIGINT (2) and SIGTERM (15) are not ignored either.
        let ignored = try #require(lines.last.flatMap { UInt64($0.dropFirst("SigIgn:\t".count), radix: 16) })
        #expect(ignored & (1 << 1 | 1 << 14) == 0)
    }

    @Test func timeoutAndInterruptStopTheChild() throws {
        let sleep = ExternalProgram(name: "sleep", environment: env)
        let started = Date()
        #expect(throws: ExternalProgramError.timedOut(program: "sleep", seconds: 0.3)) {
            try sleep.run(["60"], timeout: 0.3, interrupt: InterruptFlag())
        }
        let flag = InterruptFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { flag.raise() }
        #expect(throws: ExternalProgramError.interrupted(program: "sleep")) {
            try sleep.run(["60"], timeout: 60, interrupt: flag)
        }
        // Generous: both children were stopped long before their 60 s were up.
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func missingProgram() {
        let p = ExternalProgram(name: "no-such-program-aish", environment: env)
        #expect(p.resolvedPath() == nil)
        #expect(throws: ExternalProgramError.notFound(program: "no-such-program-aish")) {
            try p.run([], timeout: 1, interrupt: InterruptFlag())
        }
        #expect(ExternalProgramError.notFound(program: "systemctl").description == "systemctl not found on PATH")
    }
}
