import Foundation
import SovereignBase
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

struct CarbonShiftingTests {
    let shifting = CarbonShifting()

    /// The constant fleet with Nairobi's supply carbon set by `carbon` at each step (storage as given).
    func state(_ f: PluginFixture, carbon: (Int) -> Double) -> PlanningState {
        let grid = f.state.grid
        var budgets = f.state.context.budgets
        let b = budgets[0]
        let series = StepValues((0..<grid.count).map(carbon))
        budgets[0] = SiteBudget(
            supply: b.supply,
            pue: b.pue,
            cooling: b.cooling,
            carbon: series,
            solar: b.solar,
            gridCarbon: series
        )
        return PlanningState(fleet: f.fleet, grid: grid, budgets: budgets)
    }

    func walk(_ f: PluginFixture, deadline: Int?, preemptible: Bool = true) throws -> Walk {
        let a100 = try f.candidate("nairobi-1/a100")
        return Walk(
            workload: try f.workload(preemptible ? "finetune" : "rigid"),
            ranked: [Planner.Ranked(candidate: a100, fit: Fit(precision: nil, min: 4, max: 32))],
            policy: .carbonAware,
            arrival: 0,
            deadline: deadline,
            required: 6 * 7e9 * 2e9
        )
    }

    /// The constant fleet, Nairobi's checkpoint storage at `bandwidth` when given, and a copy of `finetune`
    /// that may not pause, called `rigid`.
    func fixture(storage bandwidth: String? = nil) throws -> PluginFixture {
        var yaml = Fixtures.constantFleet
        if let bandwidth {
            yaml = yaml.replacingOccurrences(
                of: "cooling: {capacity: 900 kW,",
                with: "storage: {bandwidth: \(bandwidth)}\n  cooling: {capacity: 900 kW,"
            )
        }
        let rigid = """
            ---
            apiVersion: sovereign.dev/v1
            kind: Workload
            metadata: {name: rigid}
            spec:
              type: fine-tuning
              model: {parameters: 7B}
              compute: {tokens: 2B}
              accelerators: {min: 4, max: 32}
              preemptible: false

            """
        return try PluginFixture(yaml + rigid)
    }

    @Test func runsInTheCleanestStepsBeforeTheDeadline() throws {
        let f = try fixture()
        let state = state(f) { $0 < 100 ? 600 : ($0 % 7 == 0 ? 40 : 50) }
        let shift = try #require(shifting.shift(try walk(f, deadline: 150), state: state))
        // 8.4e19 FLOPs at 32 × 312 TFLOPS × 0.4: 5.8 hours, 6 steps; the cleanest are 105, 112, ..., 147.
        #expect(shift.widths == Array(repeating: 32, count: 6))
        #expect(shift.steps == [105, 112, 119, 126, 133, 140])
    }

    @Test func pricedPausesRunInOnePiece() throws {
        let f = try fixture(storage: "100 Mbps")
        // 98 GB at 100 Mbps: 2.2 hours each way, dearer than any dirty hour in between.
        let state = state(f) { $0 % 2 == 0 ? 50 : 100 }
        let shift = try #require(shifting.shift(try walk(f, deadline: 40), state: state))
        #expect(StepSelection.pieces(shift.steps) == 1)
        let free = try #require(shifting.shift(try walk(try fixture(), deadline: 40), state: state))
        #expect(StepSelection.pieces(free.steps) == 6)
    }

    @Test func workThatMayNotPauseTakesTheCleanestWindow() throws {
        let f = try fixture()
        let state = state(f) { $0 >= 30 && $0 < 40 ? 20 : 300 }
        let shift = try #require(shifting.shift(try walk(f, deadline: 100, preemptible: false), state: state))
        #expect(shift.steps == Array(30..<36))
    }

    /// The window's stretches of one cost hold each step's carbon × PUE; the full-width stretches are the steps
    /// where the walk's option gives its whole width (up to the first `most` of them), with other work's
    /// accelerators and power taken at random steps and a whole block of the profiles (steps 32..<48) where
    /// even its minimum does not fit.
    @Test func stretchesHoldWhatEachStepHolds() throws {
        let f = try fixture()
        let grid = f.state.grid
        let b = f.state.context.budgets[0]
        let carbon = StepValues((0..<grid.count).map { Double(50 + 10 * (($0 / 7) % 3)) })
        let pue = StepValues((0..<grid.count).map { 1.1 + 0.1 * Double(($0 / 5) % 2) })
        let budget = SiteBudget(
            supply: b.supply,
            pue: pue,
            cooling: b.cooling,
            carbon: carbon,
            solar: b.solar,
            gridCarbon: carbon
        )
        var state = PlanningState(fleet: f.fleet, grid: grid, budgets: [budget] + f.state.context.budgets.dropFirst())
        let pool = try f.candidate("nairobi-1/a100").poolIndex
        var rng = SeededGenerator(seed: 1819)
        for t in 32..<48 { state.take(61, pool: pool, site: 0, watts: 0, at: t) }
        for _ in 0..<60 {
            let t = rng.nextInt(below: grid.count)
            state.take(rng.nextInt(below: 20), pool: pool, site: 0, watts: Double(rng.nextInt(below: 200_000)), at: t)
        }
        let walk = try walk(f, deadline: grid.count)
        for window in [0..<grid.count, 3..<(grid.count - 2), 40..<41] {
            let costs = CarbonShifting.costs(budget, over: window)
            #expect(costs.flatMap { Array($0.steps) } == Array(window))
            #expect(costs.flatMap { s in s.steps.map { _ in s.cost } } == window.map { carbon[$0] * pue[$0] })
            for width in [4, 20, 32] {
                let steps = window.filter { walk.available(0, at: $0, want: width, state: state).count == width }
                for most in [1, 7, 50, Int.max] {
                    let stretches = walk.fullWidth(0, width: width, in: window, most: most, state: state)
                    let first = Array(steps.prefix(most))
                    #expect(stretches == StepSelection.runs(first), "width \(width), window \(window), most \(most)")
                }
            }
        }
    }

    @Test func workWithoutADeadlineIsNotShifted() throws {
        let f = try fixture()
        #expect(shifting.shift(try walk(f, deadline: nil), state: state(f) { _ in 100 }) == nil)
    }

    @Test func aWindowTooShortIsNotShifted() throws {
        let f = try fixture()
        #expect(shifting.shift(try walk(f, deadline: 5), state: state(f) { _ in 100 }) == nil)
    }

    @Test func shiftsOnlyInCarbonAwarePolicies() {
        #expect(PlanningPolicy.carbonAware.shifting.contains { $0 is CarbonShifting })
        #expect(PlanningPolicy.powerAware.shifting.isEmpty)
        #expect(PlanningPolicy.greedy.shifting.isEmpty)
    }
}
