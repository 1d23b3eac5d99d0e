public import SovereignModel

/// Placements fit each site's forecast IT budget, `min(available/PUE, cooling)`, at every step: a walk
/// takes no more accelerators than the site's remaining headroom can run.
public struct PowerBudget: StepLimit {
    public let name = "power-budget"

    /// Makes the plug-in.
    public init() {}

    var shortage: Shortage { .power }

    func limit(site: Int, step t: Int, wattsEach: Double, state: PlanningState) -> Int {
        Int((max(0, state.headroom[site, t]) / wattsEach).rounded(.down))
    }

    func bound(site: Int, block b: Int, wattsEach: Double, state: PlanningState) -> Int {
        // Monotone in the headroom, so the block's largest headroom gives the most at any of its steps.
        Int((max(0, state.headroom.maximum(site, block: b)) / wattsEach).rounded(.down))
    }

    func least(site: Int, block b: Int, wattsEach: Double, state: PlanningState) -> Int {
        // Monotone in the headroom, so the block's least headroom gives the fewest at any of its steps.
        Int((max(0, state.headroom.minimum(site, block: b)) / wattsEach).rounded(.down))
    }
}
