@preconcurrency import CCurl
import FoundationEssentials
import Glibc
import AishBase

// The only file that touches libcurl. Everything above it sees HTTPRequest, HTTPError and
// TransferLoop; no curl type leaves this file.

/// libcurl, opened on first use. Loading it and the ~40 libraries it needs (TLS, Kerberos,
/// LDAP, ...) took ~4 ms and ~6 MiB of every start-up when it was linked, and `echo`,
/// `route`, `log`, `validate` and an idle prompt never use the network. `AISH_LIBCURL`
/// names another build of it (a path or a soname). curl_global_init is thread-safe since
/// 7.84 (Debian 12 ships 7.88); the static let makes opening and initialising run once.
package enum LibCurl {
    package static let defaultName = "libcurl.so.4"

    /// Why a transfer could not start: libcurl is missing or unusable.
    package struct Unavailable: Error, Sendable {
        package let detail: String
    }

    package static let loaded: Result<aish_curl_functions, Unavailable> = open(getenv("AISH_LIBCURL").map { String(cString: $0) })

    package static func open(_ override: String?) -> Result<aish_curl_functions, Unavailable> {
        let name = override.flatMap { $0.isEmpty ? nil : $0 } ?? defaultName
        func failure(_ why: String) -> Result<aish_curl_functions, Unavailable> {
            .failure(Unavailable(detail: "libcurl could not be loaded: \(why)"))
        }
        // RTLD_NOW: a missing dependency shows here, not in the middle of a transfer.
        guard let library = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            return failure(dlerror().map { String(cString: $0) } ?? "\(name): dlopen failed")
        }
        var functions = aish_curl_functions()
        if let missing = aish_curl_bind(library, &functions) {
            dlclose(library)
            return failure("\(name) has no \(String(cString: missing)) (libcurl 7.66 or later is needed)")
        }
        let rc = functions.global_init(Int(CURL_GLOBAL_ALL))
        guard rc == CURLE_OK else { return failure("\(name): curl_global_init failed (\(rc.rawValue))") }
        return .success(functions)
    }
}

/// Owns one `curl_slist` of request headers.
private final class CurlHeaderList {
    private(set) var list: UnsafeMutablePointer<curl_slist>?

    private let curl: aish_curl_functions

    init(_ lines: [String], curl: aish_curl_functions) {
        self.curl = curl
        for line in lines {
            guard let appended = curl.slist_append(list, line) else { fatalError("curl_slist_append: out of memory") }
            list = appended
        }
    }

    deinit { curl.slist_free_all(list) }
}

/// Owns one parsed URL (CURLU*), handed to transfers with CURLOPT_CURLU: libcurl then
/// copies the parts rather than parsing the URL string again for every request (a bench
/// level sends thousands to one URL).
private final class CurlParsedURL {
    let url: String
    let handle: OpaquePointer
    private let curl: aish_curl_functions

    /// nil when libcurl does not parse `url`: the transfer then sets it as a string, and
    /// libcurl's own error reaches the caller.
    init?(_ url: String, curl: aish_curl_functions) {
        guard let h = curl.url() else { return nil }
        guard curl.url_set(h, CURLUPART_URL, url, aish_curlu_flags_as_curlopt_url()) == CURLUE_OK else {
            curl.url_cleanup(h)
            return nil
        }
        self.url = url
        handle = h
        self.curl = curl
    }

    deinit { curl.url_cleanup(handle) }
}

/// Owns one easy handle (CURL*). Kept between transfers (not freed) so a thread's requests
/// do not pay for a new handle each; its options are kept too while the next request is of
/// the same kind (see `Configuration`), else reset.
private final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    let curl: aish_curl_functions
    /// CURLOPT_ERRORBUFFER's memory, kept with the handle.
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// The header list of the last request and the headers it was made from: the next
    /// request with the same headers (every request of a bench level) reuses it rather than
    /// building a list of C strings again.
    private var headerList: CurlHeaderList?
    private var listedHeaders: [(String, String)] = []
    /// The last request's URL, parsed; the next request to the same URL reuses it.
    private var parsedURL: CurlParsedURL?
    /// Counts the header lists made, so a configuration names the list it set.
    private(set) var headerListsMade = 0

    /// What the options set on the handle depend on besides the body and the transfer's own
    /// callbacks' context. A request with the same configuration as the last one (every
    /// request of a bench level) sets only those: resetting the handle and setting its
    /// options again (libcurl then makes its defaults anew) cost about 10,000 instructions
    /// a request.
    struct Configuration: Equatable {
        var url: String
        var method: String
        var hasBody: Bool
        var connectTimeoutMs: Int
        /// The header list's number (`headerListsMade` when it was made).
        var headerList: Int
    }
    /// The configuration the handle's options are set for; nil on a new or reset handle.
    var configured: Configuration?
    /// libcurl took CURLOPT_PREREQFUNCTION (7.80 and later).
    var hasPrereqCallback = false

    init(curl: aish_curl_functions) {
        self.curl = curl
        guard let h = curl.easy_init() else { fatalError("curl_easy_init: out of memory") }
        handle = h
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    /// The header list for `headers` (plus aish's User-Agent and "Expect:").
    func headerList(for headers: [(String, String)]) -> CurlHeaderList {
        if let headerList, listedHeaders.elementsEqual(headers, by: { $0.0 == $1.0 && $0.1 == $1.1 }) { return headerList }
        // The User-Agent in the list rather than CURLOPT_USERAGENT: libcurl formats that one
        // into a header of its own again for every request, a character at a time.
        let agent = headers.contains { $0.0.lowercased() == "user-agent" } ? [] : ["User-Agent: aish"]
        // "Expect:" stops curl from waiting for a 100 Continue on large POST bodies.
        let list = CurlHeaderList(headers.map { "\($0.0): \($0.1)" } + agent + ["Expect:"], curl: curl)
        headerList = list
        listedHeaders = headers
        headerListsMade += 1
        return list
    }

    /// `url` parsed by libcurl, or nil when it does not parse.
    func parsed(_ url: String) -> CurlParsedURL? {
        if let parsedURL, parsedURL.url == url { return parsedURL }
        parsedURL = CurlParsedURL(url, curl: curl)
        return parsedURL
    }

    /// Back to the state of a new handle; the connection cache (in the multi) is untouched.
    func reset() {
        curl.easy_reset(handle)
        errorBuffer[0] = 0
        configured = nil
    }

    deinit {
        curl.easy_cleanup(handle)
        errorBuffer.deallocate()
    }
}

