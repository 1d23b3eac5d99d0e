import Foundation
import SovereignTesting
import Synchronization
import Testing

@testable import SovereignServer

#if canImport(Glibc)
import Glibc
#endif

/// The site agent's edge to a site's commands: everything a command printed is there when it ends, on both
/// streams, however much it printed; its ending is told apart; a command that does not end in time is
/// ended with everything it started, and the error says which command and what it had printed.
struct BoundedCommandTests {
    static let environment = ProcessInfo.processInfo.environment

    @Test func allOfWhatACommandPrintsOnBothStreamsIsThereWhenItEnds() async throws {
        // 600 KB on each stream, written in alternation: more than a pipe holds, so one unread stream
        // would block the command.
        let script = "i=0; while [ $i -lt 3000 ]; do printf '%0199d\\n' $i; printf '%0199d\\n' $i >&2; i=$((i+1)); done"
        let outcome = try await BoundedCommand(["sh", "-c", script], environment: Self.environment, timeout: 120).run()
        #expect(outcome.succeeded)
        #expect(outcome.output.count == 600_000)
        #expect(outcome.errors.count == 600_000)
        let lines = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 3000 && lines.last.map { Int($0) } == 2999)
    }

    @Test func exitStatusesAndSignalsAreToldApart() throws {
        let exited = try BoundedCommand(["sh", "-c", "echo out; echo err >&2; exit 3"], environment: [:], timeout: 60)
            .run()
        #expect(exited == .init(exit: 3, signal: nil, output: Data("out\n".utf8), errors: Data("err\n".utf8)))
        #expect(exited.ending == "exited with status 3" && !exited.succeeded)
        let killed = try BoundedCommand(["sh", "-c", "kill -9 $$"], environment: [:], timeout: 60).run()
        #expect(killed.exit == nil && killed.signal == 9)
        #expect(killed.ending == "was ended by signal 9")
        let environment = try BoundedCommand(
            ["sh", "-c", "echo \"$ONLY\""],
            environment: ["ONLY": "this"],
            timeout: 60
        )
        .run()
        #expect(environment.output == Data("this\n".utf8))
    }

    @Test func aCommandThatDoesNotEndInTimeIsEndedWithWhatItStarted() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pidFile = dir.appendingPathComponent("child.pid").path
        // The command starts a child of its own in the background and waits for it; both must go.
        let script = "sleep 300 & echo $! > \(pidFile); echo started >&2; wait"
        let hasty = BoundedCommand(["sh", "-c", script], environment: Self.environment, timeout: 5)
        let error = #expect(throws: BoundedCommand.Failure.self) { try hasty.run() }
        #expect(error?.problem == "did not finish within 5.0 s")
        #expect(error.map { String(decoding: $0.errors, as: UTF8.self) } == "started\n")
        let child = try #require(
            Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        )
        var gone = false
        for _ in 0..<200 where !gone {
            gone =
                kill(child, 0) != 0
                || (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8))?.contains(") Z ") == true
            if !gone { usleep(10_000) }
        }
        #expect(gone, "the command's own child \(child) was ended with it")
    }

    /// A site agent with the local executor observes its supervisors while its power command runs: the
    /// executor reaps only the supervisors it started, so the command's status still reaches its waiter.
    @Test func aLocalExecutorsObservationsLeaveOtherChildrenToTheirWaiters() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let executor = LocalProcessExecutor(directory: dir)
        let command = BoundedCommand(["sh", "-c", "sleep 0.5; exit 7"], environment: Self.environment, timeout: 60)
        let finished = Mutex(false)
        let outcome = Task {
            defer { finished.withLock { $0 = true } }
            return try await command.run()
        }
        // Observations all the while the command runs and ends: an executor that reaped any child would take
        // the command's status first (its waiter looks every 2 ms).
        while !finished.withLock({ $0 }) { _ = await executor.observe([]) }
        let ended = try await outcome.value
        #expect(ended.exit == 7, "\(ended.ending)")
    }

    @Test func aCommandThatCannotStartSaysWhich() {
        let error = #expect(throws: BoundedCommand.Failure.self) {
            try BoundedCommand(["/nowhere/squeue", "--noheader"], environment: [:], timeout: 5).run()
        }
        #expect(error?.description.hasPrefix("`/nowhere/squeue --noheader` cannot start /nowhere/squeue: ") == true)
    }
}
