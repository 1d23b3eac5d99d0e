import Foundation
import SovereignTesting
import Testing

/// `sovereign k8s labels` end to end.
struct KubernetesLabelsCommandTests {
    static let fleet = Fixtures.constantFleet
        .replacingOnce("  jurisdiction: RW\n", with: "  jurisdiction: RW\n  kubernetes: {region: rw-kigali}\n")

    func write() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try Self.fleet.write(to: dir.appendingPathComponent("fleet.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func printsTheLabelsOfEveryPool() async throws {
        let dir = try write()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLITests.run(["k8s", "labels", "fleet.yaml"], in: dir.path)
        #expect(run.stderr == "")
        #expect(run.status == 0)
        // nairobi-1: 1.2 MW × 0.95 / PUE 1.35 = 844 kW of IT power; 64 A100 and 48 T4 need 21.72 kW. kigali-1's
        // grid (600 kW / 1.5) carries its 32 L4 (1.728 kW); its nodes map by region alone (one pool).
        #expect(
            run.stdout == """
                Node labels for 3 pools (power and thermal state at 2026-03-02T00:00:00Z, from the spec's traces):

                nairobi-1/a100: 64 × nvidia-a100-80gb, 8 nodes
                  kubectl label node NODE sovereign.dev/pool=a100 sovereign.dev/power-state=ok sovereign.dev/site=nairobi-1 sovereign.dev/thermal-state=ok --overwrite
                  power ok: 844.444 kW of IT power now, 21.72 kW to run every accelerator; thermal ok: cooling for 900 kW

                nairobi-1/t4: 48 × nvidia-t4, 12 nodes
                  kubectl label node NODE sovereign.dev/pool=t4 sovereign.dev/power-state=ok sovereign.dev/site=nairobi-1 sovereign.dev/thermal-state=ok --overwrite
                  power ok: 844.444 kW of IT power now, 21.72 kW to run every accelerator; thermal ok: cooling for 900 kW

                kigali-1/l4: 32 × nvidia-l4, 4 nodes
                  kubectl label node NODE sovereign.dev/pool=l4 sovereign.dev/power-state=ok sovereign.dev/site=kigali-1 sovereign.dev/thermal-state=ok --overwrite
                  (nodes with topology.kubernetes.io/region=rw-kigali need no site or pool label)
                  power ok: 400 kW of IT power now, 1.728 kW to run every accelerator; thermal ok: cooling for 500 kW

                """
        )
    }

    @Test func jsonListsLabelsAndTopology() async throws {
        let dir = try write()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLITests.run(["k8s", "labels", "--format", "json", "fleet.yaml"], in: dir.path)
        #expect(run.status == 0)
        let pools = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [[String: Any]]
        #expect(pools.map { $0["pool"] as! String } == ["a100", "t4", "l4"])
        #expect((pools[2]["topology"] as? [String: String]) == ["topology.kubernetes.io/region": "rw-kigali"])
        #expect((pools[0]["labels"] as? [String: String])?["sovereign.dev/site"] == "nairobi-1")
    }

    @Test(arguments: [
        (
            "2026-01-01T00:00:00Z",
            "--at: expected a time within the scenario (2026-03-02T00:00:00Z to 2026-03-09T00:00:00Z), found \"2026-01-01T00:00:00Z\"\n"
        ),
        ("yesterday", "--at: expected a time in ISO 8601 UTC like \"2026-03-02T06:00:00Z\", found \"yesterday\"\n"),
    ])
    func badTimesAreRefused(_ at: String, _ message: String) async throws {
        let dir = try write()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLITests.run(["k8s", "labels", "--at", at, "fleet.yaml"], in: dir.path)
        #expect(run.status != 0)
        #expect(run.stdout == "")
        #expect(run.stderr.hasPrefix(message))
    }
}
