import Foundation
import SovereignBase
import SovereignModel

/// The per-row methods that need no other row: date coarsening and numeric noise.
enum ColumnTransforms {
    /// `2024-03-17` (or any text starting with an ISO 8601 date) coarsened to `2024` or `2024-03`; `nil`
    /// when the text does not start with `YYYY-MM-DD` or `YYYY-MM`.
    static func coarsen(_ text: ArraySlice<UInt8>, to granularity: Anonymisation.DateGranularity) -> String? {
        let bytes = Array(text)
        func digits(_ range: Range<Int>) -> Bool {
            range.upperBound <= bytes.count && bytes[range].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        }
        guard digits(0..<4), bytes.count >= 7, bytes[4] == 0x2D, digits(5..<7) else { return nil }
        let month = Int(bytes[5] - 0x30) * 10 + Int(bytes[6] - 0x30)
        guard (1...12).contains(month) else { return nil }
        switch granularity {
        case .year: return String(decoding: bytes[0..<4], as: UTF8.self)
        case .month: return String(decoding: bytes[0..<7], as: UTF8.self)
        }
    }

    /// A Laplace(0, `scale`) draw by inverse transform sampling from 53 random bits.
    static func laplace(scale: Double, using generator: inout SeededGenerator) -> Double {
        // u in (-0.5, 0.5), never exactly ±0.5, so the logarithm is finite.
        let u = (Double(generator.next() >> 11) + 0.5) * 0x1p-53 - 0.5
        let sign: Double = u < 0 ? -1 : 1
        return -scale * sign * log1p(-2 * abs(u))
    }
}
