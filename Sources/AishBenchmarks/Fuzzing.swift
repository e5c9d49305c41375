import FoundationEssentials
import Glibc
import AishBase
import AishShell
import AishGateway
import AishProviders
import AishScript
import AishTelemetry
import AishYAML

/// A fuzzer for every parser of untrusted input (issue 16): seeded byte mutation of a small
/// corpus per target, for a time budget. A crash stops the process (the input that caused
/// it is written first to `aish-fuzz-crash-TARGET.bin`); a broken invariant is reported
/// with its input and exit status 1. `aish-fuzz` and `scripts/fuzz` run it.
///
/// Invariants checked besides "does not crash or hang":
/// - SSE and NDJSON decoders: the text decoded is the same however the bytes are split
///   into chunks (network reads split anywhere);
/// - the redactor: a key planted in any text is masked, also when the text is streamed in
///   random pieces (with no control character reaching the terminal), and masking twice
///   changes nothing more than masking once does for that key;
/// - the script checker accepts every script the parser accepts or reports a position;
/// - Prometheus query answers: the direct decoder reads what the JSON-tree decoding reads
///   (the same answer, or the same error);
/// - RESP: the replies decoded (and the error, if any) are the same however the bytes are split;
/// - JSON: what parses serialises to text that parses back to the same text.
package enum Fuzzing {
    package static let targetNames = ["yaml", "script", "sse", "ndjson", "prometheus", "prometheus-api", "redactor", "resp", "json"]

    /// `[--seconds S] [--seed N] [TARGET...]`: returns the report and the exit status.
    package static func run(arguments: [String]) -> (String, Int32) {
        var seconds = 5.0
        var seed: UInt64 = UInt64(truncatingIfNeeded: Int(MonotonicClock.now() * 1000))
        var targets: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            switch a {
            case "--seconds", "--seed":
                guard i < arguments.count else { return ("aish-fuzz: \(a) needs a value", 2) }
                if a == "--seconds" {
                    guard let s = Double(arguments[i]), s > 0 else { return ("aish-fuzz: --seconds takes a positive number", 2) }
                    seconds = s
                } else {
                    guard let s = UInt64(arguments[i]) else { return ("aish-fuzz: --seed takes a whole number", 2) }
                    seed = s
                }
                i += 1
            case "-h", "--help":
                return ("usage: aish-fuzz [--seconds S per target, default 5] [--seed N] [TARGET...]\ntargets: "
                    + targetNames.joined(separator: " "), 0)
            default:
                guard targetNames.contains(a) else {
                    return ("aish-fuzz: unknown target '\(a)' (one of: \(targetNames.joined(separator: ", ")))", 2)
                }
                targets.append(a)
            }
        }
        if targets.isEmpty { targets = targetNames }
        CrashInput.install()
        var report = ""
        for name in targets {
            var fuzzer = Fuzzer(target: name, seed: seed)
            let result = fuzzer.run(seconds: seconds)
            report += "\(name): \(result.iterations) inputs in \(JSONValue.format((seconds * 10).rounded() / 10)) s (seed \(seed))"
            if let failure = result.failure {
                report += ": INVARIANT BROKEN: \(failure.message)\n  input (\(failure.input.count) bytes): \(escaped(failure.input))"
                print(report)
                return (report, 1)
            }
            report += ", no crash, invariants held\n"
        }
        return (String(report.dropLast()), 0)
    }

    package static func escaped(_ bytes: [UInt8]) -> String {
        var out = "\""
        for b in bytes.prefix(2000) {
            switch b {
            case 0x20...0x7E where b != 0x22 && b != 0x5C: out.append(Character(Unicode.Scalar(b)))
            case 0x0A: out += "\\n"
            default: out += "\\x" + String(b, radix: 16).leftPadded(to: 2).replacingAll(" ", with: "0")
            }
        }
        return out + (bytes.count > 2000 ? "…\"" : "\"")
    }

    package struct Failure: Error {
        package var message: String
        package var input: [UInt8] = []
    }

    /// One input through one target; throws `Failure` when an invariant breaks.
    package static func exercise(_ target: String, _ input: [UInt8], random: inout SplitMix64) throws(Failure) {
        switch target {
        case "yaml":
            if let doc = try? YAMLParser.parse(input, file: "fuzz.yaml"), let root = doc.root { _ = root.jsonValue }
        case "script":
            let text = String(decoding: input, as: UTF8.self)
            _ = try? ScriptParser.parseIncremental(text, file: "fuzz.ai")
            if let commands = try? ScriptParser.parse(text, file: "fuzz.ai") {
                do {
                    try ScriptCheck.check(commands, registry: .standard, text: text)
                } catch let e as ScriptSyntaxError {
                    guard e.location.line >= 1, e.location.column >= 1 else {
                        throw Failure(message: "check error without a position: \(e.message)")
                    }
                } catch {
                    throw Failure(message: "check threw \(error)")
                }
            }
        case "sse", "ndjson":
            let whole = decode(target, [input])
            let split = decode(target, chunks(input, random: &random))
            if whole.error == nil && split.error == nil && whole.text != split.text {
                throw Failure(message: "\(target): decoded text depends on how the bytes are split")
            }
            if target == "sse" {
                // The chunk skim (bench's fast path) and the JSON tree read every stream alike.
                let general = decode(target, [input], direct: false)
                if whole.text != general.text || (whole.error == nil) != (general.error == nil) || whole.summary != general.summary {
                    throw Failure(message: "sse: the chunk skim and the general path disagree (skim: \(whole.error ?? "ok"), "
                                  + "general: \(general.error ?? "ok"))")
                }
            }
        case "prometheus":
            _ = try? PrometheusText.parse(String(decoding: input, as: UTF8.self), source: "fuzz")
        case "prometheus-api":
            if let difference = prometheusAnswerDifference(input) { throw Failure(message: "prometheus-api: \(difference)") }
        case "resp":
            let whole = decodeRESP([input])
            let split = decodeRESP(chunks(input, random: &random))
            if whole.values != split.values || whole.error != split.error {
                throw Failure(message: "resp: decoding depends on how the bytes are split (whole: \(whole.values.count) replies, \(whole.error ?? "no error"); split: \(split.values.count) replies, \(split.error ?? "no error"))")
            }
        case "json":
            guard let value = try? JSONValue.parse(bytes: input) else { return }
            let text = value.serialized()
            guard let again = try? JSONValue.parse(text) else { throw Failure(message: "json: its own serialisation does not parse: \(text.prefix(200))") }
            if again.serialized() != text { throw Failure(message: "json: serialising what it parsed is not stable") }
        case "redactor":
            let key = "sk-fuzzPLANTED0123456789"
            let text = String(decoding: input, as: UTF8.self)
            let cut = text.unicodeScalars.count == 0 ? 0 : Int(random.next() % UInt64(text.unicodeScalars.count + 1))
            let scalars = Array(text.unicodeScalars)
            var planted = String(String.UnicodeScalarView(scalars[..<cut]))
            planted += " \(key) " + String(String.UnicodeScalarView(scalars[cut...]))
            let once = SecretPatterns.redact(planted)
            if once.contains("fuzzPLANTED") { throw Failure(message: "redactor: a planted key survived") }
            let env = SecretRedactor(environment: ["FUZZ_API_KEY": "plainPLANTEDvalue"])
            if env.redact(text + " plainPLANTEDvalue").contains("plainPLANTEDvalue") {
                throw Failure(message: "redactor: an environment secret survived")
            }
            _ = SecretPatterns.redact(once)
            // Streamed to a terminal in random pieces: the key is masked however it is cut,
            // and no control character (ESC, C1) reaches the terminal.
            let sink = OutputSink(capturing: true, terminal: true)
            let stream = sink.stream()
            for piece in chunks(Array(planted.utf8), random: &random) { stream.write(String(decoding: piece, as: UTF8.self)) }
            stream.finish()
            let shown = sink.capturedText
            if shown.contains("fuzzPLANTED") { throw Failure(message: "redactor: a planted key survived streaming") }
            if shown.unicodeScalars.contains(where: { $0 == "\u{1B}" || (0x80...0x9F).contains($0.value) }) {
                throw Failure(message: "redactor: a control character reached the terminal")
            }
        default:
            throw Failure(message: "unknown target \(target)")
        }
    }

    /// How the direct decoding of a query answer differs from the tree decoding; nil when
    /// both give the same answer or the same error.
    package static func prometheusAnswerDifference(_ body: [UInt8]) -> String? {
        func outcome(_ decode: ([UInt8], String?, String) throws -> PrometheusQueryAnswer) -> Result<PrometheusQueryAnswer, PrometheusError> {
            Result { try decode(body, "q", "u") }.mapError { $0 as? PrometheusError ?? PrometheusError(.badAnswer, server: "", query: nil, detail: "\($0)") }
        }
        switch (outcome(PrometheusAPI.decodeQuery), outcome(PrometheusAPI.decodeQueryTree)) {
        case let (.success(direct), .success(tree)):
            return direct == tree ? nil : "the decoders read different answers"
        case let (.failure(direct), .failure(tree)):
            if direct.description == tree.description, direct.kind == tree.kind, direct.errorType == tree.errorType { return nil }
            return "different errors: direct '\(direct.description)', tree '\(tree.description)'"
        case let (.success, .failure(tree)):
            return "the direct decoder accepted what the tree decoding rejects: \(tree.description)"
        case let (.failure(direct), .success):
            return "the direct decoder rejected what the tree decoding reads: \(direct.description)"
        }
    }

    private static func decodeRESP(_ pieces: [[UInt8]]) -> (values: [RESPValue], error: String?) {
        var parser = RESPParser()
        var values: [RESPValue] = []
        do {
            for p in pieces {
                parser.push(p)
                while let v = try parser.next() { values.append(v) }
            }
            return (values, nil)
        } catch {
            return (values, "\(error)")
        }
    }

    private static func decode(_ target: String, _ pieces: [[UInt8]], direct: Bool = true)
        -> (text: String, error: String?, summary: String) {
        var text = ""
        var summary = ""
        do {
            if target == "sse" {
                var d = OpenAIStreamDecoder()
                d.readsDirectly = direct
                defer {
                    let s = d.summary
                    summary = "\(s.model ?? "-") \(s.promptTokens ?? -1) \(s.completionTokens ?? -1) \(s.finishReason ?? "-") \(s.completed)"
                }
                for p in pieces { try d.push(p) { text += $0 } }
                try d.finish { text += $0 }
            } else {
                var d = OllamaStreamDecoder()
                for p in pieces { try d.push(p) { text += $0 } }
                try d.finish { text += $0 }
            }
            return (text, nil, summary)
        } catch {
            return (text, "\(error)", summary)
        }
    }

    private static func chunks(_ input: [UInt8], random: inout SplitMix64) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < input.count {
            let n = 1 + Int(random.next() % 17)
            out.append(Array(input[i..<min(input.count, i + n)]))
            i += n
        }
        return out
    }
}

