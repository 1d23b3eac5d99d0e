import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

/// Where a checkpoint may move and how its bytes travel: its datasets' residency, widened by
/// `checkpointsMayCross`, and `checkpointTransit` against the relay's jurisdiction.
struct CheckpointResidencyTests {
    /// The constant fleet (nairobi-1 in KE, kigali-1 in RW, a personal Kenyan dataset read by `finetune`)
    /// plus a second Kenyan site and a French one, with `policyFields` added to its policy.
    static func fleet(_ policyFields: String = "") throws -> Fleet {
        let policy = "spec: {domesticOperatorFor: [personal, sensitive], updatesMayCross: [EAC]}"
        var yaml = Fixtures.constantFleet
        if !policyFields.isEmpty {
            yaml = yaml.replacingOnce(
                policy,
                with: "spec: {domesticOperatorFor: [personal, sensitive], updatesMayCross: [EAC], \(policyFields)}"
            )
        }
        for (name, country) in [("nairobi-2", "KE"), ("paris-1", "FR")] {
            yaml += """
                ---
                apiVersion: sovereign.dev/v1
                kind: Site
                metadata: {name: \(name)}
                spec:
                  jurisdiction: \(country)
                  operator: {name: op, jurisdiction: \(country)}
                  power:
                    grid: {capacity: 1 MW}
                  cooling: {capacity: 1 MW, ambient: 20 C, pue: {base: 1.2}}
                  pools:
                    - {name: gpu, accelerator: nvidia-a100-80gb, count: 8}

                """
        }
        return try Fixtures.load(yaml)
    }

    static func move(
        _ fleet: Fleet,
        _ workload: String = "finetune",
        from: String,
        to: String,
        relay: String?
    ) throws -> Result<CheckpointMove, CheckpointRefusal> {
        CheckpointResidency.move(
            try #require(fleet.workload(named: workload)),
            from: try #require(fleet.site(named: from)),
            to: try #require(fleet.site(named: to)),
            relayJurisdiction: relay,
            in: fleet
        )
    }

    @Test func aMoveInsideTheResidencyIsRelayedWhereverTheControlPlaneIs() throws {
        let fleet = try Self.fleet()
        let move = try Self.move(fleet, from: "nairobi-1", to: "nairobi-2", relay: "FR").get()
        #expect(move.route == .relay)
        #expect(move.jurisdictionsCrossed == ["KE", "FR"])
        #expect(
            move.reason
                == "encrypted end to end and relayed by the control plane: only ciphertext passes through its jurisdiction"
        )
        let home = try Self.move(fleet, from: "nairobi-1", to: "nairobi-2", relay: "KE").get()
        #expect(home.jurisdictionsCrossed == ["KE"])
    }

    @Test func aMoveOutsideTheResidencyIsRefusedInThePlannersWords() throws {
        let fleet = try Self.fleet()
        let refusal = try #require(throws: CheckpointRefusal.self) {
            try Self.move(fleet, from: "nairobi-1", to: "kigali-1", relay: "KE").get()
        }
        #expect(
            refusal.reasons == [
                "checkpoint of finetune carries the residency of dataset ke-health-records (KE); site kigali-1 is in RW"
            ]
        )
    }

    @Test func checkpointsMayCrossWidensTheResidencyOnlyAsFarAsItSays() throws {
        let fleet = try Self.fleet("checkpointsMayCross: [EAC]")
        let move = try Self.move(fleet, from: "nairobi-1", to: "kigali-1", relay: "FR").get()
        #expect(move.route == .relay)
        #expect(move.jurisdictionsCrossed == ["KE", "FR", "RW"])
        let refusal = try #require(throws: CheckpointRefusal.self) {
            try Self.move(fleet, from: "nairobi-1", to: "paris-1", relay: "KE").get()
        }
        #expect(
            refusal.description
                == "checkpoint of finetune carries the residency of dataset ke-health-records (KE, widened by "
                + "checkpointsMayCross to EAC (policy national-rules)); site paris-1 is in FR"
        )
    }

    @Test func directTransitKeepsCiphertextOutOfARelayOutsideTheResidency() throws {
        let fleet = try Self.fleet("checkpointTransit: direct")
        let abroad = try Self.move(fleet, from: "nairobi-1", to: "nairobi-2", relay: "FR").get()
        #expect(abroad.route == .direct)
        #expect(abroad.jurisdictionsCrossed == ["KE"])
        #expect(abroad.reason.contains("control plane is in FR, outside the checkpoint's residency"))
        let undeclared = try Self.move(fleet, from: "nairobi-1", to: "nairobi-2", relay: nil).get()
        #expect(undeclared.route == .direct)
        let inside = try Self.move(fleet, from: "nairobi-1", to: "nairobi-2", relay: "KE").get()
        #expect(inside.route == .relay)
        // Direct transit never makes a refused destination allowed.
        #expect(throws: CheckpointRefusal.self) {
            try Self.move(fleet, from: "nairobi-1", to: "paris-1", relay: "KE").get()
        }
    }

    @Test func aWideningRelayIsInsideTheResidencyForDirectTransit() throws {
        let fleet = try Self.fleet("checkpointsMayCross: [EAC], checkpointTransit: direct")
        let move = try Self.move(fleet, from: "nairobi-1", to: "nairobi-2", relay: "RW").get()
        #expect(move.route == .relay)
        #expect(move.jurisdictionsCrossed == ["KE", "RW"])
    }

    @Test func aWorkloadWithoutDatasetsMayMoveAnywhere() throws {
        let fleet = try Self.fleet("checkpointTransit: direct")
        let move = try Self.move(fleet, "assistant", from: "nairobi-1", to: "paris-1", relay: "US").get()
        #expect(move.route == .relay)
        #expect(move.jurisdictionsCrossed == ["KE", "US", "FR"])
    }
}
