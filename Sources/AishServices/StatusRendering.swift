import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishGateway
import AishTelemetry

/// Text and JSON forms of a status snapshot.
package enum StatusRendering {
    /// `width`: the terminal's columns, when the text goes to one. The summary line then
    /// breaks between its parts and the COMMAND column gets what is left of the width,
    /// so that an 80-column terminal shows one line per service instead of wrapped halves.
    package static func text(_ snapshot: StatusSnapshot, color: Bool, width: Int? = nil) -> String {
        styled(snapshot, color: false, width: width).plain
    }

    /// The text with the STATE cells in colour when `color`.
    package static func styled(_ snapshot: StatusSnapshot, color: Bool, width: Int? = nil) -> TerminalText {
        let (lines, states) = layout(snapshot, width: width)
        var out = TerminalText()
        for (i, line) in lines.enumerated() {
            if i > 0 { out.append("\n") }
            if color, let (cell, state) = states[i] { out.append(colorize(line, cell: cell, state: state)) } else { out.append(line) }
        }
        return out
    }

    /// The lines, and the STATE cell of each service's line.
    private static func layout(_ snapshot: StatusSnapshot, width: Int?) -> ([String], [Int: (String, ServiceObservation.State)]) {
        var states: [Int: (String, ServiceObservation.State)] = [:]
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
            if i > 0 { states[lines.count] = (table[i][stateColumn], snapshot.services[i - 1].state) }
            lines.append(line)
        }
        for o in snapshot.services where o.state == .unhealthy {
            if let e = o.health?.error { lines.append("  \(o.service.name): \(e)") }
        }
        let hidden = snapshot.services.filter { $0.state != .down && $0.process == nil }.map(\.service.name)
        if !hidden.isEmpty {
            lines.append("  \(hidden.joined(separator: ", ")): listening process not visible (another user's; run as that user or root)")
        }
        lines += engineLines(snapshot, width: width)

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
        return (lines, states)
    }

    /// A service's row in `status --json`: every column present, null when unknown.
    package static func json(_ o: ServiceObservation) -> JSONValue {
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
            ("engine", o.engine.map(json) ?? .null),
        ])
    }

    // MARK: engines

    /// The engines' own state, a block of its own under the services: one line per engine
    /// (one per loaded model for Ollama), "not reported" with the reason when it did not say.
    package static func engineLines(_ snapshot: StatusSnapshot, width: Int?) -> [String] {
        let rows = snapshot.services.compactMap { o in o.engine.map { (o.service.name, $0) } }
        guard !rows.isEmpty else { return [] }
        var table: [[String]] = [["ENGINE", "TYPE", "STATE"]]
        for (name, e) in rows {
            let states = engineText(e, now: snapshot.takenAt)
            for (k, text) in states.enumerated() { table.append(k == 0 ? [name, e.kind.rawValue, text] : ["", "", text]) }
        }
        var lines = [""]
        for line in columns(table) { lines.append(width.map { truncate(line, $0) } ?? line) }
        return lines
    }

    /// "slots 1/4 busy · context 1.2k/8.2k tokens", "running 3 · waiting 1 · KV cache 43.0%",
    /// "qwen2.5:7b, 4.9 GiB, VRAM 4.0 GiB (81%), unloads in 4m 12s" (a line per model).
    package static func engineText(_ e: EngineState, now: Date) -> [String] {
        if let error = e.error { return ["not reported: " + error] }
        if let s = e.slots {
            var text = "slots \(s.busy)/\(s.total) busy"
            if let used = s.contextUsed {
                text += " · context \(used)/\(s.contextSize) tokens"
            } else {
                text += " · context size \(s.contextSize) tokens (in use not reported)"
            }
            return [text]
        }
        if let q = e.queue {
            return [[q.running.map { "running " + JSONValue.format($0) } ?? "running -",
                     q.waiting.map { "waiting " + JSONValue.format($0) } ?? "waiting -",
                     q.kvCacheUsage.map { "KV cache " + percent($0 * 100) } ?? "KV cache -"].joined(separator: " · ")]
        }
        if let models = e.models {
            if models.isEmpty { return ["no model loaded"] }
            // As `metrics` words /api/ps: "4.8 GiB, VRAM 4.8 GiB (100%), unloads in 4m 12s".
            return models.map { m in
                var parts = [m.name]
                if let size = m.sizeBytes { parts.append(Format.bytes(Double(size))) }
                if let vram = m.vramBytes, let share = m.vramShare {
                    parts.append("VRAM \(Format.bytes(Double(vram))) (\(Int((share * 100).rounded()))%)")
                }
                if let n = m.contextLength { parts.append("context \(n)") }
                if let until = m.expiresAt {
                    let left = until.timeIntervalSince(now)
                    parts.append(left > 0 ? "unloads in \(Format.age(left))" : "unloading")
                }
                return parts.joined(separator: ", ")
            }
        }
        return ["not reported"]
    }

    /// A row's `engine` in `status --json`: every key present, null where it does not apply
    /// to the engine's type or was not reported.
    package static func json(_ e: EngineState) -> JSONValue {
        func int(_ v: Int?) -> JSONValue { v.map { .int($0) } ?? .null }
        func double(_ v: Double?) -> JSONValue { v.map { .double($0) } ?? .null }
        var models: JSONValue = .null
        if let loaded = e.models {
            models = .array(loaded.map { m -> JSONValue in
                let expires: JSONValue = m.expiresAt.map { .string(UTCTime.iso8601($0)) } ?? .null
                return .object([("name", .string(m.name)), ("size_bytes", int(m.sizeBytes)), ("vram_bytes", int(m.vramBytes)),
                                ("expires_at", expires), ("context_length", int(m.contextLength))])
            })
        }
        let error: JSONValue = e.error.map { .string($0) } ?? .null
        return .object([
            ("type", .string(e.kind.rawValue)), ("provider", .string(e.provider)), ("url", .string(e.url)),
            ("reported", .bool(e.reported)), ("error", error),
            ("slots_total", int(e.slots?.total)), ("slots_busy", int(e.slots?.busy)),
            ("context_used", int(e.slots?.contextUsed)), ("context_size", int(e.slots?.contextSize)),
            ("requests_running", double(e.queue?.running)), ("requests_waiting", double(e.queue?.waiting)),
            ("kv_cache_usage", double(e.queue?.kvCacheUsage)), ("models", models),
        ])
    }

    package static func json(_ gpu: GPUReport) -> JSONValue {
        switch gpu {
        case let .absent(reason):
            return .object([("present", .bool(false)), ("message", .string(reason))])
        case let .present(devices, processes):
            return .object([
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
    }

    // MARK: formatting

    package static func percent(_ v: Double) -> String { percentNumber(v) + "%" }
    package static func percentNumber(_ v: Double) -> String { cFormat("%.1f", v) }

    /// KiB → "512 KiB", "21 MiB", "1.4 GiB".
    package static func memory(_ kib: Int) -> String {
        if kib < 1024 { return "\(kib) KiB" }
        let mib = Double(kib) / 1024
        if mib < 1024 { return cFormat("%.0f MiB", mib) }
        return cFormat("%.1f GiB", mib / 1024)
    }

    package static func timestamp(_ date: Date) -> String {
        UTCTime.iso8601(date)
    }

    package static func rounded(_ v: Double) -> Double { (v * 10).rounded() / 10 }

    private static func truncate(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    /// Parts joined by `separator`, broken into lines between parts where a line would pass `width`.
    package static func wrap(_ parts: [String], separator: String, width: Int?) -> [String] {
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
    package static func columns(_ rows: [[String]]) -> [String] {
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

    private static func colorize(_ line: String, cell: String, state: ServiceObservation.State) -> TerminalText {
        let code: String
        switch state {
        case .up: code = "32"
        case .unhealthy: code = "33"
        case .down: code = "31"
        }
        // The state cell is the first occurrence after the name and port columns.
        guard let r = line.rangeOfText(" \(cell) ") else { return TerminalText(line) }
        let start = line.index(after: r.lowerBound), end = line.index(before: r.upperBound)
        return String(line[..<start]) + TerminalText.styled(cell, code) + String(line[end...])
    }
}

/// What `status` prints: the totals on top (what `expect` reads), then a row per service,
/// the GPUs, and Prometheus's view when one is configured. One frame of `--watch` is one
/// report; the last carries `frames`.
package struct StatusReport: CommandReport {
    package var snapshot: StatusSnapshot
    /// Prometheus's targets and alerts (only without NAMEs, when one is configured).
    package var prometheus: PrometheusOverview? = nil
    /// Frames shown, with --watch.
    package var frames: Int? = nil
    /// The LiteLLM gateway: its processes and the deployments cooling down in its Redis.
    package var gateway: GatewayStatus? = nil
    /// How the text is drawn: colour, and the terminal's width (nil: not a terminal).
    package var color = false
    package var width: Int? = nil
    /// --watch has drawn its frames already.
    package var alreadyPrinted = false

    package enum CodingKeys: String, CodingKey {
        case up, configured, unhealthy, down, avgCPUPercent = "avg_cpu_percent", avgRSSKiB = "avg_rss_kib",
             totalRSSKiB = "total_rss_kib", takenAt = "taken_at", services, gpu, prometheus, targetsDown = "targets_down",
             alertsFiring = "alerts_firing", frames, gatewayCooldowns = "gateway_cooldowns"
    }

    package static let fields = [
        ReportField("up", "services listening and healthy"),
        ReportField("configured", "services shown"),
        ReportField("unhealthy", "listening, but the health check failed"),
        ReportField("down", "nothing listening"),
        ReportField("avg_cpu_percent", "mean CPU % of the listening processes (null when none could be read)"),
        ReportField("avg_rss_kib", "their mean resident memory in KiB"),
        ReportField("total_rss_kib", "their total resident memory in KiB"),
        ReportField("taken_at", "when the snapshot was taken (UTC)"),
        ReportField("services", "each service: name, port, state, providers, unit, scope, listen, health_url, http_status, health_error, pid, command, cpu_percent, rss_kib, uptime_s, gpu_memory_mib, engine"),
        ReportField("gpu", "present, and devices and processes from nvidia-smi, or the message why not"),
        ReportField("prometheus", "with Prometheus configured: its url, error, up, down, firing, targets, alerts (else null)"),
        ReportField("targets_down", "with Prometheus: scrape targets down (else null)"),
        ReportField("alerts_firing", "with Prometheus: alerts firing (else null)"),
        ReportField("frames", "with --watch: frames shown (else null)"),
        ReportField("gateway_cooldowns", "with a LiteLLM gateway: gateway, redis, replicas (url, up, error), cooled_down (id, provider, model_group, cooldown_s, cooldown_reason), error (else null)"),
    ]

    package static let example = StatusReport(
        snapshot: StatusSnapshot(takenAt: Date(timeIntervalSince1970: 1_764_417_600), services: [], gpu: .absent(reason: "no GPU found")),
        prometheus: PrometheusOverview(url: "http://127.0.0.1:9090", targets: [], alerts: [], error: nil), frames: 1)

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let t = snapshot.totals
        try c.encode(t.up, forKey: .up)
        try c.encode(t.configured, forKey: .configured)
        try c.encode(t.unhealthy, forKey: .unhealthy)
        try c.encode(t.down, forKey: .down)
        try c.encode(t.averageCPUPercent.map(StatusRendering.rounded), forKey: .avgCPUPercent)
        try c.encode(t.averageResidentKiB, forKey: .avgRSSKiB)
        try c.encode(t.totalResidentKiB, forKey: .totalRSSKiB)
        try c.encode(StatusRendering.timestamp(snapshot.takenAt), forKey: .takenAt)
        try c.encode(snapshot.services.map(StatusRendering.json), forKey: .services)
        try c.encode(StatusRendering.json(snapshot.gpu), forKey: .gpu)
        // Null, not absent, when they do not apply (no Prometheus configured, no --watch).
        try c.encode(prometheus?.json, forKey: .prometheus)
        try c.encode(prometheus?.down, forKey: .targetsDown)
        try c.encode(prometheus?.firing, forKey: .alertsFiring)
        try c.encode(frames, forKey: .frames)
        try c.encode(gateway?.json, forKey: .gatewayCooldowns)
    }

    package func renderText() -> String { renderStyled(color: false).plain }

    package func renderTerminal() -> TerminalText? { color ? renderStyled(color: true) : nil }

    private func renderStyled(color: Bool) -> TerminalText {
        var text = StatusRendering.styled(snapshot, color: color, width: width)
        if let prometheus { text += (text.plain.hasSuffix("\n") ? "\n" : "\n\n") + prometheus.text() }
        if let gateway { text += (text.plain.hasSuffix("\n") ? "\n" : "\n\n") + gateway.text() }
        return text
    }
}
