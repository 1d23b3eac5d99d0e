public import Foundation
public import Logging
import SovereignFederation
public import SovereignModel
import SovereignPlanner

/// Coordinates the rounds of every federated workload the control plane manages: it hands sites their
/// steps when they poll, receives their updates in chunks, aggregates (securely when asked), applies the
/// server optimizer and differential privacy, and records every model and update that moves in the ledger.
///
/// Each workload's rounds are a ``RoundMachine`` that decides; this actor only reads the clock and who is
/// live, carries out the machine's effects (files through ``RoundArchive``, entries through the control
/// plane) and assembles uploads (``UploadAssembler``). Each round's global model is written to disk
/// before the round is recorded, so a restarted server continues from the last finished round; the round
/// in progress is started again.
public actor FederationCoordinator {
    let plane: ControlPlane
    let fleet: Fleet
    let archive: RoundArchive
    let clock: @Sendable () -> Date
    let logger: Logger
    /// A site that has not polled for this long is not counted on when a round opens.
    let liveness: Double
    /// How long an idle site waits between polls.
    let pollInterval: Double
    /// Largest upload chunk accepted.
    public static let chunkBytes = 4 << 20

    var runs: [String: RoundMachine] = [:]
    /// Workloads whose round is being moved along (see ``advance(_:)``).
    var advancing = Set<String>()
    /// When each site last polled or sent something.
    var lastSeen: [String: Double] = [:]
    var uploads = UploadAssembler()
    /// The control plane's workload generation when the runs were last matched to the store; nil before the
    /// first match, or after a failed one.
    var matchedGeneration: Int?
    /// The active, unheld federated workloads as last read, in submission order: what a tick moves along.
    var advanceable: [String] = []
    var random = SystemRandomNumberGenerator()

    /// Makes a coordinator that keeps its models under `directory`.
    public init(
        plane: ControlPlane,
        directory: URL,
        logger: Logger,
        liveness: TimeSpan = .seconds(10),
        pollInterval: TimeSpan = .seconds(1),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.plane = plane
        self.fleet = plane.fleet
        self.archive = RoundArchive(root: directory)
        self.logger = logger
        self.liveness = liveness.seconds
        self.pollInterval = pollInterval.seconds
        self.clock = clock
    }

    var now: Double { clock().timeIntervalSince1970 }

    // MARK: Control loop

    /// Picks up new federated workloads, closes phases whose deadline passed, and opens rounds.
    /// Safe to call at any time.
    ///
    /// The store is read only when a workload record changed since the last read (the control plane's
    /// ``ControlPlane/workloadGeneration``), so a tick with nothing new costs no database query: every
    /// site's poll ticks, and a thousand polls a second cost a thousand in-memory passes over the runs.
    public func tick() async {
        do {
            let generation = plane.workloadGeneration
            if generation != matchedGeneration {
                // Read the generation before the store, so a change committed in between is read next time.
                matchedGeneration = generation
                try await match(try await plane.federatedWorkloads())
            }
            for name in advanceable { try await advance(name) }
        } catch {
            matchedGeneration = nil
            logger.error("federation tick failed", metadata: ["error": "\(error)"])
        }
    }

    /// Takes on the active federated workloads not yet run, drops the runs no longer active, and notes which
    /// runs move along at each tick (those not held), in submission order.
    private func match(_ active: [(record: WorkloadRecord, spec: Workload)]) async throws {
        let names = Set(active.map(\.record.name))
        for name in runs.keys where !names.contains(name) { uploads.discard(name) }
        runs = runs.filter { names.contains($0.key) }
        advanceable = active.filter { !$0.record.held }.map(\.record.name)
        for (record, spec) in active where runs[record.name] == nil {
            try await begin(record: record, spec: spec)
        }
    }

    /// Takes a workload on: translates its spec, continues from its last finished round on disk, and
    /// records its start (or refuses it).
    private func begin(record: WorkloadRecord, spec: Workload) async throws {
        guard let federation = spec.federation else { return }
        let participants: [FederationParticipant]
        switch FederationCheck.participants(of: spec, in: fleet) {
        case .failure(let refusal):
            let refused = FederationRecord(
                state: .failed,
                reason: "refused: \(refusal.description)",
                entries: [.federationRefused(workload: record.name, reason: refusal.description)]
            )
            try await perform(refused, for: record.name)
            return
        case .success(let p): participants = p
        }
        let runtime = try FederationRuntime(
            name: record.name,
            federation: federation,
            participants: participants,
            fleet: fleet
        )
        let restored = try archive.restore(record.name, initial: try runtime.initialWeights())
        let model = try GlobalModel(
            weights: restored.weights,
            workload: record.name,
            round: restored.finished,
            optimizer: restored.optimizer
        )
        let machine = try RoundMachine(runtime: runtime, finished: restored.finished, model: model)
        try await commit(machine, machine.resume(pending: record.state == .pending))
    }

    /// Moves a workload's round along (see ``RoundMachine/advance(now:live:liveness:using:)``).
    func advance(_ name: String) async throws {
        // One advance per workload at a time: the actor is reentrant at every await, and the records of one
        // step should not interleave with the next step's.
        guard !advancing.contains(name), var machine = runs[name] else { return }
        advancing.insert(name)
        defer { advancing.remove(name) }
        let now = self.now
        let live = machine.runtime.participants.map(\.site).filter { now - (lastSeen[$0] ?? -.infinity) <= liveness }
        let effects = try machine.advance(now: now, live: live, liveness: liveness, using: &random)
        try await commit(machine, effects)
    }

    /// Carries out a machine's effects: files first (a round's model is on disk before it is recorded),
    /// then the new state (so a request that arrives meanwhile sees it), then the ledger.
    func commit(_ machine: RoundMachine, _ effects: [RoundEffect]) async throws {
        let name = machine.runtime.name
        var records: [FederationRecord] = []
        for effect in effects {
            switch effect {
            case .prepareRound(let folder):
                try archive.prepareRound(name, folder: folder)
            case .discardRound(let folder):
                uploads.discard(name)
                try archive.discardRound(name, folder: folder)
            case .saveModel(let round, let model, let optimizer):
                try archive.save(name, round: round, model: model, optimizer: optimizer)
            case .record(let record):
                records.append(record)
            }
        }
        if case .failed = machine.phase { runs[name] = nil } else { runs[name] = machine }
        for record in records { try await perform(record, for: name) }
    }

    /// Records a machine's progress through the control plane.
    func perform(_ record: FederationRecord, for name: String) async throws {
        try await plane.recordFederation(name, record)
    }
}
