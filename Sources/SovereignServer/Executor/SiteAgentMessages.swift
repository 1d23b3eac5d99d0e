public import Foundation

/// What a site agent says at each poll (`POST /v1/sites/{site}/agent`): every attempt it knows of and how
/// each is doing, its workloads' checkpoints, and optionally the power its site can draw now.
///
/// A report is whole, not a delta: the control plane keeps only the latest one per site, so a lost report
/// loses nothing (the next one says it all again) and a server restart needs no state from before it.
public struct AgentReport: Codable, Sendable, Hashable {
    /// The agent's instance (host, process and start time), for the log; not trusted for anything.
    public var agent: String
    /// The highest attempt id in any assignment list the agent received: an attempt at or below it that the
    /// report does not name is one the agent has no record of (it is gone).
    public var seenThrough: Int64
    /// Every attempt the agent runs or ran and the control plane still lists.
    public var attempts: [ReportedAttempt]
    /// Bytes of each workload's checkpoint at the site, for workloads that have one.
    public var checkpoints: [ReportedCheckpoint]
    /// The site's power now (and ahead), read from its energy-management system, when the agent has it.
    public var power: PowerSignalBody?
    /// The ends of the logs the control plane asked for (``AgentAssignments/logRequests``).
    public var logs: [ReportedLog]?
    /// The agent's public keys: the control plane hands them to the agents its checkpoints move between.
    public var keys: AgentKeys?
    /// Checkpoints the agent received from another site and put in place (``Assignment/fetch``).
    public var received: [ReceivedCheckpoint]?
    /// Where other sites' agents reach this one for checkpoints that travel directly (`site-agent
    /// --peer-listen`), like `http://10.1.2.3:9443`; absent when it does not listen.
    public var peer: String?
    /// Seconds the agent lets the control plane hold this poll when the answer would be the one it last
    /// acted on (``answered``): the poll returns as soon as that changes (at most a quarter of the lease).
    public var wait: Double?
    /// The ``AgentAssignments/version`` of the last answer the agent acted on.
    public var answered: String?

    /// Makes a report.
    public init(
        agent: String,
        seenThrough: Int64,
        attempts: [ReportedAttempt],
        checkpoints: [ReportedCheckpoint],
        power: PowerSignalBody? = nil,
        logs: [ReportedLog]? = nil,
        keys: AgentKeys? = nil,
        received: [ReceivedCheckpoint]? = nil,
        peer: String? = nil
    ) {
        self.agent = agent
        self.seenThrough = seenThrough
        self.attempts = attempts
        self.checkpoints = checkpoints
        self.power = power
        self.logs = logs
        self.keys = keys
        self.received = received
        self.peer = peer
    }
}

/// A site agent's public keys, base64 of their raw 32 bytes. The agent's site token (or certificate)
/// vouches for them, so the control plane is what makes one agent trust another's.
public struct AgentKeys: Codable, Sendable, Hashable {
    /// X25519: the key checkpoints sent to this site are encrypted for.
    public var agreement: String
    /// Ed25519: the key that signs the checkpoint offers this site sends.
    public var signing: String

    /// Makes one.
    public init(agreement: String, signing: String) {
        self.agreement = agreement
        self.signing = signing
    }
}

/// A checkpoint an agent received through the relay, checked against its manifest and put in place.
public struct ReceivedCheckpoint: Codable, Sendable, Hashable {
    /// The transfer (``CheckpointFetch/transfer``).
    public var transfer: String
    /// The SHA-256 of the manifest's canonical JSON, hex.
    public var manifest: String
    /// Bytes of the checkpoint.
    public var bytes: Int64

    /// Makes one.
    public init(transfer: String, manifest: String, bytes: Int64) {
        self.transfer = transfer
        self.manifest = manifest
        self.bytes = bytes
    }
}

