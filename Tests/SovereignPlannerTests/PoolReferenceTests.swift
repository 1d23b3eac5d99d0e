import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

struct PoolReferenceTests {
    /// Every segment of every plan refers to the pool it names, by index, so no consumer looks it up again.
    @Test func segmentsReferToThePoolsTheyName() throws {
        for name in ["east-africa", "europe"] {
            let fleet = try FleetLoader().load(paths: [Fixtures.example(name)])
            for policy in PlanningPolicy.all {
                let plan = try #require(Planner(policy: policy).plan(fleet))
                for segment in plan.workloads.flatMap(\.segments) {
                    let site = fleet.sites[segment.reference.site]
                    #expect(site.name == segment.site)
                    #expect(site.pools[segment.reference.pool].name == segment.pool)
                }
            }
        }
    }

    /// What the planner computed travels with the plan: the work each workload needs.
    @Test func plansCarryTheWorkTheyNeed() throws {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        let plan = try #require(Planner(policy: .greedy).plan(fleet))
        let finetune = try #require(plan.workloads.first { $0.name == "finetune" })
        #expect(finetune.requiredFLOPs == 6 * 7e9 * 2e9)
        #expect(plan.workloads.first { $0.name == "assistant" }?.requiredFLOPs == nil)
    }
}
