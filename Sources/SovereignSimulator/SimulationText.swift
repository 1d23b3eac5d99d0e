import Foundation
public import SovereignModel

/// The simulated policies compared side by side, as `sovereign simulate` prints them: one row per metric,
/// one right-aligned column per policy.
public enum SimulationText: Sendable {
    /// One row of the table: its name and how a result fills its cell.
    private typealias Row = (name: String, cell: @Sendable (SimulationResult) -> String)

    /// Renders the table.
    ///
    /// - Parameters:
    ///   - results: one result per policy, in column order.
    ///   - scenario: the scenario simulated, named in the corner cell.
    ///   - seed: the forecast-error seed, named in the corner cell.
    /// - Returns: The aligned table, lines joined by `\n`, without a final newline.
    public static func render(_ results: [SimulationResult], scenario: Scenario, seed: UInt64) -> String {
        let header = ["scenario \(scenario.name), seed \(seed)"] + results.map(\.policy)
        var table = [header]
        let federated = results.contains { $0.rounds != nil } ? roundRows : []
        for row in rows + federated { table.append([row.name] + results.map(row.cell)) }
        var widths = Array(repeating: 0, count: header.count)
        for row in table { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return table.map { row in
            row.enumerated().map { i, cell in
                i == 0
                    ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// `v` with `digits` decimals.
    private static func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }

    /// Rows shown only when the fleet has federated workloads planned by rounds.
    private static let roundRows: [Row] = [
        ("federated rounds completed", { r in r.rounds.map { "\($0.completed)/\($0.required)" } ?? "-" }),
        ("rounds failed / site dropouts", { r in r.rounds.map { "\($0.failed) / \($0.dropouts)" } ?? "-" }),
    ]

    private static let rows: [Row] = [
        ("workloads completed", { "\($0.workloads.completed)/\($0.workloads.total)" }),
        ("deadlines missed", { "\($0.workloads.deadlineMissed)" }),
        ("unplaceable", { "\($0.workloads.unplaceable)" }),
        ("work done (EFLOP)", { "\(f($0.work.doneExaflop))/\(f($0.work.requiredExaflop))" }),
        ("lost accelerator-hours", { f($0.work.lostAcceleratorHours) }),
        ("interruptions (load shed)", { "\($0.events.interruptions)" }),
        ("pauses / resumes / migrations", { "\($0.events.pauses) / \($0.events.resumes) / \($0.events.migrations)" }),
        ("facility energy (MWh)", { f($0.energy.facilityKWh / 1000, 2) }),
        (
            "grid / solar / battery (MWh)",
            {
                "\(f($0.energy.gridKWh / 1000, 2)) / \(f($0.energy.solarKWh / 1000, 2)) / \(f($0.energy.batteryKWh / 1000, 2))"
            }
        ),
        ("carbon (t CO2e)", { f($0.carbonKg / 1000, 2) }),
        ("checkpoint bytes across sites (GB)", { f($0.transfers.checkpointBytesAcrossSites / 1e9) }),
        (
            "violations residency/power/thermal",
            { "\($0.violations.residency)/\($0.violations.power)/\($0.violations.thermal)" }
        ),
    ]
}
