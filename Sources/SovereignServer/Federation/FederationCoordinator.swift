import Crypto
public import Foundation
public import Logging
import SovereignBase
public import SovereignFederation
import SovereignLedger
public import SovereignModel
import SovereignPlanner

/// Coordinates the rounds of every federated workload the control plane manages: it hands sites their
/// steps when they poll, receives their updates in chunks, aggregates (securely when asked), applies the
/// server optimizer and differential privacy, and records every model and update that moves in the ledger.
///
/// Each round's global model is written to disk before the round is recorded, so a restarted server
/// continues from the last finished round; the round in progress is started again.
public actor FederationCoordinator {
    let plane: ControlPlane
    let fleet: Fleet
    let directory: URL
    let clock: @Sendable () -> Date
    let logger: Logger
    /// A site that has not polled for this long is not counted on when a round opens.
    let liveness: Double
    /// How long an idle site waits between polls.
    let pollInterval: Double
    /// Largest upload chunk accepted.
    public static let chunkBytes = 4 << 20

    var runs: [String: Run] = [:]
    /// Workloads whose round is being moved along (see ``advance(_:)``).
    var advancing = Set<String>()
    /// When each site last polled or sent something.
    var lastSeen: [String: Double] = [:]
    var random = SystemRandomNumberGenerator()

    /// Makes a coordinator that keeps its models under `directory`.
    public init(
        plane: ControlPlane,
        directory: URL,
        logger: Logger,
        liveness: TimeSpan = .seconds(10),
        pollInterval: TimeSpan = .seconds(1),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.plane = plane
        self.fleet = plane.fleet
        self.directory = directory
        self.logger = logger
        self.liveness = liveness.seconds
        self.pollInterval = pollInterval.seconds
        self.clock = clock
    }

    // MARK: State

    struct Upload {
        var path: URL
        var handle: FileHandle
        var nextIndex: Int
        var bytes: Int
        var lastChunk: [UInt8]
        var hasher = SHA256()
    }

    struct Run {
        let name: String
        let spec: Workload
        let federation: Federation
        let participants: [FederationParticipant]
        let model: BuiltInModel
        let trainer: TrainerSettings
        let privacy: DifferentialPrivacy?
        let strategy: AggregationStrategy
        var round: Int
        var attempt = 1
        var global: ModelWeights
        var globalBytes: [UInt8]
        var globalSHA: String
        var optimizer = ServerOptimizerState()
        var accountant: RDPAccountant?
        var epsilon: Double?
        /// Whether a round is open (else it waits for enough live sites).
        var open = false
        /// Since when the next round has had its quorum of live sites while others were missing.
        var quorumSince: Double?
        var phase: FederationPhase = .train
        var phaseStart = 0.0
        var roundStart = 0.0
        /// The sites of the round in progress.
        var roster: [String] = []
        var aggregator: RoundAggregator?
        var received = Set<String>()
        var modelSentTo = Set<String>()
        var uploads: [String: Upload] = [:]
        var secure: SecureAggregationCoordinator?
        var setup: SecureAggregation.Setup?
        var keyDirectory: SecureAggregation.KeyDirectory?
        var bundles: [String: SecureAggregation.ShareBundle] = [:]
        var unmaskRequest: SecureAggregation.UnmaskRequest?
        /// Sites expected to answer the current phase.
        var expected = Set<String>()

        var secureSettings: Federation.SecureAggregation? { federation.secureAggregation }
        func dataset(of site: String) -> String? { participants.first { $0.site == site }?.dataset }
        var roundDirectory: String { "round-\(round)-\(attempt)" }
    }

    // MARK: Control loop

    /// Picks up new federated workloads, closes phases whose deadline passed, and opens rounds.
    /// Safe to call at any time.
    public func tick() async {
        do {
            let active = try await plane.federatedWorkloads()
            let names = Set(active.map(\.record.name))
            for name in runs.keys where !names.contains(name) { closeUploads(name) }
            runs = runs.filter { names.contains($0.key) }
            for (record, spec) in active where runs[record.name] == nil {
                try await begin(record: record, spec: spec)
            }
            for (record, _) in active where !record.held {
                try await advance(record.name)
            }
        } catch {
            logger.error("federation tick failed", metadata: ["error": "\(error)"])
        }
    }

    private func begin(record: WorkloadRecord, spec: Workload) async throws {
        guard let federation = spec.federation else { return }
        let participants: [FederationParticipant]
        switch FederationCheck.participants(of: spec, in: fleet) {
        case .failure(let refusal):
            try await plane.recordFederation(
                record.name,
                to: .failed,
                reason: "refused: \(refusal.description)",
                entries: [
                    ("federation.refused", ["workload": .string(record.name), "reason": .string(refusal.description)])
                ]
            )
            return
        case .success(let p): participants = p
        }
        let model: BuiltInModel
        switch federation.trainer.model {
        case .logisticRegression: model = .logisticRegression
        case .mlp(let hidden): model = .multilayerPerceptron(hiddenUnits: hidden)
        }
        let t = federation.trainer
        let seed = Self.seed(of: record.name)
        let local = LocalTrainingConfiguration(
            epochs: t.epochs,
            batchSize: t.batchSize,
            learningRate: Float(t.learningRate),
            momentum: Float(t.momentum),
            proximalMu: Float(federation.strategy.proximalMu),
            featureScaling: t.featureScale == 1 ? .none : .divide(by: Float(t.featureScale)),
            seed: seed
        )
        let privacy = try federation.privacy.map {
            try DifferentialPrivacy(
                mode: $0.mode == .central ? .central : .local,
                clipNorm: $0.clipNorm,
                noiseMultiplier: $0.noiseMultiplier,
                delta: $0.delta
            )
        }
        let folder = try modelFolder(record.name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Continue from the last finished round, if any.
        let done = Self.lastFinishedRound(in: folder) ?? 0
        var global = try model.initialWeights(features: t.features, classes: t.classes, seed: seed)
        var optimizer = ServerOptimizerState()
        if done > 0 {
            let file = try SafetensorsFile(path: folder.appendingPathComponent("global-\(done).safetensors").path)
            global = try file.modelWeights(matching: global)
            let optimizerPath = folder.appendingPathComponent("optimizer-\(done).safetensors").path
            if FileManager.default.fileExists(atPath: optimizerPath) {
                optimizer = try ServerOptimizerState(
                    safetensors: SafetensorsFile(path: optimizerPath),
                    matching: global
                )
            }
        }
        let bytes = try Safetensors.encode(global, metadata: ["workload": record.name, "round": "\(done)"])
        var run = Run(
            name: record.name,
            spec: spec,
            federation: federation,
            participants: participants,
            model: model,
            trainer: TrainerSettings(model: model, features: t.features, classes: t.classes, local: local),
            privacy: privacy,
            strategy: Self.strategy(federation.strategy),
            round: done + 1,
            global: global,
            globalBytes: bytes,
            globalSHA: Hex.encode(SHA256.hash(data: bytes)),
            optimizer: optimizer
        )
        if let privacy {
            var accountant = try RDPAccountant()
            if done > 0 { try accountant.step(noiseMultiplier: privacy.noiseMultiplier, sampleRate: 1, steps: done) }
            run.accountant = accountant
        }
        runs[record.name] = run
        if done >= federation.rounds {
            try await complete(record.name)
            return
        }
        if record.state == .pending {
            try await plane.recordFederation(
                record.name,
                to: .running,
                reason:
                    "federated over \(participants.map(\.site).joined(separator: ", ")); coordinated at \(federation.coordinator)",
                entries: [
                    (
                        "federation.started",
                        [
                            "workload": .string(record.name),
                            "coordinator": .string(federation.coordinator),
                            "sites": .array(participants.map { .string($0.site) }),
                            "datasets": .array(participants.map { .string($0.dataset) }),
                            "rounds": .number(Double(federation.rounds)),
                            "strategy": .string(federation.strategy.name),
                            "secureAggregation": .bool(federation.secureAggregation != nil),
                            "modelSHA256": .string(run.globalSHA),
                        ]
                    )
                ]
            )
        }
    }

    /// Moves a workload's round along: open it when enough sites are live, close phases that everyone
    /// answered or whose deadline passed, retry a round that missed its quorum.
    private func advance(_ name: String) async throws {
        // One advance per workload at a time: the actor is reentrant at every await, and closing a phase
        // twice would aggregate a round twice.
        guard !advancing.contains(name), var run = runs[name], run.round <= run.federation.rounds else { return }
        advancing.insert(name)
        defer { advancing.remove(name) }
        let now = clock().timeIntervalSince1970
        let timeout = run.federation.roundTimeout.seconds
        if !run.open {
            let live = run.participants.map(\.site).filter { now - (lastSeen[$0] ?? -.infinity) <= liveness }
            let needed = max(run.federation.minSites, run.secureSettings?.threshold ?? 1)
            if live.count >= needed, live.count < run.participants.count {
                // Wait one liveness window for the missing sites, then go on with the quorum.
                let since = run.quorumSince ?? now
                run.quorumSince = since
                if now - since < liveness {
                    runs[name] = run
                    return
                }
            }
            guard live.count >= needed else {
                run.quorumSince = nil
                runs[name] = run
                try await plane.recordFederation(
                    name,
                    reason: "round \(run.round) waits for sites: \(live.count) of \(needed) needed are polling"
                )
                return
            }
            try open(&run, roster: live, now: now)
            runs[name] = run
            try await plane.recordFederation(
                name,
                reason:
                    "round \(run.round) of \(run.federation.rounds) (attempt \(run.attempt)): \(run.phase.rawValue) with \(live.joined(separator: ", "))"
            )
            return
        }
        let everyone = run.expected.isSubset(of: run.received)
        let late = now - run.phaseStart >= timeout
        guard everyone || late else { return }
        do {
            try await close(&run, now: now)
            if run.open { runs[name] = run }  // a finished round stored itself
        } catch let error as FederationError {
            runs[name] = run
            try await retry(name, because: error.message)
        }
    }

    private func open(_ run: inout Run, roster: [String], now: Double) throws {
        run.open = true
        run.quorumSince = nil
        run.roster = roster.sorted()
        run.roundStart = now
        run.phaseStart = now
        run.received = []
        run.modelSentTo = []
        run.expected = Set(run.roster)
        run.keyDirectory = nil
        run.bundles = [:]
        run.unmaskRequest = nil
        if let secure = run.secureSettings {
            let setup = try SecureAggregation.Setup(
                session:
                    "\(run.name)/\(run.round)/\(run.attempt)/\(Hex.encode(SHA256.hash(data: Array(run.globalSHA.utf8))).prefix(16))",
                sites: run.roster,
                threshold: min(secure.threshold, run.roster.count),
                vectorLength: run.global.parameterCount + 1
            )
            run.setup = setup
            run.secure = try SecureAggregationCoordinator(setup: setup)
            run.phase = .advertiseKeys
            run.aggregator = nil
        } else {
            run.phase = .train
            run.aggregator = try RoundAggregator(strategy: run.strategy, global: run.global)
        }
        try FileManager.default.createDirectory(
            at: try modelFolder(run.name).appendingPathComponent(run.roundDirectory),
            withIntermediateDirectories: true
        )
    }

    /// Closes the current phase with whoever answered.
    private func close(_ run: inout Run, now: Double) async throws {
        let answered = run.received.intersection(run.expected)
        switch run.phase {
        case .train:
            guard answered.count >= run.federation.minSites else {
                throw FederationError(
                    .invalidConfiguration,
                    "round \(run.round): \(answered.count) of \(run.roster.count) sites sent an update by the deadline, quorum \(run.federation.minSites)"
                )
            }
            try await finishRound(&run, sites: answered.sorted(), now: now)
        case .advertiseKeys:
            run.keyDirectory = try run.secure!.keyDirectory()
            next(&run, phase: .shareKeys, expected: Set(run.keyDirectory!.keys.map(\.site)), now: now)
        case .shareKeys:
            run.bundles = try run.secure!.shareBundles()
            next(&run, phase: .maskedInput, expected: Set(run.bundles.keys), now: now)
        case .maskedInput:
            let request = try run.secure!.unmaskRequest()
            guard request.survivors.count >= run.federation.minSites else {
                throw FederationError(
                    .invalidConfiguration,
                    "round \(run.round): \(request.survivors.count) masked updates by the deadline, quorum \(run.federation.minSites)"
                )
            }
            run.unmaskRequest = request
            next(&run, phase: .unmask, expected: Set(request.survivors), now: now)
        case .unmask:
            let aggregate = try run.secure!.aggregate()
            let secure = run.secureSettings!
            let quantisation = try Quantisation(clip: secure.clip, sites: run.setup!.sites.count)
            var sum = quantisation.dequantiseSumAsDouble(aggregate.sum)
            let weight = sum.removeLast() / secure.clip
            guard weight > 0 else {
                throw FederationError(.secureAggregation, "round \(run.round): the unmasked weights sum to \(weight)")
            }
            if let privacy = run.privacy, privacy.mode == .central {
                // Each site's weighted update has norm ≤ C (clipped, weight ≤ 1): noise σ·C on the sum.
                var noisy = sum.map { Float($0) }
                GaussianNoise.add(
                    to: &noisy,
                    standardDeviation: privacy.noiseMultiplier * privacy.clipNorm,
                    using: &random
                )
                sum = noisy.map { Double($0) }
            }
            // Σ wᵢΔᵢ with wᵢ = nᵢ/bound: scale back to example counts for the shared server step.
            let bound = Double(run.federation.exampleBound)
            let total = max(1, Int((weight * bound).rounded()))
            var aggregator = try RoundAggregator(strategy: run.strategy, global: run.global)
            try aggregator.foldSum(sum.map { Float($0 * bound) }, totalExamples: total)
            run.aggregator = aggregator
            try await finishRound(&run, sites: aggregate.sites, now: now)
        }
    }

    private func next(_ run: inout Run, phase: FederationPhase, expected: Set<String>, now: Double) {
        run.phase = phase
        run.phaseStart = now
        run.expected = expected
        run.received = []
    }

    /// Applies the server step, writes the new global model, and records the round.
    private func finishRound(_ run: inout Run, sites: [String], now: Double) async throws {
        guard var aggregator = run.aggregator else { return }
        var global: ModelWeights
        if let privacy = run.privacy, privacy.mode == .central, run.secure == nil {
            // Noise on the mean of clipped updates: σ·C·bound on the sum, divided by the examples.
            var delta = try aggregator.aggregateDelta()
            let std =
                privacy.noiseMultiplier * privacy.clipNorm * Double(run.federation.exampleBound)
                / Double(max(1, aggregator.totalExamples))
            GaussianNoise.add(to: &delta, standardDeviation: std, using: &random)
            global = try run.strategy.apply(meanDelta: delta, to: run.global, state: &run.optimizer)
        } else {
            global = try aggregator.finish(state: &run.optimizer)
        }
        run.aggregator = nil
        let folder = try modelFolder(run.name)
        let bytes = try Safetensors.encode(global, metadata: ["workload": run.name, "round": "\(run.round)"])
        let digest = Hex.encode(SHA256.hash(data: bytes))
        try POSIX.writeAtomically(
            Data(bytes),
            to: folder.appendingPathComponent("global-\(run.round).safetensors").path
        )
        try POSIX.writeAtomically(
            Data(try run.optimizer.encoded()),
            to: folder.appendingPathComponent("optimizer-\(run.round).safetensors").path
        )
        var fields: [String: JSONValue] = [
            "workload": .string(run.name),
            "round": .number(Double(run.round)),
            "attempt": .number(Double(run.attempt)),
            "sites": .array(sites.map { .string($0) }),
            "dropped": .array(run.roster.filter { !sites.contains($0) }.map { .string($0) }),
            "modelSHA256": .string(digest),
            "strategy": .string(run.federation.strategy.name),
            "secureAggregation": .bool(run.secure != nil),
        ]
        if let privacy = run.privacy, var accountant = run.accountant {
            try accountant.step(noiseMultiplier: privacy.noiseMultiplier, sampleRate: 1, steps: 1)
            let spent = try accountant.privacySpent(delta: privacy.delta)
            run.accountant = accountant
            run.epsilon = spent.epsilon
            fields["epsilon"] = spent.epsilon.isFinite ? .number(spent.epsilon) : .string("infinity")
            fields["delta"] = .number(privacy.delta)
            fields["privacy"] = .string(privacy.mode.rawValue)
        }
        run.global = global
        run.globalBytes = bytes
        run.globalSHA = digest
        run.optimizer.round = run.round
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(run.roundDirectory))
        closeUploads(&run)
        let finished = run.round
        run.round += 1
        run.attempt = 1
        run.open = false
        run.secure = nil
        run.setup = nil
        let last = finished >= run.federation.rounds
        // Stored before the suspension below: a request that arrives meanwhile sees the next round.
        runs[run.name] = run
        try await plane.recordFederation(
            run.name,
            reason: last
                ? nil : "round \(finished) of \(run.federation.rounds) done with \(sites.joined(separator: ", "))",
            entries: [("federation.round", fields)]
        )
        if last { try await complete(run.name) }
    }

    private func complete(_ name: String) async throws {
        guard let run = runs[name] else { return }
        var fields: [String: JSONValue] = [
            "workload": .string(name),
            "rounds": .number(Double(run.federation.rounds)),
            "modelSHA256": .string(run.globalSHA),
        ]
        if let epsilon = run.epsilon { fields["epsilon"] = .number(epsilon) }
        try await plane.recordFederation(
            name,
            to: .completed,
            reason: "\(run.federation.rounds) rounds done; final model \(run.globalSHA.prefix(12))",
            entries: [("federation.completed", fields)]
        )
    }

    /// Starts the round again (new attempt), or fails the workload when its retries are spent.
    private func retry(_ name: String, because reason: String) async throws {
        guard var run = runs[name] else { return }
        closeUploads(&run)
        try? FileManager.default.removeItem(
            at: try modelFolder(name).appendingPathComponent(run.roundDirectory)
        )
        let entry: (String, [String: JSONValue]) = (
            "federation.round-missed",
            [
                "workload": .string(name), "round": .number(Double(run.round)),
                "attempt": .number(Double(run.attempt)), "reason": .string(reason),
            ]
        )
        if run.attempt > run.federation.retries {
            runs[name] = nil
            try await plane.recordFederation(
                name,
                to: .failed,
                reason: "round \(run.round) missed its quorum \(run.attempt) times: \(reason)",
                entries: [entry]
            )
            return
        }
        run.attempt += 1
        run.open = false
        run.secure = nil
        run.setup = nil
        run.aggregator = nil
        runs[name] = run
        try await plane.recordFederation(name, reason: "retrying round \(run.round): \(reason)", entries: [entry])
    }

    private func closeUploads(_ name: String) {
        guard var run = runs[name] else { return }
        closeUploads(&run)
        runs[name] = run
    }

    private func closeUploads(_ run: inout Run) {
        for upload in run.uploads.values { try? upload.handle.close() }
        run.uploads = [:]
    }

    // MARK: Requests from sites

    /// The steps asked of `site` now.
    public func tasks(for site: String) async -> FederationTaskList {
        lastSeen[site] = clock().timeIntervalSince1970
        await tick()
        var tasks: [FederationTask] = []
        for name in runs.keys.sorted() {
            guard let run = runs[name], run.open, run.roster.contains(site), run.expected.contains(site),
                !run.received.contains(site), let dataset = run.dataset(of: site)
            else { continue }
            var secure: SecureRound?
            if let setup = run.setup, let settings = run.secureSettings {
                secure = SecureRound(
                    setup: setup,
                    clip: settings.clip,
                    directory: run.phase == .shareKeys ? run.keyDirectory : nil,
                    bundle: run.phase == .maskedInput ? run.bundles[site] : nil,
                    unmask: run.phase == .unmask ? run.unmaskRequest : nil
                )
            }
            tasks.append(
                FederationTask(
                    workload: name,
                    round: run.round,
                    attempt: run.attempt,
                    phase: run.phase,
                    deadline: run.phaseStart + run.federation.roundTimeout.seconds,
                    dataset: dataset,
                    modelSHA256: run.globalSHA,
                    modelBytes: run.globalBytes.count,
                    trainer: run.trainer,
                    privacy: run.privacy,
                    exampleBound: run.federation.exampleBound,
                    secure: secure,
                    chunkBytes: Self.chunkBytes
                )
            )
        }
        return FederationTaskList(tasks: tasks, pollAfter: pollInterval)
    }

    /// A finished workload's last model on disk, for a reader or for a site that took part in it.
    private func finishedModel(_ name: String, for site: String?) async throws -> [UInt8] {
        let missing = FederationRequestError(
            404,
            "no federated workload named \"\(name)\" with a model",
            field: "workload"
        )
        guard let sites = await plane.federationSites(of: name) else { throw missing }
        if let site, !sites.contains(site) {
            throw FederationRequestError(403, "site \(site) does not take part in \(name)", field: "Authorization")
        }
        let folder = try modelFolder(name)
        guard let last = Self.lastFinishedRound(in: folder) else { throw missing }
        return Array(try Data(contentsOf: folder.appendingPathComponent("global-\(last).safetensors")))
    }

    /// The folder of a workload's models and round files, which its name cannot leave.
    func modelFolder(_ name: String) throws -> URL {
        try NamedDirectory(root: directory).child(name, field: "workload")
    }

    /// The workload's current global model (its final one once completed) for a participant, recorded in the
    /// ledger the first time each round's model goes to a site.
    public func model(_ name: String, for site: String?) async throws -> [UInt8] {
        if let site { lastSeen[site] = clock().timeIntervalSince1970 }
        if runs[name] == nil { await tick() }
        guard var run = runs[name] else { return try await finishedModel(name, for: site) }
        if let site {
            guard run.participants.contains(where: { $0.site == site }) else {
                throw FederationRequestError(403, "site \(site) does not take part in \(name)", field: "Authorization")
            }
            if run.open, !run.modelSentTo.contains(site) {
                run.modelSentTo.insert(site)
                runs[name] = run
                try await plane.recordFederation(
                    name,
                    entries: [
                        (
                            "federation.model-sent",
                            [
                                "workload": .string(name), "round": .number(Double(run.round)), "site": .string(site),
                                "to": .string(fleet.site(named: site)?.jurisdiction ?? ""),
                                "from": .string(fleet.site(named: run.federation.coordinator)?.jurisdiction ?? ""),
                                "bytes": .number(Double(run.globalBytes.count)), "sha256": .string(run.globalSHA),
                            ]
                        )
                    ]
                )
            }
        }
        return run.globalBytes
    }

    /// Checks that `site` may send something for this round and phase now.
    private func expect(
        _ name: String,
        site: String,
        round: Int,
        attempt: Int,
        phases: [FederationPhase]
    ) throws -> Run {
        lastSeen[site] = clock().timeIntervalSince1970
        guard let run = runs[name] else {
            throw FederationRequestError(404, "no federated workload named \"\(name)\" in progress", field: "workload")
        }
        guard run.participants.contains(where: { $0.site == site }) else {
            throw FederationRequestError(403, "site \(site) does not take part in \(name)", field: "Authorization")
        }
        guard run.open, run.round == round, run.attempt == attempt else {
            throw FederationRequestError(
                409,
                "expected round \(run.round) attempt \(run.attempt)\(run.open ? "" : " (not open yet)"), found round \(round) attempt \(attempt)",
                field: "round"
            )
        }
        guard phases.contains(run.phase), run.expected.contains(site) else {
            throw FederationRequestError(
                409,
                "expected \(run.expected.contains(site) ? "a \(run.phase.rawValue) step" : "nothing from \(site) in this phase"), found a \(phases.map(\.rawValue).joined(separator: "/")) message",
                field: "phase"
            )
        }
        guard !run.received.contains(site) else {
            throw FederationRequestError(
                409,
                "site \(site) already answered \(run.phase.rawValue) this round",
                field: "phase"
            )
        }
        return run
    }

    /// Receives chunk `index` of a site's update.
    public func receiveChunk(
        _ name: String,
        site: String,
        round: Int,
        attempt: Int,
        index: Int,
        bytes: [UInt8]
    ) throws {
        var run = try expect(name, site: site, round: round, attempt: attempt, phases: [.train, .maskedInput])
        let limit = maximumUpdateBytes(run)
        var upload = run.uploads[site]
        if index == 0, upload == nil || upload!.nextIndex > 0 {
            if let old = upload { try? old.handle.close() }
            let path = try modelFolder(name).appendingPathComponent(run.roundDirectory)
                .appendingPathComponent("\(site).part")
            _ = FileManager.default.createFile(atPath: path.path, contents: nil)
            guard let handle = try? FileHandle(forWritingTo: path) else {
                throw FederationError(.io, "cannot write \(path.path)")
            }
            upload = Upload(path: path, handle: handle, nextIndex: 0, bytes: 0, lastChunk: [])
        }
        guard var u = upload else {
            throw FederationRequestError(409, "expected chunk 0 first, found chunk \(index)", field: "chunk")
        }
        if index == u.nextIndex - 1, bytes == u.lastChunk { return }  // a resend of the last chunk
        guard index == u.nextIndex else {
            throw FederationRequestError(409, "expected chunk \(u.nextIndex), found chunk \(index)", field: "chunk")
        }
        guard u.bytes + bytes.count <= limit else {
            throw FederationRequestError(
                413,
                "expected an update of at most \(limit) bytes for this model, found more than \(u.bytes + bytes.count)",
                field: "body"
            )
        }
        try u.handle.write(contentsOf: bytes)
        u.hasher.update(data: bytes)
        u.nextIndex += 1
        u.bytes += bytes.count
        u.lastChunk = bytes
        run.uploads[site] = u
        runs[name] = run
    }

    private func maximumUpdateBytes(_ run: Run) -> Int {
        (run.secure != nil ? 4 * (run.global.parameterCount + 1) : run.globalBytes.count) + 64 * 1024
    }

    /// Closes a site's upload: checks size and SHA-256, validates the safetensors, folds the update (or
    /// hands the masked vector to secure aggregation) and records the movement.
    public func commitUpdate(
        _ name: String,
        site: String,
        round: Int,
        attempt: Int,
        _ commit: UpdateCommit
    ) async throws {
        var run = try expect(name, site: site, round: round, attempt: attempt, phases: [.train, .maskedInput])
        guard let upload = run.uploads[site] else {
            throw FederationRequestError(409, "expected chunks before the commit, found none", field: "chunks")
        }
        try upload.handle.synchronize()
        try upload.handle.close()
        run.uploads[site] = nil
        runs[name] = run
        guard commit.chunks == upload.nextIndex, commit.bytes == upload.bytes else {
            throw FederationRequestError(
                422,
                "expected \(upload.nextIndex) chunks of \(upload.bytes) bytes as received, found a commit of \(commit.chunks) chunks and \(commit.bytes) bytes",
                field: "bytes"
            )
        }
        let digest = Hex.encode(upload.hasher.finalize())
        guard digest == commit.sha256.lowercased() else {
            throw FederationRequestError(
                422,
                "expected the update's SHA-256 to be \(commit.sha256), found \(digest)",
                field: "sha256"
            )
        }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(path: upload.path.path)
        } catch let error as FederationError {
            throw FederationRequestError(422, "the update is not valid safetensors: \(error.message)", field: "body")
        }
        let site_ = fleet.site(named: site)
        var fields: [String: JSONValue] = [
            "workload": .string(name), "round": .number(Double(round)), "attempt": .number(Double(attempt)),
            "site": .string(site), "dataset": .string(run.dataset(of: site) ?? ""),
            "from": .string(site_?.jurisdiction ?? ""),
            "to": .string(fleet.site(named: run.federation.coordinator)?.jurisdiction ?? ""),
            "bytes": .number(Double(commit.bytes)), "sha256": .string(digest),
            "secureAggregation": .bool(run.secure != nil),
        ]
        if let privacy = run.privacy {
            fields["clipNorm"] = .number(privacy.clipNorm)
            fields["noiseMultiplier"] = .number(privacy.noiseMultiplier)
            fields["privacy"] = .string(privacy.mode.rawValue)
        }
        if run.phase == .maskedInput {
            guard file.tensors.count == 1, let info = file[maskedUpdateTensorName], info.dtype == .u32,
                info.shape == [run.global.parameterCount + 1]
            else {
                throw FederationRequestError(
                    422,
                    "expected one U32 tensor \"\(maskedUpdateTensorName)\" of shape [\(run.global.parameterCount + 1)], found \(file.tensors.map { "\($0.name) \($0.dtype.rawValue) \($0.shape)" })",
                    field: "body"
                )
            }
            let words = try file.withBytes(of: maskedUpdateTensorName) { raw in
                (0..<info.elementCount).map {
                    UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))
                }
            }
            try run.secure!.receive(
                SecureAggregation.MaskedInput(session: run.setup!.session, site: site, maskedVector: words)
            )
        } else {
            guard commit.examples >= 1 else {
                throw FederationRequestError(
                    422,
                    "expected at least 1 example, found \(commit.examples)",
                    field: "examples"
                )
            }
            let examples = min(commit.examples, run.federation.exampleBound)
            if let privacy = run.privacy, privacy.mode == .central {
                // The coordinator clips again: a site's own clipping is not trusted for the guarantee.
                var update = try file.modelWeights(matching: run.global)
                DifferentialPrivacy.clip(&update, to: privacy.clipNorm)
                try run.aggregator!.fold(update, examples: examples)
            } else {
                try run.aggregator!.fold(file, examples: examples)
            }
            fields["examples"] = .number(Double(commit.examples))
        }
        if let norm = commit.preClipNorm { fields["preClipNorm"] = .number(norm) }
        run.received.insert(site)
        runs[name] = run
        try await plane.recordFederation(name, entries: [("federation.update", fields)])
        try await advance(name)
    }

    /// Receives a secure-aggregation message.
    public func receive(_ message: SecureMessage, _ name: String, site: String, round: Int, attempt: Int) async throws {
        var run = try expect(name, site: site, round: round, attempt: attempt, phases: [message.phase])
        guard var secure = run.secure else {
            throw FederationRequestError(
                409,
                "round \(round) of \(name) does not use secure aggregation",
                field: "phase"
            )
        }
        let sender: String
        switch message {
        case .keys(let m):
            sender = m.site
            if m.site == site { try secure.receive(m) }
        case .shares(let m):
            sender = m.site
            if m.site == site { try secure.receive(m) }
        case .unmask(let m):
            sender = m.site
            if m.site == site { try secure.receive(m) }
        }
        guard sender == site else {
            throw FederationRequestError(
                403,
                "expected a message from \(site) (the token's site), found one from \(sender)",
                field: "site"
            )
        }
        run.secure = secure
        run.received.insert(site)
        runs[name] = run
        try await advance(name)
    }

    // MARK: Helpers

    static func strategy(_ s: Federation.Strategy) -> AggregationStrategy {
        switch s {
        case .fedAvg: return .fedAvg
        case .fedProx(let mu): return .fedProx(mu: mu)
        case .fedAvgM(let lr, let m): return .fedAvgM(serverLearningRate: lr, momentum: m)
        case .fedAdam(let lr, let b1, let b2, let tau):
            return .fedAdam(serverLearningRate: lr, beta1: b1, beta2: b2, tau: tau)
        case .fedMedian: return .fedMedian
        case .trimmedMean(let beta): return .trimmedMean(beta: beta)
        case .krum(let f, let keep): return .krum(byzantine: f, keep: keep)
        }
    }

    /// A seed from the workload's name (FNV-1a), so the initial model is reproducible.
    public static func seed(of name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// The highest round whose global model (`global-N.safetensors`) is in `folder`, if any.
    static func lastFinishedRound(in folder: URL) -> Int? {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.compactMap { name -> Int? in
            guard name.hasPrefix("global-"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst("global-".count).dropLast(".safetensors".count))
        }.max()
    }
}

/// A site's request the coordinator refuses, with its HTTP status and the field at fault.
public struct FederationRequestError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let message: String
    public let field: String?

    init(_ status: Int, _ message: String, field: String?) {
        self.status = status
        self.message = message
        self.field = field
    }

    public var description: String { message }
}
