/// How a federated workload trains: which site coordinates, how many rounds, how updates are combined,
/// protected and trained. Each dataset of the workload is one participant, trained at the site that holds
/// it; only model updates move, to the coordinator.
public struct Federation: Sendable, Hashable {
    /// How the coordinator combines the sites' updates.
    public enum Strategy: Sendable, Hashable {
        /// Weighted mean of the updates by example count (McMahan et al. 2017).
        case fedAvg
        /// FedAvg on the server; the sites add the proximal term μ/2·‖w − w_global‖² (Li et al. 2020).
        case fedProx(mu: Double)
        /// FedAvg with server momentum (Hsu et al. 2019).
        case fedAvgM(serverLearningRate: Double, momentum: Double)
        /// Adam on the server over the mean update (Reddi et al. 2021).
        case fedAdam(serverLearningRate: Double, beta1: Double, beta2: Double, tau: Double)
        /// Coordinate-wise median.
        case fedMedian
        /// Coordinate-wise mean after dropping the `beta` fraction largest and smallest values.
        case trimmedMean(beta: Double)
        /// Krum (`keep` 1) or Multi-Krum: the mean of the `keep` updates closest to their neighbours,
        /// tolerating `byzantine` bad updates.
        case krum(byzantine: Int, keep: Int)

        /// The strategy's name in specs.
        public var name: String {
            switch self {
            case .fedAvg: return "fedavg"
            case .fedProx: return "fedprox"
            case .fedAvgM: return "fedavgm"
            case .fedAdam: return "fedadam"
            case .fedMedian: return "fedmedian"
            case .trimmedMean: return "trimmed-mean"
            case .krum: return "krum"
            }
        }

        /// Whether the strategy needs only the sum of the updates, so secure aggregation can hide them.
        public var needsOnlyTheSum: Bool {
            switch self {
            case .fedAvg, .fedProx, .fedAvgM, .fedAdam: return true
            case .fedMedian, .trimmedMean, .krum: return false
            }
        }

        /// The proximal μ the sites use (0 unless FedProx).
        public var proximalMu: Double {
            if case .fedProx(let mu) = self { return mu }
            return 0
        }
    }

    /// The model the sites train with the built-in trainer.
    public enum TrainerModel: Sendable, Hashable {
        /// Multinomial logistic regression.
        case logisticRegression
        /// One hidden ReLU layer of `hidden` units.
        case mlp(hidden: Int)
    }

    /// What each site trains and how.
    public struct Trainer: Sendable, Hashable {
        /// The built-in model (an external trainer must produce the same tensors).
        public let model: TrainerModel
        /// Input features per example.
        public let features: Int
        /// Classes (labels are 0..<classes).
        public let classes: Int
        /// Local passes over the site's data per round.
        public let epochs: Int
        /// Examples per step.
        public let batchSize: Int
        /// Step size.
        public let learningRate: Double
        /// SGD momentum.
        public let momentum: Double
        /// Every feature is divided by this before training (1: as is).
        public let featureScale: Double

        /// Makes a trainer description.
        public init(
            model: TrainerModel,
            features: Int,
            classes: Int,
            epochs: Int,
            batchSize: Int,
            learningRate: Double,
            momentum: Double,
            featureScale: Double
        ) {
            self.model = model
            self.features = features
            self.classes = classes
            self.epochs = epochs
            self.batchSize = batchSize
            self.learningRate = learningRate
            self.momentum = momentum
            self.featureScale = featureScale
        }
    }

    /// Secure aggregation (Bonawitz et al. 2017): the coordinator sees only the sum of the updates.
    public struct SecureAggregation: Sendable, Hashable {
        /// Shares needed to recover a dropped site's masks; at most `sites − threshold` sites may drop out.
        public let threshold: Int
        /// Every update value is clipped to ±clip before it is quantised.
        public let clip: Double

        /// Makes secure-aggregation settings.
        public init(threshold: Int, clip: Double) {
            self.threshold = threshold
            self.clip = clip
        }
    }

    /// Differential privacy for the updates.
    public struct Privacy: Sendable, Hashable {
        /// Where the noise is added.
        public enum Mode: String, Sendable, Hashable, CaseIterable {
            /// The coordinator noises the sum (the sites clip).
            case central
            /// Each site noises its own update.
            case local
        }

        public let mode: Mode
        /// L2 norm every site's update is clipped to.
        public let clipNorm: Double
        /// Noise standard deviation as a multiple of the clip norm.
        public let noiseMultiplier: Double
        /// The δ of the (ε, δ) guarantee reported after each round.
        public let delta: Double

        /// Makes privacy settings.
        public init(mode: Mode, clipNorm: Double, noiseMultiplier: Double, delta: Double) {
            self.mode = mode
            self.clipNorm = clipNorm
            self.noiseMultiplier = noiseMultiplier
            self.delta = delta
        }
    }

    /// The site whose server aggregates (its jurisdiction is where updates travel to).
    public let coordinator: String
    /// Rounds to train.
    public let rounds: Int
    /// Fewest sites a round may aggregate (the quorum); fewer at the deadline retries the round.
    public let minSites: Int
    /// How long a round waits for its sites.
    public let roundTimeout: TimeSpan
    /// Times a round that misses its quorum is retried before the workload fails.
    public let retries: Int
    public let strategy: Strategy
    /// What the sites train with the built-in trainer; `nil` when the workload is only planned and simulated
    /// (the control plane coordinates rounds only with a trainer).
    public let trainer: Trainer?
    public let secureAggregation: SecureAggregation?
    public let privacy: Privacy?
    /// The most examples one site's update may weigh: a site with more counts this many. It bounds each
    /// site's influence, which differential privacy's noise and secure aggregation's quantisation rely on.
    public let exampleBound: Int

    /// Defaults when the spec gives none.
    public static let defaultRoundTimeout = TimeSpan.seconds(300)
    public static let defaultRetries = 3
    public static let defaultExampleBound = 100_000

    /// Makes a federation description.
    public init(
        coordinator: String,
        rounds: Int,
        minSites: Int,
        roundTimeout: TimeSpan,
        retries: Int,
        strategy: Strategy,
        trainer: Trainer?,
        secureAggregation: SecureAggregation?,
        privacy: Privacy?,
        exampleBound: Int = Federation.defaultExampleBound
    ) {
        self.coordinator = coordinator
        self.rounds = rounds
        self.minSites = minSites
        self.roundTimeout = roundTimeout
        self.retries = retries
        self.strategy = strategy
        self.trainer = trainer
        self.secureAggregation = secureAggregation
        self.privacy = privacy
        self.exampleBound = exampleBound
    }

    /// The same federation with `rounds` rounds to train (what is left of it after a replan).
    public func with(rounds: Int) -> Federation {
        Federation(
            coordinator: coordinator,
            rounds: rounds,
            minSites: minSites,
            roundTimeout: roundTimeout,
            retries: retries,
            strategy: strategy,
            trainer: trainer,
            secureAggregation: secureAggregation,
            privacy: privacy,
            exampleBound: exampleBound
        )
    }
}
