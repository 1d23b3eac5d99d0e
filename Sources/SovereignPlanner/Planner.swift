import Foundation
public import SovereignModel

/// Places and times every workload of a fleet on the scenario's grid.
///
/// Workloads are taken by priority, then arrival, then declaration order. For each, the filters keep the
/// pools it may use and the scorers rank them; then it is walked through time, step by step, taking the
/// accelerators and the power budget it needs, pausing where none is left, and resuming or migrating
/// (over a link, paying the checkpoint's transfer time) where some is. A federated workload with a
/// `federation` section is walked round by round, one participant at its own dataset's site at a time
/// (``placeRounds(_:federation:state:)``).
///
/// - Complexity: O(W × (P + S × C)) for W workloads, P pools, S steps and C candidate pools per workload
///   (C is usually small: residency cuts it down); memory O(P × S).
public struct Planner: Sendable {
    public let policy: PlanningPolicy

    /// Makes a planner for a policy.
    public init(policy: PlanningPolicy) {
        self.policy = policy
    }

    /// Plans the fleet against the budgets (one per site, in fleet order).
    ///
    /// - Parameters:
    ///   - occupied: accelerators already promised to work that keeps its place (a partial replan).
    ///   - origins: for work that has a checkpoint somewhere, the index of the site holding it, by workload
    ///     index: moving elsewhere then needs a link and takes the checkpoint's transfer time.
    ///   - awaiting: derived datasets whose anonymisation has not produced them yet: work that reads one
    ///     waits (``PlacementStatus/waiting``), taking nothing. Every workload's plan names the anonymisations
    ///     it depends on (``WorkloadPlan/after``) either way.
    public func plan(
        _ fleet: Fleet,
        grid: TimeGrid,
        budgets: [SiteBudget],
        occupied: [Occupation] = [],
        origins: [Int: Int] = [:],
        awaiting: Set<String> = []
    ) -> Plan {
        var state = PlanningState(fleet: fleet, grid: grid, budgets: budgets)
        state.occupy(occupied)
        var results = [WorkloadPlan?](repeating: nil, count: fleet.workloads.count)
        for index in Self.placementOrder(fleet, grid: grid) {
            let w = fleet.workloads[index]
            let steps = DerivationStep.steps(for: w, in: fleet)
            var result =
                Self.waiting(w, steps.filter { awaiting.contains($0.dataset) }, catalog: fleet.catalog)
                ?? place(w, origin: origins[index], state: &state)
            result.after = steps
            results[index] = result
        }
        return Plan(policy: policy.name, grid: grid, workloads: results.compactMap { $0 })
    }

    /// The plan of a workload held back by the anonymisations in `pending`, or `nil` when there are none.
    static func waiting(_ w: Workload, _ pending: [DerivationStep], catalog: AcceleratorCatalog) -> WorkloadPlan? {
        guard !pending.isEmpty else { return nil }
        let required = PhysicalModel.requiredFLOPs(w, catalog: catalog)
        return .unplaced(w.name, .waiting, required: required, Explanation.awaiting(w.name, pending))
    }

    /// Workload indices by priority, then arrival, then declaration order.
    static func placementOrder(_ fleet: Fleet, grid: TimeGrid) -> [Int] {
        fleet.workloads.indices.sorted { a, b in
            let wa = fleet.workloads[a]
            let wb = fleet.workloads[b]
            if wa.priority != wb.priority { return wa.priority > wb.priority }
            let ta = wa.arrival?.timeIntervalSince1970 ?? grid.start
            let tb = wb.arrival?.timeIntervalSince1970 ?? grid.start
            if ta != tb { return ta < tb }
            return a < b
        }
    }

    /// The plan with budgets taken from the fleet's traces as they are; work reading a derived dataset in
    /// `awaiting` waits for its anonymisation.
    public func plan(_ fleet: Fleet, awaiting: Set<String> = []) -> Plan? {
        guard let grid = fleet.scenario?.grid else { return nil }
        let budgets = fleet.sites.map { SiteBudget(site: $0, grid: grid) }
        return plan(fleet, grid: grid, budgets: budgets, awaiting: awaiting)
    }

    // MARK: Candidates

    /// A candidate that passed every filter, sized for the workload, in rank order.
    struct Ranked {
        let candidate: Candidate
        let fit: Fit

        var precision: Precision? { fit.precision }
        var minCount: Int { fit.min }
        var maxCount: Int { fit.max }
    }

