import Foundation
import Logging
import SovereignBase
import SovereignLedger
import SovereignModel
import SovereignServer
import Synchronization
import Testing

/// The control loop against a fake executor and a hand-moved clock: every decision checked.
struct ControlPlaneTests {
    /// A server shutting down takes no more asked-for passes: once stopped, asking starts nothing, and a
    /// submission stays as committed.
    @Test(arguments: StoreBackend.allCases) func askedPassesStopAtShutdown(_ backend: StoreBackend) async throws {
        let h = try F.harness(backend: backend)
        h.plane.askForPass()
        await h.plane.stopAskedPasses()
        _ = try await h.plane.submit(document: F.workload("late"), by: F.requester)
        h.plane.askForPass()
        await h.plane.askedPassesDone()
        #expect(try h.store.workload(named: "late")?.state == .pending)
    }

    typealias F = ControlFixtures

    func state(_ h: F.Harness, _ name: String) throws -> WorkloadState? { try h.store.workload(named: name)?.state }

    func kinds(_ h: F.Harness) throws -> [String] {
        try h.store.ledgerEntries(from: 0, limit: 10_000).map { entry in
            guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(entry.canonicalJSON)),
                case .string(let kind) = fields["kind"]
            else { return "?" }
            return kind
        }
    }

    @Test(arguments: StoreBackend.allCases) func submittedWorkloadStartsInsideItsResidency(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("train"), by: F.requester)
        try await h.plane.reconcile()
        let live = h.executor.live
        try #require(live.count == 1)
        #expect(["nairobi-1", "mombasa-1"].contains(live[0].site))
        #expect(try state(h, "train") == .running)
        let k = try kinds(h)
        #expect(k.contains("workload.submitted"))
        #expect(k.contains("workload.placed"))
        #expect(k.contains("workload.started"))
        #expect(k.contains("dataset.accessed"))
    }

    /// The server dies after committing a start (with its ledger entries) and before the process exists:
    /// the next server finds the attempt never ran and closes it in the ledger, after the claims it made.
    @Test(arguments: StoreBackend.allCases) func aStartThatNeverHappenedIsClosedInTheLedger(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        let dying = CrashingStore(h.store)
        let (fleet, declared) = try SovereignServer.loadFleet([h.directory.appendingPathComponent("fleet.yaml").path])
        let plane = try ControlPlane(
            fleet: fleet,
            declared: declared,
            store: dying,
            executor: h.executor,
            signer: h.signer,
            origin: "test",
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            lease: F.expiringLease,
            clock: h.clock.read
        )
        _ = try await plane.submit(document: F.workload("train"), by: F.requester)
        await #expect(throws: CrashingStore.Crash.self) { try await plane.reconcile() }
        // The crash came before the process: nothing of it exists.
        h.executor.state.withLock { $0.removeAll() }
        #expect(try kinds(h).contains("workload.started"))
        #expect(try kinds(h).contains("dataset.accessed"))
        try await h.restarted().reconcile()
        let k = try kinds(h)
        let started = try #require(k.firstIndex(of: "workload.started"))
        let closed = try #require(k.firstIndex(of: "workload.attempt-not-started"))
        #expect(started < closed)
        let first = try #require(try h.store.attempts(of: "train").first)
        #expect(first.outcome == "not-started")
    }

    @Test(arguments: StoreBackend.allCases) func powerDropPausesThenMigratesWithinTheJurisdiction(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("train"), by: F.requester)
        try await h.plane.reconcile()
        let first = try #require(h.executor.live.first)
        _ = try await h.plane.receivePower(
            site: first.site,
            available: .watts(0),
            forecast: [],
            ambient: nil,
            by: F.requester
        )
        #expect(try state(h, "train") == .pausing)
        #expect(h.executor.terminated == ["train"])
        h.executor.honourTerminations()
        h.clock.advance(1)
        try await h.plane.reconcile()
        // Paused, then resumed from its checkpoint at the other Kenyan site; never in Rwanda.
        let second = try #require(h.executor.live.first)
        #expect(second.site != first.site)
        #expect(second.site != "kigali-1")
        #expect(second.resume)
        #expect(try state(h, "train") == .resuming)
        let k = try kinds(h)
        #expect(k.contains("workload.paused"))
        #expect(k.contains("workload.migrated"))
        #expect(k.contains("workload.resumed"))
        try await h.plane.reconcile()
        #expect(try state(h, "train") == .running)
    }

    @Test(arguments: StoreBackend.allCases) func noPowerInTheJurisdictionMeansWaitingNotLeaving(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("train"), by: F.requester)
        try await h.plane.reconcile()
        for site in ["nairobi-1", "mombasa-1"] {
            _ = try await h.plane.receivePower(
                site: site,
                available: .watts(0),
                forecast: [],
                ambient: nil,
                by: F.requester
            )
        }
        h.executor.honourTerminations()
        for _ in 0..<5 {
            h.clock.advance(60)
            try await h.plane.reconcile()
        }
        #expect(h.executor.live.isEmpty)
        #expect(try state(h, "train") == .paused)
        let plan = try #require(await h.plane.currentPlan)
        let view = try #require(plan.workloads.first { $0.name == "train" })
        #expect(view.site == nil)
        // Power returns: it resumes in Kenya.
        _ = try await h.plane.receivePower(
            site: "nairobi-1",
            available: .kilowatts(100),
            forecast: [],
            ambient: nil,
            by: F.requester
        )
        let resumed = try #require(h.executor.live.first)
        #expect(resumed.site == "nairobi-1")
        #expect(resumed.resume)
    }

    @Test(arguments: StoreBackend.allCases) func lowestPriorityIsPausedFirst(_ backend: StoreBackend) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("low", priority: 1, accelerators: 16), by: F.requester)
        _ = try await h.plane.submit(document: F.workload("high", priority: 9, accelerators: 16), by: F.requester)
        // Mombasa off, so both run in Nairobi.
        _ = try await h.plane.receivePower(
            site: "mombasa-1",
            available: .watts(0),
            forecast: [],
            ambient: nil,
            by: F.requester
        )
        try #require(h.executor.live.count == 2)
        #expect(h.executor.live.allSatisfy { $0.site == "nairobi-1" })
        // Room for one 16-GPU job only.
        let one = h.executor.live.map { $0.accelerators }.max()!
        let watts = Double(one) * 400 * 1.25 * 1.2
        _ = try await h.plane.receivePower(
            site: "nairobi-1",
            available: .watts(watts),
            forecast: [],
            ambient: nil,
            by: F.requester
        )
        #expect(h.executor.terminated == ["low"])
        #expect(try state(h, "high") == .running)
    }

    @Test(arguments: StoreBackend.allCases) func failuresAreRetriedWithBackoffThenGivenUp(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("flaky", attempts: 2), by: F.requester)
        try await h.plane.reconcile()
        h.executor.exit("flaky", status: 1)
        try await h.plane.reconcile()
        let after = try #require(try h.store.workload(named: "flaky"))
        #expect(after.state == .pending)
        #expect(after.failures == 1)
        #expect(after.retryAt != nil)
        try await h.plane.reconcile()
        #expect(h.executor.live.isEmpty)  // still backing off
        h.clock.advance(5)
        try await h.plane.reconcile()
        #expect(h.executor.live.count == 1)
        h.executor.exit("flaky", status: 2)
        try await h.plane.reconcile()
        #expect(try state(h, "flaky") == .failed)
        #expect(try h.store.attempts(of: "flaky").map(\.outcome) == ["failed", "failed"])
        #expect(try kinds(h).contains("workload.failed"))
    }

    @Test(arguments: StoreBackend.allCases) func exitZeroCompletesAndTheLedgerAudits(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("quick"), by: F.requester)
        try await h.plane.reconcile()
        h.executor.exit("quick", status: 0)
        h.clock.advance(1)
        try await h.plane.reconcile()
        #expect(try state(h, "quick") == .completed)
        try await h.plane.signCheckpoint(force: true)
        var entries: [StoredEntry] = []
        try h.store.forEachLedgerEntry { entries.append($0) }
        let report = LedgerAudit.audit(
            entries: entries,
            checkpoints: try h.store.checkpoints(),
            verifier: try NoteVerifier(verifierKey: h.signer.verifierKey)
        )
        #expect(report.ok, "\(report.problems)")
        #expect(report.entries == entries.count)
        #expect(report.checkpoints >= 1)
    }

    @Test(arguments: StoreBackend.allCases) func graceRunsOutThenKillRecordsAStaleCheckpoint(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("stubborn"), by: F.requester)
        try await h.plane.reconcile()
        _ = try await h.plane.setHeld("stubborn", held: true, by: F.requester)
        #expect(try state(h, "stubborn") == .pausing)
        h.clock.advance(10)
        try await h.plane.reconcile()
        #expect(try state(h, "stubborn") == .pausing)  // within the 30 s grace
        h.clock.advance(25)
        try await h.plane.reconcile()  // kills
        try await h.plane.reconcile()  // sees it gone
        #expect(try state(h, "stubborn") == .paused)
        let attempt = try #require(try h.store.attempts(of: "stubborn").last)
        #expect(attempt.checkpointStale)
        #expect(attempt.outcome == "killed")
        // Held: it stays paused whatever the power.
        h.clock.advance(60)
        try await h.plane.reconcile()
        #expect(h.executor.live.isEmpty)
        _ = try await h.plane.setHeld("stubborn", held: false, by: F.requester)
        #expect(h.executor.live.count == 1)
    }

    @Test(arguments: StoreBackend.allCases) func cancelStopsForGood(_ backend: StoreBackend) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("doomed"), by: F.requester)
        try await h.plane.reconcile()
        _ = try await h.plane.cancel("doomed", by: F.requester)
        h.executor.honourTerminations()
        try await h.plane.reconcile()
        #expect(try state(h, "doomed") == .cancelled)
        h.clock.advance(600)
        try await h.plane.reconcile()
        #expect(h.executor.live.isEmpty)
        await #expect(throws: ControlError.self) { try await h.plane.cancel("doomed", by: F.requester) }
    }

    @Test(arguments: StoreBackend.allCases) func aRestartedControlPlaneAdoptsWhatRunsAndStartsNothingTwice(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        _ = try await h.plane.submit(document: F.workload("a"), by: F.requester)
        _ = try await h.plane.submit(document: F.workload("b", priority: 5), by: F.requester)
        try await h.plane.reconcile()
        try #require(h.executor.live.count == 2)
        let again = try h.restarted()
        for _ in 0..<3 { try await again.reconcile() }
        #expect(h.executor.live.count == 2)
        #expect(try h.store.attempts(of: "a").count == 1)
        #expect(try h.store.attempts(of: "b").count == 1)
    }

    @Test(arguments: StoreBackend.allCases) func submissionsAreValidatedAgainstTheFleet(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        let bad = F.workload("x", datasets: ["nowhere"])
        let error = try await #require(throws: SpecError.self) {
            try await h.plane.submit(document: bad, by: F.requester)
        }
        let first = try #require(error.diagnostics.first)
        #expect(first.location.file == "request body")
        #expect(first.location.line == 7)
        #expect(first.path.hasPrefix("spec.datasets"))
        _ = try await h.plane.submit(document: F.workload("x"), by: F.requester)
        await #expect(throws: StoreError.self) {
            try await h.plane.submit(document: F.workload("x"), by: F.requester)
        }
        let site = """
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: extra}
            spec: {size: 1 GB, site: nairobi-1, residency: [KE], classification: public}
            """
        await #expect(throws: SpecError.self) { try await h.plane.submit(document: site, by: F.requester) }
    }

    @Test(arguments: StoreBackend.allCases) func aTwoWorkloadSubmissionKeepsEachSpecAcrossARestart(
        _ backend: StoreBackend
    ) async throws {
        let h = try F.harness(backend: backend)
        let body =
            F.workload("with-data", priority: 3) + "---\n"
            + F.workload("without-data", priority: 7, datasets: []).replacingOccurrences(
                of: "train.py",
                with: "other.py"
            )
        _ = try await h.plane.submit(document: body, by: F.requester)
        let again = try h.restarted()
        let a = try #require(await again.spec(of: "with-data"))
        let b = try #require(await again.spec(of: "without-data"))
        #expect(a.datasets == ["ke-records"])
        #expect(a.priority == 3)
        #expect(b.datasets.isEmpty)
        #expect(b.priority == 7)
        #expect(b.run?.command == ["python3", "other.py"])
    }

    /// Whatever the power does, work bound to Kenyan data runs only in Kenya: 20 seeded runs of random power
    /// signals, pauses, resumes, failures and completions over a mix of bound and free workloads.
    @Test(arguments: StoreBackend.allCases, 0..<20)
    func residencyHoldsWhateverThePowerDoes(_ backend: StoreBackend, seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        let h = try F.harness(backend: backend)
        var bound = Set<String>()
        for i in 0..<6 {
            let isBound = random.next() % 2 == 0
            let name = "w\(i)"
            if isBound { bound.insert(name) }
            let document = F.workload(
                name,
                priority: Int(random.next() % 5),
                accelerators: [8, 16, 32][Int(random.next() % 3)],
                datasets: isBound ? ["ke-records"] : []
            )
            _ = try await h.plane.submit(document: document, by: F.requester)
        }
        for _ in 0..<30 {
            let site = ["nairobi-1", "mombasa-1", "kigali-1"][Int(random.next() % 3)]
            let kilowatts = [0.0, 3, 10, 40, 200][Int(random.next() % 5)]
            _ = try await h.plane.receivePower(
                site: site,
                available: .kilowatts(kilowatts),
                forecast: [],
                ambient: nil,
                by: F.requester
            )
            if random.next() % 3 == 0 { h.executor.honourTerminations() }
            if random.next() % 7 == 0, let victim = h.executor.live.randomElement(using: &random) {
                h.executor.exit(victim.workload, status: random.next() % 2 == 0 ? 0 : 1)
            }
            h.clock.advance(Double(random.next() % 90))
            await Task.yield()  // 20 seeds never suspend on their own: let the other tests' tasks run
            try await h.plane.reconcile()
            for attempt in h.executor.live where bound.contains(attempt.workload) {
                #expect(attempt.site != "kigali-1", "seed \(seed): \(attempt.workload) started in Rwanda")
            }
            // Never two live attempts of one workload.
            let names = h.executor.live.map(\.workload)
            #expect(Set(names).count == names.count, "seed \(seed): \(names)")
        }
        for name in bound {
            for attempt in try h.store.attempts(of: name) {
                #expect(["nairobi-1", "mombasa-1"].contains(attempt.site), "seed \(seed): \(name) at \(attempt.site)")
            }
        }
    }
}

