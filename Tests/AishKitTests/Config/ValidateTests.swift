import Foundation
import Testing
@testable import AishBase
@testable import AishConfig

/// One edit to the clean fixture set (Tests/Fixtures/Config/clean, which validates with no
/// findings) and the exact findings it must produce, paths relative to the config directory.
struct CheckCase: CustomTestStringConvertible, Sendable {
    var name: String
    var file: String
    var replace: String
    var with: String
    var expected: [String]
    var testDescription: String { name }
}

enum ValidateHarness {
    static let files = ["providers.yaml", "model-mappings.yaml", "ports.yaml", "litellm-unified.yaml"]

    /// Copies the clean set with `edit` applied (the replaced text must occur exactly once).
    static func editedCopy(_ file: String, _ from: String, _ to: String) throws -> String {
        let clean = ConfigFixtures.fixture("clean")
        var contents: [String: String] = [:]
        for f in files { contents[f] = try String(contentsOfFile: clean + "/" + f, encoding: .utf8) }
        let text = try #require(contents[file])
        #expect(text.components(separatedBy: from).count == 2, "'\(from)' must occur once in \(file)")
        contents[file] = text.replacingOccurrences(of: from, with: to)
        return try ConfigFixtures.directory(contents)
    }

    static func findings(in dir: String) -> [String] {
        ConfigValidator.loadAndValidate(directory: dir).findings.map { $0.description.replacingOccurrences(of: dir + "/", with: "") }
    }
}

@Suite struct ValidateTests {
    @Test func cleanSetHasNoFindings() {
        let v = ConfigValidator.loadAndValidate(directory: ConfigFixtures.fixture("clean"))
        #expect(v.findings.map(\.description) == [])
        #expect(v.summary == "4 providers (3 active), 8 routes, 3 fallback chains: 0 errors, 0 warnings")
    }

