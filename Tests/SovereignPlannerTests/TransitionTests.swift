import Foundation
import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

struct TransitionTests {
    @Test func runningOnWithoutAGapIsNoEvent() {
        let transition = Transition(from: (step: 4, site: 1), to: (step: 5, site: 1))
        #expect(!transition.paused && !transition.moved)
        #expect(transition.events(service: false).isEmpty)
    }

    @Test func aGapCheckpointsPausesAndResumes() {
        let transition = Transition(from: (step: 4, site: 1), to: (step: 9, site: 1))
        #expect(transition.events(service: false).map(\.kind) == [.checkpoint, .pause, .resume])
        #expect(transition.events(service: false).map(\.atPrevious) == [true, true, false])
        #expect(transition.events(service: true).map(\.kind) == [.pause, .resume])
    }

    @Test func aMoveCheckpointsFirstUnlessItPausedOrIsAService() {
        let moving = Transition(from: (step: 4, site: 1), to: (step: 5, site: 2))
        #expect(moving.events(service: false).map(\.kind) == [.checkpoint, .migrate])
        #expect(moving.events(service: true).map(\.kind) == [.migrate])
        let later = Transition(from: (step: 4, site: 1), to: (step: 7, site: 2))
        #expect(later.events(service: false).map(\.kind) == [.checkpoint, .pause, .migrate])
    }

    /// The planner's events are the transitions between the steps its segments cover.
    @Test func planEventsFollowTheSegments() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fleet = try Fixtures.outageFleet(in: dir)
        let plan = try #require(Planner(policy: .powerAware).plan(fleet)).workloads[0]
        var derived: [PlanEvent.Kind] = [.start]
        for (a, b) in zip(plan.segments, plan.segments.dropFirst()) {
            let transition = Transition(from: (a.end - 1, a.reference.site), to: (b.start, b.reference.site))
            derived += transition.events(service: false).map(\.kind)
        }
        derived.append(.finish)
        #expect(plan.events.map(\.kind) == derived)
    }
}
