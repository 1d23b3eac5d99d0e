public import SovereignModel

/// Deferrable work that may run on a varying number of accelerators (`accelerators: {min, max}`) runs wider
/// in clean steps and narrower in dirty ones, finishing by its deadline (CarbonScaler, Hanafy et al. 2023).
///
/// The walk's first ranked option, as for ``CarbonShifting``. Each step of the window offers its width in
/// units: the first `min` accelerators together (the work cannot run on fewer), then one accelerator at a
/// time up to what is free there (accelerators and power). A unit gains the throughput it adds at that
/// width (the physical model's, with the workload's `accelerators.scaling`: below 1, each added
/// accelerator adds less) and costs its running power × the step's `carbon × PUE`. Units are taken by work
/// per carbon, best first, until the work is done. Because a step's marginal throughput falls with width,
/// its units come in width order, and taking the best ratio first is optimal for the relaxation that may
/// take a fraction of the last unit (a fractional knapsack over concave per-step curves); the last unit
/// is taken whole, so at most one accelerator-step more than the work needs is planned.
///
/// Pauses are not priced here (CarbonScaler does not price them either): the policy that prices them is
/// ``CarbonShifting``, which this one falls back to for work that cannot vary its width. The width each
/// step gets is reported in the plan's segments. With linear scaling every unit of a step is worth the
/// same, so the cleanest steps fill to their full width first: the rigid optimum at full width.
public struct ElasticCarbonShifting: TimeShifting {
    public let name = "elastic-carbon-shifting"

    /// Makes the plug-in.
    public init() {}

    /// Width offered at one step, one unit at a time.
    struct Unit {
        /// Index into the window.
        let step: Int
        /// The width once this unit is taken.
        let width: Int
        /// FLOPs it adds over the step.
        let work: Double
        /// Carbon it costs over the step (any unit: only ratios are compared).
        let carbon: Double
        /// Work per carbon, never above the step's previous unit's (the physics says it is not; rounding in
        /// the differences of throughputs must not say otherwise), so a step's units sort in width order.
        let ratio: Double
        /// Whether it is its step's first unit (all of `min` together).
        let first: Bool
    }

    func shift(_ walk: Walk, state: PlanningState) -> Shift? {
        guard walk.workload.preemptible, let deadline = walk.deadline, let required = walk.required,
            let option = walk.ranked.first, option.minCount < option.maxCount
        else { return nil }
        let move = walk.canMove(to: 0)
        let window = walk.arrival..<min(deadline, state.grid.count)
        guard move.ok, move.seconds == 0, !window.isEmpty else { return nil }
        let units = offers(walk, option: option, window: window, state: state)
        guard let widths = Self.cheapest(units, steps: window.count, required: required) else { return nil }
        return Shift(rank: 0, runs: Self.runs(widths, from: window.lowerBound))
    }

    /// The steps of positive width as runs of one width, window index `i` at grid step `first + i`.
    static func runs(_ widths: [Int], from first: Int) -> [Shift.Run] {
        var runs: [Shift.Run] = []
        for (i, width) in widths.enumerated() where width > 0 {
            let t = first + i
            if let last = runs.last, last.steps.upperBound == t, last.width == width {
                runs[runs.count - 1] = Shift.Run(steps: last.steps.lowerBound..<t + 1, width: width)
            } else {
                runs.append(Shift.Run(steps: t..<t + 1, width: width))
            }
        }
        return runs
    }

    /// Every unit of width the window offers, in step order and, within a step, in width order.
    func offers(_ walk: Walk, option: Planner.Ranked, window: Range<Int>, state: PlanningState) -> [Unit] {
        let budget = state.context.budgets[option.candidate.siteIndex]
        let eachWatts = PhysicalModel.runningPower(model: option.candidate.model, count: 1)
        // Read forward, each series one run at a time (a subscript would search its runs at every step).
        var carbon = StepValues.Cursor(budget.carbon)
        var pue = StepValues.Cursor(budget.pue)
        var units: [Unit] = []
        for (i, t) in window.enumerated() {
            let most = walk.available(0, at: t, want: option.maxCount, state: state).count
            guard most >= option.minCount else { continue }
            let perAccelerator = carbon.seek(t).value * pue.seek(t).value * eachWatts * state.grid.step
            var before = 0.0
            var ratio = Double.infinity
            for n in option.minCount...most {
                let work = walk.rate(option, count: n) * state.grid.step
                let first = n == option.minCount
                let carbon = perAccelerator * Double(first ? n : 1)
                ratio = min(ratio, carbon > 0 ? (work - before) / carbon : .infinity)
                units.append(Unit(step: i, width: n, work: work - before, carbon: carbon, ratio: ratio, first: first))
                before = work
            }
        }
        return units
    }

    /// The width of each window step that does `required` FLOPs for the least carbon (best work per carbon
    /// first; ties to the earlier step, then the narrower width), or nil when the whole window cannot.
    ///
    /// - Complexity: O(u log u) for u units.
    static func cheapest(_ units: [Unit], steps: Int, required: Double) -> [Int]? {
        let order = units.indices.sorted { a, b in
            let (ua, ub) = (units[a], units[b])
            if ua.ratio != ub.ratio { return ua.ratio > ub.ratio }
            return ua.step != ub.step ? ua.step < ub.step : ua.width < ub.width
        }
        var widths = [Int](repeating: 0, count: steps)
        var done = 0.0
        for i in order where !Completion.finishes(done, required) {
            let unit = units[i]
            // A unit extends its step's width: the order above puts each after the one before it.
            guard widths[unit.step] == (unit.first ? 0 : unit.width - 1) else { continue }
            widths[unit.step] = unit.width
            done += unit.work
        }
        return Completion.finishes(done, required) ? widths : nil
    }
}
