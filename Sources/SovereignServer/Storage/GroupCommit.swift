import Dispatch
import Foundation
import Synchronization

/// Commits the changes that arrive while a commit is under way together, in one transaction: one `fsync` for
/// a burst of submissions instead of one each (group commit, as PostgreSQL's `commit_delay` and every
/// write-ahead log do). Each caller is answered only once its change is durable, with its own ledger entries.
///
/// Its changes are the ones any replica may make (a submission: no fencing epoch). Commits run one batch at a
/// time on a dispatch queue of their own: they block a Dispatch thread, never one of Swift's cooperative pool,
/// and never wait for the control plane's queue (a pass running there).
final class GroupCommit: Sendable {
    private struct Waiting {
        let change: StateChange
        let committed: @Sendable (CommittedChange) -> Void
        let answer: CheckedContinuation<CommittedChange, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var committing = false
    }

    /// The most changes one transaction takes: a burst larger than this is committed as several batches, so no
    /// batch holds the store's one writer (which a pass's commit waits for) for long.
    static let batchLimit = 128

    private let state = Mutex(State())
    private let queue: DispatchQueue
    private let store: any ControlStore
    private let clock: @Sendable () -> Date

    /// Makes a group commit over `store`, timing each batch's entries by `clock`.
    init(store: any ControlStore, label: String, clock: @escaping @Sendable () -> Date) {
        self.store = store
        self.clock = clock
        queue = DispatchQueue(label: label)
    }

    /// Commits `change` with whatever else waits, and returns once it is durable.
    ///
    /// - Parameters:
    ///   - change: a change any replica may make (no fencing epoch).
    ///   - committed: called once it is durable, before this returns and before any later batch commits (what
    ///     readers of the store must learn of it at once: counters, events).
    /// - Throws: what the store throws for this change (``StoreError``, e.g. a taken name).
    func commit(
        _ change: StateChange,
        committed: @escaping @Sendable (CommittedChange) -> Void = { _ in }
    ) async throws -> CommittedChange {
        precondition(change.epoch == nil, "a group commit merges changes, so it carries no leader's fencing epoch")
        return try await withCheckedThrowingContinuation { answer in
            let starts = state.withLock { state in
                state.waiting.append(Waiting(change: change, committed: committed, answer: answer))
                defer { state.committing = true }
                return !state.committing
            }
            if starts { queue.async { self.drain() } }
        }
    }

    /// Commits batches until none waits: what arrived during one commit is the next batch (up to the limit).
    private func drain() {
        while let batch = next() {
            let results = Self.commit(batch.map(\.change), to: store, at: clock())
            for (waiting, result) in zip(batch, results) {
                if case .success(let own) = result { waiting.committed(own) }
                waiting.answer.resume(with: result)
            }
        }
    }

    /// The changes waiting now (at most ``batchLimit``), or nil (and no longer committing) when none does.
    private func next() -> [Waiting]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.committing = false
                return nil
            }
            let batch = Array(state.waiting.prefix(Self.batchLimit))
            state.waiting.removeFirst(batch.count)
            return batch
        }
    }

    /// Commits `changes` in one transaction, each answered with its own entries. When the store refuses the
    /// batch because a name is taken (on another replica: this one holds its names while they commit), each is
    /// committed on its own, so only the one at fault fails; any other failure (the database unreachable, a
    /// commit whose outcome is unknown) is every change's answer, never retried one by one.
    static func commit(
        _ changes: [StateChange],
        to store: any ControlStore,
        at time: Date
    ) -> [Result<CommittedChange, any Error>] {
        let oneByOne = { changes.map { change in Result { try store.commit(change, at: time) } } }
        guard changes.count > 1 else { return oneByOne() }
        do {
            let committed = try store.commit(StateChange(merging: changes), at: time)
            return committed.split(into: changes).map { .success($0) }
        } catch let error as StoreError where error.isNameTaken {
            return oneByOne()
        } catch {
            return changes.map { _ in .failure(error) }
        }
    }
}

extension StateChange {
    /// The changes one after another, as one change (without a fencing epoch: the changes any replica makes).
    init(merging changes: [StateChange]) {
        self.init()
        for change in changes {
            workloads += change.workloads
            requests += change.requests
            newWorkloads += change.newWorkloads
            newAttempts += change.newAttempts
            attempts += change.attempts
            transitions += change.transitions
            powerSignals += change.powerSignals
            ledger += change.ledger
        }
    }
}

extension CommittedChange {
    /// What each of `changes` committed, when this is the commit of the changes merged
    /// (``StateChange/init(merging:)``): their ledger entries and new attempts' ids, in order.
    func split(into changes: [StateChange]) -> [CommittedChange] {
        var entries = self.entries[...]
        var ids = attemptIDs[...]
        return changes.map { change in
            defer {
                entries = entries.dropFirst(change.ledger.count)
                ids = ids.dropFirst(change.newAttempts.count)
            }
            return CommittedChange(
                entries: Array(entries.prefix(change.ledger.count)),
                attemptIDs: Array(ids.prefix(change.newAttempts.count))
            )
        }
    }
}
