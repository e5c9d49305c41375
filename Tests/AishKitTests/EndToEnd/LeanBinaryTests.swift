import Foundation
import Testing

/// Issue 17: the aish binary uses FoundationEssentials, never full Foundation, so ICU (its
/// data and its code: most of the old binary's 79 MB and of its start-up) stays out. Checked
/// on the binary the other end-to-end tests run: any Swift file that imports Foundation (or
/// FoundationInternationalization) makes the linker pull those libraries, and this fails.
/// Fix: `import FoundationEssentials` plus `import Glibc`, and aish's own helpers for what
/// Essentials lacks (Core/Essentials: trimming, replacingAll, cFormat, UTCTime, PathText,
/// ThreadLock, WorkerThread; Core/PythonRegex for regular expressions).
@Suite struct LeanBinaryTests {
    static let forbidden = ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU",
                            "libFoundationNetworking", "libFoundationXML", "libicu"]

    private func output(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(tool) \(arguments.joined(separator: " ")) failed")
        return String(decoding: data, as: UTF8.self)
    }

    @Test func theBinaryLinksNeitherFoundationNorICU() throws {
        let binary = BinaryHarness.path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary): run swift build first")
        // The libraries the loader maps (ldd also lists what the direct ones need).
        let libraries = try output("/usr/bin/ldd", [binary])
        #expect(libraries.contains("libFoundationEssentials"), "the check would pass vacuously:\n\(libraries)")
        for name in Self.forbidden {
            #expect(!libraries.contains(name), "aish links \(name):\n\(libraries)")
        }
        // And no symbol from them, defined or wanted (a static build would carry ICU's own).
        let symbols = try output("/usr/bin/nm", ["--extern-only", binary])
        let icu = symbols.split(separator: "\n").filter { $0.contains("icu_") || $0.contains("_FoundationICU") || $0.contains("10Foundation") }
        #expect(icu.isEmpty, "ICU or Foundation symbols in aish: \(icu.prefix(5))")
    }
}
