import Foundation
import SovereignServer
import Testing

/// The dead man's switch of a site agent's attempts: what a supervisor does as the lease file ages.
struct AgentLeaseTests {
    let lease = AgentLease(renewedAt: 1_000, leaseSeconds: 4)

    @Test func aRenewedLeaseHoldsUntilAQuarterPastItsEnd() {
        #expect(lease.verdict(now: 1_000, stoppedAt: nil, graceSeconds: 60) == .holds)
        #expect(lease.verdict(now: 1_004.9, stoppedAt: nil, graceSeconds: 60) == .holds)
        #expect(lease.verdict(now: 1_005, stoppedAt: nil, graceSeconds: 60) == .stop)
    }

    @Test func aStoppedCommandIsKilledWhenItsGraceRunsOutOrAtThreeQuartersPastTheLease() {
        #expect(lease.verdict(now: 1_005.5, stoppedAt: 1_005, graceSeconds: 1) == .stop)
        #expect(lease.verdict(now: 1_006, stoppedAt: 1_005, graceSeconds: 1) == .kill)
        #expect(lease.verdict(now: 1_006.9, stoppedAt: 1_005, graceSeconds: 60) == .stop)
        #expect(lease.verdict(now: 1_007, stoppedAt: 1_005, graceSeconds: 60) == .kill)
        // Killed before the control plane may start the work elsewhere (two leases).
        #expect(lease.verdict(now: 1_007, stoppedAt: nil, graceSeconds: 60) == .kill)
    }

    @Test func aStopAlreadySentStaysAStopWhenTheAgentRenewsTheLeaseAgain() {
        let renewed = AgentLease(renewedAt: 1_010, leaseSeconds: 4)
        #expect(renewed.verdict(now: 1_010.5, stoppedAt: 1_005, graceSeconds: 60) == .stop)
    }

    @Test func theLeaseFileRoundTripsAndABrokenOneReadsAsNone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lease-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("lease.json").path
        try lease.write(to: path)
        #expect(AgentLease.read(path) == lease)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try Data("{\"renewedAt\": \"soon\"}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(AgentLease.read(path) == nil)
        #expect(AgentLease.read(dir.appendingPathComponent("missing").path) == nil)
    }
}
