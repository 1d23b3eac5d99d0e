import SovereignModel

/// The time-indexed planning problem of a fleet, ready to be written as a ``LinearProgram`` at any block size.
struct TimeIndexedProblem {
    /// A batch workload: where it is in the fleet, the steps it may run in, the FLOPs it needs and the pools
    /// its filters allow, each with its fit.
    struct Item {
        let index: Int
        let workload: Workload
        let window: Range<Int>
        let required: Double
        let allowed: [(candidate: Candidate, fit: Fit)]
    }

    let grid: TimeGrid
    let budgets: [SiteBudget]
    let respectsPower: Bool
    let batch: [Item]

    init(fleet: Fleet, grid: TimeGrid, budgets: [SiteBudget], policy: PlanningPolicy) {
        self.grid = grid
        self.budgets = budgets
        respectsPower = policy.respectsPower
        let candidates = PlanningState(fleet: fleet, grid: grid, budgets: budgets).candidates
        var batch: [Item] = []
        for (index, w) in fleet.workloads.enumerated() where w.type != .inference {
            guard let required = PhysicalModel.requiredFLOPs(w, catalog: fleet.catalog), required > 0,
                let window = Planner.window(w, grid: grid)
            else { continue }
            // A federated workload planned by rounds may run at each participant's pools: relaxing its rounds
            // and shares to one pool of work keeps the bound an upper bound.
            let views = w.type == .federated && w.federation != nil ? w.datasets.map(w.participant(training:)) : [w]
            let allowed = views.flatMap { view in
                let filters = policy.preparedFilters(for: view, in: fleet)
                return candidates.compactMap { c -> (Candidate, Fit)? in
                    if case .fits(let fit) = filters.check(c) { return (c, fit) }
                    return nil
                }
            }
            batch.append(Item(index: index, workload: w, window: window, required: required, allowed: allowed))
        }
        self.batch = batch
    }

    /// The blocks of `block` steps that `window` touches, each with how many of its steps it covers.
    func blocks(_ window: Range<Int>, block: Int) -> [(block: Int, steps: Int)] {
        guard !window.isEmpty else { return [] }
        return (window.lowerBound / block...(window.upperBound - 1) / block).map { b in
            let covered = max(window.lowerBound, b * block)..<min(window.upperBound, (b + 1) * block)
            return (b, covered.count)
        }
    }

    /// Columns the programme has at this block size.
    func columns(block: Int) -> Int {
        batch.reduce(0) { $0 + $1.allowed.count * blocks($1.window, block: block).count }
    }

    /// The programme at this block size (see ``PlanBound``).
    func program(block: Int) -> LinearProgram {
        var lp = LinearProgram()
        var poolRows: [Int: Int] = [:]
        var siteRows: [Int: Int] = [:]
        let blockCount = (grid.count + block - 1) / block
        for item in batch {
            let workRow = lp.addRow(upper: 1)
            for (c, fit) in item.allowed {
                let watts = PhysicalModel.runningPower(model: c.model, count: 1)
                let rate = PhysicalModel.throughput(item.workload, model: c.model, count: 1)
                for (b, covered) in blocks(item.window, block: block) {
                    // The block's own length: the last block of the horizon may be short.
                    let length = steps(b, size: block).count
                    let seconds = Double(length) * grid.step
                    let share = rate * seconds / item.required
                    let carbon = watts * seconds / 3.6e9 * meanCarbon(site: c.siteIndex, block: b, size: block)
                    let upper = Double(min(fit.max, c.pool.count)) * Double(covered) / Double(length)
                    let x = lp.addColumn(upper: upper, primary: share, secondary: carbon)
                    lp.entries.append(.init(row: workRow, column: x, value: share))
                    let poolKey = c.poolIndex * blockCount + b
                    let poolRow = poolRows[poolKey] ?? lp.addRow(upper: Double(c.pool.count))
                    poolRows[poolKey] = poolRow
                    lp.entries.append(.init(row: poolRow, column: x, value: 1))
                    guard respectsPower else { continue }
                    let siteKey = c.siteIndex * blockCount + b
                    let siteRow =
                        siteRows[siteKey] ?? lp.addRow(upper: meanLimit(site: c.siteIndex, block: b, size: block))
                    siteRows[siteKey] = siteRow
                    lp.entries.append(.init(row: siteRow, column: x, value: watts / 1000))
                }
            }
        }
        return lp
    }

    /// The steps of block `b`.
    private func steps(_ b: Int, size: Int) -> Range<Int> { b * size..<min(grid.count, (b + 1) * size) }

    /// Mean `PUE × supply carbon` at a site over a block, g/kWh.
    private func meanCarbon(site: Int, block b: Int, size: Int) -> Double {
        let range = steps(b, size: size)
        let budget = budgets[site]
        return range.reduce(0) { $0 + budget.pue[$1] * budget.carbon[$1] } / Double(range.count)
    }

    /// Mean IT limit at a site over a block, kW.
    private func meanLimit(site: Int, block b: Int, size: Int) -> Double {
        let range = steps(b, size: size)
        return range.reduce(0) { $0 + budgets[site].itLimit(at: $1) } / Double(range.count) / 1000
    }
}
