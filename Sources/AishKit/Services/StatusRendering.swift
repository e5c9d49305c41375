import FoundationEssentials
import Glibc

/// Text and JSON forms of a status snapshot.
enum StatusRendering {
    /// `width`: the terminal's columns, when the text goes to one. The summary line then
    /// breaks between its parts and the COMMAND column gets what is left of the width,
    /// so that an 80-column terminal shows one line per service instead of wrapped halves.
    static func text(_ snapshot: StatusSnapshot, color: Bool, width: Int? = nil) -> String {
        let t = snapshot.totals
        var summary = ["services \(t.up)/\(t.configured) up" + (t.unhealthy > 0 ? " (\(t.unhealthy) unhealthy)" : "")]
        summary.append("avg CPU " + (t.averageCPUPercent.map(percent) ?? "-"))
        summary.append("avg RSS " + (t.averageResidentKiB.map(memory) ?? "-"))
        summary.append("total RSS " + (t.totalResidentKiB.map(memory) ?? "-"))
        summary.append(timestamp(snapshot.takenAt))
        var lines = wrap(summary, separator: " · ", width: width)
        if case let .present(devices, _) = snapshot.gpu {
            let used = devices.compactMap(\.memoryUsedMiB).reduce(0, +)
            let total = devices.compactMap(\.memoryTotalMiB).reduce(0, +)
            lines.append("GPUs \(devices.count) · GPU memory \(memory(used * 1024)) / \(memory(total * 1024))")
        }
        lines.append("")

        // GPU memory per process only where nvidia-smi answered: otherwise a column of '-'.
        var hasGPU = false
        if case .present = snapshot.gpu { hasGPU = true }
        var table: [[String]] = [["SERVICE", "PORT", "STATE", "PID", "CPU%", "RSS", "UPTIME"]]
        if hasGPU { table[0].append("GPU MEM") }
        table[0].append("UNIT")
        var commands: [String?] = []
        for o in snapshot.services {
            let p = o.process
            let unit = o.service.unit.map { u in u.scope == .system ? "\(u.unit) (system)" : u.unit } ?? "-"
            var row: [String] = [
                o.service.name, String(o.service.port), o.state.rawValue,
                p.map { String($0.pid) } ?? "-",
                p?.cpuPercent.map(percentNumber) ?? "-",
                p?.residentKiB.map(memory) ?? "-",
                p?.uptimeSeconds.map(DurationText.uptime) ?? "-",
            ]
            if hasGPU { row.append(p?.gpuMemoryMiB.map { memory($0 * 1024) } ?? "-") }
            row.append(unit)
            table.append(row)
            commands.append(p?.command)
        }
        // The columns before COMMAND, each followed by two spaces (see `columns`). At a
        // terminal COMMAND gets what is left of the width, and is left out (it is in --json)
        // when too little is left to be of use.
        let before = table[0].indices.reduce(0) { sum, i in sum + table.map { $0[i].count }.max()! + 2 }
        let commandWidth = width.map { $0 - before } ?? 48
        if commandWidth >= 16 {
            table[0].append("COMMAND")
            for (i, c) in commands.enumerated() { table[i + 1].append(c.map { truncate($0, commandWidth) } ?? "-") }
        }
        let stateColumn = 2
        let rendered = columns(table)
        for (i, line) in rendered.enumerated() {
            guard color, i > 0 else { lines.append(line); continue }
            let state = snapshot.services[i - 1].state
            lines.append(colorize(line, cell: table[i][stateColumn], state: state))
        }
        for o in snapshot.services where o.state == .unhealthy {
            if let e = o.health?.error { lines.append("  \(o.service.name): \(e)") }
        }
        let hidden = snapshot.services.filter { $0.state != .down && $0.process == nil }.map(\.service.name)
        if !hidden.isEmpty {
            lines.append("  \(hidden.joined(separator: ", ")): listening process not visible (another user's; run as that user or root)")
        }

        lines.append("")
        switch snapshot.gpu {
        case let .absent(reason):
            lines.append(reason)
        case let .present(devices, _):
            var gpuTable: [[String]] = [["GPU", "NAME", "MEMORY USED", "MEMORY TOTAL", "UTIL"]]
            for d in devices {
                gpuTable.append([String(d.index), d.name, d.memoryUsedMiB.map { "\($0) MiB" } ?? "-",
                                 d.memoryTotalMiB.map { "\($0) MiB" } ?? "-",
                                 d.utilizationPercent.map { "\($0)%" } ?? "-"])
            }
            lines += columns(gpuTable)
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ snapshot: StatusSnapshot) -> JSONValue {
        let t = snapshot.totals
        let totals: JSONValue = .object([
            ("configured", .int(t.configured)), ("up", .int(t.up)), ("unhealthy", .int(t.unhealthy)),
            ("down", .int(t.down)), ("avg_cpu_percent", t.averageCPUPercent.map { .double(rounded($0)) } ?? .null),
            ("avg_rss_kib", t.averageResidentKiB.map { .int($0) } ?? .null),
            ("total_rss_kib", t.totalResidentKiB.map { .int($0) } ?? .null),
        ])
        let services: [JSONValue] = snapshot.services.map { o in
            let p = o.process
            return .object([
                ("name", .string(o.service.name)), ("port", .int(o.service.port)), ("state", .string(o.state.rawValue)),
                ("providers", .array(o.service.providers.map { .string($0) })),
                ("unit", o.service.unit.map { .string($0.unit) } ?? .null),
                ("scope", .string((o.service.unit?.scope ?? .user).rawValue)),
                ("listen", .array(o.listenAddresses.map { .string($0) })),
                ("health_url", o.service.healthURL.map { .string($0) } ?? .null),
                ("http_status", o.health?.httpStatus.map { .int($0) } ?? .null),
                ("health_error", o.health?.error.map { .string($0) } ?? .null),
                ("pid", p.map { .int(Int($0.pid)) } ?? .null),
                ("command", p?.command.map { .string($0) } ?? .null),
                ("cpu_percent", p?.cpuPercent.map { .double(rounded($0)) } ?? .null),
                ("rss_kib", p?.residentKiB.map { .int($0) } ?? .null),
                ("uptime_s", p?.uptimeSeconds.map { .double(rounded($0)) } ?? .null),
                ("gpu_memory_mib", p?.gpuMemoryMiB.map { .int($0) } ?? .null),
            ])
        }
        let gpu: JSONValue
        switch snapshot.gpu {
        case let .absent(reason):
            gpu = .object([("present", .bool(false)), ("message", .string(reason))])
        case let .present(devices, processes):
            gpu = .object([
                ("present", .bool(true)),
                ("devices", .array(devices.map { d in
                    .object([("index", .int(d.index)), ("name", .string(d.name)),
                             ("memory_used_mib", d.memoryUsedMiB.map { .int($0) } ?? .null),
                             ("memory_total_mib", d.memoryTotalMiB.map { .int($0) } ?? .null),
                             ("utilization_percent", d.utilizationPercent.map { .int($0) } ?? .null)])
                })),
                ("processes", .array(processes.map { p in
                    .object([("pid", .int(Int(p.pid))), ("used_memory_mib", p.usedMiB.map { .int($0) } ?? .null)])
                })),
            ])
        }
        return .object([
            ("status", .string("ok")), ("taken_at", .string(timestamp(snapshot.takenAt))), ("totals", totals),
            ("services", .array(services)), ("gpu", gpu),
        ])
    }

    // MARK: formatting

    static func percent(_ v: Double) -> String { percentNumber(v) + "%" }
    static func percentNumber(_ v: Double) -> String { cFormat("%.1f", v) }

    /// KiB → "512 KiB", "21 MiB", "1.4 GiB".
    static func memory(_ kib: Int) -> String {
        if kib < 1024 { return "\(kib) KiB" }
        let mib = Double(kib) / 1024
        if mib < 1024 { return cFormat("%.0f MiB", mib) }
        return cFormat("%.1f GiB", mib / 1024)
    }

    static func timestamp(_ date: Date) -> String {
        UTCTime.iso8601(date)
    }

    private static func rounded(_ v: Double) -> Double { (v * 10).rounded() / 10 }

    private static func truncate(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    /// Parts joined by `separator`, broken into lines between parts where a line would pass `width`.
    static func wrap(_ parts: [String], separator: String, width: Int?) -> [String] {
        var lines: [String] = []
        var line = ""
        for part in parts {
            if line.isEmpty { line = part; continue }
            if let width, line.count + separator.count + part.count > width {
                lines.append(line)
                line = part
            } else {
                line += separator + part
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Left-aligned columns, two spaces apart, no trailing spaces.
    static func columns(_ rows: [[String]]) -> [String] {
        guard let width = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: width)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            var line = ""
            for (i, c) in r.enumerated() {
                line += i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 2)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    private static func colorize(_ line: String, cell: String, state: ServiceObservation.State) -> String {
        let code: String
        switch state {
        case .up: code = "32"
        case .unhealthy: code = "33"
        case .down: code = "31"
        }
        // The state cell is the first occurrence after the name and port columns.
        guard let r = line.rangeOfText(" \(cell) ") else { return line }
        let start = line.index(after: r.lowerBound), end = line.index(before: r.upperBound)
        var colored = line
        colored.replaceSubrange(start..<end, with: "\u{1B}[\(code)m\(cell)\u{1B}[0m")
        return colored
    }
}
