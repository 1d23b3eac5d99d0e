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
}
