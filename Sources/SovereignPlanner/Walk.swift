import SovereignModel

/// One workload's walk through time: which pool and how many accelerators at each step.
struct Walk {
    /// Consecutive steps `start..<end` on ranked option `rank`, `count` accelerators at each.
    struct Run {
        let start: Int
        var end: Int
        let rank: Int
        let count: Int
    }

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

    /// What the walk took, as runs of consecutive steps on one option at one width: memory follows the
    /// workload's pieces, not its steps.
    private(set) var runs: [Run] = []
    private(set) var done = 0.0
    private(set) var finishStep: Int?
    /// Seconds after the grid's start at which the work is done, within its last step.
    private(set) var finishSeconds: Double?
    /// The rank the walk runs on now.
    private(set) var current: Int?
    private var waitSeconds = 0.0
    /// Seconds of checkpoint transfer before each migration, by the step it lands.
    private var migrations: [Int: Double] = [:]
    private(set) var blocked: [(step: Int, block: Block)] = []

    init(
        workload: Workload,
        ranked: [Planner.Ranked],
        policy: PlanningPolicy,
        arrival: Int,
        deadline: Int?,
        required: Double?,
        origin: (index: Int, site: Site)? = nil,
        wait: Double = 0
    ) {
        self.origin = origin
        // Seconds before the work can start (a federated round's global model still on its way).
        waitSeconds = wait
        self.workload = workload
        self.ranked = ranked
        self.policy = policy
        self.arrival = arrival
        self.deadline = deadline
        self.required = required
        poolIndex = ranked.map(\.candidate.poolIndex)
        siteIndex = ranked.map(\.candidate.siteIndex)
        minCount = ranked.map(\.minCount)
        maxCount = ranked.map(\.maxCount)
        perAcceleratorPower = ranked.map { PhysicalModel.runningPower(model: $0.candidate.model, count: 1) }
        limits = policy.limits
    }

    private let poolIndex: [Int]
    private let siteIndex: [Int]
    private let minCount: [Int]
    private let maxCount: [Int]
    private let perAcceleratorPower: [Double]
    private let limits: [any StepLimit]
    /// What ``canMove(to:)`` found from the site the checkpoint is at: a step that finds its option full asks
    /// the same options again, and each look reads a `Site`'s links by name.
    private let moves = MoveMemo()
    /// The options that may fit in the block a step of the walk last looked past its current option in.
    private let fitting = BlockOptions()

    // MARK: Feasibility

    /// How many accelerators rank `r` can give at step `t` (up to `want`), or what is short of even its
    /// minimum (the site's name is read only when a block is recorded: it costs references per look).
    func available(_ r: Int, at t: Int, want: Int, state: PlanningState) -> (count: Int, shortage: Shortage?) {
        // Plain numbers copied out once per walk: reading them from `Candidate` (which holds a `Site`) would
        // retain and release a dozen references per step.
        let free = Int(state.free[poolIndex[r], t])
        var n = min(want, free)
        if n < minCount[r] { return (0, .capacity) }
        for limit in limits {
            n = min(n, limit.limit(site: siteIndex[r], step: t, wattsEach: perAcceleratorPower[r], state: state))
            if n < minCount[r] { return (0, limit.shortage) }
        }
        return (n, nil)
    }

    /// Whether rank `r` may run at some step of block `b` of the state's profiles (if not, at none).
    func mayFit(_ r: Int, inBlock b: Int, state: PlanningState) -> Bool {
        let least = minCount[r]
        guard Int(state.free.maximum(poolIndex[r], block: b)) >= least else { return false }
        return limits.allSatisfy {
            $0.bound(site: siteIndex[r], block: b, wattsEach: perAcceleratorPower[r], state: state) >= least
        }
    }

    /// Whether rank `r` can give `want` accelerators at every step of block `b` of the state's profiles: free
    /// and under every limit at the block's least values.
    func fitsWhole(_ r: Int, want: Int, inBlock b: Int, state: PlanningState) -> Bool {
        guard want >= minCount[r], Int(state.free.minimum(poolIndex[r], block: b)) >= want else { return false }
        return limits.allSatisfy {
            $0.least(site: siteIndex[r], block: b, wattsEach: perAcceleratorPower[r], state: state) >= want
        }
    }