    /// One scheduling cycle for `w`: the filters prepared once and asked of every candidate, the scorers'
    /// order over those that pass, then the sizers over them in that order.
    ///
    /// When the filters bound the jurisdictions (residency), only the candidates there are asked, through the
    /// state's pools by bound; every other candidate is refused by some filter, so the ranking is the same.
    /// When nothing is ranked, the candidates outside the bound are asked too, only for why they are refused,
    /// to explain. What the filters say is shared by workloads of the same shapes (``CandidatePools``).
    func rank(_ w: Workload, state: PlanningState) -> (ranked: [Ranked], refusals: Refusals) {
        let filters = policy.preparedFilters(for: w, in: state.fleet)
        let bound = filters.jurisdictions
        let pools = bound.map { state.pools.split(by: $0) } ?? (inside: state.candidates, outside: [])
        // Unbounded work asks every candidate and falls into few shapes: its outcomes are shared. Bounded work
        // asks the few candidates of its countries, and its shapes (its datasets) rarely repeat: remembering
        // them would cost memory for little.
        // Inside the bound, a filter that refuses only for the country (residency) passes every candidate.
        let filtered =
            bound == nil
            ? state.pools.filtered(pools.inside, by: filters)
            : CandidatePools.filter(pools.inside, by: filters.insideBound)
        let order = scoredOrder(w, filtered.passed, state: state)
        let (ranked, refused) = sized(w, filtered.passed, in: order)
        if !ranked.isEmpty { return (ranked, Refusals()) }
        var refusals = Refusals(filtered.rejections)
        refusals.add(refused)
        Self.count(filters, refusing: pools.outside, into: &refusals)
        return ([], refusals)
    }

    /// Counts why each of `candidates` is refused (a candidate the filters pass has no refusal to give).
    private static func count(
        _ filters: [PreparedFilter],
        refusing candidates: [Candidate],
        into refusals: inout Refusals
    ) {
        for candidate in candidates {
            if case .rejected(let rejection) = filters.check(candidate) { refusals.add(rejection) }
        }
    }

    /// The sizers over `passed` in `order` (the scorers'): those that serve, and why the rest do not.
    private func sized(
        _ w: Workload,
        _ passed: [FittedCandidate],
        in order: [Int]
    ) -> (ranked: [Ranked], refused: [Rejection]) {
        var ranked: [Ranked] = []
        ranked.reserveCapacity(order.count)
        var refused: [Rejection] = []
        let sizers = policy.sizers
        for i in order {
            let candidate = passed[i]
            // Without a sizing filter there is no fit to walk with: such a candidate cannot be ranked.
            guard var fit = candidate.fit else { continue }
            var rejection: Rejection?
            // By index: iterating would copy each existential sizer per candidate.
            for k in sizers.indices where rejection == nil {
                switch sizers[k].size(w, candidate.candidate, fit: fit) {
                case .sized(let sized): fit = sized
                case .refused(let why): rejection = why
                }
            }
            if let rejection {
                refused.append(rejection)
            } else {
                ranked.append(Ranked(candidate: candidate.candidate, fit: fit))
            }
        }
        return (ranked, refused)
    }

    /// Indices of `passed` by descending weighted score, ties (and policies without scorers) in fleet order.
    private func scoredOrder(_ w: Workload, _ passed: [FittedCandidate], state: PlanningState) -> [Int] {
        guard !policy.scorers.isEmpty, passed.count > 1 else { return Array(passed.indices) }
        var total = [Double](repeating: 0, count: passed.count)
        for (scorer, weight) in policy.scorers {
            for (i, s) in scorer.scores(w, candidates: passed, context: state.context).enumerated() {
                total[i] += weight * s
            }
        }
        return ScoreOrder.descending(total)
    }

    // MARK: Placement

    private func place(_ w: Workload, origin: Int?, state: inout PlanningState) -> WorkloadPlan {
        if w.type == .federated, let federation = w.federation {
            return placeRounds(w, federation: federation, state: &state)
        }
        let grid = state.grid
        let arrivalTime = w.arrival?.timeIntervalSince1970 ?? grid.start
        let required = PhysicalModel.requiredFLOPs(w, catalog: state.fleet.catalog)
        guard arrivalTime < grid.end else {
            return .unplaced(w.name, .notArrived, required: required, "\(w.name): arrives after the scenario ends")
        }
        let arrivalStep = max(0, grid.step(at: Date(timeIntervalSince1970: arrivalTime), rounding: .up))
        let deadlineStep = w.deadline.map { grid.step(at: $0, rounding: .down) }
        var (ranked, refusals) = rank(w, state: state)
        if let required, let deadlineStep {
            let window = Double(max(0, min(deadlineStep, grid.count) - arrivalStep)) * grid.step
            Self.inTimeFirst(&ranked, w, required: required, window: window)
        }
        guard !ranked.isEmpty else {
            let explanation = Explanation.noPool(w.name, total: state.candidates.count, refusals: refusals)
            return .unplaced(w.name, .unplaceable, required: required, explanation)
        }
        var walk = Walk(
            workload: w,
            ranked: ranked,
            policy: policy,
            arrival: arrivalStep,
            deadline: deadlineStep,
            required: required,
            origin: origin.map { ($0, state.fleet.sites[$0]) }
        )
        walk.run(state: &state)
        return walk.result(state: state)
    }

