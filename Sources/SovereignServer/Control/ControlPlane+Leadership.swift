import Foundation
import Logging
import SovereignLedger
import SovereignModel
import Synchronization

/// Who a replica is to the leader lease, and how long its lease lasts.
public struct LeaderLease: Sendable {
    /// The replica's name in the lease row, unique to its process.
    public var holder: String
    /// How long a lease lasts from its last renewal; the leader renews it every third of this.
    public var duration: Duration

    /// Makes the terms of a replica's lease.
    public init(holder: String = LeaderLease.processHolder(), duration: Duration = .seconds(15)) {
        self.holder = holder
        self.duration = duration
    }

    /// A holder name unique to this process: host, process id and a random suffix (a restarted server is
    /// a new holder and waits for its predecessor's lease to expire).
    public static func processHolder() -> String {
        let host = ProcessInfo.processInfo.hostName
        let suffix = UUID().uuidString.prefix(8).lowercased()
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(suffix)"
    }

    var seconds: Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18 }
}

/// What a lease request changed for the replica.
enum LeaseOutcome: Equatable {
    /// It led and leads on, or followed and follows on.
    case unchanged
    /// It now leads, at this epoch.
    case gained(Int64)
    /// Another replica took the lease.
    case lost

    /// Compares the epoch the replica held with the one the store answered.
    static func of(held: Int64?, answer: Int64?) -> LeaseOutcome {
        switch (held, answer) {
        case (nil, nil): .unchanged
        case (nil, let epoch?): .gained(epoch)
        case (_?, nil): .lost
        case (let held?, let epoch?): held == epoch ? .unchanged : .gained(epoch)
        }
    }
}

extension ControlPlane {
    /// Whether this replica leads: runs the passes, coordinates federated rounds and signs checkpoints.
    public var leads: Bool { epoch != nil }

    /// Renews the lease when a third of it has passed since the last renewal (a leader), or asks for it at
    /// every call (a follower); a replica that gains it takes the lead (``takeLead(at:)``), one that lost
    /// it, or could not renew it before it would expire, steps down.
    ///
    /// - Returns: whether this replica leads now.
    /// - Throws: ``StoreError`` when the database cannot be asked (a leader leads on until its lease would end).
    @discardableResult
    public func holdLease() throws -> Bool {
        let now = clock()
        let since = renewedAt.map { now.timeIntervalSince($0) } ?? .infinity
        if epoch != nil, since < lease.seconds / 3 { return true }
        let answer: Int64?
        do {
            answer = try store.lead(as: lease.holder, renewing: epoch, for: lease.duration)
        } catch {
            if epoch != nil, since >= lease.seconds {
                stepDown("its lease ran out while the database was out of reach")
            }
            throw error
        }
        if answer != nil { renewedAt = now }
        switch LeaseOutcome.of(held: epoch, answer: answer) {
        case .unchanged: break
        case .gained(let epoch): try takeLead(at: epoch)
        case .lost: stepDown("another replica holds the lease")
        }
        return epoch != nil
    }

    /// Gives the lease up (expiring it now) so a follower takes over without waiting: a leader shutting down.
    public func releaseLease() {
        guard let held = epoch else { return }
        _ = try? store.lead(as: lease.holder, renewing: held, for: .zero)
        stepDown("it is shutting down")
    }

    /// Starts leading at `epoch` as a restarted server does: the next pass adopts the attempts that are open,
    /// and the tree, the specs and the fleet's own workloads are brought up to what the store holds.
    func takeLead(at epoch: Int64) throws {
        self.epoch = epoch
        adopted = false
        // The replica that led meanwhile changed the store without this one's commits.
        forgetView()
        resignalled = []
        lastCheckpointSize = -1
        try catchUpTree()
        let records = try store.workloads()
        learnSpecs(of: records)
        let fleetWork = Self.fleetSubmission(fleet, stored: records, at: clock().timeIntervalSince1970)
        try commit(fleetWork)
        for w in fleet.workloads where fleetWork.newWorkloads.contains(where: { $0.name == w.name }) {
            specsKept.withLock { $0[w.name] = w }
        }
        logger.notice("leading", metadata: ["lease.holder": "\(lease.holder)", "lease.epoch": "\(epoch)"])
    }

