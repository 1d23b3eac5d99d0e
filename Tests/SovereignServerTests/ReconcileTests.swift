import Foundation
import SovereignLedger
import SovereignModel
import Testing

@testable import SovereignServer

/// The control loop's decisions as a pure function: snapshots built by hand, no SQLite, no processes, no
/// clock. Observe, shed and place, each checked on what it commits and what it asks the executor to do.
struct ReconcileTests {
    typealias F = ControlFixtures

    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let loaded = Result {
        try FleetLoader().load(sources: [(file: "fleet.yaml", text: F.fleet)])
    }
    static let declared = Result {
        try FleetLoader().loadDeclared(sources: [(file: "fleet.yaml", text: F.fleet)]).declared
    }

    /// The decoded spec of a fixture workload.
    static func spec(_ document: String) throws -> Workload {
        let decoded = try ControlPlane.decodeSubmission(document, against: try declared.get())
        return try #require(decoded.first)
    }

    /// A workload submitted a minute ago, in `state`, placed at `site` when it runs.
    static func record(
        _ name: String,
        _ state: WorkloadState = .pending,
        site: String? = nil,
        accelerators: Int = 8
    )
        -> WorkloadRecord
    {
        var record = WorkloadRecord(
            name: name,
            source: "api",
            document: "",
            at: now.timeIntervalSince1970 - 60
        )
        record.state = state
        record.site = site
        record.pool = site.map { _ in "a100" }
        record.accelerators = site.map { _ in accelerators }
        return record
    }

    /// Attempt 1 of `name`, started `age` seconds ago at `site`.
    static func attempt(
        _ name: String,
        site: String,
        accelerators: Int = 8,
        age: Double = 30,
        id: Int64 = 1
    )
        -> AttemptRecord
    {
        var attempt = AttemptRecord(
            workload: name,
            number: 1,
            site: site,
            pool: "a100",
            accelerators: accelerators,
            resume: false,
            startedAt: now.timeIntervalSince1970 - age,
            logPath: "/dev/null"
        )
        attempt.id = id
        attempt.handle = AttemptHandle("\(1000 + id)")
        return attempt
    }