    /// The steps `w` may run in: from its arrival (rounded up to a step) to its deadline (rounded down) or the
    /// horizon; `nil` when it arrives after the horizon.
    static func window(_ w: Workload, grid: TimeGrid) -> Range<Int>? {
        let arrivalTime = w.arrival?.timeIntervalSince1970 ?? grid.start
        guard arrivalTime < grid.end else { return nil }
        let arrival = max(0, grid.step(at: Date(timeIntervalSince1970: arrivalTime), rounding: .up))
        let end = w.deadline.map { min(grid.count, grid.step(at: $0, rounding: .down)) } ?? grid.count
        return arrival..<max(arrival, end)
    }

    /// Pools that could finish in time at their full width come first, whatever else they score: a cleaner
    /// pool that misses the deadline is no better choice. Reordered in place (a stable partition): only the late
    /// pools are set aside, where a new ranking would be a second copy of every option per workload.
    static func inTimeFirst(_ ranked: inout [Ranked], _ w: Workload, required: Double, window: Double) {
        func inTime(_ r: Ranked) -> Bool {
            PhysicalModel.throughput(w, tflops: r.candidate.model.tflops, count: r.maxCount) * window >= required
        }
        var late: [Ranked] = []
        var early = 0
        for k in ranked.indices {
            if inTime(ranked[k]) {
                // `early <= k`: what was at `early` has been moved on or set aside already.
                ranked[early] = ranked[k]
                early += 1
            } else {
                late.append(ranked[k])
            }
        }
        ranked.replaceSubrange(early..., with: late)
    }
}

extension WorkloadPlan {
    /// A workload that does not run at all, and why.
    static func unplaced(
        _ name: String,
        _ status: PlacementStatus,
        required: Double?,
        _ explanation: String
    ) -> WorkloadPlan {
        WorkloadPlan(
            name: name,
            status: status,
            segments: [],
            events: [],
            precision: nil,
            requiredFLOPs: required,
            plannedFLOPs: 0,
            finishStep: nil,
            explanation: explanation
        )
    }
}

/// Accelerators already promised at one step, which a partial replan must leave alone.
public struct Occupation: Sendable, Hashable {
    public let step: Int
    /// Site index in the fleet.
    public let site: Int
    public let pool: String
    public let accelerators: Int

    public init(step: Int, site: Int, pool: String, accelerators: Int) {
        self.step = step
        self.site = site
        self.pool = pool
        self.accelerators = accelerators
    }
}

/// Shared, mutable capacity while a plan is built: free accelerators per pool and IT headroom per site.
struct PlanningState {
    let fleet: Fleet
    let grid: TimeGrid
    let context: PlanningContext
    let candidates: [Candidate]
    /// The candidates inside and outside each jurisdiction bound the filters have set, split once per bound.
    let pools: CandidatePools
    /// Free accelerators, indexed `[pool, step]`.
    var free: FallingProfiles<Int32>
    /// IT watts still available, indexed `[site, step]`.
    var headroom: FallingProfiles<Double>

    init(fleet: Fleet, grid: TimeGrid, budgets: [SiteBudget]) {
        self.fleet = fleet
        self.grid = grid
        context = PlanningContext(fleet: fleet, grid: grid, budgets: budgets)
        var candidates: [Candidate] = []
        for (siteIndex, site) in fleet.sites.enumerated() {
            for pool in site.pools {
                guard let model = fleet.catalog[pool.accelerator] else { continue }
                candidates.append(
                    Candidate(siteIndex: siteIndex, poolIndex: candidates.count, site: site, pool: pool, model: model)
                )
            }
        }
        self.candidates = candidates
        pools = CandidatePools(candidates)
        free = FallingProfiles(rows: candidates.count, steps: grid.count) { c, _ in
            Int32(clamping: candidates[c].pool.count)
        }
        // Rows are filled one after another, each step by step: one forward cursor per site reads its limits.
        var itLimits = budgets.map { StepValues.Cursor($0.itLimits) }
        headroom = FallingProfiles(rows: budgets.count, steps: grid.count) { s, t in itLimits[s].seek(t).value }
    }

