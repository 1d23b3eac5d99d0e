import Foundation
import SovereignBase
import SovereignModel

/// Writes a synthetic but deterministic fleet (YAML specs, per-site trace CSVs, shared weather files)
/// into a temporary directory, for the benchmarks.
///
/// Nothing is random noise: every trace value is a real value from the repository's example traces
/// (`Examples/*/traces`), cycled over the year with a per-site offset, and the weather files are byte
/// copies of the real TMY3/EPW fixtures. The choices that vary between sites and workloads (country,
/// pools, model size, ...) come from a seeded SplitMix64, so the same parameters always give the same
/// bytes. A finished fleet is kept (marked by `.complete`) and reused by later runs.
public struct FleetGenerator: Sendable {
    public var sites: Int
    public var workloads: Int
    public var datasets: Int
    /// How many YAML files the documents are spread over (at least 4: scenario, sites, datasets, workloads).
    public var specFiles: Int
    public var seed: UInt64
    /// The scenario's horizon and step as spec text ("365 d", "1 h"); traces always cover the year.
    public var horizon: String
    public var step: String

    /// Scenario: by default 365 days of 1-hour steps from 2026-01-01T00:00:00Z.
    public static let scenarioStart = "2026-01-01T00:00:00Z"
    /// Trace rows: hourly from 2026-01-01T00:00:00Z to 2027-01-01T00:00:00Z inclusive (8,761 rows).
    public static let traceRows = 365 * 24 + 1
    public static let epwFile = "piedmont-it-pvgis-tmy.epw"
    public static let tmy3File = "greensboro-nc-tmy3.csv"

    /// Bump when the generated content changes, so that stale cached fleets are not reused.
    static let formatVersion = 1

    public init(
        sites: Int,
        workloads: Int,
        datasets: Int,
        specFiles: Int = 10,
        seed: UInt64 = 2026,
        horizon: String = "365 d",
        step: String = "1 h"
    ) {
        self.horizon = horizon
        self.step = step
        self.sites = sites
        self.workloads = workloads
        self.datasets = datasets
        self.specFiles = max(4, specFiles)
        self.seed = seed
    }

    // MARK: Locations

