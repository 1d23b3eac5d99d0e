import SovereignBase
import Testing

struct ISO8601Tests {
    static func parse(_ text: String) -> Double? { ISO8601.parseEpochSeconds(Array(text.utf8)[...]) }

    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2026-03-02T06:00:00Z", 1_772_431_200),
        ("2026-03-02T06:00Z", 1_772_431_200),
        ("2026-03-02 06:00:00", 1_772_431_200),
        ("2026-03-02T08:00:00+02:00", 1_772_431_200),
        ("2026-03-02T01:00:00-05:00", 1_772_431_200),
        ("2024-02-29T00:00:00Z", 1_709_164_800),
        ("2026-03-02", 1_772_409_600),
        ("2026-03-01T24:00:00Z", 1_772_409_600),
        ("2026-03-02T06:00:00.5Z", 1_772_431_200.5),
    ])
    func parses(text: String, seconds: Double) {
        #expect(Self.parse(text) == seconds)
    }

    @Test(arguments: [
        "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-03-02T25:00:00Z", "2026-03-02T06:00:00Q",
        "2026-3-2", "yesterday", "", "2026-03-02T06:60:00Z", "2026-03-02T24:30:00Z",
    ])
    func rejects(text: String) {
        #expect(Self.parse(text) == nil)
    }

    @Test func roundTripsOverManyDays() {
        // Every day from 1900 to 2100 formats and parses back to itself.
        for day in stride(from: -25_567, through: 47_482, by: 1) {
            let seconds = Double(day * 86_400 + 3_723)
            let text = ISO8601.format(epochSeconds: seconds)
            #expect(Self.parse(text) == seconds, "\(text)")
            if Self.parse(text) != seconds { return }
        }
    }

    @Test func formatIsTotal() {
        #expect(ISO8601.format(epochSeconds: 1e20) == "1e+20 s after 1970-01-01T00:00:00Z")
        #expect(ISO8601.format(epochSeconds: .infinity) == "inf s after 1970-01-01T00:00:00Z")
        #expect(ISO8601.format(epochSeconds: .nan) == "nan s after 1970-01-01T00:00:00Z")
        #expect(ISO8601.format(epochSeconds: -1) == "1969-12-31T23:59:59Z")
    }
}

struct RFC3339MillisecondTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-500, "1969-12-31T23:59:59.500Z"),
        (1_795_341_600_123, "2026-11-22T10:00:00.123Z"),
        (951_868_799_999, "2000-02-29T23:59:59.999Z"),
        (951_868_800_000, "2000-03-01T00:00:00.000Z"),
        (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func formatsMilliseconds(milliseconds: Int64, text: String) {
        #expect(ISO8601.format(epochMilliseconds: milliseconds) == text)
    }

    @Test func millisecondsAgreeWithSecondsOnWholeSeconds() {
        for seconds in stride(from: -100_000_000, through: 4_000_000_000, by: 86_399) {
            let whole = ISO8601.format(epochSeconds: Double(seconds))
            let withMilliseconds = ISO8601.format(epochMilliseconds: Int64(seconds) * 1000)
            #expect(withMilliseconds == whole.dropLast() + ".000Z")
            if withMilliseconds != whole.dropLast() + ".000Z" { return }
        }
    }

    @Test func civilDatesRoundTrip() {
        for day in stride(from: -800_000, through: 800_000, by: 997) {
            let (year, month, dayOfMonth) = ISO8601.civilFromDays(day)
            #expect(ISO8601.daysFromCivil(year: year, month: month, day: dayOfMonth) == day)
            #expect((1...ISO8601.daysInMonth(year: year, month: month)).contains(dayOfMonth))
        }
        #expect(ISO8601.isLeap(2000) && ISO8601.isLeap(2024) && !ISO8601.isLeap(1900) && !ISO8601.isLeap(2026))
    }
}
