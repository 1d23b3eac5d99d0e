/// How sensitive a dataset is.
public enum Classification: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case `public`
    case `internal`
    case personal
    case sensitive

    private var rank: Int {
        switch self {
        case .public: return 0
        case .internal: return 1
        case .personal: return 2
        case .sensitive: return 3
        }
    }

    public static func < (lhs: Classification, rhs: Classification) -> Bool { lhs.rank < rhs.rank }
}

/// A dataset: where it lives and where it may be processed.
public struct Dataset: Sendable, Hashable {
    /// The dataset's name.
    public let name: String
    /// Its size.
    public let size: DataSize
    /// The site that holds it.
    public let site: String
    /// The jurisdictions it may be processed in, as written (codes and group names).
    public let residency: [String]
    /// Every country it may be processed in, groups expanded.
    public let residencyCountries: Set<String>
    /// How sensitive it is.
    public let classification: Classification
    /// ISO 3166-1 alpha-2 code of the jurisdiction where its encryption keys are held; `nil` when unknown.
    public var keysHeldIn: String? = nil
    /// How the dataset is made from another inside that one's residency; `nil` for a raw dataset.
    public var derivedFrom: Derivation? = nil

    /// Whether the dataset may be processed in `country`: a hard constraint.
    public func mayBeProcessed(in country: String) -> Bool { residencyCountries.contains(country) }
}

/// Fleet-wide rules.
public struct Policy: Sendable, Hashable {
    /// The policy's name.
    public let name: String
    /// Classifications that may be processed only on sites whose operator (and its parent) is domestic.
    public let domesticOperatorFor: Set<Classification>
    /// Jurisdictions as written, between which federated model updates may move.
    public let updatesMayCross: [String]
    /// Every country updates may move between, groups expanded; `nil` when the policy says nothing.
    public let updatesMayCrossCountries: Set<String>?
    /// Jurisdictions as written, between which a checkpoint may move beyond its datasets' residency.
    public var checkpointsMayCross: [String] = []
    /// Every country checkpoints may move between, groups expanded; `nil` when the policy says nothing.
    public var checkpointsMayCrossCountries: Set<String>? = nil
    /// Whether a checkpoint's ciphertext may pass through a relay outside its residency.
    public var checkpointTransit: CheckpointTransit = .relay
    /// What anonymised derived datasets may do; `nil` when the policy says nothing about them.
    public var anonymised: AnonymisedDataRule? = nil
}

/// How a checkpoint's bytes may travel between two sites.
public enum CheckpointTransit: String, Sendable, Hashable, CaseIterable {
    /// Encrypted end to end to the destination and relayed by the control plane, wherever it is: only
    /// ciphertext passes through the relay's jurisdiction (the default).
    case relay
    /// Not even ciphertext may pass through a jurisdiction outside the checkpoint's residency: when the
    /// control plane is outside it, the destination fetches straight from the source agent.
    case direct
}
