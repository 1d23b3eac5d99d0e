/// The server optimizer's state carried from round to round: FedAvgM's velocity, FedAdam's first and second
/// moments, and how many steps were taken. Empty (all `nil`) before the first round; the moments start at
/// zero.
///
/// Persist it between rounds with ``encoded()`` and ``init(safetensors:matching:)`` (a safetensors file holding
/// `m/<tensor>` and `v/<tensor>` F32 tensors and the round in its metadata).
public struct ServerOptimizerState: Sendable, Hashable {
    /// Server-optimizer steps taken so far.
    public var round: Int
    /// FedAvgM's velocity v, or FedAdam's first moment m; `nil` means zeros.
    public var firstMoment: ModelWeights?
    /// FedAdam's second moment v; `nil` means zeros.
    public var secondMoment: ModelWeights?

    /// The state before the first round.
    public init() {
        round = 0
        firstMoment = nil
        secondMoment = nil
    }

    /// The `format` metadata value of an encoded state.
    static let format = "sovereign-server-optimizer"

    /// The state as safetensors bytes: `m/<name>` and `v/<name>` F32 tensors (those present) in model order,
    /// metadata `format` and `round`.
    /// - Returns: The file's bytes.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if the moments repeat a tensor name.
    public func encoded() throws -> [UInt8] {
        var tensors: [ModelWeights.Tensor] = []
        for tensor in firstMoment?.tensors ?? [] {
            tensors.append(.init(name: "m/" + tensor.name, shape: tensor.shape, values: tensor.values))
        }
        for tensor in secondMoment?.tensors ?? [] {
            tensors.append(.init(name: "v/" + tensor.name, shape: tensor.shape, values: tensor.values))
        }
        return try Safetensors.encode(ModelWeights(tensors), metadata: ["format": Self.format, "round": String(round)])
    }

    /// Reads a state written by ``encoded()`` and checks it against the model.
    /// - Parameters:
    ///   - file: The encoded state.
    ///   - model: The global model the moments must match (names and shapes).
    /// - Throws: ``FederationError`` `.malformedSafetensors` if the metadata is missing or wrong,
    ///   `.incompatibleUpdate` if a moment is partial or does not match the model.
    public init(safetensors file: SafetensorsFile, matching model: ModelWeights) throws {
        guard file.metadata["format"] == Self.format else {
            throw FederationError(
                .malformedSafetensors,
                "\(file.source): expected metadata format \"\(Self.format)\", found \(file.metadata["format"].map { "\"\($0)\"" } ?? "none")"
            )
        }
        guard let roundText = file.metadata["round"], let round = Int(roundText), round >= 0 else {
            throw FederationError(
                .malformedSafetensors,
                "\(file.source): expected metadata round to be an integer ≥ 0, found \(file.metadata["round"] ?? "none")"
            )
        }
        func moment(_ prefix: String) throws -> ModelWeights? {
            let present = file.tensors.filter { $0.name.hasPrefix(prefix) }
            guard !present.isEmpty else { return nil }
            return ModelWeights(
                try model.tensors.map { tensor in
                    guard let info = file[prefix + tensor.name] else {
                        throw FederationError(
                            .incompatibleUpdate,
                            "\(file.source): expected tensor \(prefix + tensor.name), found none"
                        )
                    }
                    guard info.shape == tensor.shape else {
                        throw FederationError(
                            .incompatibleUpdate,
                            "\(file.source): tensor \(info.name): expected shape \(tensor.shape), found \(info.shape)"
                        )
                    }
                    return .init(name: tensor.name, shape: tensor.shape, values: try file.floats(info))
                }
            )
        }
        let first = try moment("m/")
        let second = try moment("v/")
        let expected = (first == nil ? 0 : model.tensors.count) + (second == nil ? 0 : model.tensors.count)
        guard file.tensors.count == expected else {
            throw FederationError(
                .incompatibleUpdate,
                "\(file.source): expected \(expected) moment tensors for the model, found \(file.tensors.count)"
            )
        }
        self.round = round
        self.firstMoment = first
        self.secondMoment = second
    }

    /// A stored moment checked against the model, or zeros.
    func moment(_ stored: ModelWeights?, named: String, for model: ModelWeights) throws -> ModelWeights {
        guard let stored else { return ModelWeights(model.tensors.map { .init(zeros: $0.name, shape: $0.shape) }) }
        guard stored.isCompatible(with: model) else {
            throw FederationError(
                .incompatibleUpdate,
                "server optimizer state: \(named): expected the model's tensors, found "
                    + AggregationStrategy.mismatch(stored, model)
            )
        }
        return stored
    }
}
