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
        try PassView.read(from: store, commits: 0, ledger: 0)
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
        var second = attempt("b", site: "z")
        second.number = 2
        change.newAttempts = [attempt("c", site: "z"), second]
        // Power signals (two from one site: the later is its latest) and a derived dataset's run.
        change.powerSignals = [
            PowerSignalRecord(
                site: "x",
                at: 250,
                available: 4e5,
                forecast: [.init(at: 900, available: 2e5)],
                ambient: nil
            ),
            PowerSignalRecord(site: "y", at: 260, available: 1e5, forecast: [], ambient: 301.5),
            PowerSignalRecord(site: "x", at: 270, available: 3e5, forecast: [], ambient: nil),
        ]
        change.ledger = [
            .powerSignal(.init(change.powerSignals[0], by: "test")),
            .derived(LedgerEvent.DerivationRun(report: try DerivationTests.report(), jurisdiction: "KE", by: "t")),
        ]
        let committed = try store.commit(change, at: Self.time)

        let carried = before.applying(change, committed: committed, commits: 1, ledger: 4)
        let after = try read(store)
        #expect(carried.workloads == after.workloads)
        #expect(carried.attempts == after.attempts)
        #expect(carried.powerSignals == after.powerSignals)
        #expect(carried.lastAttempts == after.lastAttempts)
        #expect(carried.derivations == after.derivations)
        #expect(carried.workloads.map(\.name) == ["b", "c", "d"])
        #expect(carried.workloads.last?.held == true)
        #expect(carried.lastAttempts == ["b": 2, "c": 1])
        #expect(carried.powerSignals["x"]?.available == 3e5)
        #expect(carried.derivations.count == 1)
        #expect(carried.matches(commits: 1, ledger: 4))
    }
}
