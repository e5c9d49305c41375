import FoundationEssentials
import Glibc
import AishBase

// The Prometheus text exposition format (0.0.4) as vLLM, llama.cpp (`--metrics`) and
// LiteLLM (prometheus_client) serve it on /metrics. The OpenMetrics variants those servers
// may also send are accepted: `# EOF`, `# UNIT`, counters declared without `_total`,
// exemplars after the value, and quoted (UTF-8) metric and label names.

package enum MetricKind: String, Sendable {
    case counter, gauge, histogram, summary, untyped
    case info, stateset, gaugehistogram, unknown   // OpenMetrics

    /// Sample-name suffixes a family of this kind owns besides its bare name.
    package var ownedSuffixes: [String] {
        switch self {
        case .counter: return ["_total", "_created"]
        case .histogram: return ["_bucket", "_sum", "_count", "_created"]
        case .gaugehistogram: return ["_bucket", "_gsum", "_gcount"]
        case .summary: return ["_sum", "_count", "_created"]
        case .info: return ["_info"]
        default: return []
        }
    }

    /// Histograms own only suffixed samples; every other kind may have bare-name samples.
    package var allowsBareName: Bool { self != .histogram && self != .gaugehistogram }
}

package struct MetricLabel: Sendable, Hashable {
    package var name: String
    package var value: String

    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }

}

extension Array where Element == MetricLabel {
    package subscript(label name: String) -> String? { first(where: { $0.name == name })?.value }

