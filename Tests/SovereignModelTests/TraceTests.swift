import Foundation
import SovereignBase
import SovereignModel
import SovereignTesting
import Testing

/// Trace formats, calendar mapping, resampling, and every trace diagnostic.
struct TraceTests {
    /// A one-site fleet whose grid availability, solar irradiance and ambient temperature come from traces.
    static func fleetYAML(
        start: String = "2026-01-01T00:00:00Z",
        horizon: String = "365 d",
        step: String = "1 h",
        weather: String,
        grid: String = "0.9"
    ) -> String {
        """
        apiVersion: sovereign.dev/v1
        kind: Scenario
        metadata: {name: year}
        spec: {start: \(start), horizon: \(horizon), step: \(step)}
        ---
        apiVersion: sovereign.dev/v1
        kind: Site
        metadata: {name: site-1}
        spec:
          jurisdiction: IT
          operator: {name: Op, jurisdiction: IT}
          power:
            grid: {capacity: 1 MW, availability: \(grid)}
            solar: {peak: 100 kW, irradiance: {file: \(weather), column: ghi}}
          cooling: {capacity: 1 MW, ambient: {file: \(weather), column: temperature}, pue: {base: 1.2}}
          pools: [{name: p, accelerator: nvidia-l4, count: 8}]

        """
    }

    /// Writes `files` into a temporary directory with the fleet, loads it, and returns the fleet or diagnostics
    /// with the directory prefix removed.
    static func load(
        _ yaml: String,
        files: [String: String] = [:],
        copy: [String: String] = [:]
    ) throws
        -> Result<Fleet, SpecError>
    {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        for (name, source) in copy {
            try FileManager.default.copyItem(atPath: source, toPath: dir.appendingPathComponent(name).path)
        }
        let specPath = dir.appendingPathComponent("fleet.yaml").path
        try yaml.write(toFile: specPath, atomically: true, encoding: .utf8)
        do {
            return .success(try FleetLoader().load(paths: [specPath]))
        } catch let error as SpecError {
            return .failure(error)
        }
    }

