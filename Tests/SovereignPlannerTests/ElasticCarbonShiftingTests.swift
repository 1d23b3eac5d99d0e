import Foundation
import SovereignBase
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

/// Elastic work runs wider in clean steps and narrower in dirty ones (issue 18, point 3): with linear
/// scaling it is the rigid optimum (save the last step's spare accelerators); with scaling below 1 it
/// beats the rigid optimum on the same physics; on a small window it is within one unit of the exact
/// integer optimum found by trying every choice of widths.
struct ElasticCarbonShiftingTests {
    let elastic = ElasticCarbonShifting()
    let rigid = CarbonShifting()
    let fixtures = CarbonShiftingTests()

    /// The constant fleet with `finetune` scaling by `scaling` per doubling.
    func fixture(scaling: Double) throws -> PluginFixture {
        let yaml = Fixtures.constantFleet.replacingOccurrences(
            of: "accelerators: {min: 4, max: 32}",
            with: "accelerators: {min: 4, max: 32, scaling: \(scaling)}"
        )
        #expect(yaml != Fixtures.constantFleet)
        return try PluginFixture(yaml)
    }

    /// What a shift costs and does: carbon (g·s/kWh·W, the ratio is what matters) and FLOPs.
    func outcome(_ shift: Shift, _ walk: Walk, state: PlanningState) -> (carbon: Double, work: Double) {
        let option = walk.ranked[0]
        let budget = state.context.budgets[option.candidate.siteIndex]
        var carbon = 0.0
        var work = 0.0
        for (t, n) in zip(shift.steps, shift.widths) {
            carbon +=
                PhysicalModel.runningPower(model: option.candidate.model, count: n) * budget.carbon[t] * budget.pue[t]
            work += walk.rate(option, count: n) * state.grid.step
        }
        return (carbon, work)
    }

    @Test func withLinearScalingItFillsTheCleanestStepsAsTheRigidOptimumDoes() throws {
        let f = try fixtures.fixture()
        let state = fixtures.state(f) { $0 < 100 ? 600 : ($0 % 7 == 0 ? 40 : 50) }
        let walk = try fixtures.walk(f, deadline: 150)
        let shift = try #require(elastic.shift(walk, state: state))
        let optimum = try #require(rigid.shift(walk, state: state))
        #expect(shift.steps == optimum.steps)
        // 8.4e19 FLOPs: five full steps of 32 A100s (1.44e19 each), then 27 for the rest.
        #expect(shift.widths == [32, 32, 32, 32, 32, 27])
        #expect(outcome(shift, walk, state: state).work >= walk.required ?? .infinity)
        #expect(outcome(shift, walk, state: state).carbon < outcome(optimum, walk, state: state).carbon)
    }

    @Test func withScalingBelowOneItRunsNarrowerAndBeatsTheRigidOptimum() throws {
        let f = try fixture(scaling: 0.8)
        // Three levels of carbon from step 100 on: clean every 7th step, mid every 3rd, dirty otherwise.
        let state = fixtures.state(f) { $0 < 100 ? 900 : ($0 % 7 == 0 ? 40 : ($0 % 3 == 0 ? 80 : 160)) }
        let walk = try fixtures.walk(f, deadline: 190)
        let shift = try #require(elastic.shift(walk, state: state))
        let optimum = try #require(rigid.shift(walk, state: state))
        let (carbon, work) = outcome(shift, walk, state: state)
        let rigidCarbon = outcome(optimum, walk, state: state).carbon
        #expect(work >= walk.required ?? .infinity)
        #expect(carbon < 0.9 * rigidCarbon, "elastic \(carbon), rigid at full width \(rigidCarbon)")
        #expect(Set(shift.widths).count > 1, "widths vary: \(shift.widths)")
        #expect(shift.widths.allSatisfy { (4...32).contains($0) })
        // Never narrower in a cleaner step than in a dirtier one.
        let budget = state.context.budgets[0]
        for (a, wa) in zip(shift.steps, shift.widths) {
            for (b, wb) in zip(shift.steps, shift.widths) where budget.carbon[a] < budget.carbon[b] {
                #expect(wa >= wb, "step \(a) (\(budget.carbon[a])) at \(wa), step \(b) (\(budget.carbon[b])) at \(wb)")
            }
        }
    }

    /// Every choice of widths (0 or 1...4) over four steps, against the greedy's: never dearer than the exact
    /// optimum by more than the dearest single accelerator-step (the last unit is taken whole).
    @Test(arguments: 0..<8)
    func onASmallWindowItIsWithinOneUnitOfTheExactOptimum(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let steps = 4
        let price = (0..<steps).map { _ in Double(10 + random.next() % 90) }
        let scaling = 0.7 + Double(random.next() % 30) / 100
        let rate = { (n: Int) -> Double in n == 0 ? 0 : Double(n) * Foundation.pow(scaling, Foundation.log2(Double(n)))
        }
        let required = Double(2 + random.next() % 9)
        var units: [ElasticCarbonShifting.Unit] = []
        for (i, p) in price.enumerated() {
            var ratio = Double.infinity
            for n in 1...4 {
                let work = rate(n) - rate(n - 1)
                ratio = min(ratio, work / p)
                units.append(.init(step: i, width: n, work: work, carbon: p, ratio: ratio, first: n == 1))
            }
        }
        let widths = ElasticCarbonShifting.cheapest(units, steps: steps, required: required)
        var best = Double.infinity
        for code in 0..<625 {
            let choice = [code % 5, code / 5 % 5, code / 25 % 5, code / 125 % 5]
            let work = choice.map(rate).reduce(0, +)
            guard work >= required - 1e-9 else { continue }
            best = min(best, zip(choice, price).map { Double($0) * $1 }.reduce(0, +))
        }
        guard best.isFinite else {
            #expect(widths == nil, "seed \(seed): nothing can do \(required)")
            return
        }
        let chosen = try? #require(widths, "seed \(seed)")
        let carbon = zip(chosen ?? [], price).map { Double($0) * $1 }.reduce(0, +)
        let work = (chosen ?? []).map(rate).reduce(0, +)
        #expect(work >= required - 1e-9, "seed \(seed)")
        #expect(carbon <= best + (price.max() ?? 0) + 1e-9, "seed \(seed): greedy \(carbon), optimum \(best)")
    }
}
