public import Foundation
import SovereignBase
public import SovereignModel

/// The loop of `sovereign site-agent`: at each poll it observes its attempts through its executor, reports
/// them (with its checkpoints and its site's power) to the control plane, and follows the answer; when the
/// control plane cannot be reached for the lease, it checkpoints and stops its work itself.
///
/// It pulls and never listens. Its memory (``SiteAgentState``) is a file in its work directory, written
/// after every change, so an agent that is killed and restarted adopts the processes it left running.
public struct SiteAgent: Sendable {
    /// The site the agent acts for.
    public let site: String
    /// The agent's instance, for the control plane's log.
    public let instance: String
    /// Runs the site's attempts (by default the local process executor under `WORKDIR/workloads`).
    public let executor: any Executor
    /// `WORKDIR/workloads`: the checkpoints the courier packs and receives, one directory per workload.
    public let workloads: URL
    /// Sends a report and returns the answer, within the seconds given.
    public let transport: @Sendable (AgentReport, Double) async throws -> AgentAssignments
    /// Reads the site's power now, when the agent has a source for it.
    public let power: (@Sendable () throws -> PowerSignalBody)?
    /// Where the memory is kept.
    public let statePath: String
    /// The lease file every supervisor of the agent's attempts watches (``AgentLease``), renewed at every answer.
    public let leasePath: String
    /// Sends and fetches the checkpoints that move between this site and others.
    public let courier: CheckpointCourier
    /// Where other agents reach this one's peer listener, when it has one.
    public let peer: String?
    let clock: @Sendable () -> Date
    let say: @Sendable (String) -> Void

    /// An agent for `site` keeping its files under `directory`, its keys in `directory/agent-keys.json`
    /// (made on first start), running its attempts through `executor` (whose checkpoints are under
    /// `directory/workloads`; by default local processes that watch the agent's lease).
    ///
    /// - Throws: ``SiteAgentError`` when the keys file exists but cannot be read.
    public init(
        site: String,
        directory: URL,
        transport: @escaping @Sendable (AgentReport, Double) async throws -> AgentAssignments,
        relay: RelayTransport,
        peer: String? = nil,
        peerTransport: (@Sendable (_ url: String, _ secret: String) -> RelayTransport)? = nil,
        power: (@Sendable () throws -> PowerSignalBody)? = nil,
        executor: (any Executor)? = nil,
        clock: @escaping @Sendable () -> Date = { Date() },
        say: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.site = site
        self.instance = "\(ProcessInfo.processInfo.hostName):\(getpid())"
        let workloads = Self.workloads(under: directory)
        self.workloads = workloads
        self.leasePath = directory.appendingPathComponent("lease.json").path
        self.executor = executor ?? LocalProcessExecutor(directory: workloads, leaseFile: leasePath)
        self.courier = CheckpointCourier(
            directory: workloads,
            identity: try AgentIdentity.loadOrCreate(at: directory.appendingPathComponent("agent-keys.json").path),
            relay: relay,
            peerTransport: peerTransport,
            say: { say("\(site): \($0)") }
        )
        self.peer = peer
        self.transport = transport
        self.power = power
        self.statePath = directory.appendingPathComponent("agent-state.json").path
        self.clock = clock
        self.say = say
    }

    /// `WORKDIR/workloads`, where every executor of an agent in `directory` keeps its workloads' checkpoints.
    public static func workloads(under directory: URL) -> URL {
        directory.appendingPathComponent("workloads", isDirectory: true)
    }

    /// The memory the last agent in this work directory left, or an empty one.
    ///
    /// - Throws: when the file exists but cannot be read as an agent's memory, or holds an attempt without
    ///   its store id or with a workload name that is not a DNS-1123 name (it is never overwritten then).
    public func loadState() throws -> SiteAgentState {
        guard let data = FileManager.default.contents(atPath: statePath) else { return SiteAgentState() }
        let state: SiteAgentState
        do {
            state = try JSONDecoder().decode(SiteAgentState.self, from: data)
        } catch {
            throw SiteAgentError("\(statePath): expected a site agent's state (JSON), found something else: \(error)")
        }
        for (i, held) in state.attempts.enumerated() {
            guard held.record.id != nil else {
                throw SiteAgentError(
                    "\(statePath): attempts[\(i)].record.id: expected the attempt's store id, found none"
                )
            }
            guard SpecNames.isObjectName(held.record.workload) else {
                throw SiteAgentError(
                    "\(statePath): attempts[\(i)].record.workload: expected a DNS-1123 name, found \"\(held.record.workload.prefix(80))\""
                )
            }
        }
        return state
    }

