import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import AishBase
@testable import AishScript
@testable import AishSessionLog

/// `aish test` run by the binary on scripts written into a temporary directory.
@Suite struct TestRunTests {
    let aish: BinaryHarness
    var dir: String { aish.home + "/tests" }

    init() throws {
        aish = try BinaryHarness()
        try FileManager.default.createDirectory(atPath: aish.home + "/tests/sub", withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }

    @Test func passingFailingAndBrokenScriptsGiveALineEachASummaryAndTheFirstFailuresCode() throws {
        defer { aish.cleanUp() }
        try write("a_pass.ai", "echo one\nexpect ok\nexpect contains one\n")
        try write("b_fail.ai", "echo two\nexpect ok\nexpect contains three\n")
        try write("sub/c_syntax.ai", "echo fine\necho \"unterminated\n")
        try write("notes.txt", "not a script")
        let junit = aish.home + "/all.xml"
        let run = try aish.run(["test", "tests", "--jobs", "2", "--junit", junit])
        #expect(run.code == 4, "the first failing file (b_fail.ai) failed an expect: \(run.stdout)\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(run.stdout)")
        #expect(lines.contains { $0.hasPrefix("PASS  tests/a_pass.ai  ") && $0.hasSuffix("(2 expects)") }, "\(lines)")
        #expect(lines.contains {
            $0.hasPrefix("FAIL  tests/b_fail.ai  ")
                && $0.hasSuffix("exit 4: tests/b_fail.ai:3: expect failed: contains three (actual: \"two\")")
        }, "\(lines)")
        #expect(lines.contains {
            $0.hasPrefix("FAIL  tests/sub/c_syntax.ai  ")
                && $0.hasSuffix("exit 2: tests/sub/c_syntax.ai:2:6: error: unterminated double quote")
        }, "\(lines)")
        #expect(lines[3].hasPrefix("1 passed, 2 failed (3 files, "), "\(lines)")
        #expect(lines[4] == "JUnit report: \(junit)")
        #expect(run.stderr == "aish: test: 2 of 3 files failed\n")

        let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: junit))
        let root = try #require(doc.rootElement())
        #expect(root.attribute(forName: "tests")?.stringValue == "5")
        #expect(root.attribute(forName: "failures")?.stringValue == "1")
        #expect(root.attribute(forName: "errors")?.stringValue == "1")
        let cases = try doc.nodes(forXPath: "//testcase").compactMap { $0 as? XMLElement }
        #expect(cases.map { $0.attribute(forName: "name")?.stringValue ?? "" }
            == ["expect ok", "expect contains one", "expect ok", "expect contains three", "run tests/sub/c_syntax.ai"])
        #expect(cases[4].elements(forName: "error").first?.attribute(forName: "message")?.stringValue
            == "tests/sub/c_syntax.ai:2:6: error: unterminated double quote")
    }

    @Test func allPassingExitsZeroAndJSONListsEveryFile() throws {
        defer { aish.cleanUp() }
        try write("one.ai", "echo 1\nexpect ok\n")
        try write("two.ai", "echo 2\nexpect contains 2\n")
        let run = try aish.run(["--json", "test", dir + "/two.ai", dir + "/one.ai"])
        #expect(run.code == 0, "\(run.stderr)")
        let json = try JSONValue.parse(run.stdout)
        #expect(json["status"] == .string("ok"))
        #expect(json["passed"] == .int(2))
        #expect(json["failed"] == .int(0))
        #expect(json["exit_code"] == .int(0))
        // In the order given, not the order they finished.
        #expect(json["results"]?[0]?["file"] == .string(dir + "/two.ai"))
        #expect(json["results"]?[1]?["expects_passed"] == .int(1))
    }

    @Test func aCommandFailureGivesExitOneAndAConfigErrorThree() throws {
        defer { aish.cleanUp() }
        try write("cmd.ai", "echo start\nshow 999999\necho never\n")
        let run = try aish.run(["test", dir + "/cmd.ai"])
        #expect(run.code == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("FAIL  \(dir)/cmd.ai"), "\(run.stdout)")
        #expect(run.stdout.contains("\(dir)/cmd.ai:2: error: show: no request attempt with id 999999"), "\(run.stdout)")

        try FileManager.default.createDirectory(atPath: aish.home + "/badconfig", withIntermediateDirectories: true)
        try "providers: [".write(toFile: aish.home + "/badconfig/providers.yaml", atomically: true, encoding: .utf8)
        try write("cfg.ai", "validate\n")
        let bad = try aish.run(["--config", aish.home + "/badconfig", "test", dir + "/cfg.ai"])
        #expect(bad.code == 3, "\(bad.stdout)\(bad.stderr)")
    }

    @Test func aMissingFileIsAUsageError() throws {
        defer { aish.cleanUp() }
        let run = try aish.run(["test", "nowhere.ai"])
        #expect(run.code == 2)
        #expect(run.stderr.contains("test: no such file or directory: nowhere.ai"), "\(run.stderr)")
    }

    /// Each script sleeps; with --jobs 3 their sessions (rows in the shared log) overlap in
    /// time, with --jobs 1 they follow one another.
    @Test func jobsRunScriptsAtTheSameTime() throws {
        defer { aish.cleanUp() }
        for name in ["p1", "p2", "p3"] { try write("\(name).ai", "sleep 2s\necho \(name)\nexpect ok\n") }
        let parallel = try aish.run(["--json", "--db", aish.home + "/parallel.db", "test", dir, "--jobs", "3"])
        #expect(parallel.code == 0, "\(parallel.stdout)\(parallel.stderr)")
        let serial = try aish.run(["--db", aish.home + "/serial.db", "test", dir, "--jobs", "1"])
        #expect(serial.code == 0, "\(serial.stdout)\(serial.stderr)")

        func sessions(_ db: String) throws -> [(start: String, end: String)] {
            let reader = try SessionLogReader(path: db)
            let s = try reader.db.prepare("SELECT started_at, ended_at FROM sessions WHERE mode = 'script' ORDER BY started_at")
            var out: [(String, String)] = []
            while try s.step() { out.append((s.string(0), s.string(1))) }
            return out
        }
        let p = try sessions(aish.home + "/parallel.db")
        let s = try sessions(aish.home + "/serial.db")
        #expect(p.count == 3 && s.count == 3)
        // ISO times compare as text. Parallel: the last one started before the first one ended.
        #expect(p[2].start < p[0].end, "parallel sessions did not overlap: \(p)")
        #expect(s[1].start >= s[0].end && s[2].start >= s[1].end, "serial sessions overlapped: \(s)")
        // Three 2 s sleeps at once take about 2 s, one after another 6 s; the bound sits far
        // from both, so that a loaded machine cannot fail it.
        let wall = try #require(JSONValue.parse(parallel.stdout)["wall_ms"]?.doubleValue)
        #expect(wall < 5000, "three 2 s scripts with --jobs 3 took \(wall) ms")
    }

    /// A file that hangs is stopped after --timeout and fails with what it printed so far;
    /// the other files are not held up.
    @Test func aHangingFileTimesOutWithItsOutputSoFar() throws {
        defer { aish.cleanUp() }
        try write("a_hang.ai", "echo started\necho still here\nsleep 60s\necho never\n")
        try write("b_ok.ai", "echo fine\nexpect ok\n")
        let started = Date()
        let run = try aish.run(["test", dir, "--timeout", "2s", "--jobs", "2"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 20, "took \(elapsed) s")
        #expect(run.code == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("""
            exit 1: timed out after 2 s (test --timeout); its output so far:
                started
                still here

            """), "\(run.stdout)")
        #expect(!run.stdout.contains("never"))
        #expect(run.stdout.contains("PASS  tests/b_ok.ai  ") || run.stdout.contains("PASS  \(dir)/b_ok.ai  "), "\(run.stdout)")
        let json = try JSONValue.parse(try aish.run(["--json", "test", dir + "/a_hang.ai", "--timeout", "1s"]).stdout)
        let r = json["results"]?[0]
        #expect(r?["timed_out"] == .bool(true))
        #expect(r?["output"] == .string("started\nstill here\n"))
        #expect(r?["result"] == .string("failed"))
        #expect(try JSONValue.parse(try aish.run(["--json", "test", dir + "/b_ok.ai"]).stdout)["results"]?[0]?["output"] == .null)
    }

    /// The pids of the living (not zombie) processes whose parent is `parent`.
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 2 && fields[0] != "Z" && Int32(fields[1]) == parent
        }
    }

    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    /// `aish test` killed with SIGKILL cannot stop its children: they end themselves (and
    /// what they started) when they find their parent gone.
    @Test func childrenDieWithAParentKilledBySIGKILL() throws {
        defer { aish.cleanUp() }
        try write("hang1.ai", "echo started\nsleep 120s\n")
        try write("hang2.ai", "echo started\nsleep 120s\n")
        let parent = try aish.start(["test", dir, "--jobs", "2"])
        var kids: [pid_t] = []
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, kids.count < 2 {
            usleep(50_000)
            kids = Self.children(of: parent.process.processIdentifier)
        }
        #expect(kids.count == 2, "the two scripts did not start: \(kids)")
        usleep(300_000)
        kill(parent.process.processIdentifier, SIGKILL)
        // Looked at before waiting for the parent: Foundation's wait also waits for what it left behind.
        let gone = Date().addingTimeInterval(5)
        while Date() < gone, kids.contains(where: Self.isAlive) { usleep(50_000) }
        let alive = kids.filter(Self.isAlive)
        #expect(alive.isEmpty, "children still running 5 s after their parent was killed: \(alive)")
        for pid in alive { kill(pid, SIGKILL) }
        parent.finish()
    }

    /// Each child writes its results as JSON to the file the parent names; the channel's
    /// variables are not passed on to what the script runs.
    @Test func aChildReportsItsResultsAsJSONOnItsChannel() throws {
        defer { aish.cleanUp() }
        try write("r.ai", "echo one\nexpect contains one\nexpect contains two\n")
        let path = aish.home + "/results.json"
        let run = try aish.run(["-f", dir + "/r.ai"], extraEnvironment: [TestChildChannel.resultsVariable: path])
        #expect(run.code == 4)
        let json = try JSONValue.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(json["exit_code"] == .int(4))
        #expect(json["passed"] == .int(1))
        #expect(json["failed"] == .int(1))
        #expect(json["first_failure"] == .string("\(dir)/r.ai:3: expect failed: contains two (actual: \"one\")"))
        #expect(json["expects"]?[1]?["line"] == .int(3))
        #expect(json["expects"]?[1]?["passed"] == .bool(false))
        let read = try #require(TestChildChannel.Results.read(path))
        #expect(read.ledger.cases.map(\.assertion) == ["contains one", "contains two"])
    }
}