    /// The step after those from `u` on that rank `r` is known to give `n` accelerators at (asked for `want`):
    /// the end of `u`'s block when the whole block gives `want` and `n` is that, else `u + 1` when step `u`
    /// gives `n`, else `u`.
    func givesUntil(_ r: Int, count n: Int, want: Int, from u: Int, state: PlanningState) -> Int {
        let size = FallingProfiles<Int32>.blockSize
        let b = u / size
        if n == want, fitsWhole(r, want: want, inBlock: b, state: state) {
            return min(state.grid.count, (b + 1) * size)
        }
        return available(r, at: u, want: want, state: state).count == n ? u + 1 : u
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
        let seconds = moves.seconds(from: fromIndex, to: r, options: ranked.count) { moveSeconds(to: r) }
        return seconds.map { (true, $0) } ?? (false, 0)
    }

    /// Seconds to move the checkpoint from the site it is at (the current option's, else the origin's) to rank
    /// `r`'s site over a direct link, or `nil` without one.
    private func moveSeconds(to r: Int) -> Double? {
        let links = current.map { ranked[$0].candidate.site.links } ?? origin?.site.links ?? []
        let target = ranked[r].candidate.site.name
        guard let link = links.first(where: { $0.to == target }) else { return nil }
        return link.bandwidth.transferTime(of: PhysicalModel.checkpointSize(workload)).seconds
    }

    /// The first option, current one first, that can run at step `t`.
    func choose(at t: Int, want: (Int) -> Int, state: PlanningState) -> (rank: Int, count: Int, move: Double)? {
        let b = t / FallingProfiles<Int32>.blockSize
        if let current, mayFit(current, inBlock: b, state: state) {
            if let choice = take(current, at: t, want: want, state) { return choice }
        }
        // The others in rank order, among those that may fit in this block at all: free accelerators and power
        // only fall while a plan is built, so one that may not fit at one step of the block fits at none.
        return fitting.first(
            inBlock: b,
            of: ranked.count,
            mayFit: { mayFit($0, inBlock: b, state: state) },
            take: { $0 == current ? nil : take($0, at: t, want: want, state) }
        )
    }

    /// Option `r` at step `t` with what it can give there and its move, when it can give some and move there.
    private func take(
        _ r: Int,
        at t: Int,
        want: (Int) -> Int,
        _ state: PlanningState
    ) -> (rank: Int, count: Int, move: Double)? {
        let (n, _) = available(r, at: t, want: want(r), state: state)
        guard n > 0 else { return nil }
        let (ok, seconds) = canMove(to: r)
        return ok ? (r, n, seconds) : nil
    }

    /// Takes `n` accelerators of rank `r` at each step of `steps` (not empty), extending the last run when it
    /// ends where they start on the same option and width.
    mutating func commit(_ r: Int, count n: Int, steps: Range<Int>, state: inout PlanningState) {
        let watts = perAcceleratorPower[r] * Double(n)
        state.take(n, pool: poolIndex[r], site: siteIndex[r], watts: watts, steps: steps)
        extendRuns(r, count: n, steps: steps)
    }

    /// Records `steps` on rank `r` at `n` accelerators: the last run extended when it ends where they start on
    /// the same option and width, else a new run.
    private mutating func extendRuns(_ r: Int, count n: Int, steps: Range<Int>) {
        if let last = runs.last, last.end == steps.lowerBound, last.rank == r, last.count == n {
            runs[runs.count - 1].end = steps.upperBound
        } else {
            runs.append(Run(start: steps.lowerBound, end: steps.upperBound, rank: r, count: n))
        }
    }

    /// Whether no option can run at any step of block `b` of the state's profiles: each is short of its
    /// fewest accelerators there (free or under a limit) at every step.
    func nothingFits(inBlock b: Int, state: PlanningState) -> Bool {
        !ranked.indices.contains { mayFit($0, inBlock: b, state: state) }
    }

