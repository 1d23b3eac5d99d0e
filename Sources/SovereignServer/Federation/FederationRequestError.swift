/// A site's request the federation coordinator refuses: what kind of refusal, why, and the field at fault.
/// The HTTP layer chooses the status (``API`` in `API+Federation.swift`).
public struct FederationRequestError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of refusal this is; stable, for callers and tests.
    public enum Code: String, Sendable, Hashable {
        /// No federated workload (or no model) by that name.
        case unknownWorkload = "unknown-workload"
        /// The site does not take part in the workload.
        case notParticipant = "not-participant"
        /// A message signed for one site but naming another.
        case wrongSite = "wrong-site"
        /// A message for another round, attempt, phase or chunk than the coordinator expects now.
        case outOfTurn = "out-of-turn"
        /// An update larger than the model allows.
        case tooLarge = "too-large"
        /// An update whose size, digest, format or contents are wrong.
        case invalidUpdate = "invalid-update"
    }

    /// What kind of refusal this is.
    public let code: Code
    /// What was expected and what was found.
    public let message: String
    /// The field of the request at fault, if one is.
    public let field: String?

    init(_ code: Code, _ message: String, field: String?) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }
}
