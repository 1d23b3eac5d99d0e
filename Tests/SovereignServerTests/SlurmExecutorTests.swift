import Foundation
import SovereignModel
import SovereignTesting
import Synchronization
import Testing

@testable import SovereignServer

/// The Slurm executor's decisions and command lines, on output captured from Debian's Slurm 22.05 (the
/// clusters of `Scripts/slurm-cluster.sh`), with its commands answered by a fake.
struct SlurmExecutorTests {
    /// `squeue --noheader --states=all --Format=JobID:|,State:|,exit_code:|,Reason:` on a cluster with a job
    /// cancelled by `scancel` (its script exited 3 on the SIGTERM), one completed, one failed with exit 3, one
    /// killed by SIGKILL, one waiting for GPUs and one running.
    static let queue = """
        2|CANCELLED|768|None
        4|COMPLETED|0|None
        3|FAILED|768|NonZeroExitCode
        10|FAILED|9|JobLaunchFailure
        12|PENDING|0|Resources
        11|RUNNING|0|None
        14|PENDING|0|ReqNodeNotAvail, UnavailableNodes:a
        """

    /// `sacct --noheader --parsable2 --allocations --format=JobIDRaw,State,ExitCode,Reason` on a cluster with
    /// accounting (the format of Slurm's sacct documentation).
    static let accounting = """
        20|NODE_FAIL|0:0|None
        21|CANCELLED by 0|0:15|None
        22|TIMEOUT|0:0|None
        23|OUT_OF_MEMORY|0:125|OutOfMemory
        24|PREEMPTED|0:0|None
        """

    @Test func squeueOutputIsReadIntoJobsWithTheirWaitStatusDecoded() {
        let jobs = SlurmOutput.queue(Self.queue + "\nnot a job line\nx|RUNNING|0|None\n")
        #expect(jobs.count == 7)
        #expect(jobs["2"] == SlurmJob(id: "2", state: "CANCELLED", exit: 3, signal: nil, reason: "None"))
        #expect(jobs["10"] == SlurmJob(id: "10", state: "FAILED", exit: nil, signal: 9, reason: "JobLaunchFailure"))
        #expect(jobs["14"]?.reason == "ReqNodeNotAvail, UnavailableNodes:a")
    }

