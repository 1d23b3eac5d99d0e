import SovereignModel
import SovereignTesting
import Testing

/// The fleet language's checkpoint fields: `checkpointsMayCross` and `checkpointTransit` on a Policy,
/// `checkpoint.replicate` on a Workload.
struct CheckpointPolicyTests {
    static let policy = "spec: {domesticOperatorFor: [personal, sensitive], updatesMayCross: [EAC]}"

    static func withPolicy(_ fields: String) -> String {
        Fixtures.constantFleet.replacingOnce(
            policy,
            with: "spec: {domesticOperatorFor: [personal, sensitive], updatesMayCross: [EAC], \(fields)}"
        )
    }

    @Test func absentFieldsMeanTodaysBehaviour() throws {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        let policy = try #require(fleet.policies.first)
        #expect(policy.checkpointsMayCross.isEmpty)
        #expect(policy.checkpointsMayCrossCountries == nil)
        #expect(policy.checkpointTransit == .relay)
        #expect(fleet.workloads.allSatisfy { ($0.checkpoint?.replicate ?? 0) == 0 })
    }

    @Test func checkpointsMayCrossExpandsGroupsAndTransitDecodes() throws {
        let fleet = try Fixtures.load(Self.withPolicy("checkpointsMayCross: [EAC, FR], checkpointTransit: direct"))
        let policy = try #require(fleet.policies.first)
        #expect(policy.checkpointsMayCross == ["EAC", "FR"])
        #expect(policy.checkpointsMayCrossCountries == ["KE", "UG", "TZ", "RW", "FR"])
        #expect(policy.checkpointTransit == .direct)
    }

    @Test func wrongValuesAreReportedWhereTheyAre() {
        let diagnostics = Fixtures.diagnostics(Self.withPolicy("checkpointsMayCross: [XX], checkpointTransit: tunnel"))
        #expect(diagnostics.count == 2)
        #expect(
            diagnostics.contains {
                $0.hasSuffix("spec.checkpointTransit: expected one of relay, direct, found \"tunnel\"")
            }
        )
        #expect(
            diagnostics.contains {
                $0.hasSuffix(
                    "spec.checkpointsMayCross[0]: expected an ISO 3166-1 alpha-2 code like \"KE\" or a declared "
                        + "JurisdictionGroup, found \"XX\""
                )
            }
        )
    }

    @Test func aWorkloadMayAskForReplicatedCheckpoints() throws {
        let yaml = Fixtures.constantFleet.replacingOnce(
            "  compute: {tokens: 2B}\n",
            with: "  compute: {tokens: 2B}\n  checkpoint: {every: 1 h, replicate: 1}\n"
        )
        let fleet = try Fixtures.load(yaml)
        let checkpoint = try #require(fleet.workload(named: "finetune")?.checkpoint)
        #expect(checkpoint.replicate == 1)
        #expect(checkpoint.every == .hours(1))
        let wrong = Fixtures.diagnostics(yaml.replacingOnce("replicate: 1", with: "replicate: 40"))
        #expect(wrong.count == 1)
        #expect(
            wrong.first?.hasSuffix(
                "spec.checkpoint.replicate: expected a number of extra copies in 0...16, found \"40\""
            ) == true
        )
    }
}
