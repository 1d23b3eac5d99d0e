import Foundation
import SovereignModel
import SovereignTesting
import Testing

/// The example fleet is a contract: it must validate exactly as written.
struct ContractTests {
    static let contract = Fixtures.path("contract/fleet.yaml")

    @Test func contractFleetValidates() throws {
        let fleet = try FleetLoader().load(paths: [Self.contract])
        #expect(fleet.summary.description == "2 sites, 4 pools (160 accelerators), 1 dataset, 2 workloads, 1 policy")
        let scenario = try #require(fleet.scenario)
        #expect(scenario.grid.count == 7 * 24 * 4)
        #expect(scenario.forecastError == 0.10)

        let nairobi = try #require(fleet.site(named: "nairobi-1"))
        #expect(nairobi.power.grid?.capacity == .megawatts(1.2))
        #expect(nairobi.power.battery?.capacity == .kilowattHours(800))
        #expect(nairobi.cooling.pue.value(at: .celsius(32)) == 1.35 + 0.015 * 10)
        #expect(nairobi.storage?.bandwidth == Bandwidth(baseValue: 2e9))
        #expect(nairobi.links.map(\.to) == ["kigali-1"])
        #expect(nairobi.links.first?.bandwidth == .gigabitsPerSecond(10))
        let availability = try #require(nairobi.power.grid?.availability.series)
        #expect(availability.count == 672)
        #expect(availability.allSatisfy { (0...1).contains($0) })
        #expect(nairobi.power.grid?.availability.source?.format == .csv)
        #expect(nairobi.cooling.ambient.source?.format == .epw)

        let kigali = try #require(fleet.site(named: "kigali-1"))
        #expect(kigali.operator.parentJurisdiction == "US")
        #expect(kigali.cooling.ambient.isConstant)
        #expect(kigali.power.grid?.carbonIntensity.range.lowerBound.gramsPerKilowattHour == 316.327)

        let npu = try #require(fleet.catalog["regional-npu-v2"])
        #expect(npu.provenance == .user)
        #expect(npu.memory == .gigabytes(32))
        #expect(npu.designedIn == "KE")

        let finetune = try #require(fleet.workload(named: "swahili-clinical-finetune"))
        #expect(finetune.memoryDemand() == .gigabytes(112))
        #expect(finetune.compute == .tokens(2e9))
        #expect(finetune.checkpoint?.every == .minutes(30))
        let assistant = try #require(fleet.workload(named: "citizen-services-assistant"))
        #expect(assistant.acceptedPrecisions == [.fp16, .int8, .int4])
        #expect(assistant.memoryDemand(at: .int4) == .gigabytes(42))
        #expect(fleet.countries(of: "EAC").count == 8)
        #expect(fleet.policies.first?.updatesMayCrossCountries?.contains("KE") == true)
        #expect(fleet.policies.first?.domesticOperatorFor == [.personal, .sensitive])
    }

    @Test func loadingIsDeterministic() throws {
        let first = try FleetLoader().load(paths: [Self.contract])
        let second = try FleetLoader().load(paths: [Self.contract])
        for (a, b) in zip(first.sites, second.sites) {
            #expect(a.power.grid?.availability.series == b.power.grid?.availability.series)
            #expect(a.cooling.ambient.series == b.cooling.ambient.series)
        }
    }

    @Test(arguments: ["east-africa", "europe"])
    func bundledExamplesValidate(name: String) throws {
        let fleet = try FleetLoader().load(paths: [Fixtures.example(name)])
        #expect(fleet.sites.count >= 3)
        #expect(fleet.workloads.count >= 6)
        #expect(fleet.scenario != nil)
        // Examples are built on real traces, not constants alone.
        #expect(fleet.sites.contains { $0.power.grid?.availability.isConstant == false })
        #expect(fleet.sites.contains { $0.cooling.ambient.isConstant == false })
    }
}
