import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishRouting

@Suite struct RouterPrecedenceTests {
    static func config() -> AishConfig {
        var c = RoutingTestConfig()
        c.provider("local", models: ["small", "big"])
        c.provider("gpu", models: ["Qwen/Coder-AWQ"])
        c.provider("cloud", models: ["huge", "mid"])
        c.provider("off", models: ["x"], status: .disabled)
        c.exact("small", "local")
        c.exact("coder", "gpu", backend: "Qwen/Coder-AWQ", fallback: "local")
        c.exact("huge", "cloud", fallback: "local")
        c.exact("mid", "cloud")
        c.pattern("^Qwen/.*", "gpu", fallback: "local")
        c.pattern("^dolphin/.*", "off", fallback: "local")
        c.pattern(".*:\\d+[bB]$", "local")
        c.capability("code", models: ["huge", "coder", "small"], strategy: "direct")
        c.capability("small", models: ["huge"])   // an exact match of the same name wins
        c.chain("huge", ["mid", "coder"])
        c.chain("mid", ["huge", "small"])           // a cycle back to huge
        c.chain("small", [])                        // terminal
        c.chain("default", ["mid", "small"])
        c.defaults(provider: "local", fallback: "cloud")
        return c.config
    }

    let router = Router(config: RouterPrecedenceTests.config())
    let state = RouterState(clock: { Date(timeIntervalSinceReferenceDate: 0) }, seed: 1)

    @Test func exactMatchWinsOverCapabilityOfTheSameName() {
        let plan = router.plan(for: "small", state: state)
        #expect(plan.rule == .exactMatch)
        #expect(plan.ruleDescription == "exact match 'small'")
        #expect(plan.ruleLocation == RoutingTestConfig.at(2))
        // An explicitly empty chain is a terminal node: no default chain after it.
        #expect(plan.summary == ["local/small"])
    }

    @Test func gatewayOrderFirstDepthFirstThenAishOnlyFallbackProvider() {
        let plan = router.plan(for: "huge", state: state)
        // As LiteLLM's Router: the group, then its fallbacks entry in order, a step with an entry
        // of its own followed into depth first (mid → small), each group once per request;
        // coder has no entry of its own, so the walk resumes huge's entry (all attempted).
        #expect(plan.summary == ["cloud/huge", "cloud/mid", "local/small", "gpu/Qwen/Coder-AWQ"])
        #expect(plan.steps.map(\.scope) == [.gateway, .gateway, .gateway, .gateway])
        #expect(plan.steps[0].reason == "exact match 'huge'")
        #expect(plan.steps[1].reason == "fallback_chains['huge'] step 1 'mid': exact match 'mid'")
        #expect(plan.steps[1].location == RoutingTestConfig.at(11))
        #expect(plan.steps[2].reason == "fallback_chains['mid'] step 2 'small': exact match 'small'")
        #expect(plan.steps[3].reason == "fallback_chains['huge'] step 2 'coder': exact match 'coder'")
        #expect(plan.isGatewayName)
    }

    @Test func providerLevelFallbackIsAishOnlyAfterTheGatewaySteps() {
        var c = RoutingTestConfig()
        c.provider("a", models: ["ma"])
        c.provider("b", models: ["mb"])
        c.provider("c", models: ["mc"])
        c.exact("ma", "a", fallback: "c")
        c.exact("mb", "b")
        c.chain("ma", ["mb"])
        let plan = Router(config: c.config).plan(for: "ma", state: state)
        #expect(plan.summary == ["a/ma", "b/mb", "c/mc"])
        #expect(plan.steps.map(\.scope) == [.gateway, .gateway, .aishOnly])
        #expect(plan.steps[2].reason == "fallback provider of 'ma'; c does not list 'ma', so its first model mc")
    }

    @Test func defaultFallbacksOnlyForANameWithoutAnEntry() {
        var c = RoutingTestConfig()
        c.provider("p", models: ["a", "b", "d"])
        for m in ["a", "b", "d"] { c.exact(m, "p") }
        c.chain("a", ["b"])
        c.chain("default", ["d"])
        let router = Router(config: c.config)
        #expect(router.plan(for: "a", state: state).summary == ["p/a", "p/b"])
        #expect(router.plan(for: "b", state: state).summary == ["p/b", "p/d"])
        #expect(router.plan(for: "b", state: state).steps[1].reason == "default fallback chain step 1 'd': exact match 'd'")
    }