/// The mutation loop of one target.
package struct Fuzzer {
    package let target: String
    package var random: SplitMix64
    package var corpus: [[UInt8]]
    package let dictionary: [[UInt8]]
    package static let maxInput = 64 << 10

    package init(target: String, seed: UInt64) {
        self.target = target
        random = SplitMix64(seed: seed ^ UInt64(truncatingIfNeeded: target.hashValue & 0) ^ UInt64(target.utf8.count))
        corpus = FuzzSeeds.seeds(target).map { Array($0.utf8) }
        dictionary = FuzzSeeds.tokens(target).map { Array($0.utf8) }
    }

    package mutating func run(seconds: Double) -> (iterations: Int, failure: Fuzzing.Failure?) {
        let deadline = MonotonicClock.now() + seconds
        var n = 0
        // The seeds as they are first.
        for input in corpus {
            if let f = one(input) { return (n, f) }
            n += 1
        }
        while MonotonicClock.now() < deadline {
            for _ in 0..<16 {
                let input = mutate(corpus[random.below(corpus.count)])
                if let f = one(input) { return (n, f) }
                n += 1
                if random.below(16) == 0 {
                    if corpus.count < 512 { corpus.append(input) } else { corpus[random.below(corpus.count)] = input }
                }
            }
        }
        return (n, nil)
    }

    private mutating func one(_ input: [UInt8]) -> Fuzzing.Failure? {
        CrashInput.remember(target: target, input)
        do {
            try Fuzzing.exercise(target, input, random: &random)
            return nil
        } catch {
            var f = error
            f.input = input
            return f
        }
    }

    package mutating func mutate(_ original: [UInt8]) -> [UInt8] {
        var b = original
        for _ in 0...random.below(4) {
            switch random.below(8) {
            case 0 where !b.isEmpty: b[random.below(b.count)] ^= UInt8(1 << random.below(8))
            case 1 where !b.isEmpty: b[random.below(b.count)] = UInt8(truncatingIfNeeded: random.next())
            case 2: b.insert(UInt8(truncatingIfNeeded: random.next()), at: random.below(b.count + 1))
            case 3 where !b.isEmpty:
                let start = random.below(b.count)
                b.removeSubrange(start..<min(b.count, start + 1 + random.below(16)))
            case 4 where !b.isEmpty:
                let start = random.below(b.count)
                let piece = b[start..<min(b.count, start + 1 + random.below(64))]
                b.insert(contentsOf: piece, at: random.below(b.count + 1))
            case 5 where !dictionary.isEmpty, 6 where !dictionary.isEmpty:
                b.insert(contentsOf: dictionary[random.below(dictionary.count)], at: random.below(b.count + 1))
            default:
                let other = corpus[random.below(corpus.count)]
                if !other.isEmpty {
                    let start = random.below(other.count)
                    b.insert(contentsOf: other[start..<min(other.count, start + 1 + random.below(256))], at: random.below(b.count + 1))
                }
            }
        }
        if b.count > Fuzzer.maxInput { b.removeLast(b.count - Fuzzer.maxInput) }
        return b
    }
}