/// The state of one transfer, performed by an easy handle it borrows from the multi.
private final class CurlTransfer {
    let easy: CurlEasy
    let handle: UnsafeMutableRawPointer
    private let curl: aish_curl_functions
    let request: HTTPRequest
    private let headerList: CurlHeaderList
    /// Held for the transfer, which reads it (CURLOPT_CURLU).
    private let parsedURL: CurlParsedURL?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    // Response state, filled by the callbacks (on the loop's thread).
    var status = 0
    var headers: [(String, String)] = []
    var headComplete = false
    var headDelivered = false
    /// Body bytes not yet handed over, one piece per read off the socket with its time.
    var pendingBody: [(bytes: [UInt8], at: Double)] = []
    private var pendingBytes = 0
    /// True while curl holds the transfer paused because `pendingBody` is full.
    private var paused = false
    /// The transfer was paused at some point, or curl ended it with an error, or it was
    /// ended before curl finished it: its handle is reset before it serves another.
    var leavesStateBehind = true
    private var everPaused = false
    var errorBody: [UInt8] = []
    var bodyBytes = 0
    static let errorBodyLimit = 64 * 1024

    // Timings (monotonic seconds).
    let startedAt: Double
    /// When the request went out on its connection (connected or reused): what a
    /// measurement starts from, rather than when the transfer was queued.
    var sentAt: Double?
    var headAt: Double?
    var firstByteAt: Double?
    var lastByteAt: Double?

    var result: Result<HTTPResponseHead, HTTPError>?
    var endedAt: Double?
    var newConnections = 0

    /// Where the transfer puts itself when it has a head or body to deliver, so a loop
    /// with hundreds of transfers visits only those (see `TransferDriver`).
    unowned(unsafe) var readyList: ReadyTransfers?
    private var listed = false

    private func markReady() {
        guard !listed, let readyList else { return }
        listed = true
        readyList.items.append(self)
    }

    /// Taken off the ready list by the loop.
    func unlist() { listed = false }

    /// `easy` is a fresh or reset easy handle from the multi's spares.
    init(_ request: HTTPRequest, easy: CurlEasy) {
        self.easy = easy
        handle = easy.handle
        curl = easy.curl
        self.request = request
        errorBuffer = easy.errorBuffer
        headerList = easy.headerList(for: request.headers)
        parsedURL = easy.parsed(request.url)
        startedAt = MonotonicClock.now()
        let configuration = CurlEasy.Configuration(url: request.url, method: request.method.uppercased(), hasBody: request.body != nil,
                                                   connectTimeoutMs: CurlTransfer.connectTimeoutMs(request),
                                                   headerList: easy.headerListsMade)
        if easy.configured == configuration {
            errorBuffer[0] = 0
        } else {
            if easy.configured != nil { easy.reset() }
            configure(configuration)
            easy.configured = configuration
        }
        configureTransfer()
    }

    private static func connectTimeoutMs(_ request: HTTPRequest) -> Int { max(1, Int(request.timeouts.connect * 1000)) }

    /// curl ended the transfer itself with `code`: a clean end (CURLE_OK, never paused)
    /// leaves nothing on the handle that the next transfer of the same kind must clear.
    func curlFinished(_ code: CURLcode) {
        leavesStateBehind = code != CURLE_OK || everPaused
    }

    private func set(_ option: CURLoption, _ value: Int) {
        let rc = aish_curl_setopt_long(curl.easy_setopt, handle, option, value)
        precondition(rc == CURLE_OK, "curl_easy_setopt(\(option.rawValue)) failed: \(rc.rawValue)")
    }

