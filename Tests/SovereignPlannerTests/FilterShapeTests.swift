import Foundation
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner

/// A plan asks the candidates once per key of the filters' shapes and shares what they say among the
/// workloads with that key. The same policies with filters that declare no shape ask for every workload; on
/// random fleets both must give the same plans: the same segments, events and explanations.
struct FilterShapeTests {
    /// A filter as `inner`, but without a shape: the planner must ask it afresh for every workload.
    struct Shapeless<Inner: Filter>: Filter {
        let inner: Inner
        var name: String { inner.name }
        func preFilter(_ workload: Workload, in fleet: Fleet) -> Inner.State { inner.preFilter(workload, in: fleet) }
        func filter(_ state: Inner.State, _ candidate: Candidate) -> Rejection? { inner.filter(state, candidate) }
        func jurisdictions(_ state: Inner.State) -> Set<String>? { inner.jurisdictions(state) }
        func prepared(for workload: Workload, in fleet: Fleet) -> PreparedFilter {
            var prepared = inner.prepared(for: workload, in: fleet)
            prepared.shape = nil
            return prepared
        }
    }

    static func shapeless(_ filter: some Filter) -> any Filter { Shapeless(inner: filter) }

    static func shapeless(_ policy: PlanningPolicy) -> PlanningPolicy {
        PlanningPolicy(
            name: policy.name,
            filters: policy.filters.map { shapeless($0) },
            sizers: policy.sizers,
            limits: policy.limits,
            shifting: policy.shifting,
            scorers: policy.scorers
        )
    }

    @Test func everyStandardFilterDeclaresItsShape() throws {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        for workload in fleet.workloads {
            let prepared = PlanningPolicy.powerAware.preparedFilters(for: workload, in: fleet)
            #expect(prepared.shapes != nil, "\(workload.name)")
            #expect(Self.shapeless(.powerAware).preparedFilters(for: workload, in: fleet).shapes == nil)
        }
    }

    @Test func workloadsWithEqualShapesGetEqualOutcomes() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var shared = 0
        for seed in UInt64(700)..<720 {
            let fleet = try RandomFleet.make(seed: seed, in: dir)
            let candidates = PlanningState(fleet: fleet, grid: try #require(fleet.scenario?.grid), budgets: [])
                .candidates
            var seen: [[AnyHashable]: [String]] = [:]
            for workload in fleet.workloads {
                let filters = PlanningPolicy.carbonAware.preparedFilters(for: workload, in: fleet)
                let outcomes = candidates.map { Self.describe(filters.check($0)) }
                let key = try #require(filters.shapes)
                if let earlier = seen[key] {
                    shared += 1
                    #expect(earlier == outcomes, "seed \(seed), \(workload.name)")
                }
                seen[key] = outcomes
            }
        }
        // The random fleets must hold workloads that share a shape, or this test would ask nothing.
        #expect(shared > 0)
    }

    @Test(arguments: 0..<2)
    func sharedPlansEqualPlansThatAskForEveryWorkload(block: UInt64) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seed in (800 + block * 20)..<(800 + block * 20 + 20) {
            let fleet = try RandomFleet.make(seed: seed, in: dir)
            for policy in PlanningPolicy.choosable {
                let shared = try #require(Planner(policy: policy).plan(fleet))
                let asked = try #require(Planner(policy: Self.shapeless(policy)).plan(fleet))
                #expect(shared.workloads.map(\.segments) == asked.workloads.map(\.segments), "seed \(seed)")
                #expect(shared.workloads.map(\.events) == asked.workloads.map(\.events), "seed \(seed)")
                #expect(shared.workloads.map(\.explanation) == asked.workloads.map(\.explanation), "seed \(seed)")
            }
        }
    }

    static func describe(_ outcome: FilterOutcome) -> String {
        switch outcome {
        case .passes: "passes"
        case .fits(let fit): "fits \(String(describing: fit.precision)) \(fit.min)...\(fit.max)"
        case .rejected(let rejection): "\(rejection.filter): \(rejection.reason)"
        }
    }
}
