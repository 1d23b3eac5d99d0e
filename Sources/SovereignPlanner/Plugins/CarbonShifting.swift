public import SovereignModel

/// Deferrable work runs in the lowest-carbon steps its deadline allows, every pause priced.
///
/// The walk's first ranked option (a pool that can finish in time comes first) at its full width: the
/// steps where that width is free (accelerators and power) between arrival and deadline are the window,
/// each priced at `carbon × PUE` of its site. Work that may pause takes the steps that minimise that carbon
/// plus its pauses (``StepSelection/cheapestRuns(_:eligible:count:pause:resume:)``); when pauses are free,
/// simply the cleanest steps (Wait-Awhile's optimum, ``StepSelection/cheapest(_:eligible:count:)``).
/// Work that may not pause takes the cleanest contiguous run (``StepSelection/cheapestWindow(_:eligible:length:)``).
///
/// A pause writes the workload's checkpoint (its declared size, else 14 bytes per parameter) to the site's
/// storage and a resume reads it back: each takes size ÷ storage bandwidth at the running power, priced at
/// the carbon of the step it happens in. A site that declares no storage pauses for free. That time is
/// priced, not taken from the work: it is seconds against steps of minutes or hours.
///
/// Work competes in the planner's order (priority, then arrival, then declaration): each workload takes
/// its own optimum against what the workloads before it left. When its window holds too few steps at full
/// width, or its checkpoint must first move, the walk runs as soon as it can, as the other policies do.
public struct CarbonShifting: TimeShifting {
    public let name = "carbon-shifting"

    /// Above this many window steps × steps to run, pauses are not priced (the cleanest steps are taken):
    /// the exact dynamic programme would take too long and too much memory.
    static let pricedPausesLimit = 1 << 24

    /// Makes the plug-in.
    public init() {}

    func shift(_ walk: Walk, state: PlanningState) -> Shift? {
        guard let deadline = walk.deadline, let required = walk.required, let option = walk.ranked.first else {
            return nil
        }
        let move = walk.canMove(to: 0)
        let width = min(option.maxCount, option.candidate.pool.count)
        let window = walk.arrival..<min(deadline, state.grid.count)
        guard move.ok, move.seconds == 0, width > 0, !window.isEmpty else { return nil }
        let perStep = walk.rate(option, count: width) * state.grid.step
        let needed = Completion.steps(required, perStep: perStep)
        guard needed > 0, needed <= window.count else { return nil }
        let budget = state.context.budgets[option.candidate.siteIndex]
        let cost = window.map { budget.carbon[$0] * budget.pue[$0] }
        let eligible = window.map { walk.available(0, at: $0, want: width, state: state).count == width }
        let chosen: [Int]?
        if walk.workload.preemptible {
            let fraction = pauseSeconds(walk.workload, at: option.candidate.site) / state.grid.step
            chosen = steps(cost, eligible: eligible, count: needed, pauseFraction: fraction)
        } else {
            chosen = StepSelection.cheapestWindow(cost, eligible: eligible, length: needed).map {
                Array($0..<$0 + needed)
            }
        }
        return chosen.map { Shift(rank: 0, count: width, steps: $0.map { $0 + window.lowerBound }) }
    }

    /// The cheapest `k` steps, pauses priced at `pauseFraction` of a step's carbon each way.
    func steps(_ cost: [Double], eligible: [Bool], count k: Int, pauseFraction: Double) -> [Int]? {
        guard pauseFraction > 0, cost.count * k <= Self.pricedPausesLimit else {
            return StepSelection.cheapest(cost, eligible: eligible, count: k)
        }
        let io = cost.map { $0 * pauseFraction }
        return StepSelection.cheapestRuns(cost, eligible: eligible, count: k, pause: io, resume: io)
    }

    /// Seconds to write (or read) the workload's checkpoint at `site`: 0 where no storage is declared.
    func pauseSeconds(_ workload: Workload, at site: Site) -> Double {
        guard let storage = site.storage else { return 0 }
        return storage.bandwidth.transferTime(of: PhysicalModel.checkpointSize(workload)).seconds
    }
}
