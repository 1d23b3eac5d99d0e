/// Electrical power, in watts.
public struct Power: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// Makes a power from watts.
    public static func watts(_ value: Double) -> Power { Power(baseValue: value) }
    /// Makes a power from kilowatts.
    public static func kilowatts(_ value: Double) -> Power { Power(baseValue: value * 1e3) }
    /// Makes a power from megawatts.
    public static func megawatts(_ value: Double) -> Power { Power(baseValue: value * 1e6) }
    /// The power in watts.
    public var watts: Double { baseValue }
    public static let expectation = "a power like \"1.2 MW\""
    public static let units: [(symbol: String, factor: Double)] = [
        ("W", 1), ("kW", 1e3), ("MW", 1e6), ("GW", 1e9),
    ]
    public var description: String {
        formatScaled(baseValue, ladder: [("W", 1), ("kW", 1e3), ("MW", 1e6), ("GW", 1e9)])
    }

    /// Energy delivered at this power over a time span.
    public static func * (lhs: Power, rhs: TimeSpan) -> Energy { Energy(baseValue: lhs.baseValue * rhs.seconds) }
}

/// Energy, in joules.
public struct Energy: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// Makes an energy from kilowatt-hours.
    public static func kilowattHours(_ value: Double) -> Energy { Energy(baseValue: value * 3.6e6) }
    /// The energy in kilowatt-hours.
    public var kilowattHours: Double { baseValue / 3.6e6 }
    public static let expectation = "an energy like \"800 kWh\""
    public static let units: [(symbol: String, factor: Double)] = [
        ("J", 1), ("kJ", 1e3), ("MJ", 1e6), ("GJ", 1e9),
        ("Wh", 3.6e3), ("kWh", 3.6e6), ("MWh", 3.6e9), ("GWh", 3.6e12),
    ]
    public var description: String {
        formatScaled(baseValue, ladder: [("Wh", 3.6e3), ("kWh", 3.6e6), ("MWh", 3.6e9), ("GWh", 3.6e12)])
    }
}

/// A length of time, in seconds. (Named apart from the standard library's `Duration`, which is a clock's.)
public struct TimeSpan: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// Makes a time span from seconds.
    public static func seconds(_ value: Double) -> TimeSpan { TimeSpan(baseValue: value) }
    /// Makes a time span from minutes.
    public static func minutes(_ value: Double) -> TimeSpan { TimeSpan(baseValue: value * 60) }
    /// Makes a time span from hours.
    public static func hours(_ value: Double) -> TimeSpan { TimeSpan(baseValue: value * 3600) }
    /// Makes a time span from days.
    public static func days(_ value: Double) -> TimeSpan { TimeSpan(baseValue: value * 86_400) }
    /// The span in seconds.
    public var seconds: Double { baseValue }
    /// The span in hours.
    public var hours: Double { baseValue / 3600 }
    public static let expectation = "a duration like \"30 min\""
    public static let units: [(symbol: String, factor: Double)] = [
        ("ms", 1e-3), ("s", 1), ("sec", 1), ("min", 60), ("h", 3600), ("hr", 3600), ("d", 86_400),
        ("w", 604_800),
    ]
    public var description: String {
        formatScaled(baseValue, ladder: [("s", 1), ("min", 60), ("h", 3600), ("d", 86_400)])
    }
}

/// An amount of data, in bytes.
public struct DataSize: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// Makes a data size from bytes.
    public static func bytes(_ value: Double) -> DataSize { DataSize(baseValue: value) }
    /// Makes a data size from (decimal) gigabytes.
    public static func gigabytes(_ value: Double) -> DataSize { DataSize(baseValue: value * 1e9) }
    /// The size in bytes.
    public var bytes: Double { baseValue }
    /// The size in decimal gigabytes.
    public var gigabytes: Double { baseValue / 1e9 }
    public static let expectation = "a data size like \"80 GB\""
    public static let units: [(symbol: String, factor: Double)] = [
        ("B", 1), ("KB", 1e3), ("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15),
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("PiB", 1_125_899_906_842_624),
    ]
    public var description: String {
        formatScaled(baseValue, ladder: [("B", 1), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15)])
    }
}