    /// The options of a request of this configuration (see `CurlEasy.Configuration`).
    private func configure(_ configuration: CurlEasy.Configuration) {
        if let parsedURL {
            _ = aish_curl_setopt_pointer(curl.easy_setopt, handle, CURLOPT_CURLU, UnsafeMutableRawPointer(parsedURL.handle))
        } else {
            _ = aish_curl_setopt_string(curl.easy_setopt, handle, CURLOPT_URL, request.url)
        }
        set(CURLOPT_NOSIGNAL, 1)              // threads: no SIGALRM for DNS timeouts
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        set(CURLOPT_FOLLOWLOCATION, 1)        // LiteLLM's /metrics answers 307 → /metrics/
        set(CURLOPT_MAXREDIRS, 5)
        set(CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeoutMs)
        set(CURLOPT_TCP_KEEPALIVE, 1)
        if !CurlTransfer.proxyFromEnvironment {
            // What libcurl would find, said once: otherwise it reads five environment
            // variables for every request.
            _ = aish_curl_setopt_string(curl.easy_setopt, handle, CURLOPT_PROXY, "")
            _ = aish_curl_setopt_string(curl.easy_setopt, handle, CURLOPT_NOPROXY, "")
        }
        _ = aish_curl_setopt_pointer(curl.easy_setopt, handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = aish_curl_setopt_slist(curl.easy_setopt, handle, CURLOPT_HTTPHEADER, headerList.list)
        _ = aish_curl_setopt_write_callback(curl.easy_setopt, handle, CURLOPT_WRITEFUNCTION, curlWriteBody)
        _ = aish_curl_setopt_write_callback(curl.easy_setopt, handle, CURLOPT_HEADERFUNCTION, curlWriteHeader)
        // An older libcurl without it leaves sentAt nil: measurements then start at startedAt.
        easy.hasPrereqCallback = aish_curl_setopt_prereq_callback(curl.easy_setopt, handle, curlRequestGoesOut) == CURLE_OK
        let method = configuration.method
        if configuration.hasBody {
            if method != "POST" { _ = aish_curl_setopt_string(curl.easy_setopt, handle, CURLOPT_CUSTOMREQUEST, method) }
        } else if method == "HEAD" {
            set(CURLOPT_NOBODY, 1)
        } else if method != "GET" {
            _ = aish_curl_setopt_string(curl.easy_setopt, handle, CURLOPT_CUSTOMREQUEST, method)
        }
    }

    /// Whether the environment names a proxy libcurl would use for an HTTP(S) URL.
    static let proxyFromEnvironment: Bool = {
        let names = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
        return names.contains { name in getenv(name).map { $0.pointee != 0 } ?? false }
    }()

    /// This transfer's own options: the callbacks' context and the body.
    private func configureTransfer() {
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = aish_curl_setopt_pointer(curl.easy_setopt, handle, CURLOPT_WRITEDATA, me)
        _ = aish_curl_setopt_pointer(curl.easy_setopt, handle, CURLOPT_HEADERDATA, me)
        if easy.hasPrereqCallback { _ = aish_curl_setopt_pointer(curl.easy_setopt, handle, CURLOPT_PREREQDATA, me) }
        if let body = request.body {
            _ = aish_curl_setopt_off(curl.easy_setopt, handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            // COPYPOSTFIELDS: curl keeps its own copy; POSTFIELDS would point at a temporary.
            body.withUnsafeBytes { raw in
                _ = aish_curl_setopt_pointer(curl.easy_setopt, handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(errorBuffer)))
            }
        }
    }

    // MARK: callbacks

    func receiveHeaderLine(_ raw: UnsafeRawBufferPointer) {
        // Read through a pointer, not as a collection: the generic slice operations (trim,
        // prefix test, search for the colon) cost a thousand instructions a header line.
        let line = UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D { end -= 1 }
        if end >= 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
           line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/") {
            // A new response begins (after a redirect or a 100 Continue): "HTTP/1.1 200 OK".
            // The status is read from the bytes (a String of the line and its split were a
            // few allocations per request).
            status = 0
            var i = 5
            while i < end, line[i] != 0x20 { i += 1 }
            if i < end {
                var code = 0
                var digits = 0
                i += 1
                while i < end, line[i] != 0x20 {
                    let b = line[i]
                    guard b >= 0x30, b <= 0x39 else { digits = 0; break }
                    code = digits < 9 ? code * 10 + Int(b - 0x30) : code
                    digits += 1
                    i += 1
                }
                if (1...9).contains(digits) { status = code }
            }
            headers = []
            headComplete = false
            return
        }
        if end == 0 {
            let redirected = (300..<400).contains(status) && headers.contains(where: { $0.0 == "location" })
            if status >= 200 && !redirected {
                headComplete = true
                headAt = MonotonicClock.now()
                markReady()
            }
            return
        }
        // Split and trimmed as bytes: Foundation's trimmingCharacters goes through NSString
        // and was a quarter of the load generator's CPU time. The name is lowercased as it
        // is copied into its String (most names fit in a String without an allocation).
        guard let base = line.baseAddress, let hit = memchr(base, 0x3A, end) else { return }
        let colon = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        let name = CurlTransfer.trimmed(line, 0, colon)
        let value = CurlTransfer.trimmed(line, colon + 1, end)
        if headers.isEmpty { headers.reserveCapacity(12) }
        headers.append((String(unsafeUninitializedCapacity: name.count) { out in
                            for (i, b) in name.enumerated() { out[i] = b >= 0x41 && b <= 0x5A ? b + 0x20 : b }
                            return name.count
                        },
                        String(repairingUTF8: value)))
    }

    /// `line[start..<end]` without leading and trailing spaces and tabs.
    private static func trimmed(_ line: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        var start = start, end = end
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        return UnsafeBufferPointer(rebasing: line[start..<end])
    }

    /// Takes a piece of the body. Returns false when the reader has not caught up: curl
    /// then pauses the transfer and hands over the same bytes again after `resumeIfPaused`.
    func receiveBody(_ raw: UnsafeRawBufferPointer) -> Bool {
        let success = (200..<300).contains(status)
        if success, pendingBytes >= HTTPTransport.pendingBodyLimit {
            paused = true
            everPaused = true
            return false
        }
        let now = MonotonicClock.now()
        if !headComplete { headComplete = true; headAt = now }
        if firstByteAt == nil { firstByteAt = now }
        lastByteAt = now
        bodyBytes += raw.count
        if success {
            // Into a buffer an earlier piece was delivered in: a 6 KB reply copied into a new
            // array each read was a large allocation a request.
            var bytes = readyList?.spareBuffer() ?? []
            bytes.append(contentsOf: raw)
            pendingBody.append((bytes, now))
            pendingBytes += raw.count
            markReady()
        } else if errorBody.count < CurlTransfer.errorBodyLimit {
            errorBody.append(contentsOf: raw.prefix(CurlTransfer.errorBodyLimit - errorBody.count))
        }
        return true
    }

