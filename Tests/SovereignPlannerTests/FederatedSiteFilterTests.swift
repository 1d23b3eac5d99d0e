import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

struct FederatedSiteFilterTests {
    let filter = FederatedSiteFilter()

    /// Every pool of the East-African fleet as a candidate, by `site/pool`.
    static func candidates(_ fleet: Fleet) -> [String: Candidate] {
        var all: [String: Candidate] = [:]
        for (s, site) in fleet.sites.enumerated() {
            for pool in site.pools {
                guard let model = fleet.catalog[pool.accelerator] else { continue }
                all["\(site.name)/\(pool.name)"] = Candidate(
                    siteIndex: s,
                    poolIndex: all.count,
                    site: site,
                    pool: pool,
                    model: model
                )
            }
        }
        return all
    }

    /// A participant reading the Kenyan notes trains at nairobi-1, which holds them, and nowhere else in Kenya.
    @Test func aParticipantTrainsOnlyWhereItsDatasetIs() throws {
        let fleet = try FleetLoader().load(paths: [Fixtures.example("east-africa")])
        let federated = try #require(fleet.workloads.first { $0.name == "eac-maternal-health-federated" })
        let state = filter.preFilter(federated.participant(training: "ke-clinical-notes"), in: fleet)
        #expect(filter.jurisdictions(state) == ["KE"])
        let candidates = Self.candidates(fleet)
        for (name, candidate) in candidates {
            let rejection = filter.filter(state, candidate)
            #expect((rejection == nil) == name.hasPrefix("nairobi-1/"), "\(name)")
        }
        let mombasa = try #require(candidates.first { $0.key.hasPrefix("mombasa-1/") }?.value)
        #expect(
            filter.filter(state, mombasa)
                == Rejection(filter: "federated-site", reason: "federated training stays where its data is (nairobi-1)")
        )
    }

    /// Other work, and a federated workload without a federation section (placed as one unit), pass everywhere.
    @Test func otherWorkPasses() throws {
        let fleet = try FleetLoader().load(paths: [Fixtures.example("east-africa")])
        let candidates = Self.candidates(fleet)
        for workload in fleet.workloads where workload.federation == nil {
            let state = filter.preFilter(workload, in: fleet)
            #expect(filter.jurisdictions(state) == nil)
            #expect(candidates.values.allSatisfy { filter.filter(state, $0) == nil }, "\(workload.name)")
        }
    }
}
