import Crypto
public import Foundation
public import SovereignModel

/// Runs attempts at sites through their site agents (`sovereign site-agent`), which poll the control plane:
/// the agents pull, so a site behind a firewall needs no inbound port.
///
/// The store is the channel: an attempt's committed intent is its assignment, and its recorded stop or kill
/// is the signal (``AgentAssignments`` lists them), so ``start(_:run:)`` and ``signal(_:_:)`` only name the
/// attempt. What runs is what the agents last reported. Each report renews the site's **lease**: an agent
/// that cannot report for the lease time `L` stops its work itself, and only after `2L` without a report
/// are the site's attempts taken as gone (and their work placed elsewhere), so two attempts of a workload
/// never run at once, even across a partition. The reports are a cache rebuilt by the next poll: a server
/// that restarts gives every site a fresh `2L` before taking anything as gone.
public actor SiteAgentExecutor: Executor {
    /// The sites whose work runs through their agents.
    public nonisolated let sites: Set<String>
    /// The lease `L`.
    public nonisolated let lease: TimeSpan
    let clock: @Sendable () -> Date

    /// The latest report of each site and when it arrived (or, before any, when this server started).
    var contacts: [String: Contact]
    /// Attempts whose log someone asked for, by site, and the log ends agents sent (with when they came).
    var logRequests: [String: Set<LogRequest>] = [:]
    var logs: [Int64: (at: Double, tail: String)] = [:]
    /// Each site's checkpoint bytes by workload, from its latest report.
    var checkpoints: [String: [String: Int64]] = [:]
    /// Each site's agent's public keys, as its latest report gave them.
    var keys: [String: AgentKeys] = [:]
    /// The checkpoint moves under way, by transfer id (the control plane sets them after each pass).
    var moves: [String: PendingMove] = [:]
    /// Whether the relay has been pruned since this server started (what an earlier server left is dropped
    /// at the first pass).
    var prunedOnce = false
    /// Each site's agent's peer listener, when it reported one (`site-agent --peer-listen`).
    var peers: [String: String] = [:]
    /// Each site's count of changes to what its agent should do, and the polls held until the next one
    /// (``waitForChange(at:after:until:)``).
    var generations: [String: Int] = [:]
    var heldPolls: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
    var nextHeldPoll = 0
    /// The key of the secrets a source's peer listener asks of its destination, one per transfer (made at
    /// start: after a restart the next answers hand out new ones).
    let transferKey = SymmetricKey(size: .bits256)
    /// Where checkpoints wait between agents.
    public nonisolated let relay: CheckpointRelay
    /// The control plane's jurisdiction (`serve --jurisdiction`), the relay's for residency; `nil` when
    /// undeclared.
    public nonisolated let jurisdiction: String?

    struct Contact {
        var at: Double
        var report: AgentReport?
    }

    /// An executor for `sites`, whose agents hold leases of `lease` and whose checkpoints wait in `relay`.
    public init(
        sites: Set<String>,
        lease: TimeSpan,
        relay: CheckpointRelay,
        jurisdiction: String? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.sites = sites
        self.lease = lease
        self.relay = relay
        self.jurisdiction = jurisdiction
        self.clock = clock
        let now = clock().timeIntervalSince1970
        contacts = Dictionary(uniqueKeysWithValues: sites.map { ($0, Contact(at: now, report: nil)) })
    }

    /// Records a site's report.
    ///
    /// - Returns: whether it says something new has ended (the control loop should look now).
    @discardableResult
    func receive(_ report: AgentReport, from site: String) -> Bool {
        let before = Set((contacts[site]?.report?.attempts ?? []).filter { !$0.running }.map(\.id))
        let now = clock().timeIntervalSince1970
        contacts[site] = Contact(at: now, report: report)
        checkpoints[site] = Dictionary(report.checkpoints.map { ($0.workload, $0.bytes) }) { _, later in later }
        // Another site's sends and fetches name this one's keys and listener.
        if report.keys != nil && report.keys != keys[site] || report.peer != peers[site] { changed() }
        if let reported = report.keys { keys[site] = reported }
        peers[site] = report.peer
        for log in report.logs ?? [] {
            guard let asked = logRequests[site]?.first(where: { $0.id == log.id }) else { continue }
            logRequests[site]?.remove(asked)
            logs[log.id] = (now, String(log.tail.suffix(ReportedLog.limit)))
        }
        return report.attempts.contains { !$0.running && !before.contains($0.id) }
    }

    /// The attempts at `site` whose log's end is wanted.
    func logRequests(for site: String) -> [LogRequest] { (logRequests[site] ?? []).sorted() }

    /// The end of an attempt's log, as its agent sends it when asked: waits up to `wait` for an answer to
    /// this request, else gives the last one received (nil when there is none).
    func tail(of attempt: AttemptRecord, wait: Duration) async -> String? {
        guard let id = attempt.id else { return nil }
        let asked = clock().timeIntervalSince1970
        logRequests[attempt.site, default: []].insert(
            LogRequest(id: id, workload: attempt.workload, number: attempt.number)
        )
        changed([attempt.site])
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            if let log = logs[id], log.at >= asked { return log.tail }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return logs[id]?.tail
    }

    /// Sites whose agent has not reported for more than `2L`, with the time of its last report: their work
    /// is taken as gone and they are planned as having no power.
    public func darkSites() -> [String: Double] {
        let now = clock().timeIntervalSince1970
        return contacts.filter { isDark($0.value, now: now) }.mapValues(\.at)
    }

    /// When each site's agent last reported, seconds since 1970 (sites not heard from since this server
    /// started are absent): its heartbeat, for the console.
    public func lastReports() -> [String: Double] {
        contacts.compactMapValues { $0.report == nil ? nil : $0.at }
    }

    /// Whether a site last heard from as `contact` says is dark at `now`: silent for more than `2L`.
    func isDark(_ contact: Contact, now: Double) -> Bool { now - contact.at > 2 * lease.seconds }

    public func start(_ attempt: AttemptRecord, run: Workload.Run) async throws -> AttemptHandle {
        AttemptHandle("site-agent:\(attempt.site)/\(attempt.id.map(String.init) ?? "?")")
    }

    public func observe(_ attempts: [AttemptRecord]) async -> [AttemptObservation] {
        let now = clock().timeIntervalSince1970
        return attempts.map { observe($0, now: now) }
    }

    /// What the site's latest report says of `attempt`: how it ended, when it did (whatever the report's
    /// age); running while the lease may still hold; gone when the agent has no record of an attempt it was
    /// given, or when nothing was heard from the site for `2L`.
    func observe(_ attempt: AttemptRecord, now: Double) -> AttemptObservation {
        guard let contact = contacts[attempt.site], let id = attempt.id else { return .gone }
        let reported = contact.report?.attempts.first { $0.id == id }
        if let reported, !reported.running { return reported.observation }
        if isDark(contact, now: now) { return .gone }
        if reported == nil, let report = contact.report, id <= report.seenThrough { return .gone }
        return .running
    }

    /// The attempts the sites' latest reports say completed, with the site that reported each: the control
    /// plane looks among them for attempts it took as lost while their site was dark.
    func reportedCompletions() -> [(site: String, attempt: ReportedAttempt)] {
        contacts.sorted { $0.key < $1.key }.flatMap { site, contact in
            (contact.report?.attempts ?? []).filter { $0.status?.completed == true }.map { (site, $0) }
        }
    }

    /// The agents hold what ran; the next report says how each attempt is doing.
    public func adopt(_ attempts: [AttemptRecord]) async -> [AttemptObservation] { await observe(attempts) }

    /// The stop or kill is already in the store, where the agent's next poll reads it.
    public func signal(_ attempt: AttemptRecord, _ signal: AttemptSignal) async {}

    /// What each site's latest report says of the workload's checkpoint there.
    ///
    /// - Complexity: O(W) for W workloads asked about (each report's checkpoints are indexed on arrival).
    public func checkpointBytes(of workloads: [String: String]) async -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: workloads.map { ($0.key, checkpoints[$0.value]?[$0.key] ?? 0) })
    }

    /// The agent keeps the log in its work directory: `site SITE: NAME/attempts/N/log`.
    public nonisolated func logPath(workload: String, attempt number: Int, site: String) -> String {
        "site \(site): \(workload)/attempts/\(number)/log"
    }
}

