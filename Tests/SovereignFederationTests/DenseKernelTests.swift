import SovereignBase
import Testing

@testable import SovereignFederation

struct DenseKernelTests {
    /// The register-blocked product that release builds train with gives bit-identical results to the
    /// plain triple loop that debug builds (these tests) use, for strips of 32, 8 and single columns,
    /// contiguous and strided left operands, and zeros among the multipliers.
    @Test func blockedProductMatchesTheReferenceLoopBitForBit() {
        var generator = SeededGenerator(seed: 17)
        for columns in [1, 7, 8, 10, 31, 32, 33, 64, 70] {
            for (rows, inner) in [(1, 1), (3, 5), (4, 40)] {
                for transposed in [false, true] {
                    let a = (0..<(rows * inner)).map { _ in
                        generator.nextInt(below: 4) == 0 ? 0 : 2 * generator.nextUnitFloat() - 1
                    }
                    let b = (0..<(inner * columns)).map { _ in 2 * generator.nextUnitFloat() - 1 }
                    let start = (0..<(rows * columns)).map { _ in generator.nextUnitFloat() }
                    var blocked = start
                    var reference = start
                    let (rowStride, innerStride) = transposed ? (1, rows) : (inner, 1)
                    a.withUnsafeBufferPointer { a in
                        b.withUnsafeBufferPointer { b in
                            blocked.withUnsafeMutableBufferPointer { c in
                                multiplyAccumulateBlocked(
                                    a.baseAddress!,
                                    rows: rows,
                                    inner: inner,
                                    rowStride: rowStride,
                                    innerStride: innerStride,
                                    b.baseAddress!,
                                    columns: columns,
                                    into: c.baseAddress!
                                )
                            }
                            reference.withUnsafeMutableBufferPointer { c in
                                multiplyAccumulateReference(
                                    a.baseAddress!,
                                    rows: rows,
                                    inner: inner,
                                    rowStride: rowStride,
                                    innerStride: innerStride,
                                    b.baseAddress!,
                                    columns: columns,
                                    into: c.baseAddress!
                                )
                            }
                        }
                    }
                    #expect(
                        blocked.map(\.bitPattern) == reference.map(\.bitPattern),
                        "rows \(rows), inner \(inner), columns \(columns), transposed \(transposed)"
                    )
                    #expect(blocked != start || a.allSatisfy { $0 == 0 })
                }
            }
        }
    }
}
