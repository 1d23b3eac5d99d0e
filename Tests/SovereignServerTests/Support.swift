import Foundation
import Logging
import SovereignLedger
import SovereignModel
import SovereignServer
import SovereignTesting
import Synchronization

/// An executor that runs nothing: tests decide when attempts end.
final class FakeExecutor: Executor, Sendable {
    struct Attempt: Sendable {
        var record: AttemptRecord
        var status: ExitStatus?
        var terminated = false
        var killed = false
    }

    let state = Mutex<[String: Attempt]>([:])
    let checkpoints = Mutex<[String: Int64]>([:])
    let nextPID = Atomic<Int32>(1000)

    static func key(_ a: AttemptRecord) -> String { "\(a.workload)#\(a.number)" }

    /// Starts waiting for ``releaseStarts()``, while ``holdStarts()`` holds them (`nil` when starts run at once).
    let heldStarts = Mutex<[CheckedContinuation<Void, Never>]?>(nil)

    func start(_ attempt: AttemptRecord, run: Workload.Run) async throws -> AttemptHandle {
        await withCheckedContinuation { go in
            let held = heldStarts.withLock { held in
                held?.append(go)
                return held != nil
            }
            if !held { go.resume() }
        }
        state.withLock { $0[Self.key(attempt)] = Attempt(record: attempt) }
        return AttemptHandle(String(nextPID.add(1, ordering: .relaxed).newValue))
    }

    func observe(_ attempts: [AttemptRecord]) async -> [AttemptObservation] { attempts.map(observe) }

    func adopt(_ attempts: [AttemptRecord]) async -> [AttemptObservation] { attempts.map(observe) }

    func observe(_ attempt: AttemptRecord) -> AttemptObservation {
        state.withLock { all in
            guard let a = all[Self.key(attempt)] else { return .gone }
            if let status = a.status { return .ended(status) }
            if a.killed { return .gone }
            return .running
        }
    }

    func signal(_ attempt: AttemptRecord, _ signal: AttemptSignal) async {
        switch signal {
        case .stop: state.withLock { $0[Self.key(attempt)]?.terminated = true }
        case .kill: state.withLock { $0[Self.key(attempt)]?.killed = true }
        }
    }

    func checkpointBytes(of workloads: [String: String]) async -> [String: Int64] {
        checkpoints.withLock { all in Dictionary(uniqueKeysWithValues: workloads.keys.map { ($0, all[$0] ?? 0) }) }
    }

    func logPath(workload: String, attempt number: Int, site: String) -> String { "/dev/null" }

    // MARK: Test controls

    /// Holds every start from now on (the pass that makes it waits there) until ``releaseStarts()``.
    func holdStarts() {
        heldStarts.withLock { held in
            precondition(held == nil, "holdStarts() while starts are held would strand them")
            held = []
        }
    }

    /// How many starts wait for ``releaseStarts()``.
    var heldStartCount: Int { heldStarts.withLock { $0?.count ?? 0 } }

    /// Lets the held starts go on, and starts at once from now on.
    func releaseStarts() {
        let held = heldStarts.withLock { held in
            defer { held = nil }
            return held ?? []
        }
        for go in held { go.resume() }
    }

    /// Attempts that were asked to stop and have not ended: they checkpoint and exit 143, as the example does.
    func honourTerminations(checkpointBytes: Int64 = 4096) {
        state.withLock { all in
            for (key, a) in all where a.terminated && a.status == nil && !a.killed {
                all[key]?.status = ExitStatus(exit: 143)
                checkpoints.withLock { $0[a.record.workload] = checkpointBytes }
            }
        }
    }

    func exit(_ workload: String, status: Int32) {
        state.withLock { all in
            for (key, a) in all where a.record.workload == workload && a.status == nil {
                all[key]?.status = ExitStatus(exit: status)
            }
        }
    }

    /// The live (not ended) attempts.
    var live: [AttemptRecord] {
        state.withLock { all in all.values.filter { $0.status == nil && !$0.killed }.map(\.record) }
    }

    var terminated: [String] {
        state.withLock { all in all.values.filter { $0.terminated }.map(\.record.workload).sorted() }
    }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    let now = Mutex<Date>(Date(timeIntervalSince1970: 1_795_000_000))
    func advance(_ seconds: Double) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var read: @Sendable () -> Date { { [self] in self.now.withLock { $0 } } }
}

/// A small fleet for the control plane: two Kenyan sites and a Rwandan one; one dataset bound to Kenya.
enum ControlFixtures {
    static let fleet = """
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: nairobi-1}
        spec:
          jurisdiction: KE
          operator: {name: Konza, jurisdiction: KE}
          power:
            grid: {capacity: 100 kW, carbonIntensity: 88 g/kWh}
          cooling: {capacity: 200 kW, designAmbient: 32 C, ambient: 24 C, pue: {base: 1.25}}
          pools:
            - {name: a100, accelerator: nvidia-a100-80gb, count: 64, perNode: 8}
          links:
            - {to: mombasa-1, bandwidth: 10 Gbps}
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: mombasa-1}
        spec:
          jurisdiction: KE
          operator: {name: Pwani, jurisdiction: KE}
          power:
            grid: {capacity: 20 kW, carbonIntensity: 88 g/kWh}
          cooling: {capacity: 40 kW, designAmbient: 32 C, ambient: 28 C, pue: {base: 1.4}}
          pools:
            - {name: a100, accelerator: nvidia-a100-80gb, count: 16, perNode: 8}
          links:
            - {to: nairobi-1, bandwidth: 10 Gbps}
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: kigali-1}
        spec:
          jurisdiction: RW
          operator: {name: Akagera, jurisdiction: RW}
          power:
            grid: {capacity: 500 kW, carbonIntensity: 30 g/kWh}
          cooling: {capacity: 500 kW, ambient: 24 C, pue: {base: 1.2}}
          pools:
            - {name: a100, accelerator: nvidia-a100-80gb, count: 256, perNode: 8}
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: ke-records}
        spec: {size: 200 GB, site: nairobi-1, residency: [KE], classification: personal}

        """

