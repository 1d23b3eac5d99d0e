import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

struct LocalityScorerTests {
    @Test func dataAtTheSiteScoresOneAndALinkCostsItsTransferTime() throws {
        let f = try PluginFixture()
        let finetune = try f.workload("finetune")
        let candidates = f.fitted(finetune)
        let scores = LocalityScorer().scores(finetune, candidates: candidates, context: f.state.context)
        // 2 TB over 10 Gbps from Nairobi to Kigali: 1600 s.
        let expected = candidates.map { $0.candidate.site.name == "nairobi-1" ? 1 : 1 / (1 + 1600.0 / 3600) }
        #expect(zip(scores, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func aSiteWithoutALinkToTheDataScoresZero() throws {
        let f = try PluginFixture()
        let kigali = try #require(f.fleet.site(named: "kigali-1"))
        let pod = Workload.podConstraint(name: "pod", datasets: ["ke-health-records"], classification: nil)
        #expect(LocalityScorer.transferSeconds(pod, to: kigali, fleet: f.fleet) == 1600)
        let unlinked = try PluginFixture(
            Fixtures.constantFleet.replacingOnce("- {to: kigali-1, bandwidth: 10 Gbps}", with: "[]")
        )
        let l4 = try unlinked.candidate("kigali-1/l4")
        let scores = LocalityScorer().scores(
            pod,
            candidates: [FittedCandidate(candidate: l4, fit: nil)],
            context: unlinked.state.context
        )
        #expect(scores == [0])
    }
}
