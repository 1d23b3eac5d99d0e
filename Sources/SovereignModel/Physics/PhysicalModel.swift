/// The physical model of DESIGN.md: work, throughput, memory and power, shared by the planner, the simulator,
/// the assessment, the scheduler extender and the control plane.
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

    /// FLOPs per second that `n` accelerators of `model` achieve on `w`: `n × peak × MFU × scaling(n)`, where
    /// scaling(n) is the workload's ``Workload/AcceleratorRange/efficiency(_:)`` (1 unless it declares
    /// `accelerators.scaling`).
    public static func throughput(_ w: Workload, model: AcceleratorModel, count n: Int) -> Double {
        throughput(w, tflops: model.tflops, count: n)
    }

    /// ``throughput(_:model:count:)`` from the model's dense TFLOPS alone: what the planner's hot loops call
    /// with a candidate's `model.tflops`, which reads one number where passing the model copies it.
    public static func throughput(_ w: Workload, tflops: Double, count n: Int) -> Double {
        let linear = Double(n) * tflops * 1e12 * w.mfu
        guard let range = w.accelerators, range.scaling != 1 else { return linear }
        return linear * range.efficiency(n)
    }

    /// IT power of `n` running accelerators, in watts.
    public static func runningPower(model: AcceleratorModel, count n: Int) -> Double {
        Double(n) * model.power.watts * trainingUtilisation
    }

    /// `x` rounded up to a whole number, clamped so that absurd but accepted inputs (1e40 FLOPs on a
    /// 0.001-TFLOPS part) never trap the conversion.
    public static func wholeUp(_ x: Double) -> Int {
        guard x.isFinite else { return x > 0 ? 1 << 50 : 0 }
        return Int(min(max(x.rounded(.up), -1e15), 1e15))
    }

    /// The fewest accelerators of `model` whose memory holds `bytes` (a workload's memory demand).
    public static func minimumCount(bytes: Double, model: AcceleratorModel) -> Int {
        max(1, wholeUp(bytes / model.memory.bytes))
    }

    /// Inference FLOPs per second the service must sustain: `2·N` per token.
    public static func inferenceFLOPS(_ w: Workload) -> Double {
        2 * w.model.parameters * (w.tokensPerSecond ?? 0)
    }

    /// Size of one training checkpoint: as declared, or 14 bytes per parameter (12–16 in DESIGN.md).
    public static func checkpointSize(_ w: Workload) -> DataSize {
        w.checkpoint?.size ?? .bytes(w.model.parameters * 14)
    }

    /// Bytes per parameter of a federated model update: 32-bit floats, as the coordinator's tensors are.
    public static let updateBytesPerParameter = 4.0

    /// Size of one federated model update (and of the global model sent back): the model's parameters at
    /// ``updateBytesPerParameter``.
    public static func updateSize(_ w: Workload) -> DataSize {
        .bytes(w.model.parameters * updateBytesPerParameter)
    }
}