    /// The step after the blocks, from the one holding step `t` on, where no option can run (`t` itself
    /// when one may run in `t`'s block): every step before it is blocked.
    func blockedUntil(_ t: Int, state: PlanningState) -> Int {
        let size = FallingProfiles<Int32>.blockSize
        var b = t / size
        while b * size < state.grid.count, nothingFits(inBlock: b, state: state) { b += 1 }
        return b == t / size ? t : min(state.grid.count, b * size)
    }

    /// Records why step `t`, where no option could run, and the steps after it in blocks where none can, were
    /// blocked, and returns the next step to try.
    mutating func skipBlocked(from t: Int, state: PlanningState) -> Int {
        let next = blockedUntil(t + 1, state: state)
        for u in t..<next { recordBlock(at: u, state: state) }
        return next
    }

    mutating func recordBlock(at t: Int, state: PlanningState) {
        let best = current ?? 0
        let shortage = available(best, at: t, want: ranked[best].maxCount, state: state).shortage
        blocked.append((t, Block(shortage: shortage ?? .capacity, site: ranked[best].candidate.site.name)))
    }

    // MARK: Walks

    mutating func run(state: inout PlanningState) {
        if workload.type == .inference {
            runService(state: &state)
        } else if let shift = shift(state: state) {
            runShifted(shift, state: &state)
        } else if workload.preemptible {
            runPreemptible(state: &state)
        } else {
            runContiguous(state: &state)
        }
    }

    /// FLOPs per second `n` accelerators of ranked option `option` achieve on the workload.
    func rate(_ option: Planner.Ranked, count n: Int) -> Double {
        rate(tflops: option.candidate.model.tflops, count: n)
    }

    /// FLOPs per second `n` accelerators of `tflops` achieve on the workload (a walk's own options are read by
    /// index: passing a `Ranked` retains its candidate).
    private func rate(tflops: Double, count n: Int) -> Double {
        PhysicalModel.throughput(workload, tflops: tflops, count: n)
    }

    /// Work that may pause: at each step the first option that can run (the current one first), as wide as it
    /// can; a stretch where the current option keeps its width is taken at once.
    mutating func runPreemptible(state: inout PlanningState) {
        guard let required else { return }
        // A local copy: a closure reading `self` inside a mutating method copies the whole walk at each call.
        let widest = maxCount
        var t = arrival
        while t < state.grid.count {
            if Completion.finishes(done, required) { break }
            guard let choice = choose(at: t, want: { widest[$0] }, state: state) else {
                t = skipBlocked(from: t, state: state)
                continue
            }
            if choice.move > 0 {
                migrations[t] = choice.move
                waitSeconds += choice.move
            }
            current = choice.rank
            let want = widest[choice.rank]
            t = runStretch(choice.rank, count: choice.count, want: want, from: t, work: true, state: &state)
        }
    }

    /// Runs rank `r` (the current option) at `n` accelerators from step `t`, where it gives them, on for as long
    /// as it gives `n` when asked for `want` and, when the stretch does `work`, the work is not done; returns the
    /// step after the stretch.
    ///
    /// What a walk that keeps its option takes step by step, bit for bit: each step's take touches that step
    /// alone, so the steps after it find what they found before, and the current option comes first at each,
    /// with no move. Progress is added step by step (the same terms in the same order); the take and the run
    /// are made once for the stretch.
    mutating func runStretch(
        _ r: Int,
        count n: Int,
        want: Int,
        from t: Int,
        work: Bool,
        state: inout PlanningState
    ) -> Int {
        let goal = work ? required : nil
        let rate = goal == nil ? 0 : self.rate(tflops: ranked[r].candidate.model.tflops, count: n)
        var end = t
        var gives = t + 1
        while true {
            end = goal == nil ? gives : progress(rate: rate, steps: end..<gives, step: state.grid.step)
            if end == state.grid.count { break }
            if let goal, Completion.finishes(done, goal) { break }
            let next = givesUntil(r, count: n, want: want, from: end, state: state)
            if next == end { break }
            gives = next
        }
        commit(r, count: n, steps: t..<end, state: &state)
        return end
    }

    /// The first shift a ``TimeShifting`` plug-in of the policy makes of this walk, if any.
    func shift(state: PlanningState) -> Shift? {
        for plugin in policy.shifting {
            if let shift = plugin.shift(self, state: state) { return shift }
        }
        return nil
    }