    /// Hands the body that waited to `take`, piece by piece, until it returns false (the
    /// reader stopped: the rest is dropped). The pieces' buffers go back to the loop.
    func deliverPendingBody(_ take: ([UInt8], Double) -> Bool) -> Bool {
        var pieces: [(bytes: [UInt8], at: Double)] = []
        swap(&pieces, &pendingBody)
        pendingBytes = 0
        var going = true
        for i in pieces.indices where going { going = take(pieces[i].bytes, pieces[i].at) }
        readyList?.recycle(&pieces)
        if pendingBody.isEmpty { swap(&pieces, &pendingBody) }   // the list's storage, for the next reads
        return going
    }

    func resumeIfPaused() {
        guard paused else { return }
        paused = false
        _ = curl.easy_pause(handle, 0)   // CURLPAUSE_CONT
    }

    /// Our own timeouts (curl has no "first byte" or "idle between chunks" notion): the
    /// failure if one has passed at `now`, else the next moment one could.
    func timeout(at now: Double) -> (failure: HTTPError?, next: Double) {
        let limits = request.timeouts
        var next = Double.infinity
        if let total = limits.total {
            if now - startedAt >= total {
                return (failure(.totalTimeout, "not finished within \(JSONValue.format(total))s (total timeout)"), now)
            }
            next = startedAt + total
        }
        if let last = lastByteAt {
            if now - last >= limits.idle {
                return (failure(.idleTimeout, "stalled: no data for \(JSONValue.format(limits.idle))s (idle timeout)"), now)
            }
            next = min(next, last + limits.idle)
        } else if !headComplete || (200..<300).contains(status) || status == 0 {
            if now - startedAt >= limits.firstByte {
                let what = headComplete ? "no data" : "no response"
                return (failure(.firstByteTimeout, "\(what) within \(JSONValue.format(limits.firstByte))s (first-byte timeout)"), now)
            }
            // Bytes may come before the next check; the idle timeout then runs from them and
            // can pass before the first-byte one would have: look again within `idle`.
            // (Checking only at the first-byte timeout reported a 0.5 s stall after 60 s.)
            next = min(next, startedAt + limits.firstByte, now + limits.idle)
        }
        return (nil, next)
    }

    // MARK: outcome

    /// Reads how many connections curl opened for this transfer (before the handle is reset).
    func readConnectionCount() {
        var n = 0
        if aish_curl_getinfo_long(curl.easy_getinfo, handle, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK { newConnections = n }
    }

    var head: HTTPResponseHead { HTTPResponseHead(status: status, headers: headers) }

    var timings: TransferTimings {
        let end = endedAt ?? MonotonicClock.now()
        return TransferTimings(headers: headAt.map { $0 - startedAt }, firstByte: firstByteAt.map { $0 - startedAt },
                               total: end - startedAt, bodyBytes: bodyBytes, newConnections: newConnections, sentAt: sentAt,
                               lastByteAt: lastByteAt)
    }

    func failure(_ kind: HTTPError.Kind, _ detail: String) -> HTTPError {
        HTTPError(kind: kind, method: request.method.uppercased(), url: request.displayURL,
                  status: status == 0 ? nil : status, serverMessage: nil, retryAfter: nil,
                  detail: URLRedaction.scrub(detail, secrets: request.secrets), bodyStarted: bodyBytes > 0)
    }

    /// The result once curl reports the transfer done with `code`.
    func complete(code: CURLcode) -> Result<HTTPResponseHead, HTTPError> {
        if code == CURLE_OK || (status >= 300 && headComplete) {
            if (200..<300).contains(status) { return .success(head) }
            var e = failure(.status(status), "HTTP \(status)")
            e.serverMessage = ServerErrorText.extract(errorBody).map { URLRedaction.scrub($0, secrets: request.secrets) }
            e.retryAfter = head.retryAfter
            return .failure(e)
        }
        var message = errorBuffer[0] != 0 ? String(cString: errorBuffer) : (curl.easy_strerror(code).map { String(cString: $0) } ?? "error \(code.rawValue)")
        // "Failed to connect to h port p after 0 ms: …": the elapsed time is noise in an error.
        if let after = message.rangeOfText(" after "), let ms = message[after.upperBound...].rangeOfText(" ms"),
           message[after.upperBound..<ms.lowerBound].allSatisfy(\.isNumber) {
            message.removeSubrange(after.lowerBound..<ms.upperBound)
        }
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_URL_MALFORMAT,
             CURLE_UNSUPPORTED_PROTOCOL:
            return .failure(failure(.connectFailed, "connection failed: \(message)"))
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(failure(.connectTimeout, "connection failed: no connection within \(JSONValue.format(request.timeouts.connect))s (connect timeout)"))
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR:
            return .failure(failure(.tls, "TLS failed: \(message)"))
        case CURLE_GOT_NOTHING:
            return .failure(failure(.transport, "the server closed the connection without a response"))
        default:
            if bodyBytes > 0 || headComplete {
                return .failure(failure(.transport, "the connection broke during the response: \(message)"))
            }
            return .failure(failure(.transport, "request failed: \(message)"))
        }
    }
}

// C callbacks: global functions, context passed through WRITEDATA / HEADERDATA.
private func curlWriteBody(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                           _ context: UnsafeMutableRawPointer?) -> Int {
    let n = size * count
    guard let context, let ptr else { return n }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: ptr, count: n)) ? n : Int(CURL_WRITEFUNC_PAUSE)
}

private func curlRequestGoesOut(_ context: UnsafeMutableRawPointer?, _ primaryIP: UnsafeMutablePointer<CChar>?,
                                _ localIP: UnsafeMutablePointer<CChar>?, _ primaryPort: Int32, _ localPort: Int32) -> Int32 {
    guard let context else { return Int32(CURL_PREREQFUNC_OK) }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    // The first request counts: a redirect's time is part of the answer's.
    if transfer.sentAt == nil { transfer.sentAt = MonotonicClock.now() }
    return Int32(CURL_PREREQFUNC_OK)
}

