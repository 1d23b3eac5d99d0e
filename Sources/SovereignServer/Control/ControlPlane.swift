public import Foundation
public import Logging
import SovereignAssessment
public import SovereignLedger
public import SovereignModel
public import SovereignPlanner
import Synchronization

/// The control plane: it keeps the desired state (the planner's plan for what is known now) and what runs
/// in step, records every decision in the ledger, and answers the API.
///
/// Everything it decides is derived from the store and the executor at each ``reconcile()``, like a
/// Kubernetes controller: level-triggered, idempotent, and safe to restart at any moment (the in-memory
/// state is a cache of the store: the Merkle tree and the decoded workload specs).
///
/// It runs on a serial dispatch queue of its own (``unownedExecutor``): reads and commits are synchronous
/// SQLite transactions, which block that queue's thread and never Swift's cooperative pool.
public actor ControlPlane {
    /// The fleet from the spec files (sites, datasets, policies; workloads declared there).
    public let fleet: Fleet
    /// What the fleet's spec files declare, decoded once: every submission is decoded against it (plain values, so
    /// submissions decode at once on any thread, never waiting for the control plane's queue).
    nonisolated let declared: DeclaredFleet
    let store: any ControlStore
    let executor: any Executor
    /// The executor of the sites whose work runs through site agents, when any does (it is also part of
    /// ``executor``); their polls reach it through ``agentPoll(site:report:by:)``.
    let agents: SiteAgentExecutor?
    let signer: NoteSigner
    /// The log's name in its checkpoints.
    public let origin: String
    let clock: @Sendable () -> Date
    let logger: Logger
    let planStep: TimeSpan
    let horizon: TimeSpan
    let checkpointInterval: TimeSpan

    var tree: MerkleTree
    /// Commits the submissions that arrive together in one transaction, beside the control plane's queue.
    nonisolated let submissions: GroupCommit
    /// The names of the workloads being submitted now, not committed yet: a second submission of one is refused.
    nonisolated let submitting = Mutex<Set<String>>([])
    /// Counts the commits that changed a workload record, so a reader that caches workloads (the federation
    /// coordinator) reads the store again only when this has moved.
    nonisolated var workloadGeneration: Int { workloadCommits.load(ordering: .sequentiallyConsistent) }
    nonisolated let workloadCommits = Atomic<Int>(0)
    /// The ledger's size as this replica's commits left it; the tree catches up to it before it is read.
    nonisolated let ledgerCommitted = Atomic<Int>(0)
    /// Counts this replica's commits, so a pass knows whether the view it carries (``PassView``) still matches
    /// the store: anything committed off the pass, on or off the queue, moves it.
    nonisolated let commitCount = Atomic<Int>(0)
    /// Decoded specs of the workloads the control plane manages, by name: behind a lock of their own, so the
    /// API's reads (``views(_:)``, ``workloadDetail(_:)``) answer off the control plane's queue, never waiting
    /// for a pass or a commit's `fsync`.
    nonisolated let specsKept = Mutex<[String: Workload]>([:])
    /// The specs as they are now.
    nonisolated var specs: [String: Workload] { specsKept.withLock { $0 } }
    /// Where the API's reads of the store run: a concurrent queue of their own (SQLite's WAL lets them read
    /// beside the control plane's writes).
    nonisolated let reads = BlockingQueue(label: "sovereign.reads", concurrent: true)
    /// Where submissions are decoded, several at once: a body of up to a megabyte of YAML is parsed and checked
    /// on Dispatch's threads, never holding one of Swift's cooperative pool (a pass, streams, lease renewals).
    nonisolated let decodes = BlockingQueue(label: "sovereign.submission-decodes", concurrent: true)
    /// Stored workloads whose documents no longer validate against the fleet (logged once, not decoded again).
    var unreadable = Set<String>()
    /// This replica's terms for the leader lease.
    let lease: LeaderLease
    /// The fencing epoch this replica leads at, nil while it follows (see ``holdLease()``).
    var epoch: Int64?
    /// When the lease was last renewed (asked for), by the clock.
    var renewedAt: Date?
    var lastPlan: LivePlan?
    /// The sites as the last `sites` event sent them, each encoded once per change.
    var siteEncodings = LiveEvent.SiteEncodings()
    var lastCheckpointSize = -1
    /// Attempts whose recorded SIGTERM this server has sent again after starting.
    var resignalled = Set<Int64>()
    /// Whether this server's first pass has handed the attempts an earlier server left to the executor.
    var adopted = false
    /// The store as passes see it, kept from commit to commit while this replica leads (see ``PassView``).
    var kept: PassView?
    /// Whether a pass is under way, and the passes waiting for it to end (see ``exclusively(_:)``).
    var passing = false
    var waitingPasses: [CheckedContinuation<Void, Never>] = []
    /// The passes asked for without waiting (see ``askForPass()``).
    nonisolated let askedPasses = Mutex(AskedPasses())
    /// The pass callers wait for that has not begun yet (see ``reconcileAfterThis()``).
    var sharedPass: Task<Void, any Error>?
    var lastCheckpointTime = 0.0
    /// Counters for /metrics.
    var counters = Counters()
    /// Told the state of each control-loop pass (the scheduler extender and the node labeller read it).
    var planObservers: [@Sendable (ControlSnapshot) -> Void] = []
    /// Accelerators held by work the control plane did not start (``setHeldAccelerators(_:)``).
    var held: [HeldAccelerators] = []
    /// The state of the last pass, once anyone asked for it.
    var lastSnapshot: ControlSnapshot?
    var publishesSnapshots = false
    /// The live events `GET /v1/events` streams: every committed change, and the sites when a pass changes them.
    public nonisolated let events: EventHub
    /// The fleet's sovereignty assessment, once asked for (see ``assessment()``).
    nonisolated let assessmentKept = Mutex<AssessmentJSON?>(nil)
    /// Stress tests already run, by their cuts (at most ``stressKeptLimit`` kept).
    nonisolated let stressKept = Mutex<[[Cut]: AssessmentJSON]>([:])
    /// Whether a set of stress tests is being simulated (one at a time, see ``assessment(cuts:)``).
    nonisolated let stressRunning = Mutex(false)

    /// The planner's policy for live placements, and for the scheduler extender's filters and scores.
    static let planningPolicy = PlanningPolicy.powerAware

    /// Where the control plane's work runs: a dispatch queue of its own, so that its SQLite transactions
    /// block a Dispatch thread and never one of Swift's cooperative pool (its executor's probes run on the
    /// executor's own queue).
    nonisolated let queue = DispatchSerialExecutor(label: "sovereign.control-plane")

    /// Where the relay's chunk files are read and written: Dispatch threads, several chunks at once.
    nonisolated let relayFiles = BlockingQueue(label: "sovereign.relay", concurrent: true)

    /// The control plane runs on ``queue``.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { queue.asUnownedSerialExecutor() }

    /// Whether a pass was asked for since the last asked-for pass began, and the task running them.
    struct AskedPasses {
        var pending = false
        var running: Task<Void, Never>?
        /// Whether passes may still be asked for (false once the server is shutting down).
        var open = true

        /// Whether another pass is due, clearing the request; when none is, the running task ends.
        mutating func take() -> Bool {
            guard pending else {
                running = nil
                return false
            }
            pending = false
            return true
        }
    }

    struct Counters {
        var reconciles = 0
        var starts = 0
        var pauses = 0
        var kills = 0
        var powerSignals = 0
    }

    /// Opens the control plane over a store: rebuilds the Merkle tree from the ledger, decodes the stored
    /// workloads, asks for the leader lease (an SQLite store always grants it) and, leading, submits the fleet's
    /// own workloads that carry `run:` (once; a restart finds them stored).
    ///
    /// - Throws: ``StoreError`` or ``LedgerError`` when the stored state cannot be read.
    public init(
        fleet: Fleet,
        declared: DeclaredFleet,
        store: any ControlStore,
        executor: any Executor,
        agents: SiteAgentExecutor? = nil,
        signer: NoteSigner,
        origin: String,
        logger: Logger,
        planStep: TimeSpan = .minutes(5),
        horizon: TimeSpan = .hours(24),
        checkpointInterval: TimeSpan = .seconds(10),
        events: EventHub = EventHub(),
        lease: LeaderLease = LeaderLease(),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.events = events
        self.fleet = fleet
        self.store = store
        self.submissions = GroupCommit(store: store, label: "sovereign.submission-commits", clock: clock)
        self.executor = executor
        self.agents = agents
        self.signer = signer
        self.origin = origin
        self.logger = logger
        self.planStep = planStep
        self.horizon = horizon
        self.checkpointInterval = checkpointInterval
        self.clock = clock
        self.tree = MerkleTree(leafHashes: try store.ledgerLeafHashes())
        let records = try store.workloads()
        let decoded = Self.decodeSpecs(of: records, fleet: fleet, declared: declared, logger: logger)
        self.declared = declared
        specsKept.withLock { $0 = decoded.specs }
        self.unreadable = decoded.unreadable
        self.lease = lease
        let asked = clock()
        self.epoch = try store.lead(as: lease.holder, renewing: nil, for: lease.duration)
        self.renewedAt = epoch == nil ? nil : asked
        guard epoch != nil else { return }
        // The fleet's own runnable workloads are submitted on first start (by the leader).
        var change = Self.fleetSubmission(fleet, stored: records, at: asked.timeIntervalSince1970)
        change.epoch = epoch
        for w in fleet.workloads where change.newWorkloads.contains(where: { $0.name == w.name }) {
            specsKept.withLock { $0[w.name] = w }
        }
        // (An initializer cannot call the actor's commit; generation 0 is what no reader has matched yet.)
        if !change.isEmpty {
            // Nobody listens to the events yet: the change is committed and not published.
            let committed = try store.commit(change, at: clock())
            for entry in committed.entries { tree.append(entry.leafHash) }
        }
    }

    /// Calls `observer` with the state of every control-loop pass from now on (site budgets, what runs
    /// where, the workloads pods may name).
    public func observePlans(_ observer: @escaping @Sendable (ControlSnapshot) -> Void) {
        publishesSnapshots = true
        planObservers.append(observer)
    }

    /// The state of the last control-loop pass, for the scheduler extender (running a pass first if none
    /// has published one yet).
    ///
    /// - Throws: what ``reconcile()`` throws; ``ControlError`` (`notLeader`) on a follower that has none.
    public func controlSnapshot() async throws -> ControlSnapshot {
        if let lastSnapshot { return lastSnapshot }
        publishesSnapshots = true
        try await reconcile()
        guard let lastSnapshot else { throw ControlError.notLeader("the scheduler extender's first snapshot") }
        return lastSnapshot
    }

    // MARK: Requests

    /// Who made a change, for the ledger: a token's fingerprint, never the token.
    public struct Requester: Sendable {
        /// `token:1a2b3c4d5e6f` or `fleet spec`.
        public let identity: String
        /// The site a federated agent's token acts for.
        public let site: String?
        /// Makes a requester.
        public init(identity: String, site: String? = nil) {
            self.identity = identity
            self.site = site
        }
    }

    /// Submits workloads given as spec documents (YAML or JSON, `kind: Workload`).
    ///
    /// - Returns: the stored records.
    /// - Throws: ``SpecError`` when the documents are invalid against the fleet; ``StoreError`` when a name is
    ///   taken; ``ControlError`` (`federationRefused`) when a federated workload breaks a residency or update-crossing rule.
    public nonisolated func submit(document: String, by actor: Requester) async throws -> [WorkloadRecord] {
        let workloads = try await decodes.run { [declared] in try Self.decodeSubmission(document, against: declared) }
        for w in workloads { try checkFederation(w) }
        let change = Self.submission(workloads, document: document, by: actor, at: clock().timeIntervalSince1970)
        let names = workloads.map(\.name)
        try reserve(names)
        defer { submitting.withLock { $0.subtract(names) } }
        // Kept and counted the moment it is durable, before the next batch commits: a pass that reads the store
        // after this commit sees its count moved.
        _ = try await submissions.commit(change) { [self] committed in
            specsKept.withLock { specs in for w in workloads { specs[w.name] = w } }
            recorded(change, committed)
        }
        return change.newWorkloads
    }

    /// The change that submits `workloads` (given as `document`).
    static func submission(
        _ workloads: [Workload],
        document: String,
        by actor: Requester,
        at now: Double
    ) -> StateChange {
        var change = StateChange()
        for w in workloads {
            change.newWorkloads.append(WorkloadRecord(name: w.name, source: "api", document: document, at: now))
            change.transitions.append(
                TransitionRecord(workload: w.name, at: now, from: nil, to: .pending, reason: "submitted")
            )
            change.ledger.append(.submitted(.init(w, by: actor.identity)))
        }
        return change
    }

    /// Holds `names` for a submission under way, refusing one the control plane manages or another submission
    /// holds (the store refuses the rest: names taken on another replica).
    nonisolated func reserve(_ names: [String]) throws {
        try submitting.withLock { held in
            let known = specsKept.withLock { specs in names.first { specs[$0] != nil } }
            if let taken = known ?? names.first(where: held.contains) { throw StoreError.nameTaken(taken) }
            held.formUnion(names)
        }
    }

    /// What a commit made off the control plane's queue leaves for its readers: the count a pass's view checks, the
    /// workload generation, the ledger's size for the tree to catch up to, and the live events.
    nonisolated func recorded(_ change: StateChange, _ committed: CommittedChange) {
        commitCount.add(1, ordering: .sequentiallyConsistent)
        workloadCommits.add(1, ordering: .sequentiallyConsistent)
        if let last = committed.entries.last {
            ledgerCommitted.max(last.sequence + 1, ordering: .sequentiallyConsistent)
        }
        events.publish(LiveEvent.of(change, committed: committed))
    }

    /// Decodes submitted documents against what the fleet's specs declare, so that every reference is checked
    /// as `sovereign validate` would, with positions in the request body; the fleet's documents are not decoded
    /// again (a submission's cost does not grow with the fleet).
    static func decodeSubmission(_ document: String, against declared: DeclaredFleet) throws -> [Workload] {
        // Only Workloads are admitted, checked before anything is decoded: nothing in a request body may
        // make the server open a file.
        let added = try FleetLoader.decodeSubmission((file: "request body", text: document), against: declared)
        if added.isEmpty {
            throw SpecError([
                Diagnostic(
                    .badValue,
                    at: SourceLocation(file: "request body", line: 1, column: 1),
                    path: "",
                    expected: "at least one Workload document",
                    found: "none"
                )
            ])
        }
        return added
    }

    /// Asks for a workload to be paused (checkpointed and stopped) and kept paused, or released again.
    ///
    /// - Throws: ``ControlError`` when there is no such workload or it has ended.
    public func setHeld(_ name: String, held: Bool, by actor: Requester) async throws -> WorkloadRecord {
        guard var record = try store.workload(named: name) else { throw ControlError.notFound(name) }
        guard !record.state.isTerminal else { throw ControlError.ended(name, record.state) }
        guard record.held != held else { return record }
        record.held = held
        record.updatedAt = clock().timeIntervalSince1970
        var change = StateChange()
        change.requests.append(WorkloadRequest(record))
        change.ledger.append(
            held
                ? .pauseRequested(workload: name, by: actor.identity)
                : .resumeRequested(workload: name, by: actor.identity)
        )
        try commit(change, fenced: false)
        try await reconcile()
        return try store.workload(named: name) ?? record
    }

    /// Asks for a workload to be cancelled: stopped (with its grace period) and never started again.
    public func cancel(_ name: String, by actor: Requester) async throws -> WorkloadRecord {
        guard var record = try store.workload(named: name) else { throw ControlError.notFound(name) }
        guard !record.state.isTerminal else { throw ControlError.ended(name, record.state) }
        guard !record.cancelRequested else { return record }
        record.cancelRequested = true
        record.updatedAt = clock().timeIntervalSince1970
        var change = StateChange()
        change.requests.append(WorkloadRequest(record))
        change.ledger.append(.cancelRequested(workload: name, by: actor.identity))
        try commit(change, fenced: false)
        try await reconcile()
        return try store.workload(named: name) ?? record
    }

    /// Records the power a site can draw now (and ahead), then waits for a pass that sees it (shared with the
    /// other signals that arrive while an earlier pass runs).
    ///
    /// - Throws: ``ControlError`` for an unknown site.
    public func receivePower(
        site: String,
        available: Power,
        forecast: [(at: Date, available: Power)],
        ambient: Temperature?,
        by actor: Requester
    ) async throws -> PowerSignalRecord {
        guard fleet.site(named: site) != nil else { throw ControlError.unknownSite(site) }
        let signal = PowerSignalRecord(
            site: site,
            at: clock().timeIntervalSince1970,
            available: available.watts,
            forecast: forecast.map { .init(at: $0.at.timeIntervalSince1970, available: $0.available.watts) },
            ambient: ambient?.baseValue
        )
        var change = StateChange()
        change.powerSignals.append(signal)
        change.ledger.append(.powerSignal(.init(signal, by: actor.identity)))
        try commit(change, fenced: false)
        counters.powerSignals += 1
        try await reconcileAfterThis()
        return signal
    }

    /// Runs `body` when no other pass runs, and holds the others off until it ends. A pass suspends while
    /// its executor works; a second pass in between would plan from attempts the first is still changing.
    func exclusively(_ body: () async throws -> Void) async rethrows {
        while passing { await withCheckedContinuation { waitingPasses.append($0) } }
        passing = true
        defer {
            passing = false
            if !waitingPasses.isEmpty { waitingPasses.removeFirst().resume() }
        }
        try await body()
    }

    /// Asks for a control-loop pass soon, without waiting for it, so a submission answers at once: passes
    /// asked for while one runs are coalesced into one more, so a burst of submissions costs a pass or two, not
    /// one each. Callable from anywhere: it never waits for the control plane's queue.
    public nonisolated func askForPass() {
        askedPasses.withLock { asked in
            guard asked.open else { return }
            asked.pending = true
            // The task's first look at the request waits for this lock, so it finds itself running.
            if asked.running == nil { asked.running = Task { await self.runAskedPasses() } }
        }
    }

    private func runAskedPasses() async {
        while askedPasses.withLock({ $0.take() }) {
            do {
                try await reconcile()
            } catch {
                logger.error("reconcile failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Returns once the passes asked for so far have run.
    public nonisolated func askedPassesDone() async {
        while let running = askedPasses.withLock({ $0.running }) { await running.value }
    }

    /// Takes no more asked-for passes and waits for the one running: what a server shutting down does before
    /// its last checkpoint, so no pass starts work or writes the ledger after it.
    public nonisolated func stopAskedPasses() async {
        askedPasses.withLock { asked in
            asked.open = false
            asked.pending = false
        }
        await askedPassesDone()
    }

    // MARK: Ledger

    /// Commits a change, appends its ledger entries to the in-memory tree, counts it when it changes a workload
    /// record, and publishes its live events.
    ///
    /// - Parameters:
    ///   - time: when the change is made (default: the clock now).
    ///   - fenced: the change is the leader's (it carries the epoch, and is refused once another replica leads);
    ///     false for what any replica may write (a submission, a power signal).
    /// - Throws: ``StoreError`` (deposed: this replica steps down) when the store refuses the change;
    ///   ``ControlError`` (`notLeader`) for a leader's change once this replica no longer leads (a pass or a
    ///   federation tick that began while it led): without an epoch the store could not fence it, and the new
    ///   leader's kept view would never learn of it.
    @discardableResult
    func commit(_ change: StateChange, at time: Date? = nil, fenced: Bool = true) throws -> CommittedChange {
        guard !change.isEmpty else { return CommittedChange(entries: [], attemptIDs: []) }
        guard !fenced || epoch != nil else { throw ControlError.notLeader("a leader's write") }
        var change = change
        change.epoch = fenced ? epoch : nil
        let before = (commits: commitCount.load(ordering: .sequentiallyConsistent), ledger: tree.size)
        let committed: CommittedChange
        do {
            committed = try store.commit(change, at: time ?? clock())
            commitCount.add(1, ordering: .sequentiallyConsistent)
        } catch let error as StoreError where error.isDeposed {
            stepDown(error.message)
            throw error
        } catch {
            // A commit that failed may still have landed (a connection lost after it was sent).
            forgetView()
            throw error
        }
        // Another replica's entries may have been stored since this one's last: the tree catches up from the
        // store, which holds this commit's too.
        if let first = committed.entries.first, first.sequence != tree.size {
            try catchUpTree()
        } else {
            for entry in committed.entries { tree.append(entry.leafHash) }
        }
        keep(change, committed, before: before)
        if !change.workloads.isEmpty || !change.requests.isEmpty || !change.newWorkloads.isEmpty {
            workloadCommits.add(1, ordering: .sequentiallyConsistent)
        }
        events.publish(LiveEvent.of(change, committed: committed))
        return committed
    }

    /// Signs a checkpoint of the stored ledger when it has grown and the interval has passed (or `force`); only
    /// the leader signs.
    ///
    /// - Returns: the signed note, when one was made.
    @discardableResult
    public func signCheckpoint(force: Bool = false) throws -> String? {
        guard epoch != nil else { return nil }
        let now = clock().timeIntervalSince1970
        guard force || now - lastCheckpointTime >= checkpointInterval.seconds else { return nil }
        try catchUpTree()
        guard tree.size != lastCheckpointSize else { return nil }
        let checkpoint = Checkpoint(origin: origin, size: tree.size, root: try tree.root(size: tree.size))
        let note = signer.sign(checkpoint)
        do {
            try store.addCheckpoint(size: tree.size, note: note, at: clock(), epoch: epoch)
        } catch let error as StoreError where error.isDeposed {
            stepDown(error.message)
            throw error
        }
        lastCheckpointSize = tree.size
        lastCheckpointTime = now
        return note
    }

    /// The ledger's size and root now.
    public func ledgerHead() throws -> (size: Int, root: TreeHash) {
        try catchUpSubmissions()
        return (tree.size, try tree.root(size: tree.size))
    }

    /// An inclusion proof for entry `index` in the tree of `size` entries.
    public func inclusionProof(index: Int, size: Int) throws -> InclusionProof {
        try catchUpSubmissions()
        return try InclusionProof(tree, index: index, size: size)
    }

    /// A consistency proof between the trees of `from` and `to` entries.
    public func consistencyProof(from: Int, to: Int) throws -> ConsistencyProof {
        try catchUpSubmissions()
        return try ConsistencyProof(tree, from: from, to: to)
    }

    /// Brings the tree up to the entries this replica's submissions committed off the control plane's queue.
    func catchUpSubmissions() throws {
        if tree.size < ledgerCommitted.load(ordering: .sequentiallyConsistent) { try catchUpTree() }
    }

    /// The verifier key of the checkpoint signer.
    public var verifierKey: String { signer.verifierKey }

    // MARK: Reads

    /// The plan of the last reconcile.
    public var currentPlan: LivePlan? { lastPlan }

    /// The decoded spec of a managed workload.
    public nonisolated func spec(of name: String) -> Workload? { specsKept.withLock { $0[name] } }
}

/// A request the control plane or its federation coordinator refuses: what kind of refusal, why, and the
/// request field at fault. The HTTP layer chooses the status (`ControlError: HTTPResponseError` in `HTTP/APIError.swift`).
public struct ControlError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of refusal this is; stable, for callers and tests.
    public enum Code: String, Sendable, Hashable {
        /// No workload by that name.
        case unknownWorkload = "unknown-workload"
        /// No site by that name in the fleet.
        case unknownSite = "unknown-site"
        /// The workload has ended; it can no longer be paused, resumed or cancelled.
        case ended
        /// A name that is not a DNS-1123 name, or would leave its directory.
        case invalidName = "invalid-name"
        /// A federated workload whose participants or update crossings break a rule.
        case federationRefused = "federation-refused"
        /// A site that does not take part in the federated workload it names.
        case notParticipant = "not-participant"
        /// A federation message signed for one site but naming another.
        case wrongSite = "wrong-site"
        /// A federation message for another round, attempt, phase or chunk than the coordinator expects now.
        case outOfTurn = "out-of-turn"
        /// An update larger than the model allows.
        case tooLarge = "too-large"
        /// An update whose size, digest, format or contents are wrong.
        case invalidUpdate = "invalid-update"
        /// A site agent's poll for a site whose work the server runs itself.
        case noSiteAgent = "no-site-agent"
        /// A checkpoint transfer the control plane has not ordered (or has finished), or a part of one the
        /// source has not sent yet.
        case unknownTransfer = "unknown-transfer"
        /// A signed offer or a chunk that does not match its transfer (signature, id, index or length).
        case invalidCheckpoint = "invalid-checkpoint"
        /// No dataset by that name in the fleet.
        case unknownDataset = "unknown-dataset"
        /// An anonymisation run's report that the fleet refuses: the wrong source, a site outside the source's
        /// residency, another method, or a k below what the method and the policies ask for.
        case derivationRefused = "derivation-refused"
        /// A request only the leading replica can answer, made to one that follows.
        case notLeader = "not-leader"
    }

    /// What kind of refusal this is.
    public let code: Code
    /// What went wrong.
    public let message: String
    /// The request field at fault.
    public let field: String?

    init(_ code: Code, _ message: String, field: String?) {
        self.code = code
        self.message = message
        self.field = field
    }

    static func notFound(_ name: String) -> ControlError {
        ControlError(.unknownWorkload, "no workload named \"\(name)\"", field: "name")
    }
    static func ended(_ name: String, _ state: WorkloadState) -> ControlError {
        ControlError(.ended, "workload \"\(name)\" has ended (\(state.rawValue))", field: "name")
    }
    static func notLeader(_ what: String) -> ControlError {
        ControlError(
            .notLeader,
            "expected the leading replica to answer \(what), found one that follows (ask again: the load balancer may pick the leader)",
            field: nil
        )
    }
    static func unknownSite(_ name: String) -> ControlError {
        ControlError(.unknownSite, "no site named \"\(name)\" in the fleet", field: "site")
    }

    public var description: String { message }
}
