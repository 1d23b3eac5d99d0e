import SovereignFederation
import SovereignModel

extension RoundMachine {
    /// Closes the phase in progress with whoever answered: the next secure-aggregation phase, or the end
    /// of the round.
    ///
    /// - Throws: ``FederationError`` when the phase missed its quorum or the aggregate cannot be formed;
    ///   the caller retries the round.
    mutating func closePhase(now: Double, using random: inout some RandomNumberGenerator) throws -> [RoundEffect] {
        let minSites = runtime.federation.minSites
        switch phase {
        case .training(let attendance, let aggregator):
            let answered = attendance.received.intersection(attendance.expected)
            guard answered.count >= minSites else {
                throw FederationError(
                    .invalidConfiguration,
                    "round \(round): \(answered.count) of \(attendance.roster.count) sites sent an update by the deadline, quorum \(minSites)"
                )
            }
            return try finish(aggregator, sites: answered.sorted(), roster: attendance.roster, using: &random)
        case .advertisingKeys(let attendance, var secure):
            let directory = try secure.coordinator.keyDirectory()
            let next = attendance.next(expecting: Set(directory.keys.map(\.site)), at: now)
            phase = .sharingKeys(next, secure, directory)
        case .sharingKeys(let attendance, var secure, _):
            let bundles = try secure.coordinator.shareBundles()
            phase = .maskedInput(attendance.next(expecting: Set(bundles.keys), at: now), secure, bundles)
        case .maskedInput(let attendance, var secure, _):
            let request = try secure.coordinator.unmaskRequest()
            guard request.survivors.count >= minSites else {
                throw FederationError(
                    .invalidConfiguration,
                    "round \(round): \(request.survivors.count) masked updates by the deadline, quorum \(minSites)"
                )
            }
            phase = .unmasking(attendance.next(expecting: Set(request.survivors), at: now), secure, request)
        case .unmasking(let attendance, var secure, _):
            let aggregate = try secure.coordinator.aggregate()
            let aggregator = try unmaskedAggregator(aggregate, secure: secure, using: &random)
            return try finish(aggregator, sites: aggregate.sites, roster: attendance.roster, using: &random)
        case .waiting, .completed, .failed:
            break
        }
        return []
    }

    /// The aggregator of a secure round: the survivors' dequantised sum, central noise on it when the spec
    /// asks, scaled back to example counts for the server step.
    private func unmaskedAggregator(
        _ aggregate: SecureAggregation.Aggregate,
        secure: SecureSession,
        using random: inout some RandomNumberGenerator
    ) throws -> RoundAggregator {
        let quantisation = try Quantisation(clip: secure.clip, sites: secure.setup.sites.count)
        var sum = quantisation.dequantiseSumAsDouble(aggregate.sum)
        let weight = sum.removeLast() / secure.clip
        guard weight > 0 else {
            throw FederationError(.secureAggregation, "round \(round): the unmasked weights sum to \(weight)")
        }
        if let privacy = runtime.privacy, privacy.mode == .central {
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
        let bound = Double(runtime.federation.exampleBound)
        let total = max(1, Int((weight * bound).rounded()))
        var aggregator = try RoundAggregator(strategy: runtime.strategy, global: model.weights)
        try aggregator.foldSum(sum.map { Float($0 * bound) }, totalExamples: total)
        return aggregator
    }

    /// Applies the server step (with central noise on plain rounds), makes the new global model, and moves
    /// to the next round, or completes the workload after its last.
    private mutating func finish(
        _ aggregator: RoundAggregator,
        sites: [String],
        roster: [String],
        using random: inout some RandomNumberGenerator
    ) throws -> [RoundEffect] {
        var optimizer = model.optimizer
        let weights = try serverStep(aggregator, optimizer: &optimizer, using: &random)
        let finished = round
        let next = try GlobalModel(weights: weights, workload: runtime.name, round: finished, optimizer: optimizer)
        // The optimizer is stored as the step left it, before it learns the round it finished.
        let save = RoundEffect.saveModel(round: finished, model: next.bytes, optimizer: try optimizer.encoded())
        var spent = budget
        let epsilon = try spent?.spendRound()
        let entry = LedgerEvent.roundClosed(
            .init(
                runtime,
                round: finished,
                attempt: attempt,
                sites: sites,
                roster: roster,
                modelSHA256: next.sha256,
                epsilon: epsilon
            )
        )
        let discard = RoundEffect.discardRound(folder: roundFolder)
        budget = spent
        model = next
        model.optimizer.round = finished
        round += 1
        attempt = 1
        let rounds = runtime.federation.rounds
        let last = finished >= rounds
        phase = last ? .completed : .waiting(quorumSince: nil)
        let reason = last ? nil : "round \(finished) of \(rounds) done with \(sites.joined(separator: ", "))"
        let recorded = RoundEffect.record(FederationRecord(reason: reason, entries: [entry]))
        return [save, discard, recorded] + (last ? completion() : [])
    }

    /// The new global weights from a round's aggregate.
    private func serverStep(
        _ aggregator: RoundAggregator,
        optimizer: inout ServerOptimizerState,
        using random: inout some RandomNumberGenerator
    ) throws -> ModelWeights {
        var aggregator = aggregator
        guard let privacy = runtime.privacy, privacy.mode == .central, runtime.federation.secureAggregation == nil
        else { return try aggregator.finish(state: &optimizer) }
        // Noise on the mean of clipped updates: σ·C·bound on the sum, divided by the examples.
        var delta = try aggregator.aggregateDelta()
        let std =
            privacy.noiseMultiplier * privacy.clipNorm * Double(runtime.federation.exampleBound)
            / Double(max(1, aggregator.totalExamples))
        GaussianNoise.add(to: &delta, standardDeviation: std, using: &random)
        return try runtime.strategy.apply(meanDelta: delta, to: model.weights, state: &optimizer)
    }
}
