public import SovereignModel

/// Deferrable work runs in the lowest-carbon steps its deadline allows, every pause priced.
///
/// The walk's first ranked option (a pool that can finish in time comes first) at its full width: the
/// steps where that width is free (accelerators and power) between arrival and deadline are the window,
/// each priced at `carbon × PUE` of its site. Work that may pause takes the steps that minimise that carbon
/// plus its pauses (``StepSelection/cheapestRuns(_:eligible:count:pause:resume:)``); when pauses are free,
/// simply the cleanest steps (Wait-Awhile's optimum, ``StepSelection/cheapest(_:count:eligible:)``, over the
/// window's stretches of equal carbon, asking where the width is free only of the stretches it reaches).
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
        let costs = Self.costs(state.context.budgets[option.candidate.siteIndex], over: window)
        let eligible = { (steps: Range<Int>, most: Int) in
            walk.fullWidth(0, width: width, in: steps, most: most, state: state)
        }
        let chosen: [Range<Int>]?
        if walk.workload.preemptible {
            let fraction = pauseSeconds(walk.workload, at: option.candidate.site) / state.grid.step
            chosen = steps(costs, window: window, eligible: eligible, count: needed, pauseFraction: fraction)
        } else {
            let (cost, fits) = Self.perStep(costs, eligible: eligible(window, .max), window: window)
            chosen = StepSelection.cheapestWindow(cost, eligible: fits, length: needed).map {
                [window.lowerBound + $0..<window.lowerBound + $0 + needed]
            }
        }
        return chosen.map { Shift(rank: 0, count: width, steps: $0) }
    }

    /// The cheapest `k` steps of `window`, pauses priced at `pauseFraction` of a step's carbon each way.
    func steps(
        _ costs: [StepSelection.Stretch],
        window: Range<Int>,
        eligible: (_ steps: Range<Int>, _ most: Int) -> [Range<Int>],
        count k: Int,
        pauseFraction: Double
    ) -> [Range<Int>]? {
        guard pauseFraction > 0, window.count * k <= Self.pricedPausesLimit else {
            return StepSelection.cheapest(costs, count: k, eligible: eligible)
        }
        let (cost, fits) = Self.perStep(costs, eligible: eligible(window, .max), window: window)
        let io = cost.map { $0 * pauseFraction }
        let chosen = StepSelection.cheapestRuns(cost, eligible: fits, count: k, pause: io, resume: io)
        return chosen.map { StepSelection.runs($0.map { $0 + window.lowerBound }) }
    }

    /// The steps of `window` as stretches of one cost, `carbon × PUE` of `budget`: a stretch ends wherever
    /// either series changes (the carbon trace's hours, PUE's changes), so each is read once per run.
    static func costs(_ budget: SiteBudget, over window: Range<Int>) -> [StepSelection.Stretch] {
        var carbon = StepValues.Cursor(budget.carbon)
        var pue = StepValues.Cursor(budget.pue)
        var stretches: [StepSelection.Stretch] = []
        var t = window.lowerBound
        while t < window.upperBound {
            let (c, carbonEnd) = carbon.seek(t)
            let (p, pueEnd) = pue.seek(t)
            let end = min(carbonEnd, pueEnd, window.upperBound)
            stretches.append(StepSelection.Stretch(steps: t..<end, cost: c * p))
            t = end
        }
        return stretches
    }

    /// The window as arrays indexed from its first step: each step's cost, and whether it lies in `eligible`
    /// (ascending parts of `window`), for the searches that look at every step.
    static func perStep(
        _ costs: [StepSelection.Stretch],
        eligible: [Range<Int>],
        window: Range<Int>
    ) -> (cost: [Double], eligible: [Bool]) {
        var cost = [Double](repeating: 0, count: window.count)
        var fits = [Bool](repeating: false, count: window.count)
        for stretch in costs {
            for t in stretch.steps { cost[t - window.lowerBound] = stretch.cost }
        }
        for part in eligible {
            for t in part { fits[t - window.lowerBound] = true }
        }
        return (cost, fits)
    }

    /// Seconds to write (or read) the workload's checkpoint at `site`: 0 where no storage is declared.
    func pauseSeconds(_ workload: Workload, at site: Site) -> Double {
        guard let storage = site.storage else { return 0 }
        return storage.bandwidth.transferTime(of: PhysicalModel.checkpointSize(workload)).seconds
    }
}