    @Test func capabilityIsAnAliasOfItsFirstDeployedModel() {
        let plan = router.plan(for: "code", state: state)
        #expect(plan.rule == .capability)
        // code → huge (model_group_alias); then code's own entry: the other preferred models.
        #expect(plan.summary.prefix(3) == ["cloud/huge", "gpu/Qwen/Coder-AWQ", "local/small"])
        #expect(plan.steps[0].reason == "'code' is an alias of 'huge': exact match 'huge'")
        #expect(plan.steps[1].reason == "capability 'code' fallbacks step 1 'coder': exact match 'coder'")
    }

    @Test func patternsSendTheRequestedNameAndSkipDisabledProviders() {
        let plan = router.plan(for: "Qwen/Other-7B", state: state)
        #expect(plan.rule == .pattern)
        #expect(plan.ruleDescription == "pattern '^Qwen/.*'")
        // Then the default chain, recursively: mid, small, then mid's own chain (huge, and huge's coder).
        #expect(plan.summary == ["gpu/Qwen/Other-7B", "local/Qwen/Other-7B", "cloud/mid", "local/small", "cloud/huge",
                                 "gpu/Qwen/Coder-AWQ"])

        let dolphin = router.plan(for: "dolphin/uncensored", state: state)
        #expect(dolphin.summary.first == "!off/dolphin/uncensored")
        #expect(dolphin.steps[0].unusable == "provider off is disabled (providers.yaml:40:3)")
        #expect(dolphin.usableSteps.first?.provider == "local")
    }

    @Test func firstPatternInFileOrderWins() {
        // "Qwen/x:7b" matches both ^Qwen/ and the size pattern; ^Qwen/ comes first.
        #expect(router.plan(for: "Qwen/x:7b", state: state).steps[0].provider == "gpu")
        #expect(router.plan(for: "phi3:3B", state: state).ruleDescription == "pattern '.*:\\d+[bB]$'")
    }

    @Test func unknownNamesGoToTheDefaultProviderAndItsFallback() {
        let plan = router.plan(for: "mystery", state: state)
        #expect(plan.rule == .defaultProvider)
        #expect(plan.summary == ["local/mystery", "cloud/mystery", "cloud/mid", "local/small", "cloud/huge",
                                 "gpu/Qwen/Coder-AWQ"])
        #expect(plan.steps[0].reason == "routing_rules.default_provider")
        #expect(plan.steps[1].reason == "routing_rules.default_fallback")
        #expect(plan.steps[2].reason == "default fallback chain step 1 'mid' (exact match, model-mappings.yaml:5:3)")
    }

    @Test func noDefaultProviderGivesAnEmptyPlanThatSaysSo() {
        var c = RoutingTestConfig()
        c.provider("a")
        let plan = Router(config: c.config).plan(for: "x", state: state)
        #expect(plan.steps.isEmpty)
        #expect(plan.ruleDescription == "no rule matches 'x' and routing_rules.default_provider is not set")
    }

    @Test func unknownProvidersAreShownAsNeverTried() {
        var c = RoutingTestConfig()
        c.provider("a", models: ["m"])
        c.exact("m", "typo", fallback: "a")
        let plan = Router(config: c.config).plan(for: "m", state: state)
        #expect(plan.summary == ["!typo/m", "a/m"])
        #expect(plan.steps[0].unusable == "provider 'typo' is not in providers.yaml")
    }

    /// Names the gateway has no model group for: aish sends them itself and still walks their
    /// own chain the gateway's way (depth first, each group once), all of it "aish only"; the
    /// default chain only for a name without a chain; then the provider-level fallback.
    static func unservedConfig() -> AishConfig {
        var c = RoutingTestConfig()
        c.provider("gw", models: ["m1"], type: .litellm)
        c.provider("a", models: ["ma"])
        c.provider("b", models: ["mb"])
        c.provider("c", models: ["mc"])
        c.provider("d", models: ["md"])
        c.provider("off", models: ["x"], status: .disabled)
        for (m, p) in [("ma", "a"), ("mb", "b"), ("mc", "c")] { c.exact(m, p) }
        c.exact("gm", "gw", backend: "m1", fallback: "d")
        c.exact("xo", "off", fallback: "d")
        c.exact("plain", "off", fallback: "d")
        c.exact("stop", "off", fallback: "d")
        c.chain("gm", ["mb", "ma"])
        c.chain("xo", ["mb", "ma"])
        c.chain("stop", [])
        c.chain("mb", ["mc"])
        c.chain("default", ["mc"])
        return c.config
    }

    @Test func exactMatchOnTheGatewayItselfWalksItsOwnChain() {
        let plan = Router(config: Self.unservedConfig()).plan(for: "gm", state: state)
        #expect(!plan.isGatewayName)
        #expect(plan.summary == ["gw/m1", "b/mb", "c/mc", "a/ma", "d/md"])
        #expect(plan.steps.allSatisfy { $0.scope == .aishOnly })
        #expect(plan.steps[1].reason == "fallback_chains['gm'] step 1 'mb': exact match 'mb'")
        #expect(plan.steps[2].reason == "fallback_chains['mb'] step 1 'mc': exact match 'mc'")
        #expect(plan.steps[3].reason == "fallback_chains['gm'] step 2 'ma' (resumed after 'mc', which has no entry of its own): exact match 'ma'")
        #expect(plan.steps[4].reason.hasPrefix("fallback provider of 'gm'"))
    }

    @Test func exactMatchOnADisabledProviderWalksItsOwnChain() {
        let plan = Router(config: Self.unservedConfig()).plan(for: "xo", state: state)
        #expect(!plan.isGatewayName)
        #expect(plan.summary == ["!off/xo", "b/mb", "c/mc", "a/ma", "d/md"])
        #expect(plan.steps.allSatisfy { $0.scope == .aishOnly })
        #expect(plan.usableSteps.first?.provider == "b")
    }

    @Test func unservedNameWithoutAChainTakesTheDefaultChainAndAnEmptyChainNone() {
        let router = Router(config: Self.unservedConfig())
        let plain = router.plan(for: "plain", state: state)
        #expect(plain.summary == ["!off/plain", "c/mc", "d/md"])
        #expect(plain.steps[1].reason == "default fallback chain step 1 'mc': exact match 'mc'")
        #expect(plain.steps.allSatisfy { $0.scope == .aishOnly })
        // `chain: []` says "no fallbacks", as it does to the gateway: only the provider-level one.
        #expect(router.plan(for: "stop", state: state).summary == ["!off/stop", "d/md"])
    }
}

