/// The RFC 8785 JSON Canonicalization Scheme (JCS) primitives: strings, numbers and key order as
/// ECMAScript writes and compares them, so equal values always give equal bytes (the ledger's leaf hashes).
public enum CanonicalJSON: Sendable {
    /// Whether object key `a` comes before `b` in RFC 8785 §3.2.3 order: by UTF-16 code units, as
    /// ECMAScript compares strings.
    public static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// A string as ECMAScript's `JSON.stringify` writes it (RFC 8785 §3.2.2.2): `"` and `\` escaped,
    /// control characters as `\b \t \n \f \r` or `\u00xx` (lowercase hex), everything else as UTF-8.
    public static func writeString(_ string: String, to output: inout [UInt8]) {
        JSONString.write(string, to: &output, escapes: .allNamed)
    }

    /// A number as ECMAScript's `Number.prototype.toString` writes it (RFC 8785 §3.2.2.3): the shortest
    /// digits that round-trip, in plain notation for exponents −6 < *n* ≤ 21 and `1.5e+22` style outside.
    public static func writeNumber(_ value: Double, to output: inout [UInt8]) {
        guard value.isFinite else {
            output.append(contentsOf: "null".utf8)
            return
        }
        if value == 0 {
            output.append(UInt8(ascii: "0"))
            return
        }
        // Integers within ±2⁵³ are their own shortest form.
        if value.magnitude < 9_007_199_254_740_992, value == value.rounded(.towardZero) {
            output.append(contentsOf: String(Int64(value)).utf8)
            return
        }
        if value < 0 { output.append(UInt8(ascii: "-")) }
        let (digits, exponent) = shortestDigits(value.magnitude)
        let k = digits.count
        let n = exponent
        if k <= n && n <= 21 {
            output.append(contentsOf: digits)
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            output.append(contentsOf: digits[..<n])
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            output.append(contentsOf: "0.".utf8)
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            output.append(contentsOf: digits)
        } else {
            output.append(digits[0])
            if k > 1 {
                output.append(UInt8(ascii: "."))
                output.append(contentsOf: digits[1...])
            }
            output.append(UInt8(ascii: "e"))
            output.append(n - 1 >= 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
            output.append(contentsOf: String((n - 1).magnitude).utf8)
        }
    }

    /// The shortest round-trip decimal digits *s* (no leading or trailing zeros) and exponent *n* with
    /// value = 0.*s* × 10ⁿ, read from Swift's `description`, which prints exactly those digits (Swift's
    /// float printing is shortest-and-closest round-trip, the digits ECMAScript asks for).
    public static func shortestDigits(_ value: Double) -> (digits: [UInt8], exponent: Int) {
        let text = Array(value.description.utf8)
        var mantissa = text[...]
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = text[..<e]
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
        }
        var digits: [UInt8] = []
        var pointPosition: Int?
        for byte in mantissa {
            if byte == UInt8(ascii: ".") {
                pointPosition = digits.count
            } else {
                digits.append(byte)
            }
        }
        var n = (pointPosition ?? digits.count) + exponent
        let leadingZeros = digits.prefix { $0 == UInt8(ascii: "0") }.count
        digits.removeFirst(leadingZeros)
        n -= leadingZeros
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, n)
    }
}
