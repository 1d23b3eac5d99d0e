import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

struct ServedFromScorerTests {
    @Test func servesFromInsideTheJurisdictionsNamed() throws {
        let f = try PluginFixture(Fixtures.constantFleet.replacingOnce("servedFrom: [EAC]", with: "servedFrom: [KE]"))
        let assistant = try f.workload("assistant")
        let scores = ServedFromScorer().scores(assistant, candidates: f.fitted(assistant), context: f.state.context)
        #expect(scores == f.state.candidates.map { $0.site.jurisdiction == "KE" ? 1 : 0 })
    }

    @Test func aGroupCoversItsMembersAndNoneNamedCoversAll() throws {
        let f = try PluginFixture()
        let assistant = try f.workload("assistant")
        let finetune = try f.workload("finetune")
        let context = f.state.context
        #expect(ServedFromScorer().scores(assistant, candidates: f.fitted(assistant), context: context) == [1, 1, 1])
        #expect(ServedFromScorer().scores(finetune, candidates: f.fitted(finetune), context: context) == [1, 1, 1])
    }
}
