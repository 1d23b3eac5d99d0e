import SovereignModel
import SovereignPlanner

/// A step run in full whose following steps may repeat it: nothing was shed, no site departed from its
/// forecast, no battery changed its charge and nothing is to be replanned. A later step whose allocations
/// and site inputs are the same (bit for bit: each budget's runs say how long they hold) runs the same way, so it is run by adding the same draw and each allocation's
/// progress, one step at a time (so every sum adds the same terms in the same order as a full step would).
struct Quiet {
    /// What a site drew: its IT load and the facility power it could have (supply plus battery discharge),
    /// on its budget at that step.
    struct Draw {
        let load: Double
        let limit: Double
        let budget: SiteBudget.Step
    }

    /// How fast an allocation's work progresses and how often it checkpoints.
    struct Rate {
        let perSecond: Double
        let checkpointEvery: Double
    }

    /// The step run in full.
    let step: Int
    /// Each site's draw at that step, by site index.
    let draws: [Draw]
    /// The allocations that ran at that step.
    let running: [Run.Allocation]
}

extension Run {
    /// Repeats step `t` (just run in full) at the following steps for as long as nothing changes: no segment
    /// starts or ends, no federated round is due, every site's traces hold the values of step `t` and no site
    /// departs from its forecast; a step where work finishes is the last repeated. (No round closes in
    /// between, so a repeated step has nothing to close.)
    ///
    /// - Returns: the next step to run in full.
    mutating func repeatQuiet(after t: Int, actual: [SiteBudget], original: [SiteBudget]) -> Int {
        guard let quiet, quiet.step == t, t + 1 < grid.count else { return t + 1 }
        if quiet.running.contains(where: { $0.participant != nil || progress[$0.workload].finishStep != nil }) {
            return t + 1
        }
        if schedule.active.contains(where: { schedule.entries[$0].allocation.participant != nil }) { return t + 1 }
        // A workload with two allocations at once records two runs; the full step keeps them apart.
        guard Set(quiet.running.map(\.workload)).count == quiet.running.count else { return t + 1 }
        let end = min(grid.count, schedule.nextChange(after: t), nextRoundDue(after: t))
        let rates = quiet.running.map { a in
            let w = fleet.workloads[a.workload]
            return Quiet.Rate(
                perSecond: PhysicalModel.throughput(w, model: a.model, count: a.count),
                checkpointEvery: w.checkpoint?.every.seconds ?? .infinity
            )
        }
        let runs = quiet.running.map { latestRun[ExecutedRun.Key(workload: $0.workload, dataset: nil)] ?? -1 }
        let same = actual.map { $0.runEnd(containing: t) }
        var u = t + 1
        var repeating = u
        while u < end {
            if u >= repeating {
                let through = sitesRepeat(through: same, from: u, actual: actual, original: original)
                guard let through else { break }
                repeating = through
            }
            for (s, d) in quiet.draws.enumerated() {
                draw(d.load, site: s, at: u, budget: d.budget, limit: d.limit)
            }
            var finished = false
            for (i, a) in quiet.running.enumerated() {
                executed[runs[i]].end = u + 1
                var p = progress[a.workload]
                p.lastRunStep = u
                work(&p, a, rate: rates[i], at: u, following: schedule.first(of: a.workload, at: u + 1))
                finished = finished || p.finishStep != nil
                progress[a.workload] = p
            }
            u += 1
            if finished { break }
        }
        return u
    }

    /// Whether every site's traces at step `u` are still those of the repeated step (each site's are through
    /// `same[s]`, the end of the runs that hold that step) and no site departs from its forecast at `u`.
    ///
    /// - Returns: the step before which all of that holds (a site's departure is decided by its actual and
    ///   forecast budgets, so it stays as at `u` while both do), or `nil` when it does not hold at `u`.
    func sitesRepeat(through same: [Int], from u: Int, actual: [SiteBudget], original: [SiteBudget]) -> Int? {
        var through = Int.max
        for s in actual.indices {
            guard u < same[s], !departs(s, at: u, actual: actual, original: original) else { return nil }
            through = original[s].runEnd(containing: u, notBeyond: min(through, same[s]))
        }
        return through
    }

    /// The first step after `t` at whose end a federated round is due (`Int.max` when none is).
    func nextRoundDue(after t: Int) -> Int {
        var due = Int.max
        for (w, r) in federated where progress[w].finishStep == nil && r.next < r.rounds.count {
            due = min(due, r.rounds[r.next].close - 1)
        }
        return max(t + 1, due)
    }
}
