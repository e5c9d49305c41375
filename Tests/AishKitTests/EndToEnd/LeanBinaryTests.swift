import Foundation
import Testing

/// Issue 17: the aish binary uses FoundationEssentials, never full Foundation, so ICU (its
/// data and its code: most of the old binary's 79 MB and of its start-up) stays out. Checked
/// on the binary the other end-to-end tests run: any Swift file that imports Foundation (or
/// FoundationInternationalization) makes the linker pull those libraries, and this fails.
/// Fix: `import FoundationEssentials` plus `import Glibc`, and aish's own helpers for what
/// Essentials lacks (AishBase: trimming, replacingAll, cFormat, UTCTime, PathText,
/// WorkerThread, Locked; PythonRegex for regular expressions).
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

/// libcurl and the ~40 libraries it needs are loaded by the first request, not at start-up:
/// `echo`, `route`, `validate`, `log` and an idle prompt never pay for them.
@Suite(.serialized) struct LazyLibcurlTests {
    /// The libraries the dynamic loader reported loading for one run (LD_DEBUG=files).
    private func loadedLibraries(_ aish: BinaryHarness, _ arguments: [String],
                                 extraEnvironment: [String: String] = [:]) throws -> (BinaryHarness.Run, String) {
        let trace = aish.home + "/ld-\(arguments.count)-\(UUID().uuidString)"
        let run = try aish.run(arguments, extraEnvironment: ["LD_DEBUG": "files", "LD_DEBUG_OUTPUT": trace].merging(extraEnvironment) { $1 })
        let files = try FileManager.default.contentsOfDirectory(atPath: aish.home).filter { $0.hasPrefix((trace as NSString).lastPathComponent) }
        let text = try files.map { try String(contentsOfFile: aish.home + "/" + $0, encoding: .utf8) }.joined()
        #expect(text.contains("libsqlite3"), "the loader trace is empty, so the check would pass vacuously")
        return (run, text)
    }

    /// Runs `body` with a private aish and a config whose model `m` is served by a fake provider.
    private func withFakeProvider(_ body: (BinaryHarness, String) throws -> Void) throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--reply", "hello"])
        defer { fake.stop() }
        try body(aish, try writeConfig(aish, baseURL: fake.baseURL))
    }

    private func writeConfig(_ aish: BinaryHarness, baseURL: String) throws -> String {
        let config = aish.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try "providers:\n  local:\n    type: llama_cpp\n    base_url: \(baseURL)\n    status: active\n    models:\n      - name: m\n"
            .write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try "exact_matches:\n  m:\n    provider: local\n".write(toFile: config + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        return config
    }

    @Test func theBinaryDoesNotLinkLibcurl() throws {
        let binary = try AishBinary.require()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
        process.arguments = ["-d", binary]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let dynamic = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let needed = dynamic.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        #expect(needed.contains { $0.contains("libsqlite3") }, "no NEEDED entries read:\n\(dynamic)")
        #expect(!needed.contains { $0.contains("libcurl") }, "aish links libcurl:\n\(needed.joined(separator: "\n"))")
    }

    @Test func onlyARequestLoadsLibcurl() throws {
        try withFakeProvider { aish, config in
            let (echo, quiet) = try loadedLibraries(aish, ["--config", config, "-c", "echo hi; route m; validate"])
            #expect(echo.code == 0, "\(echo.stderr)")
            #expect(!quiet.contains("libcurl"), "libcurl was loaded without a request")

            let (chat, loud) = try loadedLibraries(aish, ["--config", config, "-c", "chat -m m hi"])
            #expect(chat.code == 0, "\(chat.stderr)")
            #expect(chat.stdout.contains("hello"))
            #expect(loud.contains("file=libcurl.so.4") && loud.contains("dynamically loaded by"), "libcurl was not opened on demand")
        }
    }

    @Test func aMissingLibcurlFailsTheRequestNotTheShell() throws {
        try withFakeProvider { aish, config in
            let missing = ["AISH_LIBCURL": aish.home + "/no/libcurl.so.4"]

            let chat = try aish.run(["--config", config, "--continue-on-error", "-c", "chat -m m hi; echo still here"],
                                    extraEnvironment: missing)
            #expect(chat.code == 1, "\(chat.stdout)\n\(chat.stderr)")
            #expect(chat.stderr.contains("libcurl could not be loaded: \(aish.home)/no/libcurl.so.4: cannot open shared object file"),
                    "\(chat.stderr)")
            #expect(chat.stdout.contains("still here"))
            // The failed request is still a row of the log.
            let log = try aish.run(["--json", "log", "-n", "5"])
            #expect(log.stdout.contains("\"status\":\"error\"") && log.stdout.contains("libcurl could not be loaded"), "\(log.stdout)")

            let notCurl = try aish.run(["--config", config, "-c", "chat -m m hi"], extraEnvironment: ["AISH_LIBCURL": "libsqlite3.so.0"])
            #expect(notCurl.code == 1)
            #expect(notCurl.stderr.contains("libsqlite3.so.0 has no curl_global_init"), "\(notCurl.stderr)")
        }
    }
}
