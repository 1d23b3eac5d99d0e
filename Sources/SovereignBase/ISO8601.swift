/// Sovereign's one reader and writer of ISO 8601 / RFC 3339 times and civil dates: trace timestamps, spec
/// instants, report times and the ledger's millisecond times.
///
/// Foundation's formatters are far too slow for year-long traces at a thousand sites; this reads the
/// UTF-8 bytes directly, without allocating.
public enum ISO8601: Sendable {
    /// Parses `YYYY-MM-DD[THH[:MM[:SS[.fff]]]][Z|±HH:MM]` (a space may stand for `T`; no zone means UTC).
    ///
    /// - Returns: seconds since 1970-01-01T00:00:00Z, or `nil` if the text is not such a time.
    /// - Complexity: O(n) in the text's length, no allocation.
    public static func parseEpochSeconds(_ bytes: ArraySlice<UInt8>) -> Double? {
        var i = bytes.startIndex
        let end = bytes.endIndex
        func digits(_ count: Int) -> Int? {
            guard end - i >= count else { return nil }
            var value = 0
            for _ in 0..<count {
                let b = bytes[i]
                guard b >= 0x30, b <= 0x39 else { return nil }
                value = value * 10 + Int(b - 0x30)
                i += 1
            }
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard i < end, bytes[i] == byte else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2) else {
            return nil
        }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        var hour = 0
        var minute = 0
        var second = 0.0
        if i < end, bytes[i] == 0x54 || bytes[i] == 0x20 || bytes[i] == 0x74 {
            i += 1
            guard let h = digits(2) else { return nil }
            hour = h
            if expect(0x3A) {
                guard let m = digits(2) else { return nil }
                minute = m
                if expect(0x3A) {
                    guard let s = digits(2) else { return nil }
                    second = Double(s)
                    if i < end, bytes[i] == 0x2E || bytes[i] == 0x2C {
                        i += 1
                        var scale = 0.1
                        var sawDigit = false
                        while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                            second += Double(bytes[i] - 0x30) * scale
                            scale /= 10
                            sawDigit = true
                            i += 1
                        }
                        guard sawDigit else { return nil }
                    }
                }
            }
        }
        // 24:00 is allowed as the end of a day (ISO 8601), nothing else past 23:59:60.
        guard hour < 24 || (hour == 24 && minute == 0 && second == 0), minute < 60, second < 61 else { return nil }
        var offset = 0
        if i < end {
            switch bytes[i] {
            case 0x5A, 0x7A:
                i += 1
            case 0x2B, 0x2D:
                let sign = bytes[i] == 0x2D ? -1 : 1
                i += 1
                guard let oh = digits(2) else { return nil }
                _ = expect(0x3A)
                guard let om = digits(2), oh < 24, om < 60 else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            default:
                return nil
            }
        }
        guard i == end else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 - offset) + second
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Whether `year` is a leap year of the proleptic Gregorian calendar.
    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    /// The number of days in `month` (1–12) of `year`.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Formats seconds since the epoch as `2026-03-02T06:00:00Z` (whole seconds).
    /// Instants outside years 0000–9999 (or not finite) are printed as seconds since the epoch instead.
    public static func format(epochSeconds: Double) -> String {
        guard epochSeconds.isFinite, epochSeconds >= -62_167_219_200, epochSeconds < 253_402_300_800 else {
            return "\(epochSeconds) s after 1970-01-01T00:00:00Z"
        }
        let total = Int(epochSeconds.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let rest = total - days * 86_400
        return civilTime(days: days, secondOfDay: rest) + "Z"
    }

    /// Formats a moment as RFC 3339 in UTC with milliseconds, rounded down, as the ledger writes times.
    ///
    /// - Parameter epochMilliseconds: Milliseconds since 1970-01-01T00:00:00Z; from year 0 to 9999.
    /// - Returns: Like `2026-11-22T10:00:00.123Z`.
    public static func format(epochMilliseconds: Int64) -> String {
        let (days, millisecondOfDay) = epochMilliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, dayMilliseconds) =
            millisecondOfDay < 0 ? (days - 1, millisecondOfDay + 86_400_000) : (days, millisecondOfDay)
        let millisecond = Int(dayMilliseconds % 1000)
        return civilTime(days: Int(day), secondOfDay: Int(dayMilliseconds / 1000)) + "."
            + pad(millisecond, to: 3) + "Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS` of a day count since 1970-01-01 and a second of that day.
    private static func civilTime(days: Int, secondOfDay: Int) -> String {
        let (y, m, d) = civilFromDays(days)
        let date = "\(pad(y, to: 4))-\(pad(m, to: 2))-\(pad(d, to: 2))"
        let time =
            "\(pad(secondOfDay / 3600, to: 2)):\(pad(secondOfDay % 3600 / 60, to: 2)):\(pad(secondOfDay % 60, to: 2))"
        return date + "T" + time
    }

    /// `value` in decimal with leading zeros up to `width` digits.
    private static func pad(_ value: Int, to width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
