import Foundation
import SovereignLedger
import SovereignServer
import SovereignTesting
import Testing

/// ``ControlStore``'s contract, the same cases on SQLite and on PostgreSQL: what is committed reads back, a
/// change is all or nothing, ledger entries are numbered without gaps across commits, and the ledger cannot be
/// changed behind the store.
struct ControlStoreTests {
    static let time = Date(timeIntervalSince1970: 1_795_000_000)

    func store(_ backend: StoreBackend) throws -> any ControlStore {
        try backend.makeStore(in: try Fixtures.temporaryDirectory())
    }

    func submission(_ names: String...) -> StateChange {
        var change = StateChange()
        for (index, name) in names.enumerated() {
            change.newWorkloads.append(
                WorkloadRecord(name: name, source: "api", document: "doc \(name)", at: 100 + Double(index))
            )
            change.ledger.append(.cancelRequested(workload: name, by: "token:test"))
        }
        return change
    }

    func attempt(_ workload: String, _ number: Int, site: String) -> AttemptRecord {
        AttemptRecord(
            workload: workload,
            number: number,
            site: site,
            pool: "a100",
            accelerators: 8,
            resume: number > 1,
            startedAt: 200 + Double(number),
            logPath: "/logs/\(workload)-\(number)"
        )
    }

    @Test(arguments: StoreBackend.allCases)
    func workloadsReadBackAsCommittedInSubmissionOrder(_ backend: StoreBackend) throws {
        let store = try store(backend)
        _ = try store.commit(submission("b", "a", "c"), at: Self.time)
        var updated = try #require(try store.workload(named: "a"))
        updated.state = .running
        updated.site = "nairobi-1"
        updated.pool = "a100"
        updated.accelerators = 16
        updated.retryAt = 1.5
        updated.held = true
        updated.runSeconds = 42.25
        updated.replicaSite = "mombasa-1"
        updated.replicaAt = 7
        var change = StateChange()
        change.workloads = [updated]
        _ = try store.commit(change, at: Self.time)
        // The operator's request is not the pass's to write: a record's `held` lands only as a request.
        #expect(try store.workload(named: "a")?.held == false)
        change = StateChange()
        change.requests = [WorkloadRequest(updated)]
        _ = try store.commit(change, at: Self.time)

        #expect(try store.workload(named: "a") == updated)
        #expect(try store.workload(named: "nope") == nil)
        #expect(try store.workloads().map(\.name) == ["b", "a", "c"])
        let first = try store.workloads(after: 0, limit: 2)
        #expect(first.map(\.record.name) == ["b", "a"])
        let rest = try store.workloads(after: try #require(first.last).position, limit: 2)
        #expect(rest.map(\.record.name) == ["c"])
        #expect(try store.workloadCounts() == [.pending: 2, .running: 1])
    }

    @Test(arguments: StoreBackend.allCases)
    func aTakenNameRefusesTheWholeChange(_ backend: StoreBackend) throws {
        let store = try store(backend)
        _ = try store.commit(submission("a"), at: Self.time)
        #expect {
            _ = try store.commit(submission("fresh", "a"), at: Self.time)
        } throws: { error in
            (error as? StoreError)?.isNameTaken == true
        }
        #expect(try store.workloads().map(\.name) == ["a"])
        #expect(try store.ledgerEntries(from: 0, limit: 100).count == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func terminalWorkloadsLeaveTheActiveList(_ backend: StoreBackend) throws {
        let store = try store(backend)
        _ = try store.commit(submission("a", "b", "c"), at: Self.time)
        var change = StateChange()
        for (name, state) in [("a", WorkloadState.completed), ("c", .paused)] {
            var record = try #require(try store.workload(named: name))
            record.state = state
            change.workloads.append(record)
        }
        _ = try store.commit(change, at: Self.time)
        #expect(try store.activeWorkloads().map(\.name) == ["b", "c"])
    }

    @Test(arguments: StoreBackend.allCases)
    func attemptsAreNumberedAndOpenOnesFoundBySite(_ backend: StoreBackend) throws {
        let store = try store(backend)
        var change = submission("a", "b")
        change.newAttempts = [
            attempt("a", 1, site: "nairobi-1"), attempt("b", 1, site: "mombasa-1"), attempt("a", 2, site: "mombasa-1"),
        ]
        let ids = try store.commit(change, at: Self.time).attemptIDs
        #expect(ids.count == 3 && Set(ids).count == 3)

        var ended = try #require(try store.attempts(of: "a").first)
        #expect(ended.id == ids[0] && ended.logPath == "/logs/a-1" && ended.handle == nil)
        ended.handle = AttemptHandle("4242")
        ended.endedAt = 300
        ended.outcome = "failed"
        ended.exitStatus = 1
        ended.exitSignal = 9
        ended.checkpointStale = true
        var end = StateChange()
        end.attempts = [ended]
        _ = try store.commit(end, at: Self.time)

        #expect(try store.attempts(of: "a") == [ended, try #require(try store.openAttempts(at: "mombasa-1").last)])
        #expect(try store.openAttempts().map(\.id) == [ids[1], ids[2]])
        #expect(try store.openAttempts(at: "mombasa-1").map(\.workload) == ["b", "a"])
        #expect(try store.openAttempts(at: "nairobi-1").isEmpty)
        #expect(try store.lastAttemptNumbers() == ["a": 2, "b": 1])
    }

