import Foundation
import PostgresNIO
public import SovereignLedger
public import SovereignServer

extension PostgresControlStore {
    /// A workload row's columns, in the order ``workload(_:)`` reads them.
    static let workloadColumns = """
        seq, name, source, document, state, site, pool, accelerators, checkpointSite, failures, retryAt, held,
        cancelRequested, runSeconds, detail, submittedAt, updatedAt, replicaSite, replicaAt
        """
    /// An attempt row's columns, in the order ``attempt(_:)`` reads them.
    static let attemptColumns = """
        id, workload, number, site, pool, accelerators, resume, handle, startedAt, termAt, killAt, endedAt, outcome,
        exitStatus, exitSignal, checkpointStale, logPath
        """
    /// Ledger entries read per round trip when streaming.
    static let ledgerPage = 1000

    public func workloads(after position: Int64, limit: Int?) throws -> [(position: Int64, record: WorkloadRecord)] {
        try session.with { link in
            try link.rows(
                """
                SELECT \(unescaped: Self.workloadColumns) FROM workload WHERE seq > \(position) ORDER BY seq
                LIMIT \(limit.map(Int64.init))
                """
            ).map { row in
                let columns = row.makeRandomAccess()
                return (position: try columns[0].decode(Int64.self), record: try Self.workload(columns))
            }
        }
    }

    public func activeWorkloads() throws -> [WorkloadRecord] {
        try session.with { link in
            try link.rows(
                """
                SELECT \(unescaped: Self.workloadColumns) FROM workload
                WHERE state NOT IN ('completed', 'failed', 'cancelled') ORDER BY seq
                """
            ).map { try Self.workload($0.makeRandomAccess()) }
        }
    }

    public func workloadCounts() throws -> [WorkloadState: Int] {
        try session.with { link in
            var counts: [WorkloadState: Int] = [:]
            for row in try link.rows("SELECT state, COUNT(*) FROM workload GROUP BY state") {
                let (state, count) = try row.decode((String, Int).self)
                if let state = WorkloadState(rawValue: state) { counts[state] = count }
            }
            return counts
        }
    }

    public func workload(named name: String) throws -> WorkloadRecord? {
        try session.with { link in
            try link.row("SELECT \(unescaped: Self.workloadColumns) FROM workload WHERE name = \(name)").map(
                Self.workload
            )
        }
    }

    public func attempts(of workload: String) throws -> [AttemptRecord] {
        try attempts(where: "workload = \(workload)")
    }

    public func openAttempts() throws -> [AttemptRecord] {
        try attempts(where: "endedAt IS NULL")
    }

    public func openAttempts(at site: String) throws -> [AttemptRecord] {
        try attempts(where: "endedAt IS NULL AND site = \(site)")
    }

