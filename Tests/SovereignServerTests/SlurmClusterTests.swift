import Foundation
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignServer

/// The Slurm executor against a real Slurm (Debian's slurmctld, slurmd and munge on loopback, started by
/// `Scripts/slurm-cluster.sh` under a temporary directory and stopped by process id): jobs are submitted,
/// observed to their end with their exit codes, paused with a SIGTERM the example workload answers with a
/// checkpoint, adopted by a new executor from their job ids, and none is left in the queue.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SlurmClusterTests {
    /// A cluster under a fresh temporary directory and an executor driving it.
    struct Rig {
        let directory: URL
        let cluster: SlurmCluster
        let executor: SlurmExecutor

        init() throws {
            directory = try Fixtures.temporaryDirectory()
            do {
                cluster = try SlurmCluster(in: directory.appendingPathComponent("slurm"), node: "c1")
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
            executor = Self.executor(directory, cluster)
        }

        static func executor(_ directory: URL, _ cluster: SlurmCluster) -> SlurmExecutor {
            SlurmExecutor(
                directory: directory.appendingPathComponent("workloads"),
                options: SlurmOptions(workingDirectory: Fixtures.repositoryRoot.path),
                commands: .system(slurmConf: cluster.configuration, timeout: 60)
            )
        }

        func stop() {
            cluster.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        func attempt(_ workload: String, number: Int = 1, accelerators: Int = 0) -> AttemptRecord {
            var record = AttemptRecord(
                workload: workload,
                number: number,
                site: "dar-1",
                pool: "gpu",
                accelerators: accelerators,
                resume: number > 1,
                startedAt: Date().timeIntervalSince1970,
                logPath: executor.logPath(workload: workload, attempt: number, site: "dar-1")
            )
            record.id = Int64(number)
            return record
        }

        func started(_ attempt: AttemptRecord, _ command: [String], grace: Double = 20) async throws -> AttemptRecord {
            var attempt = attempt
            let run = Workload.Run(
                command: command,
                environment: ["GREETING": "hello, slurm"],
                gracePeriod: .seconds(grace),
                maxAttempts: 3
            )
            attempt.handle = try await executor.start(attempt, run: run)
            return attempt
        }

        /// Observes `attempt` until it is no longer running, at most `seconds`.
        func ended(
            _ attempt: AttemptRecord,
            within seconds: Double = 60,
            using executor: SlurmExecutor? = nil
        ) async throws -> AttemptObservation {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let seen = await (executor ?? self.executor).observe([attempt])[0]
                if seen != .running { return seen }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("\(attempt.workload) still runs after \(seconds) s")
            return .running
        }

        func log(_ attempt: AttemptRecord) -> String {
            (try? String(contentsOfFile: attempt.logPath, encoding: .utf8)) ?? ""
        }

        func wait(for text: String, in attempt: AttemptRecord, seconds: Double = 60) async throws {
            let deadline = Date().addingTimeInterval(seconds)
            while !log(attempt).contains(text) {
                guard Date() < deadline else {
                    Issue.record("no \"\(text)\" in the log of \(attempt.workload) after \(seconds) s: \(log(attempt))")
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    @Test func jobsRunWithTheirEnvironmentAndEndWithTheirExitCodes() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        let echo = try await rig.started(
            rig.attempt("echo", accelerators: 2),
            ["sh", "-c", "echo \"$SOVEREIGN_WORKLOAD $SOVEREIGN_ATTEMPT $SOVEREIGN_ACCELERATORS $GREETING\"; exit 3"]
        )
        let done = try await rig.started(rig.attempt("done"), ["true"])
        guard case .ended(let failed) = try await rig.ended(echo) else { return }
        #expect(failed.exit == 3 && !failed.completed)
        #expect(failed.reason == "Slurm job \(echo.handle?.rawValue ?? ""): FAILED (NonZeroExitCode), exit code 3:0")
        #expect(rig.log(echo).contains("echo 1 2 hello, slurm"), "\(rig.log(echo))")
        #expect(try await rig.ended(done) == .ended(ExitStatus(exit: 0)))
        #expect(try rig.cluster.queuedJobs().isEmpty)
    }

    @Test func aJobCancelledFromOutsideIsAFailureWithSlurmsReason() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        let attempt = try await rig.started(rig.attempt("sleeper"), ["sleep", "600"])
        try await Task.sleep(for: .milliseconds(500))
        let id = try #require(attempt.handle?.rawValue)
        #expect(try rig.cluster.run(["scancel", id]).status == 0)
        guard case .ended(let status) = try await rig.ended(attempt) else { return }
        #expect(!status.completed)
        #expect(status.reason?.contains("Slurm job \(id): CANCELLED") == true, "\(status)")
        #expect(try rig.cluster.queuedJobs().isEmpty)
    }

    /// The example workload trains as a Slurm job; a stop reaches it as SIGTERM (the log says it
    /// checkpointed and its exit code is 143); a new executor (an agent that restarted) adopts the
    /// resumed attempt by its job id and sees it complete.
    @Test func aStopCheckpointsTheTrainingAndANewExecutorAdoptsTheResumedJob() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        // The first attempt could train for minutes: the stop always finds it training. The second trains to
        // epoch 12 and then waits at a gate, so the adopter always finds it running.
        let training = ["Examples/workloads/train_digits.py", "--seconds-per-epoch", "0.2", "--epochs"]
        let first = try await rig.started(rig.attempt("digits"), ["python3"] + training + ["1000"])
        try await rig.wait(for: "epoch 2/", in: first)
        await rig.executor.signal(first, .stop)
        guard case .ended(let paused) = try await rig.ended(first) else { return }
        #expect(paused.exit == 143, "\(paused)")
        #expect(rig.log(first).contains("checkpointed at epoch"), "\(rig.log(first))")
        #expect(await rig.executor.checkpointBytes(of: ["digits": "dar-1"])["digits", default: 0] > 0)

        let gate = rig.directory.appendingPathComponent("gate")
        let gated = ["sh", "-c", "python3 \"$0\" \"$@\" && until [ -e \(gate.path) ]; do sleep 0.1; done"]
        let second = try await rig.started(rig.attempt("digits", number: 2), gated + training + ["12"])
        try await rig.wait(for: "resumed from epoch", in: second)
        let adopter = Rig.executor(rig.directory, rig.cluster)
        #expect(await adopter.adopt([second]) == [.running])
        FileManager.default.createFile(atPath: gate.path, contents: nil)
        #expect(try await rig.ended(second, using: adopter) == .ended(ExitStatus(exit: 0)))
        #expect(rig.log(second).contains("done: test accuracy"))
        #expect(try rig.cluster.queuedJobs().isEmpty)
    }

    @Test func aKillEndsTheJobAndAStopCancelsAJobThatWaits() async throws {
        let rig = try Rig()
        defer { rig.stop() }
        // The node has 8 GPUs: the second job waits for the first's.
        let running = try await rig.started(rig.attempt("holder", accelerators: 8), ["sleep", "600"])
        let waiting = try await rig.started(rig.attempt("waiter", accelerators: 8), ["sleep", "600"])
        #expect(await rig.executor.observe([running, waiting]) == [.running, .running])
        await rig.executor.signal(waiting, .stop)
        guard case .ended(let cancelled) = try await rig.ended(waiting) else { return }
        #expect(cancelled.reason?.contains("CANCELLED") == true, "\(cancelled)")
        await rig.executor.signal(running, .kill)
        guard case .ended(let killed) = try await rig.ended(running) else { return }
        #expect(!killed.completed, "\(killed)")
        #expect(try rig.cluster.queuedJobs().isEmpty)
    }

    @Test func aClusterThatIsNotThereIsAnErrorThatNamesTheCommand() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let conf = dir.appendingPathComponent("slurm.conf")
        try "ClusterName=none\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=\(try Fixtures.freePort())\n"
            .write(to: conf, atomically: true, encoding: .utf8)
        let executor = SlurmExecutor(
            directory: dir,
            options: SlurmOptions(workingDirectory: dir.path),
            commands: .system(slurmConf: conf.path, timeout: 60)
        )
        var attempt = AttemptRecord(
            workload: "w",
            number: 1,
            site: "s",
            pool: "p",
            accelerators: 0,
            resume: false,
            startedAt: 0,
            logPath: dir.appendingPathComponent("log").path
        )
        attempt.id = 1
        let run = Workload.Run(command: ["true"], environment: [:], gracePeriod: .seconds(1), maxAttempts: 1)
        let error = await #expect(throws: SlurmCommandError.self) { try await executor.start(attempt, run: run) }
        #expect(
            error?.description.hasPrefix("`sbatch --parsable --job-name=sovereign-w-1") == true,
            "\(String(describing: error))"
        )
        #expect(error?.description.contains("exited with status 1") == true, "\(String(describing: error))")
    }
}
