import FoundationEssentials
import Glibc
import AishBase
import AishShell
import AishConfig
import AishHTTP
import AishMeasure
import AishProviders
import AishRouting
import AishTelemetry

/// Figures measured inside one process, for `scripts/bench` (through the `aish-bench`
/// executable). Each prints the aish figure and a baseline measured in the same run.
package enum InProcessBenchmarks {
    package static func run(arguments: [String]) -> (String, Int32) {
        guard let figure = arguments.first else { return (usage, 2) }
        var options: [String: String] = [:]
        var i = 1
        while i + 1 < arguments.count, arguments[i].hasPrefix("--") {
            options[String(arguments[i].dropFirst(2))] = arguments[i + 1]
            i += 2
        }
        do {
            let result: JSONValue
            switch figure {
            case "config": result = try configLoadAndValidate(options)
            case "router": result = try routerPlans(options)
            case "stream": result = try streamTimings(options)
            case "log": result = try sessionLog(options)
            case "load": result = try loadCeiling(options)
            case "prometheus-decode": result = try prometheusDecode(options)
            case "sse-decode": result = try sseDecode(options)
            default: return ("unknown figure '\(figure)'\n" + usage, 2)
            }
            return (result.serialized(), 0)
        } catch {
            return ("{\"error\": \(JSONValue.string(String(describing: error)).serialized())}", 1)
        }
    }

    package static let usage = """
        usage: aish-bench FIGURE [--OPTION VALUE]...
          config --dir DIR [--samples N]   load + validate a config directory (ms per run)
          router (--dir DIR | --synthetic) [--samples N]
                                           plan resolution (µs per plan) vs a dictionary lookup
          sse-decode --file REPLY.sse [--samples N]
                                           one streamed reply decoded as bench decodes it (µs per reply)
          stream --url URL --body JSON [--samples N]
                                           one streamed POST through aish's transport: TTFB, total (ms)
          load --url URL [--concurrency 1,8,64] [--seconds S]
                                           bench's load generator ceiling (requests/s per level)
          log --db PATH [--rows N] [--batch B]
                                           write N synthetic attempts (rows/s), B a transaction
                                           (50000; bench's writer commits about 4000), then
                                           time `log -n 20` and `stats` in-process (ms)
          prometheus-decode --file ANSWER.json [--samples N]
                                           decoding one query answer (ms): aish's direct decoder
                                           vs the generic JSON tree it replaced
        """

    /// Figure 3: plan resolution for the configured names (and some pattern and unknown
    /// names) vs the cheapest conceivable routing: one dictionary lookup of the same names.
    package static func routerPlans(_ options: [String: String]) throws -> JSONValue {
        let samples = Int(options["samples"] ?? "") ?? 200
        let config: AishConfig
        var names: [String]
        if let dir = options["dir"] {
            let loaded = ConfigLoader.load(directory: dir)
            config = loaded.config
            let router = Router(config: config)
            names = router.configuredNames + ["Qwen/Qwen2.5-Coder-32B", "meta-llama/Llama-3-8B", "phi3:3b",
                                              "model.gguf", "not-configured-model"]
        } else {
            config = SyntheticRoutingConfig.make()
            names = SyntheticRoutingConfig.sampleNames(count: 3_000)
        }
        let router = Router(config: config)
        let state = RouterState(clock: { Date(timeIntervalSince1970: 1_800_000_000) }, seed: 1)
        var sink = 0
        let batch = max(1, 20_000 / names.count)
        let aish = measure(samples: samples, batch: batch, unitNanos: 1e3 * Double(names.count)) {
            for n in names { sink &+= router.plan(for: n, state: state).steps.count }
        }
        var table: [String: Int] = [:]
        for (i, n) in names.enumerated() { table[n] = i }
        let baseline = measure(samples: samples, batch: batch, unitNanos: 1e3 * Double(names.count)) {
            for n in names { sink &+= table[n] ?? 0 }
        }
        return .object([("aish", aish), ("baseline", baseline), ("names", .int(names.count)), ("sink", .int(sink & 1))])
    }

    /// Figure 4: a streamed completion through aish's libcurl transport.
    package static func streamTimings(_ options: [String: String]) throws -> JSONValue {
        guard let url = options["url"], let body = options["body"] else {
            throw UsageError(message: "stream needs --url URL --body JSON")
        }
        let samples = Int(options["samples"] ?? "") ?? 20
        let request = HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")],
                                  body: Array(body.utf8))
        var ttfb: [Double] = []
        var total: [Double] = []
        for _ in 0..<samples {
            let t = try HTTPTransport.measureStream(request, interrupt: nil)
            ttfb.append((t.headers ?? t.firstByte ?? t.total) * 1000)
            total.append(t.total * 1000)
        }
        return .object([("ttfb", stats(ttfb)), ("total", stats(total))])
    }

    /// A figure's `--file` (its path and bytes) and `--samples` (else `samples`).
    private static func fileFigure(_ options: [String: String], usage: String, samples: Int) throws -> (String, [UInt8], Int) {
        guard let path = options["file"], let body = FileManager.default.contents(atPath: path) else {
            throw UsageError(message: "\(usage) (a readable file)")
        }
        return (path, Array(body), Int(options["samples"] ?? "") ?? samples)
    }

    /// Figure 9: one Prometheus query answer decoded by the direct decoder `metrics --prom`
    /// uses, and by the generic JSON tree (the baseline it replaced).
    package static func prometheusDecode(_ options: [String: String]) throws -> JSONValue {
        let (path, bytes, samples) = try fileFigure(options, usage: "prometheus-decode needs --file ANSWER.json", samples: 50)
        var points = 0
        let direct = try measure(samples: samples, batch: 1, unitNanos: 1e6) {
            points = try PrometheusAPI.decodeQuery(bytes, query: nil, url: path).matrix().reduce(0) { $0 + $1.points.count }
        }
        let tree = try measure(samples: samples, batch: 1, unitNanos: 1e6) {
            _ = try PrometheusAPI.decodeQueryTree(bytes, query: nil, url: path)
        }
        return .object([("aish", direct), ("baseline", tree), ("bytes", .int(bytes.count)), ("points", .int(points))])
    }

    /// Figure 7's decoding alone: a whole streamed reply (an OpenAI SSE body) read as the
    /// load engine reads each one, in µs per reply, and with the JSON tree for every chunk
    /// (the general path) as the baseline.
    package static func sseDecode(_ options: [String: String]) throws -> JSONValue {
        let (_, bytes, samples) = try fileFigure(options, usage: "sse-decode needs --file REPLY.sse", samples: 20)
        var pieces = 0
        func reply(direct: Bool) throws {
            var decoder = OpenAIStreamDecoder()
            decoder.readsDirectly = direct
            var reader = ChatStreamReader(HTTPRequest(method: "POST", url: "http://127.0.0.1/v1/chat/completions"),
                                          decoder: decoder, keepBytes: 4096)
            _ = reader.head(HTTPResponseHead(status: 200, headers: [("content-type", "text/event-stream")]))
            pieces = 0
            try reader.body(bytes) { _ in pieces += 1 }
            _ = try reader.finish { _ in }
        }
        let skim = try measure(samples: samples, batch: 1000, unitNanos: 1e3) { try reply(direct: true) }
        let tree = try measure(samples: samples, batch: 200, unitNanos: 1e3) { try reply(direct: false) }
        return .object([("aish", skim), ("baseline", tree), ("bytes", .int(bytes.count)), ("pieces", .int(pieces))])
    }

    /// Figure 7: the load engine `bench` uses (closed loop), straight at a URL.
    package static func loadCeiling(_ options: [String: String]) throws -> JSONValue {
        guard let url = options["url"] else { throw UsageError(message: "load needs --url URL") }
        let levels = (options["concurrency"] ?? "1,8,64").split(separator: ",").compactMap { Int($0) }
        let seconds = Double(options["seconds"] ?? "") ?? 3
        let threads = options["threads"].flatMap { Int($0) }
        let result = LoadCeiling.run(url: url, concurrencies: levels, secondsPerLevel: seconds, threads: threads)
        return .array(result.map { level in
            .object([("concurrency", .int(level.concurrency)), ("requests", .int(level.requests)),
                     ("errors", .int(level.errors)), ("rps", .double(level.requestsPerSecond)),
                     ("wall_s", .double(level.wallSeconds)),
                     ("ttft_p50_ms", level.ttftP50Ms.map { .double($0) } ?? .null),
                     ("ttft_p99_ms", level.ttftP99Ms.map { .double($0) } ?? .null),
                     ("cpu_s", .double(level.cpuSeconds)), ("max_in_flight", .int(level.maxInFlight)),
                     ("threads", .int(level.threads)),
                     ("pieces", .int(level.pieces)), ("first_error", level.firstError.map { .string($0) } ?? .null)])
        })
    }

    /// Figure 6: session log write rate and read-command latency on a large log.
    package static func sessionLog(_ options: [String: String]) throws -> JSONValue {
        guard let path = options["db"] else { throw UsageError(message: "log needs --db PATH") }
        let rows = Int(options["rows"] ?? "") ?? 1_000_000
        let samples = Int(options["samples"] ?? "") ?? 10
        let rate = try SessionLogBenchmark.generateSyntheticAttempts(path: path, count: rows, batchSize: Int(options["batch"] ?? "") ?? 50_000)
        var logTimes: [Double] = []
        var statsTimes: [Double] = []
        for _ in 0..<samples {
            logTimes.append(try SessionLogBenchmark.runCommand(["log", "-n", "20"], path: path).ms)
            statsTimes.append(try SessionLogBenchmark.runCommand(["stats"], path: path).ms)
        }
        return .object([("rows", .int(rows)), ("rows_per_second", .double(rate)),
                        ("log_n20", stats(logTimes)), ("stats", stats(statsTimes))])
    }

    /// Figure 2: load + validate of a config directory, as `validate` does it.
    package static func configLoadAndValidate(_ options: [String: String]) throws -> JSONValue {
        guard let dir = options["dir"] else { throw UsageError(message: "config needs --dir DIR") }
        let samples = Int(options["samples"] ?? "") ?? 200
        var findings = 0
        let aish = measure(samples: samples, batch: 1, unitNanos: 1e6) {
            let validation = ConfigValidator.validate(ConfigLoader.load(directory: dir))
            findings = validation.findings.count
        }
        return .object([("aish", aish), ("findings", .int(findings))])
    }

    package static func now() -> UInt64 { MonotonicClock.nanoseconds() }

    /// Runs `body` `batch` times per sample, `samples` samples; returns per-call time stats in `unit`.
    package static func measure(samples: Int, batch: Int, unitNanos: Double, _ body: () throws -> Void) rethrows -> JSONValue {
        var times: [Double] = []
        times.reserveCapacity(samples)
        for _ in 0..<samples {
            let t0 = now()
            for _ in 0..<batch { try body() }
            let t1 = now()
            times.append(Double(t1 - t0) / Double(batch) / unitNanos)
        }
        return stats(times)
    }

    package static func stats(_ values: [Double]) -> JSONValue {
        let s = values.sorted()
        return .object([("median", .double(Percentiles.percentile(s, 50))), ("min", .double(s.first ?? 0)), ("max", .double(s.last ?? 0)),
                        ("runs", .int(s.count))])
    }
}
