import SovereignModel

/// One workload's walk through time: which pool and how many accelerators at each step.
struct Walk {
    /// Why a step could not run: what was short, and where.
    struct Block: Hashable {
        let shortage: Shortage
        let site: String
    }

    let workload: Workload
    let ranked: [Planner.Ranked]
    let policy: PlanningPolicy
    let arrival: Int
    let deadline: Int?
    let required: Double?
    /// Where the workload's checkpoint is when a replan starts it afresh (site index and site).
    let origin: (index: Int, site: Site)?

    private(set) var allocations: [(step: Int, rank: Int, count: Int)] = []
    private(set) var done = 0.0
    private(set) var finishStep: Int?
    /// The rank the walk runs on now.
    private(set) var current: Int?
    private var waitSeconds = 0.0
    private var migrations: [Int: (from: String, seconds: Double)] = [:]
    private(set) var blocked: [(step: Int, block: Block)] = []

    init(
        workload: Workload,
        ranked: [Planner.Ranked],
        policy: PlanningPolicy,
        arrival: Int,
        deadline: Int?,
        required: Double?,
        origin: (index: Int, site: Site)? = nil
    ) {
        self.origin = origin
        self.workload = workload
        self.ranked = ranked
        self.policy = policy
        self.arrival = arrival
        self.deadline = deadline
        self.required = required
        poolIndex = ranked.map(\.candidate.poolIndex)
        siteIndex = ranked.map(\.candidate.siteIndex)
        minCount = ranked.map(\.minCount)
        perAcceleratorPower = ranked.map { PhysicalModel.runningPower(model: $0.candidate.model, count: 1) }
        limits = policy.limits
    }

    private let poolIndex: [Int]
    private let siteIndex: [Int]
    private let minCount: [Int]
    private let perAcceleratorPower: [Double]
    private let limits: [any StepLimit]

    // MARK: Feasibility

    /// How many accelerators rank `r` can give at step `t` (up to `want`), or why not even its minimum.
    func available(_ r: Int, at t: Int, want: Int, state: PlanningState) -> (count: Int, block: Block?) {
        // Plain numbers copied out once per walk: reading them from `Candidate` (which holds a `Site`) would
        // retain and release a dozen references per step.
        let free = Int(state.free[poolIndex[r]][t])
        var n = min(want, free)
        if n < minCount[r] { return (0, Block(shortage: .capacity, site: ranked[r].candidate.site.name)) }
        for limit in limits {
            n = min(n, limit.limit(site: siteIndex[r], step: t, wattsEach: perAcceleratorPower[r], state: state))
            if n < minCount[r] { return (0, Block(shortage: limit.shortage, site: ranked[r].candidate.site.name)) }
        }
        return (n, nil)
    }

    /// Whether a checkpoint can move from the current site to rank `r`'s site (same site, or a direct link).
    func canMove(to r: Int) -> (ok: Bool, seconds: Double) {
        // Compared by index first: copying a `Site` per look is what this hot path cannot afford.
        let fromIndex: Int
        if let current, done > 0 {
            fromIndex = siteIndex[current]
        } else if current == nil, let origin {
            fromIndex = origin.index
        } else {
            return (true, 0)
        }
        if fromIndex == siteIndex[r] { return (true, 0) }
        let links = current.map { ranked[$0].candidate.site.links } ?? origin!.site.links
        let target = ranked[r].candidate.site.name
        guard let link = links.first(where: { $0.to == target }) else { return (false, 0) }
        return (true, link.bandwidth.transferTime(of: PhysicalModel.checkpointSize(workload)).seconds)
    }

    /// The first option, current one first, that can run at step `t`.
    func choose(at t: Int, want: (Int) -> Int, state: PlanningState) -> (rank: Int, count: Int, move: Double)? {
        // The current option first, then the others in rank order, without building an array per step.
        for k in -1..<ranked.count {
            let r: Int
            if k < 0 {
                guard let current else { continue }
                r = current
            } else {
                if k == current { continue }
                r = k
            }
            let (n, _) = available(r, at: t, want: want(r), state: state)
            guard n > 0 else { continue }
            let (ok, seconds) = canMove(to: r)
            if ok { return (r, n, seconds) }
        }
        return nil
    }

