import SovereignModel
import Testing

@testable import SovereignPlanner

struct ResidencyFilterTests {
    let filter = ResidencyFilter()

    @Test func keepsPersonalDataInItsCountry() throws {
        let f = try PluginFixture()
        let state = filter.preFilter(try f.workload("finetune"), in: f.fleet)
        #expect(filter.filter(state, try f.candidate("nairobi-1/a100")) == nil)
        #expect(filter.filter(state, try f.candidate("nairobi-1/t4")) == nil)
        #expect(
            filter.filter(state, try f.candidate("kigali-1/l4"))
                == Rejection(filter: "residency", reason: "outside residency KE (dataset ke-health-records)")
        )
    }

    /// It says it passes every candidate in its countries (so the planner does not ask it there), and it does,
    /// for every workload of the fixture; outside them it refuses.
    @Test func passesEveryCandidateInsideItsCountries() throws {
        let f = try PluginFixture()
        var refusedOutside = 0
        for workload in f.fleet.workloads {
            let state = filter.preFilter(workload, in: f.fleet)
            #expect(filter.passesInside(state))
            guard let countries = filter.jurisdictions(state) else { continue }
            for candidate in f.state.candidates {
                let inside = countries.contains(candidate.site.jurisdiction)
                #expect(inside == (filter.filter(state, candidate) == nil))
                if !inside { refusedOutside += 1 }
            }
        }
        #expect(refusedOutside > 0)
    }

    @Test func workWithoutDatasetsRunsAnywhere() throws {
        let f = try PluginFixture()
        let state = filter.preFilter(try f.workload("assistant"), in: f.fleet)
        #expect(f.state.candidates.allSatisfy { filter.filter(state, $0) == nil })
    }

    @Test func anUnknownDatasetIsRefusedEverywhereByName() throws {
        let f = try PluginFixture()
        let pod = Workload.podConstraint(name: "pod", datasets: ["ke-health-records", "lost"], classification: nil)
        let state = filter.preFilter(pod, in: f.fleet)
        #expect(
            filter.filter(state, try f.candidate("nairobi-1/a100"))
                == Rejection(filter: "residency", reason: "dataset lost unknown")
        )
        // The first dataset in the workload's order that refuses the site is the one explained.
        #expect(filter.filter(state, try f.candidate("kigali-1/l4"))?.reason.hasPrefix("outside residency KE") == true)
    }
}
