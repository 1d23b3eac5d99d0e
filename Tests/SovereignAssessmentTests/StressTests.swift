import SovereignAssessment
import SovereignModel
import SovereignPlanner
import Testing

@Suite struct StressTests {
    /// Tanzanian data only Huawei parts in Tanzania can process, next to a Kenyan NVIDIA site.
    static func residencyFleet() throws -> Fleet {
        var text = FleetText()
        text.site("dar-1", in: "TZ", pools: [("huawei-ascend-910b", 16)])
        text.site("nairobi-1", in: "KE", pools: [("nvidia-a100-80gb", 64), ("nvidia-l4", 8)])
        text.dataset("tz-records", at: "dar-1", residency: "TZ", keys: "TZ")
        text.dataset("ke-corpus", at: "nairobi-1", residency: "KE", keys: "KE")
        text.workload("tz-tune", dataset: "tz-records")
        text.workload("ke-tune", dataset: "ke-corpus")
        text.software(
            "cann",
            role: "runtime",
            licence: "proprietary",
            origin: "CN",
            updatesFrom: "CN",
            sites: ["dar-1"]
        )
        text.software(
            "cuda",
            role: "runtime",
            licence: "proprietary",
            origin: "US",
            updatesFrom: "US",
            sites: ["nairobi-1"]
        )
        return try text.load()
    }

    @Test func cuttingTheOnlyVendorInsideAResidencyLeavesItsWorkUnplaceableForResidency() async throws {
        let fleet = try Self.residencyFleet()
        let run = try #require(
            await StressTest.run(fleet, scenarios: [[Cut(.vendor, "Huawei")]], policy: .powerAware, seed: 1)
        )
        let result = try #require(run.results.first)
        #expect(result.removesNothing == nil)
        #expect(result.sitesLost == ["dar-1"])
        #expect(result.poolsLost == ["dar-1/p0"])
        #expect(result.acceleratorsLost == 16)
        #expect(result.acceleratorsTotal == 88)
        #expect(abs(result.pflopsLost - 16 * 0.32) < 1e-9)
        #expect(result.powerLost.watts == 16 * 400)
        #expect(result.datasetsAtLostSites == ["tz-records"])
        #expect(result.newlyUnplaceable.map(\.workload) == ["tz-tune"])
        let explanation = try #require(result.newlyUnplaceable.first?.explanation)
        #expect(explanation.hasPrefix("tz-tune: 0/2 pools fit: 2 outside residency TZ (dataset tz-records)"))
        // The Kenyan work is untouched; the Tanzanian work is lost.
        #expect(result.completed.uncut == 2)
        #expect(result.completed.cut == 1)
        #expect(result.workDone.cut < result.workDone.uncut)
        #expect(result.softwareWithoutUpdates.isEmpty)
    }

    @Test func cutsCombineAndEachIsAlsoRunAlone() async throws {
        let fleet = try Self.residencyFleet()
        let cuts = [Cut(.designer, "US"), Cut(.jurisdiction, "TZ")]
        let scenarios = StressTest.scenarios(cuts)
        #expect(
            scenarios.map { $0.map(\.description) } == [
                ["designer=US"], ["jurisdiction=TZ"], ["designer=US", "jurisdiction=TZ"],
            ]
        )
        let run = try #require(await StressTest.run(fleet, scenarios: scenarios, policy: .powerAware, seed: 1))
        #expect(run.results.map(\.acceleratorsLost) == [72, 16, 88])
        #expect(run.results[2].sitesLost == ["dar-1", "nairobi-1"])
        #expect(run.results[2].completed.cut == 0)
        #expect(run.results[2].newlyUnplaceable.map(\.workload) == ["tz-tune", "ke-tune"])
        #expect(run.results[0].softwareWithoutUpdates == ["cuda"])
    }

    @Test func aCutThatNamesNothingSaysWhatTheFleetHas() async throws {
        let fleet = try Self.residencyFleet()
        let run = try #require(
            await StressTest.run(fleet, scenarios: [[Cut(.vendor, "AMD")]], policy: .powerAware, seed: 1)
        )
        let result = try #require(run.results.first)
        #expect(
            result.removesNothing == "vendor=AMD: no accelerator in this fleet is sold by AMD (vendors: Huawei, NVIDIA)"
        )
        #expect(result.acceleratorsLost == 0)
        #expect(result.completed.cut == result.completed.uncut)
    }

    @Test func operatorJurisdictionCutsSitesWhoseParentAnswersThere() async throws {
        var text = FleetText()
        text.site("rw-1", in: "RW", pools: [("nvidia-l4", 8)], parent: "US")
        text.site("ke-1", in: "KE", pools: [("nvidia-l4", 8)])
        let fleet = try text.load()
        let cut = try Cut.parse("operator-jurisdiction=US")
        let run = try #require(await StressTest.run(fleet, scenarios: [[cut]], policy: .greedy, seed: 1))
        #expect(run.results.first?.sitesLost == ["rw-1"])
        #expect(run.results.first?.acceleratorsLost == 8)
    }

    static let badCuts: [(String, String)] = [
        (
            "vendor",
            "--cut: expected KIND=VALUE with KIND one of vendor, designer, fabricator, operator-jurisdiction, site, jurisdiction, found \"vendor\""
        ),
        (
            "colour=red",
            "--cut: expected KIND=VALUE with KIND one of vendor, designer, fabricator, operator-jurisdiction, site, jurisdiction, found \"colour\" in \"colour=red\""
        ),
        ("vendor=", "--cut vendor=: expected a vendor name like NVIDIA, found nothing"),
        ("designer=USA", "--cut designer=: expected an ISO 3166-1 alpha-2 country code like US, found \"USA\""),
        (
            "operator-jurisdiction=us",
            "--cut operator-jurisdiction=: expected an ISO 3166-1 alpha-2 country code like US, found \"us\""
        ),
        (
            "jurisdiction=Kenya",
            "--cut jurisdiction=: expected a country code like KE or a JurisdictionGroup name like EAC, found \"Kenya\""
        ),
        ("site=Nairobi 1", "--cut site=: expected a site name like nairobi-1, found \"Nairobi 1\""),
    ]

    @Test(arguments: badCuts)
    func badCutsSayWhatWasExpectedAndFound(_ text: String, _ message: String) {
        #expect(throws: CutError.self) { try Cut.parse(text) }
        do {
            _ = try Cut.parse(text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func aJurisdictionGroupMustBeTheFleets() throws {
        let fleet = try Self.residencyFleet()
        try Cut.parse("jurisdiction=EU").check(against: fleet)
        let cut = try Cut.parse("jurisdiction=EAC")
        #expect(throws: CutError.self) { try cut.check(against: fleet) }
        do {
            try cut.check(against: fleet)
        } catch {
            #expect(
                error.description
                    == "--cut jurisdiction=: expected a country code or one of this fleet's JurisdictionGroups (EU), found \"EAC\""
            )
        }
    }
}