    static func snapshot(
        specs: [Workload],
        workloads: [WorkloadRecord],
        attempts: [ObservedAttempt] = [],
        power: [String: Double] = [:]
    ) throws -> ReconcileSnapshot {
        ReconcileSnapshot(
            now: now,
            fleet: try loaded.get(),
            specs: Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) }),
            workloads: workloads,
            attempts: attempts,
            checkpoints: [:],
            lastAttempts: Dictionary(
                uniqueKeysWithValues: attempts.map { ($0.attempt.workload, $0.attempt.number) }
            ),
            powerSignals: Dictionary(
                uniqueKeysWithValues: power.map { site, watts in
                    (
                        site,
                        PowerSignalRecord(
                            site: site,
                            at: now.timeIntervalSince1970,
                            available: watts,
                            forecast: [],
                            ambient: nil
                        )
                    )
                }
            ),
            resignalled: [],
            planStep: .minutes(5),
            horizon: .hours(24),
            logPath: { workload, number, _ in "/logs/\(workload)/\(number)" }
        )
    }

    static func run(_ snapshot: ReconcileSnapshot) -> ReconcileResult {
        Reconcile.run(snapshot, policy: ControlPlane.planningPolicy)
    }

    static func kinds(_ result: ReconcileResult) -> [String] { result.change.ledger.map(\.kind) }

    static func started(_ result: ReconcileResult) -> [AttemptRecord] {
        result.actions.compactMap { if case .start(let attempt, _) = $0 { attempt } else { nil } }
    }

    static func signalled(_ result: ReconcileResult, _ signal: AttemptSignal) -> [String] {
        result.actions.compactMap { action in
            if case .signal(let attempt, let sent) = action, sent == signal {
                attempt.workload
            } else {
                nil
            }
        }
    }

    static func state(_ result: ReconcileResult, _ name: String) -> WorkloadState? {
        result.change.workloads.first { $0.name == name }?.state
    }

    @Test func aWaitingWorkloadIsPlacedInsideItsResidencyAndItsIntentCommittedBeforeItStarts() throws {
        let train = try Self.spec(F.workload("train"))
        let result = Self.run(try Self.snapshot(specs: [train], workloads: [Self.record("train")]))
        let started = Self.started(result)
        try #require(started.count == 1)
        #expect(["nairobi-1", "mombasa-1"].contains(started[0].site))
        #expect(started[0].number == 1)
        #expect(started[0].logPath == "/logs/train/1")
        #expect(result.change.newAttempts == started)
        #expect(Self.kinds(result) == ["workload.placed", "workload.started", "dataset.accessed"])
        #expect(Self.state(result, "train") == .running)
        #expect(result.views["train"]?.site == started[0].site)
    }

    @Test func theNextAttemptIsNumberedAfterTheLastAndResumesFromACheckpoint() throws {
        let train = try Self.spec(F.workload("train"))
        var paused = Self.record("train", .paused)
        paused.checkpointSite = "mombasa-1"
        var snapshot = try Self.snapshot(specs: [train], workloads: [paused])
        snapshot.lastAttempts = ["train": 3]
        snapshot.checkpoints = ["train": 4096]
        let result = Self.run(snapshot)
        let attempt = try #require(Self.started(result).first)
        #expect(attempt.number == 4)
        #expect(attempt.resume)
        #expect(Self.state(result, "train") == .resuming)
        #expect(Self.kinds(result).contains("workload.resumed"))
        #expect(Self.kinds(result).contains("workload.migrated") == (attempt.site != "mombasa-1"))
    }

    @Test func theLowestPriorityIsShedWhenASiteLosesPower() throws {
        let low = try Self.spec(F.workload("low", priority: 1, accelerators: 16))
        let high = try Self.spec(F.workload("high", priority: 9, accelerators: 16))
        // Room for one 16-GPU job at Nairobi.
        let watts = 16.0 * 400 * 1.25 * 1.2
        let result = Self.run(
            try Self.snapshot(
                specs: [low, high],
                workloads: [
                    Self.record("low", .running, site: "nairobi-1", accelerators: 16),
                    Self.record("high", .running, site: "nairobi-1", accelerators: 16),
                ],
                attempts: [
                    ObservedAttempt(
                        attempt: Self.attempt("low", site: "nairobi-1", accelerators: 16),
                        observation: .running
                    ),
                    ObservedAttempt(
                        attempt: Self.attempt("high", site: "nairobi-1", accelerators: 16, id: 2),
                        observation: .running
                    ),
                ],
                power: ["nairobi-1": watts]
            )
        )
        #expect(Self.signalled(result, .stop) == ["low"])
        #expect(Self.state(result, "low") == .pausing)
        #expect(Self.state(result, "high") == nil)  // unchanged
        #expect(Self.kinds(result) == ["workload.pausing"])
        #expect(result.change.attempts.first?.termAt == Self.now.timeIntervalSince1970)
        #expect(Self.started(result).isEmpty)
    }

    @Test func aStopWithoutAnExitWithinTheGracePeriodEndsInAKill() throws {
        let stubborn = try Self.spec(F.workload("stubborn"))
        var stopping = Self.attempt("stubborn", site: "nairobi-1")
        stopping.termAt = Self.now.timeIntervalSince1970 - 31  // the fixture's grace is 30 s
        var snapshot = try Self.snapshot(
            specs: [stubborn],
            workloads: [Self.record("stubborn", .pausing, site: "nairobi-1")],
            attempts: [ObservedAttempt(attempt: stopping, observation: .running)]
        )
        snapshot.resignalled = [1]
        let result = Self.run(snapshot)
        #expect(Self.signalled(result, .kill) == ["stubborn"])
        #expect(Self.signalled(result, .stop).isEmpty)
        #expect(result.kills == 1)
        let killed = try #require(result.change.attempts.first)
        #expect(killed.killAt == Self.now.timeIntervalSince1970)
        #expect(killed.checkpointStale)
        #expect(Self.kinds(result) == ["workload.killed"])
    }

    @Test func aStopRecordedBeforeARestartIsSentAgainOnce() throws {
        let train = try Self.spec(F.workload("train"))
        var stopping = Self.attempt("train", site: "nairobi-1")
        stopping.termAt = Self.now.timeIntervalSince1970 - 5
        var snapshot = try Self.snapshot(
            specs: [train],
            workloads: [Self.record("train", .pausing, site: "nairobi-1")],
            attempts: [ObservedAttempt(attempt: stopping, observation: .running)]
        )
        let first = Self.run(snapshot)
        #expect(Self.signalled(first, .stop) == ["train"])
        #expect(first.resignalled == [1])
        snapshot.resignalled = first.resignalled
        #expect(Self.signalled(Self.run(snapshot), .stop).isEmpty)
    }

    @Test func aFailedAttemptIsRetriedAfterABackoffNotAtOnce() throws {
        let flaky = try Self.spec(F.workload("flaky", attempts: 3))
        let result = Self.run(
            try Self.snapshot(
                specs: [flaky],
                workloads: [Self.record("flaky", .running, site: "nairobi-1")],
                attempts: [
                    ObservedAttempt(
                        attempt: Self.attempt("flaky", site: "nairobi-1"),
                        observation: .ended(ExitStatus(exit: 1))
                    )
                ]
            )
        )
        let record = try #require(result.change.workloads.first)
        #expect(record.state == .pending)
        #expect(record.failures == 1)
        #expect(record.retryAt == Self.now.timeIntervalSince1970 + 2)
        #expect(result.change.attempts.first?.outcome == "failed")
        #expect(Self.kinds(result) == ["workload.attempt-failed"])
        #expect(Self.started(result).isEmpty)
    }

    @Test func aHeldWorkloadIsStoppedAndNotReplaced() throws {
        let train = try Self.spec(F.workload("train"))
        var held = Self.record("train", .running, site: "nairobi-1")
        held.held = true
        let result = Self.run(
            try Self.snapshot(
                specs: [train],
                workloads: [held],
                attempts: [
                    ObservedAttempt(attempt: Self.attempt("train", site: "nairobi-1"), observation: .running)
                ]
            )
        )
        #expect(Self.signalled(result, .stop) == ["train"])
        #expect(Self.state(result, "train") == .pausing)
        #expect(result.pauses == 1)
        #expect(Self.started(result).isEmpty)
    }

    @Test func anAttemptWhoseStartWasInterruptedIsClosedAndItsWorkloadStartedAgain() throws {
        let train = try Self.spec(F.workload("train"))
        var intent = Self.attempt("train", site: "nairobi-1")
        intent.handle = nil
        let result = Self.run(
            try Self.snapshot(
                specs: [train],
                workloads: [Self.record("train", .running, site: "nairobi-1")],
                attempts: [ObservedAttempt(attempt: intent, observation: .gone)]
            )
        )
        #expect(result.change.attempts.first?.outcome == "not-started")
        #expect(Self.kinds(result).first == "workload.attempt-not-started")
        #expect(Self.started(result).first?.number == 2)
    }

    @Test func aPassIsAFunctionOfItsSnapshot() throws {
        let specs = try (0..<4).map {
            try Self.spec(F.workload("w\($0)", priority: $0, accelerators: 16))
        }
        let snapshot = try Self.snapshot(specs: specs, workloads: specs.map { Self.record($0.name) })
        let a = Self.run(snapshot)
        let b = Self.run(snapshot)
        #expect(Self.started(a) == Self.started(b))
        #expect(a.change.workloads == b.change.workloads)
        #expect(Self.kinds(a) == Self.kinds(b))
    }
}
