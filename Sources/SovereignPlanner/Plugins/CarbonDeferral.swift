public import SovereignModel

/// Deferrable work waits for lower-carbon steps while its deadline leaves ample slack.
///
/// The threshold is the carbon intensity of the cleanest steps before the deadline that would finish the
/// work at the best pool's full rate, with a 30 % margin; the work waits at a dirtier step only while the
/// steps left before the deadline are more than twice those the rest of the work would take.
public struct CarbonDeferral: Deferral {
    public let name = "carbon-deferral"

    /// Makes the plug-in.
    public init() {}

    func rule(for walk: Walk, state: PlanningState) -> DeferralRule? {
        guard let threshold = threshold(walk, state: state), let deadline = walk.deadline,
            let required = walk.required
        else { return nil }
        return DeferralRule { walk, t, state in
            guard t < deadline else { return false }
            // The best pool's full rate: the real rate is often lower (power, other work), hence twice.
            let best = walk.ranked[walk.current ?? 0]
            let rate = walk.rate(best, count: best.maxCount) * state.grid.step
            let stepsLeft = ((required - walk.done) / rate).rounded(.up)
            return Double(deadline - t) > 2 * stepsLeft
                && state.context.budgets[best.candidate.siteIndex].carbon[t] > threshold
        }
    }

    /// The carbon intensity above which the walk waits, or `nil` when it has no deadline to wait within.
    func threshold(_ walk: Walk, state: PlanningState) -> Double? {
        guard let deadline = walk.deadline, let required = walk.required, deadline > walk.arrival else { return nil }
        let best = walk.ranked[0]
        let rate = walk.rate(best, count: best.maxCount) * state.grid.step
        let needed = PhysicalModel.wholeUp(required / rate)
        let window = walk.arrival..<min(deadline, state.grid.count)
        guard needed > 0, window.count > needed else { return nil }
        let carbon = state.context.budgets[best.candidate.siteIndex].carbon[window].sorted()
        return carbon[min(carbon.count - 1, PhysicalModel.wholeUp(Double(needed) * 1.3))]
    }
}