    /// Drops the kept view of the store, and the view of any pass under way with it (it checks the commit count,
    /// which this moves): the store may hold what no view shows (a commit that failed but landed, another
    /// leader's writes).
    func forgetView() {
        kept = nil
        commitCount.add(1, ordering: .sequentiallyConsistent)
    }

    func stepDown(_ reason: String) {
        guard let held = epoch else { return }
        epoch = nil
        renewedAt = nil
        forgetView()
        logger.warning(
            "no longer leading: \(reason)",
            metadata: ["lease.holder": "\(lease.holder)", "lease.epoch": "\(held)"]
        )
    }

    /// Appends to the in-memory tree the ledger entries other replicas have committed since, so a follower
    /// serves proofs (and a leader signs checkpoints) over everything stored.
    func catchUpTree() throws {
        while true {
            let entries = try store.ledgerEntries(from: tree.size, limit: 1000)
            for entry in entries { tree.append(entry.leafHash) }
            if entries.count < 1000 { return }
        }
    }

    /// What a follower does at each tick: keeps its tree up to the stored ledger.
    public func follow() throws {
        guard epoch == nil else { return }
        try catchUpTree()
    }

    /// Decodes the specs of stored workloads this replica does not know yet (submitted on another replica, or
    /// before it started).
    func learnSpecs(of records: [WorkloadRecord]) {
        let unknown = records.filter { specs[$0.name] == nil && !unreadable.contains($0.name) }
        guard !unknown.isEmpty else { return }
        let learnt = Self.decodeSpecs(of: unknown, fleet: fleet, declared: declared, logger: logger)
        specsKept.withLock { $0.merge(learnt.specs) { _, new in new } }
        unreadable.formUnion(learnt.unreadable)
    }

    /// The specs of stored workloads: the fleet's own by name, submitted ones decoded from their documents;
    /// one that no longer validates against the fleet is logged and left out (and named in `unreadable`).
    static func decodeSpecs(
        of records: [WorkloadRecord],
        fleet: Fleet,
        declared: DeclaredFleet,
        logger: Logger
    ) -> (specs: [String: Workload], unreadable: Set<String>) {
        var specs: [String: Workload] = [:]
        var unreadable = Set<String>()
        for record in records {
            if record.source == "spec" {
                if let w = fleet.workload(named: record.name) { specs[record.name] = w }
                continue
            }
            do {
                let decoded = try decodeSubmission(record.document, against: declared)
                if let w = decoded.first(where: { $0.name == record.name }) { specs[record.name] = w }
            } catch {
                unreadable.insert(record.name)
                logger.error(
                    "a stored workload no longer validates against the fleet",
                    metadata: ["workload.name": "\(record.name)", "error": "\(error)"]
                )
            }
        }
        return (specs, unreadable)
    }

    /// The fleet's runnable or coordinated workloads that are not stored yet, as one submission.
    static func fleetSubmission(_ fleet: Fleet, stored records: [WorkloadRecord], at now: Double) -> StateChange {
        let stored = Set(records.map(\.name))
        var change = StateChange()
        for w in fleet.workloads where (w.run != nil || isCoordinated(w)) && !stored.contains(w.name) {
            change.newWorkloads.append(WorkloadRecord(name: w.name, source: "spec", document: "", at: now))
            change.transitions.append(
                TransitionRecord(workload: w.name, at: now, from: nil, to: .pending, reason: "declared in the fleet")
            )
            change.ledger.append(.submitted(.init(w, by: "fleet spec")))
        }
        return change
    }
}
