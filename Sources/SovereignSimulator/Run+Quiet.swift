import SovereignModel
import SovereignPlanner

/// A step run in full whose following steps may repeat it: nothing was shed, no site departed from its
/// forecast, no battery changed its charge and nothing is to be replanned. A later step whose allocations
/// and site inputs are the same (bit for bit: each budget's runs say how long they hold) runs the same way,
/// so it is run by adding the same draw and each allocation's progress, one step at a time (so every sum adds
/// the same terms in the same order as a full step would).
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

    /// What a repeated step adds for one running allocation: plain numbers, so a repeat copies no
    /// `Allocation` and asks the schedule about a job once per stretch (where its allocation changes), not
    /// at every step.
    struct Job {
        let workload: Int
        /// Its latest run's index in `Run.executed`.
        let run: Int
        let rate: Rate
        let count: Int
        /// Whether it pauses or moves after the last step before its allocations change.
        let pausesAtChange: Bool
    }
}

extension Run {
    /// Repeats step `t` (just run in full) at the following steps for as long as nothing changes: no segment
    /// starts or ends, no federated round is due, every site's traces hold the values of step `t` and no site
    /// departs from its forecast; a step where work finishes is the last repeated. (No round closes in
    /// between, so a repeated step has nothing to close.)
    ///
    /// The sites' draws are added step by step; each job's progress is then added step by step over the same
    /// steps, one job after another (jobs share no state, so each sum still adds the same terms in the same
    /// order as a full step would), and its run's end and last step are set once.
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
        var stop = repeatingSites(after: t, before: end, actual: actual, original: original)
        guard stop > t + 1 else { return t + 1 }
        let jobs = quiet.running.map { repeated($0, before: end) }
        // Each job up to the first step where one finishes (that step is the last repeated): a job advanced
        // to a later `stop` is advanced again from where it was.
        var advanced: [(progress: Progress, through: Int)] = []
        for job in jobs {
            let p = self.advanced(job, steps: (t + 1)..<stop, change: end)
            advanced.append((p, p.finishStep ?? stop))
            if let finish = p.finishStep { stop = min(stop, finish) }
        }
        for u in (t + 1)..<stop {
            for (s, d) in quiet.draws.enumerated() { draw(d.load, site: s, at: u, budget: d.budget, limit: d.limit) }
        }
        for (job, a) in zip(jobs, advanced) {
            var p = a.through == stop ? a.progress : self.advanced(job, steps: (t + 1)..<stop, change: end)
            p.lastRunStep = stop - 1
            progress[job.workload] = p
            executed[job.run].end = stop
        }
        return stop
    }

    /// The step before which every site repeats step `t` (see ``sitesRepeat(through:from:actual:original:)``),
    /// no later than `end`.
    func repeatingSites(after t: Int, before end: Int, actual: [SiteBudget], original: [SiteBudget]) -> Int {
        let same = actual.map { $0.runEnd(containing: t) }
        var stop = t + 1
        while stop < end, let through = sitesRepeat(through: same, from: stop, actual: actual, original: original) {
            stop = min(end, through)
        }
        return stop
    }

    /// What a repeated step adds for allocation `a`, whose allocations hold until step `end`.
    func repeated(_ a: Allocation, before end: Int) -> Quiet.Job {
        let w = fleet.workloads[a.workload]
        return Quiet.Job(
            workload: a.workload,
            run: latestRun[ExecutedRun.Key(workload: a.workload, dataset: nil)] ?? -1,
            rate: Quiet.Rate(
                perSecond: PhysicalModel.throughput(w, model: a.model, count: a.count),
                checkpointEvery: w.checkpoint?.every.seconds ?? .infinity
            ),
            count: a.count,
            pausesAtChange: end < grid.count && schedule.first(of: a.workload, at: end)?.pool != a.pool
        )
    }

    /// Job `job`'s progress after the repeated `steps` (up to and including one where it finishes); its
    /// allocation changes before step `change`.
    func advanced(_ job: Quiet.Job, steps: Range<Int>, change: Int) -> Progress {
        var p = progress[job.workload]
        guard p.required != nil else { return p }
        for u in steps {
            work(&p, rate: job.rate, count: job.count, at: u, pausesNext: u + 1 == change && job.pausesAtChange)
            if p.finishStep != nil { break }
        }
        return p
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
