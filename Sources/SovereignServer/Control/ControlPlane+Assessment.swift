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
    ///
    /// One set of cuts is simulated at a time: a request for another set while one runs is refused with
    /// ``StressTestsBusy`` (the simulations take both cores for seconds, and the control loop shares them).
    nonisolated func assessment(cuts: [Cut]) async throws -> AssessmentJSON {
        guard !cuts.isEmpty else { return await assessment() }
        for cut in cuts { try cut.check(against: fleet) }
        if let kept = stressKept.withLock({ $0[cuts] }) { return kept }
        let claimed = stressRunning.withLock { running -> Bool in
            if running { return false }
            running = true
            return true
        }
        guard claimed else { throw StressTestsBusy() }
        defer { stressRunning.withLock { $0 = false } }
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

/// A request for stress tests while another set runs: the client should retry later.
struct StressTestsBusy: Error {}
