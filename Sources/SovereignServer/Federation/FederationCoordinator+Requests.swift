import Foundation
public import SovereignFederation

extension FederationCoordinator {
    /// The steps asked of `site` now.
    public func tasks(for site: String) async -> FederationTaskList {
        lastSeen[site] = now
        await tick()
        let tasks = runs.keys.sorted().compactMap { runs[$0]?.task(for: site, chunkBytes: Self.chunkBytes) }
        return FederationTaskList(tasks: tasks, pollAfter: pollInterval)
    }

    /// The workload's current global model (its final one once completed) for a participant, recorded in the
    /// ledger the first time each round's model goes to a site.
    ///
    /// - Throws: ``ControlError`` for an unknown workload or a site that does not take part.
    public func model(_ name: String, for site: String?) async throws -> [UInt8] {
        if let site { lastSeen[site] = now }
        if runs[name] == nil { await tick() }
        guard var machine = runs[name] else { return try await finishedModel(name, for: site) }
        if let site {
            try machine.checkParticipant(site)
            let effects = machine.sendModel(to: site)
            runs[name] = machine
            for case .record(let record) in effects { try await perform(record, for: name) }
        }
        return machine.model.bytes
    }

    /// A finished workload's last model on disk, for a reader or for a site that took part in it.
    private func finishedModel(_ name: String, for site: String?) async throws -> [UInt8] {
        let missing = ControlError(
            .unknownWorkload,
            "no federated workload named \"\(name)\" with a model",
            field: "workload"
        )
        guard let sites = await plane.federationSites(of: name) else { throw missing }
        if let site, !sites.contains(site) {
            throw ControlError(
                .notParticipant,
                "site \(site) does not take part in \(name)",
                field: "Authorization"
            )
        }
        guard let model = try archive.lastModel(name) else { throw missing }
        return model
    }

    /// The workload's machine, once `site` may send a message of one of `steps` for this round now.
    private func expect(
        _ name: String,
        site: String,
        round: Int,
        attempt: Int,
        steps: [FederationPhase]
    ) throws -> RoundMachine {
        lastSeen[site] = now
        guard let machine = runs[name] else {
            throw ControlError(
                .unknownWorkload,
                "no federated workload named \"\(name)\" in progress",
                field: "workload"
            )
        }
        try machine.expect(site: site, round: round, attempt: attempt, steps: steps)
        return machine
    }

    /// Receives chunk `index` of a site's update.
    ///
    /// - Throws: ``ControlError`` when the chunk comes out of turn or makes the update too large.
    public func receiveChunk(
        _ name: String,
        site: String,
        round: Int,
        attempt: Int,
        index: Int,
        bytes: [UInt8]
    ) throws {
        let machine = try expect(name, site: site, round: round, attempt: attempt, steps: [.train, .maskedInput])
        try uploads.receive(
            bytes,
            index: index,
            for: UploadAssembler.Key(workload: name, site: site),
            limit: machine.updateLimit
        ) { try archive.upload(name, folder: machine.roundFolder, site: site) }
    }

    /// Closes a site's upload: checks size and SHA-256, validates the safetensors, folds the update (or
    /// hands the masked vector to secure aggregation) and records the movement.
    ///
    /// - Throws: ``ControlError`` when the update comes out of turn or is not the one committed or
    ///   does not fit the model.
    public func commitUpdate(
        _ name: String,
        site: String,
        round: Int,
        attempt: Int,
        _ commit: UpdateCommit
    ) async throws {
        var machine = try expect(name, site: site, round: round, attempt: attempt, steps: [.train, .maskedInput])
        let upload = try uploads.finish(UploadAssembler.Key(workload: name, site: site), as: commit)
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(path: upload.path.path)
        } catch let error as FederationError {
            throw ControlError(
                .invalidUpdate,
                "the update is not valid safetensors: \(error.message)",
                field: "body"
            )
        }
        let effects = try machine.receiveUpdate(
            file,
            site: site,
            round: round,
            attempt: attempt,
            commit: commit,
            sha256: upload.sha256
        )
        try await self.commit(machine, effects)
        try await advance(name)
    }

    /// Receives a secure-aggregation message.
    ///
    /// - Throws: ``ControlError`` when it comes out of turn or names another site; ``FederationError``
    ///   when the protocol refuses it.
    public func receive(_ message: SecureMessage, _ name: String, site: String, round: Int, attempt: Int) async throws {
        var machine = try expect(name, site: site, round: round, attempt: attempt, steps: [message.phase])
        try machine.receive(message, site: site, round: round, attempt: attempt)
        runs[name] = machine
        try await advance(name)
    }
}