/// A store whose server dies at the commit that records a started process (the one after the start's
/// intent): every earlier commit lands, that one and all after it fail.
final class CrashingStore: ControlStore, Sendable {
    struct Crash: Error {}
    let inner: any ControlStore
    let crashed = Mutex(false)

    init(_ inner: any ControlStore) { self.inner = inner }

    func commit(_ change: StateChange, at time: Date) throws -> CommittedChange {
        try crashed.withLock { crashed in
            if crashed || (change.newAttempts.isEmpty && change.attempts.contains { $0.handle != nil }) {
                crashed = true
                throw Crash()
            }
        }
        return try inner.commit(change, at: time)
    }
    func workloads(after position: Int64, limit: Int?) throws -> [(position: Int64, record: WorkloadRecord)] {
        try inner.workloads(after: position, limit: limit)
    }
    func activeWorkloads() throws -> [WorkloadRecord] { try inner.activeWorkloads() }
    func workloadCounts() throws -> [WorkloadState: Int] { try inner.workloadCounts() }
    func workload(named name: String) throws -> WorkloadRecord? { try inner.workload(named: name) }
    func attempts(of workload: String) throws -> [AttemptRecord] { try inner.attempts(of: workload) }
    func openAttempts() throws -> [AttemptRecord] { try inner.openAttempts() }
    func openAttempts(at site: String) throws -> [AttemptRecord] { try inner.openAttempts(at: site) }
    func lastAttemptNumbers() throws -> [String: Int] { try inner.lastAttemptNumbers() }
    func transitions(of workload: String) throws -> [TransitionRecord] { try inner.transitions(of: workload) }
    func latestPowerSignals() throws -> [String: PowerSignalRecord] { try inner.latestPowerSignals() }
    func powerHistory(of site: String, in window: ClosedRange<Double>, buckets: Int) throws -> [PowerHistoryPoint] {
        try inner.powerHistory(of: site, in: window, buckets: buckets)
    }
    func ledgerEntries(from start: Int, limit: Int) throws -> [StoredEntry] {
        try inner.ledgerEntries(from: start, limit: limit)
    }
    func forEachLedgerEntry(_ body: (StoredEntry) throws -> Void) throws { try inner.forEachLedgerEntry(body) }
    func ledgerLeafHashes() throws -> [TreeHash] { try inner.ledgerLeafHashes() }
    func addCheckpoint(size: Int, note: String, at time: Date, epoch: Int64?) throws {
        try inner.addCheckpoint(size: size, note: note, at: time, epoch: epoch)
    }
    func lead(as holder: String, renewing epoch: Int64?, for lease: Duration) throws -> Int64? {
        try inner.lead(as: holder, renewing: epoch, for: lease)
    }
    func checkpoints() throws -> [String] { try inner.checkpoints() }
    func derivationRuns() throws -> [String: Int] { try inner.derivationRuns() }
}
