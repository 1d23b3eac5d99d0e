import SovereignFederation
import SovereignModel

extension RoundMachine {
    /// Refuses a site that does not take part in the workload.
    ///
    /// - Throws: ``ControlError`` `.notParticipant`.
    func checkParticipant(_ site: String) throws(ControlError) {
        guard runtime.includes(site) else {
            throw ControlError(
                .notParticipant,
                "site \(site) does not take part in \(runtime.name)",
                field: "Authorization"
            )
        }
    }

    /// Checks that `site` may send a message of one of `steps` for this round and attempt now.
    ///
    /// - Throws: ``ControlError``: `.notParticipant`, or `.outOfTurn` for another round, attempt or
    ///   phase, or a site that already answered.
    func expect(site: String, round: Int, attempt: Int, steps: [FederationPhase]) throws(ControlError) {
        try checkParticipant(site)
        guard let attendance = phase.attendance, let step = phase.step, self.round == round, self.attempt == attempt
        else {
            let open = phase.attendance != nil
            throw ControlError(
                .outOfTurn,
                "expected round \(self.round) attempt \(self.attempt)\(open ? "" : " (not open yet)"), found round \(round) attempt \(attempt)",
                field: "round"
            )
        }
        guard steps.contains(step), attendance.expected.contains(site) else {
            let wanted =
                attendance.expected.contains(site) ? "a \(step.rawValue) step" : "nothing from \(site) in this phase"
            throw ControlError(
                .outOfTurn,
                "expected \(wanted), found a \(steps.map(\.rawValue).joined(separator: "/")) message",
                field: "phase"
            )
        }
        guard !attendance.received.contains(site) else {
            throw ControlError(
                .outOfTurn,
                "site \(site) already answered \(step.rawValue) this round",
                field: "phase"
            )
        }
    }

    /// The largest update a site may upload for the current model (a masked vector for secure rounds).
    var updateLimit: Int {
        let secure = runtime.federation.secureAggregation != nil
        return (secure ? 4 * (model.weights.parameterCount + 1) : model.bytes.count) + 64 * 1024
    }

    /// A participant downloads the global model: recorded the first time each round's model goes to it.
    mutating func sendModel(to site: String) -> [RoundEffect] {
        guard let attendance = phase.attendance, !attendance.modelSentTo.contains(site) else { return [] }
        phase.updateAttendance { $0.modelSentTo.insert(site) }
        let entry = LedgerEvent.modelSent(.init(runtime, round: round, site: site, model: model))
        return [.record(FederationRecord(entries: [entry]))]
    }

    /// A site's whole update arrives (its size and digest already checked): folded into the round's
    /// aggregate, or handed to secure aggregation as a masked vector.
    ///
    /// - Parameters:
    ///   - update: The update as safetensors.
    ///   - commit: The site's commit: its size, digest, examples and clipping norm.
    ///   - sha256: The digest of what arrived.
    /// - Throws: ``ControlError`` when the update comes out of turn or does not fit the model;
    ///   ``FederationError`` when aggregation refuses it.
    mutating func receiveUpdate(
        _ update: SafetensorsFile,
        site: String,
        round: Int,
        attempt: Int,
        commit: UpdateCommit,
        sha256: String
    ) throws -> [RoundEffect] {
        try expect(site: site, round: round, attempt: attempt, steps: [.train, .maskedInput])
        switch phase {
        case .maskedInput(var attendance, var secure, let bundles):
            let words = try maskedVector(update)
            try secure.coordinator.receive(
                SecureAggregation.MaskedInput(session: secure.setup.session, site: site, maskedVector: words)
            )
            attendance.received.insert(site)
            phase = .maskedInput(attendance, secure, bundles)
        case .training(var attendance, var aggregator):
            try fold(update, examples: commit.examples, into: &aggregator)
            attendance.received.insert(site)
            phase = .training(attendance, aggregator)
        default:
            return []
        }
        let masked = phase.step == .maskedInput
        let entry = LedgerEvent.updateReceived(
            .init(runtime, round: round, attempt: attempt, site: site, commit: commit, sha256: sha256, masked: masked)
        )
        return [.record(FederationRecord(entries: [entry]))]
    }