private func curlWriteHeader(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                             _ context: UnsafeMutableRawPointer?) -> Int {
    let n = size * count
    guard let context, let ptr else { return n }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: ptr, count: n))
    return n
}

/// Owns one multi handle (CURLM*), the easy handles attached to it, and the epoll set that
/// watches its sockets. libcurl keeps its connection cache in the multi handle, so one multi
/// is kept per thread (`checkout` / `checkin`) and consecutive requests from a thread reuse
/// their keep-alive connections instead of paying for a TCP (and TLS) handshake each.
///
/// libcurl is driven by its socket interface: it says which sockets to watch
/// (CURLMOPT_SOCKETFUNCTION) and when it next needs the clock (CURLMOPT_TIMERFUNCTION); the
/// loop waits on epoll and hands libcurl only the sockets that are ready. curl_multi_perform
/// and curl_multi_poll walk every transfer of the multi on every call, which at hundreds of
/// transfers in flight was most of a turn.
private final class CurlMulti {
    let handle: UnsafeMutableRawPointer
    let curl: aish_curl_functions
    /// By easy handle: a finished transfer is found without a search.
    private(set) var attached: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    /// Easy handles of finished transfers, reset and ready for the next ones: as many as
    /// were ever attached at once (up to `maxSpares`). When a turn ends many transfers
    /// before the next ones start, a smaller pool freed handles only to make them again,
    /// and a new handle's receive buffer costs page faults on its first read (a tenth of
    /// the load engine's CPU time at concurrency 256).
    private var spares: [CurlEasy] = []
    private var peakAttached = 0
    static let maxSpares = 1024

    /// The epoll set: libcurl's sockets, and `timer` once a wait needed it.
    private let epoll: Int32
    /// A timerfd in the epoll set: ends a wait at a moment finer than epoll's milliseconds
    /// (the load engine's next scheduled send).
    private var timer: Int32 = -1
    /// When libcurl next wants to be called for its own timeouts and for transfers just
    /// added (monotonic seconds); nil: no timer.
    fileprivate var curlTimerDue: Double?
    /// Ready descriptors (and their CURL_CSELECT masks) from the last look at the epoll set.
    private let readyFDs = UnsafeMutablePointer<Int32>.allocate(capacity: Int(AISH_EPOLL_BATCH))
    private let readyMasks = UnsafeMutablePointer<Int32>.allocate(capacity: Int(AISH_EPOLL_BATCH))
    private var readyCount = 0
    /// A wait has looked at the epoll set since the last `perform`: no second look needed.
    private var looked = false

    init(curl: aish_curl_functions) {
        self.curl = curl
        guard let m = curl.multi_init() else { fatalError("curl_multi_init: out of memory") }
        handle = m
        epoll = aish_epoll_open()
        precondition(epoll >= 0, "epoll_create1 failed: \(String(cString: strerror(errno)))")
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = aish_curl_multi_setopt_socket_callback(curl.multi_setopt, m, curlWatchSocket)
        _ = aish_curl_multi_setopt_pointer(curl.multi_setopt, m, CURLMOPT_SOCKETDATA, me)
        _ = aish_curl_multi_setopt_timer_callback(curl.multi_setopt, m, curlSetTimer)
        _ = aish_curl_multi_setopt_pointer(curl.multi_setopt, m, CURLMOPT_TIMERDATA, me)
    }

    deinit {
        for t in attached.values { _ = curl.multi_remove_handle(handle, t.handle) }
        spares.removeAll()
        // Cleaning up closes the cached connections: no callback may reach a multi in deinit.
        _ = aish_curl_multi_setopt_socket_callback(curl.multi_setopt, handle, nil)
        _ = aish_curl_multi_setopt_timer_callback(curl.multi_setopt, handle, nil)
        _ = curl.multi_cleanup(handle)
        Glibc.close(epoll)
        if timer >= 0 { Glibc.close(timer) }
        readyFDs.deallocate()
        readyMasks.deallocate()
    }

    /// The thread-local slot; its destructor frees a thread's multi when the thread ends.
    /// (pthread rather than Thread.threadDictionary: the dictionary cost 7% of the load
    /// generator's CPU time.)
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { multi in
            if let multi { Unmanaged<CurlMulti>.fromOpaque(multi).release() }
        }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// This thread's multi, taken out of the thread's slot while a loop uses it, so a loop
    /// started from inside another loop's callback gets a multi of its own.
    static func checkout(curl: aish_curl_functions) -> CurlMulti {
        if let slot = pthread_getspecific(threadKey) {
            pthread_setspecific(threadKey, nil)
            return Unmanaged<CurlMulti>.fromOpaque(slot).takeRetainedValue()
        }
        return CurlMulti(curl: curl)
    }

    /// Puts the multi back for the thread's next loop (all transfers must be removed).
    static func checkin(_ multi: CurlMulti) {
        precondition(multi.attached.isEmpty, "a multi goes back with transfers attached")
        pthread_setspecific(threadKey, Unmanaged.passRetained(multi).toOpaque())
    }

    func transfer(_ request: HTTPRequest) -> CurlTransfer {
        CurlTransfer(request, easy: spares.popLast() ?? CurlEasy(curl: curl))
    }

    func add(_ t: CurlTransfer) {
        let rc = curl.multi_add_handle(handle, t.handle)
        precondition(rc == CURLM_OK, "curl_multi_add_handle failed: \(rc.rawValue)")
        attached[t.handle] = t
        peakAttached = max(peakAttached, attached.count)
    }

