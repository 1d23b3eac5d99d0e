public import Foundation
import GRDB
public import SovereignLedger
import SovereignLedgerSQLite

/// ``ControlStore`` over SQLite through GRDB: WAL, `synchronous = FULL` (a committed decision survives
/// a power cut, not just a crash), named append-only migrations, and a ledger table that triggers keep
/// insert-only.
public final class SQLiteControlStore: ControlStore {
    let pool: DatabasePool
    /// The database file.
    public let path: String

    /// Opens (creating and migrating if needed) the database at `path`.
    ///
    /// - Throws: an error naming the path when it cannot be opened or migrated.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError(code: .database, message: "\(path): cannot open the state database: \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: workloads, attempts, transitions, power signals, ledger") { db in
            try db.execute(sql: schemaV1)
        }
        migrator.registerMigration("v2: attempts named by their executor's handle") { db in
            // The local executor's handle is its supervisor's process id, which this column held before.
            try db.execute(
                sql: """
                    ALTER TABLE attempt ADD COLUMN handle TEXT;
                    UPDATE attempt SET handle = CAST(pid AS TEXT) WHERE pid IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration("v3: open attempts by site") { db in
            // A site agent's poll reads its own site's open attempts, not every site's.
            try db.execute(sql: "CREATE INDEX attempt_open_site ON attempt(site, id) WHERE endedAt IS NULL")
        }
        migrator.registerMigration("v4: checkpoint replicas") { db in
            try db.execute(
                sql: """
                    ALTER TABLE workload ADD COLUMN replicaSite TEXT;
                    ALTER TABLE workload ADD COLUMN replicaAt REAL;
                    """
            )
        }
        migrator.registerMigration("v5: anonymisation runs by derived dataset") { db in
            // An index over the ledger's `dataset.derived` entries, written with them, so a pass finds which
            // derived datasets exist without reading the ledger.
            try db.execute(
                sql: """
                    CREATE TABLE derivation_run (
                        sequence INTEGER PRIMARY KEY REFERENCES ledger_entry(sequence),
                        dataset TEXT NOT NULL
                    );
                    CREATE INDEX derivation_run_dataset ON derivation_run(dataset, sequence);
                    """
            )
        }
        migrator.registerMigration("v6: power signals by site and time") { db in
            // The console's power chart reads a site's signals of the last day.
            try db.execute(sql: "CREATE INDEX power_signal_site_at ON power_signal(site, at)")
        }
        // (v7, the leader lease, is PostgreSQL's alone: SQLite has one server per file.)
        migrator.registerMigration("v8: the latest power signal of each site") { db in
            // Every pass reads each site's latest signal; without this it read every signal ever stored.
            try db.execute(sql: Self.powerLatest)
        }
        return migrator
    }

    /// v8: one row per site naming its latest signal, filled from the signals stored before.
    static let powerLatest = """
        CREATE TABLE power_latest (site TEXT PRIMARY KEY, signal INTEGER NOT NULL REFERENCES power_signal(id));
        INSERT INTO power_latest (site, signal) SELECT site, MAX(id) FROM power_signal GROUP BY site;
        """

    /// The first migration's schema: workloads, attempts, transitions, power signals and the insert-only
    /// ledger tables.
    private static let schemaV1 = """
        CREATE TABLE workload (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            document TEXT NOT NULL,
            state TEXT NOT NULL,
            site TEXT, pool TEXT, accelerators INTEGER,
            checkpointSite TEXT,
            failures INTEGER NOT NULL,
            retryAt REAL,
            held INTEGER NOT NULL,
            cancelRequested INTEGER NOT NULL,
            runSeconds REAL NOT NULL,
            detail TEXT NOT NULL,
            submittedAt REAL NOT NULL,
            updatedAt REAL NOT NULL
        );
        CREATE TABLE attempt (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            workload TEXT NOT NULL REFERENCES workload(name),
            number INTEGER NOT NULL,
            site TEXT NOT NULL, pool TEXT NOT NULL, accelerators INTEGER NOT NULL,
            resume INTEGER NOT NULL,
            pid INTEGER,
            startedAt REAL NOT NULL, termAt REAL, killAt REAL, endedAt REAL,
            outcome TEXT, exitStatus INTEGER, exitSignal INTEGER,
            checkpointStale INTEGER NOT NULL,
            logPath TEXT NOT NULL,
            UNIQUE (workload, number)
        );
        CREATE INDEX workload_active ON workload(seq)
            WHERE state NOT IN ('completed', 'failed', 'cancelled');
        CREATE INDEX attempt_open ON attempt(endedAt) WHERE endedAt IS NULL;
        CREATE TABLE transition (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            workload TEXT NOT NULL REFERENCES workload(name),
            at REAL NOT NULL,
            fromState TEXT, toState TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE INDEX transition_workload ON transition(workload, id);
        CREATE TABLE power_signal (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            site TEXT NOT NULL,
            at REAL NOT NULL,
            available REAL NOT NULL,
            forecast TEXT NOT NULL,
            ambient REAL
        );
        CREATE INDEX power_signal_site ON power_signal(site, id);
        CREATE TABLE ledger_entry (
            sequence INTEGER PRIMARY KEY,
            entry BLOB NOT NULL,
            leafHash BLOB NOT NULL
        );
        CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry
            BEGIN SELECT RAISE(ABORT, 'the ledger is insert-only'); END;
        CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry
            BEGIN SELECT RAISE(ABORT, 'the ledger is insert-only'); END;
        CREATE TABLE ledger_checkpoint (
            size INTEGER PRIMARY KEY,
            note TEXT NOT NULL,
            createdAt REAL NOT NULL
        );
        CREATE TRIGGER ledger_checkpoint_no_update BEFORE UPDATE ON ledger_checkpoint
            BEGIN SELECT RAISE(ABORT, 'checkpoints are insert-only'); END;
        CREATE TRIGGER ledger_checkpoint_no_delete BEFORE DELETE ON ledger_checkpoint
            BEGIN SELECT RAISE(ABORT, 'checkpoints are insert-only'); END;
        """

    // MARK: Writing

    /// Always leads, at epoch 0: one server per file (`serve` holds the file's lock).
    public func lead(as holder: String, renewing epoch: Int64?, for lease: Duration) throws -> Int64? { 0 }

    public func commit(_ change: StateChange, at time: Date) throws -> CommittedChange {
        do {
            return try pool.write { db in
                try Self.write(workloads: change, in: db)
                let ids = try Self.write(attempts: change, in: db)
                try Self.write(history: change, in: db)
                let entries = try Self.append(change.ledger, at: time, in: db)
                return CommittedChange(entries: entries, attemptIDs: ids)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .database, message: "\(path): \(error)")
        }
    }

    /// Inserts a change's new workloads (refusing a taken name) and updates its changed ones.
    static func write(workloads change: StateChange, in db: Database) throws {
        for w in change.newWorkloads {
            let taken = try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS (SELECT 1 FROM workload WHERE name = ?)",
                arguments: [w.name]
            )
            if taken == true { throw StoreError.nameTaken(w.name) }
            try db.execute(
                sql: """
                    INSERT INTO workload (name, source, document, state, site, pool, accelerators,
                        checkpointSite, failures, retryAt, held, cancelRequested, runSeconds, detail,
                        submittedAt, updatedAt, replicaSite, replicaAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: arguments(w, leading: [w.name, w.source, w.document])
            )
        }
        for w in change.workloads {
            try db.execute(
                sql: """
                    UPDATE workload SET state = ?, site = ?, pool = ?, accelerators = ?, checkpointSite = ?,
                        failures = ?, retryAt = ?, runSeconds = ?, detail = ?, submittedAt = ?,
                        updatedAt = ?, replicaSite = ?, replicaAt = ?
                    WHERE name = ?
                    """,
                arguments: [
                    w.state.rawValue, w.site, w.pool, w.accelerators, w.checkpointSite, w.failures, w.retryAt,
                    w.runSeconds, w.detail, w.submittedAt, w.updatedAt, w.replicaSite, w.replicaAt, w.name,
                ]
            )
        }
        for r in change.requests {
            try db.execute(
                sql: """
                    UPDATE workload SET held = ?, cancelRequested = ?, updatedAt = ? WHERE name = ?
                    """,
                arguments: [r.held, r.cancelRequested, r.at, r.workload]
            )
        }
    }

    /// Inserts a change's new attempts and updates its changed ones.
    ///
    /// - Returns: the ids of the new attempts, in order.
    static func write(attempts change: StateChange, in db: Database) throws -> [Int64] {
        var ids: [Int64] = []
        for a in change.newAttempts {
            try db.execute(
                sql: """
                    INSERT INTO attempt (workload, number, site, pool, accelerators, resume, handle, startedAt,
                        termAt, killAt, endedAt, outcome, exitStatus, exitSignal, checkpointStale, logPath)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: arguments(a)
            )
            ids.append(db.lastInsertedRowID)
        }
        for a in change.attempts {
            guard let id = a.id else { continue }
            try db.execute(
                sql: """
                    UPDATE attempt SET workload = ?, number = ?, site = ?, pool = ?, accelerators = ?,
                        resume = ?, handle = ?, startedAt = ?, termAt = ?, killAt = ?, endedAt = ?, outcome = ?,
                        exitStatus = ?, exitSignal = ?, checkpointStale = ?, logPath = ?
                    WHERE id = ?
                    """,
                arguments: arguments(a) + [id]
            )
        }
        return ids
    }

    /// Inserts a change's history lines and power signals.
    static func write(history change: StateChange, in db: Database) throws {
        for t in change.transitions {
            try db.execute(
                sql: "INSERT INTO transition (workload, at, fromState, toState, reason) VALUES (?, ?, ?, ?, ?)",
                arguments: [t.workload, t.at, t.from?.rawValue, t.to.rawValue, t.reason]
            )
        }
        for p in change.powerSignals {
            let forecast = String(decoding: try JSONEncoder().encode(p.forecast), as: UTF8.self)
            try db.execute(
                sql: "INSERT INTO power_signal (site, at, available, forecast, ambient) VALUES (?, ?, ?, ?, ?)",
                arguments: [p.site, p.at, p.available, forecast, p.ambient]
            )
            try db.execute(
                sql: """
                    INSERT INTO power_latest (site, signal) VALUES (?, ?)
                    ON CONFLICT(site) DO UPDATE SET signal = MAX(signal, excluded.signal)
                    """,
                arguments: [p.site, db.lastInsertedRowID]
            )
        }
    }

    /// Numbers, times and appends ledger entries after the last stored one (never timed before it:
    /// ``LedgerEntry/appendTime(_:after:)``).
    ///
    /// - Returns: the entries as stored.
    static func append(
        _ ledger: [LedgerEvent],
        at time: Date,
        in db: Database
    ) throws -> [StoredEntry] {
        guard !ledger.isEmpty else { return [] }
        let last = try Row.fetchOne(db, sql: "SELECT sequence, entry FROM ledger_entry ORDER BY sequence DESC LIMIT 1")
        var sequence: Int = last.map { $0[0] + 1 } ?? 0
        let stamp = LedgerEntry.appendTime(time, after: last.map { [UInt8]($0[1] as Data) })
        var entries: [StoredEntry] = []
        for event in ledger {
            let recorded = event.entry
            let entry = LedgerEntry(sequence: sequence, time: stamp, kind: recorded.kind, fields: recorded.fields)
            let bytes = entry.canonicalJSON()
            let leaf = MerkleHash.leaf(bytes)
            try db.execute(
                sql: "INSERT INTO ledger_entry (sequence, entry, leafHash) VALUES (?, ?, ?)",
                arguments: [sequence, Data(bytes), Data(leaf.bytes)]
            )
            if let dataset = event.derivedDataset {
                try db.execute(
                    sql: "INSERT INTO derivation_run (sequence, dataset) VALUES (?, ?)",
                    arguments: [sequence, dataset]
                )
            }
            entries.append(StoredEntry(sequence: sequence, canonicalJSON: bytes, leafHash: leaf))
            sequence += 1
        }
        return entries
    }

    static func arguments(_ w: WorkloadRecord, leading: [(any DatabaseValueConvertible)?]) -> StatementArguments {
        StatementArguments(
            leading + [
                w.state.rawValue, w.site, w.pool, w.accelerators, w.checkpointSite, w.failures, w.retryAt, w.held,
                w.cancelRequested, w.runSeconds, w.detail, w.submittedAt, w.updatedAt, w.replicaSite, w.replicaAt,
            ]
        )
    }

    static func arguments(_ a: AttemptRecord) -> StatementArguments {
        [
            a.workload, a.number, a.site, a.pool, a.accelerators, a.resume, a.handle?.rawValue, a.startedAt,
            a.termAt, a.killAt, a.endedAt, a.outcome, a.exitStatus.map { Int64($0) }, a.exitSignal.map { Int64($0) },
            a.checkpointStale, a.logPath,
        ]
    }

    /// `epoch` is not checked: one server per file (`serve` holds the file's lock), so there is no other leader.
    public func addCheckpoint(size: Int, note: String, at time: Date, epoch: Int64?) throws {
        try wrap {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT OR IGNORE INTO ledger_checkpoint (size, note, createdAt) VALUES (?, ?, ?)",
                    arguments: [size, note, time.timeIntervalSince1970]
                )
            }
        }
    }

    // MARK: Reading

    public func workloads(after position: Int64, limit: Int?) throws -> [(position: Int64, record: WorkloadRecord)] {
        try wrap {
            try pool.read { db in
                try Array(
                    Row.fetchCursor(
                        db,
                        sql: "SELECT \(Self.workloadColumns), seq FROM workload WHERE seq > ? ORDER BY seq LIMIT ?",
                        arguments: [position, limit ?? -1]
                    ).map { (position: $0[Self.workloadColumnCount], record: Self.workload($0)) }
                )
            }
        }
    }

    public func activeWorkloads() throws -> [WorkloadRecord] {
        try wrap {
            try pool.read { db in
                try Array(
                    Row.fetchCursor(
                        db,
                        sql: "SELECT \(Self.workloadColumns) FROM workload WHERE \(Self.active) ORDER BY seq"
                    ).map(Self.workload)
                )
            }
        }
    }

    public func workloadCounts() throws -> [WorkloadState: Int] {
        try wrap {
            try pool.read { db in
                var counts: [WorkloadState: Int] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM workload GROUP BY state") {
                    if let state = WorkloadState(rawValue: row["state"]) { counts[state] = row["n"] }
                }
                return counts
            }
        }
    }

    public func workload(named name: String) throws -> WorkloadRecord? {
        try wrap {
            try pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.workloadColumns) FROM workload WHERE name = ?",
                    arguments: [name]
                ).map(Self.workload)
            }
        }
    }

    public func attempts(of workload: String) throws -> [AttemptRecord] {
        try wrap {
            try pool.read { db in
                try Array(
                    Row.fetchCursor(
                        db,
                        sql: "SELECT \(Self.attemptColumns) FROM attempt WHERE workload = ? ORDER BY id",
                        arguments: [workload]
                    ).map(Self.attempt)
                )
            }
        }
    }

    public func openAttempts() throws -> [AttemptRecord] {
        try wrap {
            try pool.read { db in
                try Array(
                    Row.fetchCursor(
                        db,
                        sql: "SELECT \(Self.attemptColumns) FROM attempt WHERE endedAt IS NULL ORDER BY id"
                    ).map(Self.attempt)
                )
            }
        }
    }

    public func openAttempts(at site: String) throws -> [AttemptRecord] {
        try wrap {
            try pool.read { db in
                try Array(
                    Row.fetchCursor(
                        db,
                        sql: """
                            SELECT \(Self.attemptColumns) FROM attempt WHERE endedAt IS NULL AND site = ? ORDER BY id
                            """,
                        arguments: [site]
                    ).map(Self.attempt)
                )
            }
        }
    }

    public func lastAttemptNumbers() throws -> [String: Int] {
        try wrap {
            try pool.read { db in
                var numbers: [String: Int] = [:]
                // Only active workloads start attempts, so only theirs are read: the cost follows the active
                // workloads (the partial index), not every attempt the store ever recorded.
                let sql = """
                    SELECT workload, MAX(number) AS n FROM attempt
                    WHERE workload IN (SELECT name FROM workload WHERE \(Self.active)) GROUP BY workload
                    """
                for row in try Row.fetchAll(db, sql: sql) {
                    numbers[row["workload"]] = row["n"]
                }
                return numbers
            }
        }
    }

    public func transitions(of workload: String) throws -> [TransitionRecord] {
        try wrap {
            try pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM transition WHERE workload = ? ORDER BY id",
                    arguments: [workload]
                ).map { row in
                    TransitionRecord(
                        workload: row["workload"],
                        at: row["at"],
                        from: (row["fromState"] as String?).flatMap(WorkloadState.init(rawValue:)),
                        to: WorkloadState(rawValue: row["toState"]) ?? .pending,
                        reason: row["reason"]
                    )
                }
            }
        }
    }

    public func latestPowerSignals() throws -> [String: PowerSignalRecord] {
        try wrap {
            try pool.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT p.* FROM power_latest l JOIN power_signal p ON p.id = l.signal"
                )
                var result: [String: PowerSignalRecord] = [:]
                for row in rows {
                    let text: String = row["forecast"]
                    let forecast =
                        (try? JSONDecoder().decode([PowerSignalRecord.ForecastPoint].self, from: Data(text.utf8))) ?? []
                    let signal = PowerSignalRecord(
                        site: row["site"],
                        at: row["at"],
                        available: row["available"],
                        forecast: forecast,
                        ambient: row["ambient"]
                    )
                    result[signal.site] = signal
                }
                return result
            }
        }
    }

    public func powerHistory(
        of site: String,
        in window: ClosedRange<Double>,
        buckets: Int
    ) throws -> [PowerHistoryPoint] {
        let width = max(window.upperBound - window.lowerBound, 1e-3) / Double(max(buckets, 1))
        let point = { (row: Row) in
            PowerHistoryPoint(at: row["at"], available: row["available"], ambient: row["ambient"])
        }
        return try wrap {
            try pool.read { db in
                let before = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT at, available, ambient FROM power_signal WHERE site = ? AND at < ?
                        ORDER BY at DESC, id DESC LIMIT 1
                        """,
                    arguments: [site, window.lowerBound]
                )
                let inside = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT MIN(at) AS at, MIN(available) AS available, MAX(ambient) AS ambient
                        FROM power_signal WHERE site = ? AND at >= ? AND at <= ?
                        GROUP BY MIN(CAST((at - ?) / ? AS INTEGER), ?) ORDER BY 1
                        """,
                    arguments: [site, window.lowerBound, window.upperBound, window.lowerBound, width, buckets - 1]
                )
                return (before.map { [point($0)] } ?? []) + inside.map(point)
            }
        }
    }

    public func ledgerEntries(from start: Int, limit: Int) throws -> [StoredEntry] {
        try wrap { try pool.read { db in try LedgerTables.entries(db, from: start, limit: limit) } }
    }

    public func forEachLedgerEntry(_ body: (StoredEntry) throws -> Void) throws {
        try wrap { try pool.read { db in try LedgerTables.forEachEntry(db, body) } }
    }

    public func ledgerLeafHashes() throws -> [TreeHash] {
        try wrap { try pool.read { db in try LedgerTables.leafHashes(db) } }
    }

    public func checkpoints() throws -> [String] {
        try wrap { try pool.read { db in try LedgerTables.checkpoints(db) } }
    }

    public func derivationRuns() throws -> [String: Int] {
        try wrap {
            try pool.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT dataset, MAX(sequence) AS sequence FROM derivation_run GROUP BY dataset"
                )
                return Dictionary(uniqueKeysWithValues: rows.map { ($0["dataset"] as String, $0["sequence"] as Int) })
            }
        }
    }

    // MARK: Rows

    /// Where a workload is active (not completed, failed or cancelled): what the partial index `workload_active`
    /// covers.
    static let active = "state NOT IN ('completed', 'failed', 'cancelled')"

    /// The workload columns ``workload(_:)`` reads, by position (a name lookup per column per row cost more than
    /// the read itself at thousands of rows).
    static let workloadColumns = """
        name, source, document, submittedAt, state, site, pool, accelerators, checkpointSite, replicaSite, \
        replicaAt, failures, retryAt, held, cancelRequested, runSeconds, detail, updatedAt
        """
    /// How many columns ``workloadColumns`` names: the position of a column selected after them.
    static let workloadColumnCount = workloadColumns.split(separator: ",").count

    /// A row of ``workloadColumns``.
    static func workload(_ row: Row) -> WorkloadRecord {
        var w = WorkloadRecord(name: row[0], source: row[1], document: row[2], at: row[3])
        w.state = WorkloadState(rawValue: row[4]) ?? .pending
        w.site = row[5]
        w.pool = row[6]
        w.accelerators = row[7]
        w.checkpointSite = row[8]
        w.replicaSite = row[9]
        w.replicaAt = row[10]
        w.failures = row[11]
        w.retryAt = row[12]
        w.held = row[13]
        w.cancelRequested = row[14]
        w.runSeconds = row[15]
        w.detail = row[16]
        w.updatedAt = row[17]
        return w
    }

    /// The attempt columns ``attempt(_:)`` reads, by position.
    static let attemptColumns = """
        workload, number, site, pool, accelerators, resume, startedAt, logPath, id, handle, termAt, killAt, endedAt, \
        outcome, exitStatus, exitSignal, checkpointStale
        """

    /// A row of ``attemptColumns``.
    static func attempt(_ row: Row) -> AttemptRecord {
        var a = AttemptRecord(
            workload: row[0],
            number: row[1],
            site: row[2],
            pool: row[3],
            accelerators: row[4],
            resume: row[5],
            startedAt: row[6],
            logPath: row[7]
        )
        a.id = row[8]
        a.handle = (row[9] as String?).map(AttemptHandle.init)
        a.termAt = row[10]
        a.killAt = row[11]
        a.endedAt = row[12]
        a.outcome = row[13]
        a.exitStatus = (row[14] as Int64?).map { Int32(truncatingIfNeeded: $0) }
        a.exitSignal = (row[15] as Int64?).map { Int32(truncatingIfNeeded: $0) }
        a.checkpointStale = row[16]
        return a
    }

    func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .database, message: "\(path): \(error)")
        }
    }
}