    /// Holds the accelerators and power of work that keeps its place (a partial replan).
    mutating func occupy(_ occupied: [Occupation]) {
        var candidateOf: [Int: [String: Int]] = [:]
        for c in candidates { candidateOf[c.siteIndex, default: [:]][c.pool.name] = c.poolIndex }
        for o in occupied {
            guard let k = candidateOf[o.site]?[o.pool] else { continue }
            let c = candidates[k]
            take(
                o.accelerators,
                pool: c.poolIndex,
                site: o.site,
                watts: PhysicalModel.runningPower(model: c.model, count: o.accelerators),
                at: o.step
            )
        }
    }

    /// Where a trial began (``mark()``).
    struct Mark {
        fileprivate let free: Int
        fileprivate let headroom: Int
    }

    /// Starts a trial: what is taken from here on can be given back exactly by ``rollBack(to:)``.
    mutating func mark() -> Mark { Mark(free: free.mark(), headroom: headroom.mark()) }

    /// Gives back everything taken since `mark`: the state is as it was when the trial began, bit for bit.
    mutating func rollBack(to mark: Mark) {
        free.rollBack(to: mark.free)
        headroom.rollBack(to: mark.headroom)
    }

    /// Ends the trial begun at `mark`, keeping what it took.
    mutating func keep(_ mark: Mark) {
        free.keep(mark.free)
        headroom.keep(mark.headroom)
    }

    /// Takes `count` accelerators of pool `pool` and `watts` of IT headroom at site `site`, at step `t`.
    mutating func take(_ count: Int, pool: Int, site: Int, watts: Double, at t: Int) {
        free.subtract(Int32(count), pool, at: t)
        headroom.subtract(watts, site, at: t)
    }

    /// Takes `count` accelerators of pool `pool` and `watts` of IT headroom at site `site` at each step of
    /// `steps`: the same values, bit for bit, as ``take(_:pool:site:watts:at:)`` at each step (which a single
    /// step takes: scattered steps, as carbon shifting's, cost no range bookkeeping).
    mutating func take(_ count: Int, pool: Int, site: Int, watts: Double, steps: Range<Int>) {
        guard steps.count > 1 else {
            if let t = steps.first { take(count, pool: pool, site: site, watts: watts, at: t) }
            return
        }
        free.subtract(Int32(count), pool, steps: steps)
        headroom.subtract(watts, site, steps: steps)
    }
}

/// The fleet's candidates split by jurisdiction bound, and what the filters said of them by the filters'
/// shapes, memoised for one plan: workloads whose datasets allow the same countries share one split, and
/// workloads the filters see alike (most differ only in size, times and priority) share one filtering.
final class CandidatePools {
    /// The candidates at sites in the bound and elsewhere, each in fleet order.
    typealias Split = (inside: [Candidate], outside: [Candidate])

    private let candidates: [Candidate]
    private var splits: [Set<String>: Split] = [:]
    private var outcomes: [[AnyHashable]: Filtered] = [:]

    init(_ candidates: [Candidate]) {
        self.candidates = candidates
    }

    /// The candidates at sites in `bound` and those elsewhere.
    ///
    /// - Complexity: O(1) amortised for a bound seen before; O(candidates) the first time.
    func split(by bound: Set<String>) -> Split {
        if let known = splits[bound] { return known }
        var split: Split = ([], [])
        for c in candidates {
            if bound.contains(c.site.jurisdiction) { split.inside.append(c) } else { split.outside.append(c) }
        }
        splits[bound] = split
        return split
    }

    /// What `filters` say of `candidates`: those that pass, with their fits, and the refusals of the rest;
    /// asked once per key of the filters' shapes (``Filter/shape(_:)``) and shared by the workloads with it.
    ///
    /// - Complexity: O(candidates × filters) for a new key, O(filters) for a known one.
    func filtered(_ candidates: [Candidate], by filters: [PreparedFilter]) -> Filtered {
        guard let key = filters.shapes else { return Self.filter(candidates, by: filters) }
        if let known = outcomes[key] { return known }
        let outcome = Self.filter(candidates, by: filters)
        outcomes[key] = outcome
        return outcome
    }

    /// The candidates that pass `filters`, with their fits, and the refusals of the rest.
    static func filter(_ candidates: [Candidate], by filters: [PreparedFilter]) -> Filtered {
        var outcome = Filtered(passed: [], rejections: [])
        outcome.passed.reserveCapacity(candidates.count)
        for candidate in candidates {
            switch filters.check(candidate) {
            case .passes: outcome.passed.append(FittedCandidate(candidate: candidate, fit: nil))
            case .fits(let fit): outcome.passed.append(FittedCandidate(candidate: candidate, fit: fit))
            case .rejected(let rejection): outcome.rejections.append(rejection)
            }
        }
        return outcome
    }
}

/// What a workload's filters said of the candidates they were asked: those that pass, in fleet order, each
/// with its fit, and why the rest were refused.
struct Filtered {
    var passed: [FittedCandidate]
    var rejections: [Rejection]
}
