import SovereignBase
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

/// A walk that keeps its option takes a whole stretch at once; these tests hold it to what a walk one step at a
/// time takes, written here over plain arrays, on the constant fleet with its capacity and power taken at
/// random (whole blocks full, steps with fewer free than wanted, steps where the power budget binds).
struct WalkStretchTests {
    /// What a walk took: its runs as `[start, end, rank, count]`, its work, and where it finished.
    struct Taken: Equatable {
        var runs: [[Int]] = []
        var done = 0.0
        var finishStep: Int?
        var finishSeconds: Double?
    }

    /// The constant fleet with Nairobi's pools and headroom taken at random.
    func occupied(_ f: PluginFixture, seed: UInt64) throws -> PlanningState {
        var rng = SeededGenerator(seed: 4_100 + seed)
        var state = f.state
        let steps = state.grid.count
        let a100 = try f.candidate("nairobi-1/a100")
        let wattsEach = PhysicalModel.runningPower(model: a100.model, count: 1)
        for _ in 0..<Int.random(in: 4...24, using: &rng) {
            let start = Int.random(in: 0..<steps, using: &rng)
            let stretch = start..<min(steps, start + Int.random(in: 1...40, using: &rng))
            let pool = Int.random(in: 0...1, using: &rng)
            let count = Int32.random(in: 0...48, using: &rng)
            // Headroom left for 4 to 40 A100s, where it binds.
            let left = wattsEach * Double.random(in: 4...40, using: &rng)
            let power = Bool.random(using: &rng)
            for t in stretch {
                let watts = power ? max(0, state.headroom[0, t] - left) : 0
                state.take(Int(min(count, state.free[pool, t])), pool: pool, site: 0, watts: watts, at: t)
            }
        }
        return state
    }

    /// What the walk takes one step at a time: at each step from its arrival until the work is done, the
    /// current option first, then the others in rank order, the first that can give some (as many as it wants,
    /// free accelerators and the power budget allow, none below its fewest); a service wants its fewest and
    /// does no work.
    func stepByStep(_ walk: Walk, wait: Double, state: PlanningState) -> (Taken, free: [[Int32]], headroom: [Double]) {
        let service = walk.workload.type == .inference
        let steps = state.grid.count
        var free = (0..<state.candidates.count).map { p in (0..<steps).map { state.free[p, $0] } }
        var headroom = (0..<steps).map { state.headroom[0, $0] }
        var taken = Taken()
        var wait = wait
        var current: Int?
        func width(_ r: Int, at t: Int) -> Int {
            let option = walk.ranked[r]
            let watts = PhysicalModel.runningPower(model: option.candidate.model, count: 1)
            let want = service ? option.minCount : option.maxCount
            let n = min(
                want,
                Int(free[option.candidate.poolIndex][t]),
                Int((max(0, headroom[t]) / watts).rounded(.down))
            )
            return n < option.minCount ? 0 : n
        }
        for t in walk.arrival..<steps {
            if let required = walk.required, !service, Completion.finishes(taken.done, required) { break }
            let order = (current.map { [$0] } ?? []) + walk.ranked.indices.filter { $0 != current }
            guard let r = order.first(where: { width($0, at: t) > 0 }) else { continue }
            let n = width(r, at: t)
            current = r
            let option = walk.ranked[r]
            free[option.candidate.poolIndex][t] -= Int32(n)
            headroom[t] -= PhysicalModel.runningPower(model: option.candidate.model, count: 1) * Double(n)
            if let last = taken.runs.last, last[1] == t, last[2] == r, last[3] == n {
                taken.runs[taken.runs.count - 1][1] = t + 1
            } else {
                taken.runs.append([t, t + 1, r, n])
            }
            guard let required = walk.required, !service else { continue }
            let waited = min(state.grid.step, wait)
            wait -= waited
            let rate = walk.rate(option, count: n)
            let before = taken.done
            taken.done += rate * (state.grid.step - waited)
            if Completion.finishes(taken.done, required), taken.finishStep == nil {
                taken.done = required
                taken.finishStep = t + 1
                taken.finishSeconds = Double(t) * state.grid.step + waited + max(0, required - before) / rate
            }
        }
        return (taken, free, headroom)
    }

