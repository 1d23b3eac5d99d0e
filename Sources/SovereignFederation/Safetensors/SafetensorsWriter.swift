import SovereignBase

/// A tensor to write: a name, a dtype, a shape and its raw little-endian bytes.
public struct SafetensorsTensor: Sendable, Hashable {
    /// The tensor's name.
    public let name: String
    /// The element type.
    public let dtype: SafetensorsDType
    /// The shape.
    public let shape: [Int]
    /// The elements' little-endian bytes, product(shape) × dtype size of them.
    public let data: [UInt8]

    /// Makes a tensor from raw bytes.
    /// - Parameters:
    ///   - name: The tensor's name.
    ///   - dtype: The element type.
    ///   - shape: The shape (non-negative dimensions).
    ///   - data: The little-endian element bytes.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if a dimension is negative, the product overflows, or
    ///   `data` holds another number of bytes.
    public init(name: String, dtype: SafetensorsDType, shape: [Int], data: [UInt8]) throws {
        let expected = try Self.byteCount(name: name, dtype: dtype, shape: shape)
        guard data.count == expected else {
            throw FederationError(
                .invalidConfiguration,
                "tensor \(name): expected \(expected) bytes for \(dtype.rawValue) \(shape), found \(data.count)"
            )
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// Makes an F32 tensor.
    /// - Parameters:
    ///   - name: The tensor's name.
    ///   - shape: The shape.
    ///   - floats: The elements in row-major order.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if the shape does not hold `floats.count` elements.
    public init(name: String, shape: [Int], floats: [Float]) throws {
        try self.init(name: name, dtype: .f32, shape: shape, data: Self.littleEndianBytes(floats.map(\.bitPattern)))
    }

    /// Makes a floating-point tensor of `dtype` from `Float`s: F32 as is, F64 exactly, F16 and BF16 rounded to
    /// nearest even (overflow to infinity, NaN kept NaN).
    /// - Parameters:
    ///   - name: The tensor's name.
    ///   - shape: The shape.
    ///   - floats: The elements in row-major order.
    ///   - dtype: F32, F64, F16 or BF16.
    /// - Throws: ``FederationError`` `.invalidConfiguration` for another dtype or a shape that does not hold
    ///   `floats.count` elements.
    public init(name: String, shape: [Int], floats: [Float], as dtype: SafetensorsDType) throws {
        let data: [UInt8]
        switch dtype {
        case .f32: data = Self.littleEndianBytes(floats.map(\.bitPattern))
        case .f64: data = Self.littleEndianBytes(floats.map { Double($0).bitPattern })
        case .f16: data = Self.littleEndianBytes(floats.map(FloatConversion.half(from:)))
        case .bf16: data = Self.littleEndianBytes(floats.map(FloatConversion.bfloat16(from:)))
        default:
            throw FederationError(
                .invalidConfiguration,
                "tensor \(name): expected F32, F64, F16 or BF16 to write floats as, found \(dtype.rawValue)"
            )
        }
        try self.init(name: name, dtype: dtype, shape: shape, data: data)
    }

    /// Makes a U32 tensor.
    /// - Parameters:
    ///   - name: The tensor's name.
    ///   - shape: The shape.
    ///   - uint32: The elements in row-major order.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if the shape does not hold `uint32.count` elements.
    public init(name: String, shape: [Int], uint32: [UInt32]) throws {
        try self.init(name: name, dtype: .u32, shape: shape, data: Self.littleEndianBytes(uint32))
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: values.count * MemoryLayout<T>.size) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (i, value) in values.enumerated() {
                raw.storeBytes(of: value.littleEndian, toByteOffset: i * MemoryLayout<T>.size, as: T.self)
            }
            initialized = values.count * MemoryLayout<T>.size
        }
    }

    static func byteCount(name: String, dtype: SafetensorsDType, shape: [Int]) throws -> Int {
        var elements = 1
        for dimension in shape {
            guard dimension >= 0 else {
                throw FederationError(.invalidConfiguration, "tensor \(name): expected dimensions ≥ 0, found \(shape)")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw FederationError(.invalidConfiguration, "tensor \(name): shape \(shape) overflows")
            }
            elements = product
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw FederationError(.invalidConfiguration, "tensor \(name): shape \(shape) overflows")
        }
        return bytes
    }
}

/// Writes safetensors files that the reference implementation (Python's `safetensors`) reads, and that it
/// would write byte for byte (with ``Order/reference``).
///
/// The header is compact JSON: `__metadata__` first (keys sorted), then each tensor as
/// `{"dtype":…,"shape":[…],"data_offsets":[b,e]}`, padded with spaces to a multiple of 8 bytes so the data
/// section starts 8-byte aligned.
public enum Safetensors: Sendable {
    /// How tensors are laid out in the file.
    public enum Order: Sendable, Hashable {
        /// As the reference writer does: by descending dtype alignment, then by name, so every tensor is
        /// aligned to its element size. Byte-identical to Python's `safetensors.numpy.save`.
        case reference
        /// In the order given (a model's order survives a round trip through ``SafetensorsFile/modelWeights(matching:)``).
        case asGiven
    }

    /// Encodes weights as F32 tensors in their order.
    /// - Parameters:
    ///   - weights: The tensors.
    ///   - metadata: The `__metadata__` strings (omitted when empty).
    /// - Returns: The file's bytes.
    /// - Throws: ``FederationError`` `.invalidConfiguration` for duplicate tensor names.
    /// - Complexity: O(parameters).
    public static func encode(_ weights: ModelWeights, metadata: [String: String] = [:]) throws -> [UInt8] {
        let views = weights.tensors.map { TensorView(weights: $0) }
        return try encode(views, metadata: metadata, order: .asGiven)
    }

