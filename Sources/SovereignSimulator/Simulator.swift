public import Foundation
public import SovereignModel
public import SovereignPlanner

/// Everything one simulated run produced.
public struct Simulation: Sendable {
    public let result: SimulationResult
    /// The plan made at the start, on forecasts.
    public let initialPlan: Plan
    /// Per site, power available and used over time.
    public let sites: [SiteSeries]
    /// What ran where: runs of consecutive steps on one pool at one width.
    public let executed: [ExecutedRun]
    /// Every federated round that closed, with or without its quorum, in the order they closed.
    public var rounds: [RoundOutcome] = []
}

/// Runs a policy over the scenario: the planner sees forecasts; what happens follows the actual traces.
///
/// At every step the work the current plan puts at a site draws `IT × PUE(t)`; solar is used first, then
/// the grid, then the battery. When that is not enough, or the IT heat is above what the site can reject,
/// the site sheds load: the lowest-priority work is interrupted without a checkpoint and loses everything
/// since its last one. When a site delivers well below its forecast, the planner's belief for the next hour
/// drops to what the site delivers now (a persistence nowcast). Interrupted work, and work the lowered
/// belief no longer fits, is replanned from the next step around everything else, which keeps its place.
public struct Simulator: Sendable {
    public let fleet: Fleet

    /// A site whose actual IT limit falls below this fraction of its forecast makes the planner look again.
    public static let departureThreshold = 0.8

    /// Makes a simulator for a fleet (which must have a Scenario).
    public init(fleet: Fleet) {
        self.fleet = fleet
    }

    /// Runs one policy.
    ///
    /// - Parameters:
    ///   - policy: the planning policy.
    ///   - seed: the forecast errors' seed; the same seed gives the same run.
    /// - Returns: `nil` when the fleet has no Scenario.
    /// - Complexity: O(R × plan + E × running work + S × (sites + running work)) for R replans, E steps
    ///   where something changes and S steps in all: a step where nothing changes repeats the one before
    ///   it, adding its draw and each running allocation's progress without looking at the plan again.
    public func run(policy: PlanningPolicy, seed: UInt64) -> Simulation? {
        guard let scenario = fleet.scenario else { return nil }
        let grid = scenario.grid
        let original = Forecast.budgets(fleet, grid: grid, relativeError: scenario.forecastError, seed: seed)
        // What the planner believes: the forecast, lowered by nowcasts where sites deliver less.
        var forecast = original
        let actual = fleet.sites.map { SiteBudget(site: $0, grid: grid) }
        let planner = Planner(policy: policy)
        let initial = planner.plan(fleet, grid: grid, budgets: forecast)
        var run = Run(fleet: fleet, grid: grid, policy: policy, initial: initial)
        var t = 0
        while t < grid.count {
            run.step(t, actual: actual, original: original, forecast: &forecast)
            if !run.affected.isEmpty {
                if t + 1 < grid.count { run.replan(after: t, planner: planner, forecast: forecast) }
                t += 1
            } else {
                // Steps in which nothing changes run as step `t` did, without looking at the plan again.
                t = run.repeatQuiet(after: t, actual: actual, original: original)
            }
        }
        var result = run.finish()
        result.violations = ViolationChecker(fleet: fleet, grid: grid, actual: actual).check(run.executed)
        let sites = run.series.map { $0.build() }
        var simulation = Simulation(result: result, initialPlan: initial, sites: sites, executed: run.executed)
        simulation.rounds = run.outcomes
        return simulation
    }
}

/// The mutable state of one run.
struct Run {
    struct Progress {
        var required: Double?
        var done = 0.0
        var checkpointed = 0.0
        var finishStep: Int?
        var lastSite: Int?
        var ran = false
        /// Accelerator-seconds run since the last checkpoint: what an interruption throws away.
        var sinceCheckpoint = 0.0
        /// The last step it ran.
        var lastRunStep = -1
        /// Whether its last stop was an interruption (then its next start is a resume, not after a pause).
        var interrupted = false
        /// Seconds it has run since its last checkpoint (the checkpoint interval counts running time).
        var runningSinceCheckpoint = 0.0
        /// Seconds of a checkpoint transfer still to wait before a migrated run makes progress.
        var transferWait = 0.0
    }

