import Foundation
@testable import AishBase
@testable import AishCommand

/// Keeps what a command records, so tests can check it (the real SQLite log is tested by
/// the session log's own tests).
final class RecordingRecorder: SessionRecorder, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var attempts: [AttemptRecord] = []
    private(set) var runs: [RunRecord] = []
    private(set) var metricSamples: [MetricSampleRecord] = []
    private(set) var benchLevels: [BenchLevelRecord] = []
    /// The size of each `recordAttempts` batch, in order.
    private(set) var attemptBatches: [Int] = []
    /// How long each `recordAttempts` batch takes: a log slower than the load.
    var batchDelay = 0.0

    func beginCommand(text: String, sourceFile: String?, line: Int?) -> Int64? { nil }
    func endCommand(id: Int64?, record: CommandRecord) {}
    func recordAttempt(_ record: AttemptRecord) { lock.withLock { attempts.append(record) } }
    func recordAttempts(_ records: [AttemptRecord]) {
        if batchDelay > 0 { usleep(UInt32(batchDelay * 1e6)) }
        lock.withLock {
            attempts += records
            attemptBatches.append(records.count)
        }
    }
    func recordMessage(_ record: MessageRecord) {}
    func recordHealthProbe(_ record: HealthProbeRecord) {}
    func recordRun(_ record: RunRecord) -> Int64? { lock.withLock { runs.append(record); return Int64(runs.count) } }
    func recordBenchRun(_ record: RunRecord, levels: [BenchLevelRecord]) -> Int64? {
        lock.withLock {
            runs.append(record)
            benchLevels += levels
            return Int64(runs.count)
        }
    }
    func recordServiceAction(_ record: ServiceActionRecord) {}
    func recordMetricSamples(_ records: [MetricSampleRecord]) { lock.withLock { metricSamples += records } }
    func endSession() {}
}