    static let cases: [CheckCase] = [
        CheckCase(name: "YAML syntax (tab) is one finding, without cascades", file: "providers.yaml", replace: "    rpm: 600\n", with: "\trpm: 600\n",
                  expected: ["providers.yaml:26:1: error: tab character in indentation (YAML indents with spaces only)"]),
        CheckCase(name: "required key", file: "providers.yaml", replace: "    type: llama_cpp\n", with: "",
                  expected: ["providers.yaml:20:3: error: provider 'fast' is missing required key 'type'"]),
        CheckCase(name: "wrong type", file: "providers.yaml", replace: "rpm: 600", with: "rpm: lots",
                  expected: ["providers.yaml:26:10: error: 'rpm' must be an integer, found 'lots'"]),
        CheckCase(name: "likely typo of a known key", file: "providers.yaml",
                  replace: "    base_url: http://127.0.0.1:8080\n", with: "    baes_url: http://127.0.0.1:8080\n",
                  expected: ["providers.yaml:20:3: error: provider 'fast' is missing required key 'base_url'",
                             "providers.yaml:22:5: warning: unknown key 'baes_url' (did you mean 'base_url'?)"]),
        CheckCase(name: "unknown provider type", file: "providers.yaml", replace: "type: ollama", with: "type: olama",
                  expected: ["providers.yaml:4:11: error: unknown provider type 'olama' (did you mean 'ollama'?)"]),
        CheckCase(name: "duplicate key", file: "providers.yaml", replace: "    rpm: 600\n", with: "    rpm: 600\n    rpm: 700\n",
                  expected: ["providers.yaml:27:5: error: duplicate key 'rpm' (first defined at providers.yaml:26:5)"]),
        CheckCase(name: "aish's own timeouts are strict", file: "providers.yaml",
                  replace: "      connect: 2\n      first_token: 30\n      idle: 15\n", with: "      connect: -1\n      first_token: 30\n      idel: 15\n",
                  expected: ["providers.yaml:15:16: error: 'connect' must be a positive number of seconds, found '-1'",
                             "providers.yaml:17:7: warning: unknown key 'idel' in timeouts (did you mean 'idle'?)"]),
        CheckCase(name: "unknown provider reference", file: "model-mappings.yaml", replace: "  smol:\n    provider: fast", with: "  smol:\n    provider: fsat",
                  expected: ["providers.yaml:24:9: warning: model 'smol' of active provider 'fast' has no route (no exact match or pattern sends requests to it)",
                             "model-mappings.yaml:13:15: error: unknown provider 'fsat' (did you mean 'fast'?)",
                             "litellm-unified.yaml:24:17: warning: out of sync: model 'smol' is not in the sources",
                             "litellm-unified.yaml:50:7: warning: out of sync: fallback list of 'llama3.1:latest' is '[smol, gpt-4o-mini]' but the sources give '[gpt-4o-mini]'",
                             "litellm-unified.yaml:55:5: warning: out of sync: default_fallbacks is '[llama3.1:latest, smol]' but the sources give '[llama3.1:latest]'",
                             "litellm-unified.yaml:59:5: warning: out of sync: model_group_alias 'low_latency' is not in the sources"]),
        CheckCase(name: "unknown model reference", file: "model-mappings.yaml", replace: "      - smol\n      - gpt-4o-mini", with: "      - smoll\n      - gpt-4o-mini",
                  expected: ["model-mappings.yaml:49:9: error: unknown model 'smoll' in the fallback chain of 'llama3.1:latest' (did you mean 'smol'?)",
                             "litellm-unified.yaml:50:7: warning: out of sync: fallback list of 'llama3.1:latest' is '[smol, gpt-4o-mini]' but the sources give '[gpt-4o-mini]'"]),
        CheckCase(name: "disabled provider reference", file: "model-mappings.yaml", replace: "    fallback: local\n", with: "    fallback: spare\n",
                  expected: ["model-mappings.yaml:21:15: warning: provider 'spare' is disabled"]),
        CheckCase(name: "active provider model without a route", file: "providers.yaml",
                  replace: "        context_length: 2048\n", with: "        context_length: 2048\n      - other\n",
                  expected: ["providers.yaml:26:9: warning: model 'other' of active provider 'fast' has no route (no exact match or pattern sends requests to it)"]),
        CheckCase(name: "fallback cycle printed as a path", file: "model-mappings.yaml", replace: "    chain: []", with: "    chain: [llama3.1:latest]",
                  expected: ["model-mappings.yaml:47:3: error: fallback chains form a cycle: llama3.1:latest → smol → llama3.1:latest",
                             "litellm-unified.yaml:45:1: warning: out of sync: fallback list of 'smol' is missing (the sources give '[llama3.1:latest]')"]),
        CheckCase(name: "fallback self-reference", file: "model-mappings.yaml", replace: "      - smol\n      - gpt-4o-mini", with: "      - smol\n      - llama3.1:latest",
                  expected: ["model-mappings.yaml:50:9: error: the fallback chain of 'llama3.1:latest' lists 'llama3.1:latest' itself",
                             "litellm-unified.yaml:50:7: warning: out of sync: fallback list of 'llama3.1:latest' is '[smol, gpt-4o-mini]' but the sources give '[smol]'"]),
        CheckCase(name: "fallback duplicate", file: "model-mappings.yaml", replace: "      - smol\n      - gpt-4o-mini", with: "      - smol\n      - gpt-4o-mini\n      - smol",
                  expected: ["model-mappings.yaml:51:9: error: 'smol' appears twice in the fallback chain of 'llama3.1:latest' (first at model-mappings.yaml:49:9)"]),
        CheckCase(name: "weights must sum to 1", file: "model-mappings.yaml", replace: "weight: 0.3", with: "weight: 0.2",
                  expected: ["model-mappings.yaml:37:3: error: weights of 'chat' sum to 0.9, not 1"]),
        CheckCase(name: "weights must be positive", file: "model-mappings.yaml", replace: "weight: 0.3", with: "weight: 0",
                  expected: ["model-mappings.yaml:43:17: error: weight must be positive, found 0"]),
        CheckCase(name: "rpm bounds", file: "providers.yaml", replace: "rpm: 600", with: "rpm: 0",
                  expected: ["providers.yaml:26:10: error: rpm must be a positive integer no larger than 1000000, found 0",
                             "litellm-unified.yaml:29:12: warning: out of sync: model 'smol': litellm_params.rpm is '600' but the sources give '0'"]),
        CheckCase(name: "tpm bounds", file: "model-mappings.yaml", replace: "tpm: 50000", with: "tpm: 2000000000",
                  expected: ["model-mappings.yaml:11:12: error: tpm must be a positive integer no larger than 1000000000, found 2000000000",
                             "litellm-unified.yaml:19:12: warning: out of sync: model 'coder': litellm_params.tpm is '50000' but the sources give '2000000000'"]),
        CheckCase(name: "pattern must compile", file: "model-mappings.yaml", replace: "\"^gpt-.*\"", with: "\"^gpt-(.*\"",
                  expected: ["model-mappings.yaml:19:14: error: pattern '^gpt-(.*' is not a valid regular expression"]),
        CheckCase(name: "pattern uses Python syntax aish lacks", file: "model-mappings.yaml", replace: "\"^gpt-.*\"", with: "\"(?<=^gpt-).*\"",
                  expected: ["model-mappings.yaml:19:14: error: pattern '(?<=^gpt-).*' uses lookbehind '(?<=' at offset 0, Python regex syntax aish does not support (the pattern never matches)"]),
        CheckCase(name: "capability names a provider", file: "model-mappings.yaml", replace: "      - coder\n      - gpt-4o-mini", with: "      - coder\n      - fast",
                  expected: ["model-mappings.yaml:27:9: error: capability 'code' lists provider 'fast' where a model is expected"]),
        CheckCase(name: "strategy not evaluated", file: "model-mappings.yaml", replace: "strategy: weighted_round_robin", with: "strategy: adaptive_weighted",
                  expected: ["model-mappings.yaml:44:15: warning: strategy 'adaptive_weighted' is not evaluated by aish"]),
        CheckCase(name: "strategy typo", file: "model-mappings.yaml", replace: "routing_strategy: fastest_response", with: "routing_strategy: fastest_responce",
                  expected: ["model-mappings.yaml:34:23: warning: strategy 'fastest_responce' is not evaluated by aish (did you mean 'fastest_response'?)"]),
        CheckCase(name: "condition not evaluated", file: "model-mappings.yaml", replace: "        weight: 0.3\n", with: "        weight: 0.3\n        condition: \"batch_size > 1\"\n",
                  expected: ["model-mappings.yaml:44:20: warning: condition 'batch_size > 1' is not evaluated by aish"]),
        CheckCase(name: "routing rule section not evaluated", file: "model-mappings.yaml", replace: "  default_fallback: fast\n",
                  with: "  default_fallback: fast\n  model_size_routing:\n    - size: \"< 8B\"\n      provider: local\n",
                  expected: ["model-mappings.yaml:61:3: warning: 'model_size_routing' is not evaluated by aish (its rules are ignored when routing)"]),
        CheckCase(name: "port conflict", file: "ports.yaml", replace: "port: 8004", with: "port: 4000",
                  expected: ["ports.yaml:21:11: error: port 4000 of 'future' is also used by 'gateway' (ports.yaml:1:1)"]),
        CheckCase(name: "port out of range", file: "ports.yaml", replace: "port: 8004", with: "port: 70000",
                  expected: ["ports.yaml:21:11: error: port 70000 is out of range (1 to 65535)"]),
        CheckCase(name: "provider port disagrees with ports.yaml", file: "ports.yaml", replace: "port: 8080", with: "port: 8081",
                  expected: ["providers.yaml:22:15: warning: provider 'fast' uses port 8080 but ports.yaml gives 'fast' port 8081"]),
        CheckCase(name: "drift: changed model name", file: "litellm-unified.yaml", replace: "      model: openai/smol\n      api_base: http://127.0.0.1:8080/v1\n      api_key: none\n      rpm: 600\n      tpm: 100000\n    model_info", with: "      model: openai/other\n      api_base: http://127.0.0.1:8080/v1\n      api_key: none\n      rpm: 600\n      tpm: 100000\n    model_info",
                  expected: ["litellm-unified.yaml:26:14: warning: out of sync: model 'smol': litellm_params.model is 'openai/other' but the sources give 'openai/smol'"]),
        CheckCase(name: "drift: ollama/ and ollama_chat/ reach the same server", file: "litellm-unified.yaml",
                  replace: "model: ollama_chat/qwen2.5-coder:7b", with: "model: ollama/qwen2.5-coder:7b", expected: []),
        CheckCase(name: "drift: api_base port", file: "litellm-unified.yaml",
                  replace: "      model: openai/gpt-4o-mini\n      api_base: https://api.openai.com/v1", with: "      model: openai/gpt-4o-mini\n      api_base: https://api.openai.com:8443/v1",
                  expected: ["litellm-unified.yaml:38:17: warning: out of sync: model 'gpt-4o-mini': litellm_params.api_base is 'https://api.openai.com:8443/v1' but the sources give 'https://api.openai.com:443/v1'"]),
        CheckCase(name: "drift: api_key variable", file: "litellm-unified.yaml",
                  replace: "os.environ/OPENAI_API_KEY", with: "os.environ/OTHER_KEY",
                  expected: ["litellm-unified.yaml:39:16: warning: out of sync: model 'gpt-4o-mini': litellm_params.api_key is 'os.environ/OTHER_KEY' but the sources give 'os.environ/OPENAI_API_KEY'"]),
        CheckCase(name: "drift: a placeholder key for a keyless server is no key", file: "litellm-unified.yaml",
                  replace: "      model: openai/smol\n      api_base: http://127.0.0.1:8080/v1\n      api_key: none\n      rpm: 600\n      tpm: 100000\n    model_info", with: "      model: openai/smol\n      api_base: http://127.0.0.1:8080/v1\n      api_key: not-needed\n      rpm: 600\n      tpm: 100000\n    model_info",
                  expected: []),
        CheckCase(name: "drift: limits", file: "litellm-unified.yaml", replace: "rpm: 3500", with: "rpm: 100",
                  expected: ["litellm-unified.yaml:40:12: warning: out of sync: model 'gpt-4o-mini': litellm_params.rpm is '100' but the sources give '3500'"]),
        CheckCase(name: "drift: load-balancing weight", file: "litellm-unified.yaml", replace: "weight: 0.7", with: "weight: 0.5",
                  expected: ["litellm-unified.yaml:45:17: warning: out of sync: model 'chat': deployment ollama/llama3.1:latest at http://127.0.0.1:11434 has model ollama/llama3.1:latest, api_base http://127.0.0.1:11434, api_key none, weight 0.5 but the sources give model ollama/llama3.1:latest, api_base http://127.0.0.1:11434, api_key none, weight 0.7"]),
        CheckCase(name: "drift: changed fallbacks", file: "litellm-unified.yaml",
                  replace: "    - llama3.1:latest\n    - smol\n  model_group_alias", with: "    - llama3.1:latest\n  model_group_alias",
                  expected: ["litellm-unified.yaml:82:5: warning: out of sync: default_fallbacks is '[llama3.1:latest]' but the sources give '[llama3.1:latest, smol]'"]),
        CheckCase(name: "drift: alias", file: "litellm-unified.yaml", replace: "    code: coder", with: "    code: smol",
                  expected: ["litellm-unified.yaml:85:5: warning: out of sync: model_group_alias 'code' is 'smol' but the sources give 'coder'"]),
        CheckCase(name: "drift: comments and order of keys do not count", file: "litellm-unified.yaml",
                  replace: "      model: openai/gpt-4o-mini\n      api_base: https://api.openai.com/v1\n",
                  with: "      # a comment\n      api_base: \"https://api.openai.com/v1/\"\n      model: 'openai/gpt-4o-mini'\n",
                  expected: []),
        CheckCase(name: "drift: the header comment does not count", file: "litellm-unified.yaml",
                  replace: "# litellm-unified.yaml: generated by `aish config generate`", with: "# AUTO-GENERATED by scripts/generate-litellm-config.py",
                  expected: []),
    ]

