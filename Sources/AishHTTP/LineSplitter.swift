import AishBase
import Glibc

/// Cuts a byte stream into lines at "\n" (a trailing "\r" is dropped), whatever the chunk
/// boundaries. Keeps only the current unfinished line, so memory stays constant however
/// long the stream runs; a line longer than `maxLineBytes` is an error rather than a
/// way to exhaust memory.
package struct LineSplitter {
    package struct LineTooLong: Error, Equatable {
        package var limit: Int
    }

    package let maxLineBytes: Int
    private var buffer: [UInt8] = []

    package init(maxLineBytes: Int = 16 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// True when bytes of an unfinished line are held.
    package var hasPartialLine: Bool { !buffer.isEmpty }

    /// Feeds `bytes`; calls `onLine` with each complete line (without its terminator).
    package mutating func push(_ bytes: [UInt8], onLine: (ArraySlice<UInt8>) throws -> Void) throws {
        var start = 0
        // Only the new bytes are searched, so a long line in many chunks costs linear time.
        while let nl = LineSplitter.newline(in: bytes, from: start) {
            if buffer.isEmpty {
                try onLine(LineSplitter.trimCR(bytes[start..<nl]))
            } else {
                buffer.append(contentsOf: bytes[start..<nl])
                let line = buffer
                buffer.removeAll(keepingCapacity: buffer.count <= 64 << 10)
                try onLine(LineSplitter.trimCR(line[...]))
            }
            start = nl + 1
        }
        if start < bytes.count {
            try bytes.withUnsafeBufferPointer { try hold(UnsafeBufferPointer(rebasing: $0[start...])) }
        }
    }

    /// Holds `rest`, the start of a line whose end is still to come (also for a caller that
    /// cut the complete lines of a push itself).
    package mutating func hold(_ rest: UnsafeBufferPointer<UInt8>) throws {
        guard buffer.count + rest.count <= maxLineBytes else {
            buffer.removeAll()
            throw LineTooLong(limit: maxLineBytes)
        }
        buffer.append(contentsOf: rest)
    }

    /// At the end of the stream: hands over the last line if it had no terminator.
    package mutating func finish(onLine: (ArraySlice<UInt8>) throws -> Void) throws {
        guard !buffer.isEmpty else { return }
        let line = buffer
        buffer.removeAll()
        try onLine(LineSplitter.trimCR(line[...]))
    }

    /// The index of the first "\n" at or after `start` (memchr: a byte-by-byte search was
    /// a visible share of bench's CPU).
    private static func newline(in bytes: [UInt8], from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, let hit = memchr(base + start, 0x0A, buffer.count - start) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    private static func trimCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == 0x0D ? line.dropLast() : line
    }
}

/// One Server-Sent Event: the `data:` lines joined by "\n", with its `event:` and `id:`.
package struct SSEEvent: Equatable, Sendable {
    package var event: String?
    package var data: String
    package var id: String?
}

/// Decodes a text/event-stream (the WHATWG rules): `field: value` lines, a blank line
/// ends an event, lines starting with ":" are comments, one space after the colon is
/// dropped, `retry:` and unknown fields are ignored. Invalid UTF-8 becomes U+FFFD.
package struct SSEDecoder {
    /// An event as it was read: its data as bytes, valid only during the call that gets it
    /// (a decoder reading JSON from them makes no String of each event).
    package struct RawEvent {
        package var event: String?
        package var id: String?
        package var data: UnsafeBufferPointer<UInt8>

        package var decoded: SSEEvent { SSEEvent(event: event, data: String(decoding: data, as: UTF8.self), id: id) }
    }

    private var lines: LineSplitter
    /// The data lines of the event being read, joined by "\n"; its storage is kept from
    /// event to event.
    private var data: [UInt8] = []
    /// The event's first data line while it is its only one, still in the pushed bytes: an
    /// event of one data line (nearly every event) is handed over without a copy. Valid
    /// only during `pushRaw`, which copies it into `data` before it returns.
    private var firstLine: UnsafeBufferPointer<UInt8>?
    private var hasData = false
    private var eventName: String?
    private var eventID: String?

    package init(maxLineBytes: Int = 16 << 20) {
        lines = LineSplitter(maxLineBytes: maxLineBytes)
    }

    /// True while an event has been started but not ended by a blank line.
    package var hasPendingEvent: Bool { hasData || lines.hasPartialLine }

    package mutating func push(_ bytes: [UInt8], onEvent: (SSEEvent) throws -> Void) throws {
        try pushRaw(bytes) { try onEvent($0.decoded) }
    }

    /// Feeds `bytes`; calls `onEvent` with each event ended in them, as bytes.
    package mutating func pushRaw(_ bytes: [UInt8], onEvent: (RawEvent) throws -> Void) throws {
        guard !lines.hasPartialLine else {
            // A line began in an earlier push: the splitter joins it.
            var splitter = LineSplitter(maxLineBytes: lines.maxLineBytes)
            swap(&splitter, &lines)
            defer { swap(&splitter, &lines) }
            try splitter.push(bytes) { line in
                try line.withUnsafeBufferPointer {
                    defer { keepFirstLine() }  // the line's memory is gone after this call
                    try self.handle($0, onEvent: onEvent)
                }
            }
            return
        }
        // Lines cut straight from the pushed bytes (memchr), each handled where it lies: an
        // ArraySlice a line, its retains and its closure, were a tenth of bench's CPU.
        try bytes.withUnsafeBufferPointer { buffer in
            defer { keepFirstLine() }  // `buffer` is valid only in this closure
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start < buffer.count, let hit = memchr(base + start, 0x0A, buffer.count - start) {
                let newline = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                // An event of one `data:` line and the blank line that ends it, both ended by
                // "\n" alone (nearly every event of a chat stream): handed over as it lies,
                // without handling each line (a tenth fewer instructions per bench request).
                if !hasData, newline + 1 < buffer.count, buffer[newline + 1] == 0x0A, newline - start >= 5,
                   buffer[newline - 1] != 0x0D, memcmp(base + start, "data:", 5) == 0 {
                    var valueStart = start + 5
                    if valueStart < newline, buffer[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
                    firstLine = UnsafeBufferPointer(rebasing: buffer[valueStart..<newline])
                    hasData = true
                    start = newline + 2
                    try dispatch(onEvent)
                    continue
                }
                var end = newline
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                try handle(UnsafeBufferPointer(rebasing: buffer[start..<end]), onEvent: onEvent)
                start = newline + 1
            }
            if start < buffer.count { try lines.hold(UnsafeBufferPointer(rebasing: buffer[start...])) }
        }
    }

    /// The event goes on past the bytes its first data line lies in, or has a second data
    /// line: the first is copied into `data`.
    private mutating func keepFirstLine() {
        guard let line = firstLine else { return }
        data.append(contentsOf: line)
        firstLine = nil
    }

    /// End of stream: an event not closed by a blank line is still delivered (servers
    /// that omit the final newline); returns true if one was.
    @discardableResult
    package mutating func finish(onEvent: (SSEEvent) throws -> Void) throws -> Bool {
        try finishRaw { try onEvent($0.decoded) }
    }

    @discardableResult
    package mutating func finishRaw(onEvent: (RawEvent) throws -> Void) throws -> Bool {
        var splitter = LineSplitter(maxLineBytes: lines.maxLineBytes)
        swap(&splitter, &lines)
        defer { swap(&splitter, &lines) }
        try splitter.finish { line in
            try line.withUnsafeBufferPointer {
                defer { keepFirstLine() }
                try self.handle($0, onEvent: onEvent)
            }
        }
        if hasData {
            try dispatch(onEvent)
            return true
        }
        return false
    }

    private mutating func handle(_ line: UnsafeBufferPointer<UInt8>, onEvent: (RawEvent) throws -> Void) throws {
        if line.isEmpty {
            if hasData { try dispatch(onEvent) } else { eventName = nil }
            return
        }
        if line[0] == UInt8(ascii: ":") { return }  // comment / keep-alive
        var colon = 0
        while colon < line.count, line[colon] != UInt8(ascii: ":") { colon += 1 }
        // The field name compared as bytes: a String per line was a visible share of bench's CPU.
        let name = UnsafeBufferPointer(rebasing: line[..<colon])
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = UnsafeBufferPointer(rebasing: line[valueStart...])
        if SSEDecoder.isField(name, "data") {
            if !hasData {
                firstLine = value
            } else {
                keepFirstLine()
                data.append(0x0A)
                data.append(contentsOf: value)
            }
            hasData = true
        } else if SSEDecoder.isField(name, "event") {
            eventName = String(decoding: value, as: UTF8.self)
        } else if SSEDecoder.isField(name, "id") {
            eventID = String(decoding: value, as: UTF8.self)
        }
        // retry: and unknown fields are ignored
    }

    /// Whether a line's field name is `field` (bytes against bytes: the generic comparison
    /// with a String's UTF-8 view showed in bench's CPU time, once per line).
    private static func isField(_ name: UnsafeBufferPointer<UInt8>, _ field: StaticString) -> Bool {
        let n = field.utf8CodeUnitCount
        return name.count == n && memcmp(name.baseAddress!, field.utf8Start, n) == 0
    }

    private mutating func dispatch(_ onEvent: (RawEvent) throws -> Void) throws {
        if let line = firstLine {
            let name = eventName
            firstLine = nil
            hasData = false
            eventName = nil
            try onEvent(RawEvent(event: name, id: eventID, data: line))
            return
        }
        var bytes: [UInt8] = []
        swap(&bytes, &data)
        let name = eventName
        hasData = false
        eventName = nil
        defer {
            bytes.removeAll(keepingCapacity: bytes.capacity <= 64 << 10)
            swap(&bytes, &data)
        }
        try bytes.withUnsafeBufferPointer { try onEvent(RawEvent(event: name, id: eventID, data: $0)) }
    }
}