    struct Allocation {
        let workload: Int
        let pool: PoolReference
        let model: AcceleratorModel
        let count: Int
        /// For a federated participant, the dataset it trains (`nil` for other work).
        var participant: String? = nil

        /// The index of its site in the fleet.
        var site: Int { pool.site }
    }

    let fleet: Fleet
    let grid: TimeGrid
    let policy: PlanningPolicy
    let initial: Plan
    /// Each workload's priority, by index (read per comparison when a site's work is ordered for shedding).
    let priorities: [Int]
    var progress: [Progress]
    /// The current plan's allocations, as segments.
    var schedule: Schedule
    var batteryCharge: [Double]
    var series: [SiteSeriesBuilder]
    var executed: [ExecutedRun] = []
    /// The index in ``executed`` of each workload's (and participant's) latest run.
    var latestRun: [ExecutedRun.Key: Int] = [:]
    var result: SimulationResult
    /// Workloads to replan after this step.
    var affected = Set<Int>()
    /// Federated workloads' rounds, by workload index.
    var federated: [Int: RoundsProgress] = [:]
    /// The last step run in full, when steps with the same inputs after it may repeat it.
    var quiet: Quiet?
    /// Rounds closed so far.
    var outcomes: [RoundOutcome] = []

    init(fleet: Fleet, grid: TimeGrid, policy: PlanningPolicy, initial: Plan) {
        self.fleet = fleet
        self.grid = grid
        self.policy = policy
        self.initial = initial
        priorities = fleet.workloads.map(\.priority)
        // What the planner computed travels with its plan: the work each workload needs.
        progress = initial.workloads.map { Progress(required: $0.requiredFLOPs) }
        schedule = Schedule(workloads: fleet.workloads.count)
        batteryCharge = fleet.sites.map { s in s.power.battery.map { $0.capacity.baseValue * $0.initialCharge } ?? 0 }
        series = fleet.sites.map { SiteSeriesBuilder(site: $0.name, shed: Array(repeating: false, count: grid.count)) }
        result = SimulationResult(policy: policy.name)
        let rounds = fleet.workloads.compactMap { $0.type == .federated ? $0.federation?.rounds : nil }
        if !rounds.isEmpty { result.rounds = SimulationResult.Rounds(required: rounds.reduce(0, +)) }
        install(initial, workloadIndices: Array(fleet.workloads.indices), from: 0)
    }

    /// Replaces the allocations of `replacing` (all workloads when `nil`) from step `from` on with
    /// those of `plan`.
    mutating func install(_ plan: Plan, workloadIndices: [Int], from: Int, replacing: Set<Int>? = nil) {
        schedule.clear(replacing, from: from)
        for (k, placed) in plan.workloads.enumerated() {
            let w = workloadIndices[k]
            if !placed.rounds.isEmpty {
                federated[w] = RoundsProgress(
                    rounds: placed.rounds,
                    completed: federated[w]?.completed ?? 0,
                    failures: federated[w]?.failures ?? 0
                )
            }
            for segment in placed.segments {
                let pool = segment.reference
                guard let model = fleet.catalog[fleet.sites[pool.site].pools[pool.pool].accelerator] else { continue }
                let allocation = Allocation(
                    workload: w,
                    pool: pool,
                    model: model,
                    count: segment.accelerators,
                    participant: segment.participant
                )
                schedule.add(allocation, steps: max(from, segment.start)..<max(from, segment.end))
            }
        }
    }

    /// Steps a nowcast looks ahead when a site departs from its forecast.
    static let nowcastSteps = 4

    /// Executes step `t`.
    mutating func step(_ t: Int, actual: [SiteBudget], original: [SiteBudget], forecast: inout [SiteBudget]) {
        schedule.advance(to: t)
        var bySite: [Int: [Allocation]] = [:]
        for id in schedule.active {
            let a = schedule.entries[id].allocation
            guard progress[a.workload].finishStep == nil, !droppedOut(a, at: t) else { continue }
            bySite[a.site, default: []].append(a)
        }
        var running: [Allocation] = []
        var draws: [Quiet.Draw] = []
        var repeatable = true
        for s in fleet.sites.indices {
            let budget = actual[s]
            let charge = batteryCharge[s]
            let (kept, shed, draw) = execute(bySite[s] ?? [], site: s, at: t, budget: budget)
            running += kept
            draws.append(draw)
            // Compared with the forecast as made, so the nowcast rolls forward for as long as the
            // shortfall lasts; and always after shedding, so shed work is not put back where it cannot run.
            if shed || departs(s, at: t, actual: actual, original: original) {
                nowcast(site: s, at: t, actual: budget, forecast: &forecast[s])
                repeatable = false
            }
            repeatable = repeatable && batteryCharge[s] == charge
        }
        quiet = repeatable ? Quiet(step: t, draws: draws, running: running) : nil
        for a in running {
            advance(a, at: t, following: t + 1 < grid.count ? schedule.first(of: a.workload, at: t + 1) : nil)
        }
        closeRounds(endingAt: t)
    }

