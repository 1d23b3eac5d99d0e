import Foundation
import SovereignBase
import SovereignFederation

/// A fresh temporary directory, removed when the value is dropped by `withTemporaryDirectory`.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sovereign-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Random weights of the given shapes, values in [-1, 1).
func randomWeights(_ shapes: [(String, [Int])], using rng: inout SeededGenerator) -> ModelWeights {
    ModelWeights(
        shapes.map { name, shape in
            .init(
                name: name,
                shape: shape,
                values: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1..<1, using: &rng) }
            )
        }
    )
}

/// A safetensors buffer with the given header text and data bytes (the header length is computed).
func rawFile(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    let length = declaredLength ?? UInt64(headerBytes.count)
    return withUnsafeBytes(of: length.littleEndian) { Array($0) } + headerBytes + data
}
