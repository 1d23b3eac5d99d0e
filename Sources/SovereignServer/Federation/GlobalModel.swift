import Crypto
import SovereignBase
import SovereignFederation

/// A federated workload's current global model: its weights, the safetensors bytes sites download, their
/// SHA-256, and the server optimizer's state that produced it.
struct GlobalModel: Sendable {
    /// The weights.
    let weights: ModelWeights
    /// The weights as safetensors, tagged with the workload and the round that made them.
    let bytes: [UInt8]
    /// Lowercase hex SHA-256 of ``bytes``.
    let sha256: String
    /// The server optimizer's state (momentum, Adam moments) after the round that made the model.
    var optimizer: ServerOptimizerState

    /// Encodes `weights` as the model of `round` (0 for the initial model).
    ///
    /// - Throws: ``FederationError`` when the weights cannot be encoded.
    init(weights: ModelWeights, workload: String, round: Int, optimizer: ServerOptimizerState) throws {
        self.weights = weights
        bytes = try Safetensors.encode(weights, metadata: ["workload": workload, "round": "\(round)"])
        sha256 = Hex.encode(SHA256.hash(data: bytes))
        self.optimizer = optimizer
    }
}
