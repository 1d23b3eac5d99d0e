public import Foundation

/// What kind of work a workload is.
public enum WorkloadType: String, Sendable, Hashable, Codable, CaseIterable {
    case training
    case fineTuning = "fine-tuning"
    case batchInference = "batch-inference"
    case inference
    case federated

    /// Whether the work holds optimizer state (16 bytes per parameter) rather than just weights.
    public var trains: Bool { self == .training || self == .fineTuning || self == .federated }
}

/// Numeric precision of model weights for inference.
public enum Precision: String, Sendable, Hashable, Codable, CaseIterable {
    case fp32, bf16, fp16, fp8, int8, int4

    /// Bytes per parameter.
    public var bytesPerParameter: Double {
        switch self {
        case .fp32: return 4
        case .bf16, .fp16: return 2
        case .fp8, .int8: return 1
        case .int4: return 0.5
        }
    }
}

/// How much compute a workload needs.
public enum ComputeDemand: Sendable, Hashable {
    /// Tokens to process: training takes `6·N·D` FLOPs, inference `2·N` per token.
    case tokens(Double)
    /// FLOPs outright.
    case flops(Double)
    /// Accelerator-hours on a named accelerator model (as measured elsewhere).
    case acceleratorHours(Double, on: String)
}

/// A workload: training, fine-tuning, inference or federated training.
public struct Workload: Sendable, Hashable {
    /// The model being trained or served.
    public struct Model: Sendable, Hashable {
        /// Parameter count.
        public let parameters: Double
        /// KV cache and activations to reserve on top of weights for inference, when the user knows it.
        public let kvCache: DataSize?
    }

    /// How many accelerators the workload may use at once.
    public struct AcceleratorRange: Sendable, Hashable {
        /// At least this many.
        public let min: Int
        /// At most this many.
        public let max: Int
        /// How well the work scales: twice the accelerators give `2 × scaling` times the throughput, so `n`
        /// give `n × scaling^log2(n)` times one's (1: linear, the default; below 1 for the communication a
        /// wider job spends). Elastic planning (``carbon-elastic``) trades width for carbon with it.
        public var scaling: Double = 1

        /// A range of accelerators, scaling linearly unless `scaling` says otherwise.
        public init(min: Int, max: Int, scaling: Double = 1) {
            self.min = min
            self.max = max
            self.scaling = scaling
        }

        /// What `n` accelerators achieve relative to `n` times one of them: `scaling^log2(n)` (exactly 1 when
        /// the work scales linearly).
        public func efficiency(_ n: Int) -> Double {
            scaling == 1 || n <= 1 ? 1 : Foundation.pow(scaling, Foundation.log2(Double(n)))
        }
    }

    /// How a workload checkpoints.
    public struct Checkpointing: Sendable, Hashable {
        /// Time between checkpoints.
        public let every: TimeSpan
        /// Size of one checkpoint, when known (else 14 bytes per parameter).
        public let size: DataSize?
        /// Copies kept at other sites the checkpoint's residency allows, refreshed every `every`, so work at
        /// a site that goes dark can resume elsewhere (0: none).
        public var replicate: Int = 0
    }

    /// How the control plane starts the workload: as a local process or a Slurm job (`command`), or as a
    /// container in a Kubernetes Job (`image`, with `command` as the container's arguments).
    public struct Run: Sendable, Hashable {
        /// The program and its arguments (no shell). With an ``image``, the container's `args`: the image's
        /// entrypoint runs with them, or, in an image without one, the first is the program. Empty only with an
        /// image, which then runs its own default command.
        public let command: [String]
        /// The OCI image the workload runs in on a Kubernetes site (``ImageReference`` checks it), if any.
        public let image: String?
        /// Environment variables added to the server's own.
        public let environment: [String: String]
        /// How long a pause waits after SIGTERM for a checkpoint before SIGKILL.
        public let gracePeriod: TimeSpan
        /// Attempts before a failing workload is given up (the first start counts).
        public let maxAttempts: Int

        /// Grace period when the spec gives none.
        public static let defaultGracePeriod = TimeSpan.seconds(60)
        /// Attempts when the spec gives none.
        public static let defaultMaxAttempts = 3

        /// Makes a run description.
        public init(
            command: [String],
            image: String? = nil,
            environment: [String: String],
            gracePeriod: TimeSpan,
            maxAttempts: Int
        ) {
            self.command = command
            self.image = image
            self.environment = environment
            self.gracePeriod = gracePeriod
            self.maxAttempts = maxAttempts
        }
    }

