import Crypto
import Foundation

/// Gaussian noise for differential privacy, fast enough for 25M parameters.
///
/// 32 bytes drawn from the caller's generator key an AES-256-CTR stream (the ``MaskGenerator`` format),
/// read 64 bits at a time; the ziggurat method of Marsaglia and Tsang (2000, 128 layers) turns those into
/// normals, with the layer index and the sign-and-magnitude taken from separate bits of each word
/// (Doornik 2005). So a seeded generator gives reproducible noise, the system CSPRNG gives noise no one can
/// predict, and there is no system call per sample.
///
/// Note: like every floating-point sampler this is not hardened against the float-precision attacks on
/// DP noise (Mironov 2012).
public enum GaussianNoise: Sendable {
    /// Adds N(0, standardDeviation²) to every value of every tensor.
    /// - Complexity: O(parameters).
    public static func add(
        to weights: inout ModelWeights,
        standardDeviation: Double,
        using generator: inout some RandomNumberGenerator
    ) {
        var stream = KeystreamGenerator(seed: randomBytes(32, using: &generator))
        for i in weights.tensors.indices {
            weights.tensors[i].values.withUnsafeMutableBufferPointer { values in
                for k in values.indices { values[k] += Float(Ziggurat.normal(using: &stream) * standardDeviation) }
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
        var stream = KeystreamGenerator(seed: randomBytes(32, using: &generator))
        values.withUnsafeMutableBufferPointer { values in
            for k in values.indices { values[k] += Float(Ziggurat.normal(using: &stream) * standardDeviation) }
        }
    }

    /// `count` independent standard normal samples.
    /// - Complexity: O(count).
    public static func samples(_ count: Int, using generator: inout some RandomNumberGenerator) -> [Double] {
        var stream = KeystreamGenerator(seed: randomBytes(32, using: &generator))
        return (0..<max(0, count)).map { _ in Ziggurat.normal(using: &stream) }
    }
}

/// A generator reading the AES-256-CTR keystream of a 32-byte seed, 64 KiB at a time.
struct KeystreamGenerator: RandomNumberGenerator {
    private let key: SymmetricKey
    private var block: UInt64 = 0
    private var buffer = [UInt64](repeating: 0, count: MaskGenerator.pieceBytes / 8)
    private var index: Int
    private let zeros = [UInt8](repeating: 0, count: MaskGenerator.pieceBytes)

    init(seed: [UInt8]) {
        key = SymmetricKey(data: seed)
        index = buffer.count
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        if index == buffer.count { refill() }
        defer { index += 1 }
        return buffer[index]
    }

    private mutating func refill() {
        let stream = MaskGenerator.keystream(seed: key, firstBlock: block, zeros: zeros[...])
        block += UInt64(MaskGenerator.pieceBytes / 16)
        buffer.withUnsafeMutableBytes { out in
            stream.withUnsafeBytes { out.copyMemory(from: $0) }
        }
        for k in buffer.indices { buffer[k] = UInt64(littleEndian: buffer[k]) }
        index = 0
    }
}

/// The 128-layer ziggurat for the standard normal (Marsaglia and Tsang 2000), in double precision.
enum Ziggurat {
    static let r = 3.442619855899
    /// Layer tables: k (acceptance bounds on the 31-bit magnitude), w (scale) and f (density at edges).
    static let tables: (k: [UInt32], w: [Double], f: [Double]) = {
        let m1 = 2_147_483_648.0
        let v = 9.91256303526217e-3
        var dn = r
        var tn = dn
        let q = v / exp(-0.5 * dn * dn)
        var k = [UInt32](repeating: 0, count: 128)
        var w = [Double](repeating: 0, count: 128)
        var f = [Double](repeating: 0, count: 128)
        k[0] = UInt32((dn / q) * m1)
        k[1] = 0
        w[0] = q / m1
        w[127] = dn / m1
        f[0] = 1
        f[127] = exp(-0.5 * dn * dn)
        for i in stride(from: 126, through: 1, by: -1) {
            dn = (-2 * log(v / dn + exp(-0.5 * dn * dn))).squareRoot()
            k[i + 1] = UInt32((dn / tn) * m1)
            tn = dn
            f[i] = exp(-0.5 * dn * dn)
            w[i] = dn / m1
        }
        return (k, w, f)
    }()

    /// A uniform double in (0, 1).
    @inline(__always)
    static func uniform(using generator: inout some RandomNumberGenerator) -> Double {
        (Double(generator.next() >> 11) + 0.5) * 0x1p-53
    }

    /// One standard normal sample.
    @inline(__always)
    static func normal(using generator: inout some RandomNumberGenerator) -> Double {
        let (k, w, f) = tables
        while true {
            let bits = generator.next()
            // Sign and 31-bit magnitude from the high word, the layer from other bits, so they are independent.
            let layer = Int(bits & 127)
            let magnitude = UInt32(truncatingIfNeeded: bits >> 32) & 0x7FFF_FFFF
            let negative = bits & (1 << 63) != 0
            let x = Double(magnitude) * w[layer]
            if magnitude < k[layer] { return negative ? -x : x }
            if layer == 0 {
                // The tail beyond r (Marsaglia 1964).
                var tailX: Double
                var tailY: Double
                repeat {
                    tailX = -log(uniform(using: &generator)) / r
                    tailY = -log(uniform(using: &generator))
                } while tailY + tailY < tailX * tailX
                return negative ? -(r + tailX) : r + tailX
            }
            if f[layer] + uniform(using: &generator) * (f[layer - 1] - f[layer]) < exp(-0.5 * x * x) {
                return negative ? -x : x
            }
        }
    }
}