    /// Runs one site's planned work at step `t` on what the site actually has: while the facility power
    /// exceeds supply plus battery, or the IT heat the cooling, the lowest-priority work is shed (among
    /// equals, the later in the fleet); then the rest draws its power.
    ///
    /// - Returns: the work that ran, and whether any was shed.
    mutating func execute(
        _ planned: [Allocation],
        site s: Int,
        at t: Int,
        budget: SiteBudget
    ) -> (
        running: [Allocation], shed: Bool, draw: Quiet.Draw
    ) {
        var work = planned
        work.sort {
            let (a, b) = (priorities[$0.workload], priorities[$1.workload])
            return a != b ? a > b : $0.workload < $1.workload
        }
        let discharge = fleet.sites[s].power.battery.map { min($0.power.watts, batteryCharge[s] / grid.step) } ?? 0
        let here = budget.at(t)
        let limit = here.supply + discharge
        func it(_ list: [Allocation]) -> Double {
            list.reduce(0) { $0 + PhysicalModel.runningPower(model: $1.model, count: $1.count) }
        }
        var load = it(work)
        var shed = false
        while !work.isEmpty, load * here.pue > limit + 1e-6 || load > here.cooling + 1e-6 {
            let victim = work.removeLast()
            interrupt(victim, at: t)
            series[s].shed[t] = true
            shed = true
            load = it(work)
        }
        draw(load, site: s, at: t, budget: here, limit: limit)
        return (work, shed, Quiet.Draw(load: load, limit: limit, budget: here))
    }

    /// Whether site `s` actually delivers well below its forecast as made at step `t`.
    func departs(_ s: Int, at t: Int, actual: [SiteBudget], original: [SiteBudget]) -> Bool {
        actual[s].itLimit(at: t) < original[s].itLimit(at: t) * Simulator.departureThreshold
    }

    /// Draws `load` watts of IT power at site `s` for step `t` (whose budget holds `budget`): solar first, then the grid, then the battery
    /// (which surplus solar recharges); records the site's series and accounts energy and carbon.
    mutating func draw(_ load: Double, site s: Int, at t: Int, budget: SiteBudget.Step, limit: Double) {
        let dt = grid.step
        let facility = load * budget.pue
        let solar = budget.solar
        let solarUsed = min(solar, facility)
        let gridUsed = min(max(0, budget.supply - solar), facility - solarUsed)
        let batteryUsed = max(0, facility - solarUsed - gridUsed)
        if let battery = fleet.sites[s].power.battery {
            batteryCharge[s] -= batteryUsed * dt
            let surplus = max(0, solar - solarUsed)
            batteryCharge[s] = min(
                battery.capacity.baseValue,
                batteryCharge[s] + min(surplus, battery.power.watts) * dt * battery.roundTripEfficiency
            )
        }
        series[s].draw(at: t, available: limit, used: facility)
        let toKWh = dt / 3.6e6
        result.energy.itKWh += load * toKWh
        result.energy.facilityKWh += facility * toKWh
        result.energy.gridKWh += gridUsed * toKWh
        result.energy.solarKWh += solarUsed * toKWh
        result.energy.batteryKWh += batteryUsed * toKWh
        let gridCarbon = budget.gridCarbon
        result.carbonKg += (gridUsed * gridCarbon + (solarUsed + batteryUsed) * SiteBudget.solarCarbon) * toKWh / 1000
    }