    /// The workload's name.
    public let name: String
    /// Free-form labels.
    public let labels: [String: String]
    /// What kind of work it is.
    public let type: WorkloadType
    /// The model.
    public let model: Model
    /// Datasets it reads.
    public internal(set) var datasets: [String]
    /// Compute it needs (training, fine-tuning, batch inference, federated).
    public private(set) var compute: ComputeDemand?
    /// Accelerators it may use at once, when constrained.
    public let accelerators: AcceleratorRange?
    /// Model FLOPs utilisation it achieves (default 0.4).
    public let mfu: Double
    /// How it checkpoints, if at all.
    public let checkpoint: Checkpointing?
    /// Higher runs first.
    public let priority: Int
    /// When it arrives (the scenario's start when not given).
    public private(set) var arrival: Date?
    /// When it must be done, if ever.
    public let deadline: Date?
    /// Whether it may be paused and resumed.
    public let preemptible: Bool
    /// Precisions the operator accepts for inference, best first.
    public let precision: [Precision]
    /// Tokens per second an inference service must sustain.
    public let tokensPerSecond: Double?
    /// Jurisdictions as written whose users an inference service serves.
    public let servedFrom: [String]
    /// Memory the workload needs in all, when the user overrides the physical model.
    public let memory: DataSize?
    /// How the control plane runs it, when it runs as a local process.
    public var run: Run? = nil
    /// How a federated workload trains across its datasets' sites, when the control plane coordinates it.
    public var federation: Federation? = nil
    /// The most restrictive classification of the data it touches beyond its datasets' own (a Kubernetes pod
    /// annotated `sovereign.dev/classification: personal`); policies treat it as they treat a dataset's.
    public var classification: Classification? = nil
    /// The `Model` document naming the model it trains or serves, when the spec names one.
    public var modelName: String? = nil
    /// The `SoftwareComponent` documents it runs on, beyond the sites' own.
    public var software: [String] = []

    /// Bytes per parameter of mixed-precision Adam training state (ZeRO, 2019).
    public static let trainingBytesPerParameter = 16.0
    /// KV cache and activations reserved on top of inference weights when not given: 20 %.
    public static let defaultKVCacheFraction = 0.2

    /// Total memory the workload needs at a precision (for training, precision is ignored).
    public func memoryDemand(at precision: Precision? = nil) -> DataSize {
        if let memory { return memory }
        if type.trains { return .bytes(model.parameters * Self.trainingBytesPerParameter) }
        let weights = model.parameters * (precision ?? self.precision.first ?? .fp16).bytesPerParameter
        return .bytes(weights + (model.kvCache?.bytes ?? weights * Self.defaultKVCacheFraction))
    }

    /// Precisions to consider, best first (fp16 when the spec gives none).
    public var acceptedPrecisions: [Precision] {
        type.trains ? [] : (precision.isEmpty ? [.fp16] : precision)
    }
}

extension Workload {
    /// What a Kubernetes pod that names no declared workload asks of the fleet: the datasets it reads and the
    /// classification of what it touches. It has no model of its own (its resources are kube-scheduler's
    /// business), so only residency and policy rules, power and scoring apply to it.
    ///
    /// - Parameters:
    ///   - name: The pod's `namespace/name`, for explanations.
    ///   - datasets: The datasets it reads.
    ///   - classification: The classification it declares, if any.
    ///   - priority: The pod's priority.
    public static func podConstraint(
        name: String,
        datasets: [String],
        classification: Classification?,
        priority: Int = 0
    ) -> Workload {
        var w = Workload(
            name: name,
            labels: [:],
            type: .batchInference,
            model: Model(parameters: 0, kvCache: .bytes(0)),
            datasets: datasets,
            compute: nil,
            accelerators: nil,
            mfu: 0.4,
            checkpoint: nil,
            priority: priority,
            arrival: nil,
            deadline: nil,
            preemptible: false,
            precision: [],
            tokensPerSecond: nil,
            servedFrom: [],
            memory: .bytes(0)
        )
        w.classification = classification
        return w
    }

    /// The same workload reading more datasets and touching data of at least `floor` (what a pod of the
    /// workload may add by annotation: constraints only ever grow).
    public func adding(datasets extra: [String], classification floor: Classification?) -> Workload {
        var w = self
        w.classification = [classification, floor].compactMap { $0 }.max()
        w.datasets += extra.filter { !datasets.contains($0) }
        return w
    }

    /// The same workload with only `flops` of work left, arriving at `arrival`: what a replan places after
    /// part of the work is done.
    public func remaining(flops: Double, arrival: Date) -> Workload {
        var copy = self
        copy.compute = compute == nil ? nil : .flops(flops)
        copy.arrival = arrival
        return copy
    }

    /// One participant of a federated workload: the same model trained on `dataset` alone, which the filters
    /// then keep at that dataset's site (what each site trains per round).
    public func participant(training dataset: String) -> Workload {
        var copy = self
        copy.datasets = [dataset]
        return copy
    }

    /// The same federated workload with only `rounds` of its rounds left, and the `flops` they need, arriving
    /// at `arrival`: what a replan places after some rounds are done or one failed.
    public func remaining(rounds: Int, flops: Double, arrival: Date) -> Workload {
        var copy = remaining(flops: flops, arrival: arrival)
        copy.federation = federation?.with(rounds: rounds)
        return copy
    }
}
