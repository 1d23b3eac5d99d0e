public import SovereignModel

/// The workload's memory fits `max` accelerators of the pool; inference takes the highest precision that fits.
public struct HardwareFitFilter: SizingFilter {
    public let name = "hardware-fit"

    /// Makes the filter.
    public init() {}

    /// What the workload needs of any pool, computed once: its bounds and its memory at each precision.
    public struct State: Sendable {
        /// The declared accelerator bounds, if any.
        let bounds: (min: Int, max: Int)?
        /// Bytes of memory at each precision to try, best first (one entry, `nil`, for training).
        let demands: [(precision: Precision?, bytes: Double)]
        /// The memory at the lowest accepted precision, for the refusal's wording.
        let lowest: DataSize
    }

    public func preFilter(_ workload: Workload, in fleet: Fleet) -> State {
        let precisions: [Precision?] = workload.type.trains ? [nil] : workload.acceptedPrecisions.map { $0 }
        let lowest = workload.acceptedPrecisions.min { $0.bytesPerParameter < $1.bytesPerParameter }
        return State(
            bounds: workload.accelerators.map { ($0.min, $0.max) },
            demands: precisions.map { ($0, workload.memoryDemand(at: $0).bytes) },
            lowest: workload.memoryDemand(at: workload.type.trains ? nil : lowest)
        )
    }

    /// The bounds, the memory at each precision and the lowest: every fit and refusal is made of these.
    public func shape(_ state: State) -> (any Hashable & Sendable)? {
        Shape(
            bounds: [state.bounds?.min, state.bounds?.max],
            precisions: state.demands.map(\.precision),
            bytes: state.demands.map(\.bytes) + [state.lowest.bytes]
        )
    }

    /// ``State`` as a value.
    struct Shape: Hashable, Sendable {
        let bounds: [Int?]
        let precisions: [Precision?]
        let bytes: [Double]
    }

    /// The precision (for inference) and the accelerator counts the workload would use on the pool, or `nil`.
    public func fit(_ state: State, _ candidate: Candidate) -> Fit? {
        let upper = min(state.bounds?.max ?? candidate.pool.count, candidate.pool.count)
        for demand in state.demands {
            let needed = max(
                state.bounds?.min ?? 1,
                PhysicalModel.minimumCount(bytes: demand.bytes, model: candidate.model)
            )
            if needed <= upper { return Fit(precision: demand.precision, min: needed, max: upper) }
        }
        return nil
    }

    public func rejection(_ state: State, _ candidate: Candidate) -> Rejection {
        if let minimum = state.bounds?.min, minimum > candidate.pool.count {
            return Rejection(filter: name, reason: "pool too small (needs ≥ \(minimum) accelerators)")
        }
        let upper = min(state.bounds?.max ?? candidate.pool.count, candidate.pool.count)
        return Rejection(
            filter: name,
            reason: "insufficient memory (needs \(state.lowest) over ≤ \(upper) accelerators; "
                + "\(candidate.model.id) has \(candidate.model.memory) each)"
        )
    }
}

extension HardwareFitFilter {
    /// Each candidate with the workload's fit on it (`nil` where it does not fit), the pre-filter run once:
    /// what scorers need when no cycle has sized the candidates (the scheduler extender's prioritize).
    public func fitted(_ workload: Workload, _ candidates: [Candidate], in fleet: Fleet) -> [FittedCandidate] {
        let state = preFilter(workload, in: fleet)
        return candidates.map { FittedCandidate(candidate: $0, fit: fit(state, $0)) }
    }
}