    /// Detaches `t`; a finished connection stays in the multi's cache for the next transfer.
    func remove(_ t: CurlTransfer) {
        guard attached.removeValue(forKey: t.handle) != nil else { return }
        _ = curl.multi_remove_handle(handle, t.handle)
        if spares.count < min(max(peakAttached, 64), CurlMulti.maxSpares) {
            if t.leavesStateBehind { t.easy.reset() }
            spares.append(t.easy)
        }
    }

    // MARK: the event loop's side of libcurl's socket interface

    /// By descriptor: what the epoll set watches it for, and what libcurl wants it watched
    /// for now (CURL_POLL_* bits; 0: nothing since its last REMOVE). A socket libcurl no
    /// longer wants stays in the set until it reports something (a cached connection's
    /// HUP), and a kept-alive connection's next request asks again for what it is watched
    /// for: one epoll_ctl (MOD) per request rather than DEL, then a failed MOD and an ADD.
    /// A socket asked for after a REMOVE is always told to the set: it may be a new socket
    /// with a closed one's number (a close takes a descriptor out of the set silently).
    private var watching: [UInt8] = []
    private var wanted: [UInt8] = []

    /// CURLMOPT_SOCKETFUNCTION: libcurl says what to watch `fd` for (or to stop).
    fileprivate func watch(_ fd: Int32, _ what: Int32) {
        let i = Int(fd)
        if i >= wanted.count {
            watching += [UInt8](repeating: 0, count: i + 64 - watching.count)
            wanted += [UInt8](repeating: 0, count: i + 64 - wanted.count)
        }
        if what == CURL_POLL_REMOVE {
            wanted[i] = 0
            unwatchable.removeAll { $0 == fd }
            return
        }
        let before = wanted[i]
        wanted[i] = UInt8(what)
        if before != 0, watching[i] == UInt8(what) { return }
        guard aish_epoll_watch(epoll, fd, what) == 0 else {
            // The set refused it (out of memory, or the user's epoll watch limit): the loop
            // looks at this socket every turn and turns last a millisecond, rather than fail
            // its transfers (a -1 here would mark the whole multi dead).
            watching[i] = 0
            if !unwatchable.contains(fd) { unwatchable.append(fd) }
            return
        }
        watching[i] = UInt8(what)
        unwatchable.removeAll { $0 == fd }
    }

    /// Sockets libcurl wants watched that the epoll set refused (see `watch`).
    private var unwatchable: [Int32] = []

    /// Drives the transfers whose sockets are ready (as the last wait found them, or as a
    /// look now finds them) and, when its timer is due, libcurl's own timeouts and the
    /// transfers just added. Never blocks.
    func perform() {
        if !looked { readyCount = max(0, Int(aish_epoll_wait(epoll, readyFDs, readyMasks, 0))) }
        looked = false
        let count = readyCount
        readyCount = 0
        for i in 0..<count {
            let fd = readyFDs[i]
            if fd == timer {
                aish_timer_clear(timer)
                continue
            }
            if Int(fd) < wanted.count, wanted[Int(fd)] == 0 {
                // Watched still but no longer wanted (see `watching`): out of the set now.
                aish_epoll_unwatch(epoll, fd)
                watching[Int(fd)] = 0
                continue
            }
            act(on: fd, readyMasks[i])
        }
        for fd in unwatchable { act(on: fd, 0) }   // 0: libcurl looks at the socket itself
        // A timeout's work may set a timer due at once (a transfer moving on): a few rounds.
        var rounds = 0
        while rounds < 4, let due = curlTimerDue, due <= MonotonicClock.now() {
            rounds += 1
            curlTimerDue = nil   // the callback sets the next one
            act(on: CURL_SOCKET_TIMEOUT, 0)
        }
    }

    private func act(on fd: Int32, _ mask: Int32) {
        var running: Int32 = 0
        let rc = curl.multi_socket_action(handle, fd, mask, &running)
        precondition(rc == CURLM_OK, "curl_multi_socket_action failed: \(rc.rawValue)")
    }

    /// Hands over each transfer finished since the last call: (easy handle, result code).
    /// `body` may remove the handle (libcurl's message is read before it is called).
    func forEachFinished(_ body: (UnsafeMutableRawPointer, CURLcode) -> Void) {
        var left: Int32 = 0
        while let msg = curl.multi_info_read(handle, &left) {
            if aish_curl_msg_is_done(msg) != 0, let easy = msg.pointee.easy_handle {
                body(easy, aish_curl_msg_result(msg))
            }
        }
    }

    /// Waits until a watched socket is ready, libcurl's timer is due, `until` (monotonic
    /// seconds, to the microsecond) passes, or `timeoutMs`, whichever comes first.
    func wait(timeoutMs: Int, until: Double? = nil) {
        var ms = timeoutMs
        let now = MonotonicClock.now()
        if let due = curlTimerDue { ms = min(ms, max(0, Int(((due - now) * 1000).rounded(.up)))) }
        if !unwatchable.isEmpty { ms = min(ms, 1) }
        if ms > 0, let until, until < now + Double(ms) / 1000 {
            if timer < 0 {
                timer = aish_timer_open()
                if timer >= 0, aish_epoll_watch(epoll, timer, CURL_POLL_IN) != 0 {
                    Glibc.close(timer)
                    timer = -1
                }
            }
            if timer < 0 || aish_timer_arm(timer, UInt64(max(0, until) * 1e9)) != 0 {
                // No timerfd: the wait ends at the millisecond after `until`.
                ms = max(0, Int(((until - now) * 1000).rounded(.up)))
            }
        }
        let n = aish_epoll_wait(epoll, readyFDs, readyMasks, Int32(ms))
        readyCount = max(0, Int(n))   // EINTR: nothing ready, the loop comes back
        looked = true
    }
}

