import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishSQLite

/// Why the log cannot be used; becomes "aish: session log unavailable: PATH: REASON".
package struct SessionLogUnavailable: UserFacingError {
    package var exitCode: ExitCode { .failure }
    package var reason: String
    package var description: String { reason }
}

/// The session log's write side over one read-write connection: opens (creating the file
/// 0600 and its directories 0700), migrates, and writes records. Not thread-safe by
/// itself: the recorder serialises access.
package final class SessionLog {
    package let path: String
    package let db: Database
    package private(set) var sessionID: Int64?
    /// The mode an existing log file had when it was readable by others (now 0600).
    package private(set) var tightenedFromMode: Int?

    /// Opens or creates the log at `path` and brings its schema up to date.
    package init(path: String, busyTimeoutMs: Int32 = 5000) throws {
        self.path = path
        try SessionLog.createFileIfMissing(path)
        tightenedFromMode = SessionLog.makePrivate(path)
        do {
            db = try Database(path: path, busyTimeoutMs: busyTimeoutMs)
        } catch let e as SQLiteError {
            throw SessionLog.unavailable(e)
        }
        if db.isReadOnly { throw SessionLogUnavailable(reason: "the file is read-only") }
        do {
            try SessionLog.enableWAL(db)
            try db.keepWALOnClose()
            try db.execute("PRAGMA synchronous = NORMAL")
            // The writer appends rows: a small page cache serves it (SQLite spills a large
            // row's pages to the WAL), and keeps a 1 MiB reply from costing 2 MiB of cache.
            try db.execute("PRAGMA cache_size = -256")
            try SessionLogSchema.migrate(db)
            try SessionLogSchema.tuneFullTextIndex(db)
        } catch let e as SQLiteError {
            throw SessionLog.unavailable(e)
        }
    }

    /// Turns SQLite's wording into a reason a user can act on.
    package static func unavailable(_ e: SQLiteError) -> SessionLogUnavailable {
        if e.isCorrupt { return SessionLogUnavailable(reason: "the file is not a valid SQLite database (\(e.message))") }
        if e.isReadOnly { return SessionLogUnavailable(reason: "the file is read-only") }
        if e.isBusy { return SessionLogUnavailable(reason: "the database is locked by another process") }
        return SessionLogUnavailable(reason: e.message)
    }

    /// WAL lets readers and one writer work at once, across processes. Switching a new
    /// file to WAL needs a brief exclusive lock, so a racing opener may see BUSY: retry.
    private static func enableWAL(_ db: Database) throws {
        let deadline = Date().addingTimeInterval(Double(db.busyTimeoutMs) / 1000 + 1)
        while true {
            do {
                let s = try db.prepare("PRAGMA journal_mode = WAL")
                _ = try s.step()
                let mode = s.string(0).lowercased()
                guard mode == "wal" else {
                    throw SessionLogUnavailable(reason: "cannot switch to WAL journal mode (got \(mode))")
                }
                return
            } catch let e as SQLiteError where e.isBusy && Date() < deadline {
                usleep(20_000)
            }
        }
    }

    /// Creates the parent directories (0700) and the file (0600) before SQLite opens it,
    /// so the log is private from its first byte; SQLite gives -wal and -shm the same mode.
    package static func createFileIfMissing(_ path: String) throws {
        let directory = PathText.deletingLastComponent(path)
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw SessionLogUnavailable(reason: "cannot create directory \(directory): \(SessionLog.describe(error))")
            }
        }
        let fd = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            close(fd)
            return
        }
        let code = errno
        if code == EEXIST { return }
        throw SessionLogUnavailable(reason: "cannot create the file: \(String(cString: strerror(code)))")
    }

    /// An existing log (and its -wal and -shm) that group or others can read or write is
    /// made 0600: it holds prompts and replies. Returns the main file's old mode when it
    /// changed, so the caller can say so (once: the next run finds it private).
    package static func makePrivate(_ path: String) -> Int? {
        var changed: Int?
        for (i, file) in [path, path + "-wal", path + "-shm"].enumerated() {
            var st = stat()
            guard lstat(file, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == getuid() else { continue }
            let mode = Int(st.st_mode & 0o777)
            guard mode & 0o077 != 0, chmod(file, 0o600) == 0 else { continue }
            if i == 0 || changed == nil { changed = changed ?? mode }
        }
        return changed
    }

    private static func describe(_ error: Error) -> String { describeFileError(error) }

    // MARK: - Writing

    package func beginSession(mode: String, scriptPath: String?, aishVersion: String, startedAt: Date = Date()) throws {
        var session = SessionRow()
        session.startedAt = LogTime.format(startedAt)
        session.mode = mode
        session.scriptPath = scriptPath
        session.aishVersion = aishVersion
        session.host = ProcessInfo.processInfo.hostName
        session.pid = Int(getpid())
        sessionID = try db.inTransaction {
            try db.cached(LogTables.sessions.insertSQL).run(LogTables.sessions.values(session, context))
            return db.lastInsertRowID
        }
    }

    package func endSession(at date: Date = Date()) throws {
        guard let sessionID else { return }
        var ended = SessionRow()
        ended.endedAt = LogTime.format(date)
        try db.inTransaction {
            if rowsSinceFold > 0 { try foldRollup() }
            try db.cached(LogTables.endSession.sql).run(LogTables.endSession.values(ended, id: sessionID, context))
        }
    }

    /// What rows written now point at.
    private var context: LogWriteContext { LogWriteContext(sessionID: sessionID) }

    /// Inserts a command as `running`; `finishCommand` completes it. A crash in between
    /// leaves a row that says so.
    package func beginCommand(text: String, sourceFile: String?, line: Int?, startedAt: Date) throws -> Int64 {
        var command = CommandRow()
        command.startedAt = LogTime.format(startedAt)
        command.text = text
        command.sourceFile = sourceFile
        command.line = line
        return try db.inTransaction {
            try db.cached(LogTables.commands.insertSQL).run(LogTables.commands.values(command, context))
            return db.lastInsertRowID
        }
    }

    package func finishCommand(id: Int64?, record: CommandRecord) throws {
        let command = CommandRow(id: id ?? 0, sessionID: sessionID, startedAt: LogTime.format(record.startedAt), text: record.text,
                                 sourceFile: record.sourceFile, line: record.line, status: record.status.rawValue,
                                 durationMs: record.durationMs, error: record.error)
        try db.inTransaction {
            if let id {
                try db.cached(LogTables.finishCommand.sql).run(LogTables.finishCommand.values(command, id: id, context))
                if db.changes == 1 { return }
            }
            try db.cached(LogTables.commands.insertSQL).run(LogTables.commands.values(command, context))
        }
    }

    package func insertAttempt(_ r: AttemptRecord, commandID: Int64?) throws {
        try db.inTransaction {
            try insertAttemptRow(r, commandID: commandID)
            rowsSinceFold += 1
            if rowsSinceFold >= SessionLog.rowsPerFold { try foldRollup() }
        }
    }

    /// How many attempts this connection writes between two folds into `attempt_rollup`.
    package static let rowsPerFold = 256
    private var rowsSinceFold = 0

    /// Folds attempts not yet in the daily histograms into them (see `SessionLogSchema.v3Rollup`).
    /// Call inside a write transaction.
    private func foldRollup() throws {
        let maxID = try db.cached("SELECT coalesce(max(id), 0) FROM attempts")
        _ = try maxID.step()
        let upTo = maxID.int64(0)
        maxID.reset()
        // The new rows read once, each row's bins worked out by SQLite (the same expression as
        // `foldRollupSQL`'s), and summed here: `foldRollupSQL`'s five grouped scans sorted the
        // rows five times, a third of the log writer's CPU time while bench runs.
        struct Key: Hashable { let day: String, model: String, provider: String, metric: Int, bin: Int }
        var sums: [Key: (n: Int, total: Double)] = [:]
        let scan = try db.cached(SessionLogSchema.foldScanSQL)
        try scan.bind(.int(upTo), at: 1)
        defer { scan.reset() }
        while try scan.step() {
            let day = scan.string(0), model = scan.string(1), provider = scan.string(2)
            func add(_ metric: Int, _ bin: Int, _ value: Double) {
                let key = Key(day: day, model: model, provider: provider, metric: metric, bin: bin)
                let sum = sums[key] ?? (0, 0)
                sums[key] = (sum.n + 1, sum.total + value)
            }
            let failed = scan.int(3) != 0, ok = scan.int(4) != 0, hit = scan.int(5) != 0
            add(0, failed ? 1 : 0, 0)
            if hit {
                add(4, 0, 0)
                continue
            }
            if !scan.isNull(6) { add(1, scan.int(7), scan.double(6)) }
            guard ok else { continue }
            if !scan.isNull(8) { add(2, scan.int(9), scan.double(8)) }
            if !scan.isNull(10) { add(3, 0, scan.double(10)) }
        }
        let upsert = try db.cached(SessionLogSchema.rollupUpsertSQL)
        for (key, sum) in sums {
            try upsert.run([.text(key.day), .text(key.model), .text(key.provider), .int(Int64(key.metric)), .int(Int64(key.bin)),
                            .int(Int64(sum.n)), .double(sum.total)])
        }
        try db.cached("UPDATE rollup_state SET covered_id = max(covered_id, ?1)").run([.int(upTo)])
        rowsSinceFold = 0
    }

    /// Folds what is left; at the end of a session.
    package func refreshRollup() throws {
        try db.inTransaction { try foldRollup() }
    }

    /// Many attempts in one transaction, many rows per INSERT statement. Rows per
    /// statement matter: every statement that fires the FTS trigger makes FTS5 flush its
    /// pending index data (at the statement's savepoint), so one row per statement is
    /// several times slower than hundreds. The path for bulk loads (benchmarks, imports).
    package func insertAttempts(_ records: [AttemptRecord], commandID: Int64? = nil) throws {
        try db.inTransaction {
            var start = 0
            while start < records.count {
                // Statements of a few sizes only, each prepared once: a statement of the
                // batch's own size cost as much to prepare for each row as to insert it.
                let left = records.count - start
                let n = SessionLog.insertSizes.first { $0 <= left } ?? 1
                let statement = try db.cached(AttemptColumns.table.insertSQL(rows: n))
                var index: Int32 = 1
                let context = LogWriteContext(sessionID: sessionID, commandID: commandID)
                for r in records[start..<(start + n)] {
                    for v in AttemptColumns.table.values(r, context) {
                        try statement.bind(v, at: index)
                        index += 1
                    }
                }
                while try statement.step() {}
                statement.reset()
                start += n
            }
            try foldRollup()
        }
    }

    /// 31 parameters a row: 12,400 a statement, under SQLite's default limit of 32,766.
    package static let rowsPerInsert = 400
    /// The rows a multi-row INSERT takes (a batch is cut into these, largest first).
    static let insertSizes = [rowsPerInsert, 64, 8, 1]

    private func insertAttemptRow(_ r: AttemptRecord, commandID: Int64?) throws {
        try db.cached(AttemptColumns.table.insertSQL)
            .run(AttemptColumns.table.values(r, LogWriteContext(sessionID: sessionID, commandID: commandID)))
    }

    package func insertMessage(_ r: MessageRecord) throws { try insert(r, into: LogTables.messages) }

    package func insertHealthProbe(_ r: HealthProbeRecord) throws { try insert(r, into: LogTables.healthProbes) }

    /// The run's row id (`log --runs`, `bench --compare RUN_ID`).
    package func insertRun(_ r: RunRecord) throws -> Int64 {
        try insert(r, into: LogTables.runs)
        return db.lastInsertRowID
    }

    /// A bench run and its levels in one transaction; the run's id.
    package func insertBenchRun(_ r: RunRecord, levels: [BenchLevelRecord]) throws -> Int64 {
        try db.inTransaction {
            try db.cached(LogTables.runs.insertSQL).run(LogTables.runs.values(r, context))
            let id = db.lastInsertRowID
            var c = context
            c.runID = id
            let statement = try db.cached(LogTables.benchLevels.insertSQL)
            for level in levels { try statement.run(LogTables.benchLevels.values(level, c)) }
            return id
        }
    }

    package func insertServiceAction(_ r: ServiceActionRecord) throws { try insert(r, into: LogTables.serviceActions) }

    package func insertMetricSamples(_ records: [MetricSampleRecord]) throws {
        guard !records.isEmpty else { return }
        try db.inTransaction {
            let statement = try db.cached(LogTables.metricSamples.insertSQL)
            for r in records { try statement.run(LogTables.metricSamples.values(r, context)) }
        }
    }

    /// One record, in its own transaction.
    private func insert<Record, Row>(_ record: Record, into table: LogTable<Record, Row>) throws {
        try db.inTransaction { try db.cached(table.insertSQL).run(table.values(record, context)) }
    }
}
