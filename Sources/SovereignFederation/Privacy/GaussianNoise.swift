import Crypto
import Foundation

/// Gaussian noise for differential privacy, fast enough for 25M parameters.
///
/// 32 bytes drawn from the caller's generator key an AES-256-CTR stream (the ``MaskGenerator`` format),
/// which supplies 64 bits per sample; Box–Muller turns pairs of 53-bit uniforms into pairs of normals in
/// double precision. So a seeded generator gives reproducible noise, and the system CSPRNG gives noise
/// no one can predict, without a system call per sample.
///
/// Note: like every floating-point sampler this is not hardened against the float-precision attacks on
/// DP noise (Mironov 2012); tails beyond 8.5σ are cut (probability 10^-17 per value).
public enum GaussianNoise: Sendable {
    static let chunk = 8192

    /// Adds N(0, standardDeviation²) to every value of every tensor.
    /// - Complexity: O(parameters).
    public static func add(
        to weights: inout ModelWeights,
        standardDeviation: Double,
        using generator: inout some RandomNumberGenerator
    ) {
        let key = SymmetricKey(data: randomBytes(32, using: &generator))
        var block: UInt64 = 0
        for i in weights.tensors.indices {
            weights.tensors[i].values.withUnsafeMutableBufferPointer {
                add(to: $0, standardDeviation: standardDeviation, key: key, block: &block)
            }
        }
    }

    /// Adds N(0, standardDeviation²) to every value.
    /// - Complexity: O(values.count).
    public static func add(
        to values: inout [Float],
        standardDeviation: Double,
        using generator: inout some RandomNumberGenerator
    ) {
        let key = SymmetricKey(data: randomBytes(32, using: &generator))
        var block: UInt64 = 0
        values.withUnsafeMutableBufferPointer {
            add(to: $0, standardDeviation: standardDeviation, key: key, block: &block)
        }
    }

    /// `count` independent standard normal samples.
    /// - Complexity: O(count).
    public static func samples(_ count: Int, using generator: inout some RandomNumberGenerator) -> [Double] {
        let key = SymmetricKey(data: randomBytes(32, using: &generator))
        var out = [Double]()
        out.reserveCapacity(count)
        var block: UInt64 = 0
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            normals(n, key: key, block: &block) { k, z in out.append(z) }
            start += n
        }
        return out
    }

    static func add(
        to values: UnsafeMutableBufferPointer<Float>,
        standardDeviation: Double,
        key: SymmetricKey,
        block: inout UInt64
    ) {
        var start = 0
        while start < values.count {
            let n = min(chunk, values.count - start)
            let base = start
            normals(n, key: key, block: &block) { k, z in values[base + k] += Float(z * standardDeviation) }
            start += n
        }
    }

    /// Makes `count` (≤ chunk) standard normals from the stream at `block`, advancing it, and hands each
    /// to `body` with its position.
    @inline(__always)
    static func normals(_ count: Int, key: SymmetricKey, block: inout UInt64, _ body: (Int, Double) -> Void) {
        let pairs = (count + 1) / 2
        let zeros = [UInt8](repeating: 0, count: pairs * 16)
        let stream = MaskGenerator.keystream(seed: key, firstBlock: block, zeros: zeros[...])
        block += UInt64(pairs)
        stream.withUnsafeBytes { raw in
            for p in 0..<pairs {
                let w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * p, as: UInt64.self))
                let w2 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * p + 8, as: UInt64.self))
                let u1 = Double((w1 >> 11) + 1) * 0x1p-53  // (0, 1]
                let u2 = Double(w2 >> 11) * 0x1p-53  // [0, 1)
                let r = (-2 * log(u1)).squareRoot()
                let theta = 2 * Double.pi * u2
                body(2 * p, r * cos(theta))
                if 2 * p + 1 < count { body(2 * p + 1, r * sin(theta)) }
            }
        }
    }
}
