import Foundation
import PostgresNIO

/// The state database's schema on PostgreSQL: the SQLite store's migrations, with the same names, in
/// PostgreSQL's SQL, applied once each in order and recorded in `sovereign_migration` (append-only, as GRDB's
/// migrator keeps them).
enum PostgresSchema {
    /// Named migrations, oldest first; each is a list of statements run in one transaction.
    static let migrations: [(name: String, statements: [String])] = [
        ("v1: workloads, attempts, transitions, power signals, ledger", v1),
        (
            "v2: attempts named by their executor's handle",
            [
                "ALTER TABLE attempt ADD COLUMN handle TEXT",
                "UPDATE attempt SET handle = CAST(pid AS TEXT) WHERE pid IS NOT NULL",
            ]
        ),
        // A site agent's poll reads its own site's open attempts, not every site's.
        ("v3: open attempts by site", ["CREATE INDEX attempt_open_site ON attempt(site, id) WHERE endedAt IS NULL"]),
        (
            "v4: checkpoint replicas",
            [
                "ALTER TABLE workload ADD COLUMN replicaSite TEXT",
                "ALTER TABLE workload ADD COLUMN replicaAt DOUBLE PRECISION",
            ]
        ),
        // An index over the ledger's `dataset.derived` entries, written with them, so a pass finds which derived
        // datasets exist without reading the ledger.
        (
            "v5: anonymisation runs by derived dataset",
            [
                """
                CREATE TABLE derivation_run (
                    sequence BIGINT PRIMARY KEY REFERENCES ledger_entry(sequence),
                    dataset TEXT NOT NULL
                )
                """,
                "CREATE INDEX derivation_run_dataset ON derivation_run(dataset, sequence)",
            ]
        ),
        // The console's power chart reads a site's signals of the last day.
        ("v6: power signals by site and time", ["CREATE INDEX power_signal_site_at ON power_signal(site, at)"]),
        // One row: which replica leads, at which fencing epoch, until when (by the database's clock).
        (
            "v7: leader lease",
            [
                """
                CREATE TABLE leader_lease (
                    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
                    holder TEXT NOT NULL,
                    epoch BIGINT NOT NULL,
                    expiresAt TIMESTAMPTZ NOT NULL
                )
                """,
                "INSERT INTO leader_lease (holder, epoch, expiresAt) VALUES ('', 0, '-infinity')",
            ]
        ),
        // Every pass reads each site's latest signal; without this it read every signal ever stored.
        (
            "v8: the latest power signal of each site",
            [
                "CREATE TABLE power_latest (site TEXT PRIMARY KEY, signal BIGINT NOT NULL REFERENCES power_signal(id))",
                "INSERT INTO power_latest (site, signal) SELECT site, MAX(id) FROM power_signal GROUP BY site",
            ]
        ),
    ]

    /// Keys of the advisory locks the store takes (PostgreSQL scopes them to the database).
    enum Lock: Int64 {
        /// Held for a transaction that migrates the schema, so replicas starting together migrate once.
        case migrate = 0x536F_7665_0001
        /// Held for every committing transaction: ledger entries are numbered after the last stored one, so
        /// writers take turns, as SQLite's single writer does.
        case write = 0x536F_7665_0002
    }

    /// Applies the migrations the database has not had yet.
    static func migrate(_ link: PostgresSession.Link, at time: Date) throws {
        try link.rows("SELECT pg_advisory_xact_lock(\(Lock.migrate.rawValue))")
        try link.rows(
            "CREATE TABLE IF NOT EXISTS sovereign_migration (name TEXT PRIMARY KEY, appliedAt DOUBLE PRECISION NOT NULL)"
        )
        let applied = Set(try link.rows("SELECT name FROM sovereign_migration").map { try $0.decode(String.self) })
        for migration in migrations where !applied.contains(migration.name) {
            for statement in migration.statements { try link.rows(PostgresQuery(unsafeSQL: statement)) }
            try link.rows(
                "INSERT INTO sovereign_migration (name, appliedAt) VALUES (\(migration.name), \(time.timeIntervalSince1970))"
            )
        }
    }

