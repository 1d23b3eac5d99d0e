import SovereignModel
import Testing

@testable import SovereignPlanner

struct EnergyScorerTests {
    @Test func theMostEfficientPoolScoresOneAndTheOthersTheirRatio() throws {
        let f = try PluginFixture()
        let candidates = f.fitted(try f.workload("finetune"))
        let scores = EnergyScorer().scores(try f.workload("finetune"), candidates: candidates, context: f.state.context)
        let costs = candidates.map { EnergyScorer.joulesPerFLOP($0.candidate, context: f.state.context) }
        // L4: 72 W × 0.75 × PUE 1.5 ÷ 121 TFLOPS is the least energy per FLOP of the three.
        #expect(scores.map { $0 == 1 } == candidates.map { $0.candidate.pool.name == "l4" })
        #expect(scores == costs.map { (costs.min() ?? 1) / $0 })
        #expect(scores.allSatisfy { $0 > 0 && $0 <= 1 })
    }
}