    /// The attempts that match `condition` (a query fragment with its binds), oldest first.
    func attempts(where condition: PostgresQuery) throws -> [AttemptRecord] {
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(Self.attemptColumns) FROM attempt WHERE \(condition.sql) ORDER BY id",
            binds: condition.binds
        )
        return try session.with { link in try link.rows(query).map { try Self.attempt($0.makeRandomAccess()) } }
    }

    public func lastAttemptNumbers() throws -> [String: Int] {
        try session.with { link in
            var numbers: [String: Int] = [:]
            // Only active workloads start attempts, so only theirs are read.
            let query: PostgresQuery = """
                SELECT workload, MAX(number) FROM attempt
                WHERE workload IN (SELECT name FROM workload WHERE state NOT IN ('completed', 'failed', 'cancelled'))
                GROUP BY workload
                """
            for row in try link.rows(query) {
                let (workload, number) = try row.decode((String, Int).self)
                numbers[workload] = number
            }
            return numbers
        }
    }

    public func powerHistory(
        of site: String,
        in window: ClosedRange<Double>,
        buckets: Int
    ) throws -> [PowerHistoryPoint] {
        let width = max(window.upperBound - window.lowerBound, 1e-3) / Double(max(buckets, 1))
        let (start, end, last) = (window.lowerBound, window.upperBound, buckets - 1)
        let rows = try session.with { link in
            let before = try link.rows(
                """
                SELECT at, available, ambient FROM power_signal WHERE site = \(site) AND at < \(start)
                ORDER BY at DESC, id DESC LIMIT 1
                """
            )
            let inside = try link.rows(
                """
                SELECT MIN(at), MIN(available), MAX(ambient) FROM power_signal
                WHERE site = \(site) AND at >= \(start) AND at <= \(end)
                GROUP BY LEAST(FLOOR((at - \(start)) / \(width))::BIGINT, \(last)) ORDER BY 1
                """
            )
            return try (before + inside).map { try $0.decode((Double, Double, Double?).self) }
        }
        return rows.map { PowerHistoryPoint(at: $0.0, available: $0.1, ambient: $0.2) }
    }

    public func derivationRuns() throws -> [String: Int] {
        try session.with { link in
            var runs: [String: Int] = [:]
            for row in try link.rows("SELECT dataset, MAX(sequence) FROM derivation_run GROUP BY dataset") {
                let (dataset, sequence) = try row.decode((String, Int).self)
                runs[dataset] = sequence
            }
            return runs
        }
    }

    public func transitions(of workload: String) throws -> [TransitionRecord] {
        try session.with { link in
            try link.rows(
                "SELECT workload, at, fromState, toState, reason FROM transition WHERE workload = \(workload) ORDER BY id"
            ).map { row in
                let (workload, at, from, to, reason) = try row.decode((String, Double, String?, String, String).self)
                return TransitionRecord(
                    workload: workload,
                    at: at,
                    from: from.flatMap(WorkloadState.init(rawValue:)),
                    to: WorkloadState(rawValue: to) ?? .pending,
                    reason: reason
                )
            }
        }
    }

    public func latestPowerSignals() throws -> [String: PowerSignalRecord] {
        let rows = try session.with { link in
            try link.rows(
                """
                SELECT p.site, p.at, p.available, p.forecast, p.ambient
                FROM power_latest l JOIN power_signal p ON p.id = l.signal
                """
            ).map { try $0.decode((String, Double, Double, String, Double?).self) }
        }
        var result: [String: PowerSignalRecord] = [:]
        for (site, at, available, text, ambient) in rows {
            let forecast =
                (try? JSONDecoder().decode([PowerSignalRecord.ForecastPoint].self, from: Data(text.utf8))) ?? []
            result[site] = PowerSignalRecord(
                site: site,
                at: at,
                available: available,
                forecast: forecast,
                ambient: ambient
            )
        }
        return result
    }

    // MARK: The ledger

    public func ledgerEntries(from start: Int, limit: Int) throws -> [StoredEntry] {
        try session.with { link in
            try link.rows(
                """
                SELECT sequence, entry, leafHash FROM ledger_entry WHERE sequence >= \(start) ORDER BY sequence
                LIMIT \(limit)
                """
            ).map(Self.entry)
        }
    }

    /// Streams in pages of ``ledgerPage`` entries in sequence order (PostgreSQL has no rowid): a renumbered row
    /// still shows, as its entry's own sequence then disagrees with its place.
    public func forEachLedgerEntry(_ body: (StoredEntry) throws -> Void) throws {
        var next = 0
        while true {
            let page = try ledgerEntries(from: next, limit: Self.ledgerPage)
            for entry in page { try body(entry) }
            guard page.count == Self.ledgerPage, let last = page.last else { return }
            next = last.sequence + 1
        }
    }

    public func ledgerLeafHashes() throws -> [TreeHash] {
        try session.with { link in
            try link.rows("SELECT leafHash FROM ledger_entry ORDER BY sequence").enumerated().map { index, row in
                guard let hash = TreeHash(bytes: try row.decode(Data.self)) else {
                    throw StoreError.database("\(location): the leaf hash of entry \(index) is not 32 bytes")
                }
                return hash
            }
        }
    }

    public func checkpoints() throws -> [String] {
        try session.with { link in
            try link.rows("SELECT note FROM ledger_checkpoint ORDER BY size").map { try $0.decode(String.self) }
        }
    }

    // MARK: Rows

    /// A workload from a row of ``workloadColumns``.
    static func workload(_ row: PostgresRandomAccessRow) throws -> WorkloadRecord {
        var w = WorkloadRecord(
            name: try row[1].decode(String.self),
            source: try row[2].decode(String.self),
            document: try row[3].decode(String.self),
            at: try row[15].decode(Double.self)
        )
        w.state = WorkloadState(rawValue: try row[4].decode(String.self)) ?? .pending
        w.site = try row[5].decode(String?.self)
        w.pool = try row[6].decode(String?.self)
        w.accelerators = try row[7].decode(Int?.self)
        w.checkpointSite = try row[8].decode(String?.self)
        w.failures = try row[9].decode(Int.self)
        w.retryAt = try row[10].decode(Double?.self)
        w.held = try row[11].decode(Bool.self)
        w.cancelRequested = try row[12].decode(Bool.self)
        w.runSeconds = try row[13].decode(Double.self)
        w.detail = try row[14].decode(String.self)
        w.updatedAt = try row[16].decode(Double.self)
        w.replicaSite = try row[17].decode(String?.self)
        w.replicaAt = try row[18].decode(Double?.self)
        return w
    }

    /// An attempt from a row of ``attemptColumns``.
    static func attempt(_ row: PostgresRandomAccessRow) throws -> AttemptRecord {
        var a = AttemptRecord(
            workload: try row[1].decode(String.self),
            number: try row[2].decode(Int.self),
            site: try row[3].decode(String.self),
            pool: try row[4].decode(String.self),
            accelerators: try row[5].decode(Int.self),
            resume: try row[6].decode(Bool.self),
            startedAt: try row[8].decode(Double.self),
            logPath: try row[16].decode(String.self)
        )
        a.id = try row[0].decode(Int64.self)
        a.handle = try row[7].decode(String?.self).map(AttemptHandle.init)
        a.termAt = try row[9].decode(Double?.self)
        a.killAt = try row[10].decode(Double?.self)
        a.endedAt = try row[11].decode(Double?.self)
        a.outcome = try row[12].decode(String?.self)
        a.exitStatus = try row[13].decode(Int64?.self).map { Int32(truncatingIfNeeded: $0) }
        a.exitSignal = try row[14].decode(Int64?.self).map { Int32(truncatingIfNeeded: $0) }
        a.checkpointStale = try row[15].decode(Bool.self)
        return a
    }

    /// A ledger entry from a row of `sequence, entry, leafHash`; a leaf hash that is not 32 bytes reads as the
    /// empty tree's hash, so the audit reports the row as not matching its entry (as the SQLite store does).
    static func entry(_ row: PostgresRow) throws -> StoredEntry {
        let (sequence, entry, leaf) = try row.decode((Int, Data, Data).self)
        return StoredEntry(
            sequence: sequence,
            canonicalJSON: [UInt8](entry),
            leafHash: TreeHash(bytes: leaf) ?? MerkleHash.empty
        )
    }
}
