public import Foundation
public import Logging
import PostgresNIO
import SovereignLedger
public import SovereignServer

/// ``ControlStore`` over PostgreSQL through postgres-nio: the SQLite store's migrations in PostgreSQL's SQL,
/// every method one transaction, and ledger tables that a trigger keeps insert-only.
///
/// Committing transactions take turns on an advisory lock, so ledger entries are numbered without gaps or
/// duplicates whoever writes. Several servers may share the database: one leads, on a lease with a fencing
/// epoch (``lead(as:renewing:for:)``), and a change or checkpoint that carries an epoch is refused once the
/// lease has passed to a later one.
public final class PostgresControlStore: ControlStore {
    let session: PostgresSession
    /// Where the database is (its description never holds the password).
    public var location: PostgresLocation { session.location }

    /// Connects to the database at `location`, creating and migrating its tables if needed.
    ///
    /// - Parameter time: when the migrations are recorded as applied.
    /// - Throws: ``StoreError`` naming the database when it cannot be reached or migrated.
    public init(location: PostgresLocation, logger: Logger, at time: Date = Date()) throws {
        session = PostgresSession(location: location, logger: logger)
        try session.transaction { link in try PostgresSchema.migrate(link, at: time) }
    }

    /// Closes the connection; a later call connects again.
    ///
    /// - Throws: ``StoreError`` when the connection does not close cleanly.
    public func close() throws { try session.close() }

    // MARK: Writing

    public func commit(_ change: StateChange, at time: Date) throws -> CommittedChange {
        try session.transaction { link in
            try link.rows("SELECT pg_advisory_xact_lock(\(PostgresSchema.Lock.write.rawValue))")
            try Self.fence(change.epoch, in: link)
            try Self.write(workloads: change, in: link)
            let ids = try Self.write(attempts: change, in: link)
            try Self.write(history: change, in: link)
            let entries = try Self.append(change.ledger, at: time, in: link)
            return CommittedChange(entries: entries, attemptIDs: ids)
        }
    }

    /// Inserts a change's new workloads (refusing a taken name) and updates its changed ones.
    static func write(workloads change: StateChange, in link: PostgresSession.Link) throws {
        for w in change.newWorkloads {
            let taken = try link.row("SELECT EXISTS (SELECT 1 FROM workload WHERE name = \(w.name))")
            if try taken?[0].decode(Bool.self) == true { throw StoreError.nameTaken(w.name) }
            try link.rows(
                """
                INSERT INTO workload (name, source, document, state, site, pool, accelerators, checkpointSite,
                    failures, retryAt, held, cancelRequested, runSeconds, detail, submittedAt, updatedAt,
                    replicaSite, replicaAt)
                VALUES (\(w.name), \(w.source), \(w.document), \(w.state.rawValue), \(w.site), \(w.pool),
                    \(w.accelerators), \(w.checkpointSite), \(w.failures), \(w.retryAt), \(w.held),
                    \(w.cancelRequested), \(w.runSeconds), \(w.detail), \(w.submittedAt), \(w.updatedAt),
                    \(w.replicaSite), \(w.replicaAt))
                """
            )
        }
        for w in change.workloads {
            try link.rows(
                """
                UPDATE workload SET state = \(w.state.rawValue), site = \(w.site), pool = \(w.pool),
                    accelerators = \(w.accelerators), checkpointSite = \(w.checkpointSite), failures = \(w.failures),
                    retryAt = \(w.retryAt), runSeconds = \(w.runSeconds), detail = \(w.detail),
                    submittedAt = \(w.submittedAt), updatedAt = \(w.updatedAt),
                    replicaSite = \(w.replicaSite), replicaAt = \(w.replicaAt)
                WHERE name = \(w.name)
                """
            )
        }
        for r in change.requests {
            try link.rows(
                """
                UPDATE workload SET held = \(r.held), cancelRequested = \(r.cancelRequested),
                    updatedAt = \(r.at)
                WHERE name = \(r.workload)
                """
            )
        }
    }