@Suite struct LoadBalancingTests {
    static func config(strategy: String, weights: (Double, Double) = (0.7, 0.3)) -> AishConfig {
        var c = RoutingTestConfig()
        c.provider("ollama", models: ["llama3.1:latest"])
        c.provider("llamacpp", models: ["llama-cpp-default"])
        c.exact("llama3.1:latest", "ollama")
        c.exact("llama-cpp-default", "llamacpp")
        c.balance("llama3.1:latest", [("ollama", weights.0), ("llamacpp", weights.1)], strategy: strategy)
        c.balance("pool", [("ollama", 0.5), ("llamacpp", 0.5)], strategy: strategy)
        c.chain("llama3.1:latest", ["llama-cpp-default"])
        return c.config
    }

    @Test func weightedRoundRobinHonoursWeightsExactlyOverEachWindow() {
        let router = Router(config: Self.config(strategy: "weighted_round_robin"))
        let state = RouterState(clock: { Date() }, seed: 1)
        var firsts: [String] = []
        var counts: [String: Int] = [:]
        for _ in 0..<10_000 {
            let p = router.plan(for: "llama3.1:latest", state: state).steps[0].provider
            firsts.append(p)
            counts[p, default: 0] += 1
        }
        #expect(counts["ollama"] == 7000)
        #expect(counts["llamacpp"] == 3000)
        // Every window of 10 consecutive picks holds exactly 7 and 3 (smooth, interleaved).
        for start in stride(from: 0, to: 10_000, by: 10) {
            #expect(firsts[start..<start + 10].filter { $0 == "ollama" }.count == 7)
        }
        #expect(Array(firsts.prefix(10)) == ["ollama", "llamacpp", "ollama", "ollama", "ollama", "llamacpp", "ollama",
                                             "ollama", "llamacpp", "ollama"])
    }

    @Test func unevenWeightsStayWithinOnePercent() {
        let router = Router(config: Self.config(strategy: "weighted_round_robin", weights: (0.123, 0.877)))
        let state = RouterState()
        var ollama = 0
        for _ in 0..<10_000 where router.plan(for: "llama3.1:latest", state: state).steps[0].provider == "ollama" { ollama += 1 }
        #expect(abs(Double(ollama) / 10_000 - 0.123) < 0.01)
    }

    @Test func theOtherMembersFollowThePickThenTheChain() {
        let router = Router(config: Self.config(strategy: "weighted_round_robin"))
        let state = RouterState()
        let first = router.plan(for: "llama3.1:latest", state: state)
        #expect(first.summary == ["ollama/llama3.1:latest", "llamacpp/llama-cpp-default"])
        #expect(first.decision == .weightedRoundRobin(pick: 0))
        #expect(first.decisionText == "weighted_round_robin: smooth weighted round robin picked ollama")
        #expect(first.steps[1].reason == "load balancing 'llama3.1:latest' member llamacpp (weight 0.3)")
        let second = router.plan(for: "llama3.1:latest", state: state)
        #expect(second.summary == ["llamacpp/llama-cpp-default", "ollama/llama3.1:latest"])
    }

    @Test func previewDoesNotMoveTheRoundRobin() {
        let router = Router(config: Self.config(strategy: "weighted_round_robin"))
        let state = RouterState()
        for _ in 0..<5 { #expect(router.plan(for: "llama3.1:latest", state: state, advance: false).steps[0].provider == "ollama") }
        _ = router.plan(for: "llama3.1:latest", state: state)
        #expect(router.plan(for: "llama3.1:latest", state: state, advance: false).steps[0].provider == "llamacpp")
    }

    @Test func weightedShuffleIsSeedableAndFollowsTheWeights() {
        let router = Router(config: Self.config(strategy: "weighted_shuffle"))
        func picks(seed: UInt64) -> [String] {
            let state = RouterState(clock: { Date() }, seed: seed)
            return (0..<100_000).map { _ in router.plan(for: "llama3.1:latest", state: state).steps[0].provider }
        }
        let a = picks(seed: 7)
        #expect(a == picks(seed: 7))
        #expect(a != picks(seed: 8))
        #expect(abs(Double(a.filter { $0 == "ollama" }.count) / 100_000 - 0.7) < 0.01)
    }

    @Test func leastLoadedPicksFewestInFlight() {
        let router = Router(config: Self.config(strategy: "least_loaded"))
        let state = RouterState()
        #expect(router.plan(for: "pool", state: state).steps[0].provider == "ollama")
        let t = state.begin(provider: "ollama", routeKey: "pool")
        let plan = router.plan(for: "pool", state: state)
        #expect(plan.steps[0].provider == "llamacpp")
        #expect(plan.decisionText == "least_loaded: llamacpp has the fewest requests in flight (0)")
        state.finish(t, outcome: .success(ttftMs: 10, totalMs: 20), rules: SpecialCases())
        #expect(router.plan(for: "pool", state: state).steps[0].provider == "ollama")
    }

    @Test func fastestResponseTriesUnmeasuredFirstThenLowestRecentLatency() {
        let router = Router(config: Self.config(strategy: "fastest_response"))
        let state = RouterState()
        func run(_ p: String, _ ms: Double) {
            state.finish(state.begin(provider: p, routeKey: "pool"), outcome: .success(ttftMs: ms, totalMs: ms * 2),
                         rules: SpecialCases())
        }
        run("ollama", 300)
        #expect(router.plan(for: "pool", state: state).steps[0].provider == "llamacpp")   // not measured yet
        run("llamacpp", 100)
        #expect(router.plan(for: "pool", state: state).decisionText == "fastest_response: llamacpp has the lowest recent latency (100 ms)")
        // Smoothed: one slow answer does not undo the history at once (100 → 100 + 0.3·(400−100) = 190).
        run("llamacpp", 400)
        #expect(state.recentLatencyMs(provider: "llamacpp") == 190)
        #expect(router.plan(for: "pool", state: state).steps[0].provider == "llamacpp")
        run("llamacpp", 900)
        #expect(router.plan(for: "pool", state: state).steps[0].provider == "ollama")
    }

    @Test func strategiesAndConditionsNotEvaluatedAreSaid() {
        var c = RoutingTestConfig()
        c.provider("a", models: ["ma"])
        c.provider("b", models: ["mb"])
        c.balance("code-generation", [("a", 0.5), ("b", 0.5)], strategy: "adaptive_weighted",
                  preferred: ["b": "special"], conditions: ["a": "request_count > 5 OR batch_mode"])
        let plan = Router(config: c.config).plan(for: "code-generation", state: RouterState())
        #expect(plan.rule == .loadBalancing)
        #expect(plan.notes == [
            "load balancing 'code-generation': condition \"request_count > 5 OR batch_mode\" on a (model-mappings.yaml:2:3) is not evaluated by aish",
            "load balancing 'code-generation': strategy 'adaptive_weighted' (model-mappings.yaml:2:3) is not evaluated by aish; it picks by smooth weighted round robin over the listed weights",
        ])
        // preferred_model is sent; without one, the provider's first model stands in for the alias.
        #expect(plan.summary == ["a/ma", "b/special"])
    }

    @Test func integerWeightsKeepRatios() {
        #expect(RouteCompiler.integerWeights([0.7, 0.3]) == [7, 3])
        #expect(RouteCompiler.integerWeights([0.5, 0.3, 0.2]) == [5, 3, 2])
        #expect(RouteCompiler.integerWeights([0.6, 0.4]) == [3, 2])
        #expect(RouteCompiler.integerWeights([2, 0]) == [1, 0])
        #expect(RouteCompiler.integerWeights([0, 0]) == [1, 1])
    }
}

