import Foundation
import Testing
@testable import AishBase
@testable import AishRouting

/// An edit of the config files in a running session takes effect on the next request,
/// whatever the field: the compiled router is kept only for an equal config.
@Suite(.serialized) struct ConfigEditTests {
    /// providers.yaml with one provider `p`; every field the test edits is a parameter.
    static func providers(type: String, url: String, envVar: String, firstToken: Double, models: [String]) -> String {
        """
        providers:
          p:
            type: \(type)
            base_url: \(url)
            status: active
            env_var: \(envVar)
            timeouts:
              first_token: \(firstToken)
            models:
        \(models.map { "      - name: \($0)" }.joined(separator: "\n"))
          off:
            type: vllm
            base_url: http://127.0.0.1:9
            status: disabled
            models:
              - name: off-model

        """
    }

    static func mappings(backend: String) -> String {
        """
        exact_matches:
          alias:
            provider: p
            backend_model: \(backend)
          spare:
            provider: off
            fallback: p

        """
    }

    /// Writes a file as an editor would (a new inode, a new mtime).
    static func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func last(_ fake: FakeProviderProcess) throws -> JSONValue {
        try #require(try fake.receivedRequests().last { $0["method"] == "POST" })
    }

    @Test func eachKindOfFieldEditedInARunningSessionIsUsedByTheNextRequest() throws {
        let a = try FakeProviderProcess(["--first-token-delay", "1.5"])
        defer { a.stop() }
        let b = try FakeProviderProcess()
        defer { b.stop() }
        let bench = try ChatBench(providers: [], mappings: Self.mappings(backend: "m-one"),
                                  environment: ["KEY_ONE": "secret-one", "KEY_TWO": "secret-two"])
        defer { bench.cleanUp() }
        let providersPath = bench.directory + "/providers.yaml"
        let mappingsPath = bench.directory + "/model-mappings.yaml"
        var type = "vllm", url = a.baseURL, envVar = "KEY_ONE", firstToken = 10.0, models = ["m-one"]
        func writeProviders() throws {
            try Self.write(Self.providers(type: type, url: url, envVar: envVar, firstToken: firstToken, models: models),
                           providersPath)
        }
        try writeProviders()

        // As written: the first token comes after 1.5 s, within first_token 10.
        let first = try bench.run(["chat", "-m", "alias", "hi"])
        #expect(first.status == .ok)
        var request = try Self.last(a)
        #expect(request["path"] == "/v1/chat/completions")
        #expect(request["headers"]?["Authorization"] == "Bearer secret-one")
        #expect(request["body"]?["model"] == "m-one")

        // timeouts: first_token 0.5 < 1.5 s: the next request gives up after 0.5 s.
        firstToken = 0.5
        try writeProviders()
        let started = Date()
        let timedOut = try bench.run(["chat", "-m", "alias", "hi"])
        #expect(timedOut.status != .ok, "\(timedOut.text) \(String(describing: timedOut.data))")
        #expect(Date().timeIntervalSince(started) < 1.4)
        try a.configure(.object([("first_token_delay", .double(0))]))

        // env_var: the key comes from the other variable.
        envVar = "KEY_TWO"
        try writeProviders()
        try bench.run(["chat", "-m", "alias", "hi"])
        request = try Self.last(a)
        #expect(request["headers"]?["Authorization"] == "Bearer secret-two")

        // type: Ollama's wire format.
        type = "ollama"
        try writeProviders()
        try bench.run(["chat", "-m", "alias", "hi"])
        request = try Self.last(a)
        #expect(request["path"] == "/api/chat")

        // A mapping field: the backend model of the alias.
        try Self.write(Self.mappings(backend: "m-two"), mappingsPath)
        try bench.run(["chat", "-m", "alias", "hi"])
        #expect(try Self.last(a)["body"]?["model"] == "m-two")

        // models: `spare`'s provider is disabled; its fallback p is asked for its first model.
        let named = try bench.run(["chat", "-m", "spare", "hi"])
        let seen = try Self.last(a)
        #expect(seen["body"]?["model"] == "m-one", "\(named.text) \(String(describing: named.data)) \(seen)")
        models = ["m-three", "m-one"]
        try writeProviders()
        try bench.run(["chat", "-m", "spare", "hi"])
        #expect(try Self.last(a)["body"]?["model"] == "m-three")

        // base_url: the other server gets the next request.
        url = b.baseURL
        try writeProviders()
        try bench.run(["chat", "-m", "alias", "hi"])
        #expect(try Self.last(b)["path"] == "/api/chat")
        #expect(try a.receivedRequests().filter { $0["method"] == "POST" }.count == 7)
    }

    @Test func theRouterIsCompiledOncePerDistinctConfig() throws {
        var config = RoutingTestConfig()
        config.provider("p")
        config.exact("alias", "p")
        let session = RoutingSession()
        let router = session.router(for: config.config)
        #expect(session.router(for: config.config) === router)
        // Any field: here one no route reads, a provider's idle timeout.
        var edited = config.config
        edited.providers.providers[0].timeouts.idle += 1
        let recompiled = session.router(for: edited)
        #expect(recompiled !== router)
        #expect(session.router(for: edited) === recompiled)
        #expect(session.router(for: config.config) !== recompiled)
    }

    @Test func pairListsCompareInOrder() {
        var c = RoutingTestConfig()
        c.capability("x", strategy: "complexity_based", complexity: [("low", "a"), ("high", "b")])
        var swapped = c.config
        swapped.mappings.capabilities[0].complexityThresholds = [("high", "b"), ("low", "a")]
        #expect(c.config != swapped)
        swapped.mappings.capabilities[0].complexityThresholds = [("low", "a"), ("high", "b")]
        #expect(c.config == swapped)
        swapped.mappings.capabilities[0].contextThresholds = [("small", "a")]
        #expect(c.config != swapped)
    }
}
