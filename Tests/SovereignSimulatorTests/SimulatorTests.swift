import Foundation
import SovereignModel
import SovereignPlanner
import SovereignSimulator
import SovereignTesting
import Testing

struct SimulatorTests {
    @Test func powerAwareLosesLessThanGreedyThroughAnOutage() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fleet = try Fixtures.outageFleet(in: dir, forecastError: 0.05, checkpointEvery: "40 min")
        let greedy = try #require(Simulator(fleet: fleet).run(policy: .greedy, seed: 1)).result
        let aware = try #require(Simulator(fleet: fleet).run(policy: .powerAware, seed: 1)).result
        #expect(greedy.events.interruptions > 0)
        #expect(greedy.work.lostAcceleratorHours > 0)
        #expect(aware.work.lostAcceleratorHours < greedy.work.lostAcceleratorHours)
        #expect(aware.events.pauses >= 1)
        // It paused at the forecast shortfall with a checkpoint: nothing to lose.
        #expect(aware.work.lostAcceleratorHours == 0)
        #expect(aware.events.interruptions == 0)
        for result in [greedy, aware] {
            #expect(result.violations.power == 0)
            #expect(result.violations.residency == 0)
            #expect(result.violations.thermal == 0)
        }
    }

    /// Seeded random fleets with outages: no policy ever violates residency, power or cooling in what runs,
    /// no dataset leaves its residency, and power-aware never loses more work than greedy.
    @Test(arguments: 0..<4)
    func invariantsHoldOnRandomFleets(block: UInt64) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var withOutages = 0
        for seed in (block * 25)..<(block * 25 + 25) {
            let fleet = try RandomFleet.make(seed: seed, in: dir)
            var lost: [String: Double] = [:]
            for policy in PlanningPolicy.all {
                let result = try #require(Simulator(fleet: fleet).run(policy: policy, seed: seed)).result
                #expect(result.violations.residency == 0, "seed \(seed) \(policy.name)")
                #expect(result.violations.power == 0, "seed \(seed) \(policy.name)")
                #expect(result.violations.thermal == 0, "seed \(seed) \(policy.name)")
                #expect(result.transfers.datasetBytesOutsideResidency == 0, "seed \(seed) \(policy.name)")
                #expect(result.work.doneExaflop <= result.work.requiredExaflop * (1 + 1e-9))
                lost[policy.name] = result.work.lostAcceleratorHours
            }
            if lost["greedy"]! > 0 {
                withOutages += 1
                #expect(lost["power-aware"]! < lost["greedy"]!, "seed \(seed): \(lost)")
            } else {
                #expect(lost["power-aware"]! == 0, "seed \(seed): \(lost)")
            }
        }
        // The property is only worth something if greedy really meets outages in these fleets.
        #expect(withOutages >= 3, "only \(withOutages) of 25 fleets had greedy lose work")
    }

    @Test func sameSeedSameResult() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for seed in UInt64(500)..<510 {
            let fleet = try RandomFleet.make(seed: seed, in: dir)
            for policy in PlanningPolicy.all {
                var a = try #require(Simulator(fleet: fleet).run(policy: policy, seed: seed)).result
                var b = try #require(Simulator(fleet: fleet).run(policy: policy, seed: seed)).result
                a.wallSeconds = 0
                b.wallSeconds = 0
                #expect(try encoder.encode(a) == encoder.encode(b))
            }
        }
    }

    @Test func forecastErrorsAreSeeded() throws {
        let fleet = try FleetLoader().load(paths: [Fixtures.path("contract")])
        let grid = try #require(fleet.scenario?.grid)
        let a = Forecast.budgets(fleet, grid: grid, relativeError: 0.1, seed: 7)
        let b = Forecast.budgets(fleet, grid: grid, relativeError: 0.1, seed: 7)
        let c = Forecast.budgets(fleet, grid: grid, relativeError: 0.1, seed: 8)
        let actual = SiteBudget(site: fleet.sites[0], grid: grid)
        #expect(a[0].supply == b[0].supply)
        #expect(a[0].supply != c[0].supply)
        #expect(a[0].supply != actual.supply)
        // The error has the size asked for: about 10 % of supply, averaged over the week.
        let relative = zip(a[0].supply, actual.supply).filter { $0.1 > 0 }.map { abs($0.0 / $0.1 - 1) }
        let meanError = relative.reduce(0, +) / Double(relative.count)
        #expect(meanError > 0.03 && meanError < 0.2)
    }
}
