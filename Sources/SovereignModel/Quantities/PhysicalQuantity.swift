/// A physical quantity stored as one `Double` in its SI base unit (or the unit named by the type).
///
/// Units are types so that a power can never be passed where an energy is expected; arithmetic is
/// defined only where it means something (sums of like quantities, scaling by a plain number).
public protocol PhysicalQuantity: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The value in the type's base unit (W, J, s, B, B/s, °C, g/kWh, W/m², or a plain ratio).
    var baseValue: Double { get }
    /// Makes a quantity from a value in the base unit.
    init(baseValue: Double)
    /// How the quantity is named in diagnostics, with an example: `a power like "1.2 MW"`.
    static var expectation: String { get }
    /// The units accepted in specs, each with its factor to the base unit.
    static var units: [(symbol: String, factor: Double)] { get }
}

extension PhysicalQuantity {
    /// The zero quantity.
    public static var zero: Self { Self(baseValue: 0) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.baseValue < rhs.baseValue }
    public static func + (lhs: Self, rhs: Self) -> Self { Self(baseValue: lhs.baseValue + rhs.baseValue) }
    public static func - (lhs: Self, rhs: Self) -> Self { Self(baseValue: lhs.baseValue - rhs.baseValue) }
    public static func * (lhs: Self, rhs: Double) -> Self { Self(baseValue: lhs.baseValue * rhs) }
    public static func * (lhs: Double, rhs: Self) -> Self { Self(baseValue: lhs * rhs.baseValue) }
    public static func / (lhs: Self, rhs: Double) -> Self { Self(baseValue: lhs.baseValue / rhs) }
    /// The ratio of two like quantities.
    public static func / (lhs: Self, rhs: Self) -> Double { lhs.baseValue / rhs.baseValue }
    public static func += (lhs: inout Self, rhs: Self) { lhs = lhs + rhs }
    public static func -= (lhs: inout Self, rhs: Self) { lhs = lhs - rhs }

    /// Encodes as the bare base value so that JSON stays a number.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(baseValue: try container.decode(Double.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(baseValue)
    }

    /// Parses a spec scalar such as `1.2 MW`, `80GB` or `-3.5 °C`.
    ///
    /// - Parameter text: a number, optional blanks, then one of ``units``.
    /// - Returns: the quantity, or `nil` when the number or the unit is not understood.
    public static func parse(_ text: String) -> Self? {
        guard let (number, unit) = QuantityText.split(text) else { return nil }
        guard let factor = units.first(where: { $0.symbol == unit })?.factor else { return nil }
        // "1e308 d" is a finite number whose value in seconds is not.
        let value = number * factor
        return value.isFinite ? Self(baseValue: value) : nil
    }

    /// The value expressed in the given unit symbol (which must be one of ``units``).
    public func value(in symbol: String) -> Double {
        let factor = Self.units.first(where: { $0.symbol == symbol })?.factor ?? 1
        return baseValue / factor
    }
}

/// Splitting `1.2 MW` into its number and its unit.
enum QuantityText {
    /// Splits a quantity literal into a finite number and a unit symbol (possibly empty).
    static func split(_ text: String) -> (Double, String)? {
        let trimmed = text.trimmingBlanks()
        var numberEnd = trimmed.startIndex
        var sawDigit = false
        var index = trimmed.startIndex
        while index < trimmed.endIndex {
            let c = trimmed[index]
            if c.isASCII, c.isNumber {
                sawDigit = true
            } else if c == "." || c == "+" || c == "-" || c == "_" {
                // part of a number
            } else if c == "e" || c == "E", sawDigit {
                // An exponent only when followed by a digit or a sign and a digit: "8.4e19", not "80 EB".
                let next = trimmed.index(after: index)
                guard next < trimmed.endIndex else { break }
                var digitIndex = next
                if trimmed[next] == "+" || trimmed[next] == "-" { digitIndex = trimmed.index(after: next) }
                guard digitIndex < trimmed.endIndex, trimmed[digitIndex].isASCII, trimmed[digitIndex].isNumber
                else { break }
                index = digitIndex
            } else {
                break
            }
            index = trimmed.index(after: index)
            numberEnd = index
        }
        guard sawDigit else { return nil }
        let numberText = trimmed[trimmed.startIndex..<numberEnd].replacingUnderscores()
        guard let number = Double(numberText), number.isFinite else { return nil }
        let unit = String(trimmed[numberEnd...]).trimmingBlanks()
        return (number, unit)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingBlanks() -> String {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }

    func replacingUnderscores() -> String {
        String(self.filter { $0 != "_" })
    }
}

/// Formats a number with at most `digits` significant decimals, without trailing zeros.
func formatNumber(_ value: Double, maxFractionDigits digits: Int = 3) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
    var text = String(rounded)
    if text.contains("e") { return text }
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
}

/// Formats a quantity in the largest unit of `ladder` whose value is at least 1.
func formatScaled(_ base: Double, ladder: [(String, Double)]) -> String {
    var chosen = ladder[0]
    for step in ladder where abs(base) >= step.1 { chosen = step }
    return "\(formatNumber(base / chosen.1)) \(chosen.0)"
}