/// Where an attempt's checkpoint comes from when it is at another site: the destination agent fetches the
/// transfer from the relay, checks the offer's signature against the source agent's key, and starts the
/// attempt only once the checkpoint is in place.
public struct CheckpointFetch: Codable, Sendable, Hashable {
    /// The transfer's id.
    public var transfer: String
    /// The site that sends it.
    public var from: String
    /// The source agent's Ed25519 public key (base64), as its site reported it; `nil` until it has.
    public var senderKey: String?
    /// Whether the source site's agent has fallen silent (past twice the lease): the checkpoint will not
    /// come, and the destination gives the attempt up.
    public var sourceSilent: Bool
    /// For a checkpoint that travels directly (`checkpointTransit: direct`): the source agent's peer
    /// listener, and the secret it asks for this transfer; absent when it comes through the relay.
    public var peer: String?
    public var secret: String?

    /// Makes one.
    public init(
        transfer: String,
        from: String,
        senderKey: String?,
        sourceSilent: Bool = false,
        peer: String? = nil,
        secret: String? = nil
    ) {
        self.transfer = transfer
        self.from = from
        self.senderKey = senderKey
        self.sourceSilent = sourceSilent
        self.peer = peer
        self.secret = secret
    }
}

/// A copy of a workload's checkpoint the agent should keep (``Workload/Checkpointing/replicate``): fetched
/// like an attempt's checkpoint, but for no attempt, so the work can resume here if its site goes dark.
public struct CheckpointReceive: Codable, Sendable, Hashable {
    /// The workload whose checkpoint it is.
    public var workload: String
    /// Where it comes from.
    public var fetch: CheckpointFetch

    /// Makes one.
    public init(workload: String, fetch: CheckpointFetch) {
        self.workload = workload
        self.fetch = fetch
    }
}

/// A checkpoint the agent should send: pack its workload's checkpoint, encrypt it for the destination's
/// key, sign the offer, and upload the offer and every chunk to the relay.
public struct CheckpointSend: Codable, Sendable, Hashable {
    /// The transfer's id.
    public var transfer: String
    /// The workload whose checkpoint moves.
    public var workload: String
    /// The destination site.
    public var to: String
    /// The destination agent's X25519 public key (base64), as its site reported it.
    public var recipientKey: String
    /// For a checkpoint that travels directly: the secret the destination will present to this agent's peer
    /// listener (the checkpoint is then served there, not uploaded); absent for the relay.
    public var secret: String?

    /// Makes one.
    public init(transfer: String, workload: String, to: String, recipientKey: String, secret: String? = nil) {
        self.transfer = transfer
        self.workload = workload
        self.to = to
        self.recipientKey = recipientKey
        self.secret = secret
    }
}

/// The end of one attempt's output, as its site agent read it.
public struct ReportedLog: Codable, Sendable, Hashable {
    /// The attempt's id.
    public var id: Int64
    /// The last bytes of its log (at most ``limit``), as UTF-8 text.
    public var tail: String

    /// Most bytes of a log an agent sends.
    public static let limit = 64 << 10

    /// Makes one.
    public init(id: Int64, tail: String) {
        self.id = id
        self.tail = tail
    }
}

/// One attempt as its site agent sees it.
public struct ReportedAttempt: Codable, Sendable, Hashable {
    /// The attempt's id in the control plane's store (its fencing epoch).
    public var id: Int64
    /// The workload it belongs to.
    public var workload: String
    /// Whether it runs; when it has ended, how.
    public var running: Bool
    /// How it ended, when it has.
    public var status: ExitStatus?

    /// An attempt that runs.
    public static func running(id: Int64, workload: String) -> ReportedAttempt {
        ReportedAttempt(id: id, workload: workload, running: true, status: nil)
    }

    /// An attempt that ended with `status`.
    public static func ended(id: Int64, workload: String, status: ExitStatus) -> ReportedAttempt {
        ReportedAttempt(id: id, workload: workload, running: false, status: status)
    }

    /// What the control plane makes of it.
    var observation: AttemptObservation {
        if running { return .running }
        return status.map(AttemptObservation.ended) ?? .gone
    }
}

/// The bytes of one workload's checkpoint at a site.
public struct ReportedCheckpoint: Codable, Sendable, Hashable {
    /// The workload.
    public var workload: String
    /// Bytes of its checkpoint directory.
    public var bytes: Int64

    /// Makes one.
    public init(workload: String, bytes: Int64) {
        self.workload = workload
        self.bytes = bytes
    }
}