    /// One poll: observe, report, follow (or, past the lease without an answer, stop everything).
    ///
    /// - Parameters:
    ///   - hold: seconds the control plane may hold the poll while nothing changes for the site (0: answer
    ///     at once). While it is held, the agent keeps watching its site every `watch` seconds, and asks
    ///     again at once when an attempt ends, the power changes or a checkpoint transfer finishes.
    /// - Returns: whether the control plane answered (a held poll given up for news at the site did not).
    public func pollOnce(
        _ state: inout SiteAgentState,
        lastPower: inout PowerReading?,
        hold: Double = 0,
        watch: Double = 1
    ) async throws -> Bool {
        state.observe(await executor.observe(state.unsettled))
        let checkpoints = await executor.checkpointBytes(
            of: Dictionary(uniqueKeysWithValues: workloadsWithFiles(state).map { ($0, site) })
        )
        let reading = readPower(after: lastPower)
        var report = state.report(
            agent: instance,
            checkpoints: checkpoints,
            power: reading?.signal,
            logs: logTails(state)
        )
        report.keys = courier.identity.publicKeys
        report.peer = peer
        let ownFetches = Set(state.attempts.compactMap(\.fetch?.transfer))
        let replicas = await courier.fetched().filter { !ownFetches.contains($0.key) }.values
        if !replicas.isEmpty {
            report.received = (report.received ?? []) + replicas.sorted { $0.transfer < $1.transfer }
        }
        let asked = (wall: clock().timeIntervalSince1970, boot: POSIX.bootSeconds())
        var now = asked.wall
        let held = state.answered != nil && state.lastAnswer != nil ? hold : 0
        if held > 0 {
            report.wait = held
            report.answered = state.answered
        }
        let actions: [AgentAction]
        let answered: Bool
        do {
            let sent = reading ?? lastPower
            let watching = Watch(state: state, power: sent, transfers: await courier.transfers(), every: watch)
            guard let answer = try await ask(report, timeout: Self.timeout(state, now: now, held: held), watching)
            else { return false }
            // The lease runs from when the report was sent plus the time the control plane says it held the
            // poll: never later than the control plane counts it from, and no shorter for the hold.
            let waited = min(answer.heldSeconds ?? 0, max(0, POSIX.bootSeconds() - asked.boot))
            now += waited
            try AgentLease(renewedAt: asked.boot + waited, leaseSeconds: answer.leaseSeconds).write(to: leasePath)
            if let reading { lastPower = reading }
            await courier.send(answer.sends)
            await keepReplicas(answer, state: state)
            let transfers = await courier.transfers()
            actions = state.follow(answer, site: site, now: now, transfers: transfers) { workload, number in
                executor.logPath(workload: workload, attempt: number, site: site)
            }
            answered = true
        } catch {
            say("\(site): the control plane did not answer: \(error)")
            let since = state.lastAnswer ?? now
            actions = now - since > state.leaseSeconds ? state.leaseLost(now: now) : state.killOverdue(now: now)
            answered = false
        }
        try save(state)
        try await perform(actions, state: &state)
        return answered
    }

    /// How long a poll may wait: 10 s more than the control plane may hold it, never past the lease (a
    /// partition must be noticed within it), and never less than half a second.
    static func timeout(_ state: SiteAgentState, now: Double, held: Double = 0) -> Double {
        guard let last = state.lastAnswer else { return 10 }
        return max(0.5, min(10 + min(held, state.leaseSeconds / 4), last + state.leaseSeconds - now))
    }

    /// What the agent last reported of its site, to notice news while a poll is held.
    struct Watch: Sendable {
        let state: SiteAgentState
        let power: PowerReading?
        let transfers: [String: TransferProgress]
        let every: Double
    }

