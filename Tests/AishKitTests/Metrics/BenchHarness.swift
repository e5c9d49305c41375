import Foundation
@testable import AishBase
@testable import AishCommand
@testable import AishConfig
@testable import AishMeasure

/// How the bench suites run `bench`: straight to a fake server (no config, no router), in a
/// context that captures its output.
enum BenchHarness {
    static func requester(_ server: MetricsTestServer, _ type: ProviderType = .llamaCpp, envVar: String? = nil) -> ModelRequester {
        ModelRequester.direct(provider: MetricsTestConfig.provider("fake", type, server.baseURL, envVar: envVar),
                              backendModel: "fake-model", environment: [:])
    }

    static func run(_ words: [String], _ requester: ModelRequester, recorder: RecordingRecorder? = nil) throws -> CommandResult {
        let ctx = ShellContext(output: OutputSink(capturing: true), interrupt: InterruptFlag(), environment: [:])
        ctx.recorder = recorder
        return try BenchCommand.run(try BenchCommand.spec.parse(words: words, line: "bench", location: nil), ctx,
                                    requester: requester)
    }

    /// The report's levels, in order.
    static func levels(_ r: CommandResult) -> [JSONValue] {
        guard case let .array(levels)? = r.data?["levels"] else { return [] }
        return levels
    }
}