    /// Believes the site's current supply for the next steps, and marks work there that no longer fits.
    mutating func nowcast(site s: Int, at t: Int, actual: SiteBudget, forecast: inout SiteBudget) {
        let ahead = (t + 1)..<min(grid.count, t + 1 + Self.nowcastSteps)
        guard !ahead.isEmpty else { return }
        forecast.capSupply(ahead, at: actual.supply[t])
        for u in ahead {
            let here = schedule.allocations(at: u, site: s).filter { progress[$0.workload].finishStep == nil }
            let load = here.reduce(0) { $0 + PhysicalModel.runningPower(model: $1.model, count: $1.count) }
            if load > forecast.itLimit(at: u) + 1e-6 {
                // Work that may not pause keeps its place; it is replanned only if it is actually shed.
                for a in here where fleet.workloads[a.workload].preemptible { affected.insert(a.workload) }
            }
        }
    }

    mutating func interrupt(_ a: Allocation, at t: Int) {
        if let dataset = a.participant { return dropOut(a, dataset: dataset, at: t) }
        var p = progress[a.workload]
        result.events.interruptions += 1
        p.interrupted = true
        if p.required != nil {
            result.work.lostAcceleratorHours += p.sinceCheckpoint / 3600
            p.sinceCheckpoint = 0
            p.runningSinceCheckpoint = 0
            p.transferWait = 0
            p.done = p.checkpointed
        } else {
            result.serviceShortSteps += 1
        }
        progress[a.workload] = p
        affected.insert(a.workload)
    }

    mutating func advance(_ a: Allocation, at t: Int, following: Allocation?) {
        if let dataset = a.participant { return train(a, dataset: dataset, at: t) }
        let w = fleet.workloads[a.workload]
        var p = progress[a.workload]
        record(a, at: t)
        // Events are counted from what ran, not from plans (a replan starts plans afresh).
        if p.ran, let last = p.lastSite {
            let transition = Transition(from: (p.lastRunStep, last), to: (t, a.site))
            for (kind, _) in transition.events(service: w.type == .inference) {
                switch kind {
                case .migrate:
                    result.events.migrations += 1
                    if w.type != .inference { p.transferWait += transferCheckpoint(w, from: last, to: a.site) }
                case .resume: result.events.resumes += 1
                case .pause where !p.interrupted: result.events.pauses += 1
                default: break
                }
            }
        }
        p.interrupted = false
        p.lastRunStep = t
        if !p.ran {
            // Datasets held elsewhere move to the site once, when the work first runs there.
            for name in w.datasets {
                guard let d = fleet.dataset(named: name), d.site != fleet.sites[a.site].name else { continue }
                if !d.mayBeProcessed(in: fleet.sites[a.site].jurisdiction) {
                    result.transfers.datasetBytesOutsideResidency += d.size.bytes
                }
            }
        }
        p.ran = true
        p.lastSite = a.site
        if p.required != nil {
            let rate = Quiet.Rate(
                perSecond: PhysicalModel.throughput(w, model: a.model, count: a.count),
                checkpointEvery: w.checkpoint?.every.seconds ?? .infinity
            )
            // A planned pause or move checkpoints first.
            let pausesNext = t + 1 < grid.count && following?.pool != a.pool
            work(&p, rate: rate, count: a.count, at: t, pausesNext: pausesNext)
        }
        progress[a.workload] = p
    }

    /// One step of progress, at `rate` on `count` accelerators, towards the work `p` requires, with the
    /// checkpoint taken where it finishes, where it pauses or moves after this step (`pausesNext`), or where
    /// its checkpoint interval is up.
    func work(_ p: inout Progress, rate: Quiet.Rate, count: Int, at t: Int, pausesNext: Bool) {
        guard let required = p.required else { return }
        // A migrated checkpoint must arrive before the run makes progress.
        let waited = min(grid.step, p.transferWait)
        p.transferWait -= waited
        p.done = min(required, p.done + rate.perSecond * (grid.step - waited))
        p.sinceCheckpoint += Double(count) * grid.step
        p.runningSinceCheckpoint += grid.step
        let next = t + 1
        if Completion.finishes(p.done, required) {
            p.done = required
            p.finishStep = next
            p.checkpointed = p.done
            p.sinceCheckpoint = 0
            p.runningSinceCheckpoint = 0
        } else if pausesNext || p.runningSinceCheckpoint >= rate.checkpointEvery {
            // A planned pause checkpoints first, so it loses nothing.
            p.checkpointed = p.done
            p.sinceCheckpoint = 0
            p.runningSinceCheckpoint = 0
        }
    }

