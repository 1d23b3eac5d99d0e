public import Foundation
public import SovereignModel
public import SovereignPlanner

/// How one federated round ended in a run.
public struct RoundOutcome: Sendable, Hashable {
    /// The workload's index in the fleet.
    public let workload: Int
    /// The step at whose beginning the round closed.
    public let step: Int
    /// Whether it closed with its quorum (else it is retried by a replan).
    public let completed: Bool
    /// The sites whose updates it aggregated.
    public let sites: [String]
}

/// A federated workload's rounds as a run executes them: the rounds of its current plan and what each
/// participant trained in them.
struct RoundsProgress {
    /// The rounds of its current plan, in order.
    var rounds: [PlannedRound]
    /// Rounds closed with their quorum so far, over every plan.
    var completed: Int
    /// The index in ``rounds`` of the next round to close.
    var next = 0
    /// FLOPs trained, by round index and dataset.
    var trained: [Int: [String: Double]] = [:]
    /// Accelerator-seconds spent, by round index and dataset (what a dropout throws away).
    var spent: [Int: [String: Double]] = [:]
    /// Datasets whose site dropped out, by round index.
    var dropped: [Int: Set<String>] = [:]
    /// Attempts at the next round to complete that failed, over every plan (the coordinator's retries).
    var failures: Int

    init(rounds: [PlannedRound], completed: Int, failures: Int) {
        self.rounds = rounds
        self.completed = completed
        self.failures = failures
    }

    /// The index of the round step `t` trains for: the last to open at or before it.
    func round(at t: Int) -> Int? {
        rounds.lastIndex { $0.open <= t }
    }
}

extension Run {
    /// Whether `a` belongs to a federated participant that already dropped out of the round of step `t`.
    func droppedOut(_ a: Allocation, at t: Int) -> Bool {
        guard let dataset = a.participant, let r = federated[a.workload], let i = r.round(at: t) else { return false }
        return r.dropped[i]?.contains(dataset) == true
    }

    /// A participant trains its share of the round for one step, at home (the checker sees which dataset).
    mutating func train(_ a: Allocation, dataset: String, at t: Int) {
        record(a, at: t)
        guard var r = federated[a.workload], let i = r.round(at: t) else { return }
        let w = fleet.workloads[a.workload]
        r.trained[i, default: [:]][dataset, default: 0] +=
            PhysicalModel.throughput(w, model: a.model, count: a.count)
            * grid.step
        r.spent[i, default: [:]][dataset, default: 0] += Double(a.count) * grid.step
        federated[a.workload] = r
    }

    /// A participant's site shed it mid-round: it drops out of that round and its work there is lost. When the
    /// rest can no longer reach the quorum, the workload is replanned from the next step (the round retried).
    mutating func dropOut(_ a: Allocation, dataset: String, at t: Int) {
        result.events.interruptions += 1
        guard var r = federated[a.workload], let i = r.round(at: t) else { return }
        if r.dropped[i, default: []].insert(dataset).inserted {
            result.rounds?.dropouts += 1
            result.work.lostAcceleratorHours += (r.spent[i]?[dataset] ?? 0) / 3600
        }
        let quorum = fleet.workloads[a.workload].federation?.minSites ?? 1
        if r.next == i, r.rounds[i].roster.count - (r.dropped[i]?.count ?? 0) < quorum {
            // The round cannot close with its quorum: it fails now and is retried after a replan.
            fail(&r, workload: a.workload, at: t + 1, sites: [])
        }
        federated[a.workload] = r
    }

    /// Records a failed attempt at round `r.next`: the workload is replanned to retry it, unless the
    /// coordinator's retries are spent (then it stops, as the live coordinator fails it).
    mutating func fail(_ r: inout RoundsProgress, workload w: Int, at step: Int, sites: [String]) {
        outcomes.append(RoundOutcome(workload: w, step: step, completed: false, sites: sites))
        result.rounds?.failed += 1
        r.failures += 1
        r.next = r.rounds.count
        affected.insert(w)
    }

    /// Whether a federated workload has failed more attempts at one round than its retries allow.
    func givenUp(_ w: Int) -> Bool {
        guard let r = federated[w], let federation = fleet.workloads[w].federation else { return false }
        return r.failures > federation.retries
    }

    /// Closes the rounds due at the end of step `t`: a round whose quorum trained its shares completes; one
    /// short of it fails, and the workload is replanned from the next step.
    mutating func closeRounds(endingAt t: Int) {
        for w in federated.keys.sorted() where progress[w].finishStep == nil {
            guard var r = federated[w], r.next < r.rounds.count, r.rounds[r.next].close <= t + 1 else { continue }
            let round = r.rounds[r.next]
            let dropped = r.dropped[r.next] ?? []
            let trained = r.trained[r.next] ?? [:]
            let sites = round.roster.filter { m in
                !dropped.contains(m.dataset) && Completion.finishes(trained[m.dataset] ?? 0, m.flops)
            }
            let federation = fleet.workloads[w].federation
            guard sites.count >= (federation?.minSites ?? 1) else {
                fail(&r, workload: w, at: t + 1, sites: sites.map(\.site))
                federated[w] = r
                continue
            }
            outcomes.append(RoundOutcome(workload: w, step: t + 1, completed: true, sites: sites.map(\.site)))
            r.next += 1
            r.completed += 1
            r.failures = 0
            result.rounds?.completed += 1
            let total = federation?.rounds ?? r.completed
            progress[w].done = (progress[w].required ?? 0) * Double(r.completed) / Double(max(1, total))
            if r.completed >= total { progress[w].finishStep = t + 1 }
            federated[w] = r
        }
    }

    /// What is left of workload `i` for a replan: its remaining FLOPs and, for a federated workload, its
    /// remaining rounds.
    func remaining(_ i: Int, flops: Double, arrival: Date) -> Workload {
        let w = fleet.workloads[i]
        guard let r = federated[i], let federation = w.federation else {
            return w.remaining(flops: flops, arrival: arrival)
        }
        return w.remaining(rounds: max(0, federation.rounds - r.completed), flops: flops, arrival: arrival)
    }
}
