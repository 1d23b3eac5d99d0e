import Foundation
import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

struct PlannerTests {
    /// Hundreds of seeded random fleets, every policy: no residency, capacity or event violation, and no
    /// power violation for the policies that plan against power.
    @Test(arguments: 0..<6)
    func invariantsHoldOnRandomFleets(block: UInt64) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seed in (block * 50)..<(block * 50 + 50) {
            let fleet = try RandomFleet.make(seed: seed, in: dir)
            for policy in PlanningPolicy.all {
                let plan = try #require(Planner(policy: policy).plan(fleet))
                let checker = PlanChecker(fleet: fleet, plan: plan)
                #expect(checker.residencyViolations == [], "seed \(seed) \(policy.name)")
                #expect(checker.capacityViolations == [], "seed \(seed) \(policy.name)")
                #expect(checker.eventViolations == [], "seed \(seed) \(policy.name)")
                if policy.respectsPower {
                    #expect(checker.powerViolations == [], "seed \(seed) \(policy.name)")
                }
            }
        }
    }

    @Test func plansAreDeterministic() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seed in UInt64(900)..<920 {
            let fleet = try RandomFleet.make(seed: seed, in: dir)
            for policy in PlanningPolicy.all {
                let a = try #require(Planner(policy: policy).plan(fleet))
                let b = try #require(Planner(policy: policy).plan(fleet))
                #expect(a.workloads.map(\.segments) == b.workloads.map(\.segments))
                #expect(a.workloads.map(\.events) == b.workloads.map(\.events))
            }
        }
    }

    @Test func unplaceableWorkloadIsExplainedLikeKubeScheduler() throws {
        let fleet = try Fixtures.load(
            Fixtures.constantFleet.replacingOnce("min: 4, max: 32", with: "min: 4, max: 6")
                .replacingOnce(
                    "{name: a100, accelerator: nvidia-a100-80gb, count: 64, perNode: 8}",
                    with: "{name: a100, accelerator: nvidia-t4, count: 4, perNode: 4}"
                )
        )
        let plan = try #require(Planner(policy: .powerAware).plan(fleet))
        let finetune = try #require(plan.workloads.first { $0.name == "finetune" })
        #expect(finetune.status == .unplaceable)
        #expect(
            finetune.explanation
                == "finetune: 0/3 pools fit: "
                + "1 insufficient memory (needs 112 GB over ≤ 4 accelerators; nvidia-t4 has 16 GB each), "
                + "1 insufficient memory (needs 112 GB over ≤ 6 accelerators; nvidia-t4 has 16 GB each), "
                + "1 outside residency KE (dataset ke-health-records)"
        )
    }

    /// A site whose grid fails for six hours: power-aware checkpoints and pauses before the shortfall and
    /// resumes after it; greedy runs straight through it.
    @Test func powerAwarePausesBeforeAShortfall() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fleet = try Fixtures.outageFleet(in: dir)
        let aware = try #require(Planner(policy: .powerAware).plan(fleet)).workloads[0]
        // 12 kW / 1.2 PUE = 10 kW: 33 A100 at 300 W would fit, so all 32 run until the grid goes.
        #expect(aware.status == .completed)
        #expect(aware.segments.first?.accelerators == 32)
        #expect(aware.segments.first?.start == 0)
        #expect(aware.segments.first?.end == 8)
        let kinds = aware.events.map { "\($0.kind.rawValue)@\($0.step)" }
        #expect(kinds.prefix(3) == ["start@0", "checkpoint@8", "pause@8"])
        #expect(kinds.contains("resume@32"))
        let greedy = try #require(Planner(policy: .greedy).plan(fleet)).workloads[0]
        #expect(greedy.events.map(\.kind) == [.start, .finish])
        #expect(
            PlanChecker(fleet: fleet, plan: try #require(Planner(policy: .greedy).plan(fleet))).powerViolations.isEmpty
                == false
        )
    }

    @Test func bundledExamplesPlanWithoutViolations() throws {
        for name in ["east-africa", "europe"] {
            let fleet = try FleetLoader().load(paths: [Fixtures.example(name)])
            for policy in PlanningPolicy.all {
                let plan = try #require(Planner(policy: policy).plan(fleet))
                let checker = PlanChecker(fleet: fleet, plan: plan)
                #expect(checker.residencyViolations == [])
                #expect(checker.capacityViolations == [])
                #expect(checker.eventViolations == [])
                if policy.respectsPower { #expect(checker.powerViolations == []) }
                #expect(plan.workloads.allSatisfy { $0.status != .unplaceable || $0.explanation != nil })
            }
        }
    }

    /// Absurd but valid sizes (1e40 FLOPs) neither trap nor place anything impossible.
    @Test func hugeWorkDoesNotTrap() throws {
        let fleet = try Fixtures.load(
            Fixtures.constantFleet.replacingOnce("compute: {tokens: 2B}", with: "compute: {flops: 1e40}")
        )
        for policy in PlanningPolicy.all {
            let plan = try #require(Planner(policy: policy).plan(fleet))
            let finetune = try #require(plan.workloads.first { $0.name == "finetune" })
            #expect(finetune.status == .unfinished)
            #expect(finetune.explanation?.hasPrefix("finetune: not finished by the end of the scenario") == true)
        }
    }
}