/// A data rate, in bytes per second.
public struct Bandwidth: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// Makes a bandwidth from gigabits per second.
    public static func gigabitsPerSecond(_ value: Double) -> Bandwidth { Bandwidth(baseValue: value * 1.25e8) }
    /// The rate in bytes per second.
    public var bytesPerSecond: Double { baseValue }
    public static let expectation = "a bandwidth like \"10 Gbps\" or \"2 GB/s\""
    public static let units: [(symbol: String, factor: Double)] = [
        ("bps", 0.125), ("Kbps", 125), ("kbps", 125), ("Mbps", 1.25e5), ("Gbps", 1.25e8), ("Tbps", 1.25e11),
        ("B/s", 1), ("KB/s", 1e3), ("kB/s", 1e3), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12),
    ]
    public var description: String {
        formatScaled(baseValue, ladder: [("B/s", 1), ("KB/s", 1e3), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12)])
    }

    /// The time it takes to move `size` at this rate.
    public func transferTime(of size: DataSize) -> TimeSpan {
        TimeSpan(baseValue: baseValue > 0 ? size.bytes / baseValue : .infinity)
    }
}

/// A temperature, in degrees Celsius.
public struct Temperature: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// Makes a temperature from degrees Celsius.
    public static func celsius(_ value: Double) -> Temperature { Temperature(baseValue: value) }
    /// The temperature in degrees Celsius.
    public var celsius: Double { baseValue }
    public static let expectation = "a temperature like \"32 C\""
    public static let units: [(symbol: String, factor: Double)] = [("C", 1), ("°C", 1)]
    public var description: String { "\(formatNumber(baseValue, maxFractionDigits: 1)) °C" }

    /// Parses Celsius directly and kelvins by offset (which a factor cannot express).
    public static func parse(_ text: String) -> Temperature? {
        guard let (number, unit) = QuantityText.split(text) else { return nil }
        switch unit {
        case "C", "°C": return Temperature(baseValue: number)
        case "K": return number >= 0 ? Temperature(baseValue: number - 273.15) : nil
        default: return nil
        }
    }
}

/// The carbon intensity of electricity, in grams of CO2-equivalent per kilowatt-hour.
public struct CarbonIntensity: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// Makes a carbon intensity from g/kWh.
    public static func gramsPerKilowattHour(_ value: Double) -> CarbonIntensity { CarbonIntensity(baseValue: value) }
    /// The intensity in g/kWh.
    public var gramsPerKilowattHour: Double { baseValue }
    public static let expectation = "a carbon intensity like \"88 g/kWh\""
    public static let units: [(symbol: String, factor: Double)] = [
        ("g/kWh", 1), ("gCO2/kWh", 1), ("gCO2e/kWh", 1), ("kg/MWh", 1), ("kg/kWh", 1000), ("t/MWh", 1000),
    ]
    public var description: String { "\(formatNumber(baseValue, maxFractionDigits: 1)) g/kWh" }
}

/// Solar irradiance on a horizontal surface, in watts per square metre.
public struct Irradiance: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// The irradiance in W/m².
    public var wattsPerSquareMetre: Double { baseValue }
    public static let expectation = "an irradiance like \"850 W/m2\""
    public static let units: [(symbol: String, factor: Double)] = [("W/m2", 1), ("W/m^2", 1), ("W/m²", 1)]
    public var description: String { "\(formatNumber(baseValue, maxFractionDigits: 1)) W/m²" }
}

/// A plain ratio such as a grid's availability (0 to 1); written as `0.97` or `97 %`.
public struct Fraction: PhysicalQuantity {
    public let baseValue: Double
    public init(baseValue: Double) { self.baseValue = baseValue }
    /// The ratio as a plain number.
    public var value: Double { baseValue }
    public static let expectation = "a fraction like 0.8 or \"80 %\""
    public static let units: [(symbol: String, factor: Double)] = [("", 1), ("%", 0.01)]
    public var description: String { formatNumber(baseValue) }
}

/// A large count, as in model parameters or tokens: `7B`, `2.5T`, `300M`, `8.4e19`.
public enum CountText: Sendable {
    /// The accepted suffixes and their factors.
    public static let suffixes: [(symbol: String, factor: Double)] = [
        ("", 1), ("K", 1e3), ("k", 1e3), ("M", 1e6), ("B", 1e9), ("G", 1e9), ("T", 1e12),
    ]

    /// Parses a count with an optional K/M/B/T suffix.
    public static func parse(_ text: String) -> Double? {
        guard let (number, unit) = QuantityText.split(text) else { return nil }
        guard let factor = suffixes.first(where: { $0.symbol == unit })?.factor else { return nil }
        let value = number * factor
        return value.isFinite ? value : nil
    }

    /// Formats a count with the largest suffix that keeps the number at least 1 (`7B`, `1.5T`).
    public static func format(_ value: Double) -> String {
        let ladder: [(String, Double)] = [("", 1), ("K", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12)]
        var chosen = ladder[0]
        for step in ladder where abs(value) >= step.1 { chosen = step }
        return formatNumber(value / chosen.1, maxFractionDigits: 2) + chosen.0
    }
}
