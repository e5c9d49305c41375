import Foundation
import Testing
@testable import AishBase

/// Replies have a size bound in memory, the conversation and the log, never on the screen
/// (issue 16.3).
@Suite struct ReplyBoundTests {
    @Test func keepsWholeCharactersUpToTheLimitAndCountsEverything() {
        var r = BoundedReply(limit: 1024)
        for _ in 0..<1000 { r.append("héllo wörld ") }  // 14 bytes each
        #expect(r.totalBytes == 14_000)
        #expect(r.isTruncated)
        #expect(r.kept.utf8.count <= 1024)
        #expect(r.kept.utf8.count > 1024 - 4)
        #expect(r.text.hasSuffix("\n[reply truncated by aish: \(r.kept.utf8.count) of 14000 bytes kept (max_reply_bytes 1024)]"))
        let small = BoundedReply("short", limit: 1024)
        #expect(small.text == "short")
        #expect(!small.isTruncated)
    }

    /// takeText gives what text gives, once the reply is complete; afterwards the reply is
    /// spent and its counts stay right.
    @Test func takeTextMatchesTextAndEndsTheReply() {
        var r = BoundedReply(limit: 4096)
        for _ in 0..<1000 { r.append("héllo wörld ") }
        let shown = r.text
        let kept = r.keptBytes
        #expect(r.takeText() == shown)
        #expect(r.isTruncated)
        #expect(r.keptBytes == kept)
        r.append("more")
        #expect(r.totalBytes == 14_004)
        #expect(r.takeText() == shown)
        var whole = BoundedReply(limit: 4096)
        whole.append("short")
        #expect(whole.takeText() == "short")
    }

    /// Pieces given as UTF-8 bytes (the load engine's way) are kept and cut as the same
    /// pieces given as Strings: whole characters up to the limit.
    @Test func bytePiecesAreKeptAndCutAsStringPieces() {
        for limit in [1024, 1030, 1031, 1032, 4096] {
            var asText = BoundedReply(limit: limit)
            var asBytes = BoundedReply(limit: limit)
            for i in 0..<300 {
                let piece = i % 3 == 0 ? "héllo wörld " : (i % 3 == 1 ? "😀 " : "plain")
                asText.append(piece)
                var copy = piece
                copy.withUTF8 { asBytes.append(utf8: $0) }
            }
            #expect(asBytes.kept == asText.kept, "limit \(limit)")
            #expect(asBytes.keptBytes == asText.keptBytes)
            #expect(asBytes.totalBytes == asText.totalBytes)
            #expect(asBytes.takeText() == asText.takeText())
        }
    }

    @Test(arguments: [("1048576", 1_048_576), ("512KiB", 524_288), ("4MiB", 4_194_304), ("2m", 2_097_152),
                      ("64k", 65_536), ("2kb", 2000)] as [(String, Int)])
    func limitsParse(text: String, bytes: Int) { #expect(BoundedReply.parseLimit(text) == bytes) }

    @Test func badLimitsAreRefused() {
        for text in ["0", "-1", "12", "lots", "1.5MiB", ""] { #expect(BoundedReply.parseLimit(text) == nil, "\(text)") }
    }

    /// The binary against the fake provider: a 1 MiB reply reaches stdout whole, while the
    /// log, the conversation and the result keep 4 KiB and say how big it was.
    @Test func wholeReplyIsShownButOnlyTheLimitIsKept() throws {
        let aish = try BinaryHarness()
        defer { aish.cleanUp() }
        let fake = try FakeProviderProcess(["--fault", "big-reply=1048576"])
        defer { fake.stop() }
        let config = aish.home + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try """
            providers:
              local:
                type: llama_cpp
                base_url: \(fake.baseURL)
                status: active
                models: [local-model]
            routing_rules:
              default_provider: local

            """.write(toFile: config + "/providers.yaml", atomically: true, encoding: .utf8)
        try "routing_rules:\n  default_provider: local\n".write(toFile: config + "/model-mappings.yaml", atomically: true, encoding: .utf8)
        let script = aish.home + "/big.ai"
        try """
            set max_reply_bytes 4KiB
            chat -m local-model hi
            expect ok
            expect json truncated == true
            expect json reply_bytes == 1048576
            sql 'SELECT length(reply) FROM attempts'
            expect value < 5000
            sql "SELECT length(content) FROM messages WHERE role = 'assistant'"
            expect value < 5000

            """.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try aish.run(["-q", "--config", config, "-f", script])
        #expect(run.code == 0, "\(run.stderr)")
        let chunk = String(repeating: "0123456789abcde\n", count: 4096)
        #expect(run.stdout.hasPrefix(String(repeating: chunk, count: 16)))
        let logged = try aish.run(["--json", "sql", "SELECT reply FROM attempts"])
        #expect(logged.stdout.contains(#"[reply truncated by aish: 4096 of 1048576 bytes kept (max_reply_bytes 4096)]"#))
        let bad = try aish.run(["-c", "set max_reply_bytes 12"])
        #expect(bad.stderr.hasPrefix("aish: set: max_reply_bytes must be a size of at least 1 KiB, such as 1048576, 512KiB or 4MiB, got '12'\n"))
    }
}
