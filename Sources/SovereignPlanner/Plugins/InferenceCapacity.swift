public import SovereignModel

/// An inference service needs enough accelerators for its demand (`2·N` FLOPs per token), not only for its
/// memory: the fit's minimum rises to that, and a pool that cannot give it is refused.
public struct InferenceCapacity: Sizer {
    public let name = "capacity"

    /// Makes the plug-in.
    public init() {}

    func size(_ workload: Workload, _ candidate: Candidate, fit: Fit) -> Sizing {
        guard workload.type == .inference else { return .sized(fit) }
        let perAccelerator = PhysicalModel.throughput(workload, model: candidate.model, count: 1)
        let forDemand = PhysicalModel.wholeUp(PhysicalModel.inferenceFLOPS(workload) / perAccelerator)
        let minimum = max(fit.min, forDemand)
        guard minimum <= fit.max else {
            return .refused(
                Rejection(
                    filter: name,
                    reason: "too few accelerators for \(CountText.format(workload.tokensPerSecond ?? 0)) tokens/s "
                        + "(needs \(minimum) \(candidate.model.id), at most \(fit.max))"
                )
            )
        }
        return .sized(Fit(precision: fit.precision, min: minimum, max: fit.max))
    }
}
