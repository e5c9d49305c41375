import Foundation
import Testing
@testable import AishBase

/// The output options of the binary against what they write to (issue 24.4): `report --out`
/// and `--junit` into a FIFO, a device, a link and an existing file.
@Suite struct OutputFileBinaryTests {
    /// `report` runs without a stack (no config: exit 3, but the report is written).
    @Test func reportOutIntoAFIFOADeviceAndALink() throws {
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let fifo = h.home + "/report.fifo"
        #expect(mkfifo(fifo, 0o644) == 0)
        let reader = OutputFileTests.FIFOReader(fifo)
        let r = try h.run(["-c", "report --out \(fifo) --format md --timeout 2s"])
        #expect(r.stdout.contains("report written to \(fifo)"), "\(r.stdout)\(r.stderr)")
        let text = reader.wait()
        #expect(text.hasPrefix("# "), "\(text.prefix(200))")
        #expect(OutputFileTests.fileType(fifo) == S_IFIFO)

        let null = try h.run(["-c", "report --out /dev/null --timeout 2s"])
        #expect(null.stdout.contains("report written to /dev/null"))
        #expect(OutputFileTests.fileType("/dev/null") == S_IFCHR && mode(of: "/dev/null") == 0o666)
        let full = try h.run(["-c", "report --out /dev/full --timeout 2s"])
        #expect(full.code == 1)
        #expect(full.stderr.contains("report: cannot write /dev/full: write(/dev/full): No space left on device"), "\(full.stderr)")
        #expect(OutputFileTests.fileType("/dev/full") == S_IFCHR)

        let target = h.home + "/real.json", link = h.home + "/latest.json"
        try "{}".write(toFile: target, atomically: false, encoding: .utf8)
        chmod(target, 0o644)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        _ = try h.run(["-c", "report --out \(link) --timeout 2s"])
        #expect(OutputFileTests.fileType(link) == S_IFLNK)
        let json = try JSONValue.parse(OutputFileTests.text(target) ?? "")
        #expect(json["generated_at"]?.stringValue != nil)
        #expect(mode(of: target) == 0o644)
    }

    /// JUnit reports may quote replies: private, also over an existing 0644 file.
    @Test func junitIsPrivateAndReplacedWhole() throws {
        let h = try BinaryHarness()
        defer { h.cleanUp() }
        let junit = h.home + "/junit.xml"
        try String(repeating: "old junk\n", count: 1000).write(toFile: junit, atomically: false, encoding: .utf8)
        chmod(junit, 0o644)
        let r = try h.run(["--junit", junit, "-c", "echo hi; expect text == \"hi\""])
        #expect(r.code == 0)
        #expect(mode(of: junit) == 0o600)
        let xml = OutputFileTests.text(junit) ?? ""
        #expect(xml.hasPrefix("<?xml") && xml.hasSuffix("</testsuites>\n") && !xml.contains("old junk"))
        let null = try h.run(["--junit", "/dev/null", "-c", "echo hi"])
        #expect(null.code == 0 && mode(of: "/dev/null") == 0o666 && OutputFileTests.fileType("/dev/null") == S_IFCHR)
    }
}
