/// The inner loops of aggregation, on raw pointers so that the hot loops carry no bounds checks, no ARC
/// traffic and no copies.
///
/// Folding one update at a time reads the update and reads and writes the accumulator: 3 bytes moved per
/// byte folded, where a copy moves 2. ``fold(into:count:sources:weights:)`` folds up to
/// ``maximumGroup`` updates in one pass over the accumulator instead, which moves (g + 2)/g bytes per byte
/// folded (1.25 for g = 8), so a fold can run at or above the rate of a plain copy.
enum FoldKernels {
    /// How many updates are folded in one pass over the accumulator.
    static let maximumGroup = 8

    /// `acc[i] += Σⱼ weights[j] · sources[j][i]` for `i` in `0..<count`, where each source is `count`
    /// little-endian float32 values at any alignment.
    ///
    /// Float32 accumulation: each pass adds g products to the running sum in order; over n updates the
    /// relative error of each coordinate is at most about n·2⁻²⁴ of Σ|nᵢΔᵢ| (the usual bound for recursive
    /// summation), well below the noise of training.
    @inline(__always)
    static func fold(
        into acc: UnsafeMutablePointer<Float>,
        count: Int,
        sources: UnsafePointer<UnsafeRawPointer>,
        weights: UnsafePointer<Float>,
        group: Int
    ) {
        switch group {
        case 8: fold8(acc, count, sources, weights)
        case 4: fold4(acc, count, sources, weights)
        default:
            var j = 0
            while j < group {
                let take = min(group - j, 4)
                if take == 4 {
                    fold4(acc, count, sources + j, weights + j)
                } else {
                    foldN(acc, count, sources + j, weights + j, take)
                }
                j += take
            }
        }
    }

    @inline(__always)
    private static func load(_ pointer: UnsafeRawPointer, _ index: Int) -> SIMD16<Float> {
        pointer.loadUnaligned(fromByteOffset: index &* 4, as: SIMD16<Float>.self)
    }

    private static func fold8(
        _ acc: UnsafeMutablePointer<Float>,
        _ count: Int,
        _ s: UnsafePointer<UnsafeRawPointer>,
        _ w: UnsafePointer<Float>
    ) {
        let (p0, p1, p2, p3, p4, p5, p6, p7) = (s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])
        let (w0, w1, w2, w3) = (
            SIMD16(repeating: w[0]), SIMD16(repeating: w[1]), SIMD16(repeating: w[2]), SIMD16(repeating: w[3])
        )
        let (w4, w5, w6, w7) = (
            SIMD16(repeating: w[4]), SIMD16(repeating: w[5]), SIMD16(repeating: w[6]), SIMD16(repeating: w[7])
        )
        let out = UnsafeMutableRawPointer(acc)
        let vectorEnd = count & ~15
        var i = 0
        while i < vectorEnd {
            var sum = out.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let a = w0 * load(p0, i) + w1 * load(p1, i)
            let b = w2 * load(p2, i) + w3 * load(p3, i)
            let c = w4 * load(p4, i) + w5 * load(p5, i)
            let d = w6 * load(p6, i) + w7 * load(p7, i)
            sum += (a + b) + (c + d)
            out.storeBytes(of: sum, toByteOffset: i &* 4, as: SIMD16<Float>.self)
            i &+= 16
        }
        scalarTail(acc, from: vectorEnd, to: count, s, w, 8)
    }

    private static func fold4(
        _ acc: UnsafeMutablePointer<Float>,
        _ count: Int,
        _ s: UnsafePointer<UnsafeRawPointer>,
        _ w: UnsafePointer<Float>
    ) {
        let (p0, p1, p2, p3) = (s[0], s[1], s[2], s[3])
        let (w0, w1, w2, w3) = (
            SIMD16(repeating: w[0]), SIMD16(repeating: w[1]), SIMD16(repeating: w[2]), SIMD16(repeating: w[3])
        )
        let out = UnsafeMutableRawPointer(acc)
        let vectorEnd = count & ~15
        var i = 0
        while i < vectorEnd {
            var sum = out.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            sum += (w0 * load(p0, i) + w1 * load(p1, i)) + (w2 * load(p2, i) + w3 * load(p3, i))
            out.storeBytes(of: sum, toByteOffset: i &* 4, as: SIMD16<Float>.self)
            i &+= 16
        }
        scalarTail(acc, from: vectorEnd, to: count, s, w, 4)
    }

    private static func foldN(
        _ acc: UnsafeMutablePointer<Float>,
        _ count: Int,
        _ s: UnsafePointer<UnsafeRawPointer>,
        _ w: UnsafePointer<Float>,
        _ group: Int
    ) {
        let out = UnsafeMutableRawPointer(acc)
        let vectorEnd = count & ~15
        var i = 0
        while i < vectorEnd {
            var sum = out.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            for j in 0..<group { sum += SIMD16(repeating: w[j]) * load(s[j], i) }
            out.storeBytes(of: sum, toByteOffset: i &* 4, as: SIMD16<Float>.self)
            i &+= 16
        }
        scalarTail(acc, from: vectorEnd, to: count, s, w, group)
    }

    @inline(__always)
    private static func scalarTail(
        _ acc: UnsafeMutablePointer<Float>,
        from start: Int,
        to end: Int,
        _ s: UnsafePointer<UnsafeRawPointer>,
        _ w: UnsafePointer<Float>,
        _ group: Int
    ) {
        var i = start
        while i < end {
            var sum = acc[i]
            for j in 0..<group { sum += w[j] * s[j].loadUnaligned(fromByteOffset: i &* 4, as: Float.self) }
            acc[i] = sum
            i &+= 1
        }
    }

    /// `acc[i] += values[i]` (a secure-aggregation sum, already weighted).
    static func add(into acc: UnsafeMutablePointer<Float>, _ values: UnsafePointer<Float>, count: Int) {
        var one: Float = 1
        var source = UnsafeRawPointer(values)
        withUnsafePointer(to: &source) { sources in
            withUnsafePointer(to: &one) { weights in
                foldN(acc, count, sources, weights, 1)
            }
        }
    }

    /// Σᵢ (a[i] − b[i])² over `count` float32 values, accumulated in float32 per 16 lanes and returned in
    /// double (callers keep `count` to a block so the float32 partial sums stay accurate).
    static func squaredDistance(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Double {
        var lanes = SIMD16<Float>()
        let vectorEnd = count & ~15
        var i = 0
        while i < vectorEnd {
            let d = load(a, i) - load(b, i)
            lanes += d * d
            i &+= 16
        }
        var total = Double(lanes.sum())
        while i < count {
            let d =
                Double(a.loadUnaligned(fromByteOffset: i &* 4, as: Float.self))
                - Double(b.loadUnaligned(fromByteOffset: i &* 4, as: Float.self))
            total += d * d
            i &+= 1
        }
        return total
    }
}