    @Test(arguments: cases) func check(_ c: CheckCase) throws {
        let dir = try ValidateHarness.editedCopy(c.file, c.replace, c.with)
        // Drift is checked on what loaded whatever else is wrong; cases about other checks
        // look at their own findings.
        let own = { (f: String) in c.file == "litellm-unified.yaml" || !f.contains(": out of sync: ") }
        #expect(ValidateHarness.findings(in: dir).filter(own) == c.expected.filter(own))
    }

    @Test func driftRunsOnAConfigWithErrors() throws {
        let dir = try ValidateHarness.editedCopy("model-mappings.yaml", "weight: 0.3", "weight: 0")
        let found = ValidateHarness.findings(in: dir)
        #expect(found.contains("model-mappings.yaml:43:17: error: weight must be positive, found 0"))
        #expect(found.contains { $0.contains("out of sync: model 'chat'") })
    }

    @Test func longerCycleIsOnePath() throws {
        let dir = try ValidateHarness.editedCopy("model-mappings.yaml", "  smol:\n    chain: []",
                                                 "  smol:\n    chain: [coder]\n  coder:\n    chain: [llama3.1:latest]")
        let errors = ConfigValidator.loadAndValidate(directory: dir).findings.filter { $0.severity == .error }
            .map { $0.description.replacingOccurrences(of: dir + "/", with: "") }
        #expect(errors == ["model-mappings.yaml:47:3: error: fallback chains form a cycle: llama3.1:latest → smol → coder → llama3.1:latest"])
    }