    /// The diagnostics as printed, with the temporary directory's path removed wherever it appears.
    static func diagnostics(_ result: Result<Fleet, SpecError>) -> [String] {
        guard case .failure(let error) = result else { return [] }
        return error.diagnostics.map { d in
            d.description.replacing(#//[^ :]*/sovereign-test-[0-9A-F-]+//#, with: "")
        }
    }

    static let epw = Fixtures.path("weather/piedmont-it-pvgis-tmy.epw")
    static let tmy3 = Fixtures.path("weather/greensboro-nc-tmy3.csv")

    @Test func epwOverAWholeYear() throws {
        let result = try Self.load(Self.fleetYAML(weather: "w.epw"), copy: ["w.epw": Self.epw])
        let site = try #require(try result.get().site(named: "site-1"))
        let ambient = try #require(site.cooling.ambient.series)
        #expect(ambient.count == 8760)
        // Every hour of the typical year is used exactly once: the mean and extremes are the file's.
        #expect(abs(ambient.reduce(0, +) / 8760 - 13.564) < 0.001)
        #expect(ambient.max() == 34.33)
        #expect(ambient.min() == -2.34)
        // EPW hour 16 of 06/30 is local 15:00-16:00 at UTC+1, so 14:00-15:00 UTC.
        let grid = try #require(try result.get().scenario?.grid)
        let index = grid.index(
            of: Date(timeIntervalSince1970: ISO8601.parseEpochSeconds(Array("2026-06-30T14:00:00Z".utf8)[...])!)
        )
        #expect(ambient[index] == 34.33)
        let ghi = try #require(site.power.solar?.irradiance.series)
        #expect(abs(ghi.reduce(0, +) / 1000 - 1435.9) < 0.1)
        #expect(site.power.solar?.irradiance.source?.format == .epw)
    }

    @Test func tmy3OverAWholeYear() throws {
        let result = try Self.load(Self.fleetYAML(weather: "w.csv"), copy: ["w.csv": Self.tmy3])
        let site = try #require(try result.get().site(named: "site-1"))
        let ambient = try #require(site.cooling.ambient.series)
        #expect(abs(ambient.reduce(0, +) / 8760 - 14.422) < 0.001)
        #expect(ambient.max() == 35.6)
        // TMY3 hour-ending 14:00 on 07/09 at UTC-5 is 18:00-19:00 UTC.
        let grid = try #require(try result.get().scenario?.grid)
        let index = grid.index(
            of: Date(timeIntervalSince1970: ISO8601.parseEpochSeconds(Array("2026-07-09T18:00:00Z".utf8)[...])!)
        )
        #expect(ambient[index] == 35.6)
        let ghi = try #require(site.power.solar?.irradiance.series)
        #expect(abs(ghi.reduce(0, +) / 1000 - 1566.2) < 0.1)
        #expect(ghi.max() == 1013)
        #expect(site.power.solar?.irradiance.source?.format == .tmy3)
    }

    @Test func quarterHourStepsRepeatTheHour() throws {
        let result = try Self.load(
            Self.fleetYAML(start: "2026-06-30T12:00:00Z", horizon: "4 h", step: "15 min", weather: "w.epw"),
            copy: ["w.epw": Self.epw]
        )
        let ambient = try #require(try result.get().site(named: "site-1")?.cooling.ambient.series)
        #expect(ambient.count == 16)
        #expect(ambient[8...11].allSatisfy { $0 == 34.33 })
        #expect(ambient[7] != 34.33)
    }

    @Test func csvIsAveragedOntoLongerSteps() throws {
        let rows = (0..<48).map { "2026-03-02T\($0 < 10 ? "0" : "")\($0 % 24):00:00Z" }
        var csv = "time,available\n"
        for (i, _) in rows.enumerated() {
            let day = 2 + i / 24
            let hour = i % 24
            csv += "2026-03-0\(day)T\(hour < 10 ? "0" : "")\(hour):00:00Z,\(i % 2 == 0 ? "1" : "0.5")\n"
        }
        let yaml = Self.fleetYAML(
            start: "2026-03-02T00:00:00Z",
            horizon: "1 d",
            step: "2 h",
            weather: "w.epw",
            grid: "{file: g.csv, column: available}"
        )
        let result = try Self.load(yaml, files: ["g.csv": csv], copy: ["w.epw": Self.epw])
        let availability = try #require(try result.get().site(named: "site-1")?.power.grid?.availability.series)
        #expect(availability.count == 12)
        #expect(availability.allSatisfy { $0 == 0.75 })
    }

    @Test func csvDiagnostics() throws {
        let csv = """
            time,available,other
            2026-03-01T00:00:00Z,1,x
            2026-03-01T01:00:00Z,1.7,x
            2026-03-01T02:00:00Z,,x
            2026-03-01T02:00:00Z,1,x
            2026-03-01T03:00:00Z,0.9
            2026-03-01T04:00:00Z,abc,x

            """
        let yaml = Self.fleetYAML(
            start: "2026-03-01T00:00:00Z",
            horizon: "1 d",
            weather: "w.epw",
            grid: "{file: g.csv, column: available}"
        )
        let result = try Self.load(yaml, files: ["g.csv": csv], copy: ["w.epw": Self.epw])
        #expect(
            Self.diagnostics(result) == [
                "g.csv:4:22: error: available: expected a number, found an empty value (a gap)",
                "g.csv:5:1: error: time: expected a time after the previous row's 2026-03-01T02:00:00Z, found 2026-03-01T02:00:00Z",
                "g.csv:6:1: error: expected 3 fields as in the header (line 1), found 2",
                "g.csv:7:22: error: available: expected a number, found \"abc\"",
            ]
        )
    }