    /// A training workload document with `run:`.
    static func workload(
        _ name: String,
        priority: Int = 0,
        accelerators: Int = 8,
        datasets: [String] = ["ke-records"],
        preemptible: Bool = true,
        attempts: Int = 3
    ) -> String {
        """
        apiVersion: sovereign.dev/v1
        kind: Workload
        metadata: {name: \(name)}
        spec:
          type: fine-tuning
          model: {parameters: 1B}
          datasets: [\(datasets.joined(separator: ", "))]
          compute: {flops: 1e20}
          accelerators: {min: \(accelerators), max: \(accelerators)}
          priority: \(priority)
          preemptible: \(preemptible)
          run: {command: [python3, train.py], gracePeriod: 30 s, attempts: \(attempts)}

        """
    }

    struct Harness {
        let plane: ControlPlane
        let executor: FakeExecutor
        let clock: TestClock
        let store: any ControlStore
        let directory: URL
        let signer: NoteSigner
        /// The site agents' executor, when the harness has agent sites.
        var agents: SiteAgentExecutor? = nil

        /// A federation coordinator over the plane, keeping its models under the harness's directory.
        func coordinator(for plane: ControlPlane? = nil) -> FederationCoordinator {
            FederationCoordinator(
                plane: plane ?? self.plane,
                directory: directory.appendingPathComponent("federation"),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                clock: clock.read
            )
        }

        /// A new control plane over the same store, executor and clock: what a restarted server builds.
        func restarted() throws -> ControlPlane {
            let (fleet, declared) = try SovereignServer.loadFleet([directory.appendingPathComponent("fleet.yaml").path])
            return try ControlPlane(
                fleet: fleet,
                declared: declared,
                store: store,
                executor: executor,
                signer: signer,
                origin: "test",
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                lease: ControlFixtures.expiringLease,
                clock: clock.read
            )
        }
    }

    /// A lease that expires as it is taken: every plane a test opens leads from its start, as a server restarted
    /// after its predecessor's lease ran out does (on PostgreSQL; an SQLite store always lets a plane lead).
    static let expiringLease = LeaderLease(duration: .zero)

    static let operatorToken = "op-0123456789abcdef0123"
    static let readerToken = "rd-0123456789abcdef0123"
    static let powerToken = "pw-0123456789abcdef0123"

    /// A control plane over a fake executor and a new store on `backend`; the sites in `agentSites` run through
    /// site agents (lease `lease`).
    static func harness(
        fleetText: String = fleet,
        agentSites: Set<String> = [],
        lease: TimeSpan = .seconds(10),
        backend: StoreBackend = .sqlite
    ) throws -> Harness {
        let directory = try Fixtures.temporaryDirectory()
        let file = directory.appendingPathComponent("fleet.yaml")
        try fleetText.write(to: file, atomically: true, encoding: .utf8)
        let (fleet, declared) = try SovereignServer.loadFleet([file.path])
        let store = try backend.makeStore(in: directory)
        let signer = try LedgerKeyFile.loadOrCreate(at: directory.appendingPathComponent("key").path, name: "test")
        let executor = FakeExecutor()
        let clock = TestClock()
        let relay = CheckpointRelay(root: directory.appendingPathComponent("relay", isDirectory: true))
        let agents =
            agentSites.isEmpty
            ? nil : SiteAgentExecutor(sites: agentSites, lease: lease, relay: relay, clock: clock.read)
        let plane = try ControlPlane(
            fleet: fleet,
            declared: declared,
            store: store,
            executor: agents.map { SiteRoutedExecutor(local: executor, agents: $0) } ?? executor,
            agents: agents,
            signer: signer,
            origin: "test",
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            lease: expiringLease,
            clock: clock.read
        )
        return Harness(
            plane: plane,
            executor: executor,
            clock: clock,
            store: store,
            directory: directory,
            signer: signer,
            agents: agents
        )
    }

    static let requester = ControlPlane.Requester(identity: "token:test")
}

/// How an attempt's process ended, under a name apart from swift-testing's own `ExitStatus`, for suites that
/// declare it in a type.
typealias AttemptExit = ExitStatus

extension StateChange {
    /// A change that submits workloads named `names` (a placeholder document each), each with one ledger entry.
    static func submitting(_ names: String...) -> StateChange {
        var change = StateChange()
        for name in names {
            change.newWorkloads.append(WorkloadRecord(name: name, source: "api", document: "doc \(name)", at: 100))
            change.ledger.append(.cancelRequested(workload: name, by: "token:\(name)"))
        }
        return change
    }
}