@Suite struct CapabilityStrategyTests {
    static func config() -> AishConfig {
        var c = RoutingTestConfig()
        c.provider("local", models: ["small", "coder"], contextLengths: [2048, 8192])
        c.provider("cloud", models: ["big", "huge"])
        c.provider("fast", models: ["f1"])
        c.provider("slow", models: ["s1"], contextLengths: [32768])
        for m in ["small", "coder"] { c.exact(m, "local") }
        for m in ["big", "huge"] { c.exact(m, "cloud") }
        c.capability("code", models: ["big", "coder", "small"], strategy: "complexity_based",
                     complexity: [("high", "big"), ("medium", "coder"), ("low", "small")])
        c.capability("analytical", models: ["huge", "small"], strategy: "context_based",
                     context: [("large", "huge"), ("complex", "big"), ("standard", "small")])
        c.capability("large_context", models: ["huge", "coder", "slow"], strategy: "most_capacity", minContext: 8192)
        c.capability("low_latency", provider: "fast", fallback: "slow", strategy: "fastest_response")
        c.capability("chat", models: ["small", "big"], strategy: "usage_based")
        c.capability("odd", models: ["small", "big"], strategy: "quality_based")
        return c.config
    }

    let router = Router(config: CapabilityStrategyTests.config())

    @Test func capabilitiesTryTheirModelsInTheGatewaysOrderWhateverThePromptSize() {
        let state = RouterState()
        func firsts(_ name: String, _ input: RoutingInput) -> [String] {
            router.plan(for: name, input: input, state: state).steps.map(\.backendModel)
        }
        // The gateway serves code as an alias of big, then code's other preferred models.
        for chars in [0, 200, 404] {
            #expect(firsts("code", RoutingInput(prompt: String(repeating: "a", count: chars))) == ["big", "coder", "small"])
        }
        let plan = router.plan(for: "code", input: RoutingInput(prompt: String(repeating: "a", count: 404)), state: state)
        #expect(plan.decisionText == "complexity_based: prompt ≈ 101 tokens → high (low < 50, medium 50–100, high > 100)")
        #expect(firsts("analytical", RoutingInput(promptTokens: 10, contextTokens: 5000)) == ["huge", "small"])
        #expect(router.plan(for: "analytical", input: RoutingInput(prompt: "hi"), state: state).steps.allSatisfy { $0.scope == .gateway })
    }