    @Test func rangeGapAndCoverageDiagnostics() throws {
        let csv = """
            time,available
            2026-03-01T00:00:00Z,1
            2026-03-01T01:00:00Z,1.7
            2026-03-01T02:00:00Z,1
            2026-03-01T09:00:00Z,1
            2026-03-01T10:00:00Z,1

            """
        let yaml = Self.fleetYAML(
            start: "2026-03-01T00:00:00Z",
            horizon: "1 d",
            weather: "w.epw",
            grid: "{file: g.csv, column: available}"
        )
        let result = try Self.load(yaml, files: ["g.csv": csv], copy: ["w.epw": Self.epw])
        #expect(
            Self.diagnostics(result) == [
                "g.csv:5:1: error: time: expected rows every 1 h (the file's usual step), found a gap of 7 h after 2026-03-01T02:00:00Z"
            ]
        )
        let fixed = csv.replacingOnce("2026-03-01T09", with: "2026-03-01T03")
            .replacingOnce("2026-03-01T10", with: "2026-03-01T04")
        let second = try Self.load(yaml, files: ["g.csv": fixed], copy: ["w.epw": Self.epw])
        #expect(
            Self.diagnostics(second) == [
                "g.csv:3:22: error: available: expected an availability fraction in 0...1 (for spec.power.grid.availability at fleet.yaml:13:42), found 1.7"
            ]
        )
        let inRange = fixed.replacingOnce("1.7", with: "0.7")
        let third = try Self.load(yaml, files: ["g.csv": inRange], copy: ["w.epw": Self.epw])
        #expect(
            Self.diagnostics(third) == [
                "fleet.yaml:13:42: error: spec.power.grid.availability: expected a trace covering the scenario, 2026-03-01T00:00:00Z to 2026-03-02T00:00:00Z, found g.csv covering 2026-03-01T00:00:00Z to 2026-03-01T05:00:00Z"
            ]
        )
    }

    @Test func missingColumnFileAndScenario() throws {
        let yaml = Self.fleetYAML(
            start: "2026-03-01T00:00:00Z",
            horizon: "1 d",
            weather: "w.epw",
            grid: "{file: nothing.csv, column: available}"
        )
        .replacingOnce("column: ghi", with: "column: dni")
        let result = try Self.load(yaml, copy: ["w.epw": Self.epw])
        let lines = Self.diagnostics(result)
        #expect(
            lines == [
                "fleet.yaml:13:42: error: spec.power.grid.availability: expected a readable trace file, found no file at nothing.csv",
                "fleet.yaml:14:39: error: spec.power.solar.irradiance: expected a column named \"dni\" in w.epw, found an EPW file, which offers ghi and temperature",
            ]
        )

        let noScenario = Self.fleetYAML(weather: "w.epw").components(separatedBy: "---\n")[1]
        let second = try Self.load(noScenario, copy: ["w.epw": Self.epw])
        #expect(
            Self.diagnostics(second) == [
                "fleet.yaml:9:39: error: spec.power.solar.irradiance: expected a Scenario document (start, horizon, step) to place this trace on, found none",
                "fleet.yaml:10:38: error: spec.cooling.ambient: expected a Scenario document (start, horizon, step) to place this trace on, found none",
            ]
        )
    }

    @Test func malformedEPWRowsAreReported() throws {
        var lines = try String(contentsOfFile: Self.epw, encoding: .utf8).components(separatedBy: "\n")
        var fields = lines[100].components(separatedBy: ",")
        fields[6] = "99.9"  // EPW's missing-value marker for dry-bulb temperature
        lines[100] = fields.joined(separator: ",")
        lines.remove(at: 200)
        let result = try Self.load(Self.fleetYAML(weather: "w.epw"), files: ["w.epw": lines.joined(separator: "\n")])
        #expect(
            Self.diagnostics(result) == [
                "w.epw:8:1: error: expected 8,760 hourly rows covering a whole year, found no row for 1/9 hour 1",
                "w.epw:101:60: error: temperature: expected a number, found the missing-value marker 99.9",
            ]
        )
    }
}
