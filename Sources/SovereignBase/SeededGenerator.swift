/// A seeded random generator for training (xoshiro256**, its state filled from the seed by SplitMix64, as
/// the xoshiro authors recommend): initial weights, minibatch order, data shuffles and splits.
///
/// The same seed gives the same numbers on every platform and Swift version. Bounded integers come from
/// ``nextInt(below:)`` rather than the standard library's `next(upperBound:)` or `shuffle(using:)`, whose
/// algorithms are not promised to stay the same, so shuffles and splits are reproducible too.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Makes a generator from a seed; any seed, including 0, gives a good state.
    public init(seed: UInt64) {
        var filler = SplitMix64(seed: seed)
        s0 = filler.next()
        s1 = filler.next()
        s2 = filler.next()
        s3 = filler.next()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound`, without bias (Lemire's multiply-and-reject).
    /// - Precondition: `bound > 0`.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound, found \(bound)")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A uniform float in `[0, 1)` with 24 random bits.
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Fisher–Yates shuffle of `elements` with ``nextInt(below:)``.
    public mutating func shuffle<Element>(_ elements: inout [Element]) {
        var i = elements.count - 1
        while i > 0 {
            elements.swapAt(i, nextInt(below: i + 1))
            i -= 1
        }
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