    @Test func aProviderCapabilityIsAnAliasOfTheNamesRoutedToIt() {
        let plan = router.plan(for: "large_context", state: RouterState())
        #expect(plan.summary.first == "cloud/huge")
        #expect(plan.steps.first?.scope == .gateway)
        #expect(plan.notes.contains("the gateway serves 'large_context' as model_group_alias of 'huge'"))
    }

    @Test func dynamicCapabilityStrategiesAreSaidNotApplied() {
        let plan = router.plan(for: "chat", state: RouterState())
        #expect(plan.summary == ["local/small", "cloud/big"])
        #expect(plan.notes.contains("capability 'chat': routing_strategy 'usage_based' is not evaluated by aish; the preferred models are tried in order, as the gateway does"))
    }

    @Test func directLoadBalancingTakesTheFirstMember() {
        var c = RoutingTestConfig()
        c.provider("x", models: ["mx"])
        c.provider("y", models: ["my"])
        c.balance("pair", [("x", 0.2), ("y", 0.8)], strategy: "direct")
        let router = Router(config: c.config)
        let state = RouterState()
        for _ in 0..<3 { #expect(router.plan(for: "pair", state: state).summary == ["x/mx", "y/my"]) }
    }

    @Test func unknownCapabilityStrategyIsSaid() {
        let plan = router.plan(for: "odd", state: RouterState())
        #expect(plan.summary == ["local/small", "cloud/big"])
        #expect(plan.notes.contains("capability 'odd': routing_strategy 'quality_based' is not evaluated by aish; the preferred models are tried in order, as the gateway does"))
    }
}

@Suite struct RouterStateTests {
    static func config(rpm: Int? = nil, tpm: Int? = nil, providerRPM: Int? = nil) -> AishConfig {
        var c = RoutingTestConfig()
        c.provider("a", models: ["ma"], rpm: providerRPM)
        c.provider("b", models: ["mb"])
        c.exact("ma", "a", fallback: "b", rpm: rpm, tpm: tpm)
        c.mappings.specialCases.errorThreshold = 3
        c.mappings.specialCases.cooldownSeconds = 300
        c.mappings.specialCases.rateLimitedFallbackSeconds = 60
        return c.config
    }

