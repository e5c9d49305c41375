import FoundationEssentials
import Glibc
import AishBase
import AishSQLite

/// A bench run as the log keeps it in `runs`: what `bench --compare` reads back.
package struct LoggedBenchRun: Sendable {
    package var id: Int64
    package var parameters: JSONValue
    package var summary: JSONValue
}

extension SessionLogReader {
    /// The bench run with this id, or with `id` nil the newest bench run of `model`.
    package func benchRun(id: Int64?, model: String) throws -> LoggedBenchRun? {
        let s: Statement
        if let id {
            s = try db.prepare("SELECT id, parameters, summary FROM runs WHERE kind = 'bench' AND id = ?")
            try s.bind([.int(id)])
        } else {
            s = try db.prepare("SELECT id, parameters, summary FROM runs WHERE kind = 'bench' AND json_extract(parameters, '$.model') = ? ORDER BY id DESC LIMIT 1")
            try s.bind([.text(model)])
        }
        guard try s.step() else { return nil }
        return LoggedBenchRun(id: s.int64(0), parameters: (try? JSONValue.parse(s.string(1))) ?? .null,
                              summary: (try? JSONValue.parse(s.string(2))) ?? .null)
    }
}
