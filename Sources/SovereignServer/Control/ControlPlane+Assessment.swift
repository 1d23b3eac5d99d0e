import SovereignAssessment
import SovereignModel
import SovereignPlanner
import Synchronization

extension ControlPlane {
    /// The fleet's five-layer sovereignty matrix, as `sovereign assess --format json` gives it without stress
    /// tests (`GET /v1/assessment`). The fleet never changes while the server runs, so it is assessed once,
    /// off the control plane's queue, and kept.
    nonisolated func assessment() async -> AssessmentJSON {
        if let kept = assessmentKept.withLock({ $0 }) { return kept }
        let assessment = await Assessment.run(
            fleet,
            policy: Self.planningPolicy,
            cuts: [],
            seed: fleet.scenario?.seed ?? 1
        )
        let json = AssessmentJSON(assessment.matrix, stress: nil)
        assessmentKept.withLock { $0 = json }
        return json
    }

    /// The matrix with the stress tests of `cuts` (each alone and, with several, all together), as
    /// `sovereign assess --format json --cut ...` gives them under the server's policy and the Scenario's
    /// seed. The fleet never changes, so the answers for the last few sets of cuts are kept.
    ///
    /// - Throws: ``CutError`` for a cut this fleet cannot mean. Without a Scenario there is nothing to simulate:
    ///   the answer has no stress tests.
    nonisolated func assessment(cuts: [Cut]) async throws(CutError) -> AssessmentJSON {
        guard !cuts.isEmpty else { return await assessment() }
        for cut in cuts { try cut.check(against: fleet) }
        if let kept = stressKept.withLock({ $0[cuts] }) { return kept }
        let assessment = await Assessment.run(
            fleet,
            policy: Self.planningPolicy,
            cuts: cuts,
            seed: fleet.scenario?.seed ?? 1
        )
        let json = AssessmentJSON(assessment.matrix, stress: assessment.stress)
        stressKept.withLock { kept in
            if kept.count >= Self.stressKeptLimit { kept.removeAll() }
            kept[cuts] = json
        }
        return json
    }

    /// How many sets of cuts ``assessment(cuts:)`` keeps the answer of.
    static let stressKeptLimit = 8
}
