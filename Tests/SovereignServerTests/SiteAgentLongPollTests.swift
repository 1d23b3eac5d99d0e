import Foundation
import SovereignModel
import SovereignTesting
import Synchronization
import Testing

@testable import SovereignServer

/// The agent's side of a held poll: it asks to be held only once it has an answer to compare with, and
/// gives the held poll up (cancelling the request) as soon as its site has news, here a power reading.
@Suite(.timeLimit(.minutes(5)))
struct SiteAgentLongPollTests {
    /// A control plane that answers at once unless asked to hold, and then holds until cancelled.
    final class HoldingPlane: Sendable {
        let reports = Mutex<[AgentReport]>([])
        let cancelled = Mutex(0)
        let version = String(repeating: "a", count: 64)

        func answer(_ report: AgentReport) async throws -> AgentAssignments {
            reports.withLock { $0.append(report) }
            if report.wait != nil {
                do {
                    try await Task.sleep(for: .seconds(600))
                } catch {
                    cancelled.withLock { $0 += 1 }
                    throw error
                }
            }
            var answer = AgentAssignments(site: "a", leaseSeconds: 30, attempts: [])
            answer.version = version
            return answer
        }
    }

    @Test func aHeldPollIsGivenUpWhenThePowerReadingChanges() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plane = HoldingPlane()
        let watts = Mutex(100_000.0)
        let agent = try SiteAgent(
            site: "a",
            directory: directory,
            transport: { report, _ in try await plane.answer(report) },
            relay: RelayTransport(
                putOffer: { _, _ in },
                putChunk: { _, _, _ in },
                offer: { _ in nil },
                chunk: { _, _ in nil }
            ),
            power: { PowerSignalBody(available: .watts(watts.withLock { $0 })) }
        )
        var state = SiteAgentState()
        var power: PowerReading?
        #expect(try await agent.pollOnce(&state, lastPower: &power, hold: 20, watch: 0.05))
        #expect(plane.reports.withLock { $0.last?.wait } == nil, "no answer to compare with yet: not held")
        #expect(state.answered == plane.version)
        let lease = try #require(AgentLease.read(agent.leasePath))
        #expect(lease.leaseSeconds == 30)
        let change = Task {
            try await Task.sleep(for: .milliseconds(300))
            watts.withLock { $0 = 0 }
        }
        let answered = try await agent.pollOnce(&state, lastPower: &power, hold: 20, watch: 0.05)
        try await change.value
        #expect(!answered, "the held poll was given up for the news")
        let held = try #require(plane.reports.withLock { $0.last })
        #expect(held.wait == 20 && held.answered == plane.version)
        #expect(plane.cancelled.withLock { $0 } == 1)
        #expect(try await agent.pollOnce(&state, lastPower: &power))
        #expect(plane.reports.withLock { $0.last?.power?.available } == .watts(0))
    }
}
