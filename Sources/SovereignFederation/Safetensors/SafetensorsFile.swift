#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A validated safetensors file whose tensor bytes are read in place, without copying.
///
/// Opened from a path, the file is memory-mapped read-only (`PROT_READ`, `MAP_PRIVATE`) and unmapped when
/// the last reference goes away; made from bytes, it owns one copy of them. Either way the header is parsed
/// and every rule of the format is checked before the initializer returns (see ``init(bytes:source:)``), so
/// every byte range in ``tensors`` lies inside the data section.
///
/// Instances are immutable, so they are safe to share between tasks. A mapped file must not be truncated
/// while it is open (reading a vanished page raises SIGBUS): replace files by renaming over them, as
/// ``Safetensors/write(_:metadata:to:)`` does; an open mapping keeps reading the old contents. Data is read
/// as little-endian on little-endian hosts (every platform Sovereign targets).
public final class SafetensorsFile: @unchecked Sendable {
    // Safety of @unchecked Sendable: every stored property is a `let`, the mapping is read-only and is only
    // released in deinit, when no other reference exists.
    private let base: UnsafeRawPointer?
    private let count: Int
    private let ownership: Ownership
    private let index: [String: Int]

    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]
    /// The tensors in the order their bytes appear in the data section.
    public let tensors: [SafetensorsTensorInfo]
    /// The header's length N (the data section starts at byte 8 + N).
    public let headerLength: Int
    /// Where the file came from, for messages: its path, or a caller-given name for in-memory bytes.
    public let source: String

    private enum Ownership {
        case mapped
        case allocated
        case none
    }

    /// Opens and memory-maps a safetensors file, and validates it.
    ///
    /// - Parameter path: The file to open.
    /// - Throws: ``FederationError`` `.io` if the file cannot be opened, examined or mapped, or
    ///   `.malformedSafetensors` if it is not a valid safetensors file.
    /// - Complexity: O(header) time; the data is paged in lazily as it is read.
    public init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw FederationError(.io, "\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw FederationError(.io, "\(path): cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw FederationError(.io, "\(path): expected a regular file")
        }
        let size = Int(status.st_size)
        var mapped: UnsafeRawPointer?
        if size > 0 {
            let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
            guard let address, address != MAP_FAILED else {
                throw FederationError(.io, "\(path): cannot map \(size) bytes: \(String(cString: strerror(errno)))")
            }
            mapped = UnsafeRawPointer(address)
        }
        do {
            let header = try SafetensorsHeader.parse(UnsafeRawBufferPointer(start: mapped, count: size), source: path)
            self.base = mapped
            self.count = size
            self.ownership = mapped == nil ? .none : .mapped
            self.metadata = header.metadata
            self.tensors = header.tensors
            self.headerLength = header.headerLength
            self.source = path
            self.index = Self.makeIndex(header.tensors)
        } catch {
            if let mapped { munmap(UnsafeMutableRawPointer(mutating: mapped), size) }
            throw error
        }
    }

    /// Validates in-memory safetensors bytes and keeps one copy of them.
    ///
    /// Rejected, with the byte offset or tensor name, what was expected and what was found: fewer than 8 bytes;
    /// a header length over 100 MB or past the end; a header that does not begin with `{`, is not valid UTF-8
    /// JSON, is nested deeper than 128, holds duplicate keys (anywhere), non-string `__metadata__` values, an
    /// unknown dtype, sizes that are negative, fractional or overflow `Int`; a tensor whose byte count is not
    /// product(shape) × dtype size (checked for overflow); tensors that overlap or leave holes; data bytes
    /// beyond the last tensor. Unknown fields in a tensor entry are ignored, as the reference does.
    ///
    /// - Parameters:
    ///   - bytes: The whole file.
    ///   - source: What to call these bytes in error messages.
    /// - Throws: ``FederationError`` `.malformedSafetensors`.
    public init(bytes: [UInt8], source: String = "safetensors bytes") throws {
        let size = bytes.count
        let header = try bytes.withUnsafeBytes { try SafetensorsHeader.parse($0, source: source) }
        if size > 0 {
            let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: size) }
            self.base = UnsafeRawPointer(copy)
            self.ownership = .allocated
        } else {
            self.base = nil
            self.ownership = .none
        }
        self.count = size
        self.metadata = header.metadata
        self.tensors = header.tensors
        self.headerLength = header.headerLength
        self.source = source
        self.index = Self.makeIndex(header.tensors)
    }

    deinit {
        guard let base else { return }
        switch ownership {
        case .mapped: munmap(UnsafeMutableRawPointer(mutating: base), count)
        case .allocated: base.deallocate()
        case .none: break
        }
    }

    private static func makeIndex(_ tensors: [SafetensorsTensorInfo]) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (position, tensor) in tensors.enumerated() { index[tensor.name] = position }
        return index
    }

    /// The whole file's size in bytes.
    public var byteCount: Int { count }

    /// The tensor named `name`, if any.
    /// - Complexity: O(1) on average.
    public subscript(name: String) -> SafetensorsTensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// Calls `body` with the raw little-endian bytes of the tensor named `name`, without copying them.
    ///
    /// The buffer is valid only inside `body`. Its start is aligned as the file lays it out: files written by
    /// the reference writer (and by ``Safetensors``) align every tensor to its element size, but a valid file
    /// need not, so read elements with `loadUnaligned`.
    /// - Parameters:
    ///   - name: The tensor's name.
    ///   - body: Reads the bytes.
    /// - Returns: What `body` returns.
    /// - Throws: ``FederationError`` `.incompatibleUpdate` if there is no such tensor, or what `body` throws.
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = self[name] else {
            throw FederationError(.incompatibleUpdate, "\(source): expected a tensor named \(name), found none")
        }
        return try withExtendedLifetime(self) { try body(rawBytes(info)) }
    }

    /// The bytes of `info`'s tensor, valid while `self` is alive (callers keep it alive).
    func rawBytes(_ info: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(
            start: base + 8 + headerLength + info.byteRange.lowerBound,
            count: info.byteRange.count
        )
    }

    /// Calls `body` with the whole file's bytes, without copying them.
    /// - Parameter body: Reads the bytes; the buffer is valid only inside it.
    /// - Returns: What `body` returns.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeRawBufferPointer(start: base, count: count)) }
    }

    /// The elements of a floating-point tensor as `Float`s: F32 as is, F16, BF16 and the F8 formats converted
    /// exactly (subnormals, infinities and NaNs included), F64 rounded to the nearest `Float`.
    /// - Parameter name: The tensor's name.
    /// - Returns: The elements in row-major order.
    /// - Throws: ``FederationError`` `.incompatibleUpdate` if there is no such tensor or its dtype is not a float.
    /// - Complexity: O(elements); allocates the result.
    public func floats(_ name: String) throws -> [Float] {
        guard let info = self[name] else {
            throw FederationError(.incompatibleUpdate, "\(source): expected a tensor named \(name), found none")
        }
        return try floats(info)
    }

    func floats(_ info: SafetensorsTensorInfo) throws -> [Float] {
        guard info.dtype.isFloatingPoint else {
            throw FederationError(
                .incompatibleUpdate,
                "\(source): tensor \(info.name): expected a floating-point dtype, found \(info.dtype.rawValue)"
            )
        }
        let count = info.elementCount
        return withExtendedLifetime(self) {
            let bytes = rawBytes(info)
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                Self.convert(bytes, dtype: info.dtype, into: out)
                initialized = count
            }
        }
    }

    /// Converts `bytes` of a float dtype into `out` (which holds exactly the element count).
    static func convert(
        _ bytes: UnsafeRawBufferPointer,
        dtype: SafetensorsDType,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        let count = out.count
        guard count > 0, let source = bytes.baseAddress, let target = out.baseAddress else { return }
        switch dtype {
        case .f32:
            target.withMemoryRebound(to: UInt8.self, capacity: count * 4) {
                $0.update(from: source.assumingMemoryBound(to: UInt8.self), count: count * 4)
            }
            #if _endian(big)
            for i in 0..<count { target[i] = Float(bitPattern: UInt32(littleEndian: target[i].bitPattern)) }
            #endif
        case .f16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                target[i] = FloatConversion.float(fromHalf: bits)
            }
        case .bf16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                target[i] = FloatConversion.float(fromBFloat16: bits)
            }
        case .f64:
            for i in 0..<count {
                let bits = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                target[i] = Float(Double(bitPattern: bits))
            }
        case .f8E5M2:
            for i in 0..<count {
                target[i] = FloatConversion.float(fromE5M2: source.load(fromByteOffset: i, as: UInt8.self))
            }
        case .f8E4M3:
            for i in 0..<count {
                target[i] = FloatConversion.float(fromE4M3: source.load(fromByteOffset: i, as: UInt8.self))
            }
        default:
            break
        }
    }

    /// The file's floating-point tensors as ``ModelWeights``.
    ///
    /// Without a reference, every tensor must be a float (converted as ``floats(_:)`` does) and the order is the
    /// file's data order. With a reference, the file must hold exactly the reference's tensor names with the same
    /// shapes, and the result takes the reference's order.
    /// - Parameter reference: The model the tensors must match, if any.
    /// - Returns: The weights.
    /// - Throws: ``FederationError`` `.incompatibleUpdate` naming the first tensor that is missing, extra, of another
    ///   shape or not a float.
    /// - Complexity: O(parameters); copies and converts every value.
    public func modelWeights(matching reference: ModelWeights? = nil) throws -> ModelWeights {
        guard let reference else {
            return ModelWeights(try tensors.map { .init(name: $0.name, shape: $0.shape, values: try floats($0)) })
        }
        try checkCompatible(with: reference, requireF32: false)
        return ModelWeights(
            try reference.tensors.map { tensor in
                .init(name: tensor.name, shape: tensor.shape, values: try floats(self[tensor.name]!))
            }
        )
    }

    /// Checks that the file holds exactly `reference`'s tensor names with the same shapes (and F32 dtype when
    /// `requireF32`).
    func checkCompatible(with reference: ModelWeights, requireF32: Bool) throws {
        for tensor in reference.tensors {
            guard let info = self[tensor.name] else {
                throw FederationError(
                    .incompatibleUpdate,
                    "\(source): expected a tensor named \(tensor.name), found none"
                )
            }
            guard info.shape == tensor.shape else {
                throw FederationError(
                    .incompatibleUpdate,
                    "\(source): tensor \(tensor.name): expected shape \(tensor.shape), found \(info.shape)"
                )
            }
            if requireF32, info.dtype != .f32 {
                throw FederationError(
                    .incompatibleUpdate,
                    "\(source): tensor \(tensor.name): expected dtype F32, found \(info.dtype.rawValue)"
                )
            }
            if !info.dtype.isFloatingPoint {
                throw FederationError(
                    .incompatibleUpdate,
                    "\(source): tensor \(tensor.name): expected a floating-point dtype, found \(info.dtype.rawValue)"
                )
            }
        }
        if tensors.count != reference.tensors.count {
            let names = Set(reference.tensors.map(\.name))
            let extra = tensors.first { !names.contains($0.name) }?.name ?? "?"
            throw FederationError(
                .incompatibleUpdate,
                "\(source): expected the model's \(reference.tensors.count) tensors, found \(tensors.count) "
                    + "(tensor \(extra) is not in the model)"
            )
        }
    }
}