    /// Records that `a` ran at step `t`: its latest run goes on when it ran the step before on the same pool
    /// at the same width, else a new run starts.
    mutating func record(_ a: Allocation, at t: Int) {
        let key = ExecutedRun.Key(workload: a.workload, dataset: a.participant)
        if let i = latestRun[key], executed[i].end == t, executed[i].pool == a.pool,
            executed[i].accelerators == a.count
        {
            executed[i].end = t + 1
            return
        }
        latestRun[key] = executed.count
        executed.append(
            ExecutedRun(
                start: t,
                end: t + 1,
                workload: a.workload,
                pool: a.pool,
                accelerators: a.count,
                dataset: a.participant
            )
        )
    }

    /// Counts a checkpoint moving between sites and returns the seconds it takes over their link (none
    /// without one).
    mutating func transferCheckpoint(_ w: Workload, from last: Int, to site: Int) -> Double {
        let size = PhysicalModel.checkpointSize(w)
        result.transfers.checkpointBytesAcrossSites += size.bytes
        let link = fleet.sites[last].links.first { $0.to == fleet.sites[site].name }
        return link?.bandwidth.transferTime(of: size).seconds ?? 0
    }

    /// Plans all unfinished work again from step `t + 1`, on what is now believed.
    mutating func replan(after t: Int, planner: Planner, forecast: [SiteBudget]) {
        let replanned = affected
        affected.removeAll()
        result.replans += 1
        let next = grid.time(at: t + 1)
        var indices: [Int] = []
        var workloads: [Workload] = []
        var origins: [Int: Int] = [:]
        for i in replanned.sorted() {
            let w = fleet.workloads[i]
            var p = progress[i]
            if p.finishStep != nil { continue }
            if initial.workloads[i].status == .unplaceable || givenUp(i) { continue }
            if p.ran, !p.interrupted, p.lastRunStep == t, p.required != nil {
                // Its plan changes at this boundary (it may pause or move): it checkpoints first.
                p.checkpointed = p.done
                p.sinceCheckpoint = 0
                p.runningSinceCheckpoint = 0
                progress[i] = p
            }
            if let site = p.lastSite, p.ran, p.required != nil, p.checkpointed > 0 {
                origins[workloads.count] = site
            }
            let arrival = max(w.arrival ?? grid.time(at: 0), next)
            workloads.append(remaining(i, flops: (p.required ?? 0) - p.done, arrival: arrival))
            indices.append(i)
        }
        let remaining = fleet.replacingWorkloads(workloads)
        // Everything else keeps its place and holds its accelerators and power.
        var occupied: [Occupation] = []
        for entry in schedule.entries where entry.end > t + 1 {
            let a = entry.allocation
            guard !replanned.contains(a.workload), progress[a.workload].finishStep == nil else { continue }
            for u in max(entry.start, t + 1)..<entry.end {
                occupied.append(Occupation(step: u, site: a.site, pool: a.pool.poolName, accelerators: a.count))
            }
        }
        let plan = planner.plan(remaining, grid: grid, budgets: forecast, occupied: occupied, origins: origins)
        install(plan, workloadIndices: indices, from: t + 1, replacing: replanned)
    }

    func finish() -> SimulationResult {
        var result = self.result
        for (i, w) in fleet.workloads.enumerated() {
            let p = progress[i]
            result.workloads.total += 1
            // A pause that is never followed by a resume within the horizon is still a pause.
            if p.ran, p.finishStep == nil, !p.interrupted, p.lastRunStep < grid.count - 1, w.type != .inference {
                result.events.pauses += 1
            }
            if initial.workloads[i].status == .unplaceable {
                result.workloads.unplaceable += 1
                continue
            }
            guard let required = p.required else { continue }
            result.work.requiredExaflop += required / 1e18
            result.work.doneExaflop += p.done / 1e18
            let deadlineStep = w.deadline.map { grid.step(at: $0, rounding: .down) }
            if let finish = p.finishStep {
                if let deadlineStep, finish > deadlineStep {
                    result.workloads.deadlineMissed += 1
                } else {
                    result.workloads.completed += 1
                }
            } else if let deadlineStep, deadlineStep <= grid.count {
                result.workloads.deadlineMissed += 1
            }
        }
        return result
    }
}