    /// The walk's runs, work and finish, and the state's values at every step, are the step-by-step walk's.
    func expectSameAsStepByStep(_ walk: Walk, wait: Double, before: PlanningState, after: PlanningState) {
        let (expected, free, headroom) = stepByStep(walk, wait: wait, state: before)
        let taken = Taken(
            runs: walk.runs.map { [$0.start, $0.end, $0.rank, $0.count] },
            done: walk.done,
            finishStep: walk.finishStep,
            finishSeconds: walk.finishSeconds
        )
        #expect(taken == expected)
        #expect(taken.done.bitPattern == expected.done.bitPattern)
        #expect(taken.finishSeconds?.bitPattern == expected.finishSeconds?.bitPattern)
        let steps = before.grid.count
        #expect(free == (0..<free.count).map { p in (0..<steps).map { after.free[p, $0] } })
        #expect(headroom.map(\.bitPattern) == (0..<steps).map { after.headroom[0, $0].bitPattern })
    }

    /// Preemptible work on Nairobi's A100s, then its T4s, under the power budget, some waiting first (a
    /// checkpoint on its way), some finishing and some not by the horizon.
    @Test(arguments: 0..<40)
    func preemptibleWalkTakesWhatTheStepByStepWalkTakes(seed: UInt64) throws {
        let f = try PluginFixture()
        let before = try occupied(f, seed: seed)
        var rng = SeededGenerator(seed: seed)
        let fewest = Int.random(in: 1...6, using: &rng)
        let ranked = try ["nairobi-1/a100", "nairobi-1/t4"].map {
            Planner.Ranked(
                candidate: try f.candidate($0),
                fit: Fit(precision: nil, min: fewest, max: Int.random(in: fewest...40, using: &rng))
            )
        }
        let perStep =
            PhysicalModel.throughput(
                try f.workload("finetune"),
                tflops: ranked[0].candidate.model.tflops,
                count: ranked[0].maxCount
            ) * before.grid.step
        let wait = Bool.random(using: &rng) ? Double.random(in: 0...(3 * before.grid.step), using: &rng) : 0
        var walk = Walk(
            workload: try f.workload("finetune"),
            ranked: ranked,
            policy: .powerAware,
            arrival: Int.random(in: 0..<48, using: &rng),
            deadline: nil,
            required: perStep * Double.random(in: 0.5...150, using: &rng),
            wait: wait
        )
        var after = before
        walk.runPreemptible(state: &after)
        expectSameAsStepByStep(walk, wait: wait, before: before, after: after)
        #expect(walk.runs.count >= 1)
    }

    /// A service holds its fewest accelerators at every step it can, from its arrival to the horizon.
    @Test(arguments: 0..<20)
    func serviceWalkTakesWhatTheStepByStepWalkTakes(seed: UInt64) throws {
        let f = try PluginFixture()
        let before = try occupied(f, seed: 100 + seed)
        var rng = SeededGenerator(seed: 100 + seed)
        let ranked = try ["nairobi-1/a100", "nairobi-1/t4"].map {
            let fewest = Int.random(in: 1...24, using: &rng)
            return Planner.Ranked(candidate: try f.candidate($0), fit: Fit(precision: nil, min: fewest, max: fewest))
        }
        var walk = Walk(
            workload: try f.workload("assistant"),
            ranked: ranked,
            policy: .powerAware,
            arrival: Int.random(in: 0..<48, using: &rng),
            deadline: nil,
            required: nil
        )
        var after = before
        walk.runService(state: &after)
        expectSameAsStepByStep(walk, wait: 0, before: before, after: after)
    }
}