    mutating func commit(_ r: Int, count n: Int, at t: Int, state: inout PlanningState) {
        state.free[poolIndex[r]][t] -= Int32(n)
        state.headroom[siteIndex[r]][t] -= perAcceleratorPower[r] * Double(n)
        allocations.append((t, r, n))
    }

    mutating func recordBlock(at t: Int, state: PlanningState) {
        let best = current ?? 0
        let block = available(best, at: t, want: ranked[best].maxCount, state: state).block
        blocked.append((t, block ?? Block(shortage: .capacity, site: ranked[best].candidate.site.name)))
    }

    // MARK: Walks

    mutating func run(state: inout PlanningState) {
        if workload.type == .inference {
            runService(state: &state)
        } else if workload.preemptible {
            runPreemptible(state: &state)
        } else {
            runContiguous(state: &state)
        }
    }

    /// FLOPs per second `n` accelerators of ranked option `option` achieve on the workload.
    func rate(_ option: Planner.Ranked, count n: Int) -> Double {
        PhysicalModel.throughput(workload, model: option.candidate.model, count: n)
    }

    mutating func runPreemptible(state: inout PlanningState) {
        guard let required else { return }
        let deferrals = policy.deferrals.compactMap { $0.rule(for: self, state: state) }
        for t in arrival..<state.grid.count {
            if done >= required { break }
            if deferrals.contains(where: { $0.waits(self, t, state) }) { continue }
            guard let choice = choose(at: t, want: { self.ranked[$0].maxCount }, state: state) else {
                recordBlock(at: t, state: state)
                continue
            }
            if choice.move > 0 {
                migrations[t] = (current.map { ranked[$0].candidate.site.name } ?? origin?.site.name ?? "", choice.move)
                waitSeconds += choice.move
            }
            current = choice.rank
            commit(choice.rank, count: choice.count, at: t, state: &state)
            progress(choice.rank, count: choice.count, at: t, state: state)
        }
    }

    /// Work that may not pause: start only where it can run without a break to the end (or the horizon).
    mutating func runContiguous(state: inout PlanningState) {
        guard let required else { return }
        var start = arrival
        while start < state.grid.count {
            guard let first = choose(at: start, want: { self.ranked[$0].maxCount }, state: state) else {
                recordBlock(at: start, state: state)
                start += 1
                continue
            }
            var tentative: [(Int, Int)] = []
            var work = 0.0
            var t = start
            var broken = false
            while t < state.grid.count, work < required {
                let (n, _) = available(first.rank, at: t, want: ranked[first.rank].maxCount, state: state)
                if n == 0 {
                    broken = true
                    break
                }
                tentative.append((t, n))
                work +=
                    PhysicalModel.throughput(workload, model: ranked[first.rank].candidate.model, count: n)
                    * state.grid.step
                t += 1
            }
            if broken {
                recordBlock(at: t, state: state)
                start = t + 1
                continue
            }
            current = first.rank
            for (step, n) in tentative {
                commit(first.rank, count: n, at: step, state: &state)
                progress(first.rank, count: n, at: step, state: state)
            }
            return
        }
    }

    /// A standing service: at every step from arrival, enough accelerators for its demand.
    mutating func runService(state: inout PlanningState) {
        for t in arrival..<state.grid.count {
            guard let choice = choose(at: t, want: { self.ranked[$0].minCount }, state: state) else {
                recordBlock(at: t, state: state)
                continue
            }
            current = choice.rank
            commit(choice.rank, count: ranked[choice.rank].minCount, at: t, state: &state)
        }
    }

