@testable import SovereignPlanner

/// A shift one step at a time, as the tests compare it with per-step choices (the planner holds runs).
extension Shift {
    /// The grid steps it runs in, one a step, ascending.
    var steps: [Int] { runs.flatMap { Array($0.steps) } }
    /// Accelerators at each of ``steps``.
    var widths: [Int] { runs.flatMap { repeatElement($0.width, count: $0.steps.count) } }
}
