/// Fast decimal number reading for trace files and the anonymiser's numeric columns.
public enum DecimalParser: Sendable {
    private static let exactPowers: [Double] = (0...22).map { p in
        var v = 1.0
        for _ in 0..<p { v *= 10 }
        return v
    }

    /// Parses a decimal number from UTF-8 bytes (blanks around it allowed).
    ///
    /// Uses Clinger's fast path (mantissa below 2^53, power of ten within ±22), which is correctly rounded,
    /// and falls back to the standard library's parser otherwise.
    /// - Complexity: O(n), no allocation on the fast path.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> Double? {
        var i = bytes.startIndex
        var end = bytes.endIndex
        while i < end, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
        while end > i, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D { end -= 1 }
        guard i < end else { return nil }
        let start = i
        var negative = false
        if bytes[i] == 0x2D || bytes[i] == 0x2B {
            negative = bytes[i] == 0x2D
            i += 1
        }
        var mantissa: UInt64 = 0
        var digitCount = 0
        var exponent = 0
        var sawDigit = false
        while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            sawDigit = true
            if digitCount < 19 {
                mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30)
                if mantissa > 0 { digitCount += 1 }
            } else {
                exponent += 1
            }
            i += 1
        }
        if i < end, bytes[i] == 0x2E {
            i += 1
            while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                sawDigit = true
                if digitCount < 19 {
                    mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30)
                    if mantissa > 0 { digitCount += 1 }
                    exponent -= 1
                }
                i += 1
            }
        }
        guard sawDigit else { return nil }
        if i < end, bytes[i] == 0x65 || bytes[i] == 0x45 {
            i += 1
            var expNegative = false
            if i < end, bytes[i] == 0x2D || bytes[i] == 0x2B {
                expNegative = bytes[i] == 0x2D
                i += 1
            }
            var e = 0
            var sawExpDigit = false
            while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                sawExpDigit = true
                if e < 100_000 { e = e * 10 + Int(bytes[i] - 0x30) }
                i += 1
            }
            guard sawExpDigit else { return nil }
            exponent += expNegative ? -e : e
        }
        guard i == end else { return nil }
        if mantissa < (1 << 53), abs(exponent) <= 22 {
            var value = Double(mantissa)
            value = exponent < 0 ? value / exactPowers[-exponent] : value * exactPowers[exponent]
            return negative ? -value : value
        }
        return Double(String(decoding: bytes[start..<end], as: UTF8.self))
    }
}
