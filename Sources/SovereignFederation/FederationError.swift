/// An error from federated learning: a malformed safetensors file or update, an update that does not
/// fit the model, a protocol message out of turn, a failed secure-aggregation step.
///
/// The `description` says where (a byte offset, a tensor name, a message field), what was expected and
/// what was found, like `update.safetensors: header: tensor dense.weight: expected data_offsets inside
/// the 4096-byte data section, found [0, 8192]`.
public struct FederationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of problem this is; stable, for callers and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String

        /// Bytes that are not a valid safetensors file.
        public static let malformedSafetensors = Code(name: "malformed-safetensors")
        /// An update whose tensors do not match the model's names, shapes or dtypes.
        public static let incompatibleUpdate = Code(name: "incompatible-update")
        /// A configuration value outside its domain (a negative μ, β ≥ 0.5, too few updates for Krum).
        public static let invalidConfiguration = Code(name: "invalid-configuration")
        /// A secure-aggregation message that is missing, forged, duplicated or out of turn.
        public static let secureAggregation = Code(name: "secure-aggregation")
        /// Training data that cannot be read or used.
        public static let trainingData = Code(name: "training-data")
        /// A file that could not be opened, mapped, read or written.
        public static let io = Code(name: "io")
        /// The coordinator refused a site's request (an HTTP 4xx answer): retrying the same will not help.
        public static let refused = Code(name: "refused")

        /// The code's stable name, like `malformed-safetensors`.
        public var description: String { name }
    }

    /// What kind of problem this is.
    public let code: Code
    /// The human message: where, what was expected and what was found.
    public let message: String

    /// Makes an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