    /// The steps a ``TimeShifting`` plug-in chose, all on one option, each run at its width.
    ///
    /// Each run is taken at once (each touched block of the profiles rescanned once, not once per step); its
    /// progress is then added step by step, as before (a take touches only its own steps, and progress reads no
    /// profile, so taking first changes nothing).
    mutating func runShifted(_ shift: Shift, state: inout PlanningState) {
        current = shift.rank
        for run in shift.runs {
            commit(shift.rank, count: run.width, steps: run.steps, state: &state)
            let rate = rate(tflops: ranked[shift.rank].candidate.model.tflops, count: run.width)
            for t in run.steps { progress(rate: rate, at: t, step: state.grid.step) }
        }
    }

    /// Work that may not pause: start only where it can run without a break to the end (or the horizon).
    mutating func runContiguous(state: inout PlanningState) {
        guard let required else { return }
        var start = arrival
        while start < state.grid.count {
            guard let first = choose(at: start, want: { self.ranked[$0].maxCount }, state: state) else {
                start = skipBlocked(from: start, state: state)
                continue
            }
            var tentative: [(Int, Int)] = []
            var work = 0.0
            var t = start
            var broken = false
            var wait = waitSeconds
            while t < state.grid.count, !Completion.finishes(work, required) {
                let (n, _) = available(first.rank, at: t, want: ranked[first.rank].maxCount, state: state)
                if n == 0 {
                    broken = true
                    break
                }
                tentative.append((t, n))
                let waited = min(state.grid.step, wait)
                wait -= waited
                work +=
                    PhysicalModel.throughput(workload, tflops: ranked[first.rank].candidate.model.tflops, count: n)
                    * (state.grid.step - waited)
                t += 1
            }
            if broken {
                recordBlock(at: t, state: state)
                start = t + 1
                continue
            }
            current = first.rank
            for (step, n) in tentative {
                commit(first.rank, count: n, steps: step..<(step + 1), state: &state)
                progress(first.rank, count: n, at: step, state: state)
            }
            return
        }
    }

    /// A standing service: at every step from arrival, enough accelerators for its demand.
    mutating func runService(state: inout PlanningState) {
        let fewest = minCount
        var t = arrival
        while t < state.grid.count {
            guard let choice = choose(at: t, want: { fewest[$0] }, state: state) else {
                t = skipBlocked(from: t, state: state)
                continue
            }
            current = choice.rank
            let n = fewest[choice.rank]
            t = runStretch(choice.rank, count: n, want: n, from: t, work: false, state: &state)
        }
    }

    mutating func progress(_ r: Int, count n: Int, at t: Int, state: PlanningState) {
        progress(rate: rate(tflops: ranked[r].candidate.model.tflops, count: n), at: t, step: state.grid.step)
    }

    /// Adds the work of each step of `steps` at `rate` FLOPs per second over `step` seconds, as
    /// ``progress(rate:at:step:)`` at each step would, until the work is done; returns the step after the last
    /// one that worked.
    mutating func progress(rate: Double, steps: Range<Int>, step: Double) -> Int {
        guard let required else { return steps.upperBound }
        var u = steps.lowerBound
        while u < steps.upperBound, waitSeconds > 0, !Completion.finishes(done, required) {
            progress(rate: rate, at: u, step: step)
            u += 1
        }
        // Nothing left to wait: every step adds the same term, `rate × step`, as the step-by-step sum does.
        let perStep = rate * step
        var sum = done
        var before = sum
        while u < steps.upperBound, !Completion.finishes(sum, required) {
            before = sum
            sum += perStep
            u += 1
        }
        done = sum
        if Completion.finishes(sum, required), finishStep == nil, u > steps.lowerBound {
            done = required
            finishStep = u
            finishSeconds = Double(u - 1) * step + max(0, required - before) / rate
        }
        return u
    }

    /// Adds step `t`'s work at `rate` FLOPs per second over `step` seconds less what is still waited.
    mutating func progress(rate: Double, at t: Int, step: Double) {
        guard let required else { return }
        var seconds = step
        let waited = min(seconds, waitSeconds)
        waitSeconds -= waited
        seconds -= waited
        let before = done
        done += rate * seconds
        if Completion.finishes(done, required), finishStep == nil {
            done = required
            finishStep = t + 1
            finishSeconds = Double(t) * step + waited + max(0, required - before) / rate
        }
    }

