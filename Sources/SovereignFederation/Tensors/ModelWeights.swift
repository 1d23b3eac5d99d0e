/// A model's parameters as named float32 tensors in a fixed order: what the built-in trainer trains, what
/// an agent sends as its update and what the coordinator aggregates into the next global model.
///
/// Order matters: two weights are compatible when they hold the same names with the same shapes in the
/// same order (see ``isCompatible(with:)``).
public struct ModelWeights: Sendable, Hashable {
    /// One named tensor, stored flat in row-major (C) order.
    public struct Tensor: Sendable, Hashable {
        /// The tensor's name, like `dense.weight`.
        public var name: String
        /// Its shape; the product of the dimensions is `values.count`.
        public var shape: [Int]
        /// Its elements in row-major order.
        public var values: [Float]

        /// Makes a tensor.
        /// - Precondition: the product of `shape` equals `values.count`.
        public init(name: String, shape: [Int], values: [Float]) {
            precondition(
                shape.reduce(1, *) == values.count,
                "tensor \(name): shape \(shape) holds \(shape.reduce(1, *)) values, found \(values.count)"
            )
            self.name = name
            self.shape = shape
            self.values = values
        }

        /// A tensor of zeros.
        public init(zeros name: String, shape: [Int]) {
            self.init(name: name, shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)))
        }
    }

    /// The tensors, in order.
    public var tensors: [Tensor]

    /// Makes weights from tensors in order.
    public init(_ tensors: [Tensor]) { self.tensors = tensors }

    /// All parameters in all tensors.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.values.count } }

    /// The tensor named `name`, if any.
    /// - Complexity: O(number of tensors).
    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// Whether `other` has the same names and shapes in the same order.
    public func isCompatible(with other: ModelWeights) -> Bool {
        tensors.count == other.tensors.count
            && zip(tensors, other.tensors).allSatisfy { $0.name == $1.name && $0.shape == $1.shape }
    }
}