    let clock = ManualClock()
    var state: RouterState { RouterState(clock: { [clock] in clock.now }, seed: 1) }

    @Test func threeFailuresInARowCoolDownThenRecover() {
        let router = Router(config: Self.config())
        let state = self.state
        let step = router.plan(for: "ma", state: state).steps[0]
        func fail() {
            state.finish(state.begin(provider: "a", routeKey: "ma"), outcome: .failure(.connectionFailed), rules: router.specialCases)
        }
        fail(); fail()
        #expect(router.availability(of: step, state: state) == .available)
        #expect(state.consecutiveFailures(provider: "a") == 2)
        fail()
        let until = clock.now.addingTimeInterval(300)
        #expect(router.availability(of: step, state: state)
                == .cooledDown(until: until, reason: "3 failures in a row (error_threshold 3, cooldown_seconds 300)"))
        clock.advance(299)
        #expect(router.availability(of: step, state: state) != .available)
        clock.advance(1)
        #expect(router.availability(of: step, state: state) == .available)
    }

    @Test func aSuccessResetsTheCountAndClientErrorsDoNotCount() {
        let router = Router(config: Self.config())
        let state = self.state
        let rules = router.specialCases
        func end(_ o: RouterState.Outcome) { state.finish(state.begin(provider: "a", routeKey: "ma"), outcome: o, rules: rules) }
        end(.failure(.http(status: 500)))
        end(.failure(.firstByteTimeout))
        end(.success(ttftMs: 5, totalMs: 9))
        end(.failure(.http(status: 503)))
        end(.failure(.http(status: 404)))
        end(.failure(.missingAPIKey))
        end(.cancelled)
        #expect(state.consecutiveFailures(provider: "a") == 1)
    }

