/// The active workloads and open attempts as one control-loop pass sees them: read from the store once, at the
/// pass's start, and carried through it with the pass's own commits applied, so a pass reads the store's two
/// largest sets once instead of before and after each of its steps.
///
/// A view is exact while this replica has committed nothing but the pass's own changes since it was read
/// (``commits`` is the control plane's count of commits it matches); when anything else committed meanwhile (a
/// submission, an operator's request, an agent's checkpoint report) the pass reads it again. Another replica's
/// writes are only ever inserts of new workloads and power signals and the operators' requests: a view missing
/// them is the store as it was a moment earlier, which the next pass reads.
struct PassView: Sendable {
    /// Workloads that have not ended, in submission order.
    var workloads: [WorkloadRecord]
    /// Attempts whose end has not been seen, by id.
    var attempts: [AttemptRecord]
    /// The control plane's count of commits the view matches; nil once it no longer matches any.
    var commits: Int?

    /// The view after `change` was committed (its new attempts numbered `ids`), as the store now holds it.
    ///
    /// - Complexity: O(W + A + C) for W workloads and A attempts in the view and C records in the change.
    func applying(_ change: StateChange, ids: [Int64], commits: Int) -> PassView {
        var workloads = workloads
        let position = Dictionary(workloads.indices.map { (workloads[$0].name, $0) }) { first, _ in first }
        for record in change.workloads {
            guard let i = position[record.name] else { continue }
            // As the store does: only requests write the operator's fields.
            var updated = record
            updated.held = workloads[i].held
            updated.cancelRequested = workloads[i].cancelRequested
            workloads[i] = updated
        }
        for request in change.requests {
            guard let i = position[request.workload] else { continue }
            workloads[i].held = request.held
            workloads[i].cancelRequested = request.cancelRequested
            workloads[i].updatedAt = request.at
        }
        workloads += change.newWorkloads
        var attempts = attempts
        let slot = Dictionary(attempts.indices.compactMap { i in attempts[i].id.map { ($0, i) } }) { first, _ in first }
        for attempt in change.attempts {
            guard let id = attempt.id, let i = slot[id] else { continue }
            attempts[i] = attempt
        }
        for (attempt, id) in zip(change.newAttempts, ids) {
            var numbered = attempt
            numbered.id = id
            attempts.append(numbered)
        }
        return PassView(
            workloads: workloads.filter { !$0.state.isTerminal },
            attempts: attempts.filter { $0.endedAt == nil },
            commits: commits
        )
    }
}
