import Foundation
import SovereignFederation

/// A small, seeded generator (SplitMix64) so that every random test is repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