    @Test func missingLiteLLMFileIsNoDrift() throws {
        let clean = ConfigFixtures.fixture("clean")
        var files: [String: String] = [:]
        for f in ["providers.yaml", "model-mappings.yaml", "ports.yaml"] { files[f] = try String(contentsOfFile: clean + "/" + f, encoding: .utf8) }
        let dir = try ConfigFixtures.directory(files)
        #expect(ValidateHarness.findings(in: dir) == [])
    }

    /// The real deployment loads and its real problems are reported (see the README's
    /// "what the real fixture set yields").
    @Test func realFixtureSetFindings() {
        let dir = ConfigFixtures.gathewhy
        let v = ConfigValidator.loadAndValidate(directory: dir)
        let found = v.findings.map { $0.description.replacingOccurrences(of: dir + "/", with: "") }
        #expect(v.findings.filter { $0.severity == .error }.map { $0.description.replacingOccurrences(of: dir + "/", with: "") } ==
            ["model-mappings.yaml:250:9: error: capability 'large_context' lists provider 'llama_cpp_python' where a model is expected"])
        #expect(Array(found.prefix(12)) == [
            "model-mappings.yaml:143:15: warning: provider 'vllm-dolphin' is disabled",
            "model-mappings.yaml:153:15: warning: provider 'vllm-dolphin' is disabled",
            "model-mappings.yaml:250:9: error: capability 'large_context' lists provider 'llama_cpp_python' where a model is expected",
            "model-mappings.yaml:289:20: warning: condition 'request_count > 5 OR batch_mode' is not evaluated by aish",
            "model-mappings.yaml:292:20: warning: condition 'request_count <= 5' is not evaluated by aish",
            "model-mappings.yaml:295:20: warning: condition 'local_saturated OR complexity == 'high'' is not evaluated by aish",
            "model-mappings.yaml:296:15: warning: strategy 'adaptive_weighted' is not evaluated by aish",
            "model-mappings.yaml:314:20: warning: condition 'length > 1000 OR quality_tier == 'high'' is not evaluated by aish",
            "model-mappings.yaml:315:15: warning: strategy 'quality_based' is not evaluated by aish",
            "model-mappings.yaml:450:3: warning: 'request_metadata_routing' is not evaluated by aish (its rules are ignored when routing)",
            "model-mappings.yaml:464:3: warning: 'model_size_routing' is not evaluated by aish (its rules are ignored when routing)",
            "model-mappings.yaml:485:3: warning: special case 'first_request_routing' is not evaluated by aish",
        ])
        // ollama/ vs ollama_chat/ and the header comment are choices that both work: no finding.
        #expect(!found.contains { $0.contains("ollama_chat/") })
        #expect(found.contains("litellm-unified.yaml:238:7: warning: out of sync: fallback list of 'large_context' is '[llama_cpp_python]' but the sources give '[llama-cpp-default]'"))
        #expect(found.dropFirst(12).allSatisfy { $0.hasPrefix("litellm-unified.yaml:") && $0.contains(": warning: out of sync: ") })
        #expect(found.count == 28)
        #expect(v.summary == "9 providers (5 active), 30 routes, 13 fallback chains: 1 error, 27 warnings")
        // No literal key from the old file is ever printed.
        #expect(!found.contains { $0.contains("not-needed") })
    }
}

