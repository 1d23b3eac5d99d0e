import SovereignFederation

/// A secure-aggregation round in progress: the protocol's coordinator side and the clip the sites
/// quantise with.
struct SecureSession: Sendable {
    /// The protocol's state.
    var coordinator: SecureAggregationCoordinator
    /// Every value of an update is clipped to ±clip before it is quantised.
    let clip: Double

    /// The round's parameters.
    var setup: SecureAggregation.Setup { coordinator.setup }
}