/// The control plane's answer to a poll: what should run at the site now, and the lease that holds it.
///
/// The list is level-triggered, as a kubelet reads its pods: every open attempt at the site, with whether
/// it should stop (checkpoint within its grace period) or be killed. An attempt the agent runs that is not
/// listed has been closed or reassigned: the agent stops it and never starts it again.
public struct AgentAssignments: Codable, Sendable, Hashable {
    /// The site.
    public var site: String
    /// Seconds the agent may keep its work running without a successful poll; past it, it checkpoints and
    /// stops everything (the control plane reassigns the work only after twice this).
    public var leaseSeconds: Double
    /// The attempts that should run (or stop) at the site.
    public var attempts: [Assignment]
    /// Attempts whose log's end someone asked for (ended ones too): the agent sends them with its next report.
    public var logRequests: [LogRequest]
    /// Checkpoints the site should send to another site's agent.
    public var sends: [CheckpointSend]
    /// Copies of other sites' checkpoints the site should keep.
    public var receives: [CheckpointReceive]
    /// A digest of everything else in the answer: an agent that sends it back as ``AgentReport/answered``
    /// with a ``AgentReport/wait`` is answered only when something changed, or when the wait is up.
    public var version: String?
    /// Seconds the control plane held the poll before answering: the agent's lease runs from when it sent
    /// the report plus these (the control plane counts it from the end of the hold).
    public var heldSeconds: Double?

    /// Makes an answer.
    public init(
        site: String,
        leaseSeconds: Double,
        attempts: [Assignment],
        logRequests: [LogRequest] = [],
        sends: [CheckpointSend] = [],
        receives: [CheckpointReceive] = []
    ) {
        self.site = site
        self.leaseSeconds = leaseSeconds
        self.attempts = attempts
        self.logRequests = logRequests
        self.sends = sends
        self.receives = receives
    }
}

/// An attempt whose log's end the control plane wants: its id, workload and number (the agent finds the log
/// by the last two, so an attempt it has forgotten still has its log).
public struct LogRequest: Codable, Sendable, Hashable, Comparable {
    public var id: Int64
    public var workload: String
    public var number: Int

    /// Makes one.
    public init(id: Int64, workload: String, number: Int) {
        self.id = id
        self.workload = workload
        self.number = number
    }

    public static func < (a: LogRequest, b: LogRequest) -> Bool { a.id < b.id }
}

/// One attempt a site agent should run, as the control plane recorded its intent.
public struct Assignment: Codable, Sendable, Hashable {
    /// The attempt's id (its fencing epoch: a later attempt of the workload has a larger one).
    public var id: Int64
    /// The workload.
    public var workload: String
    /// The workload's attempt number.
    public var number: Int
    /// The accelerator pool and how many of its accelerators.
    public var pool: String
    public var accelerators: Int
    /// Whether to resume from the workload's checkpoint (`SOVEREIGN_RESUME=1`).
    public var resume: Bool
    /// The program and its arguments, and the environment it adds.
    public var command: [String]
    public var environment: [String: String]
    /// The OCI image it runs in, on a site whose executor runs containers.
    public var image: String?
    /// Seconds between asking it to stop and killing it.
    public var gracePeriodSeconds: Double
    /// Whether it should checkpoint and stop now.
    public var stop: Bool
    /// Whether it should be killed now (its grace period ran out).
    public var kill: Bool
    /// Where its checkpoint comes from, when another site holds it: the attempt starts once it is in place.
    public var fetch: CheckpointFetch?

    /// Makes an assignment.
    public init(
        id: Int64,
        workload: String,
        number: Int,
        pool: String,
        accelerators: Int,
        resume: Bool,
        command: [String],
        environment: [String: String],
        gracePeriodSeconds: Double,
        stop: Bool,
        kill: Bool,
        fetch: CheckpointFetch? = nil,
        image: String? = nil
    ) {
        self.id = id
        self.workload = workload
        self.number = number
        self.pool = pool
        self.accelerators = accelerators
        self.resume = resume
        self.command = command
        self.environment = environment
        self.gracePeriodSeconds = gracePeriodSeconds
        self.stop = stop
        self.kill = kill
        self.fetch = fetch
        self.image = image
    }
}