    /// Writes weights as F32 tensors in their order to `path`, atomically: a temporary file in the same
    /// directory is written, synced and renamed over `path`.
    /// - Parameters:
    ///   - weights: The tensors.
    ///   - metadata: The `__metadata__` strings (omitted when empty).
    ///   - path: Where to write.
    /// - Throws: ``FederationError`` `.io` if writing fails, `.invalidConfiguration` for duplicate tensor names.
    public static func write(_ weights: ModelWeights, metadata: [String: String] = [:], to path: String) throws {
        let views = weights.tensors.map { TensorView(weights: $0) }
        try write(views, metadata: metadata, order: .asGiven, to: path)
    }

    /// Encodes tensors of any dtype.
    /// - Parameters:
    ///   - tensors: The tensors (names must be unique).
    ///   - metadata: The `__metadata__` strings (omitted when empty).
    ///   - order: How to lay them out.
    /// - Returns: The file's bytes.
    /// - Throws: ``FederationError`` `.invalidConfiguration` for duplicate tensor names.
    public static func encode(
        _ tensors: [SafetensorsTensor],
        metadata: [String: String] = [:],
        order: Order = .reference
    ) throws -> [UInt8] {
        try encode(tensors.map { TensorView(raw: $0) }, metadata: metadata, order: order)
    }

    /// Writes tensors of any dtype to `path` atomically (temporary file, fsync, rename).
    /// - Parameters:
    ///   - tensors: The tensors (names must be unique).
    ///   - metadata: The `__metadata__` strings (omitted when empty).
    ///   - order: How to lay them out.
    ///   - path: Where to write.
    /// - Throws: ``FederationError`` `.io` if writing fails, `.invalidConfiguration` for duplicate tensor names.
    public static func write(
        _ tensors: [SafetensorsTensor],
        metadata: [String: String] = [:],
        order: Order = .reference,
        to path: String
    ) throws {
        try write(tensors.map { TensorView(raw: $0) }, metadata: metadata, order: order, to: path)
    }

    // MARK: - Implementation

    /// A tensor's description and a way to reach its bytes without copying them first.
    struct TensorView {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var byteCount: Int
        var withBytes: (_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

        init(weights tensor: ModelWeights.Tensor) {
            name = tensor.name
            dtype = .f32
            shape = tensor.shape
            byteCount = tensor.values.count * 4
            let values = tensor.values
            withBytes = { body in
                #if _endian(big)
                try SafetensorsTensor.littleEndianBytes(values.map(\.bitPattern)).withUnsafeBytes(body)
                #else
                try values.withUnsafeBytes(body)
                #endif
            }
        }

        init(raw tensor: SafetensorsTensor) {
            name = tensor.name
            dtype = tensor.dtype
            shape = tensor.shape
            byteCount = tensor.data.count
            let data = tensor.data
            withBytes = { body in try data.withUnsafeBytes(body) }
        }
    }

    static func layout(_ tensors: [TensorView], order: Order) throws -> [TensorView] {
        var seen: Set<String> = []
        for tensor in tensors where !seen.insert(tensor.name).inserted {
            throw FederationError(
                .invalidConfiguration,
                "safetensors: expected unique tensor names, found \(tensor.name) twice"
            )
        }
        if tensors.contains(where: { $0.name == "__metadata__" }) {
            throw FederationError(.invalidConfiguration, "safetensors: a tensor may not be named __metadata__")
        }
        switch order {
        case .asGiven:
            return tensors
        case .reference:
            // Descending alignment, then name by UTF-8 bytes (Rust's string order).
            return tensors.sorted { left, right in
                if left.dtype.alignmentRank != right.dtype.alignmentRank {
                    return left.dtype.alignmentRank > right.dtype.alignmentRank
                }
                return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
            }
        }
    }

    /// The 8-byte length and the padded header for tensors already in file order.
    static func header(_ tensors: [TensorView], metadata: [String: String]) -> [UInt8] {
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            json += keys.map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for tensor in tensors {
            if !first { json += "," }
            first = false
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            json += "\(jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
            json += "\"data_offsets\":[\(offset),\(offset + tensor.byteCount)]}"
            offset += tensor.byteCount
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(0x20, count: (8 - header.count % 8) % 8))
        return SafetensorsTensor.littleEndianBytes([UInt64(header.count)]) + header
    }

    /// A JSON string literal as serde_json writes it: `"` and `\` escaped, control characters as `\n`, `\t`, ...
    /// or `\u00xx`, everything else (non-ASCII included) as is.
    static func jsonString(_ string: String) -> String { JSONString.quoted(string, escapes: .allNamed) }

    static func encode(_ tensors: [TensorView], metadata: [String: String], order: Order) throws -> [UInt8] {
        let ordered = try layout(tensors, order: order)
        var bytes = header(ordered, metadata: metadata)
        bytes.reserveCapacity(bytes.count + ordered.reduce(0) { $0 + $1.byteCount })
        for tensor in ordered { try tensor.withBytes { bytes.append(contentsOf: $0) } }
        return bytes
    }

    static func write(_ tensors: [TensorView], metadata: [String: String], order: Order, to path: String) throws {
        let ordered = try layout(tensors, order: order)
        let header = header(ordered, metadata: metadata)
        do {
            try POSIX.writeAtomically(to: path, mode: 0o600) { sink in
                try header.withUnsafeBytes { try sink($0) }
                for tensor in ordered { try tensor.withBytes { try sink($0) } }
            }
        } catch let error as FileWriteError {
            throw FederationError(.io, "\(error.path): cannot write: \(error.reason)")
        }
    }
}
