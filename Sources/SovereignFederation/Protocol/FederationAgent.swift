import Crypto
import Foundation
import SovereignBase

/// How an agent talks to its coordinator: always outbound, so a site behind a firewall never accepts a
/// connection. `sovereign agent` implements it over HTTP; tests may call a coordinator directly.
public protocol FederationTransport: Sendable {
    /// The steps the coordinator asks of this site now.
    func tasks() async throws -> FederationTaskList
    /// The global model of the workload's current round, as safetensors bytes.
    func model(workload: String) async throws -> [UInt8]
    /// Sends chunk `index` (0-based) of this site's update for a round.
    func uploadChunk(workload: String, round: Int, attempt: Int, index: Int, bytes: ArraySlice<UInt8>) async throws
    /// Closes the update once every chunk is sent.
    func commitUpdate(workload: String, round: Int, attempt: Int, _ commit: UpdateCommit) async throws
    /// Sends a secure-aggregation message (keys, shares or unmasking shares).
    func send(_ message: SecureMessage, workload: String, round: Int, attempt: Int) async throws
}

/// A secure-aggregation message from a site (the masked input travels as an upload instead). In JSON:
/// `{"kind": "keys" | "shares" | "unmask", "message": {...}}`.
public enum SecureMessage: Sendable, Hashable, Codable {
    case keys(SecureAggregation.AdvertiseKeys)
    case shares(SecureAggregation.ShareKeys)
    case unmask(SecureAggregation.UnmaskResponse)

    /// The phase the message answers.
    public var phase: FederationPhase {
        switch self {
        case .keys: return .advertiseKeys
        case .shares: return .shareKeys
        case .unmask: return .unmask
        }
    }
}

extension SecureMessage {
    private enum CodingKeys: String, CodingKey { case kind, message }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "keys": self = .keys(try c.decode(SecureAggregation.AdvertiseKeys.self, forKey: .message))
        case "shares": self = .shares(try c.decode(SecureAggregation.ShareKeys.self, forKey: .message))
        case "unmask": self = .unmask(try c.decode(SecureAggregation.UnmaskResponse.self, forKey: .message))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .kind,
                in: c,
                debugDescription: "expected kind keys, shares or unmask, found \"\(other.prefix(40))\""
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .keys(let m):
            try c.encode("keys", forKey: .kind)
            try c.encode(m, forKey: .message)
        case .shares(let m):
            try c.encode("shares", forKey: .kind)
            try c.encode(m, forKey: .message)
        case .unmask(let m):
            try c.encode("unmask", forKey: .kind)
            try c.encode(m, forKey: .message)
        }
    }
}

/// Trains the site's model for one round: the built-in trainer or a site's own script.
public protocol SiteTrainer: Sendable {
    /// Trains from the round's global model on the site's data.
    /// - Returns: the local model (same tensors as `global`) and the examples it trained on.
    func train(global: ModelWeights, task: FederationTask) async throws -> (local: ModelWeights, examples: Int)
}

/// The built-in trainer over data loaded once.
public struct BuiltInSiteTrainer: SiteTrainer {
    public let data: TrainingData

    /// Makes a trainer over the site's data.
    public init(data: TrainingData) { self.data = data }

    public func train(global: ModelWeights, task: FederationTask) async throws -> (local: ModelWeights, examples: Int) {
        let settings = task.trainer
        guard data.featureCount == settings.features else {
            throw FederationError(
                .trainingData,
                "the site's data has \(data.featureCount) features, but workload \(task.workload) trains on \(settings.features)"
            )
        }
        guard data.classCount <= settings.classes else {
            throw FederationError(
                .trainingData,
                "the site's data has labels up to \(data.classCount - 1), but workload \(task.workload) has \(settings.classes) classes"
            )
        }
        var local = settings.local
        local.seed = task.trainingSeed
        let trained = try settings.model.train(from: global, on: data, configuration: local)
        return (trained, data.count)
    }
}