/// The executor of a fleet where some sites run their work through site agents and the rest on the
/// server's own machine: each call goes to the executor of the attempt's site.
public struct SiteRoutedExecutor: Executor {
    /// Runs the work of every site that has no agent.
    public let local: any Executor
    /// Runs the work of the agents' sites.
    public let agents: SiteAgentExecutor

    /// Routes `agents.sites` to `agents` and every other site to `local`.
    public init(local: any Executor, agents: SiteAgentExecutor) {
        self.local = local
        self.agents = agents
    }

    func executor(for site: String) -> any Executor { agents.sites.contains(site) ? agents : local }

    public func start(_ attempt: AttemptRecord, run: Workload.Run) async throws -> AttemptHandle {
        try await executor(for: attempt.site).start(attempt, run: run)
    }

    public func observe(_ attempts: [AttemptRecord]) async -> [AttemptObservation] {
        await routed(attempts) { executor, part in await executor.observe(part) }
    }

    public func adopt(_ attempts: [AttemptRecord]) async -> [AttemptObservation] {
        await routed(attempts) { executor, part in await executor.adopt(part) }
    }

    /// Asks each executor about its sites' attempts and puts the answers back in the order given.
    func routed(
        _ attempts: [AttemptRecord],
        _ ask: (any Executor, [AttemptRecord]) async -> [AttemptObservation]
    ) async -> [AttemptObservation] {
        let remote = attempts.indices.filter { agents.sites.contains(attempts[$0].site) }
        let here = attempts.indices.filter { !agents.sites.contains(attempts[$0].site) }
        var answers = [AttemptObservation](repeating: .gone, count: attempts.count)
        for (indices, executor) in [(remote, agents as any Executor), (here, local)] where !indices.isEmpty {
            for (i, observation) in zip(indices, await ask(executor, indices.map { attempts[$0] })) {
                answers[i] = observation
            }
        }
        return answers
    }

    public func signal(_ attempt: AttemptRecord, _ signal: AttemptSignal) async {
        await executor(for: attempt.site).signal(attempt, signal)
    }

    /// A workload's checkpoint at an agent's site is what that agent last reported; elsewhere it is the
    /// server's own directory.
    public func checkpointBytes(of workloads: [String: String]) async -> [String: Int64] {
        let here = await local.checkpointBytes(of: workloads.filter { !agents.sites.contains($0.value) })
        let remote = await agents.checkpointBytes(of: workloads.filter { agents.sites.contains($0.value) })
        return here.merging(remote) { $1 }
    }

    public func logPath(workload: String, attempt number: Int, site: String) -> String {
        executor(for: site).logPath(workload: workload, attempt: number, site: site)
    }
}