    /// `{a="x",b="y"}` sorted by name, escaped as the format escapes it; "" without labels.
    /// Identifies a series independently of the order a server printed its labels in.
    package var canonicalText: String {
        if isEmpty { return "" }
        let parts = sorted(by: { $0.name < $1.name }).map { l in
            var v = ""
            for c in l.value {
                switch c {
                case "\\": v += "\\\\"
                case "\"": v += "\\\""
                case "\n": v += "\\n"
                default: v.append(c)
                }
            }
            return "\(l.name)=\"\(v)\""
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    package func removing(_ name: String) -> [MetricLabel] { filter { $0.name != name } }
}

package struct MetricSample: Sendable {
    package var name: String
    package var labels: [MetricLabel]
    package var value: Double
    /// Milliseconds since the epoch, when the server gave one.
    package var timestampMs: Int64?
    /// 1-based line in the scraped text.
    package var line: Int

    package var seriesKey: String { name + labels.canonicalText }
}

package struct MetricFamily: Sendable {
    package var name: String
    package var kind: MetricKind
    package var help: String?
    package var unit: String?
    package var samples: [MetricSample]
    /// True when a `# TYPE` line declared the kind (false: inferred as untyped).
    package var declared: Bool
}

/// Where and why a scrape could not be read: `http://host/metrics:12:7: invalid escape '\t'`.
package struct PrometheusParseError: UserFacingError, Equatable {
    package var exitCode: ExitCode { .failure }
    package var source: String
    package var line: Int
    package var column: Int
    package var reason: String
    package var description: String { "\(source):\(line):\(column): \(reason)" }
}

/// One scrape, parsed: families in the order the server printed them.
package struct MetricsExposition: Sendable {
    package var families: [MetricFamily]
    private var familyIndex: [String: Int]
    private var sampleIndex: [String: [Int32]]   // sample name → positions in `flat`
    private var flat: [MetricSample]

    package init(families: [MetricFamily]) {
        self.families = families
        var fi: [String: Int] = [:]
        var si: [String: [Int32]] = [:]
        var flat: [MetricSample] = []
        for (i, f) in families.enumerated() {
            fi[f.name] = i
            for s in f.samples {
                si[s.name, default: []].append(Int32(flat.count))
                flat.append(s)
            }
        }
        familyIndex = fi
        sampleIndex = si
        self.flat = flat
    }

    package func family(named name: String) -> MetricFamily? { familyIndex[name].map { families[$0] } }

    /// Every sample with exactly this name, whichever family it belongs to. Lookups go by
    /// sample name because servers disagree on family names (`x_total` vs `x` for counters).
    package func samples(named name: String) -> [MetricSample] { (sampleIndex[name] ?? []).map { flat[Int($0)] } }

    package var allSamples: [MetricSample] { flat }

    package func contains(sampleNamed name: String) -> Bool { sampleIndex[name] != nil }

    /// The histogram `base` (samples `base_bucket{le=…}`, `base_sum`, `base_count`), one
    /// series per label set other than `le`. Found by sample names, so a scrape without
    /// `# TYPE` lines still yields it.
    package func histogram(named base: String) -> [HistogramSeries] {
        let buckets = samples(named: base + "_bucket")
        if buckets.isEmpty { return [] }
        var order: [String] = []
        var series: [String: HistogramSeries] = [:]
        for b in buckets {
            guard let le = b.labels[label: "le"], let bound = PrometheusText.parseValue(le) else { continue }
            let rest = b.labels.removing("le")
            let key = rest.canonicalText
            if series[key] == nil {
                order.append(key)
                series[key] = HistogramSeries(labels: rest, buckets: [], sum: nil, count: nil)
            }
            series[key]!.buckets.append(HistogramBucket(upperBound: bound, cumulativeCount: b.value))
        }
        for s in samples(named: base + "_sum") { series[s.labels.canonicalText]?.sum = s.value }
        for s in samples(named: base + "_count") { series[s.labels.canonicalText]?.count = s.value }
        return order.map { key in
            var h = series[key]!
            h.buckets.sort(by: { $0.upperBound < $1.upperBound })
            return h
        }
    }

    /// The summary `base` (samples `base{quantile=…}`, `base_sum`, `base_count`).
    package func summary(named base: String) -> [SummarySeries] {
        var order: [String] = []
        var series: [String: SummarySeries] = [:]
        for s in samples(named: base) {
            guard let qText = s.labels[label: "quantile"], let q = PrometheusText.parseValue(qText) else { continue }
            let rest = s.labels.removing("quantile")
            let key = rest.canonicalText
            if series[key] == nil {
                order.append(key)
                series[key] = SummarySeries(labels: rest, quantiles: [], sum: nil, count: nil)
            }
            series[key]!.quantiles.append((q, s.value))
        }
        for s in samples(named: base + "_sum") { series[s.labels.canonicalText]?.sum = s.value }
        for s in samples(named: base + "_count") { series[s.labels.canonicalText]?.count = s.value }
        return order.map { series[$0]! }
    }
}

package struct HistogramBucket: Sendable, Equatable {
    package var upperBound: Double
    package var cumulativeCount: Double
}

package struct HistogramSeries: Sendable {
    package var labels: [MetricLabel]
    package var buckets: [HistogramBucket]
    package var sum: Double?
    package var count: Double?

    /// `histogram_quantile(q, …)` over this series' cumulative buckets.
    package func quantile(_ q: Double) -> Double { HistogramQuantile.quantile(q, buckets: buckets) }
}

package struct SummarySeries: Sendable {
    package var labels: [MetricLabel]
    package var quantiles: [(Double, Double)]
    package var sum: Double?
    package var count: Double?
}

package enum PrometheusText {
    /// Parses a scrape. `source` names it in errors (the URL without credentials, or a file).
    package static func parse(_ text: String, source: String = "metrics") throws -> MetricsExposition {
        var parser = ExpositionParser(bytes: Array(text.utf8), source: source)
        return try parser.run()
    }

    /// A sample value or a bucket bound: Go's ParseFloat spellings of infinities and NaN too.
    package static func parseValue(_ text: some StringProtocol) -> Double? {
        switch text.lowercased() {
        case "+inf", "inf", "+infinity", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default:
            guard let first = text.first, first.isNumber || first == "-" || first == "+" || first == "." else { return nil }
            return Double(text)
        }
    }

    /// Prints a value as the format does (`+Inf`, `NaN`, shortest round-trip decimal).
    package static func formatValue(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}

/// A byte-level parser: one pass over the text, errors with line and column.
private struct ExpositionParser {
    let bytes: [UInt8]
    let source: String
    var pos = 0
    var lineNumber = 0
    var lineStart = 0
    var lineEnd = 0

    var families: [MetricFamily] = []
    var index: [String: Int] = [:]
    var helpSeen: Set<String> = []

    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    mutating func run() throws -> MetricsExposition {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            lineStart = start
            lineEnd = end
            if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }   // CRLF
            pos = lineStart
            if try parseLine() == .endOfInput { break }
            start = end + 1
        }
        return MetricsExposition(families: families)
    }

    enum LineOutcome { case more, endOfInput }

    private func fail(_ reason: String, at p: Int? = nil) -> PrometheusParseError {
        let at = p ?? pos
        // Column counts characters, not bytes, so that it points at the right place in an editor.
        let column = String(decoding: bytes[lineStart..<min(max(at, lineStart), lineEnd)], as: UTF8.self).count + 1
        return PrometheusParseError(source: source, line: lineNumber, column: column, reason: reason)
    }

    private var atEnd: Bool { pos >= lineEnd }
    private var current: UInt8 { bytes[pos] }

    private mutating func skipBlanks() {
        while pos < lineEnd, bytes[pos] == 0x20 || bytes[pos] == 0x09 { pos += 1 }
    }

    private static func isNameStart(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F || c == 0x3A
    }

    private static func isNameChar(_ c: UInt8) -> Bool { isNameStart(c) || (c >= 0x30 && c <= 0x39) }

    private mutating func parseLine() throws -> LineOutcome {
        skipBlanks()
        if atEnd { return .more }
        if current == UInt8(ascii: "#") { return try parseComment() }
        try parseSample()
        return .more
    }

    // MARK: comments, HELP, TYPE

    private mutating func parseComment() throws -> LineOutcome {
        pos += 1
        skipBlanks()
        let keywordStart = pos
        while pos < lineEnd, bytes[pos] != 0x20, bytes[pos] != 0x09 { pos += 1 }
        let keyword = String(decoding: bytes[keywordStart..<pos], as: UTF8.self)
        switch keyword {
        case "EOF": return .endOfInput
        case "HELP", "TYPE", "UNIT":
            // `# HELP` alone, or followed by something that is not a name, is an ordinary comment.
            skipBlanks()
            guard !atEnd, Self.isNameStart(current) || current == UInt8(ascii: "\"") else { return .more }
            let nameAt = pos
            let name = try parseMetricName()
            if !atEnd, current != 0x20, current != 0x09 {
                throw fail("invalid character in metric name '\(name)'")
            }
            skipBlanks()
            let rest = pos
            switch keyword {
            case "HELP": try setHelp(name, text: unescapeHelp(from: rest), at: nameAt)
            case "TYPE": try setType(name, word: String(decoding: bytes[rest..<lineEnd], as: UTF8.self), at: rest)
            default: families[ensureFamily(name)].unit = String(decoding: bytes[rest..<lineEnd], as: UTF8.self)
            }
            return .more
        default:
            return .more
        }
    }

    /// HELP text escapes only `\\` and `\n`; any other backslash stays as written.
    private func unescapeHelp(from start: Int) -> String {
        var out: [UInt8] = []
        var i = start
        while i < lineEnd {
            let c = bytes[i]
            if c == UInt8(ascii: "\\"), i + 1 < lineEnd {
                let n = bytes[i + 1]
                if n == UInt8(ascii: "\\") { out.append(n); i += 2; continue }
                if n == UInt8(ascii: "n") { out.append(0x0A); i += 2; continue }
            }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func ensureFamily(_ name: String) -> Int {
        if let i = index[name] { return i }
        families.append(MetricFamily(name: name, kind: .untyped, help: nil, unit: nil, samples: [], declared: false))
        index[name] = families.count - 1
        return families.count - 1
    }

    private mutating func setHelp(_ name: String, text: String, at p: Int) throws {
        if helpSeen.contains(name) { throw fail("second HELP line for metric '\(name)'", at: p) }
        helpSeen.insert(name)
        let i = ensureFamily(name)
        families[i].help = text
    }

    private mutating func setType(_ name: String, word: String, at p: Int) throws {
        let trimmed = word.trimming(.whitespaces)
        guard let kind = MetricKind(rawValue: trimmed) else {
            throw fail("unknown metric type '\(trimmed)' for '\(name)' (expected counter, gauge, histogram, summary or untyped)", at: p)
        }
        let i = ensureFamily(name)
        if families[i].declared { throw fail("second TYPE line for metric '\(name)'", at: p) }
        if !families[i].samples.isEmpty { throw fail("TYPE line for metric '\(name)' comes after its samples", at: p) }
        families[i].kind = kind
        families[i].declared = true
    }

    // MARK: samples

    private mutating func parseMetricName() throws -> String {
        if current == UInt8(ascii: "\"") { return try parseQuotedString(what: "metric name") }
        guard Self.isNameStart(current) else { throw fail("invalid metric name") }
        let start = pos
        while pos < lineEnd, Self.isNameChar(bytes[pos]) { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func parseSample() throws {
        let sampleStart = pos
        var name: String?
        if current != UInt8(ascii: "{") { name = try parseMetricName() }
        var labels: [MetricLabel] = []
        let afterName = pos
        skipBlanks()
        if !atEnd, current == UInt8(ascii: "{") {
            pos += 1
            try parseLabels(into: &labels, name: &name)
        } else if pos > afterName {
            pos = afterName   // the blanks before the value, checked below
        }
        guard let name else { throw fail("sample without a metric name", at: sampleStart) }
        guard !atEnd, current == 0x20 || current == 0x09 else {
            if atEnd { throw fail("missing value for '\(name)'") }
            throw fail("invalid character '\(String(decoding: [current], as: UTF8.self))' after metric name '\(name)'")
        }
        skipBlanks()
        if atEnd { throw fail("missing value for '\(name)'") }
        let valueStart = pos
        let valueText = token()
        guard let value = PrometheusText.parseValue(valueText) else {
            throw fail("invalid value '\(valueText)' for '\(name)'", at: valueStart)
        }
        skipBlanks()
        var timestamp: Int64?
        if !atEnd, current != UInt8(ascii: "#") {
            let tsStart = pos
            let tsText = token()
            guard let ts = Int64(tsText) else { throw fail("invalid timestamp '\(tsText)' for '\(name)'", at: tsStart) }
            timestamp = ts
            skipBlanks()
        }
        // An OpenMetrics exemplar (`# {trace_id="…"} 1.0`) may follow; it is not a measurement.
        if !atEnd, current != UInt8(ascii: "#") {
            throw fail("unexpected text after the sample of '\(name)'")
        }
        try add(MetricSample(name: name, labels: labels, value: value, timestampMs: timestamp, line: lineNumber),
                at: sampleStart)
    }

    private mutating func token() -> String {
        let start = pos
        while pos < lineEnd, bytes[pos] != 0x20, bytes[pos] != 0x09 { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func parseLabels(into labels: inout [MetricLabel], name: inout String?) throws {
        var seen: Set<String> = []
        while true {
            skipBlanks()
            if atEnd { throw fail("unterminated label set") }
            if current == UInt8(ascii: "}") { pos += 1; return }
            let labelAt = pos
            let labelName: String
            if current == UInt8(ascii: "\"") {
                let quoted = try parseQuotedString(what: "label name")
                skipBlanks()
                // In the UTF-8 form the metric name may stand alone, quoted, inside the braces.
                if name == nil, !atEnd, current == UInt8(ascii: ",") || current == UInt8(ascii: "}") {
                    name = quoted
                    if current == UInt8(ascii: ",") { pos += 1 }
                    continue
                }
                labelName = quoted
            } else {
                guard Self.isNameStart(current), current != UInt8(ascii: ":") else { throw fail("invalid label name") }
                let start = pos
                while pos < lineEnd, Self.isNameChar(bytes[pos]), bytes[pos] != UInt8(ascii: ":") { pos += 1 }
                labelName = String(decoding: bytes[start..<pos], as: UTF8.self)
            }
            skipBlanks()
            guard !atEnd, current == UInt8(ascii: "=") else { throw fail("expected '=' after label name '\(labelName)'") }
            pos += 1
            skipBlanks()
            guard !atEnd, current == UInt8(ascii: "\"") else { throw fail("expected '\"' to open the value of label '\(labelName)'") }
            let value = try parseQuotedString(what: "label value")
            if seen.contains(labelName) { throw fail("duplicate label '\(labelName)'", at: labelAt) }
            seen.insert(labelName)
            labels.append(MetricLabel(name: labelName, value: value))
            skipBlanks()
            if atEnd { throw fail("unterminated label set") }
            if current == UInt8(ascii: ",") { pos += 1; continue }
            if current == UInt8(ascii: "}") { pos += 1; return }
            throw fail("expected ',' or '}' after the value of label '\(labelName)'")
        }
    }

    /// A double-quoted string with the format's escapes `\\`, `\"` and `\n`.
    private mutating func parseQuotedString(what: String) throws -> String {
        pos += 1   // opening quote
        var out: [UInt8] = []
        while pos < lineEnd {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") {
                guard pos + 1 < lineEnd else { break }
                let e = bytes[pos + 1]
                switch e {
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "n"): out.append(0x0A)
                default:
                    throw fail("invalid escape '\\\(String(decoding: [e], as: UTF8.self))' in \(what)")
                }
                pos += 2
                continue
            }
            out.append(c)
            pos += 1
        }
        throw fail("unterminated \(what)")
    }

    /// Puts a sample in its family: the one declared under its name, or under its name
    /// minus a suffix the declared kind owns (`x_bucket` → histogram `x`); else a new
    /// untyped family.
    private mutating func add(_ sample: MetricSample, at p: Int) throws {
        if let i = index[sample.name], families[i].kind.allowsBareName {
            try checkShape(sample, in: families[i], at: p)
            families[i].samples.append(sample)
            return
        }
        for suffix in ["_bucket", "_sum", "_count", "_created", "_total", "_info", "_gsum", "_gcount"]
        where sample.name.hasSuffix(suffix) {
            let base = String(sample.name.dropLast(suffix.count))
            if let i = index[base], families[i].kind.ownedSuffixes.contains(suffix) {
                try checkShape(sample, in: families[i], at: p)
                families[i].samples.append(sample)
                return
            }
        }
        if let i = index[sample.name] {
            throw fail("sample '\(sample.name)' does not fit \(families[i].kind.rawValue) '\(sample.name)' "
                + "(expected \(sample.name)_bucket, \(sample.name)_sum or \(sample.name)_count)", at: p)
        }
        let i = ensureFamily(sample.name)
        families[i].samples.append(sample)
    }

    private func checkShape(_ s: MetricSample, in f: MetricFamily, at p: Int) throws {
        switch f.kind {
        case .histogram, .gaugehistogram:
            if s.name == f.name + "_bucket" {
                guard let le = s.labels[label: "le"] else { throw fail("histogram bucket '\(s.name)' without an 'le' label", at: p) }
                guard PrometheusText.parseValue(le) != nil else { throw fail("invalid bucket bound le=\"\(le)\" in '\(s.name)'", at: p) }
            }
        case .summary:
            if s.name == f.name {
                guard let q = s.labels[label: "quantile"] else { throw fail("summary sample '\(s.name)' without a 'quantile' label", at: p) }
                guard PrometheusText.parseValue(q) != nil else { throw fail("invalid quantile=\"\(q)\" in '\(s.name)'", at: p) }
            }
        default: break
        }
    }
}
