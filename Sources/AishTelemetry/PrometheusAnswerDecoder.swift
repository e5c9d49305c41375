import FoundationEssentials
import AishBase

/// Reads an answer of `/api/v1/query` or `/api/v1/query_range` straight from its UTF-8
/// bytes into a `PrometheusQueryAnswer`, without building a JSON tree first: a range answer
/// holds thousands of `[time, "value"]` pairs, and a tree node (an array, a number, a
/// string) for each of them was most of the work of decoding it.
///
/// It accepts exactly the JSON that `JSONValue.parse` accepts and reads the same values
/// (`PrometheusAPI.decodeQueryTree` is the reference; a test and the `prometheus-api` fuzz
/// target compare the two): keys in any order (a `result` seen before its `resultType` is
/// read once the type is known), the first of duplicate keys wins, unknown keys are
/// skipped, values may be `NaN`, `+Inf` and `-Inf`. A syntax error anywhere wins over any
/// shape error, as when the whole tree was parsed first, and names its byte offset
/// (`JSONParseError`); a shape error names the JSON path of the first bad element.
package struct PrometheusAnswerDecoder {
    package enum Failure: Error {
        /// Not JSON: what and at which byte.
        case syntax(JSONParseError)
        /// No `status` of "success" or "error": not Prometheus's API.
        case notPrometheus
        /// `"status": "error"`: Prometheus's errorType and message.
        case prometheusError(type: String, message: String)
        /// JSON, but not shaped as a query answer: what, by its path.
        case shape(String)
    }

    package static func decode(_ body: [UInt8]) throws(Failure) -> PrometheusQueryAnswer {
        let outcome = body.withUnsafeBufferPointer { bytes -> Result<PrometheusQueryAnswer, Failure> in
            var decoder = PrometheusAnswerDecoder(bytes: bytes)
            do throws(JSONParseError) {
                try decoder.document()
                return try decoder.answer()
            } catch {
                return .failure(.syntax(error))
            }
        }
        return try outcome.get()
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var pos = 0
    private var depth = 0
    /// JSONParser's nesting limit: the same documents are rejected.
    private static let maxDepth = 512

    // The envelope as read: the first of each key.
    private var status: Read<String> = .absent
    private var data: Read<Void> = .absent
    private var resultType: Read<String> = .absent
    private var result: ResultRead = .absent
    private var warnings: [String] = []
    private var warningsSeen = false
    private var errorType: Read<String> = .absent
    private var errorMessage: Read<String> = .absent

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// A member as read: absent, present with another type than expected, or its value.
    private enum Read<T> {
        case absent, otherType, value(T)
        var isAbsent: Bool { if case .absent = self { return true }; return false }
        var value: T? { if case let .value(v) = self { return v }; return nil }
    }

    private enum ResultRead {
        case absent
        case decoded(PrometheusResult)
        case shapeError(String)
        /// Seen before its `resultType` (or of a type read through the tree): where it is.
        case pending(start: Int, end: Int, depth: Int)

        var isAbsent: Bool { if case .absent = self { return true }; return false }
    }

    // MARK: the answer

    /// What the document said, checked in the order the tree decoding checks it.
    private mutating func answer() throws(JSONParseError) -> Result<PrometheusQueryAnswer, Failure> {
        switch status.value {
        case "success": break
        case "error":
            return .failure(.prometheusError(type: errorType.value ?? "unknown", message: errorMessage.value ?? "(no message)"))
        default: return .failure(.notPrometheus)
        }
        if data.isAbsent { return .failure(.shape("no data in a success answer")) }
        guard let type = resultType.value else { return .failure(.shape("no data.resultType in the answer")) }
        switch result {
        case .absent: return .failure(.shape("no data.result in the answer"))
        case let .decoded(r): return .success(PrometheusQueryAnswer(result: r, warnings: warnings))
        case let .shapeError(message): return .failure(.shape(message))
        case let .pending(start, end, at):
            switch type {
            case "vector", "matrix":
                pos = start
                depth = at
                result = try resultList(matrix: type == "matrix")
                return try answer()
            default:
                // A scalar or a string is one small pair, and any other type an error: the tree reads them.
                do {
                    let value = try JSONValue.parse(bytes: UnsafeBufferPointer(rebasing: bytes[start..<end]))
                    let r = try PrometheusAPI.result(ofType: type, value) { Failure.shape($0) }
                    return .success(PrometheusQueryAnswer(result: r, warnings: warnings))
                } catch let e as Failure {
                    return .failure(e)
                } catch {
                    // Not reached: the whole document was read as JSON before.
                    return .failure(.shape("data.result: \(error)"))
                }
            }
        }
    }

    // MARK: the envelope

    private mutating func document() throws(JSONParseError) {
        skipSpace()
        if pos < bytes.count, bytes[pos] == Byte.openBrace { try envelope() } else { try skipValue() }
        skipSpace()
        if pos != bytes.count { throw JSONParseError(offset: pos, reason: "unexpected trailing characters") }
    }

    private mutating func envelope() throws(JSONParseError) {
        guard try beginObject() else { return }
        repeat {
            let key = try memberKey()
            if status.isAbsent, matches(key, "status") {
                status = try stringMember()
            } else if data.isAbsent, matches(key, "data") {
                if at(Byte.openBrace) {
                    data = .value(())
                    try dataObject()
                } else {
                    data = .otherType
                    try skipValue()
                }
            } else if !warningsSeen, matches(key, "warnings") {
                warningsSeen = true
                try warningList()
            } else if errorType.isAbsent, matches(key, "errorType") {
                errorType = try stringMember()
            } else if errorMessage.isAbsent, matches(key, "error") {
                errorMessage = try stringMember()
            } else {
                try skipValue()
            }
        } while try endMember()
    }

    private mutating func dataObject() throws(JSONParseError) {
        guard try beginObject() else { return }
        repeat {
            let key = try memberKey()
            if resultType.isAbsent, matches(key, "resultType") {
                resultType = try stringMember()
            } else if result.isAbsent, matches(key, "result") {
                switch resultType.value {
                case "vector": result = try resultList(matrix: false)
                case "matrix": result = try resultList(matrix: true)
                default:
                    let start = pos, at = depth
                    try skipValue()
                    result = .pending(start: start, end: pos, depth: at)
                }
            } else {
                try skipValue()
            }
        } while try endMember()
    }

    /// Strings of the `warnings` array; other values in it are skipped.
    private mutating func warningList() throws(JSONParseError) {
        guard at(Byte.openBracket) else { return try skipValue() }
        guard try beginArray() else { return }
        repeat {
            skipSpace()
            if at(Byte.quote) { warnings.append(text(try stringToken())) } else { try skipValue() }
        } while try endElement()
    }

    // MARK: vector and matrix

    /// `data.result` of a vector or a matrix: every item read, the first bad one the problem.
    private mutating func resultList(matrix: Bool) throws(JSONParseError) -> ResultRead {
        guard at(Byte.openBracket) else {
            try skipValue()
            return .shapeError("data.result of a \(matrix ? "matrix" : "vector") is not an array")
        }
        var samples: [PrometheusSample] = []
        var series: [PrometheusSeries] = []
        var failure: String?
        if try beginArray() {
            var i = 0
            repeat {
                skipSpace()
                if failure == nil {
                    let read = try item(matrix: matrix, expectedPoints: series.last?.points.count ?? 0)
                    do throws(ShapeProblem) {
                        if matrix { series.append(try read.series(i, in: bytes)) } else { samples.append(try read.sample(i, in: bytes)) }
                    } catch {
                        failure = error.message
                    }
                } else {
                    try skipValue()
                }
                i += 1
            } while try endElement()
        }
        if let failure { return .shapeError(failure) }
        return .decoded(matrix ? .matrix(series) : .vector(samples))
    }

    private struct ShapeProblem: Error { var message: String }

    /// One item of a vector (`{"metric": {...}, "value": [t, "v"]}`) or a matrix (`"values":
    /// [[t, "v"], ...]`) as read, checked afterwards in the order the tree decoding checks it
    /// (labels, native histogram, value), whatever the order of the keys.
    private struct ItemRead {
        var labels: LabelsRead = .absent
        var value: PointRead?
        var values: Read<[PrometheusPoint]> = .absent
        var badPoint: (index: Int, read: PointRead)?
        var nativeHistogram = false

        func sample(_ i: Int, in bytes: UnsafeBufferPointer<UInt8>) throws(ShapeProblem) -> PrometheusSample {
            let names = try labels.checked(at: "data.result[\(i)].metric")
            if nativeHistogram { throw ShapeProblem(message: PrometheusAPI.nativeHistogramMessage) }
            guard let value else { throw ShapeProblem(message: "data.result[\(i)] has no value") }
            return PrometheusSample(labels: names, point: try value.checked(at: "data.result[\(i)].value", in: bytes))
        }

        func series(_ i: Int, in bytes: UnsafeBufferPointer<UInt8>) throws(ShapeProblem) -> PrometheusSeries {
            let names = try labels.checked(at: "data.result[\(i)].metric")
            if nativeHistogram && values.isAbsent { throw ShapeProblem(message: PrometheusAPI.nativeHistogramMessage) }
            guard let points = values.value else { throw ShapeProblem(message: "data.result[\(i)] has no values") }
            if let badPoint { _ = try badPoint.read.checked(at: "data.result[\(i)].values[\(badPoint.index)]", in: bytes) }
            return PrometheusSeries(labels: names, points: points)
        }
    }

    private mutating func item(matrix: Bool, expectedPoints: Int) throws(JSONParseError) -> ItemRead {
        var read = ItemRead()
        guard at(Byte.openBrace) else {
            try skipValue()
            return read
        }
        guard try beginObject() else { return read }
        repeat {
            let key = try memberKey()
            if read.labels.isAbsent, matches(key, "metric") {
                read.labels = try labelSet()
            } else if !matrix, read.value == nil, matches(key, "value") {
                read.value = try point()
            } else if matrix, read.values.isAbsent, matches(key, "values") {
                try pointList(into: &read, expected: expectedPoints)
            } else {
                if matches(key, matrix ? "histograms" : "histogram") { read.nativeHistogram = true }
                try skipValue()
            }
        } while try endMember()
        return read
    }

    /// A matrix item's `values`: its points up to the first bad one, which is kept.
    private mutating func pointList(into read: inout ItemRead, expected: Int) throws(JSONParseError) {
        guard at(Byte.openBracket) else {
            read.values = .otherType
            return try skipValue()
        }
        var points: [PrometheusPoint] = []
        points.reserveCapacity(expected)
        if try beginArray() {
            var j = 0
            repeat {
                skipSpace()
                if read.badPoint == nil {
                    let p = try point()
                    if case let .ok(good) = p { points.append(good) } else { read.badPoint = (j, p) }
                } else {
                    try skipValue()
                }
                j += 1
            } while try endElement()
        }
        read.values = .value(points)
    }

    private enum LabelsRead {
        case absent
        case labels([MetricLabel])
        case notObject
        case notString(name: String)

        var isAbsent: Bool { if case .absent = self { return true }; return false }

        func checked(at path: String) throws(ShapeProblem) -> [MetricLabel] {
            switch self {
            case .absent: return []
            case let .labels(l): return l
            case .notObject: throw ShapeProblem(message: "\(path) is not an object")
            case let .notString(name): throw ShapeProblem(message: "\(path).\(name) is not a string")
            }
        }
    }

    /// `{"name": "value", ...}` in document order; the first value that is not a string is the problem.
    private mutating func labelSet() throws(JSONParseError) -> LabelsRead {
        guard at(Byte.openBrace) else {
            try skipValue()
            return .notObject
        }
        var labels: [MetricLabel] = []
        var notString: String?
        if try beginObject() {
            repeat {
                let key = try memberKey()
                if notString == nil, at(Byte.quote) {
                    labels.append(MetricLabel(name: text(key), value: text(try stringToken())))
                } else {
                    if notString == nil { notString = text(key) }
                    try skipValue()
                }
            } while try endMember()
        }
        return notString.map { .notString(name: $0) } ?? .labels(labels)
    }

    private enum PointRead {
        case ok(PrometheusPoint)
        case notPair
        /// A time and a second element that is not a number in a string (where it is).
        case badValue(start: Int, end: Int)

        func checked(at path: String, in bytes: UnsafeBufferPointer<UInt8>) throws(ShapeProblem) -> PrometheusPoint {
            switch self {
            case let .ok(p): return p
            case .notPair: throw ShapeProblem(message: "\(path) is not [time, \"value\"]")
            case let .badValue(start, end):
                // Shown as the tree decoding shows it: that value, serialized again.
                let value = (try? JSONValue.parse(bytes: UnsafeBufferPointer(rebasing: bytes[start..<end])))?.serialized() ?? "?"
                throw ShapeProblem(message: "\(path) has the value \(value), not a number in a string")
            }
        }
    }

    /// `[1435781451.781, "1"]`: the time as a number, the value as a string (NaN, ±Inf).
    private mutating func point() throws(JSONParseError) -> PointRead {
        guard at(Byte.openBracket) else {
            try skipValue()
            return .notPair
        }
        guard try beginArray() else { return .notPair }
        var count = 0
        var time: Double?
        var value: Double?
        var valueStart = 0, valueEnd = 0
        repeat {
            skipSpace()
            switch count {
            case 0 where startsNumber:
                time = try number()
            case 1:
                valueStart = pos
                if at(Byte.quote) {
                    value = sampleValue(try stringToken())
                } else {
                    try skipValue()
                }
                valueEnd = pos
            default:
                try skipValue()
            }
            count += 1
        } while try endElement()
        guard count == 2, let time else { return .notPair }
        guard let value else { return .badValue(start: valueStart, end: valueEnd) }
        return .ok(PrometheusPoint(time: time, value: value))
    }

    /// The sample value of a string token: plain decimals read from the bytes, anything
    /// else (NaN, ±Inf, long mantissas, escapes) as `PrometheusAPI.sampleValue` reads it.
    private func sampleValue(_ token: StringToken) -> Double? {
        if case let .raw(start, end) = token, let v = DecimalText.value(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
            return v
        }
        return PrometheusAPI.sampleValue(text(token))
    }

    // MARK: JSON, as JSONParser reads it

    private enum Byte {
        static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
        static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        static let comma = UInt8(ascii: ","), colon = UInt8(ascii: ":"), minus = UInt8(ascii: "-")
    }

    private func at(_ byte: UInt8) -> Bool { pos < bytes.count && bytes[pos] == byte }

    /// Would JSONParser read the value here as a number (anything that is not another kind)?
    private var startsNumber: Bool {
        guard pos < bytes.count else { return false }
        switch bytes[pos] {
        case Byte.openBrace, Byte.openBracket, Byte.quote, UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return false
        default: return true
        }
    }

    private mutating func skipSpace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 {
            pos += 1
        }
    }

    /// At `{`: enters the object; false (and already left) when it is empty.
    private mutating func beginObject() throws(JSONParseError) -> Bool { try begin(closedBy: Byte.closeBrace) }

    /// At `[`: enters the array; false (and already left) when it is empty.
    private mutating func beginArray() throws(JSONParseError) -> Bool { try begin(closedBy: Byte.closeBracket) }

    /// After a member's value: true when another member follows, false at the closing brace.
    private mutating func endMember() throws(JSONParseError) -> Bool {
        try next(closedBy: Byte.closeBrace, else: "expected ',' or '}'")
    }

    /// After an element: true when another element follows, false at the closing bracket.
    private mutating func endElement() throws(JSONParseError) -> Bool {
        try next(closedBy: Byte.closeBracket, else: "expected ',' or ']'")
    }

    private mutating func begin(closedBy close: UInt8) throws(JSONParseError) -> Bool {
        depth += 1
        if depth > Self.maxDepth { throw JSONParseError(offset: pos, reason: "nesting deeper than \(JSONParser.maxDepth) levels") }
        pos += 1
        skipSpace()
        if at(close) {
            pos += 1
            depth -= 1
            return false
        }
        return true
    }

    private mutating func next(closedBy close: UInt8, else expected: String) throws(JSONParseError) -> Bool {
        skipSpace()
        guard pos < bytes.count else { throw JSONParseError(offset: pos, reason: "unexpected end of input") }
        if bytes[pos] == Byte.comma { pos += 1; return true }
        if bytes[pos] == close { pos += 1; depth -= 1; return false }
        throw JSONParseError(offset: pos, reason: expected)
    }

    /// A member's key and its colon; the value follows.
    private mutating func memberKey() throws(JSONParseError) -> StringToken {
        skipSpace()
        guard at(Byte.quote) else { throw JSONParseError(offset: pos, reason: "expected a string key") }
        let key = try stringToken()
        skipSpace()
        guard at(Byte.colon) else { throw JSONParseError(offset: pos, reason: "expected ':'") }
        pos += 1
        skipSpace()
        return key
    }

    /// A member's value when a string is expected.
    private mutating func stringMember() throws(JSONParseError) -> Read<String> {
        if at(Byte.quote) { return .value(text(try stringToken())) }
        try skipValue()
        return .otherType
    }

    /// Any value, checked as JSONParser checks it, read no further.
    private mutating func skipValue() throws(JSONParseError) {
        guard pos < bytes.count else { throw JSONParseError(offset: pos, reason: "unexpected end of input") }
        switch bytes[pos] {
        case Byte.openBrace:
            guard try beginObject() else { return }
            repeat {
                _ = try memberKey()
                try skipValue()
            } while try endMember()
        case Byte.openBracket:
            guard try beginArray() else { return }
            repeat {
                skipSpace()
                try skipValue()
            } while try endElement()
        case Byte.quote: _ = try stringToken()
        case UInt8(ascii: "t"): try word("true")
        case UInt8(ascii: "f"): try word("false")
        case UInt8(ascii: "n"): try word("null")
        default: _ = try number()
        }
    }

    private mutating func word(_ word: StaticString) throws(JSONParseError) {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard pos + w.count <= bytes.count, bytes[pos..<pos + w.count].elementsEqual(w) else {
            throw JSONParseError(offset: pos, reason: "unexpected character")
        }
        pos += w.count
    }

    /// A number as a Double (an integer through Int first, as JSONValue's `.int`).
    private mutating func number() throws(JSONParseError) -> Double {
        let start = pos
        var isInteger = true
        if pos < bytes.count, bytes[pos] == Byte.minus { pos += 1 }
        while pos < bytes.count {
            let c = bytes[pos]
            if c >= 0x30 && c <= 0x39 { pos += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == Byte.minus {
                isInteger = false
                pos += 1
                continue
            }
            break
        }
        guard pos > start else { throw JSONParseError(offset: pos, reason: "unexpected character") }
        let digits = UnsafeBufferPointer(rebasing: bytes[start..<pos])
        if isInteger, let i = DecimalText.integer(digits) { return Double(i) }
        if !isInteger, let d = DecimalText.value(digits) { return d }
        let text = String(decoding: digits, as: UTF8.self)
        if isInteger, let i = Int(text) { return Double(i) }
        guard let d = Double(text) else { throw JSONParseError(offset: start, reason: "bad number '\(text)'") }
        return d
    }

    private typealias StringToken = JSONStringScanner.Token

    private func text(_ token: StringToken) -> String {
        switch token {
        case let .raw(start, end): return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        case let .decoded(b): return String(decoding: b, as: UTF8.self)
        }
    }

    private func matches(_ token: StringToken, _ name: StaticString) -> Bool {
        let w = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        switch token {
        case let .raw(start, end): return bytes[start..<end].elementsEqual(w)
        case let .decoded(b): return b.elementsEqual(w)
        }
    }

    /// At the opening quote: the string, read as JSONParser reads it (same escapes, errors and offsets).
    private mutating func stringToken() throws(JSONParseError) -> StringToken {
        try JSONStringScanner.scan(bytes, at: &pos)
    }
}

/// Decimal numbers read from ASCII digits without making a String: the common shapes only,
/// giving exactly what `Int(text)` and `Double(text)` give; nil means "ask them".
package enum DecimalText {
    /// `-?[0-9]{1,18}`.
    package static func integer(_ text: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let negative = !text.isEmpty && text[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        let count = text.count - i
        guard count >= 1, count <= 18 else { return nil }
        var v = 0
        while i < text.count {
            let d = Int(text[i]) - 0x30
            guard d >= 0 && d <= 9 else { return nil }
            v = v * 10 + d
            i += 1
        }
        return negative ? -v : v
    }

    /// `-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?` whose digits fit in 2^53 and whose power
    /// of ten is at most 22: then one multiplication or division of two exact doubles is
    /// correctly rounded, the same double `Double(text)` reads (Clinger's fast path).
    package static func value(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        let n = text.count
        let negative = n > 0 && text[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        func digit(_ at: Int) -> UInt64? {
            guard at < n else { return nil }
            let d = Int(text[at]) - 0x30
            return d >= 0 && d <= 9 ? UInt64(d) : nil
        }
        while let d = digit(i) {
            mantissa = mantissa &* 10 &+ d
            digits += 1
            i += 1
            if digits > 15 { return nil }
        }
        guard digits > 0 else { return nil }
        if i < n, text[i] == UInt8(ascii: ".") {
            i += 1
            while let d = digit(i) {
                mantissa = mantissa &* 10 &+ d
                digits += 1
                fractionDigits += 1
                i += 1
                if digits > 15 { return nil }
            }
            guard fractionDigits > 0 else { return nil }
        }
        var exponent = 0
        if i < n, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
            i += 1
            var negativeExponent = false
            if i < n, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") {
                negativeExponent = text[i] == UInt8(ascii: "-")
                i += 1
            }
            var exponentDigits = 0
            while let d = digit(i) {
                exponent = exponent * 10 + Int(d)
                exponentDigits += 1
                i += 1
                if exponentDigits > 3 { return nil }
            }
            guard exponentDigits > 0 else { return nil }
            if negativeExponent { exponent = -exponent }
        }
        guard i == n else { return nil }
        let power = exponent - fractionDigits
        guard power >= -22, power <= 22 else { return nil }
        // 15 digits are below 2^53: the mantissa is exact.
        var v = Double(mantissa)
        v = power >= 0 ? v * exactPowersOfTen[power] : v / exactPowersOfTen[-power]
        return negative ? -v : v
    }

    /// 10^0 ... 10^22, each exactly representable.
    private static let exactPowersOfTen: [Double] = (0...22).map { k in
        var p = 1.0
        for _ in 0..<k { p *= 10 }
        return p
    }
}