    @Test func a429CoolsDownForRetryAfterElseTheConfiguredDuration() {
        let router = Router(config: Self.config())
        let state = self.state
        let step = router.plan(for: "ma", state: state).steps[0]
        state.finish(state.begin(provider: "a", routeKey: "ma"), outcome: .failure(.rateLimited(retryAfter: 7)),
                     rules: router.specialCases)
        #expect(router.availability(of: step, state: state)
                == .cooledDown(until: clock.now.addingTimeInterval(7), reason: "answered 429, Retry-After 7s"))
        clock.advance(7)
        #expect(router.availability(of: step, state: state) == .available)
        state.finish(state.begin(provider: "a", routeKey: "ma"), outcome: .failure(.rateLimited(retryAfter: nil)),
                     rules: router.specialCases)
        #expect(router.availability(of: step, state: state)
                == .cooledDown(until: clock.now.addingTimeInterval(60),
                               reason: "answered 429 (rate_limited_fallback.fallback_duration_seconds 60s)"))
    }

    @Test func routeRPMIsASlidingWindow() {
        let router = Router(config: Self.config(rpm: 2))
        let state = self.state
        let plan = router.plan(for: "ma", state: state)
        #expect(plan.steps[0].routeLimit?.rpm == 2)
        _ = state.begin(plan.steps[0])
        clock.advance(30)
        _ = state.begin(plan.steps[0])
        let first = clock.now.addingTimeInterval(-30)
        #expect(router.availability(of: plan.steps[0], state: state)
                == .rateLimited(until: first.addingTimeInterval(60), reason: "route 'ma' is at its limit of 2 requests per minute"))
        // The fallback on provider b is not held to the limit of ma on a.
        #expect(plan.steps[1].routeKey == "ma")
        #expect(router.availability(of: plan.steps[1], state: state) == .available)
        clock.advance(30)
        #expect(router.availability(of: plan.steps[0], state: state) == .available)
    }

    @Test func providerRPM() {
        let router = Router(config: Self.config(providerRPM: 1))
        let state = self.state
        let step = router.plan(for: "ma", state: state).steps[0]
        let t = state.begin(provider: "a", routeKey: "other")
        #expect(router.availability(of: step, state: state)
                == .rateLimited(until: clock.now.addingTimeInterval(60), reason: "provider a is at its limit of 1 requests per minute"))
        state.finish(t, outcome: .success(ttftMs: 1, totalMs: 1), tokens: 10, rules: router.specialCases)
        clock.advance(60)
        #expect(router.availability(of: step, state: state) == .available)
    }

    @Test func routeTPM() {
        let router = Router(config: Self.config(tpm: 100))
        let state = self.state
        let step = router.plan(for: "ma", state: state).steps[0]
        state.finish(state.begin(step), outcome: .success(ttftMs: 1, totalMs: 1), tokens: 120, rules: router.specialCases)
        #expect(router.availability(of: step, state: state)
                == .rateLimited(until: clock.now.addingTimeInterval(60), reason: "route 'ma' used 120 of its 100 tokens per minute"))
        clock.advance(60)
        #expect(router.availability(of: step, state: state) == .available)
    }
}

@Suite struct PatternIndexTests {
    @Test func literalPrefixesAndSuffixes() {
        func lit(_ p: String) -> String {
            let (a, b) = PatternIndex.literals(of: p)
            return String(decoding: a, as: UTF8.self) + "|" + String(decoding: b, as: UTF8.self)
        }
        #expect(lit("^Qwen/Qwen2\\.5-Coder.*") == "Qwen/Qwen2.5-Coder|")
        #expect(lit("^solidrust/dolphin.*AWQ$") == "solidrust/dolphin|AWQ")
        #expect(lit(".*:\\d+[bB]$") == "|")
        #expect(lit(".*\\.gguf$") == "|.gguf")
        #expect(lit("^abc?d") == "ab|")
        #expect(lit("^ab+") == "ab|")
        #expect(lit("^a|b$") == "|")
        #expect(lit("(?i)^abc") == "|")
        #expect(lit("x\\$") == "|")
        #expect(lit("^\\d+x$") == "|x")
    }

    @Test func indexAgreesWithPlainRegexMatchingOnTheSyntheticConfig() throws {
        let config = SyntheticRoutingConfig.make(exactRoutes: 100, patterns: 300)
        let patterns = config.mappings.patterns.map(\.pattern)
        let index = PatternIndex(patterns: patterns)
        let regexes = try patterns.map { try NSRegularExpression(pattern: $0) }
        var names = SyntheticRoutingConfig.sampleNames(count: 900, exactRoutes: 100, patterns: 300)
        names += ["vendor15/x-v1", "vendor15/X-v1", "vendor150/a-v2", "zz.q5.gguf", "zz.q5.ggu", "m:7x0b", ""]
        var matched = 0
        for n in names {
            let expected = regexes.firstIndex { $0.firstMatch(in: n, range: NSRange(location: 0, length: n.utf16.count)) != nil }
            #expect(index.firstMatch(n) == expected, "\(n)")
            if expected != nil { matched += 1 }
        }
        #expect(matched > 300)
    }