    /// Sends the report; while the control plane holds it (the report has a `wait`), watches the site and
    /// gives the poll up (nil) as soon as there is news to report.
    func ask(_ report: AgentReport, timeout: Double, _ watching: Watch) async throws -> AgentAssignments? {
        guard report.wait != nil else { return try await transport(report, timeout) }
        return try await withThrowingTaskGroup(of: AgentAssignments?.self) { group in
            group.addTask { try await transport(report, timeout) }
            group.addTask {
                await waitForNews(watching)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// Returns once an attempt the report called running has ended or gone, the power reading changed (or is
    /// due again), or a checkpoint transfer moved on; or when cancelled.
    func waitForNews(_ watching: Watch) async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: UInt64(max(0.05, watching.every) * 1e9))
            if Task.isCancelled { return }
            var probe = watching.state
            probe.observe(await executor.observe(probe.unsettled))
            if probe.attempts != watching.state.attempts { return }
            if readPower(after: watching.power) != nil { return }
            if await courier.transfers() != watching.transfers { return }
        }
    }

    /// Starts and signals as decided, recording each start's handle (or why it could not start).
    func perform(_ actions: [AgentAction], state: inout SiteAgentState) async throws {
        guard !actions.isEmpty else { return }
        for action in actions {
            switch action {
            case .start(let record, let run):
                do {
                    state.started(record, handle: try await executor.start(record, run: run))
                    say(
                        "\(site): started \(record.workload) attempt \(record.number)\(record.resume ? " (resume)" : "")"
                    )
                } catch {
                    state.refused(record, reason: "\(error)")
                }
            case .signal(let record, let signal):
                say("\(site): \(signal == .kill ? "killing" : "stopping") \(record.workload) attempt \(record.number)")
                await executor.signal(record, signal)
            case .fetch(let fetch, let workload):
                say("\(site): fetching the checkpoint of \(workload) from \(fetch.from) (transfer \(fetch.transfer))")
                await courier.fetch(fetch, workload: workload)
            case .cancelFetch(let transfer):
                await courier.cancel(transfer)
            }
        }
        try save(state)
    }

    /// Fetches the copies of other sites' checkpoints the control plane wants kept here (a name that is not
    /// a DNS-1123 name never becomes a path), and stops fetching what it no longer names.
    func keepReplicas(_ answer: AgentAssignments, state: SiteAgentState) async {
        let wanted = answer.receives.filter { SpecNames.isObjectName($0.workload) }
        for receive in wanted where receive.fetch.senderKey != nil && !receive.fetch.sourceSilent {
            await courier.fetch(receive.fetch, workload: receive.workload)
        }
        let attempts = state.attempts.compactMap(\.fetch?.transfer)
        await courier.keepFetching(Set(wanted.map(\.fetch.transfer) + attempts))
    }

    /// The power to send: read at every poll, sent when it changed or a minute after it was last sent.
    func readPower(after last: PowerReading?) -> PowerReading? {
        guard let power else { return nil }
        do {
            let signal = try power()
            let now = clock().timeIntervalSince1970
            if let last, last.signal == signal, now - last.at < 60 { return nil }
            return PowerReading(signal: signal, at: now)
        } catch {
            say("\(site): cannot read the site's power: \(error)")
            return nil
        }
    }

    /// The ends of the logs the control plane asked for (at most ``ReportedLog/limit`` bytes each), found by
    /// workload and attempt number under the work directory (a name that is not a DNS-1123 name is never
    /// made a path).
    func logTails(_ state: SiteAgentState) -> [ReportedLog] {
        state.logRequests.compactMap { request in
            guard SpecNames.isObjectName(request.workload), request.number > 0,
                let tail = FileTail.read(
                    executor.logPath(workload: request.workload, attempt: request.number, site: site),
                    limit: ReportedLog.limit
                )
            else { return nil }
            return ReportedLog(id: request.id, tail: String(decoding: tail, as: UTF8.self))
        }
    }

    /// The workloads with a directory under the executor's: their checkpoints are reported even after the
    /// agent has forgotten their attempts.
    func workloadsWithFiles(_ state: SiteAgentState) -> [String] {
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: workloads.path)) ?? []
        return Array(Set(listed.filter(SpecNames.isObjectName) + state.attempts.map(\.record.workload))).sorted()
    }

    func save(_ state: SiteAgentState) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try POSIX.writeAtomically(try encoder.encode(state), to: statePath, mode: 0o600)
    }
}

/// A power signal the agent read, and when it was sent.
public struct PowerReading: Sendable {
    let signal: PowerSignalBody
    let at: Double
}

/// Why a site agent cannot go on: which file or option, what it expected and what it found.
public struct SiteAgentError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
