import SovereignModel
import Testing

@testable import SovereignPlanner

struct CarbonScorerTests {
    @Test func energyPerFLOPTimesTheSitesMeanCarbonRanks() throws {
        let f = try PluginFixture()
        let finetune = try f.workload("finetune")
        let candidates = f.fitted(finetune)
        let context = f.state.context
        let scores = CarbonScorer().scores(finetune, candidates: candidates, context: context)
        let costs = candidates.map {
            EnergyScorer.joulesPerFLOP($0.candidate, context: context)
                * max(1, context.meanCarbon[$0.candidate.siteIndex])
        }
        #expect(scores == costs.map { (costs.min() ?? 1) / $0 })
        #expect(scores.max() == 1)
    }
}
