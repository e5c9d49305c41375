import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishHTTP
@testable import AishSQLite
@testable import AishScript

/// Every error becomes text and an exit code in one place.
@Suite struct ErrorTextTests {
    @Test func eachErrorTypeSaysItsExitCode() {
        #expect(ErrorText(UsageError(message: "x: bad", usage: "x N")).exitCode == 2)
        #expect(ErrorText(CommandFailure("x: failed")).exitCode == 1)
        #expect(ErrorText(ExpectationFailure(assertion: "ok", actual: "error")).exitCode == 4)
        #expect(ErrorText(ConfigError(findings: [], summary: nil)).exitCode == 3)
        #expect(ErrorText(SQLiteError(code: 1, message: "no such table: t", sql: nil)).exitCode == 1)
    }

    @Test func locatedErrorsAreNotPrefixedWithTheProgramName() {
        let located = ScriptFileError(location: "a.ai:1:3", message: "binary file (NUL byte), not an aish script")
        #expect(ErrorText(located).programLine == "a.ai:1:3: error: binary file (NUL byte), not an aish script")
        let unreadable = ScriptFileError(message: "cannot read script 'x.ai': no such file")
        #expect(ErrorText(unreadable).programLine == "aish: cannot read script 'x.ai': no such file")
        #expect(ErrorText(UsageError(message: "wait: missing PROVIDER", usage: "wait PROVIDER")).programLine
            == "aish: wait: missing PROVIDER\nusage: wait PROVIDER")
    }

    /// Anything that is not a user-facing error is still shown, as a failure.
    @Test func otherErrorsAreFailures() {
        struct Odd: Error {}
        let t = ErrorText(Odd())
        #expect(t.exitCode == 1)
        #expect(t.programLine.hasPrefix("aish: "))
    }
}

/// The shared test support fails a test, never the process, when something is missing.
@Suite struct TestSupportTests {
    @Test func aMissingFixtureIsAnErrorNotACrash() {
        #expect(throws: MissingTestFile.self) { try TestPaths.existing("Tests/Fixtures/no-such-fixture.yaml") }
    }

    @Test func theFreePortIsFree() throws {
        let port = FreePort.unused()
        #expect((1...65535).contains(port))
        #expect(throws: (any Error).self) {
            try TCPConnection(host: "127.0.0.1", port: port, timeout: 1, interrupt: InterruptFlag())
        }
    }
}
