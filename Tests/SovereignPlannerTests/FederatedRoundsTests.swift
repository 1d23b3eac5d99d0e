import Foundation
import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

/// The East-African federated workload planned as rounds: each participant trains its share at the site that
/// holds its dataset, never outside that dataset's residency, and each round has its quorum.
struct FederatedRoundsTests {
    static let name = "eac-maternal-health-federated"

    static func fleet() throws -> Fleet {
        try FleetLoader().load(paths: [Fixtures.example("east-africa")])
    }

    @Test(arguments: PlanningPolicy.all.map(\.name))
    func roundsTrainAtEachDatasetsSite(_ policyName: String) throws {
        let fleet = try Self.fleet()
        let policy = try #require(PlanningPolicy.named(policyName))
        let plan = try #require(Planner(policy: policy).plan(fleet))
        let placed = try #require(plan.workloads.first { $0.name == Self.name })
        let workload = try #require(fleet.workloads.first { $0.name == Self.name })
        let federation = try #require(workload.federation)
        #expect(placed.status == .completed, "\(placed.explanation ?? "")")
        #expect(placed.rounds.count == federation.rounds)
        #expect(placed.rounds.map(\.number) == Array(1...federation.rounds))
        let homes = ["ke-clinical-notes": "nairobi-1", "ug-clinical-notes": "kampala-1", "tz-clinical-notes": "dar-1"]
        var previous = -1
        for round in placed.rounds {
            #expect(round.roster.count >= federation.minSites)
            #expect(round.open > previous && round.close > round.open)
            previous = round.open
            for member in round.roster {
                #expect(homes[member.dataset] == member.site)
                #expect(member.flops > 0)
                // The update crosses a 10 Gbps link, except at the coordinator's own site.
                #expect((member.site == "nairobi-1") == (member.uploadSeconds == 0))
            }
        }
        let trainedAt = Set(placed.rounds.flatMap(\.roster).map(\.site))
        #expect(trainedAt == ["nairobi-1", "kampala-1", "dar-1"])
        for segment in placed.segments {
            let dataset = try #require(segment.participant.flatMap(fleet.dataset(named:)))
            #expect(segment.site == homes[dataset.name])
            #expect(dataset.mayBeProcessed(in: fleet.sites[segment.reference.site].jurisdiction))
        }
        let checker = PlanChecker(fleet: fleet, plan: plan)
        #expect(checker.residencyViolations == [])
        #expect(checker.capacityViolations == [])
    }

    /// A round closes when its last update has arrived: the upload's seconds are counted after training.
    @Test func updateSizeAndTransferFollowTheModelAndLinks() throws {
        let fleet = try Self.fleet()
        let plan = try #require(Planner(policy: .powerAware).plan(fleet))
        let placed = try #require(plan.workloads.first { $0.name == Self.name })
        let round = try #require(placed.rounds.first)
        // 1.1B parameters at 4 bytes; 10 Gbps = 1.25 GB/s.
        #expect(round.update.bytes == 4.4e9)
        let kampala = try #require(round.roster.first { $0.site == "kampala-1" })
        #expect(abs(kampala.uploadSeconds - 4.4e9 / 1.25e9) < 1e-9)
        #expect(round.closeSeconds <= Double(round.close) * plan.grid.step)
    }

    /// Without the sites that hold two of its datasets, the workload is refused as the coordinator would refuse
    /// it; it is not placed as one unit somewhere else.
    @Test func missingParticipantsAreRefusedNotMoved() throws {
        let fleet = try Self.fleet()
        let shrunk = fleet.removing(
            sitesWhere: { ["kampala-1", "dar-1"].contains($0.name) },
            poolsWhere: { _, _ in false }
        )
        let plan = try #require(Planner(policy: .greedy).plan(shrunk))
        let placed = try #require(plan.workloads.first { $0.name == Self.name })
        #expect(placed.status == .unplaceable)
        #expect(placed.segments.isEmpty && placed.rounds.isEmpty)
        #expect(placed.explanation?.contains("ug-clinical-notes") == true, "\(placed.explanation ?? "")")
    }
}
