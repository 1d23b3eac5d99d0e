import Foundation
import SovereignLedger
import SovereignTesting
import Testing

@testable import SovereignServer

/// What a control-loop pass carries instead of reading the store again (``PassView``), on both stores: a view
/// with a commit applied must read exactly as the store does after it.
struct PassViewTests {
    static let time = Date(timeIntervalSince1970: 1_795_000_000)

    func attempt(_ workload: String, site: String) -> AttemptRecord {
        AttemptRecord(
            workload: workload,
            number: 1,
            site: site,
            pool: "a100",
            accelerators: 8,
            resume: false,
            startedAt: 200,
            logPath: "/logs/\(workload)"
        )
    }

    func read(_ store: any ControlStore) throws -> PassView {
        PassView(workloads: try store.activeWorkloads(), attempts: try store.openAttempts(), commits: 0)
    }

    @Test(arguments: StoreBackend.allCases)
    func aViewWithACommitAppliedReadsAsTheStoreAfterIt(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: try Fixtures.temporaryDirectory())
        var setup = StateChange.submitting("a", "b", "c", "d")
        setup.newAttempts = [attempt("a", site: "x"), attempt("b", site: "y")]
        _ = try store.commit(setup, at: Self.time)
        var held = try #require(try store.workload(named: "d"))
        held.held = true
        var request = StateChange()
        request.requests = [WorkloadRequest(held)]
        _ = try store.commit(request, at: Self.time)
        let before = try read(store)

        // A pass's change: one attempt ends and its workload completes, another moves, a workload starts, and a
        // record whose `held` differs from the store's (only requests write it).
        var change = StateChange()
        var ended = try #require(before.attempts.first { $0.workload == "a" })
        ended.endedAt = 300
        ended.outcome = "completed"
        var stopping = try #require(before.attempts.first { $0.workload == "b" })
        stopping.termAt = 300
        change.attempts = [ended, stopping]
        var completed = try #require(before.workloads.first { $0.name == "a" })
        completed.state = .completed
        var started = try #require(before.workloads.first { $0.name == "c" })
        started.state = .running
        started.site = "z"
        var unheld = try #require(before.workloads.first { $0.name == "d" })
        unheld.held = false
        unheld.detail = "waiting"
        change.workloads = [completed, started, unheld]
        change.newAttempts = [attempt("c", site: "z")]
        let committed = try store.commit(change, at: Self.time)

        let carried = before.applying(change, ids: committed.attemptIDs, commits: 1)
        let after = try read(store)
        #expect(carried.workloads == after.workloads)
        #expect(carried.attempts == after.attempts)
        #expect(carried.workloads.map(\.name) == ["b", "c", "d"])
        #expect(carried.workloads.last?.held == true)
        #expect(carried.commits == 1)
    }
}
