import Benchmark
import FleetGenerator
import SovereignModel

// Reading single trace files. The trace reader is internal to SovereignModel, so each benchmark loads
// a minimal fleet (one Scenario, one Site) whose site names the trace: what is measured is reading
// and parsing the file, checking every row's range, and averaging the column onto the scenario's
// 8,760 hourly steps. The "constants only" benchmark is the same fleet with no trace, the floor to
// subtract.

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

/// One site's trace file and the shared weather files (generated with a one-site fleet).
let fixture = FleetGenerator(sites: 1, workloads: 0, datasets: 0, specFiles: 4)

let scenario = """
    apiVersion: sovereign.dev/v1
    kind: Scenario
    metadata: {name: year}
    spec: {start: \(FleetGenerator.scenarioStart), horizon: 365 d, step: 1 h}
    ---
    apiVersion: sovereign.dev/v1
    kind: Site
    metadata: {name: only-site}
    spec:
      jurisdiction: KE
      operator: {name: Example, jurisdiction: KE}
      pools: [{name: l4, accelerator: nvidia-l4, count: 8}]

    """

let constantsOnly =
    scenario + """
          power: {grid: {capacity: 1 MW, carbonIntensity: 100 g/kWh}}
          cooling: {capacity: 1 MW, ambient: 24 C, pue: {base: 1.4}}
        """

let csvYear =
    scenario + """
          power:
            grid:
              capacity: 1 MW
              availability: {file: traces/site-00000.csv, column: available}
              carbonIntensity: {file: traces/site-00000.csv, column: gco2_per_kwh}
          cooling: {capacity: 1 MW, ambient: 24 C, pue: {base: 1.4}}
        """

let epwYear =
    scenario + """
          power:
            grid: {capacity: 1 MW, carbonIntensity: 100 g/kWh}
            solar: {peak: 400 kW, irradiance: {file: weather/\(FleetGenerator.epwFile), column: ghi}}
          cooling: {capacity: 1 MW, ambient: {file: weather/\(FleetGenerator.epwFile), column: temperature}, pue: {base: 1.4}}
        """

let tmy3Year =
    scenario + """
          power:
            grid: {capacity: 1 MW, carbonIntensity: 100 g/kWh}
            solar: {peak: 400 kW, irradiance: {file: weather/\(FleetGenerator.tmy3File), column: ghi}}
          cooling: {capacity: 1 MW, ambient: {file: weather/\(FleetGenerator.tmy3File), column: temperature}, pue: {base: 1.4}}
        """

func register(_ name: String, _ text: String) {
    Benchmark(
        name,
        configuration: .init(metrics: metrics, warmupIterations: 3, maxDuration: .seconds(10), maxIterations: 200),
        closure: { benchmark throws in
            // Trace paths resolve against the spec file's directory: the generated fixture.
            let file = fixture.directory.appendingPathComponent("trace-parsing.yaml").path
            for _ in benchmark.scaledIterations {
                blackHole(try FleetLoader().load(sources: [(file, text)]))
            }
        },
        setup: { try fixture.ensureGenerated() }
    )
}

let benchmarks: @Sendable () -> Void = {
    register("constants only (floor)", constantsOnly)
    register("CSV hourly year, 8761 rows, 2 columns", csvYear)
    register("EPW typical year, ghi + temperature", epwYear)
    register("TMY3 typical year, ghi + temperature", tmy3Year)
}