    @Test func aBadPatternNeverMatchesAndIsNoted() {
        var c = RoutingTestConfig()
        c.provider("a")
        c.pattern("^bad(", "a")
        c.pattern("^bad.*", "a")
        c.defaults(provider: "a")
        let router = Router(config: c.config)
        let plan = router.plan(for: "bad(x", state: RouterState())
        #expect(plan.ruleDescription == "pattern '^bad.*'")
        #expect(plan.notes.count == 1)
        #expect(plan.notes[0].hasPrefix("pattern '^bad(' does not compile: "))
        #expect(plan.notes[0].hasSuffix(" (model-mappings.yaml:2:3); it never matches"))
    }
}

@Suite struct SyntheticConfigTests {
    @Test func largeConfigRoutesEveryKindOfName() {
        let router = Router(config: SyntheticRoutingConfig.make(exactRoutes: 2_000, patterns: 200))
        let state = RouterState()
        let names = SyntheticRoutingConfig.sampleNames(count: 300, exactRoutes: 2_000, patterns: 200)
        var rules: [RouteRuleKind: Int] = [:]
        for n in names {
            let plan = router.plan(for: n, state: state)
            rules[plan.rule, default: 0] += 1
            #expect(!plan.steps.isEmpty)
            let keys = plan.steps.map { $0.provider + "/" + $0.backendModel }
            #expect(Set(keys).count == keys.count, "duplicate step in plan for \(n)")
        }
        // Asked again (now from the memo), every name gets the same plan.
        for n in names {
            let again = router.plan(for: n, state: state)
            #expect(again.summary == router.plan(for: n, state: state).summary)
            #expect(again.requestedModel == n)
        }
        #expect(rules[.exactMatch] == 100)
        #expect(rules[.pattern] == 100)
        #expect(rules[.defaultProvider] == 100)
    }
}

@Suite struct PatternMatcherTests {
    static let patterns = [
        "^Qwen/Qwen2\\.5-Coder.*", "^solidrust/dolphin.*AWQ$", "^meta-llama/.*", ".*:\\d+[bB]$", ".*\\.gguf$",
        "coder", "^a.c$", "^[a-c]+x?$", "^[^/]+/[^/]+$", "\\w+-\\d{1,3}b$", "^x{2,}y{0,1}$", "^[\\d.]+$", "^[-a]+$",
        "^\\s*$", "[A-Z]\\W", "^.{3}$", "^ab{2}c$", "b+$", "^$", "[\\]x]",
    ]
    static let names = [
        "Qwen/Qwen2.5-Coder-7B", "Qwen/Qwen2x5-Coder", "solidrust/dolphin-2.8-AWQ", "solidrust/dolphin-2.8-AWQx",
        "meta-llama/Llama-3", "llama3:8b", "llama3:8B", "llama3:b", "model.gguf", "model.ggufx", "mycoder", "abc", "a.c",
        "abx", "aaacx", "a/b", "a/b/c", "mistral-7b", "x-1234b", "xx", "xxxy", "xy", "1.2.3", "--a", " ", "", "A-", "Ab",
        "abc", "abbc", "abbbc", "ab", "]",
    ]

    @Test func agreesWithNSRegularExpression() throws {
        for p in Self.patterns {
            let fast = try #require(PatternMatcher(p), "\(p) should be handled")
            let regex = try NSRegularExpression(pattern: p)
            for n in Self.names {
                let expected = regex.firstMatch(in: n, range: NSRange(location: 0, length: n.utf16.count)) != nil
                var copy = n
                let got = copy.withUTF8 { fast.matches($0) }
                #expect(got == expected, "pattern \(p) on '\(n)'")
            }
        }
    }

    @Test func leavesOtherSyntaxToICU() {
        for p in ["(a|b)", "a|b", "a*?", "a++", "(?i)abc", "\\bword", "\\p{L}", "[[:alpha:]]", "a$b", "x^", "é"] {
            #expect(PatternMatcher(p) == nil, "\(p)")
        }
    }
}