/// Safety findings of issue 16: a literal API key in providers.yaml, unit names systemd
/// would refuse.
@Suite struct ConfigSafetyTests {
    @Test func literalAPIKeyIsReportedAsUnused() throws {
        let dir = try ValidateHarness.editedCopy("providers.yaml", "    env_var: OPENAI_API_KEY\n",
                                                 "    env_var: OPENAI_API_KEY\n    api_key: sk-abcdefgh12345678\n")
        let withoutVar = try ValidateHarness.editedCopy("providers.yaml", "    base_url: http://127.0.0.1:8080\n",
                                                        "    base_url: http://127.0.0.1:8080\n    api_key: hunter2\n")
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: withoutVar) }
        #expect(ValidateHarness.findings(in: dir) == [
            "providers.yaml:35:5: warning: provider 'cloud': 'api_key' is not used: aish reads API keys only from the environment, never from providers.yaml; put the key in the environment variable OPENAI_API_KEY (env_var already names it) and delete this line",
        ])
        #expect(ValidateHarness.findings(in: withoutVar) == [
            "providers.yaml:23:5: warning: provider 'fast': 'api_key' is not used: aish reads API keys only from the environment, never from providers.yaml; put the key in an environment variable, name it with `env_var: FAST_API_KEY`, and delete this line",
        ])
        // The finding never repeats the key.
        #expect(!ValidateHarness.findings(in: dir).joined().contains("abcdefgh"))
    }

    @Test func unitNamesAreCheckedAsSystemdWould() throws {
        let dir = try ValidateHarness.editedCopy("ports.yaml", "  service: litellm.service\n", "  service: x; touch /tmp/p\n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(ValidateHarness.findings(in: dir) == [
            "ports.yaml:1:1: error: 'gateway': service 'x; touch /tmp/p' is not a systemd unit name: ';', space, '/' not allowed (only letters, digits, ':', '-', '_', '.', '\\' and one '@')",
        ])
    }

    @Test(arguments: [
        ("ollama.service", nil), ("ollama", nil), ("vllm@qwen.service", nil), ("getty@.service", nil),
        ("dev-sda1.device", nil), ("foo\\x2dbar.mount", nil), ("a:b.socket", nil),
        ("x; touch /tmp/p", "';', space, '/' not allowed"), ("$(id).service", "'$', '(', ')' not allowed"),
        ("a@b@c.service", "more than one '@'"), ("@x.service", "nothing before '@'"), (".service", "nothing before the type suffix"),
        (String(repeating: "a", count: 250), "longer than 255 bytes"), ("naïve.service", "'ï' not allowed"),
    ] as [(String, String?)])
    func unitName(name: String, problem: String?) {
        let found = SystemdUnitName.problem(name)
        if let problem { #expect(found?.contains(problem) == true, "\(found ?? "nil")") } else { #expect(found == nil) }
    }
}
