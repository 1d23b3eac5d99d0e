import SovereignModel

/// When work counts as done: the one rule the planner and the simulator share.
package enum Completion {
    /// Relative slack under which work counts as done: FLOPs summed step by step fall short of the required
    /// total by rounding, and one rounding unit short must not cost a whole step more.
    package static let tolerance = 1e-9

    /// Whether `done` FLOPs complete `required`, within ``tolerance``.
    package static func finishes(_ done: Double, _ required: Double) -> Bool {
        done >= required * (1 - tolerance)
    }

    /// Whole steps of `perStep` FLOPs that complete `required`, within ``tolerance``.
    package static func steps(_ required: Double, perStep: Double) -> Int {
        PhysicalModel.wholeUp(required / perStep * (1 - tolerance))
    }
}
