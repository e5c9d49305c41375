/// One step of the schema. Applied in order, each in its own BEGIN IMMEDIATE transaction,
/// and recorded in `PRAGMA user_version`; a released migration is never edited, only
/// followed by a new one.
struct Migration: Sendable {
    var version: Int
    var name: String
    var sql: String
}

enum SessionLogSchema {
    static let migrations: [Migration] = [
        Migration(version: 1, name: "core tables", sql: v1CoreTables),
        Migration(version: 2, name: "full-text search over prompts and replies", sql: v2FullTextSearch),
    ]

    static var latestVersion: Int { migrations.last!.version }

    /// Times are ISO-8601 UTC text with milliseconds ("2026-11-27T09:19:11.123Z"): readable
    /// in `sql`, and ordered as text the same way as in time.
    static let v1CoreTables = """
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
    static let v2FullTextSearch = """
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

    /// Brings `db` to the latest version. Each migration re-reads the version inside its
    /// transaction, so processes opening a new file at the same time apply it once.
    static func migrate(_ db: Database) throws {
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