    /// The repository root: `SOVEREIGN_REPO` if set, else three levels above this source file.
    public static var repositoryRoot: URL {
        if let path = ProcessInfo.processInfo.environment["SOVEREIGN_REPO"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // FleetGenerator
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // Benchmarks
            .deletingLastPathComponent()  // repository root
    }

    /// Where generated fleets live: `$SOVEREIGN_BENCH_DIR`, else `<temporary directory>/sovereign-benchmarks`.
    public static var workRoot: URL {
        if let path = ProcessInfo.processInfo.environment["SOVEREIGN_BENCH_DIR"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("sovereign-benchmarks")
    }

    public var directory: URL {
        Self.workRoot.appendingPathComponent(
            "fleet-v\(Self.formatVersion)-s\(sites)-w\(workloads)-d\(datasets)-f\(specFiles)-seed\(seed)"
                + (horizon == "365 d" && step == "1 h"
                    ? "" : "-h\(horizon.filter { !$0.isWhitespace })-t\(step.filter { !$0.isWhitespace })")
        )
    }

    /// Generates the fleet unless a complete copy is already there; returns its directory.
    @discardableResult
    public func ensureGenerated() throws -> URL {
        let manager = FileManager.default
        let target = directory
        if manager.fileExists(atPath: target.appendingPathComponent(".complete").path) { return target }
        let staging = URL(fileURLWithPath: target.path + ".partial-\(ProcessInfo.processInfo.processIdentifier)")
        try? manager.removeItem(at: staging)
        try manager.createDirectory(at: staging.appendingPathComponent("traces"), withIntermediateDirectories: true)
        try manager.createDirectory(at: staging.appendingPathComponent("weather"), withIntermediateDirectories: true)
        try write(into: staging)
        try Data().write(to: staging.appendingPathComponent(".complete"))
        try? manager.removeItem(at: target)
        try manager.moveItem(at: staging, to: target)
        return target
    }

    // MARK: Real source data

    /// A real trace column: the value texts exactly as written in the example file.
    struct SourceColumn {
        let file: String
        let values: [String]
    }

    static func readColumn(_ relativePath: String) throws -> SourceColumn {
        let url = repositoryRoot.appendingPathComponent(relativePath)
        let text = try String(contentsOf: url, encoding: .utf8)
        var values: [String] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count >= 2 else { continue }
            values.append(String(fields[1]).trimmingCharacters(in: .whitespaces))
        }
        guard !values.isEmpty else { throw GeneratorError("no values in \(url.path)") }
        return SourceColumn(file: relativePath, values: values)
    }

    static let availabilitySources = [
        "Examples/east-africa/traces/nairobi-grid.csv",
        "Examples/east-africa/traces/nairobi-grid-loadshed.csv",
        "Examples/east-africa/traces/mombasa-grid.csv",
        "Examples/europe/traces/turin-grid.csv",
    ]
    static let carbonSources = [
        "Examples/east-africa/traces/ke-carbon.csv",
        "Examples/east-africa/traces/rw-carbon.csv",
        "Examples/europe/traces/de-carbon.csv",
        "Examples/europe/traces/fi-carbon.csv",
        "Examples/europe/traces/fr-carbon.csv",
        "Examples/europe/traces/it-carbon.csv",
        "Examples/europe/traces/pl-carbon.csv",
    ]

    // MARK: Jurisdictions

    static let groups: [(name: String, members: [String])] = [
        ("EAC", ["KE", "UG", "TZ", "RW", "BI", "SS", "CD", "SO"]),
        ("EU", ["DE", "FR", "IT", "PL", "FI", "ES", "NL", "SE"]),
        ("ECOWAS", ["NG", "GH", "SN", "CI", "ML", "BF", "NE", "GN"]),
    ]

    // MARK: Writing

    func write(into root: URL) throws {
        var rng = SplitMix64(seed: seed)
        let fixtures = Self.repositoryRoot.appendingPathComponent("Tests/SovereignModelTests/Fixtures/weather")
        for name in [Self.epwFile, Self.tmy3File] {
            try FileManager.default.copyItem(
                at: fixtures.appendingPathComponent(name),
                to: root.appendingPathComponent("weather").appendingPathComponent(name)
            )
        }

        // Traces: one CSV per site, `time,available,gco2_per_kwh`, hourly over the whole year.
        let availability = try Self.availabilitySources.map(Self.readColumn)
        let carbon = try Self.carbonSources.map(Self.readColumn)
        let start = 1_767_225_600.0  // 2026-01-01T00:00:00Z
        let times = (0..<Self.traceRows).map { Array(ISO8601.format(epochSeconds: start + Double($0) * 3600).utf8) }
        let header = Array("time,available,gco2_per_kwh\n".utf8)
        let availabilityBytes = availability.map { $0.values.map { Array($0.utf8) } }
        let carbonBytes = carbon.map { $0.values.map { Array($0.utf8) } }
        for site in 0..<sites {
            let a = availabilityBytes[site % availabilityBytes.count]
            let c = carbonBytes[site % carbonBytes.count]
            let aOffset = (site * 37) % a.count
            let cOffset = (site * 11) % c.count
            var out: [UInt8] = []
            out.reserveCapacity(Self.traceRows * 40)
            out += header
            for hour in 0..<Self.traceRows {
                out += times[hour]
                out.append(UInt8(ascii: ","))
                out += a[(hour + aOffset) % a.count]
                out.append(UInt8(ascii: ","))
                out += c[(hour + cOffset) % c.count]
                out.append(UInt8(ascii: "\n"))
            }
            try Data(out).write(to: root.appendingPathComponent("traces/\(Self.siteName(site)).csv"))
        }

        // Specs, spread over `specFiles` YAML files: 1 scenario file, then sites, datasets, workloads.
        let siteFiles = max(1, (specFiles - 2) * 3 / 8)
        let datasetFiles = 1
        let workloadFiles = max(1, specFiles - 1 - siteFiles - datasetFiles)

        var head = ""
        head += document(
            "Scenario",
            "benchmark-year",
            """
              start: \(Self.scenarioStart)
              horizon: \(horizon)
              step: \(step)
              forecastError: 0.1
              seed: \(seed)
            """
        )
        for group in Self.groups {
            head += document("JurisdictionGroup", group.name, "  members: [\(group.members.joined(separator: ", "))]")
        }
        head += document(
            "Policy",
            "national-rules",
            """
              domesticOperatorFor: [personal, sensitive]
              updatesMayCross: [EAC, EU, ECOWAS]
            """
        )
        try writeSpec(head, to: root, name: "00-scenario.yaml")

        let siteCountries = (0..<sites).map { _ -> (group: Int, country: String) in
            let group = Int(rng.next() % UInt64(Self.groups.count))
            let members = Self.groups[group].members
            return (group, members[Int(rng.next() % UInt64(members.count))])
        }
        for file in 0..<siteFiles {
            var text = ""
            for site in chunk(file, of: siteFiles, total: sites) {
                text += siteDocument(site, country: siteCountries[site].country, rng: &rng)
            }
            try writeSpec(text, to: root, name: "10-sites-\(file).yaml")
        }

        var datasetText = ""
        var datasetSites: [Int] = []
        for dataset in 0..<datasets {
            let site = Int(rng.next() % UInt64(sites))
            datasetSites.append(site)
            let placement = siteCountries[site]
            let residency = dataset % 3 == 0 ? placement.country : Self.groups[placement.group].name
            let classification = ["public", "internal", "personal", "sensitive"][dataset % 4]
            datasetText += document(
                "Dataset",
                "dataset-\(pad(dataset, 4))",
                """
                  size: \(1 + rng.next() % 40) TB
                  site: \(Self.siteName(site))
                  residency: [\(residency)]
                  classification: \(classification)
                """
            )
        }
        try writeSpec(datasetText, to: root, name: "20-datasets.yaml")

        for file in 0..<workloadFiles {
            var text = ""
            for workload in chunk(file, of: workloadFiles, total: workloads) {
                text += workloadDocument(workload, rng: &rng)
            }
            try writeSpec(text, to: root, name: "30-workloads-\(file).yaml")
        }
    }

    static func siteName(_ index: Int) -> String { "site-\(pad(index, 5))" }

    func chunk(_ index: Int, of count: Int, total: Int) -> Range<Int> {
        (total * index / count)..<(total * (index + 1) / count)
    }

    func writeSpec(_ text: String, to root: URL, name: String) throws {
        try Data(text.utf8).write(to: root.appendingPathComponent(name))
    }

    func document(_ kind: String, _ name: String, labels: String? = nil, _ spec: String) -> String {
        let metadata = labels.map { "metadata:\n  name: \(name)\n  labels: {\($0)}\n" } ?? "metadata: {name: \(name)}\n"
        return "---\napiVersion: sovereign.dev/v1\nkind: \(kind)\n\(metadata)spec:\n\(spec)\n"
    }

    func siteDocument(_ site: Int, country: String, rng: inout SplitMix64) -> String {
        let trace = "traces/\(Self.siteName(site)).csv"
        let epw = "weather/\(Self.epwFile)"
        let tmy3 = "weather/\(Self.tmy3File)"
        var spec = "  jurisdiction: \(country)\n"
        if site % 7 == 3 {
            spec += "  operator: {name: Operator \(site % 50), jurisdiction: \(country), parentJurisdiction: US}\n"
        } else {
            spec += "  operator: {name: Operator \(site % 50), jurisdiction: \(country)}\n"
        }
        spec += "  power:\n"
        spec += "    grid:\n"
        spec += "      capacity: \(500 + rng.next() % 2000) kW\n"
        spec += "      availability: {file: \(trace), column: available}\n"
        spec += "      carbonIntensity: {file: \(trace), column: gco2_per_kwh}\n"
        // Every tenth site also has solar from the shared EPW weather file and a battery.
        if site % 10 == 0 {
            spec += "    solar:\n"
            spec += "      peak: \(100 + rng.next() % 500) kW\n"
            spec += "      irradiance: {file: \(epw), column: ghi}\n"
            spec += "      performanceRatio: 0.8\n"
            spec += "    battery: {capacity: 800 kWh, power: 400 kW}\n"
        }
        spec += "  cooling:\n"
        spec += "    capacity: \(400 + rng.next() % 1600) kW\n"
        spec += "    designAmbient: 32 C\n"
        switch site % 10 {
        case 0: spec += "    ambient: {file: \(epw), column: temperature}\n"
        case 5: spec += "    ambient: {file: \(tmy3), column: temperature}\n"
        default: spec += "    ambient: \(18 + site % 12) C\n"
        }
        spec += "    pue: {base: 1.\(25 + site % 30), reference: 22 C, perDegree: 0.015}\n"
        spec += "  storage: {bandwidth: 2 GB/s}\n"
        spec += "  pools:\n"
        let options = [
            ("a100", "nvidia-a100-80gb", 64, 8),
            ("h100", "nvidia-h100-sxm", 32, 8),
            ("l4", "nvidia-l4", 32, 8),
            ("t4", "nvidia-t4", 48, 4),
        ]
        let first = Int(rng.next() % 4)
        for k in 0..<(1 + site % 2) {
            let (name, accelerator, count, perNode) = options[(first + k) % options.count]
            spec += "    - {name: \(name), accelerator: \(accelerator), count: \(count), perNode: \(perNode)}\n"
        }
        if sites > 1 {
            spec += "  links:\n"
            spec += "    - {to: \(Self.siteName((site + 1) % sites)), bandwidth: 10 Gbps}\n"
        }
        if sites > 2 {
            spec += "    - {to: \(Self.siteName((site + sites - 1) % sites)), bandwidth: 10 Gbps}\n"
        }
        spec.removeLast()  // the final newline; `document` adds one
        return document("Site", Self.siteName(site), labels: "tier: t\(site % 4)", spec)
    }

    func workloadDocument(_ workload: Int, rng: inout SplitMix64) -> String {
        let types = ["training", "fine-tuning", "batch-inference", "inference", "federated"]
        let type = types[Int(rng.next() % UInt64(types.count))]
        let parameters = ["1B", "3B", "7B", "13B", "34B", "70B"][Int(rng.next() % 6)]
        var spec = "  type: \(type)\n"
        spec += "  model: {parameters: \(parameters)}\n"
        let datasetCount = datasets == 0 ? 0 : Int(rng.next() % 3)
        if datasetCount > 0 {
            let names = (0..<datasetCount).map { _ in "dataset-\(pad(Int(rng.next() % UInt64(datasets)), 4))" }
            spec += "  datasets: [\(Array(Set(names)).sorted().joined(separator: ", "))]\n"
        }
        // Arrivals over the first 82 % of the horizon (300 of 365 days for the year).
        let horizonHours = max(1, Int(TimeSpan.parse(horizon)?.hours ?? 8760))
        let arrivalHour = Int(rng.next() % UInt64(max(1, horizonHours * 300 / 365)))
        let arrival = 1_767_225_600.0 + Double(arrivalHour) * 3600
        if type == "inference" {
            spec += "  precision: [fp16, int8, int4]\n"
            spec += "  demand: {tokensPerSecond: \(100 + rng.next() % 5000)}\n"
            spec += "  servedFrom: [\(Self.groups[Int(rng.next() % 3)].name)]\n"
        } else {
            switch rng.next() % 3 {
            case 0: spec += "  compute: {tokens: \(1 + rng.next() % 20)B}\n"
            case 1: spec += "  compute: {flops: \(1 + rng.next() % 9).4e19}\n"
            default: spec += "  compute: {acceleratorHours: \(10 + rng.next() % 990), on: nvidia-a100-80gb}\n"
            }
            if type == "batch-inference" { spec += "  precision: [fp16, int8]\n" }
            let minimum = 1 + Int(rng.next() % 4)
            spec += "  accelerators: {min: \(minimum), max: \(minimum * 16)}\n"
            spec += "  mfu: 0.\(30 + rng.next() % 30)\n"
            if type != "batch-inference" { spec += "  checkpoint: {every: \(15 + rng.next() % 45) min}\n" }
            spec += "  arrival: \(ISO8601.format(epochSeconds: arrival))\n"
            spec += "  deadline: \(ISO8601.format(epochSeconds: arrival + Double(1 + rng.next() % 30) * 86_400))\n"
            spec += "  preemptible: \(rng.next() % 2 == 0)\n"
        }
        spec += "  priority: \(rng.next() % 100)"
        return document("Workload", "workload-\(pad(workload, 6))", labels: "team: team-\(workload % 25)", spec)
    }
}

struct GeneratorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