/// Keeps the input being tried where a crash handler can write it out (async-signal-safe:
/// a fixed buffer, open and write).
package enum CrashInput {
    nonisolated(unsafe) private static var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Fuzzer.maxInput)
    nonisolated(unsafe) private static var length = 0
    nonisolated(unsafe) private static var path = UnsafeMutablePointer<CChar>.allocate(capacity: 256)

    package static func remember(target: String, _ input: [UInt8]) {
        if path[0] == 0 || !String(cString: path).hasSuffix("-\(target).bin") {
            let name = "aish-fuzz-crash-\(target).bin"
            _ = name.withCString { strncpy(path, $0, 255) }
        }
        length = min(input.count, Fuzzer.maxInput)
        input.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: length) }
    }

    package static func install() {
        path[0] = 0
        for crashSignal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                let fd = open(CrashInput.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                if fd >= 0 {
                    _ = write(fd, CrashInput.buffer, CrashInput.length)
                    close(fd)
                }
                let note = "aish-fuzz: crashed; the input is in the file named aish-fuzz-crash-TARGET.bin\n"
                _ = note.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress!, $0.count - 1) }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // the handler restores the default itself
            sigaction(crashSignal, &action, nil)
        }
    }
}

/// Starting inputs and dictionary words per target: real shapes of each format.
package enum FuzzSeeds {
    package static func seeds(_ target: String) -> [String] {
        switch target {
        case "yaml":
            return ["providers:\n  local:\n    type: ollama\n    base_url: http://127.0.0.1:11434\n    models: [a, {name: b, context_length: 8192}]\n",
                    "base: &b {type: vllm}\nproviders:\n  x:\n    <<: *b\n    status: active\n", "a: [*x]\n", "- 1\n- 'two'\n- \"three\"\n- |\n  block\n",
                    "exact_matches:\n  m:\n    provider: p\n    fallback: null\n"]
        case "script":
            return ["echo hi $1 ${NAME}\nexpect contains hi\n", "chat -m x <<EOF\nline $X\nEOF\nexpect ok\n",
                    "set temperature 0.2; log -n 3 --status ok\nsql 'SELECT 1' # c\n", "wait p --timeout 5s \\\n  --interval 1s\n",
                    "chat <<-'END'\n\tquoted\n\tEND\nexpect json .a[0].b == \"x\"\n"]
        case "sse":
            return ["data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
                    ": comment\nevent: error\ndata: {\"error\":{\"message\":\"x\"}}\n\n", "data: {\"choices\":[{\"delta\":{\"content\":\"h\\u00e9\"}}],\"usage\":{\"prompt_tokens\":3}}\r\n\r\n",
                    "data: {\"choices\":[{\"text\":\"x\",\"finish_reason\":null}],\"timings\":{\"prompt_n\":1}}\n\n",
                    // Chunks alike but for their text, as servers stream them: the decoder reads
                    // them against the first (OpenAIChunkTemplate); a mutation in one of them
                    // tests the comparison around the text.
                    (["a", "b c", "\\\"q\\u00e9", ""].map { "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\($0)\"},\"finish_reason\":null}]}\n\n" }).joined()
                        + "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"]
        case "ndjson":
            return ["{\"message\":{\"content\":\"Hi\"},\"done\":false}\n{\"message\":{\"content\":\"!\"},\"done\":true,\"eval_count\":2}\n",
                    "{\"response\":\"a\"}\n{\"error\":\"model not found\"}\n", "{\"done\":true,\"done_reason\":\"length\",\"total_duration\":12}\n"]
        case "prometheus":
            return ["# HELP x_total A counter.\n# TYPE x_total counter\nx_total{a=\"b\",c=\"d\\\"e\"} 1.5e3 1700000000000\n",
                    "vllm:num_requests_running{model_name=\"m\"} 0\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 3\n",
                    "llamacpp:prompt_tokens_total 12\nNaN_value NaN\ninf +Inf\n"]
        case "prometheus-api":
            return [#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"a:1","job":"j"},"values":[[1795969912,"0.49820000000000003"],[1795969917.5,"NaN"],[1795969922,"+Inf"]]}]}}"#,
                    #"{"data":{"result":[{"value":[1.5e9,"-Inf"],"metric":{"__name__":"up","x":"\u00e9\ud83d\ude00"}}],"resultType":"vector"},"warnings":["w",1],"status":"success"}"#,
                    #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:11: parse error"}"#,
                    #"{"status":"success","data":{"resultType":"scalar","result":[1795969917.261,"0.25"]}}"#,
                    #"{"status":"success","data":{"resultType":"string","result":[1795969917.342,"hello"]}}"#,
                    #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[[1,{"count":"2"}]]}]}}"#]
        case "resp":
            return ["+PONG\r\n:42\r\n-ERR unknown command 'X'\r\n", "$5\r\nhello\r\n$-1\r\n*-1\r\n$0\r\n\r\n",
                    "*2\r\n$2\r\n17\r\n*3\r\n$5\r\nkey:1\r\n$5\r\nkey:2\r\n$64\r\n" + String(repeating: "ab", count: 32) + "\r\n",
                    "$56\r\n# Server\r\nredis_version:7.0.15\r\n# Memory\r\nused_memory_human:1M\r\n\r\n",
                    String(repeating: "*1\r\n", count: 40) + ":1\r\n"]
        case "json":
            return [#"{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \u00e9\ud83d\ude00\n"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
                    #"{"models":[{"name":"llama3.2:1b","size":1.3e9,"details":{"family":"llama"}}],"ok":true,"none":null}"#,
                    #"[1,-0,2.5,1e400,-1.25E-3,"\"\\\/\b\f\n\r\t",[],{}]"#,
                    String(repeating: "[", count: 600) + String(repeating: "]", count: 600)]
        default:
            return ["set api_key V3ry; echo Bearer tok-1 Authorization: Basic abc", "{\"api_key\": \"x\"} eyJhbGciOi.eyJzdWIi.sig",
                    "AKIAIOSFODNN7EXAMPLE ghp_abcdefghijklmnop0123 xoxb-1-2-3 hf_abcdefghijklmnopqrstuv", "naïve ✓ text"]
        }
    }

    package static func tokens(_ target: String) -> [String] {
        switch target {
        case "yaml": return [": ", "- ", "&a ", "*a", "<<: ", "{", "}", "[", "]", "\"", "'", "|\n", ">\n", "\n  ", "!!str ", "---\n", "...\n", "\t", "#"]
        case "script": return ["<<EOF\n", "\nEOF\n", "'", "\"", "\\\n", "$", "${", "}", ";", "#", "--", "-m ", "expect ", "source ", "set ", "\n", "\t", "<<-"]
        case "sse": return ["data: ", "event: ", "id: ", "\n\n", "\r\n", ":", "[DONE]", "{\"choices\":[{\"delta\":{\"content\":\"", "\"}}]}", "\u{00e9}", "\\u00"]
        case "ndjson": return ["\n", "{\"message\":{\"content\":\"", "\"}}", "\"done\":true", "{\"error\":\"", "\\u", "null", "[", "]"]
        case "prometheus": return ["# TYPE ", "# HELP ", "{", "}", "=\"", "\",", " 1", " NaN", " +Inf", "\n", "\\n", "\\\"", "_bucket", "le=\""]
        case "prometheus-api": return ["{", "}", "[", "]", ",", ":", "\"", "\\u", "\\\"", "\"status\":", "\"success\"", "\"error\"", "\"data\":",
                                       "\"resultType\":", "\"vector\"", "\"matrix\"", "\"result\":", "\"metric\":", "\"value\":", "\"values\":",
                                       "[1.5,\"2\"]", "\"NaN\"", "\"-Inf\"", "1e+06", "-0", "null", "true", " ", "\"histogram\":"]
        case "resp": return ["+", "-", ":", "$", "*", "\r\n", "-1", "0", "1", "2", "*1\r\n", "$3\r\nabc\r\n", "2147483648", "\r"]
        case "json": return ["{", "}", "[", "]", ",", ":", "\"", "\\u", "\\ud800", "\\\"", "null", "true", "false", "-", "1e9", ".5", " ", "[[[[", "]]]]"]
        default: return ["sk-", "sk_live_", "AKIA", "ghp_", "github_pat_", "xoxb-", "hf_", "eyJ", ".", "Bearer ", "Authorization: ", "set ",
                         "api_key", "password", "=", ": ", "\"", "'", ";", "\n"]
        }
    }
}
