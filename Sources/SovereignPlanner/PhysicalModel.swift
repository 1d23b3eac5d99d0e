public import SovereignModel

/// The physical model of DESIGN.md that the planner needs: work, throughput, memory and power.
public enum PhysicalModel: Sendable {
    /// Fraction of rated board power an accelerator draws while training (Newkirk et al. 2025, 8×H100).
    public static let trainingUtilisation = 0.75

    /// Total FLOPs a workload needs: `6·N·D` for training, `2·N·D` for batch inference, or as given.
    ///
    /// - Returns: `nil` for a standing inference service, whose work has no end.
    public static func requiredFLOPs(_ w: Workload, catalog: AcceleratorCatalog) -> Double? {
        switch w.compute {
        case .tokens(let tokens):
            return (w.type == .batchInference ? 2 : 6) * w.model.parameters * tokens
        case .flops(let flops):
            return flops
        case .acceleratorHours(let hours, let on):
            guard let model = catalog[on] else { return nil }
            return hours * 3600 * model.tflops * 1e12 * w.mfu
        case nil:
            return nil
        }
    }

    /// FLOPs per second that `n` accelerators of `model` achieve on `w`.
    public static func throughput(_ w: Workload, model: AcceleratorModel, count n: Int) -> Double {
        Double(n) * model.tflops * 1e12 * w.mfu
    }

    /// IT power of `n` running accelerators, in watts.
    public static func runningPower(model: AcceleratorModel, count n: Int) -> Double {
        Double(n) * model.power.watts * trainingUtilisation
    }

    /// The fewest accelerators of `model` whose memory holds `w` at `precision`.
    public static func minimumCount(_ w: Workload, model: AcceleratorModel, precision: Precision?) -> Int {
        let need = w.memoryDemand(at: precision).bytes
        return max(1, Int((need / model.memory.bytes).rounded(.up)))
    }

    /// Inference FLOPs per second the service must sustain: `2·N` per token.
    public static func inferenceFLOPS(_ w: Workload) -> Double {
        2 * w.model.parameters * (w.tokensPerSecond ?? 0)
    }

    /// Size of one training checkpoint: as declared, or 14 bytes per parameter (12–16 in DESIGN.md).
    public static func checkpointSize(_ w: Workload) -> DataSize {
        w.checkpoint?.size ?? .bytes(w.model.parameters * 14)
    }
}
