import FoundationEssentials
import Glibc

/// The metrics commands' tables: columns padded to their widest cell, figures right-aligned.
package struct ReportTable {
    package enum Alignment { case left, right }

    package var headers: [String]
    package var alignments: [Alignment]
    package var rows: [[String]] = []

    package init(_ headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments ?? headers.map { _ in .left }
    }

    package mutating func add(_ row: [String]) {
        precondition(row.count == headers.count, "table row has \(row.count) cells for \(headers.count) columns")
        rows.append(row)
    }

    /// Lines joined by "\n", with a trailing newline; trailing spaces trimmed.
    package func render(indent: String = "") -> String {
        var widths = headers.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, c) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                parts.append(alignments[i] == .right ? pad + c : c + pad)
            }
            var s = indent + parts.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// Unicode block drawings: horizontal bars and sparklines.
package enum BlockDrawing {
    private static let eighths: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]
    package static let sparkTicks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// A bar `value/maximum` of `width` cells, to the nearest eighth of a cell.
    package static func bar(_ value: Double, maximum: Double, width: Int) -> String {
        guard maximum > 0, value.isFinite, value > 0 else { return "" }
        let eighthsTotal = Int((min(value / maximum, 1) * Double(width * 8)).rounded())
        var s = String(repeating: "█", count: eighthsTotal / 8)
        let rest = eighthsTotal % 8
        if rest > 0 { s.append(eighths[rest - 1]) }
        if s.isEmpty { s = "▏" }   // a non-zero value always shows
        return s
    }

    /// One tick per value, scaled from the smallest to the largest; nil draws a gap. A flat
    /// series draws its ticks at the bottom (zero) or the middle (any other constant).
    package static func sparkline(_ values: [Double?]) -> String {
        let present = values.compactMap { $0 }.filter(\.isFinite)
        guard let lo = present.min(), let hi = present.max() else { return String(repeating: " ", count: values.count) }
        return String(values.map { v -> Character in
            guard let v, v.isFinite else { return " " }
            if hi == lo { return hi == 0 ? sparkTicks[0] : sparkTicks[3] }
            let i = Int(((v - lo) / (hi - lo) * Double(sparkTicks.count - 1)).rounded())
            return sparkTicks[min(max(i, 0), sparkTicks.count - 1)]
        })
    }
}

extension BlockDrawing {
    /// Points on a grid of `width` × `height` characters from (0, 0) to (`xMax`, `yMax`), each
    /// drawn as its mark, joined with dots in order of x; a y axis labelled at its top and
    /// bottom and an x axis labelled at its ends. Lines end in "\n", trailing spaces trimmed.
    package static func plot(_ points: [(x: Double, y: Double, mark: Character)], xMax: Double, yMax: Double, width: Int, height: Int,
                     yLabel: String, xLabel: String) -> String {
        var grid = Array(repeating: Array(repeating: Character(" "), count: width), count: height)
        func cell(_ x: Double, _ y: Double) -> (Int, Int) {
            (min(width - 1, max(0, Int(x / xMax * Double(width - 1)))), min(height - 1, max(0, Int(y / yMax * Double(height - 1)))))
        }
        let ordered = points.sorted { $0.x < $1.x }
        for (a, b) in zip(ordered, ordered.dropFirst()) {
            let steps = 2 * width
            for k in 0...steps {
                let f = Double(k) / Double(steps)
                let (cx, cy) = cell(a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f)
                grid[cy][cx] = "·"
            }
        }
        for p in points {
            let (cx, cy) = cell(p.x, p.y)
            grid[cy][cx] = p.mark
        }
        var lines: [String] = []
        for row in (0..<height).reversed() {
            let label = row == height - 1 ? yLabel : row == 0 ? "0" : ""
            lines.append(label.padded(toLength: yLabel.count) + " │" + String(grid[row]))
        }
        lines.append(String(repeating: " ", count: yLabel.count) + " └" + String(repeating: "─", count: width))
        lines.append(String(repeating: " ", count: yLabel.count + 2) + "0"
            + String(repeating: " ", count: max(1, width - 1 - xLabel.count)) + xLabel)
        return lines.map { line in
            var l = line
            while l.hasSuffix(" ") { l.removeLast() }
            return l + "\n"
        }.joined()
    }
}

/// Redraws a block of lines in place on a terminal (cursor up, clear to end of screen).
/// Only used when output is a terminal; scripts and pipes get plain lines instead.
package final class LiveRegion {
    private let output: OutputSink
    private var linesDrawn = 0

    package init(output: OutputSink) { self.output = output }

    /// `width`: the terminal's columns; longer lines are cut, because a line the terminal
    /// wraps would make the next redraw move up too few lines.
    package func draw(_ text: String, width: Int? = TerminalSize.columns()) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { lines.removeLast() }
        // Made visible before cutting: "^[" takes two columns where ESC took none.
        lines = lines.map(ControlCharacters.visible)
        if let width, width > 1 {
            lines = lines.map { $0.count < width ? $0 : String($0.prefix(width - 1)) + "…" }
        }
        var frame = TerminalText()
        if linesDrawn > 0 { frame.append(control: TerminalControl.up(linesDrawn)) }
        frame.append(control: TerminalControl.clearToEnd)
        frame.append(lines.joined(separator: "\n") + "\n")
        linesDrawn = lines.count
        output.write(frame)
    }
}

package enum TerminalSize {
    /// Columns of the terminal on stdout, nil when unknown (not a terminal).
    package static func columns() -> Int? {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}

/// One status line on stderr, rewritten as work advances (terminal only), erased at the end.
package final class ProgressLine {
    private let output: OutputSink
    private let enabled: Bool
    private var shown = false
    private var lastDraw = Date.distantPast

    package init(output: OutputSink, enabled: Bool) {
        self.output = output
        self.enabled = enabled
    }

    /// Draws at most ten times a second unless `force`.
    package func update(_ text: String, force: Bool = false) {
        guard enabled else { return }
        let now = Date()
        if !force, now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        output.writeError(TerminalText.control(TerminalControl.clearLine) + text)
        shown = true
    }

    package func clear() {
        guard enabled, shown else { return }
        output.writeError(TerminalText.control(TerminalControl.clearLine))
        shown = false
    }
}
