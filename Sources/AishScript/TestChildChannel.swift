import FoundationEssentials
import Glibc
import AishBase

/// The channel between `aish test` and each script it runs: the parent names a results file
/// and itself in two environment variables; the child writes its results there as JSON when
/// it ends (no parsing of what it printed), and ends itself, with everything it started,
/// when the parent is gone (killed with SIGKILL, it cannot stop its children).
package enum TestChildChannel {
    package static let resultsVariable = "AISH_TEST_RESULTS"
    package static let parentVariable = "AISH_TEST_PARENT"
    package static let variables: Set<String> = [resultsVariable, parentVariable]
    /// How often a child looks for its parent.
    package static let parentCheckInterval: useconds_t = 100_000

    /// What one child reports: the exit code, the first error it reported (as printed) and
    /// every expect and every command error of its ledger.
    package struct Results {
        package var suiteName: String
        package var exitCode: Int32
        package var firstFailure: String?
        package var ledger: ExpectLedger

        package init(suiteName: String, exitCode: Int32, firstFailure: String? = nil, ledger: ExpectLedger) {
            self.suiteName = suiteName
            self.exitCode = exitCode
            self.firstFailure = firstFailure
            self.ledger = ledger
        }

        package var json: JSONValue {
            func cases(_ list: [ExpectLedger.Case]) -> JSONValue {
                .array(list.map { c in
                    .object([("file", .string(c.file)), ("line", .int(c.line)), ("assertion", .string(c.assertion)),
                             ("passed", .bool(c.passed)), ("message", c.message.map { .string($0) } ?? .null),
                             ("seconds", .double(c.seconds))])
                })
            }
            return .object([
                ("suite", .string(suiteName)), ("exit_code", .int(Int(exitCode))),
                ("first_failure", firstFailure.map { .string($0) } ?? .null),
                ("passed", .int(ledger.passed)), ("failed", .int(ledger.failed)),
                ("expects", cases(ledger.cases)), ("command_errors", cases(ledger.commandErrors)),
            ])
        }

        /// The results a child wrote; nil when it wrote none (killed, crashed) or they are unreadable.
        package static func read(_ path: String) -> Results? {
            guard let data = FileManager.default.contents(atPath: path), let json = try? JSONValue.parse(bytes: data),
                  let code = json["exit_code"]?.intValue else { return nil }
            func cases(_ v: JSONValue?) -> [ExpectLedger.Case] {
                guard case let .array(items)? = v else { return [] }
                return items.map { c in
                    ExpectLedger.Case(file: c["file"]?.stringValue ?? "", line: c["line"]?.intValue ?? 0,
                                      assertion: c["assertion"]?.stringValue ?? "", passed: c["passed"] == .bool(true),
                                      message: c["message"]?.stringValue, seconds: c["seconds"]?.doubleValue ?? 0)
                }
            }
            let ledger = ExpectLedger()
            ledger.cases = cases(json["expects"])
            ledger.commandErrors = cases(json["command_errors"])
            return Results(suiteName: json["suite"]?.stringValue ?? "aish", exitCode: Int32(code),
                           firstFailure: json["first_failure"]?.stringValue, ledger: ledger)
        }

        /// Written whole or not at all (a rename), so the parent never reads half a file.
        package func write(to path: String) throws {
            try Data(json.serialized().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
    }

    /// In a child of `aish test`: takes the channel's variables out of `environment` and of
    /// the process environment (so that nothing the script runs inherits them) and returns
    /// the results path. When a parent is named, a watcher ends this process, and its process
    /// group when it leads one, as soon as the parent is gone.
    package static func take(_ environment: inout [String: String]) -> String? {
        let path = environment[resultsVariable]
        let parent = environment[parentVariable].flatMap { pid_t($0) }
        for name in variables {
            environment[name] = nil
            unsetenv(name)
        }
        if let parent { watch(parent: parent) }
        return path
    }

    private static func watch(parent: pid_t) {
        @Sendable func parentGone() -> Bool { getppid() != parent }
        @Sendable func end() {
            // The group is ours only when this process leads it (aish test starts each child so).
            if getpgrp() == getpid() { kill(0, SIGKILL) }
            kill(getpid(), SIGKILL)
        }
        if parentGone() { end() }
        WorkerThread.start(stackSize: 64 << 10) {
            while true {
                usleep(parentCheckInterval)
                if parentGone() { end() }
            }
        }
    }
}