    /// The first migration: workloads, attempts, transitions, power signals and the insert-only ledger tables
    /// (a trigger refuses every update, delete and truncate).
    private static let v1 = [
        """
        CREATE TABLE workload (
            seq BIGSERIAL PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            document TEXT NOT NULL,
            state TEXT NOT NULL,
            site TEXT, pool TEXT, accelerators BIGINT,
            checkpointSite TEXT,
            failures BIGINT NOT NULL,
            retryAt DOUBLE PRECISION,
            held BOOLEAN NOT NULL,
            cancelRequested BOOLEAN NOT NULL,
            runSeconds DOUBLE PRECISION NOT NULL,
            detail TEXT NOT NULL,
            submittedAt DOUBLE PRECISION NOT NULL,
            updatedAt DOUBLE PRECISION NOT NULL
        )
        """,
        """
        CREATE TABLE attempt (
            id BIGSERIAL PRIMARY KEY,
            workload TEXT NOT NULL REFERENCES workload(name),
            number BIGINT NOT NULL,
            site TEXT NOT NULL, pool TEXT NOT NULL, accelerators BIGINT NOT NULL,
            resume BOOLEAN NOT NULL,
            pid BIGINT,
            startedAt DOUBLE PRECISION NOT NULL, termAt DOUBLE PRECISION, killAt DOUBLE PRECISION,
            endedAt DOUBLE PRECISION,
            outcome TEXT, exitStatus BIGINT, exitSignal BIGINT,
            checkpointStale BOOLEAN NOT NULL,
            logPath TEXT NOT NULL,
            UNIQUE (workload, number)
        )
        """,
        "CREATE INDEX workload_active ON workload(seq) WHERE state NOT IN ('completed', 'failed', 'cancelled')",
        "CREATE INDEX attempt_open ON attempt(endedAt) WHERE endedAt IS NULL",
        """
        CREATE TABLE transition (
            id BIGSERIAL PRIMARY KEY,
            workload TEXT NOT NULL REFERENCES workload(name),
            at DOUBLE PRECISION NOT NULL,
            fromState TEXT, toState TEXT NOT NULL,
            reason TEXT NOT NULL
        )
        """,
        "CREATE INDEX transition_workload ON transition(workload, id)",
        """
        CREATE TABLE power_signal (
            id BIGSERIAL PRIMARY KEY,
            site TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            available DOUBLE PRECISION NOT NULL,
            forecast TEXT NOT NULL,
            ambient DOUBLE PRECISION
        )
        """,
        "CREATE INDEX power_signal_site ON power_signal(site, id)",
        "CREATE TABLE ledger_entry (sequence BIGINT PRIMARY KEY, entry BYTEA NOT NULL, leafHash BYTEA NOT NULL)",
        """
        CREATE TABLE ledger_checkpoint (size BIGINT PRIMARY KEY, note TEXT NOT NULL, createdAt DOUBLE PRECISION NOT NULL)
        """,
        """
        CREATE FUNCTION sovereign_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$
        """,
        insertOnly(table: "ledger_entry", message: "the ledger is insert-only", forEach: "ROW", on: "UPDATE OR DELETE"),
        insertOnly(table: "ledger_entry", message: "the ledger is insert-only", forEach: "STATEMENT", on: "TRUNCATE"),
        insertOnly(
            table: "ledger_checkpoint",
            message: "checkpoints are insert-only",
            forEach: "ROW",
            on: "UPDATE OR DELETE"
        ),
        insertOnly(
            table: "ledger_checkpoint",
            message: "checkpoints are insert-only",
            forEach: "STATEMENT",
            on: "TRUNCATE"
        ),
    ]

    private static func insertOnly(table: String, message: String, forEach level: String, on events: String) -> String {
        let name = "\(table)_no_\(level == "ROW" ? "change" : "truncate")"
        return """
            CREATE TRIGGER \(name) BEFORE \(events) ON \(table)
                FOR EACH \(level) EXECUTE FUNCTION sovereign_insert_only('\(message)')
            """
    }
}