    mutating func progress(_ r: Int, count n: Int, at t: Int, state: PlanningState) {
        guard let required else { return }
        var seconds = state.grid.step
        let waited = min(seconds, waitSeconds)
        waitSeconds -= waited
        seconds -= waited
        done += PhysicalModel.throughput(workload, model: ranked[r].candidate.model, count: n) * seconds
        if done >= required, finishStep == nil {
            done = required
            finishStep = t + 1
        }
    }

    // MARK: Result

    func result(state: PlanningState) -> WorkloadPlan {
        let grid = state.grid
        var segments: [Segment] = []
        var events: [PlanEvent] = []
        var previous: (step: Int, rank: Int, count: Int)?
        var segmentStart = 0
        func site(_ r: Int) -> String { ranked[r].candidate.site.name }
        func closeSegment(_ p: (step: Int, rank: Int, count: Int)) {
            segments.append(
                Segment(
                    site: site(p.rank),
                    pool: ranked[p.rank].candidate.pool.name,
                    accelerators: p.count,
                    start: segmentStart,
                    end: p.step + 1
                )
            )
        }
        let checkpoint = PhysicalModel.checkpointSize(workload)
        let isService = workload.type == .inference
        for a in allocations {
            guard let p = previous else {
                events.append(PlanEvent(kind: .start, step: a.step, site: site(a.rank), detail: ""))
                segmentStart = a.step
                previous = a
                continue
            }
            let contiguous = a.step == p.step + 1
            if !contiguous || a.rank != p.rank || a.count != p.count {
                closeSegment(p)
                segmentStart = a.step
            }
            let moved = site(a.rank) != site(p.rank)
            if !contiguous {
                if !isService {
                    events.append(
                        PlanEvent(kind: .checkpoint, step: p.step + 1, site: site(p.rank), detail: "\(checkpoint)")
                    )
                }
                events.append(PlanEvent(kind: .pause, step: p.step + 1, site: site(p.rank), detail: ""))
            }
            if moved {
                if contiguous, !isService {
                    events.append(
                        PlanEvent(kind: .checkpoint, step: a.step, site: site(p.rank), detail: "\(checkpoint)")
                    )
                }
                let seconds = migrations[a.step]?.seconds ?? 0
                let detail =
                    isService
                    ? "from \(site(p.rank)) (service restarted)"
                    : "from \(site(p.rank)), \(checkpoint) in \(TimeSpan.seconds(seconds))"
                events.append(PlanEvent(kind: .migrate, step: a.step, site: site(a.rank), detail: detail))
            } else if !contiguous {
                events.append(PlanEvent(kind: .resume, step: a.step, site: site(a.rank), detail: ""))
            }
            previous = a
        }
        if let p = previous { closeSegment(p) }
        if let finishStep, let last = allocations.last {
            events.append(PlanEvent(kind: .finish, step: finishStep, site: site(last.rank), detail: ""))
        }

        let status: PlacementStatus
        if isService {
            status = blocked.isEmpty ? .serving : .short
        } else if let finishStep {
            status = deadline.map { finishStep > $0 } == true ? .deadlineMissed : .completed
        } else {
            status = .unfinished
        }
        var explanation: String?
        switch status {
        case .short:
            explanation =
                "\(workload.name): short of capacity for its demand: "
                + Explanation.spans(blocked, grid: grid)
        case .deadlineMissed, .unfinished:
            let what =
                status == .deadlineMissed
                ? "finishes \(grid.label(at: finishStep!)), after its deadline"
                : "not finished by the end of the scenario (\(Explanation.percent(done, of: required ?? 0)) done)"
            explanation =
                "\(workload.name): \(what)"
                + (blocked.isEmpty ? "" : ": " + Explanation.spans(blocked, grid: grid))
        default:
            explanation = nil
        }
        return WorkloadPlan(
            name: workload.name,
            status: status,
            segments: segments,
            events: events,
            precision: (allocations.first.map { ranked[$0.rank] } ?? ranked.first)?.precision,
            requiredFLOPs: required,
            plannedFLOPs: done,
            finishStep: finishStep,
            explanation: explanation
        )
    }
}
