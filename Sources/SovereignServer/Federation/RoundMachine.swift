import Crypto
import SovereignBase
import SovereignFederation
import SovereignModel

/// The rounds of one federated workload as a value: each event (a tick of the clock, a model download,
/// an update, a secure-aggregation message) moves it to a new state and returns the effects for its owner
/// to carry out (``RoundEffect``: files to write, ledger entries to record). It reads no clock, no disk and
/// no network, so every path through a round is testable on its own.
///
/// A round opens when enough sites are live, collects one phase at a time (training, or the four phases of
/// secure aggregation), closes each phase when every expected site has answered or its deadline passed,
/// and either finishes (server step, differential-privacy noise, new global model) or, short of its
/// quorum, is retried as a new attempt until the spec's retries are spent.
struct RoundMachine: Sendable {
    /// The workload's settings.
    let runtime: FederationRuntime
    /// The round in progress (one past the last once completed).
    var round: Int
    /// The attempt at it (a round that missed its quorum is tried again).
    var attempt = 1
    /// The global model the round starts from.
    var model: GlobalModel
    /// The privacy spent, when the workload uses differential privacy.
    var budget: PrivacyBudget?
    /// Where the round is.
    var phase: RoundPhase

    /// A machine that continues after `finished` rounds from `model`.
    ///
    /// - Throws: ``FederationError`` when the privacy settings are out of the accountant's domain.
    init(runtime: FederationRuntime, finished: Int, model: GlobalModel) throws {
        self.runtime = runtime
        round = finished + 1
        self.model = model
        budget = try runtime.privacy.map { try PrivacyBudget($0, rounds: finished) }
        phase = finished >= runtime.federation.rounds ? .completed : .waiting(quorumSince: nil)
    }

    /// The folder of the current attempt's uploads, under the workload's folder.
    var roundFolder: String { "round-\(round)-\(attempt)" }

    /// The effects of taking the workload on: it completes at once when its rounds were all done before a
    /// restart, and a pending workload starts running.
    func resume(pending: Bool) -> [RoundEffect] {
        if case .completed = phase { return completion() }
        guard pending else { return [] }
        let federation = runtime.federation
        return [
            .record(
                FederationRecord(
                    state: .running,
                    reason:
                        "federated over \(runtime.participants.map(\.site).joined(separator: ", ")); coordinated at \(federation.coordinator)",
                    entries: [.federationStarted(.init(runtime, modelSHA256: model.sha256))]
                )
            )
        ]
    }

    /// Moves the round along at `now`: opens it when enough of the `live` sites poll, closes a phase that
    /// every expected site answered or whose deadline passed, and retries a round that missed its quorum.
    ///
    /// - Parameters:
    ///   - now: Seconds since 1970.
    ///   - live: The participants that polled within the liveness window.
    ///   - liveness: How long a round with its quorum waits for the missing sites before it opens.
    ///   - random: The source of differential-privacy noise.
    /// - Throws: ``FederationError`` when a round cannot be opened (an invalid secure-aggregation setup).
    mutating func advance(
        now: Double,
        live: [String],
        liveness: Double,
        using random: inout some RandomNumberGenerator
    ) throws -> [RoundEffect] {
        if case .waiting(let since) = phase {
            return try wait(since: since, now: now, live: live, liveness: liveness)
        }
        guard let attendance = phase.attendance else { return [] }
        let late = now - attendance.phaseStart >= runtime.federation.roundTimeout.seconds
        guard attendance.isComplete || late else { return [] }
        let before = self
        do {
            return try closePhase(now: now, using: &random)
        } catch let error as FederationError {
            self = before
            return retry(because: error.message)
        }
    }

    /// A round that is not open: opens it with the live sites once there are enough of them.
    private mutating func wait(since: Double?, now: Double, live: [String], liveness: Double) throws -> [RoundEffect] {
        let federation = runtime.federation
        let needed = max(federation.minSites, federation.secureAggregation?.threshold ?? 1)
        if live.count >= needed, live.count < runtime.participants.count {
            // Wait one liveness window for the missing sites, then go on with the quorum.
            let since = since ?? now
            if now - since < liveness {
                phase = .waiting(quorumSince: since)
                return []
            }
        }
        guard live.count >= needed else {
            phase = .waiting(quorumSince: nil)
            let reason = "round \(round) waits for sites: \(live.count) of \(needed) needed are polling"
            return [.record(FederationRecord(reason: reason))]
        }
        try open(roster: live.sorted(), now: now)
        let step = phase.step?.rawValue ?? ""
        let reason =
            "round \(round) of \(federation.rounds) (attempt \(attempt)): \(step) with \(live.joined(separator: ", "))"
        return [.prepareRound(folder: roundFolder), .record(FederationRecord(reason: reason))]
    }

    /// Opens the round with `roster`: training, or secure aggregation's first phase.
    private mutating func open(roster: [String], now: Double) throws {
        let attendance = Attendance(roster: roster, phaseStart: now, expected: Set(roster))
        guard let secure = runtime.federation.secureAggregation else {
            phase = .training(attendance, try RoundAggregator(strategy: runtime.strategy, global: model.weights))
            return
        }
        let modelTag = Hex.encode(SHA256.hash(data: Array(model.sha256.utf8))).prefix(16)
        let setup = try SecureAggregation.Setup(
            session: "\(runtime.name)/\(round)/\(attempt)/\(modelTag)",
            sites: roster,
            threshold: min(secure.threshold, roster.count),
            vectorLength: model.weights.parameterCount + 1
        )
        let session = SecureSession(coordinator: try SecureAggregationCoordinator(setup: setup), clip: secure.clip)
        phase = .advertisingKeys(attendance, session)
    }

    /// Starts the round again as a new attempt, or fails the workload when its retries are spent.
    private mutating func retry(because reason: String) -> [RoundEffect] {
        let entry = LedgerEvent.roundMissed(workload: runtime.name, round: round, attempt: attempt, reason: reason)
        let discard = RoundEffect.discardRound(folder: roundFolder)
        if attempt > runtime.federation.retries {
            phase = .failed
            let why = "round \(round) missed its quorum \(attempt) times: \(reason)"
            return [discard, .record(FederationRecord(state: .failed, reason: why, entries: [entry]))]
        }
        attempt += 1
        phase = .waiting(quorumSince: nil)
        return [discard, .record(FederationRecord(reason: "retrying round \(round): \(reason)", entries: [entry]))]
    }

    /// The record of a workload whose rounds are all done.
    func completion() -> [RoundEffect] {
        let rounds = runtime.federation.rounds
        return [
            .record(
                FederationRecord(
                    state: .completed,
                    reason: "\(rounds) rounds done; final model \(model.sha256.prefix(12))",
                    entries: [.federationCompleted(.init(runtime, modelSHA256: model.sha256, epsilon: budget?.epsilon))]
                )
            )
        ]
    }
}
