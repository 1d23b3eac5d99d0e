import SovereignModel
import Testing

@testable import SovereignPlanner

struct ThroughputScorerTests {
    @Test func theFastestFitScoresOneAndAPoolThatDoesNotFitZero() throws {
        let f = try PluginFixture()
        let finetune = try f.workload("finetune")
        let a100 = try f.candidate("nairobi-1/a100")
        let t4 = try f.candidate("nairobi-1/t4")
        let candidates = [
            FittedCandidate(candidate: a100, fit: Fit(precision: nil, min: 4, max: 32)),
            FittedCandidate(candidate: t4, fit: Fit(precision: nil, min: 7, max: 32)),
            FittedCandidate(candidate: t4, fit: nil),
        ]
        let scores = ThroughputScorer().scores(finetune, candidates: candidates, context: f.state.context)
        // 32 T4s at 65 TFLOPS against 32 A100s at 312.
        #expect(scores[0] == 1)
        #expect(abs(scores[1] - 65.0 / 312) < 1e-12)
        #expect(scores[2] == 0)
    }
}
