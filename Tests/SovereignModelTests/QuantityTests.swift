import SovereignModel
import Testing

struct QuantityTests {
    @Test(arguments: [
        ("1.2 MW", 1.2e6), ("400 kW", 4e5), ("72 W", 72), ("1.5GW", 1.5e9), ("0 W", 0),
    ])
    func power(text: String, watts: Double) {
        #expect(Power.parse(text)?.watts == watts)
    }

    @Test(arguments: [
        ("80 GB", 80e9), ("2 TB", 2e12), ("16 GiB", 17_179_869_184), ("1 KiB", 1024), ("512 MB", 512e6),
        ("1 TiB", 1_099_511_627_776), ("3 B", 3),
    ])
    func dataSize(text: String, bytes: Double) {
        #expect(DataSize.parse(text)?.bytes == bytes)
    }

    @Test(arguments: [("10 Gbps", 1.25e9), ("2 GB/s", 2e9), ("100 Mbps", 1.25e7), ("1 TB/s", 1e12)])
    func bandwidth(text: String, bytesPerSecond: Double) {
        #expect(Bandwidth.parse(text)?.bytesPerSecond == bytesPerSecond)
    }

    @Test(arguments: [("30 min", 1800.0), ("15 min", 900), ("7 d", 604_800), ("1 h", 3600), ("45 s", 45)])
    func timeSpan(text: String, seconds: Double) {
        #expect(TimeSpan.parse(text)?.seconds == seconds)
    }

    @Test(arguments: [("800 kWh", 2.88e9), ("1 MWh", 3.6e9), ("5 Wh", 18_000)])
    func energy(text: String, joules: Double) {
        #expect(Energy.parse(text)?.baseValue == joules)
    }

    @Test func temperature() {
        #expect(Temperature.parse("32 C")?.celsius == 32)
        #expect(Temperature.parse("-3.5 °C")?.celsius == -3.5)
        #expect(abs(Temperature.parse("300 K")!.celsius - 26.85) < 1e-9)
        #expect(Temperature.parse("-1 K") == nil)
        #expect(Temperature.parse("32 F") == nil)
    }

    @Test func carbonIntensity() {
        #expect(CarbonIntensity.parse("88 g/kWh")?.gramsPerKilowattHour == 88)
        #expect(CarbonIntensity.parse("0.3 kg/kWh")?.gramsPerKilowattHour == 300)
    }

    @Test(arguments: [("7B", 7e9), ("2.5T", 2.5e12), ("300M", 3e8), ("8.4e19", 8.4e19), ("64", 64), ("1_000", 1000)])
    func counts(text: String, value: Double) {
        #expect(CountText.parse(text) == value)
    }

    @Test(arguments: ["lots", "", "MW", "1.2 MWW", "1.2 mw", "1..2 MW", "nan W", "inf W", "1e W"])
    func rejectsMalformedPower(text: String) {
        #expect(Power.parse(text) == nil)
    }

    @Test func unitsAreDistinct() {
        // "B" means bytes for data but billions for counts.
        #expect(DataSize.parse("7B")?.bytes == 7)
        #expect(CountText.parse("7B") == 7e9)
        #expect(CountText.parse("7 GB") == nil)
    }

    @Test func descriptions() {
        #expect(Power.megawatts(1.2).description == "1.2 MW")
        #expect(DataSize.gigabytes(112).description == "112 GB")
        #expect(TimeSpan.minutes(90).description == "1.5 h")
        #expect(Bandwidth.gigabitsPerSecond(10).description == "1.25 GB/s")
        #expect(CountText.format(7e9) == "7B")
    }

    @Test func arithmetic() {
        let energy = Power.kilowatts(400) * TimeSpan.hours(2)
        #expect(energy.kilowattHours == 800)
        #expect(Power.kilowatts(1) + Power.watts(500) == Power.watts(1500))
        #expect(Bandwidth.gigabitsPerSecond(10).transferTime(of: .gigabytes(125)).seconds == 100)
    }
}