/// A site's agent: it polls its coordinator for steps, trains on data that never leaves the site, and
/// sends back only the model update (clipped, noised and masked as the workload asks).
///
/// Secure-aggregation state lives only in memory: an agent that restarts mid-round sits the round out
/// and rejoins the next one.
public actor FederationAgent {
    public let site: String
    let transport: any FederationTransport
    let trainer: any SiteTrainer
    var random: AnyRandom
    /// Secure-aggregation clients and trained inputs of the rounds in progress.
    var rounds: [RoundKey: RoundState] = [:]
    /// Steps already taken, so a repeated task is not answered twice.
    var done = Set<StepKey>()
    /// What happened, newest last, for the command's output.
    public private(set) var events: [String] = []
    /// Every step this agent completed, oldest first.
    public private(set) var steps: [Step] = []

    /// A step an agent completed.
    public struct Step: Sendable, Hashable {
        public let workload: String
        public let round: Int
        public let attempt: Int
        public let phase: FederationPhase
    }

    struct RoundKey: Hashable {
        let workload: String
        let round: Int
        let attempt: Int
    }

    struct StepKey: Hashable {
        let round: RoundKey
        let phase: FederationPhase
    }

    struct RoundState {
        var client: SecureAggregationClient
    }

    /// Makes an agent.
    /// - Parameter random: key material for secure aggregation and privacy noise; pass
    ///   `SystemRandomNumberGenerator()` in production.
    public init(
        site: String,
        transport: any FederationTransport,
        trainer: any SiteTrainer,
        random: any RandomNumberGenerator & Sendable
    ) {
        self.site = site
        self.transport = transport
        self.trainer = trainer
        self.random = AnyRandom(base: random)
    }

    /// Polls once and takes every step asked of this site.
    ///
    /// - Returns: the seconds to wait before the next poll (0 when a step was taken).
    /// - Throws: transport errors, after which the step is tried again at the next poll; a step that fails
    ///   with a ``FederationError`` is recorded in ``events``, not retried, and the others go on.
    public func pollOnce() async throws -> Double {
        let list = try await transport.tasks()
        var acted = false
        for task in list.tasks {
            let key = StepKey(
                round: RoundKey(workload: task.workload, round: task.round, attempt: task.attempt),
                phase: task.phase
            )
            if done.contains(key) { continue }
            do {
                try await take(task, key: key.round)
                done.insert(key)
                steps.append(Step(workload: task.workload, round: task.round, attempt: task.attempt, phase: task.phase))
                acted = true
            } catch let error as FederationError {
                // The step cannot succeed as asked (a refused update, a forged message): it is not retried.
                done.insert(key)
                events.append("\(task.workload) round \(task.round): \(task.phase.rawValue) failed: \(error)")
            }
        }
        // Forget the state of rounds the coordinator has moved past (between phases a round may have no task).
        let current = Dictionary(
            list.tasks.map { ($0.workload, RoundKey(workload: $0.workload, round: $0.round, attempt: $0.attempt)) },
            uniquingKeysWith: { a, _ in a }
        )
        rounds = rounds.filter { key, _ in current[key.workload].map { $0 == key } ?? true }
        done = done.filter { step in current[step.round.workload].map { $0 == step.round } ?? true }
        return acted ? 0 : list.pollAfter
    }

    private func take(_ task: FederationTask, key: RoundKey) async throws {
        switch task.phase {
        case .train:
            let (update, examples, norm) = try await trainedDelta(task)
            let bytes = try Safetensors.encode(update, metadata: ["examples": "\(examples)"])
            try await upload(bytes, task: task, examples: examples, preClipNorm: norm)
            events.append(
                "\(task.workload) round \(task.round): sent an update of \(bytes.count) bytes (\(examples) examples)"
            )
        case .advertiseKeys:
            guard let secure = task.secure else { throw Self.missing("secure", in: task) }
            var client = try SecureAggregationClient(site: site, setup: secure.setup)
            let message = try client.advertiseKeys(using: &random)
            rounds[key] = RoundState(client: client)
            try await transport.send(.keys(message), workload: task.workload, round: task.round, attempt: task.attempt)
        case .shareKeys:
            guard let directory = task.secure?.directory else { throw Self.missing("secure.directory", in: task) }
            guard var state = rounds[key] else { throw Self.notStarted(task) }
            let message = try state.client.shareKeys(directory, using: &random)
            rounds[key] = state
            try await transport.send(
                .shares(message),
                workload: task.workload,
                round: task.round,
                attempt: task.attempt
            )
        case .maskedInput:
            guard let secure = task.secure, let bundle = secure.bundle else {
                throw Self.missing("secure.bundle", in: task)
            }
            guard var state = rounds[key] else { throw Self.notStarted(task) }
            let (update, examples, norm) = try await trainedDelta(task)
            let vector = Self.weightedVector(update, examples: examples, bound: task.exampleBound, clip: secure.clip)
            guard vector.count == secure.setup.vectorLength else {
                throw FederationError(
                    .secureAggregation,
                    "expected an update of \(secure.setup.vectorLength - 1) values for \(task.workload), found \(vector.count - 1)"
                )
            }
            let quantisation = try Quantisation(clip: secure.clip, sites: secure.setup.sites.count)
            let masked = try state.client.maskedInput(bundle, input: quantisation.quantise(vector))
            rounds[key] = state
            let tensor = try SafetensorsTensor(
                name: maskedUpdateTensorName,
                shape: [masked.maskedVector.count],
                uint32: masked.maskedVector
            )
            let bytes = try Safetensors.encode([tensor], metadata: ["session": secure.setup.session])
            try await upload(bytes, task: task, examples: 0, preClipNorm: norm)
            events.append("\(task.workload) round \(task.round): sent a masked update of \(bytes.count) bytes")
        case .unmask:
            guard let request = task.secure?.unmask else { throw Self.missing("secure.unmask", in: task) }
            guard var state = rounds[key] else { throw Self.notStarted(task) }
            let message = try state.client.unmask(request)
            rounds[key] = state
            try await transport.send(
                .unmask(message),
                workload: task.workload,
                round: task.round,
                attempt: task.attempt
            )
        }
    }

    /// Fetches and checks the round's global model, trains, and returns the privatised update.
    private func trainedDelta(_ task: FederationTask) async throws -> (ModelWeights, Int, Double?) {
        let bytes = try await transport.model(workload: task.workload)
        let digest = Hex.encode(SHA256.hash(data: bytes))
        guard digest == task.modelSHA256, bytes.count == task.modelBytes else {
            throw FederationError(
                .io,
                "expected the global model of \(task.workload) round \(task.round) with SHA-256 \(task.modelSHA256) "
                    + "(\(task.modelBytes) bytes), found \(digest) (\(bytes.count) bytes)"
            )
        }
        let global = try SafetensorsFile(bytes: bytes).modelWeights()
        try task.trainer.model.validate(global, features: task.trainer.features, classes: task.trainer.classes)
        let (local, examples) = try await trainer.train(global: global, task: task)
        guard local.isCompatible(with: global) else {
            throw FederationError(.incompatibleUpdate, "the trained model's tensors differ from the global model's")
        }
        var delta = global
        for t in delta.tensors.indices {
            let g = global.tensors[t].values
            let l = local.tensors[t].values
            delta.tensors[t].values = (0..<g.count).map { l[$0] - g[$0] }
        }
        var norm: Double?
        if let privacy = task.privacy { norm = privacy.privatiseUpdate(&delta, using: &random) }
        return (delta, examples, norm)
    }

    /// `Δ·w ++ [w·clip]` with `w = min(examples, bound) / bound`: the weighted update and its weight in one
    /// vector, so the masked sum carries both Σ wᵢΔᵢ and Σ wᵢ.
    static func weightedVector(_ delta: ModelWeights, examples: Int, bound: Int, clip: Double) -> [Float] {
        let w = Float(min(examples, bound)) / Float(bound)
        var vector: [Float] = []
        vector.reserveCapacity(delta.parameterCount + 1)
        for tensor in delta.tensors { vector.append(contentsOf: tensor.values.lazy.map { $0 * w }) }
        vector.append(w * Float(clip))
        return vector
    }

    private func upload(_ bytes: [UInt8], task: FederationTask, examples: Int, preClipNorm: Double?) async throws {
        let chunk = max(1, task.chunkBytes)
        var index = 0
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + chunk)
            try await transport.uploadChunk(
                workload: task.workload,
                round: task.round,
                attempt: task.attempt,
                index: index,
                bytes: bytes[offset..<end]
            )
            index += 1
            offset = end
        } while offset < bytes.count
        let digest = Hex.encode(SHA256.hash(data: bytes))
        try await transport.commitUpdate(
            workload: task.workload,
            round: task.round,
            attempt: task.attempt,
            UpdateCommit(
                chunks: index,
                bytes: bytes.count,
                sha256: digest,
                examples: examples,
                preClipNorm: preClipNorm
            )
        )
    }

    static func missing(_ field: String, in task: FederationTask) -> FederationError {
        FederationError(
            .secureAggregation,
            "task \(task.phase.rawValue) of \(task.workload): expected field \(field), found none"
        )
    }

    static func notStarted(_ task: FederationTask) -> FederationError {
        FederationError(
            .secureAggregation,
            "\(task.workload) round \(task.round): expected this agent to have advertised keys for the round, "
                + "found no state (it restarted mid-round); it rejoins the next round"
        )
    }
}

/// A generator of any type behind one concrete type, for APIs that take `inout some RandomNumberGenerator`.
struct AnyRandom: RandomNumberGenerator, Sendable {
    var base: any RandomNumberGenerator & Sendable
    mutating func next() -> UInt64 { base.next() }
}