    @Test(arguments: StoreBackend.allCases)
    func historyAndTheLatestPowerSignalOfEachSite(_ backend: StoreBackend) throws {
        let store = try store(backend)
        var change = submission("a")
        change.transitions = [
            TransitionRecord(workload: "a", at: 1, from: nil, to: .pending, reason: "submitted"),
            TransitionRecord(workload: "a", at: 2, from: .pending, to: .placed, reason: "fits nairobi-1"),
        ]
        let forecast = [PowerSignalRecord.ForecastPoint(at: 60, available: 5_000)]
        change.powerSignals = [
            PowerSignalRecord(site: "nairobi-1", at: 1, available: 90_000, forecast: [], ambient: nil),
            PowerSignalRecord(site: "mombasa-1", at: 1, available: 10_000, forecast: [], ambient: 30),
            PowerSignalRecord(site: "nairobi-1", at: 2, available: 20_000, forecast: forecast, ambient: 25.5),
        ]
        _ = try store.commit(change, at: Self.time)
        #expect(try store.transitions(of: "a") == change.transitions)
        #expect(try store.transitions(of: "b").isEmpty)
        #expect(
            try store.latestPowerSignals() == [
                "nairobi-1": change.powerSignals[2], "mombasa-1": change.powerSignals[1],
            ]
        )
    }

    /// A store from before the latest-signal table (v8) keeps every site's latest signal: the migration fills
    /// the table from the signals stored before it, and later signals move it on.
    @Test(arguments: StoreBackend.allCases)
    func theLatestSignalsSurviveTheMigrationThatIndexesThem(_ backend: StoreBackend) throws {
        let directory = try Fixtures.temporaryDirectory()
        let postgres = backend == .postgres ? try StoreBackend.newDatabase() : nil
        func open() throws -> any ControlStore {
            guard let postgres else {
                return try SQLiteControlStore(path: directory.appendingPathComponent("state.sqlite").path)
            }
            return try StoreBackend.postgresStore(postgres)
        }
        var change = StateChange()
        change.powerSignals = [
            PowerSignalRecord(site: "nairobi-1", at: 1, available: 90_000, forecast: [], ambient: nil),
            PowerSignalRecord(site: "mombasa-1", at: 1, available: 10_000, forecast: [], ambient: 30),
            PowerSignalRecord(site: "nairobi-1", at: 2, available: 20_000, forecast: [], ambient: 25.5),
        ]
        let before = try open()
        _ = try before.commit(change, at: Self.time)
        // What a database migrated before v8 looks like.
        let forget = postgres == nil ? "grdb_migrations WHERE identifier" : "sovereign_migration WHERE name"
        try StoreBackend.executeBehind(before, "DROP TABLE power_latest")
        try StoreBackend.executeBehind(before, "DELETE FROM \(forget) LIKE 'v8:%'")
        let after = try open()
        #expect(
            try after.latestPowerSignals() == [
                "nairobi-1": change.powerSignals[2], "mombasa-1": change.powerSignals[1],
            ]
        )
        var later = StateChange()
        later.powerSignals = [PowerSignalRecord(site: "mombasa-1", at: 3, available: 0, forecast: [], ambient: nil)]
        _ = try after.commit(later, at: Self.time)
        #expect(
            try after.latestPowerSignals() == ["nairobi-1": change.powerSignals[2], "mombasa-1": later.powerSignals[0]]
        )
    }

    @Test(arguments: StoreBackend.allCases)
    func ledgerEntriesAreNumberedAcrossCommitsAndReadAlike(_ backend: StoreBackend) throws {
        let store = try store(backend)
        let first = try store.commit(submission("a", "b"), at: Self.time).entries
        let second = try store.commit(submission("c"), at: Self.time.addingTimeInterval(1)).entries
        #expect((first + second).map(\.sequence) == [0, 1, 2])
        var streamed: [StoredEntry] = []
        try store.forEachLedgerEntry { streamed.append($0) }
        #expect(streamed == first + second)
        #expect(try store.ledgerEntries(from: 1, limit: 1) == [first[1]])
        #expect(try store.ledgerLeafHashes() == (first + second).map(\.leafHash))
        #expect(first[0].leafHash == MerkleHash.leaf(first[0].canonicalJSON))
    }

    /// Writers read their clocks before they take their turn to append (a pass, a group of submissions, another
    /// replica), so a commit may come with a time before the last entry's: it is stamped with the last entry's.
    @Test(arguments: StoreBackend.allCases)
    func ledgerTimesNeverGoBackwards(_ backend: StoreBackend) throws {
        let store = try store(backend)
        let later = Self.time.addingTimeInterval(5)
        _ = try store.commit(submission("a"), at: later)
        _ = try store.commit(submission("b", "c"), at: Self.time)
        _ = try store.commit(submission("d"), at: later.addingTimeInterval(1))
        var times: [String] = []
        try store.forEachLedgerEntry { times.append(try LedgerEntry(canonicalJSON: $0.canonicalJSON).time) }
        let stamp = { (date: Date) in LedgerEntry.formatTime(date) }
        #expect(times == [stamp(later), stamp(later), stamp(later), stamp(later.addingTimeInterval(1))])
    }

    @Test(arguments: StoreBackend.allCases)
    func anonymisationRunsAreIndexedByTheirDerivedDatasetWithTheirEntries(_ backend: StoreBackend) throws {
        let store = try store(backend)
        #expect(try store.derivationRuns().isEmpty)
        let run = LedgerEvent.DerivationRun(report: try DerivationTests.report(), jurisdiction: "KE", by: "token:t")
        var change = submission("a")
        change.ledger.append(.derived(run))
        let first = try store.commit(change, at: Self.time).entries
        #expect(try store.derivationRuns() == ["ke-records-anon": first[1].sequence])
        var again = StateChange()
        again.ledger = [.derived(run)]
        let second = try store.commit(again, at: Self.time).entries
        #expect(try store.derivationRuns() == ["ke-records-anon": second[0].sequence])
    }

    @Test(arguments: StoreBackend.allCases)
    func aSitesPowerHistoryIsSummedUpByBucketWithTheSignalInForceBefore(_ backend: StoreBackend) throws {
        let store = try store(backend)
        var change = StateChange()
        change.powerSignals = [
            PowerSignalRecord(site: "nairobi-1", at: 50, available: 70_000, forecast: [], ambient: 18),
            PowerSignalRecord(site: "nairobi-1", at: 100, available: 50_000, forecast: [], ambient: 20),
            PowerSignalRecord(site: "nairobi-1", at: 150, available: 40_000, forecast: [], ambient: 24),
            PowerSignalRecord(site: "mombasa-1", at: 160, available: 1_000, forecast: [], ambient: 40),
            PowerSignalRecord(site: "nairobi-1", at: 299, available: 60_000, forecast: [], ambient: nil),
            PowerSignalRecord(site: "nairobi-1", at: 300, available: 10_000, forecast: [], ambient: 31),
        ]
        _ = try store.commit(change, at: Self.time)
        // Two buckets of 100 s over [100, 300]: the last one also takes the window's end.
        #expect(
            try store.powerHistory(of: "nairobi-1", in: 100...300, buckets: 2) == [
                PowerHistoryPoint(at: 50, available: 70_000, ambient: 18),
                PowerHistoryPoint(at: 100, available: 40_000, ambient: 24),
                PowerHistoryPoint(at: 299, available: 10_000, ambient: 31),
            ]
        )
        #expect(try store.powerHistory(of: "kigali-1", in: 0...1_000, buckets: 10).isEmpty)
    }

    @Test(arguments: StoreBackend.allCases)
    func aCheckpointIsStoredOncePerSize(_ backend: StoreBackend) throws {
        let store = try store(backend)
        try store.addCheckpoint(size: 2, note: "two", at: Self.time)
        try store.addCheckpoint(size: 1, note: "one", at: Self.time)
        try store.addCheckpoint(size: 2, note: "two again", at: Self.time)
        #expect(try store.checkpoints() == ["one", "two"])
    }

    @Test(arguments: StoreBackend.allCases)
    func theLedgerCannotBeChangedBehindTheStore(_ backend: StoreBackend) throws {
        let store = try store(backend)
        let entries = try store.commit(submission("a"), at: Self.time).entries
        try store.addCheckpoint(size: 1, note: "one", at: Self.time)
        for sql in [
            "UPDATE ledger_entry SET sequence = 7", "DELETE FROM ledger_entry",
            "UPDATE ledger_checkpoint SET note = 'forged'", "DELETE FROM ledger_checkpoint",
        ] {
            #expect(throws: (any Error).self, "\(sql)") { try StoreBackend.executeBehind(store, sql) }
        }
        if backend == .postgres {
            for table in ["ledger_entry", "ledger_checkpoint"] {
                #expect(throws: (any Error).self) { try StoreBackend.executeBehind(store, "TRUNCATE \(table)") }
            }
        }
        #expect(try store.ledgerEntries(from: 0, limit: 10) == entries)
        #expect(try store.checkpoints() == ["one"])
    }
}
