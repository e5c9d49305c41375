import Testing
@testable import AishBase
@testable import AishHTTP

/// libcurl is opened on first use (LibCurl.open), not linked. What the opening reports when
/// the library is missing or is not libcurl, and that the real one binds.
@Suite struct LibCurlLoadingTests {
    @Test func theSystemLibcurlOpensAndBinds() throws {
        let functions = try LibCurl.open(nil).get()
        let easy = functions.easy_init()
        #expect(easy != nil)
        functions.easy_cleanup(easy)
    }

    @Test func aMissingLibraryNamesItselfAndTheLoadersReason() {
        guard case let .failure(e) = LibCurl.open("/nonexistent/libcurl.so.4") else {
            Issue.record("a missing library opened")
            return
        }
        #expect(e.detail.hasPrefix("libcurl could not be loaded: /nonexistent/libcurl.so.4: cannot open shared object file"),
                "\(e.detail)")
    }

    @Test func aLibraryThatIsNotLibcurlNamesTheMissingFunction() {
        guard case let .failure(e) = LibCurl.open("libsqlite3.so.0") else {
            Issue.record("libsqlite3 passed for libcurl")
            return
        }
        #expect(e.detail == "libcurl could not be loaded: libsqlite3.so.0 has no curl_global_init (libcurl 7.66 or later is needed)")
    }

    @Test func anEmptyOverrideMeansTheDefault() throws {
        _ = try LibCurl.open("").get()
    }
}