    // MARK: Result

    /// The walk as a plan: its segments and events, and how the workload fares.
    func result(state: PlanningState) -> WorkloadPlan {
        let (segments, events) = timeline()
        let status = status()
        return WorkloadPlan(
            name: workload.name,
            status: status,
            segments: segments,
            events: events,
            precision: (runs.first.map { ranked[$0.rank] } ?? ranked.first)?.precision,
            requiredFLOPs: required,
            plannedFLOPs: done,
            finishStep: finishStep,
            explanation: explanation(status, grid: state.grid)
        )
    }

    /// The runs as segments, and the events between them.
    func timeline() -> (segments: [Segment], events: [PlanEvent]) {
        guard let first = runs.first else { return ([], []) }
        var events = [PlanEvent(kind: .start, step: first.start, site: siteName(first.rank), detail: "")]
        for (p, a) in zip(runs, runs.dropFirst()) { events += self.events(from: p, to: a) }
        let segments = runs.map { run in
            Segment(
                reference: ranked[run.rank].candidate.reference,
                accelerators: run.count,
                start: run.start,
                end: run.end
            )
        }
        if let finishStep, let last = runs.last {
            events.append(PlanEvent(kind: .finish, step: finishStep, site: siteName(last.rank), detail: ""))
        }
        return (segments, events)
    }

    private func siteName(_ r: Int) -> String { ranked[r].candidate.site.name }

    /// The events between two runs (the last step of `p` and the first of `a`), as ``Transition`` derives
    /// them; none between two runs on one site that follow each other.
    private func events(from p: Run, to a: Run) -> [PlanEvent] {
        let transition = Transition(from: (p.end - 1, siteIndex[p.rank]), to: (a.start, siteIndex[a.rank]))
        let service = workload.type == .inference
        return transition.events(service: service).map { kind, atPrevious in
            let detail: String
            switch kind {
            case .checkpoint: detail = "\(PhysicalModel.checkpointSize(workload))"
            case .migrate where service: detail = "from \(siteName(p.rank)) (service restarted)"
            case .migrate:
                let seconds = TimeSpan.seconds(migrations[a.start] ?? 0)
                detail = "from \(siteName(p.rank)), \(PhysicalModel.checkpointSize(workload)) in \(seconds)"
            default: detail = ""
            }
            return atPrevious
                ? PlanEvent(kind: kind, step: p.end, site: siteName(p.rank), detail: detail)
                : PlanEvent(kind: kind, step: a.start, site: siteName(a.rank), detail: detail)
        }
    }

    /// How the workload fares: a service by whether it was ever short, other work by when it finished.
    func status() -> PlacementStatus {
        if workload.type == .inference { return blocked.isEmpty ? .serving : .short }
        guard let finishStep else { return .unfinished }
        return deadline.map { finishStep > $0 } == true ? .deadlineMissed : .completed
    }

    /// Why a workload is short, late or unfinished, with the spans it was blocked; `nil` when it is not.
    func explanation(_ status: PlacementStatus, grid: TimeGrid) -> String? {
        let what: String
        switch status {
        case .short:
            return "\(workload.name): short of capacity for its demand: " + Explanation.spans(blocked, grid: grid)
        case .deadlineMissed:
            what = "finishes \(grid.label(at: finishStep ?? grid.count)), after its deadline"
        case .unfinished:
            what = "not finished by the end of the scenario (\(Explanation.percent(done, of: required ?? 0)) done)"
        default:
            return nil
        }
        return "\(workload.name): \(what)" + (blocked.isEmpty ? "" : ": " + Explanation.spans(blocked, grid: grid))
    }
}