private func curlWatchSocket(_ easy: UnsafeMutableRawPointer?, _ fd: curl_socket_t, _ what: Int32,
                             _ context: UnsafeMutableRawPointer?, _ socketContext: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    Unmanaged<CurlMulti>.fromOpaque(context).takeUnretainedValue().watch(fd, what)
    return 0
}

private func curlSetTimer(_ multi: UnsafeMutableRawPointer?, _ timeoutMs: Int, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    Unmanaged<CurlMulti>.fromOpaque(context).takeUnretainedValue().curlTimerDue =
        timeoutMs < 0 ? nil : MonotonicClock.now() + Double(timeoutMs) / 1000
    return 0
}

/// What a transfer delivers, on the thread that runs the loop.
package enum TransferEvent {
    /// The final response head (after redirects).
    case head(HTTPResponseHead)
    /// Body bytes of a 2xx response, in arrival order, with the time they were read off the
    /// socket (monotonic seconds). Error bodies are kept for the error text.
    case body([UInt8], at: Double)
}

/// The transfers that have something to deliver since the loop last looked, and the
/// buffers delivered pieces of body were in (a transfer's next read goes into one).
package final class ReadyTransfers {
    fileprivate var items: [CurlTransfer] = []
    /// The list a round of delivery walks, kept with its storage for the next round.
    fileprivate var walking: [CurlTransfer] = []
    private var spareBuffers: [[UInt8]] = []
    static let maxSpareBuffers = 256
    static let maxSpareCapacity = 64 << 10

    /// An empty buffer, with the capacity of one delivered before when there is one.
    fileprivate func spareBuffer() -> [UInt8] { spareBuffers.popLast() ?? [] }

    /// Takes back the buffers of delivered pieces (their storage is kept when the reader
    /// kept no reference to it) and empties the list.
    fileprivate func recycle(_ pieces: inout [(bytes: [UInt8], at: Double)]) {
        for i in pieces.indices where spareBuffers.count < ReadyTransfers.maxSpareBuffers {
            var bytes: [UInt8] = []
            swap(&bytes, &pieces[i].bytes)
            guard bytes.capacity <= ReadyTransfers.maxSpareCapacity else { continue }
            bytes.removeAll(keepingCapacity: true)
            spareBuffers.append(bytes)
        }
        pieces.removeAll(keepingCapacity: true)
    }
}

