import Foundation
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignPlanner
@testable import SovereignSimulator

/// The East-African federated workload simulated round by round: each participant's steps stay at its own
/// dataset's site, the checker follows each participant, and a site shed mid-round drops out of that round.
struct FederatedRoundsSimulationTests {
    static let name = "eac-maternal-health-federated"

    static func fleet() throws -> Fleet {
        try FleetLoader().load(paths: [Fixtures.example("east-africa")])
    }

    @Test(arguments: PlanningPolicy.all.map(\.name))
    func roundsRunAtHomeAndAreCounted(_ policyName: String) throws {
        let fleet = try Self.fleet()
        let policy = try #require(PlanningPolicy.named(policyName))
        let simulation = try #require(Simulator(fleet: fleet).run(policy: policy, seed: 1))
        let rounds = try #require(simulation.result.rounds)
        #expect(rounds.required == 100)
        #expect(rounds.completed > 0 && rounds.completed <= rounds.required)
        #expect(simulation.rounds.filter(\.completed).count == rounds.completed)
        #expect(simulation.result.violations.residency == 0)
        let index = try #require(fleet.workloads.firstIndex { $0.name == Self.name })
        let steps = simulation.executed.filter { $0.workload == index }
        #expect(!steps.isEmpty)
        var sites = Set<String>()
        for step in steps {
            let dataset = try #require(step.dataset.flatMap(fleet.dataset(named:)))
            #expect(fleet.sites[step.site].name == dataset.site)
            sites.insert(dataset.site)
        }
        #expect(sites == ["nairobi-1", "kampala-1", "dar-1"])
    }

    /// A hand-made plan that trains the Kenyan notes' share at kampala-1 (Uganda) breaks their residency, and the
    /// checker says so, though the same segment as Uganda's share is fine.
    @Test func checkerFollowsEachParticipant() throws {
        let fleet = try Self.fleet()
        let plan = try #require(Planner(policy: .powerAware).plan(fleet))
        let actual = fleet.sites.map { SiteBudget(site: $0, grid: plan.grid) }
        let checker = ViolationChecker(fleet: fleet, grid: plan.grid, actual: actual)
        #expect(checker.check(plan).residency == 0)
        let k = try #require(plan.workloads.firstIndex { $0.name == Self.name })
        let ugandan = try #require(plan.workloads[k].segments.first { $0.participant == "ug-clinical-notes" })
        for (dataset, violations) in [("ke-clinical-notes", ugandan.end - ugandan.start), ("ug-clinical-notes", 0)] {
            let moved = Segment(
                reference: ugandan.reference,
                accelerators: ugandan.accelerators,
                start: ugandan.start,
                end: ugandan.end,
                participant: dataset
            )
            var workloads = plan.workloads
            workloads[k] = Self.replacingSegments(of: plan.workloads[k], with: [moved])
            let handMade = Plan(policy: "hand-made", grid: plan.grid, workloads: workloads)
            #expect(checker.check(handMade).residency == violations)
        }
    }

    /// A site shed mid-round drops out of that round (its later steps in the round do not run); the round
    /// keeps going while the rest hold the quorum, and the workload is replanned once they cannot.
    @Test func aShedSiteDropsOutOfItsRound() throws {
        let fleet = try Self.fleet()
        let grid = try #require(fleet.scenario?.grid)
        let plan = try #require(Planner(policy: .powerAware).plan(fleet))
        let w = try #require(fleet.workloads.firstIndex { $0.name == Self.name })
        var run = Run(fleet: fleet, grid: grid, policy: .powerAware, initial: plan)
        // The first step where all three sites train: the first round still to close.
        let t = try #require(
            (0..<grid.count).first { t in run.schedule.allocations(at: t).filter { $0.workload == w }.count == 3 }
        )
        let here = run.schedule.allocations(at: t).filter { $0.workload == w }
        #expect(Set(here.compactMap(\.participant)).count == 3)
        run.interrupt(here[0], at: t)
        #expect(run.result.rounds?.dropouts == 1)
        #expect(run.droppedOut(here[0], at: t) && !run.droppedOut(here[1], at: t))
        #expect(!run.affected.contains(w))
        #expect(run.result.rounds?.failed == 0)
        run.interrupt(here[1], at: t)
        #expect(run.result.rounds?.dropouts == 2)
        #expect(run.result.rounds?.failed == 1)
        #expect(run.affected.contains(w))
        #expect(run.outcomes.last.map { !$0.completed && $0.workload == w } == true)
    }

    /// Once a round has failed more attempts than the spec's retries, the workload stops: a replan drops its
    /// remaining steps instead of retrying again.
    @Test func spentRetriesStopTheWorkload() throws {
        let fleet = try Self.fleet()
        let grid = try #require(fleet.scenario?.grid)
        let plan = try #require(Planner(policy: .powerAware).plan(fleet))
        let w = try #require(fleet.workloads.firstIndex { $0.name == Self.name })
        let retries = try #require(fleet.workloads[w].federation?.retries)
        var run = Run(fleet: fleet, grid: grid, policy: .powerAware, initial: plan)
        run.federated[w]?.failures = retries
        #expect(!run.givenUp(w))
        run.federated[w]?.failures = retries + 1
        #expect(run.givenUp(w))
        run.affected = [w]
        let budgets = fleet.sites.map { SiteBudget(site: $0, grid: grid) }
        run.replan(after: 0, planner: Planner(policy: .powerAware), forecast: budgets)
        #expect((1..<grid.count).allSatisfy { t in !run.schedule.allocations(at: t).contains { $0.workload == w } })
    }

    static func replacingSegments(of w: WorkloadPlan, with segments: [Segment]) -> WorkloadPlan {
        var plan = WorkloadPlan(
            name: w.name,
            status: w.status,
            segments: segments,
            events: w.events,
            precision: w.precision,
            requiredFLOPs: w.requiredFLOPs,
            plannedFLOPs: w.plannedFLOPs,
            finishStep: w.finishStep,
            explanation: w.explanation
        )
        plan.rounds = w.rounds
        return plan
    }
}
