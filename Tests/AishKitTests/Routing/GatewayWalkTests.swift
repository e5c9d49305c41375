import Foundation
import Testing
@testable import AishBase
@testable import AishConfig
@testable import AishRouting

/// The gateway's order (measured on LiteLLM 1.108.7 by Tests/Differential), case by case.
@Suite struct GatewayWalkTests {
    static func names(_ c: RoutingTestConfig, _ name: String) -> [String] {
        GatewayWalk.walk(name, GatewayConfig(c.config)).groups.map(\.name)
    }

    static func chainConfig() -> RoutingTestConfig {
        var c = RoutingTestConfig()
        c.provider("p", models: ["A", "B", "C", "D", "E", "F", "G"])
        for m in ["A", "B", "C", "D", "E", "F", "G"] { c.exact(m, "p") }
        return c
    }

    @Test func nestingStopsAtMaxFallbacks() {
        var c = Self.chainConfig()
        for (a, b) in zip(["A", "B", "C", "D", "E", "F"], ["B", "C", "D", "E", "F", "G"]) { c.chain(a, [b]) }
        // A is depth 0, F depth 5: F's own fallbacks are not walked.
        #expect(Self.names(c, "A") == ["A", "B", "C", "D", "E", "F"])
        // Siblings are all tried: the limit is checked when a walk starts, not per step.
        var wide = Self.chainConfig()
        wide.chain("A", ["B", "C", "D", "E", "F", "G"])
        #expect(Self.names(wide, "A") == ["A", "B", "C", "D", "E", "F", "G"])
    }

    @Test func depthFirstAndEachGroupOnce() {
        var c = Self.chainConfig()
        c.chain("A", ["B", "C"])
        c.chain("B", ["D", "A"])
        #expect(Self.names(c, "A") == ["A", "B", "D", "C"])
    }

    @Test func aStepWithoutAnEntryResumesTheRequestedNamesEntry() {
        var c = Self.chainConfig()
        c.chain("A", ["B", "C"])
        c.chain("default", ["E"])
        // B has no entry: the gateway looks up A's (all attempted), never the default list.
        #expect(Self.names(c, "A") == ["A", "B", "C"])
        #expect(Self.names(c, "B") == ["B", "E"])
    }

    @Test func everyFurtherDeploymentOfALoadBalancedGroupIsOneLevelDeeper() {
        var c = Self.chainConfig()
        c.provider("q", models: ["L1"])
        c.provider("r", models: ["L2"])
        c.balance("L", [("q", 0.5), ("r", 0.5)], strategy: "simple_shuffle")
        c.chain("L", ["A"])
        for (a, b) in zip(["A", "B", "C", "D"], ["B", "C", "D", "E"]) { c.chain(a, [b]) }
        let walk = GatewayWalk.walk("L", GatewayConfig(c.config))
        #expect(walk.groups.first?.picks == 2)
        // L's two deployments take depths 0 and 1, so A is at 2 and D at 5.
        #expect(walk.groups.map(\.name) == ["L", "A", "B", "C", "D"])
    }
}
