import AishBase
import AishSQLite

/// One step of the schema. Applied in order, each in its own BEGIN IMMEDIATE transaction,
/// and recorded in `PRAGMA user_version`; a released migration is never edited, only
/// followed by a new one.
package struct Migration: Sendable {
    package var version: Int
    package var name: String
    package var sql: String
}

package enum SessionLogSchema {
    package static let migrations: [Migration] = [
        Migration(version: 1, name: "core tables", sql: v1CoreTables),
        Migration(version: 2, name: "full-text search over prompts and replies", sql: v2FullTextSearch),
        Migration(version: 3, name: "daily latency histograms for stats; attempts by command", sql: v3Rollup),
        Migration(version: 4, name: "system prompt and options of each attempt; what a LiteLLM gateway did", sql: v4Gateway),
        Migration(version: 5, name: "answered from a LiteLLM gateway's response cache", sql: v5CacheHit),
        Migration(version: 6, name: "the levels of each bench run", sql: v6BenchLevels),
    ]

    /// The last migration's version. Written out, so that opening an up-to-date log does
    /// not build every migration's SQL (the rollup's is generated): a test checks it.
    package static let latestVersion = 6

    /// Times are ISO-8601 UTC text with milliseconds ("2026-11-27T09:19:11.123Z"): readable
    /// in `sql`, and ordered as text the same way as in time.
    package static let v1CoreTables = """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            mode TEXT NOT NULL,
            script_path TEXT,
            aish_version TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL
        );
        CREATE TABLE commands (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            started_at TEXT NOT NULL,
            text TEXT NOT NULL,
            source_file TEXT,
            line INTEGER,
            status TEXT NOT NULL DEFAULT 'running',
            duration_ms REAL,
            error TEXT
        );
        CREATE INDEX commands_started_at ON commands(started_at);
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            command_id INTEGER REFERENCES commands(id),
            request_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            started_at TEXT NOT NULL,
            requested_model TEXT NOT NULL,
            route_reason TEXT NOT NULL,
            provider TEXT NOT NULL,
            backend_model TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,
            http_status INTEGER,
            error TEXT,
            ttft_ms REAL,
            total_ms REAL,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            tokens_per_second REAL,
            server_timings TEXT,
            prompt TEXT NOT NULL,
            reply TEXT NOT NULL
        );
        -- Covers `stats` (one index scan, no table reads) and orders `log`.
        CREATE INDEX attempts_started_at ON attempts(
            started_at, requested_model, provider, status, ttft_ms, total_ms, tokens_per_second);
        CREATE INDEX attempts_model ON attempts(requested_model, started_at);
        CREATE INDEX attempts_provider ON attempts(provider, started_at);
        CREATE INDEX attempts_request ON attempts(request_id, attempt);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            conversation_id TEXT NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            model TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX messages_conversation ON messages(conversation_id, id);
        CREATE TABLE health_probes (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            probed_at TEXT NOT NULL,
            provider TEXT NOT NULL,
            url TEXT NOT NULL,
            ok INTEGER NOT NULL,
            http_status INTEGER,
            latency_ms REAL,
            error TEXT
        );
        CREATE INDEX health_probes_provider ON health_probes(provider, probed_at);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            kind TEXT NOT NULL,
            started_at TEXT NOT NULL,
            duration_ms REAL NOT NULL,
            parameters TEXT NOT NULL,
            summary TEXT NOT NULL
        );
        CREATE TABLE service_actions (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            service TEXT NOT NULL,
            unit TEXT NOT NULL,
            ok INTEGER NOT NULL,
            output TEXT NOT NULL
        );
        CREATE TABLE metric_samples (
            id INTEGER PRIMARY KEY,
            session_id INTEGER REFERENCES sessions(id),
            at TEXT NOT NULL,
            provider TEXT NOT NULL,
            name TEXT NOT NULL,
            labels TEXT NOT NULL,
            value REAL NOT NULL
        );
        CREATE INDEX metric_samples_name ON metric_samples(provider, name, at);
        """

    /// External-content FTS5 index over attempts, kept in sync by triggers; existing rows
    /// are indexed by the rebuild.
    package static let v2FullTextSearch = """
        CREATE VIRTUAL TABLE attempts_fts USING fts5(prompt, reply, content='attempts', content_rowid='id');
        CREATE TRIGGER attempts_fts_insert AFTER INSERT ON attempts BEGIN
            INSERT INTO attempts_fts(rowid, prompt, reply) VALUES (new.id, new.prompt, new.reply);
        END;
        CREATE TRIGGER attempts_fts_delete AFTER DELETE ON attempts BEGIN
            INSERT INTO attempts_fts(attempts_fts, rowid, prompt, reply) VALUES ('delete', old.id, old.prompt, old.reply);
        END;
        CREATE TRIGGER attempts_fts_update AFTER UPDATE OF prompt, reply ON attempts BEGIN
            INSERT INTO attempts_fts(attempts_fts, rowid, prompt, reply) VALUES ('delete', old.id, old.prompt, old.reply);
            INSERT INTO attempts_fts(rowid, prompt, reply) VALUES (new.id, new.prompt, new.reply);
        END;
        INSERT INTO attempts_fts(attempts_fts) VALUES ('rebuild');
        """

    /// The system prompt and sampling options sent (so `replay` can send them again), and
    /// the gateway's x-litellm-* headers: the deployment that answered (a provider name when
    /// its api_base is a configured one), its model group, id and api_base, the gateway's
    /// own fallbacks and retries, its overhead and its time to the backend's response.
    package static let v4Gateway = """
        ALTER TABLE attempts ADD COLUMN system_prompt TEXT;
        ALTER TABLE attempts ADD COLUMN options TEXT;
        ALTER TABLE attempts ADD COLUMN gateway_deployment TEXT;
        ALTER TABLE attempts ADD COLUMN gateway_model_group TEXT;
        ALTER TABLE attempts ADD COLUMN gateway_model_id TEXT;
        ALTER TABLE attempts ADD COLUMN gateway_api_base TEXT;
        ALTER TABLE attempts ADD COLUMN gateway_fallbacks INTEGER;
        ALTER TABLE attempts ADD COLUMN gateway_retries INTEGER;
        ALTER TABLE attempts ADD COLUMN gateway_overhead_ms REAL;
        ALTER TABLE attempts ADD COLUMN gateway_response_ms REAL;
        -- `stats --by provider` splits gateway overhead from backend time over these rows only.
        CREATE INDEX attempts_gateway ON attempts(provider, started_at) WHERE gateway_overhead_ms IS NOT NULL;
        """

    /// A histogram bin for a duration in ms (or any non-negative value) that SQL and Swift
    /// compute alike with core functions only: the number of digits of the value in
    /// hundredths, then its first three digits — bins about 1% wide.
    package static func binSQL(_ x: String) -> String {
        let hundredths = "CAST(CAST(max(\(x), 0) * 100 AS INTEGER) AS TEXT)"
        return "(length(\(hundredths)) * 1000 + CAST(substr(\(hundredths), 1, 3) AS INTEGER))"
    }

    /// Per UTC day, requested model and provider: request and error counts (metric 0,
    /// bin 0 = not an error, 1 = error), TTFT (1) and latency of successful attempts (2) as
    /// histograms, and the tokens/s of successful attempts (3, bin 0, `total` = sum).
    /// `stats` over a large log reads this instead of every row. It covers the attempts up
    /// to `rollup_state.covered_id`; writers fold newer rows in, set-based, every few hundred
    /// rows (`SessionLog.refreshRollup`) — far cheaper than a trigger per row — and `stats`
    /// reads the rows above the mark one by one, so it is exact about what it has not folded.
    package static let v3Rollup = """
        CREATE TABLE attempt_rollup (
            day TEXT NOT NULL,
            requested_model TEXT NOT NULL,
            provider TEXT NOT NULL,
            metric INTEGER NOT NULL,
            bin INTEGER NOT NULL,
            n INTEGER NOT NULL,
            total REAL NOT NULL,
            PRIMARY KEY (day, requested_model, provider, metric, bin)
        ) WITHOUT ROWID;
        CREATE TABLE rollup_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            covered_id INTEGER NOT NULL
        );
        INSERT INTO rollup_state VALUES (1, 0);
        -- Deleting folded rows takes them out of the histograms too.
        CREATE TRIGGER attempts_rollup_delete AFTER DELETE ON attempts
        WHEN old.status != 'skipped' AND old.id <= (SELECT covered_id FROM rollup_state) BEGIN
            UPDATE attempt_rollup SET n = n - 1 WHERE day = substr(old.started_at, 1, 10)
                AND requested_model = old.requested_model AND provider = old.provider AND metric = 0
                AND bin = (old.status IN ('error', 'timeout', 'partial'));
            UPDATE attempt_rollup SET n = n - 1, total = total - old.ttft_ms WHERE old.ttft_ms IS NOT NULL
                AND day = substr(old.started_at, 1, 10) AND requested_model = old.requested_model
                AND provider = old.provider AND metric = 1 AND bin = \(binSQL("old.ttft_ms"));
            UPDATE attempt_rollup SET n = n - 1, total = total - old.total_ms WHERE old.status = 'ok'
                AND old.total_ms IS NOT NULL AND day = substr(old.started_at, 1, 10)
                AND requested_model = old.requested_model AND provider = old.provider AND metric = 2
                AND bin = \(binSQL("old.total_ms"));
            UPDATE attempt_rollup SET n = n - 1, total = total - old.tokens_per_second WHERE old.status = 'ok'
                AND old.tokens_per_second IS NOT NULL AND day = substr(old.started_at, 1, 10)
                AND requested_model = old.requested_model AND provider = old.provider AND metric = 3 AND bin = 0;
        END;
        CREATE INDEX attempts_command ON attempts(command_id) WHERE command_id IS NOT NULL;
        \(foldRollupSQL(upTo: "(SELECT coalesce(max(id), 0) FROM attempts)", cacheHits: false).joined(separator: ";\n"));
        """

    /// Whether a LiteLLM gateway answered from its response cache (1), or a backend did (0);
    /// NULL when the attempt did not go through a gateway. `stats` keeps cache hits out of its
    /// latency figures and counts them: the covering index carries the column, and the
    /// histograms count hits as metric 4 instead of in TTFT, latency and tokens/s (rows
    /// folded before this version have NULL: not a hit).
    package static let v5CacheHit = """
        ALTER TABLE attempts ADD COLUMN cache_hit INTEGER;
        DROP INDEX attempts_started_at;
        CREATE INDEX attempts_started_at ON attempts(
            started_at, requested_model, provider, status, ttft_ms, total_ms, tokens_per_second, cache_hit);
        DROP TRIGGER attempts_rollup_delete;
        CREATE TRIGGER attempts_rollup_delete AFTER DELETE ON attempts
        WHEN old.status != 'skipped' AND old.id <= (SELECT covered_id FROM rollup_state) BEGIN
            UPDATE attempt_rollup SET n = n - 1 WHERE day = substr(old.started_at, 1, 10)
                AND requested_model = old.requested_model AND provider = old.provider AND metric = 0
                AND bin = (old.status IN ('error', 'timeout', 'partial'));
            UPDATE attempt_rollup SET n = n - 1, total = total - old.ttft_ms WHERE old.ttft_ms IS NOT NULL
                AND old.cache_hit IS NOT 1
                AND day = substr(old.started_at, 1, 10) AND requested_model = old.requested_model
                AND provider = old.provider AND metric = 1 AND bin = \(binSQL("old.ttft_ms"));
            UPDATE attempt_rollup SET n = n - 1, total = total - old.total_ms WHERE old.status = 'ok'
                AND old.cache_hit IS NOT 1
                AND old.total_ms IS NOT NULL AND day = substr(old.started_at, 1, 10)
                AND requested_model = old.requested_model AND provider = old.provider AND metric = 2
                AND bin = \(binSQL("old.total_ms"));
            UPDATE attempt_rollup SET n = n - 1, total = total - old.tokens_per_second WHERE old.status = 'ok'
                AND old.cache_hit IS NOT 1
                AND old.tokens_per_second IS NOT NULL AND day = substr(old.started_at, 1, 10)
                AND requested_model = old.requested_model AND provider = old.provider AND metric = 3 AND bin = 0;
            UPDATE attempt_rollup SET n = n - 1 WHERE old.cache_hit = 1 AND day = substr(old.started_at, 1, 10)
                AND requested_model = old.requested_model AND provider = old.provider AND metric = 4 AND bin = 0;
        END;
        """

    /// One row per level of a bench run, pointing at the run's row in `runs`: the figures
    /// `bench --compare` and `sql` read without parsing the run's JSON summary.
    static var v6BenchLevels: String {
        LogTables.benchLevels.createSQL + ";\nCREATE INDEX bench_levels_run ON bench_levels(run_id, level);"
    }

    /// Folds attempts with `covered_id < id <= upTo` into the histograms and moves the mark:
    /// two statements. Run in a write transaction, so no row below the new mark can still
    /// be uncommitted. `cacheHits`: the log has `cache_hit` (version 5): hits are counted as
    /// metric 4 and left out of TTFT, latency and tokens/s (false only for version 3's text).
    package static func foldRollupSQL(upTo: String, cacheHits: Bool = true) -> [String] {
        let notHit = cacheHits ? " AND cache_hit IS NOT 1" : ""
        let hits = !cacheHits ? "" : """

            UNION ALL
            SELECT substr(started_at, 1, 10), requested_model, provider, 4, 0, count(*), 0
            FROM attempts WHERE id > (SELECT covered_id FROM rollup_state) AND id <= ?1 AND status != 'skipped'
                AND cache_hit = 1
            GROUP BY 1, 2, 3
            """
        let fold = """
        INSERT INTO attempt_rollup (day, requested_model, provider, metric, bin, n, total)
            SELECT substr(started_at, 1, 10), requested_model, provider, 0, status IN ('error', 'timeout', 'partial'),
                count(*), 0
            FROM attempts WHERE id > (SELECT covered_id FROM rollup_state) AND id <= ?1 AND status != 'skipped'
            GROUP BY 1, 2, 3, 5
            UNION ALL
            SELECT substr(started_at, 1, 10), requested_model, provider, 1, \(binSQL("ttft_ms")), count(*), sum(ttft_ms)
            FROM attempts WHERE id > (SELECT covered_id FROM rollup_state) AND id <= ?1 AND status != 'skipped'
                AND ttft_ms IS NOT NULL\(notHit)
            GROUP BY 1, 2, 3, 5
            UNION ALL
            SELECT substr(started_at, 1, 10), requested_model, provider, 2, \(binSQL("total_ms")), count(*), sum(total_ms)
            FROM attempts WHERE id > (SELECT covered_id FROM rollup_state) AND id <= ?1 AND status = 'ok'
                AND total_ms IS NOT NULL\(notHit)
            GROUP BY 1, 2, 3, 5
            UNION ALL
            SELECT substr(started_at, 1, 10), requested_model, provider, 3, 0, count(*), sum(tokens_per_second)
            FROM attempts WHERE id > (SELECT covered_id FROM rollup_state) AND id <= ?1 AND status = 'ok'
                AND tokens_per_second IS NOT NULL\(notHit)
            GROUP BY 1, 2, 3\(hits)
            ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT DO UPDATE SET n = n + excluded.n, total = total + excluded.total
        """
        return [fold.replacingAll("?1", with: upTo),
                "UPDATE rollup_state SET covered_id = max(covered_id, \(upTo))"]
    }

    /// The rows `foldRollupSQL` folds (version 5), one by one: day, model, provider, whether
    /// it failed, succeeded or came from the gateway's cache, TTFT and its bin, latency and its
    /// bin, tokens/s. `SessionLog` sums them into the histograms itself.
    package static let foldScanSQL = """
        SELECT substr(started_at, 1, 10), requested_model, provider, status IN ('error', 'timeout', 'partial'),
            status = 'ok', cache_hit IS 1, ttft_ms, \(binSQL("ttft_ms")), total_ms, \(binSQL("total_ms")), tokens_per_second
        FROM attempts WHERE id > (SELECT covered_id FROM rollup_state) AND id <= ?1 AND status != 'skipped'
        """

    /// Adds counts and sums to a histogram bin of `attempt_rollup`.
    package static let rollupUpsertSQL = """
        INSERT INTO attempt_rollup (day, requested_model, provider, metric, bin, n, total) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        ON CONFLICT DO UPDATE SET n = n + excluded.n, total = total + excluded.total
        """

    /// How many segments of a size the full-text index gathers before it merges them
    /// (FTS5's `automerge`; SQLite's default is 4). With 16 a row's index entries are
    /// rewritten less often: 9% fewer instructions a row for 60,000 rows in commits of 4,000
    /// (bench's writer), 20 µs of CPU a row instead of 29 for a million rows in commits of
    /// 400; a search for a term of one row among a million takes 2 ms instead of 0.3 ms. A
    /// setting the index keeps in its own table, which every SQLite reads: no schema version.
    package static let fullTextAutomerge = 16

    /// Sets `fullTextAutomerge` on a log that has another (a new one, or one an older aish
    /// made); a write only then.
    package static func tuneFullTextIndex(_ db: Database) throws {
        let current = try db.prepare("SELECT v FROM attempts_fts_config WHERE k = 'automerge'")
        let value = try current.step() ? current.int(0) : nil
        guard value != fullTextAutomerge else { return }
        try db.execute("INSERT INTO attempts_fts(attempts_fts, rank) VALUES ('automerge', \(fullTextAutomerge))")
    }

    /// Brings `db` to the latest version. Each migration re-reads the version inside its
    /// transaction, so processes opening a new file at the same time apply it once.
    package static func migrate(_ db: Database) throws {
        let current = try db.userVersion()
        if current == latestVersion { return }
        if current > latestVersion {
            throw SessionLogUnavailable(
                reason: "its schema version \(current) is newer than this aish supports (\(latestVersion))")
        }
        for m in migrations where m.version > current {
            try db.inTransaction {
                guard try db.userVersion() < m.version else { return }
                try db.execute(m.sql)
                try db.setUserVersion(m.version)
            }
        }
    }
}