    @Test func slurmStatesMapToObservations() throws {
        let jobs = SlurmOutput.queue(Self.queue)
        for running in ["11", "12", "14"] { #expect(jobs[running]?.observation == .running) }
        #expect(jobs["4"]?.observation == .ended(ExitStatus(exit: 0)))
        var failed = ExitStatus(exit: 3)
        failed.reason = "Slurm job 3: FAILED (NonZeroExitCode), exit code 3:0"
        #expect(jobs["3"]?.observation == .ended(failed))
        var killed = ExitStatus(signal: 9)
        killed.reason = "Slurm job 10: FAILED (JobLaunchFailure), exit code 0:9"
        #expect(jobs["10"]?.observation == .ended(killed))
        for state in ["COMPLETING", "CONFIGURING", "SUSPENDED", "REQUEUED"] {
            #expect(SlurmJob(id: "1", state: state, reason: "None").observation == .running, "\(state)")
        }
    }

    /// Found in a CI run with long polls, where the agent looks at its jobs every 200 ms: one look that missed
    /// a running job took it for gone, and its attempt was settled while it ran. Now a job is gone only when
    /// a second look, at least `confirmAfter` later, misses it too; a look that finds it starts over.
    @Test func aJobIsGoneOnlyWhenASecondLookConfirmsTheMiss() {
        // Two `squeue` answers of one cluster, captured: the running job 11 is in the first, not in the
        // second (a line skipped, or the job between squeue's view and accounting's); sacct is disabled.
        let found = SlurmOutput.queue(Self.queue)
        let missing = SlurmOutput.queue("4|COMPLETED|0|None\n11|RUNNING||None\n")
        var misses = SlurmMisses(confirmAfter: 2)
        #expect(misses.observe(["11", "4"], found: found, now: 100) == [.running, .ended(ExitStatus(exit: 0))])
        #expect(missing["11"] == nil, "a line without its exit code does not parse")
        #expect(misses.observe(["11", "4"], found: missing, now: 101) == [.running, .ended(ExitStatus(exit: 0))])
        #expect(misses.observe(["11"], found: missing, now: 102.5) == [.running], "not two seconds after the miss")
        #expect(misses.observe(["11"], found: found, now: 103) == [.running])
        #expect(misses.since.isEmpty, "a look that finds it forgets the miss")
        #expect(misses.observe(["11"], found: [:], now: 104) == [.running])
        #expect(misses.observe(["11"], found: [:], now: 106) == [.gone], "missed twice, two seconds apart")
        #expect(misses.observe(["12"], found: [:], now: 107) == [.running])
        #expect(misses.since == ["12": 107], "a job no longer asked about is forgotten")
        // What sacct answers counts as found: a job squeue purged is settled at the first look.
        let accounted = SlurmOutput.accounting(Self.accounting)
        guard case .ended = misses.observe(["22"], found: accounted, now: 108).first else {
            Issue.record("sacct's TIMEOUT is an end")
            return
        }
    }

    @Test func sacctOutputIsReadAndNoFailedJobReadsAsCompleted() throws {
        let jobs = SlurmOutput.accounting(Self.accounting + "\n20.batch|COMPLETED|0:0|None\n")
        #expect(jobs.count == 5)
        #expect(jobs["21"] == SlurmJob(id: "21", state: "CANCELLED", exit: 0, signal: 15, reason: "None"))
        for (id, state) in [("20", "NODE_FAIL"), ("22", "TIMEOUT"), ("23", "OUT_OF_MEMORY"), ("24", "PREEMPTED")] {
            guard case .ended(let status) = jobs[id]?.observation else {
                Issue.record("\(id) did not end")
                continue
            }
            #expect(!status.completed, "\(state) is a failure")
            #expect(status.reason?.contains("Slurm job \(id): \(state)") == true, "\(status)")
        }
    }

    @Test func sbatchParsableOutputGivesTheJobIdOrSaysWhatItFound() throws {
        #expect(try SlurmOutput.submittedJob("13\n", command: ["sbatch"]) == "13")
        #expect(try SlurmOutput.submittedJob("42;eu-hpc\n", command: ["sbatch"]) == "42")
        let error = #expect(throws: SlurmCommandError.self) {
            try SlurmOutput.submittedJob("sbatch: error: nope\n", command: ["sbatch", "--parsable", "x"])
        }
        #expect(
            error?.description.contains("`sbatch --parsable x` expected a job id") == true,
            "\(String(describing: error))"
        )
    }

    static func attempt(resume: Bool = false, accelerators: Int = 8, handle: String? = nil) -> AttemptRecord {
        var record = AttemptRecord(
            workload: "digits-dar",
            number: 2,
            site: "dar-1",
            pool: "dar-1-h100",
            accelerators: accelerators,
            resume: resume,
            startedAt: 0,
            logPath: "/w/workloads/digits-dar/attempts/2/log"
        )
        record.id = 7
        record.handle = handle.map(AttemptHandle.init)
        return record
    }

    @Test func theSbatchCommandLineCarriesTheEnvironmentGpusGraceAndSiteOptions() throws {
        let options = SlurmOptions(partition: "gpu", account: "ai-factory", workingDirectory: "/home/agent")
        let line = try SlurmCommandLines.submit(
            Self.attempt(resume: true),
            grace: .seconds(20),
            checkpoint: "/w/workloads/digits-dar/checkpoint",
            script: "/w/workloads/digits-dar/attempts/2/job.sh",
            options: options
        )
        #expect(
            line == [
                "sbatch", "--parsable", "--job-name=sovereign-digits-dar-2",
                "--output=/w/workloads/digits-dar/attempts/2/log", "--open-mode=append", "--chdir=/home/agent",
                "--no-requeue",
                "--export=ALL,SOVEREIGN_WORKLOAD=digits-dar,SOVEREIGN_CHECKPOINT_DIR=/w/workloads/digits-dar/checkpoint,"
                    + "SOVEREIGN_ATTEMPT=2,SOVEREIGN_SITE=dar-1,SOVEREIGN_ACCELERATORS=8,SOVEREIGN_RESUME=1",
                "--signal=B:TERM@20", "--gres=gpu:8", "--partition=gpu", "--account=ai-factory",
                "/w/workloads/digits-dar/attempts/2/job.sh",
            ]
        )
        let cpu = try SlurmCommandLines.submit(
            Self.attempt(accelerators: 0),
            grace: .seconds(0.5),
            checkpoint: "/c",
            script: "/s",
            options: SlurmOptions(gres: "gpu:h100", workingDirectory: "/")
        )
        #expect(!cpu.contains { $0.hasPrefix("--gres") || $0.hasPrefix("--partition") || $0.hasPrefix("--account") })
        #expect(cpu.contains("--signal=B:TERM@1"))
        #expect(!cpu.contains { $0.contains("SOVEREIGN_RESUME") })
        #expect(throws: SlurmCommandError.self) {
            try SlurmCommandLines.submit(
                Self.attempt(),
                grace: .seconds(1),
                checkpoint: "/a,b",
                script: "/s",
                options: options
            )
        }
    }

    @Test func theBatchScriptExecsTheQuotedCommandWithItsEnvironment() {
        let run = Workload.Run(
            command: ["python3", "train.py", "--name", "it's"],
            environment: ["B": "two words", "A": "1"],
            gracePeriod: .seconds(20),
            maxAttempts: 3
        )
        #expect(
            SlurmCommandLines.script(Self.attempt(), run: run) == """
                #!/bin/sh
                # sovereign-digits-dar-2, submitted by a Sovereign site agent
                export A='1'
                export B='two words'
                unset SOVEREIGN_RESUME
                exec 'python3' 'train.py' '--name' 'it'\\''s'

                """
        )
        #expect(!SlurmCommandLines.script(Self.attempt(resume: true), run: run).contains("unset"))
    }

    /// A fake Slurm: answers each command from `answers` (by program name), records every command line.
    final class FakeSlurm: Sendable {
        let lines = Mutex<[[String]]>([])
        let answers: [String: Result<String, SlurmCommandError>]

        init(_ answers: [String: Result<String, SlurmCommandError>]) { self.answers = answers }

        var commands: SlurmCommands {
            SlurmCommands { arguments in
                self.lines.withLock { $0.append(arguments) }
                guard let answer = self.answers[arguments[0]] else {
                    throw SlurmCommandError(command: arguments, problem: "exited with status 127", printed: "")
                }
                return try answer.get()
            }
        }

        var programs: [String] { lines.withLock { $0.map { $0[0] } } }
    }

    static func failure(_ program: String, _ printed: String) -> Result<String, SlurmCommandError> {
        .failure(SlurmCommandError(command: [program], problem: "exited with status 1", printed: printed))
    }

    @Test func startWritesTheScriptSubmitsItAndReturnsTheJobId() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let slurm = FakeSlurm(["sbatch": .success("31\n")])
        let executor = SlurmExecutor(
            directory: dir,
            options: SlurmOptions(workingDirectory: "/"),
            commands: slurm.commands
        )
        let run = Workload.Run(command: ["true"], environment: [:], gracePeriod: .seconds(5), maxAttempts: 1)
        let handle = try await executor.start(Self.attempt(), run: run)
        #expect(handle == AttemptHandle("31"))
        let script = dir.appendingPathComponent("digits-dar/attempts/2/job.sh").path
        #expect(FileManager.default.isExecutableFile(atPath: script))
        #expect(slurm.lines.withLock { $0.last?.last } == script)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("digits-dar/checkpoint").path))

        let refusing = SlurmExecutor(
            directory: dir,
            options: SlurmOptions(workingDirectory: "/"),
            commands: FakeSlurm(["sbatch": Self.failure("sbatch", "sbatch: error: invalid partition specified: x")])
                .commands
        )
        let error = await #expect(throws: SlurmCommandError.self) { try await refusing.start(Self.attempt(), run: run) }
        #expect(error?.description.contains("invalid partition specified") == true)
    }

    @Test func observeAsksSqueueOnceThenSacctForTheRestAndUnknownJobsAreGoneOnceConfirmed() async throws {
        let slurm = FakeSlurm(["squeue": .success(Self.queue), "sacct": .success(Self.accounting)])
        let clock = Mutex(100.0)
        let executor = SlurmExecutor(
            directory: URL(fileURLWithPath: "/x"),
            options: .init(workingDirectory: "/"),
            commands: slurm.commands,
            now: { clock.withLock { $0 } }
        )
        let attempts = ["11", "4", "22", "99"].map { Self.attempt(handle: $0) } + [Self.attempt()]
        let seen = await executor.observe(attempts)
        #expect(seen[0] == .running)
        #expect(seen[1] == .ended(ExitStatus(exit: 0)))
        guard case .ended(let timeout) = seen[2] else {
            Issue.record("\(seen[2])")
            return
        }
        #expect(timeout.reason?.contains("TIMEOUT") == true)
        #expect(seen[3] == .running && seen[4] == .running, "one miss is not enough")
        #expect(slurm.programs == ["squeue", "sacct", "squeue"])
        #expect(slurm.lines.withLock { $0[0].contains("--jobs=11,4,22,99") && $0[1].contains("--jobs=22,99") })
        #expect(slurm.lines.withLock { $0[2].contains("--name=sovereign-digits-dar-2") })
        clock.withLock { $0 += 2 }
        let again = await executor.observe(attempts)
        #expect(again[3] == .gone && again[4] == .gone)
    }

    /// An agent stopped between `sbatch` and saving the job id: the attempt has no handle, and its job is
    /// found by name (the later of two), observed and signalled by name, never taken for gone while it runs.
    @Test func aJobWhoseIdWasNeverRecordedIsFoundAndSignalledByItsName() async throws {
        let slurm = FakeSlurm([
            "squeue": .success(
                """
                sovereign-digits-dar-2|40|CANCELLED|768|None
                sovereign-digits-dar-2|41|RUNNING|0|None
                sovereign-digits-dar-3|42|COMPLETED|0|None
                """
            ),
            "scancel": .success(""),
        ])
        let executor = SlurmExecutor(
            directory: URL(fileURLWithPath: "/x"),
            options: .init(workingDirectory: "/"),
            commands: slurm.commands,
            confirmMissAfter: 0
        )
        var third = Self.attempt()
        third.number = 3
        var fourth = Self.attempt()
        fourth.number = 4
        #expect(
            await executor.adopt([Self.attempt(), third, fourth]) == [.running, .ended(ExitStatus(exit: 0)), .running]
        )
        #expect(
            slurm.lines.withLock { Array($0.prefix(1)) } == [
                [
                    "squeue", "--noheader", "--states=all",
                    "--name=sovereign-digits-dar-2,sovereign-digits-dar-3,sovereign-digits-dar-4",
                    "--Format=Name:|,JobID:|,State:|,exit_code:|,Reason:",
                ]
            ]
        )
        #expect(await executor.observe([fourth]) == [.gone], "missed by name twice")
        slurm.lines.withLock { $0.removeLast() }
        await executor.signal(Self.attempt(), .stop)
        #expect(
            slurm.lines.withLock { Array($0.dropFirst()) } == [
                ["scancel", "--state=PENDING", "--name=sovereign-digits-dar-2"],
                ["scancel", "--signal=TERM", "--full", "--state=RUNNING", "--name=sovereign-digits-dar-2"],
            ]
        )
        let down = FakeSlurm(["squeue": Self.failure("squeue", "Unable to contact slurm controller")])
        let blind = SlurmExecutor(
            directory: URL(fileURLWithPath: "/x"),
            options: .init(workingDirectory: "/"),
            commands: down.commands
        )
        #expect(await blind.observe([Self.attempt()]) == [.running], "unknown is never gone")
    }

    @Test func withoutAccountingOrWhenSqueueFailsNothingIsTakenForGoneWrongly() async throws {
        let noAccounting = FakeSlurm([
            "squeue": .success("11|RUNNING|0|None\n"),
            "sacct": Self.failure("sacct", "Slurm accounting storage is disabled"),
        ])
        let lines = Mutex<[String]>([])
        let executor = SlurmExecutor(
            directory: URL(fileURLWithPath: "/x"),
            options: .init(workingDirectory: "/"),
            commands: noAccounting.commands,
            confirmMissAfter: 0
        )
        let attempts = ["11", "12"].map { Self.attempt(handle: $0) }
        #expect(await executor.adopt(attempts) == [.running, .running])
        #expect(await executor.observe(attempts) == [.running, .gone])

        let down = FakeSlurm([
            "squeue": Self.failure("squeue", "slurm_load_jobs error: Unable to contact slurm controller")
        ])
        let blind = SlurmExecutor(
            directory: URL(fileURLWithPath: "/x"),
            options: .init(workingDirectory: "/"),
            commands: down.commands,
            say: { line in lines.withLock { $0.append(line) } }
        )
        #expect(await blind.observe([Self.attempt(handle: "11")]) == [.running])
        #expect(lines.withLock { $0.first?.contains("Unable to contact slurm controller") == true })
    }

    @Test func stopCancelsAWaitingJobAndTermsARunningOneAndKillCancels() async throws {
        let slurm = FakeSlurm(["scancel": .success("")])
        let executor = SlurmExecutor(
            directory: URL(fileURLWithPath: "/x"),
            options: .init(workingDirectory: "/"),
            commands: slurm.commands
        )
        await executor.signal(Self.attempt(handle: "11"), .stop)
        await executor.signal(Self.attempt(handle: "11"), .kill)
        await executor.signal(Self.attempt(), .kill)
        await executor.signal(Self.attempt(handle: "11; rm"), .kill)
        #expect(
            slurm.lines.withLock { $0 } == [
                ["scancel", "--state=PENDING", "11"], ["scancel", "--signal=TERM", "--full", "--state=RUNNING", "11"],
                ["scancel", "--signal=KILL", "--full", "11"], ["scancel", "11"],
                ["scancel", "--signal=KILL", "--full", "--name=sovereign-digits-dar-2"],
                ["scancel", "--name=sovereign-digits-dar-2"],
            ],
            "a job whose id was never recorded is signalled by its name; a handle that is no job id never reaches scancel"
        )
    }

    @Test func aHungCommandIsKilledAtItsTimeoutAndTheErrorSaysWhich() async throws {
        let hasty = SlurmCommands.system(slurmConf: nil, timeout: 0.3)
        let error = await #expect(throws: SlurmCommandError.self) { try await hasty.run(["sleep", "30"]) }
        #expect(error?.description == "`sleep 30` did not finish within 0.3 s")
        let commands = SlurmCommands.system(slurmConf: "/nowhere/slurm.conf", timeout: 60)
        let failed = await #expect(throws: SlurmCommandError.self) {
            try await commands.run(["sh", "-c", "echo \"$SLURM_CONF\" >&2; exit 4"])
        }
        #expect(
            failed?.description.contains("exited with status 4: /nowhere/slurm.conf") == true,
            "\(String(describing: failed))"
        )
        #expect(try await commands.run(["echo", "13"]) == "13\n")
    }
}