/// A multi loop that transfers join while others run: `TransferLoop`'s and the load
/// engine's. One thread drives it: `start` adds a transfer, `drive` moves every transfer
/// as far as it can go and hands over what arrived and what ended, `wait` sleeps until a
/// socket is ready, a deadline passes (a timerfd, to the microsecond) or 50 ms.
/// Connections stay open in the multi between transfers (keep-alive).
package final class TransferDriver {
    package typealias Outcome = (result: Result<HTTPResponseHead, HTTPError>, timings: TransferTimings)
    package static let pollIntervalMs = 50
    /// Transfers delivered between two looks at the clock, and the time between two reads
    /// of the sockets within a turn.
    static let readEvery = 8
    static let readInterval = 0.0002
    /// Rounds of delivery in one turn.
    static let maxRounds = 4

    private let multi: CurlMulti?
    /// Why libcurl could not be loaded: every transfer then fails at once with it.
    private let unavailable: String?
    private var ids: [UnsafeMutableRawPointer: Int] = [:]
    private var failedAtStart: [(Int, HTTPRequest)] = []
    private let ready = ReadyTransfers()
    /// No timeout can pass before this (recomputed when it comes).
    private var nextTimeoutCheck = Double.infinity
    private let threadMulti: Bool

    /// `threadMulti`: borrow this thread's multi (and its open connections) until `close`.
    package init(threadMulti: Bool = false) {
        self.threadMulti = threadMulti
        switch LibCurl.loaded {
        case let .success(curl):
            multi = threadMulti ? CurlMulti.checkout(curl: curl) : CurlMulti(curl: curl)
            unavailable = nil
        case let .failure(why):
            multi = nil
            unavailable = why.detail
        }
    }

    /// Gives a borrowed multi back to the thread (every transfer must have ended).
    package func close() {
        if threadMulti, let multi { CurlMulti.checkin(multi) }
    }

    package var activeCount: Int { ids.count + failedAtStart.count }

    /// Adds a transfer; its events and outcome are reported under `id`.
    package func start(_ request: HTTPRequest, id: Int) {
        guard let multi else {
            failedAtStart.append((id, request))
            return
        }
        let t = multi.transfer(request)
        t.readyList = ready
        multi.add(t)   // libcurl's timer comes due at once: the next wait does not sleep
        ids[t.handle] = id
        nextTimeoutCheck = min(nextTimeoutCheck, t.timeout(at: t.startedAt).next)
    }

    private func end(_ t: CurlTransfer, _ result: Result<HTTPResponseHead, HTTPError>,
                     onDone: (Int, Outcome) -> Void) {
        guard let multi, let id = ids.removeValue(forKey: t.handle) else { return }
        t.result = result
        t.endedAt = MonotonicClock.now()
        t.readConnectionCount()
        t.readyList = nil
        multi.remove(t)
        onDone(id, (result, t.timings))
    }

    /// Performs, then hands over heads and bodies (`onEvent` returns false to stop that
    /// transfer: it ends `.cancelled`) and outcomes of ended and timed-out transfers.
    package func drive(onEvent: (Int, TransferEvent) -> Bool, onDone: (Int, Outcome) -> Void) {
        if !failedAtStart.isEmpty {
            let failed = failedAtStart
            failedAtStart = []
            for (id, r) in failed {
                onDone(id, (.failure(HTTPError(kind: .transport, method: r.method.uppercased(), url: r.displayURL, status: nil,
                                               serverMessage: nil, retryAfter: nil, detail: unavailable ?? "libcurl is unavailable")),
                            TransferTimings(headers: nil, firstByte: nil, total: 0, bodyBytes: 0)))
            }
        }
        guard let multi else { return }
        multi.perform()

        // Deliver what arrived, head first, then body. Every `readEvery` transfers the
        // sockets are read again, so what arrives while the reader decodes is timed when it
        // arrived rather than after the whole turn; what that read brings is delivered in a
        // further round (a few at most: a stream that trickles must not hold the loop).
        var rounds = 0
        while !ready.items.isEmpty, rounds < TransferDriver.maxRounds {
            rounds += 1
            deliver(onEvent: onEvent, onDone: onDone)
        }

        multi.forEachFinished { easy, code in
            guard let id = ids[easy], let t = multi.attached[easy] else { return }
            if t.headComplete && !t.headDelivered {
                t.headDelivered = true
                _ = onEvent(id, .head(t.head))
            }
            // Read in this turn's last round but not yet delivered: the reader gets it first.
            _ = t.deliverPendingBody { bytes, at in
                _ = onEvent(id, .body(bytes, at: at))
                return true
            }
            t.curlFinished(code)
            end(t, t.complete(code: code), onDone: onDone)
        }

        let now = MonotonicClock.now()
        if now >= nextTimeoutCheck {
            nextTimeoutCheck = .infinity
            for t in Array(multi.attached.values) {
                let (failure, next) = t.timeout(at: now)
                if let failure { end(t, .failure(failure), onDone: onDone) } else { nextTimeoutCheck = min(nextTimeoutCheck, next) }
            }
        }
    }

    /// One round of delivery: the transfers that had something when it began.
    private func deliver(onEvent: (Int, TransferEvent) -> Bool, onDone: (Int, Outcome) -> Void) {
        guard let multi else { return }
        swap(&ready.walking, &ready.items)   // `items` takes the walked list's emptied storage
        defer { ready.walking.removeAll(keepingCapacity: true) }
        var lastRead = MonotonicClock.now()
        for (k, t) in ready.walking.enumerated() {
            // A read is a syscall and a call into libcurl per ready socket: at most one per
            // `readInterval`.
            if k > 0, k % TransferDriver.readEvery == 0 {
                let now = MonotonicClock.now()
                if now - lastRead >= TransferDriver.readInterval {
                    multi.perform()
                    lastRead = now
                }
            }
            t.unlist()
            // An ended transfer's easy handle may already serve another: match the object.
            guard multi.attached[t.handle] === t, let id = ids[t.handle] else { continue }
            if t.headComplete && !t.headDelivered {
                t.headDelivered = true
                if !onEvent(id, .head(t.head)) { end(t, .failure(t.failure(.cancelled, "stopped by the reader")), onDone: onDone); continue }
            }
            if !t.pendingBody.isEmpty {
                if !t.deliverPendingBody({ onEvent(id, .body($0, at: $1)) }) {
                    end(t, .failure(t.failure(.cancelled, "stopped by the reader")), onDone: onDone)
                    continue
                }
                t.resumeIfPaused()
            }
        }
    }

    /// Ends every transfer as cancelled.
    package func cancelAll(onDone: (Int, Outcome) -> Void) {
        guard let multi else { drive(onEvent: { _, _ in true }, onDone: onDone); return }
        for t in Array(multi.attached.values) { end(t, .failure(t.failure(.cancelled, "cancelled")), onDone: onDone) }
    }

    /// Sleeps until a socket needs attention, `until` (monotonic seconds) passes, a
    /// transfer's timeout could pass, or 50 ms.
    package func wait(until: Double? = nil) {
        // Bytes already read and waiting to be delivered: no socket will say so.
        guard let multi, failedAtStart.isEmpty, ready.items.isEmpty else { return }
        let now = MonotonicClock.now()
        let limit = min(until ?? .infinity, nextTimeoutCheck)
        if limit <= now { return }
        let ms = min(Double(TransferDriver.pollIntervalMs), (limit - now) * 1000)   // limit may be infinite
        multi.wait(timeoutMs: max(1, Int(ms.rounded(.up))), until: until)
    }
}

/// Drives N transfers at once on the calling thread with libcurl's multi interface: a
/// single-threaded event loop, so wall time is the slowest transfer, not the sum. Checks
/// timeouts as they come and the interrupt flag at least every 50 ms.
package struct TransferLoop {
    /// Runs `requests` to completion. `onEvent(index, event)` returns false to stop that
    /// transfer (its result is then `.cancelled`). Results are in request order.
    package static func run(_ requests: [HTTPRequest], interrupt: InterruptFlag?,
                    onEvent: (Int, TransferEvent) -> Bool) -> [(Result<HTTPResponseHead, HTTPError>, TransferTimings)] {
        let driver = TransferDriver(threadMulti: true)
        defer { driver.close() }
        var outcomes = [TransferDriver.Outcome?](repeating: nil, count: requests.count)
        for (i, r) in requests.enumerated() { driver.start(r, id: i) }
        let done: (Int, TransferDriver.Outcome) -> Void = { outcomes[$0] = $1 }
        while driver.activeCount > 0 {
            driver.drive(onEvent: onEvent, onDone: done)
            if let interrupt, interrupt.isRaised {
                driver.cancelAll(onDone: done)
                break
            }
            if driver.activeCount == 0 { break }
            driver.wait()
        }
        return outcomes.map { ($0!.result, $0!.timings) }
    }
}
