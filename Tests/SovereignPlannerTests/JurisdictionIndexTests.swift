import Foundation
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

/// The planner asks the filters only of candidates in the jurisdictions residency allows (through its index by
/// jurisdiction). The same policies with a residency filter that declares no bound ask every candidate; on
/// random fleets both must give the same plans: the same segments, events and explanations.
struct JurisdictionIndexTests {
    /// The residency filter without its jurisdiction bound: the planner must ask it of every candidate.
    struct UnboundResidency: Filter {
        let inner = ResidencyFilter()
        var name: String { inner.name }
        func preFilter(_ workload: Workload, in fleet: Fleet) -> ResidencyFilter.State {
            inner.preFilter(workload, in: fleet)
        }
        func filter(_ state: ResidencyFilter.State, _ candidate: Candidate) -> Rejection? {
            inner.filter(state, candidate)
        }
    }

    static func unbound(_ policy: PlanningPolicy) -> PlanningPolicy {
        PlanningPolicy(
            name: policy.name,
            filters: policy.filters.map { $0 is ResidencyFilter ? UnboundResidency() : $0 },
            sizers: policy.sizers,
            limits: policy.limits,
            shifting: policy.shifting,
            scorers: policy.scorers
        )
    }

    @Test func residencyFiltersDeclareTheirBound() throws {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        for workload in fleet.workloads {
            let prepared = PlanningPolicy.powerAware.preparedFilters(for: workload, in: fleet)
            let unbound = Self.unbound(.powerAware).preparedFilters(for: workload, in: fleet)
            #expect(unbound.jurisdictions == nil)
            if !workload.datasets.isEmpty { #expect(prepared.jurisdictions != nil, "\(workload.name)") }
        }
    }

    @Test(arguments: 0..<2)
    func indexedPlansEqualPlansThatAskEveryCandidate(block: UInt64) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seed in (500 + block * 30)..<(500 + block * 30 + 30) {
            let fleet = try RandomFleet.make(seed: seed, in: dir)
            for policy in PlanningPolicy.all {
                let indexed = try #require(Planner(policy: policy).plan(fleet))
                let asked = try #require(Planner(policy: Self.unbound(policy)).plan(fleet))
                #expect(indexed.workloads.map(\.segments) == asked.workloads.map(\.segments), "seed \(seed)")
                #expect(indexed.workloads.map(\.events) == asked.workloads.map(\.events), "seed \(seed)")
                #expect(indexed.workloads.map(\.explanation) == asked.workloads.map(\.explanation), "seed \(seed)")
            }
        }
    }
}
