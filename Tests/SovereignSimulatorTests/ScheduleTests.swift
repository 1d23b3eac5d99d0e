import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

@testable import SovereignSimulator

struct ScheduleTests {
    /// Segments added and cleared in a seeded order, the run advancing step by step: at every step the
    /// schedule's allocations are those a list per step would hold, in the same (install) order, and nothing
    /// changes before the step it names as the next change.
    @Test func agreesWithAListPerStep() throws {
        let fleet = try Fixtures.load(Fixtures.constantFleet)
        let model = try #require(fleet.catalog.models.first)
        let pool = PoolReference(site: 0, pool: 0, siteName: "s", poolName: "p")
        let (steps, workloads) = (60, 5)
        var schedule = Schedule(workloads: workloads)
        var perStep = [[(workload: Int, count: Int)]](repeating: [], count: steps)
        var next = 1
        func add(_ w: Int, _ range: Range<Int>) {
            schedule.add(Run.Allocation(workload: w, pool: pool, model: model, count: next), steps: range)
            for t in range { perStep[t].append((w, next)) }
            next += 1
        }
        for w in 0..<workloads { add(w, (w * 3)..<(w * 3 + 20)) }
        var quietSteps = 0
        for t in 0..<steps {
            schedule.advance(to: t)
            let expected = perStep[t].map(\.count)
            #expect(schedule.active.map { schedule.entries[$0].allocation.count } == expected, "step \(t)")
            #expect(
                schedule.allocations(at: min(steps - 1, t + 3)).map(\.count)
                    == perStep[min(steps - 1, t + 3)].map(\.count)
            )
            for w in 0..<workloads {
                #expect(schedule.first(of: w, at: t)?.count == perStep[t].first { $0.workload == w }?.count)
            }
            // Nothing changes before the next change it names (it may name a step where a cleared segment
            // would have started, where nothing changes after all).
            let change = (t + 1..<steps).first { perStep[$0].map(\.count) != expected } ?? steps
            let named = schedule.nextChange(after: t)
            #expect(t < named && min(named, steps) <= change, "step \(t)")
            if named > t + 1 { quietSteps += 1 }
            // Every seventh step, a replan: two workloads lose their plans from the next step and get new ones.
            guard t % 7 == 3, t + 1 < steps else { continue }
            let replanned: Set<Int> = [t % workloads, (t + 2) % workloads]
            schedule.clear(replanned, from: t + 1)
            for u in (t + 1)..<steps { perStep[u].removeAll { replanned.contains($0.workload) } }
            for w in replanned.sorted() { add(w, (t + 1 + w)..<min(steps, t + 10 + 2 * w)) }
        }
        // Most steps are followed by at least one where nothing changes.
        #expect(quietSteps > steps / 2)
    }
}