    /// The masked vector a secure round's update holds.
    private func maskedVector(_ file: SafetensorsFile) throws -> [UInt32] {
        let length = model.weights.parameterCount + 1
        guard file.tensors.count == 1, let info = file[maskedUpdateTensorName], info.dtype == .u32,
            info.shape == [length]
        else {
            throw ControlError(
                .invalidUpdate,
                "expected one U32 tensor \"\(maskedUpdateTensorName)\" of shape [\(length)], found \(file.tensors.map { "\($0.name) \($0.dtype.rawValue) \($0.shape)" })",
                field: "body"
            )
        }
        return try file.withBytes(of: maskedUpdateTensorName) { raw in
            (0..<info.elementCount).map {
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))
            }
        }
    }

    /// Folds a plain update, weighted by its examples (bounded by the spec), clipping it again under
    /// central differential privacy.
    private func fold(_ file: SafetensorsFile, examples: Int, into aggregator: inout RoundAggregator) throws {
        guard examples >= 1 else {
            throw ControlError(
                .invalidUpdate,
                "expected at least 1 example, found \(examples)",
                field: "examples"
            )
        }
        let weight = min(examples, runtime.federation.exampleBound)
        if let privacy = runtime.privacy, privacy.mode == .central {
            // The coordinator clips again: a site's own clipping is not trusted for the guarantee.
            var update = try file.modelWeights(matching: model.weights)
            DifferentialPrivacy.clip(&update, to: privacy.clipNorm)
            try aggregator.fold(update, examples: weight)
        } else {
            try aggregator.fold(file, examples: weight)
        }
    }

    /// A secure-aggregation message from `site`.
    ///
    /// - Throws: ``ControlError`` when it comes out of turn, for a round without secure aggregation,
    ///   or names another site; ``FederationError`` when the protocol refuses it.
    mutating func receive(_ message: SecureMessage, site: String, round: Int, attempt: Int) throws {
        try expect(site: site, round: round, attempt: attempt, steps: [message.phase])
        guard var secure = phase.secure else {
            throw ControlError(
                .outOfTurn,
                "round \(round) of \(runtime.name) does not use secure aggregation",
                field: "phase"
            )
        }
        let sender: String
        switch message {
        case .keys(let m):
            sender = m.site
            if m.site == site { try secure.coordinator.receive(m) }
        case .shares(let m):
            sender = m.site
            if m.site == site { try secure.coordinator.receive(m) }
        case .unmask(let m):
            sender = m.site
            if m.site == site { try secure.coordinator.receive(m) }
        }
        guard sender == site else {
            throw ControlError(
                .wrongSite,
                "expected a message from \(site) (the token's site), found one from \(sender)",
                field: "site"
            )
        }
        phase.updateSecure(secure)
        phase.updateAttendance { $0.received.insert(site) }
    }

    /// The step asked of `site` now, if any.
    func task(for site: String, chunkBytes: Int) -> FederationTask? {
        guard let attendance = phase.attendance, let step = phase.step, attendance.roster.contains(site),
            attendance.expected.contains(site), !attendance.received.contains(site),
            let dataset = runtime.dataset(of: site)
        else { return nil }
        return FederationTask(
            workload: runtime.name,
            round: round,
            attempt: attempt,
            phase: step,
            deadline: attendance.phaseStart + runtime.federation.roundTimeout.seconds,
            dataset: dataset,
            modelSHA256: model.sha256,
            modelBytes: model.bytes.count,
            trainer: runtime.trainer,
            privacy: runtime.privacy,
            exampleBound: runtime.federation.exampleBound,
            secure: secureRound(for: site),
            chunkBytes: chunkBytes
        )
    }

    /// What a secure round's task tells `site`: the setup, and the current phase's input.
    private func secureRound(for site: String) -> SecureRound? {
        switch phase {
        case .advertisingKeys(_, let s):
            return SecureRound(setup: s.setup, clip: s.clip, directory: nil, bundle: nil, unmask: nil)
        case .sharingKeys(_, let s, let directory):
            return SecureRound(setup: s.setup, clip: s.clip, directory: directory, bundle: nil, unmask: nil)
        case .maskedInput(_, let s, let bundles):
            return SecureRound(setup: s.setup, clip: s.clip, directory: nil, bundle: bundles[site], unmask: nil)
        case .unmasking(_, let s, let request):
            return SecureRound(setup: s.setup, clip: s.clip, directory: nil, bundle: nil, unmask: request)
        case .waiting, .training, .completed, .failed:
            return nil
        }
    }
}