extension Walk {
    /// The parts of `steps` where rank `r` can give all `width` accelerators (``available(_:at:want:state:)``
    /// at each step), ascending, up to the first `most` such steps: where work shifted at that width may run.
    /// A block where the option may not fit at all (``mayFit(_:inBlock:state:)``) is passed over in one look, and
    /// one where it gives the whole width at every step (``fitsWhole(_:want:inBlock:state:)``) taken in one.
    ///
    /// - Complexity: O(steps) looks at most (up to the `most`-th step found); O(1) looks per block where
    ///   nothing fits or everything does.
    func fullWidth(
        _ r: Int,
        width: Int,
        in steps: Range<Int>,
        most: Int = .max,
        state: PlanningState
    ) -> [Range<Int>] {
        let size = FallingProfiles<Int32>.blockSize
        var stretches: [Range<Int>] = []
        var start: Int?
        var found = 0
        var t = steps.lowerBound
        while t < steps.upperBound, found < most {
            let blockEnd = min(steps.upperBound, (t / size + 1) * size)
            guard mayFit(r, inBlock: t / size, state: state) else {
                if let first = start { stretches.append(first..<t) }
                start = nil
                t = blockEnd
                continue
            }
            if fitsWhole(r, want: width, inBlock: t / size, state: state) {
                // Every step of the block gives the whole width: taken in one look, up to `most` steps.
                let end = t + min(blockEnd - t, most - found)
                start = start ?? t
                found += end - t
                t = end
                continue
            }
            var u = t
            while u < blockEnd, found < most {
                if available(r, at: u, want: width, state: state).count == width {
                    start = start ?? u
                    found += 1
                } else if let first = start {
                    stretches.append(first..<u)
                    start = nil
                }
                u += 1
            }
            t = u
        }
        if let first = start { stretches.append(first..<t) }
        return stretches
    }
}

/// Seconds to move a walk's checkpoint from one site to each ranked option's site (`nil`: no link), remembered
/// for the last site asked from. A class, so that a walk's non-mutating looks can fill it; what it holds is
/// a function of the two sites alone, so copies of a walk may share it.
///
/// Its properties are not checked for exclusive access at run time: a walk asks it for every option it tries at
/// every step where its own is full (millions of looks in a plan of a thousand sites, where the checks cost more
/// than the look), and no access overlaps another (`compute` never reads the memo).
final class MoveMemo {
    @exclusivity(unchecked) private var from = -1
    @exclusivity(unchecked) private var known: [Bool] = []
    @exclusivity(unchecked) private var seconds: [Double?] = []

    /// The memoised answer for `from` → option `r` of `options`, computed by `compute` the first time.
    func seconds(from site: Int, to r: Int, options: Int, compute: () -> Double?) -> Double? {
        if site != from {
            from = site
            known = [Bool](repeating: false, count: options)
            seconds = [Double?](repeating: nil, count: options)
        }
        if !known[r] {
            seconds[r] = compute()
            known[r] = true
        }
        return seconds[r]
    }
}

/// The options that may fit somewhere in one block of steps, in rank order, kept for the block last asked
/// about: a walk whose option is full at a step looks at the others at each step of the block, and most of
/// them cannot fit anywhere in it. A class, so that a walk's non-mutating looks can fill it.
///
/// The list grows only as far as a look reads it: most looks stop at one of the first options, and an
/// unbounded workload ranks a thousand. An option asked later in the block is asked of lower free counts
/// than the first look saw, and one that may not fit then fits at no step left in the block, so the looks
/// find what a list made whole at the first look would give.
final class BlockOptions {
    private var block = -1
    /// The options found so far that may fit, in rank order.
    private var options: [Int] = []
    /// The next option not yet asked whether it may fit.
    private var asked = 0

    /// The first answer `take` gives over the options among `0..<count` for which `mayFit` holds, in rank order;
    /// `mayFit` is asked at most once per option and block.
    func first<Answer>(
        inBlock b: Int,
        of count: Int,
        mayFit: (Int) -> Bool,
        take: (Int) -> Answer?
    ) -> Answer? {
        if b != block {
            block = b
            options.removeAll(keepingCapacity: true)
            asked = 0
        }
        var k = 0
        while true {
            if k == options.count {
                while asked < count, !mayFit(asked) { asked += 1 }
                guard asked < count else { return nil }
                options.append(asked)
                asked += 1
            }
            if let answer = take(options[k]) { return answer }
            k += 1
        }
    }
}
