import Foundation
import SovereignLedger
import SovereignModel
import SovereignPlanner

extension ControlPlane {
    /// Whether the control plane leaves a workload to the federation coordinator rather than an executor: a
    /// federated workload whose sites have a trainer to run.
    static func isCoordinated(_ w: Workload) -> Bool { w.type == .federated && w.federation?.trainer != nil }

    /// The federated workloads that have not ended, with their specs, oldest first.
    func federatedWorkloads() throws -> [(record: WorkloadRecord, spec: Workload)] {
        try store.activeWorkloads()
            .sorted { ($0.submittedAt, $0.name) < ($1.submittedAt, $1.name) }
            .compactMap { record in
                guard let spec = specs[record.name], Self.isCoordinated(spec) else { return nil }
                return (record, spec)
            }
    }

    /// The sites that take part in a coordinated federated workload, finished or not; nil for any other
    /// name.
    func federationSites(of name: String) -> Set<String>? {
        guard let spec = specs[name], Self.isCoordinated(spec),
            case .success(let participants) = FederationCheck.participants(of: spec, in: fleet)
        else { return nil }
        return Set(participants.map(\.site))
    }

    /// Refuses a federated workload whose participants or update crossings break a rule, or that has no trainer
    /// for its sites to run (such a workload is only planned and simulated).
    nonisolated func checkFederation(_ w: Workload) throws {
        if w.type == .federated, let federation = w.federation, federation.trainer == nil {
            throw ControlError(
                .federationRefused,
                "\(w.name) is refused: expected the model its sites train to coordinate its rounds, found no trainer",
                field: "spec.federation.trainer"
            )
        }
        guard Self.isCoordinated(w) else { return }
        if case .failure(let refusal) = FederationCheck.participants(of: w, in: fleet) {
            throw ControlError(
                .federationRefused,
                "\(w.name) is refused: \(refusal.description)",
                field: refusal.field
            )
        }
    }

    /// Records a federation's progress in one commit: its ledger entries and, when the record names a state,
    /// the workload's move to it (else its new detail line, if it has one).
    ///
    /// - Returns: false when the workload has ended meanwhile (cancelled), and nothing was recorded.
    @discardableResult
    func recordFederation(_ name: String, _ progress: FederationRecord) throws -> Bool {
        guard let record = try store.workload(named: name), !record.state.isTerminal else { return false }
        var records = [name: record]
        var change = StateChange()
        let t = clock().timeIntervalSince1970
        if let state = progress.state {
            Self.move(name, to: state, progress.reason ?? state.rawValue, at: t, records: &records, change: &change)
        } else if let reason = progress.reason, record.detail != reason {
            records[name]?.detail = reason
            records[name]?.updatedAt = t
        }
        if let updated = records[name], updated != record { change.workloads.append(updated) }
        change.ledger += progress.entries
        try commit(change)
        try signCheckpoint()
        return true
    }
}
