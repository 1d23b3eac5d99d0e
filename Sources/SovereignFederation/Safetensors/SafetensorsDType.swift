/// The element type of a safetensors tensor, spelled as in the file's header (`"F32"`, `"BF16"`, ...).
///
/// The cases are declared in the reference implementation's alignment order (smallest first); its writer
/// lays tensors out by descending alignment, then by name, and ``Safetensors/Order/reference`` does the same.
/// All data is little-endian.
public enum SafetensorsDType: String, Sendable, Hashable, CaseIterable, Codable {
    /// A boolean, one byte (0 or 1).
    case bool = "BOOL"
    /// An unsigned byte.
    case u8 = "U8"
    /// A signed byte.
    case i8 = "I8"
    /// An 8-bit float with 5 exponent and 2 mantissa bits (IEEE-like: has infinities and NaNs).
    case f8E5M2 = "F8_E5M2"
    /// An 8-bit float with 4 exponent and 3 mantissa bits, the "FN" variant: no infinities, one NaN pattern.
    case f8E4M3 = "F8_E4M3"
    /// A signed 16-bit integer.
    case i16 = "I16"
    /// An unsigned 16-bit integer.
    case u16 = "U16"
    /// An IEEE 754 half-precision float.
    case f16 = "F16"
    /// A bfloat16: the upper half of a float32.
    case bf16 = "BF16"
    /// A signed 32-bit integer.
    case i32 = "I32"
    /// An unsigned 32-bit integer (the secure-aggregation masked vector travels as this).
    case u32 = "U32"
    /// An IEEE 754 single-precision float.
    case f32 = "F32"
    /// An IEEE 754 double-precision float.
    case f64 = "F64"
    /// A signed 64-bit integer.
    case i64 = "I64"
    /// An unsigned 64-bit integer.
    case u64 = "U64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3: 1
        case .i16, .u16, .f16, .bf16: 2
        case .i32, .u32, .f32: 4
        case .f64, .i64, .u64: 8
        }
    }

    /// Whether elements are floating-point numbers (``SafetensorsFile/floats(_:)`` reads these).
    public var isFloatingPoint: Bool {
        switch self {
        case .f8E5M2, .f8E4M3, .f16, .bf16, .f32, .f64: true
        default: false
        }
    }

    /// The position in the reference's alignment order (larger sorts first when writing).
    var alignmentRank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    /// The dtype names, for error messages.
    static let spellings = allCases.map(\.rawValue).joined(separator: ", ")
}

/// Bit-exact conversions from the narrow float formats to `Float`.
enum FloatConversion {
    /// An IEEE half (binary16) to float32, exact for every input including subnormals, infinities and NaNs
    /// (NaN payloads are kept in the top mantissa bits).
    @inline(__always)
    static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent != 0 {
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
        // Zero or subnormal: mantissa × 2^-24, exact in float32.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }

    /// A bfloat16 to float32: the bits are the float's upper half, so this is exact for every input.
    @inline(__always)
    static func float(fromBFloat16 b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// An F8_E5M2 to float32: the bits are a half's upper byte.
    @inline(__always)
    static func float(fromE5M2 b: UInt8) -> Float {
        float(fromHalf: UInt16(b) << 8)
    }

    /// An F8_E4M3 (FN: bias 7, no infinities, S.1111.111 is NaN) to float32, exact.
    @inline(__always)
    static func float(fromE4M3 b: UInt8) -> Float {
        let negative = b & 0x80 != 0
        let exponent = Int((b >> 3) & 0x0F)
        let mantissa = Int(b & 0x07)
        let magnitude: Float
        if exponent == 0x0F && mantissa == 0x07 {
            magnitude = .nan
        } else if exponent == 0 {
            magnitude = Float(mantissa) * 0x1p-9
        } else {
            magnitude = Float(8 + mantissa) * Float(sign: .plus, exponent: exponent - 10, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }

    /// A float32 to IEEE half with round-to-nearest-even; overflow becomes infinity, NaN stays NaN.
    static func half(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x007F_FFFF
        if exponent == 0xFF {
            return sign | 0x7C00 | (mantissa != 0 ? 0x0200 | UInt16(mantissa >> 13) : 0)
        }
        let unbiased = exponent - 127
        if unbiased > 15 { return sign | 0x7C00 }
        if unbiased >= -14 {
            // Normal half: keep 10 mantissa bits, round the 13 dropped ones to nearest even.
            var value = UInt32(unbiased + 15) << 10 | (mantissa >> 13)
            let rest = mantissa & 0x1FFF
            if rest > 0x1000 || (rest == 0x1000 && value & 1 == 1) { value += 1 }  // may carry into infinity: correct
            return sign | UInt16(value)
        }
        if unbiased < -25 { return sign }
        // Subnormal half: value = full mantissa (with the implicit 1) shifted right, rounded to nearest even.
        let full = mantissa | 0x0080_0000
        let shift = UInt32(-unbiased - 14 + 13)
        var value = full >> shift
        let rest = full & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if rest > halfway || (rest == halfway && value & 1 == 1) { value += 1 }
        return sign | UInt16(value)
    }

    /// A float32 to bfloat16 with round-to-nearest-even; NaN stays a (quiet) NaN.
    static func bfloat16(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }
}