    /// Inserts a change's new attempts and updates its changed ones.
    ///
    /// - Returns: the ids of the new attempts, in order.
    static func write(attempts change: StateChange, in link: PostgresSession.Link) throws -> [Int64] {
        var ids: [Int64] = []
        for a in change.newAttempts {
            let row = try link.row(
                """
                INSERT INTO attempt (workload, number, site, pool, accelerators, resume, handle, startedAt, termAt,
                    killAt, endedAt, outcome, exitStatus, exitSignal, checkpointStale, logPath)
                VALUES (\(a.workload), \(a.number), \(a.site), \(a.pool), \(a.accelerators), \(a.resume),
                    \(a.handle?.rawValue), \(a.startedAt), \(a.termAt), \(a.killAt), \(a.endedAt), \(a.outcome),
                    \(a.exitStatus.map { Int64($0) }), \(a.exitSignal.map { Int64($0) }), \(a.checkpointStale),
                    \(a.logPath))
                RETURNING id
                """
            )
            ids.append(try row?[0].decode(Int64.self) ?? 0)
        }
        for a in change.attempts {
            guard let id = a.id else { continue }
            try link.rows(
                """
                UPDATE attempt SET workload = \(a.workload), number = \(a.number), site = \(a.site),
                    pool = \(a.pool), accelerators = \(a.accelerators), resume = \(a.resume),
                    handle = \(a.handle?.rawValue), startedAt = \(a.startedAt), termAt = \(a.termAt),
                    killAt = \(a.killAt), endedAt = \(a.endedAt), outcome = \(a.outcome),
                    exitStatus = \(a.exitStatus.map { Int64($0) }), exitSignal = \(a.exitSignal.map { Int64($0) }),
                    checkpointStale = \(a.checkpointStale), logPath = \(a.logPath)
                WHERE id = \(id)
                """
            )
        }
        return ids
    }

    /// Inserts a change's history lines and power signals.
    static func write(history change: StateChange, in link: PostgresSession.Link) throws {
        for t in change.transitions {
            try link.rows(
                """
                INSERT INTO transition (workload, at, fromState, toState, reason)
                VALUES (\(t.workload), \(t.at), \(t.from?.rawValue), \(t.to.rawValue), \(t.reason))
                """
            )
        }
        for p in change.powerSignals {
            let forecast = String(decoding: try JSONEncoder().encode(p.forecast), as: UTF8.self)
            try link.rows(
                """
                WITH signal AS (
                    INSERT INTO power_signal (site, at, available, forecast, ambient)
                    VALUES (\(p.site), \(p.at), \(p.available), \(forecast), \(p.ambient))
                    RETURNING site, id
                )
                INSERT INTO power_latest (site, signal) SELECT site, id FROM signal
                ON CONFLICT (site) DO UPDATE SET signal = GREATEST(power_latest.signal, excluded.signal)
                """
            )
        }
    }

    /// Numbers, times and appends ledger entries after the last stored one, never timed before it
    /// (``LedgerEntry/appendTime(_:after:)``; the caller holds the write lock).
    ///
    /// - Returns: the entries as stored.
    static func append(_ ledger: [LedgerEvent], at time: Date, in link: PostgresSession.Link) throws -> [StoredEntry] {
        guard !ledger.isEmpty else { return [] }
        let last = try link.row("SELECT sequence, entry FROM ledger_entry ORDER BY sequence DESC LIMIT 1")
        var sequence = try last.map { try $0[0].decode(Int.self) + 1 } ?? 0
        let stamp = LedgerEntry.appendTime(time, after: try last.map { [UInt8](try $0[1].decode(Data.self)) })
        var entries: [StoredEntry] = []
        for event in ledger {
            let recorded = event.entry
            let entry = LedgerEntry(sequence: sequence, time: stamp, kind: recorded.kind, fields: recorded.fields)
            let bytes = entry.canonicalJSON()
            let leaf = MerkleHash.leaf(bytes)
            try link.rows(
                """
                INSERT INTO ledger_entry (sequence, entry, leafHash)
                VALUES (\(sequence), \(Data(bytes)), \(Data(leaf.bytes)))
                """
            )
            if let dataset = event.derivedDataset {
                try link.rows("INSERT INTO derivation_run (sequence, dataset) VALUES (\(sequence), \(dataset))")
            }
            entries.append(StoredEntry(sequence: sequence, canonicalJSON: bytes, leafHash: leaf))
            sequence += 1
        }
        return entries
    }

    public func addCheckpoint(size: Int, note: String, at time: Date, epoch: Int64?) throws {
        try session.transaction { link in
            try Self.fence(epoch, in: link)
            try link.rows(
                """
                INSERT INTO ledger_checkpoint (size, note, createdAt) VALUES (\(size), \(note), \(time.timeIntervalSince1970))
                ON CONFLICT (size) DO NOTHING
                """
            )
        }
    }
}
