import Foundation
import SovereignModel
import Testing

@testable import SovereignServer

/// Accelerators held by pods Kubernetes bound count in the control loop's shedding (issue 17, point 2): the
/// control plane cannot pause them, so it sheds its own work to make room for them.
struct HeldAcceleratorsTests {
    typealias R = ReconcileTests

    @Test func sovereignShedsItsOwnWorkWhenBoundPodsTakeTheSitesPower() throws {
        let high = try R.spec(ControlFixtures.workload("high", priority: 9, accelerators: 16))
        // Room for one 16-GPU job at Nairobi (as in ReconcileTests), and no more.
        let watts = 16.0 * 400 * 1.25 * 1.2
        var snapshot = try R.snapshot(
            specs: [high],
            workloads: [R.record("high", .running, site: "nairobi-1", accelerators: 16)],
            attempts: [
                ObservedAttempt(attempt: R.attempt("high", site: "nairobi-1", accelerators: 16), observation: .running)
            ],
            power: ["nairobi-1": watts]
        )
        #expect(R.signalled(R.run(snapshot), .stop).isEmpty)
        let site = try #require(snapshot.fleet.siteIndex(named: "nairobi-1"))
        snapshot.held = [HeldAccelerators(site: site, pool: "a100", accelerators: 16)]
        let result = R.run(snapshot)
        #expect(R.signalled(result, .stop) == ["high"])
        #expect(R.state(result, "high") == .pausing)
        let reason = try #require(result.change.workloads.first { $0.name == "high" }?.detail)
        #expect(reason.hasPrefix("power at nairobi-1: "))
    }
}
