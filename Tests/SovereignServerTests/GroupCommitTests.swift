import Foundation
import SovereignLedger
import SovereignTesting
import Testing

@testable import SovereignServer

/// The submissions' group commit (``GroupCommit``), on both stores: changes committed together are each
/// answered with exactly their own entries, and one at fault fails alone.
struct GroupCommitTests {
    static let time = Date(timeIntervalSince1970: 1_795_000_000)

    @Test(arguments: StoreBackend.allCases)
    func changesCommittedTogetherAreEachAnsweredWithTheirOwnEntries(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: try Fixtures.temporaryDirectory())
        _ = try store.commit(StateChange.submitting("first"), at: Self.time)
        let changes = [StateChange.submitting("a"), StateChange.submitting("b", "c"), StateChange.submitting("d")]
        let results = GroupCommit.commit(changes, to: store, at: Self.time)
        let committed = try results.map { try $0.get() }
        #expect(committed.map { $0.entries.map(\.sequence) } == [[1], [2, 3], [4]])
        let stored = try store.ledgerEntries(from: 1, limit: 10)
        #expect(committed.flatMap(\.entries).map(\.leafHash) == stored.map(\.leafHash))
        #expect(try store.workloads().map(\.name) == ["first", "a", "b", "c", "d"])
    }

    @Test(arguments: StoreBackend.allCases)
    func aTakenNameInABatchFailsOnlyItsOwnSubmission(_ backend: StoreBackend) throws {
        let store = try backend.makeStore(in: try Fixtures.temporaryDirectory())
        _ = try store.commit(StateChange.submitting("taken"), at: Self.time)
        let results = GroupCommit.commit(
            [StateChange.submitting("a"), StateChange.submitting("b", "taken"), StateChange.submitting("c")],
            to: store,
            at: Self.time
        )
        #expect(throws: StoreError.self) { try results[1].get() }
        #expect(try results[0].get().entries.map(\.sequence) == [1])
        #expect(try results[2].get().entries.map(\.sequence) == [2])
        #expect(try store.workloads().map(\.name) == ["taken", "a", "c"])
    }

    /// A batch the database refuses for any reason but a taken name (here a trigger; in life a lost connection
    /// or a commit whose outcome is unknown) is every change's answer: not retried change by change, which
    /// would wait out one timeout each, or answer a stored change as taken.
    @Test func aBatchRefusedForAnotherReasonIsEveryChangesAnswer() throws {
        let store = try StoreBackend.sqlite.makeStore(in: try Fixtures.temporaryDirectory())
        try StoreBackend.executeBehind(
            store,
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON workload WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
        let results = GroupCommit.commit(
            [StateChange.submitting("a"), StateChange.submitting("boom"), StateChange.submitting("c")],
            to: store,
            at: Self.time
        )
        for result in results {
            #expect { try result.get() } throws: { "\($0)".contains("disk on fire") }
        }
        #expect(try store.workloads().isEmpty)
    }

    @Test(.timeLimit(.minutes(5)), arguments: StoreBackend.allCases)
    func concurrentSubmissionsAreAllDurableWithGaplessEntries(_ backend: StoreBackend) async throws {
        let store = try backend.makeStore(in: try Fixtures.temporaryDirectory())
        let group = GroupCommit(store: store, label: "test.group-commit", clock: { Self.time })
        let sequences = try await withThrowingTaskGroup(of: [Int].self) { tasks in
            for i in 0..<40 {
                tasks.addTask { try await group.commit(StateChange.submitting("w\(i)")).entries.map(\.sequence) }
            }
            return try await tasks.reduce(into: []) { $0 += $1 }
        }
        #expect(sequences.sorted() == Array(0..<40))
        #expect(Set(try store.workloads().map(\.name)) == Set((0..<40).map { "w\($0)" }))
    }
}
