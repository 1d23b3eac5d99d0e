public import Foundation

/// The step of a federated round a site is asked to take.
public enum FederationPhase: String, Sendable, Hashable, Codable {
    /// Train on the local data and upload the update (rounds without secure aggregation).
    case train
    /// Secure aggregation, phase 0: send two public keys.
    case advertiseKeys = "advertise-keys"
    /// Phase 1: send the encrypted Shamir shares of the key and seed.
    case shareKeys = "share-keys"
    /// Phase 2: train, then upload the masked, quantised update.
    case maskedInput = "masked-input"
    /// Phase 3: reveal the shares that let the coordinator remove the masks of the sum.
    case unmask
}

/// How a site trains: the built-in model (an external trainer must produce the same tensors) and the
/// local training settings of this round.
public struct TrainerSettings: Sendable, Hashable, Codable {
    public var model: BuiltInModel
    public var features: Int
    public var classes: Int
    public var local: LocalTrainingConfiguration

    /// Makes trainer settings.
    public init(model: BuiltInModel, features: Int, classes: Int, local: LocalTrainingConfiguration) {
        self.model = model
        self.features = features
        self.classes = classes
        self.local = local
    }
}

/// What a site needs for a round with secure aggregation: the setup and, phase by phase, what the
/// coordinator routes to it.
public struct SecureRound: Sendable, Hashable, Codable {
    public var setup: SecureAggregation.Setup
    /// Every value of the update vector is clipped to ±clip before it is quantised.
    public var clip: Double
    /// Phase 1's input: everyone's public keys.
    public var directory: SecureAggregation.KeyDirectory?
    /// Phase 2's input: the shares other sites encrypted for this one.
    public var bundle: SecureAggregation.ShareBundle?
    /// Phase 3's input: who survived and who dropped out.
    public var unmask: SecureAggregation.UnmaskRequest?

    /// Makes the secure part of a task.
    public init(
        setup: SecureAggregation.Setup,
        clip: Double,
        directory: SecureAggregation.KeyDirectory? = nil,
        bundle: SecureAggregation.ShareBundle? = nil,
        unmask: SecureAggregation.UnmaskRequest? = nil
    ) {
        self.setup = setup
        self.clip = clip
        self.directory = directory
        self.bundle = bundle
        self.unmask = unmask
    }
}

/// One step a site is asked to take now, answered by `GET /v1/federation/tasks`.
public struct FederationTask: Sendable, Hashable, Codable {
    /// The federated workload.
    public var workload: String
    /// The round (1-based) and the attempt at it (a round that missed its quorum is retried).
    public var round: Int
    public var attempt: Int
    public var phase: FederationPhase
    /// When the coordinator stops waiting for this step (seconds since 1970).
    public var deadline: Double
    /// The dataset this site trains on (it never leaves the site).
    public var dataset: String
    /// SHA-256 (hex) and size of the round's global model, fetched from the model route.
    public var modelSHA256: String
    public var modelBytes: Int
    public var trainer: TrainerSettings
    /// Differential privacy the site applies (clipping; in local mode also noise).
    public var privacy: DifferentialPrivacy?
    /// The most examples the site's update may weigh.
    public var exampleBound: Int
    /// Present when the round uses secure aggregation.
    public var secure: SecureRound?
    /// Largest upload chunk the coordinator accepts, in bytes.
    public var chunkBytes: Int

    /// Makes a task.
    public init(
        workload: String,
        round: Int,
        attempt: Int,
        phase: FederationPhase,
        deadline: Double,
        dataset: String,
        modelSHA256: String,
        modelBytes: Int,
        trainer: TrainerSettings,
        privacy: DifferentialPrivacy?,
        exampleBound: Int,
        secure: SecureRound?,
        chunkBytes: Int
    ) {
        self.workload = workload
        self.round = round
        self.attempt = attempt
        self.phase = phase
        self.deadline = deadline
        self.dataset = dataset
        self.modelSHA256 = modelSHA256
        self.modelBytes = modelBytes
        self.trainer = trainer
        self.privacy = privacy
        self.exampleBound = exampleBound
        self.secure = secure
        self.chunkBytes = chunkBytes
    }
}

/// The answer to a site's poll.
public struct FederationTaskList: Sendable, Hashable, Codable {
    public var tasks: [FederationTask]
    /// Seconds the site should wait before polling again when it has nothing to do.
    public var pollAfter: Double

    /// Makes a task list.
    public init(tasks: [FederationTask], pollAfter: Double) {
        self.tasks = tasks
        self.pollAfter = pollAfter
    }
}

/// Closes an upload: the chunks sent, their total size and SHA-256, so the coordinator can check it
/// received exactly what the site sent.
public struct UpdateCommit: Sendable, Hashable, Codable {
    public var chunks: Int
    public var bytes: Int
    /// SHA-256 of the whole update, lowercase hex.
    public var sha256: String
    /// Examples the site trained on (0 with secure aggregation: the count travels masked in the update).
    public var examples: Int
    /// The update's L2 norm before clipping, when the site clipped it.
    public var preClipNorm: Double?

    /// Makes a commit.
    public init(chunks: Int, bytes: Int, sha256: String, examples: Int, preClipNorm: Double?) {
        self.chunks = chunks
        self.bytes = bytes
        self.sha256 = sha256
        self.examples = examples
        self.preClipNorm = preClipNorm
    }
}

/// The name of the one tensor of a masked secure-aggregation update (a U32 vector).
public let maskedUpdateTensorName = "masked"

extension FederationTask {
    /// The seed of this round's local training at a site: the workload's seed varied by round and attempt,
    /// so minibatch orders differ from round to round yet are reproducible. Both the built-in trainer and
    /// an external one (`SOVEREIGN_FL_SEED`) use it.
    public var trainingSeed: UInt64 {
        trainer.local.seed ^ (UInt64(round) &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(truncatingIfNeeded: attempt)
    }
}
