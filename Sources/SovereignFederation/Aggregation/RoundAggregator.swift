/// One round's aggregation: updates (deltas from the round's global model, weighted by example counts) go
/// in, the next global model comes out.
///
/// **Mean-based strategies** (FedAvg, FedProx, FedAvgM, FedAdam) stream: each update is checked against the
/// model and held (a memory-mapped ``SafetensorsFile`` costs no copy) until ``FoldKernels/maximumGroup``
/// are pending, then all of them are folded into one float32 running sum Σ nᵢΔᵢ in a single SIMD pass
/// over the accumulator. Memory: O(parameters) for the sum plus at most 8 pending mappings, whatever the
/// number of sites. A secure-aggregation sum (Σ nᵢΔᵢ and Σ nᵢ, already added up by the protocol) is folded with
/// ``foldSum(_:totalExamples:)``; the server step is the same.
///
/// **Robust strategies** (median, trimmed mean, Krum) need every update per coordinate: the updates are kept
/// (mapped files, not copies) and combined at the end, coordinate block by coordinate block, with
/// O(block × n) scratch memory (a block is about 256 KB of values). Krum also keeps an n × n distance
/// matrix.
///
/// Non-finite results (an update carrying NaN or infinity, or a float32 overflow) are rejected at the end;
/// the median and trimmed mean order a NaN as +∞, so a trimmed or out-voted NaN does no harm.
///
/// Precision: the running sum is float32, folded in order, so each coordinate's relative error is at most
/// about n·2⁻²⁴ of Σ|nᵢΔᵢ| for n updates (≈ 6·10⁻⁶ for 100 sites), far below the noise of training; the
/// robust strategies and the Multi-Krum mean compute from the original values.
///
/// Copies of an aggregator do not share their sum (copy on write).
public struct RoundAggregator: Sendable {
    /// The strategy this round uses.
    public let strategy: AggregationStrategy
    /// The round's global model, which every update must match (names, shapes, order).
    public let global: ModelWeights

    private let offsets: [Int]  // start of each tensor in the flat parameter vector
    private let parameterCount: Int
    private var accumulator: AlignedFloats?
    private var pending: [UpdateSource] = []
    private var kept: [UpdateSource] = []

    /// Updates folded so far (a secure-aggregation sum counts as one).
    public private(set) var updateCount = 0
    /// The sum of the updates' example counts.
    public private(set) var totalExamples = 0
    /// After a Krum aggregation, the indices (in fold order) of the updates selected, best first.
    public private(set) var selected: [Int]?

    /// Starts a round.
    /// - Parameters:
    ///   - strategy: The aggregation strategy.
    ///   - global: The round's global model.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if the strategy's parameters are invalid.
    public init(strategy: AggregationStrategy, global: ModelWeights) throws {
        try strategy.validate()
        self.strategy = strategy
        self.global = global
        var offsets: [Int] = []
        var total = 0
        for tensor in global.tensors {
            offsets.append(total)
            total += tensor.values.count
        }
        self.offsets = offsets
        self.parameterCount = total
        if strategy.isStreaming { accumulator = AlignedFloats(zeros: total) }
    }

    private func checkExamples(_ examples: Int, _ source: String, alsoPending: Int = 0) throws {
        guard examples >= 0 else {
            throw FederationError(.invalidConfiguration, "\(source): expected an example count ≥ 0, found \(examples)")
        }
        let (withPending, overflow) = totalExamples.addingReportingOverflow(alsoPending)
        guard !overflow, !withPending.addingReportingOverflow(examples).overflow else {
            throw FederationError(.invalidConfiguration, "\(source): the total example count overflows")
        }
    }

    /// Folds one update read from a safetensors file (zero copy when the file is memory-mapped).
    /// - Parameters:
    ///   - update: The delta, with exactly the model's tensor names and shapes, all F32.
    ///   - examples: The number of examples the site trained on (its weight), ≥ 0.
    /// - Throws: ``FederationError`` `.incompatibleUpdate` naming the first tensor that is missing, extra, of
    ///   another shape or not F32; `.invalidConfiguration` for a negative example count.
    /// - Complexity: O(tensors) now; O(parameters) once 8 updates are pending.
    public mutating func fold(_ update: SafetensorsFile, examples: Int) throws {
        try fold([(update: update, examples: examples)])
    }

    /// Folds a batch of updates; every update is checked before any is folded.
    /// - Parameter updates: The deltas and their example counts.
    /// - Throws: As ``fold(_:examples:)``; on error nothing of the batch is folded.
    /// - Complexity: O(parameters × updates), in passes of 8 updates over the accumulator.
    public mutating func fold(_ updates: [(update: SafetensorsFile, examples: Int)]) throws {
        var sources: [UpdateSource] = []
        var batchExamples = 0
        for (update, examples) in updates {
            try checkExamples(examples, update.source, alsoPending: batchExamples)
            try update.checkCompatible(with: global, requireF32: true)
            let bases = global.tensors.map {
                update.rawBytes(update[$0.name]!).baseAddress ?? UnsafeRawPointer(bitPattern: 16)!
            }
            sources.append(UpdateSource(owner: update, tensorBases: bases, examples: examples))
            batchExamples += examples
        }
        for source in sources { try accept(source) }
    }

    /// Folds one update held in memory.
    /// - Parameters:
    ///   - update: The delta, compatible with the model.
    ///   - examples: The site's example count, ≥ 0.
    /// - Throws: ``FederationError`` `.incompatibleUpdate` or `.invalidConfiguration`.
    /// - Complexity: O(parameters); robust strategies keep one copy of the values.
    public mutating func fold(_ update: ModelWeights, examples: Int) throws {
        try checkExamples(examples, "update \(updateCount)")
        guard update.isCompatible(with: global) else {
            throw FederationError(
                .incompatibleUpdate,
                "update \(updateCount): expected the model's tensors, found \(AggregationStrategy.mismatch(update, global))"
            )
        }
        let storage = FloatStorage(update.tensors.map(\.values))
        try accept(UpdateSource(owner: storage, tensorBases: storage.bases, examples: examples))
    }

    /// Folds the output of secure aggregation: the weighted sum Σ nᵢΔᵢ of several sites' deltas, flattened
    /// in model order, and their total example count Σ nᵢ. Only mean-based strategies can use it.
    /// - Parameters:
    ///   - weightedSum: Σ nᵢΔᵢ, one value per parameter in model order.
    ///   - totalExamples: Σ nᵢ, ≥ 0.
    /// - Throws: ``FederationError`` `.invalidConfiguration` for a robust strategy or a negative count,
    ///   `.incompatibleUpdate` if the length is not the model's parameter count.
    /// - Complexity: O(parameters).
    public mutating func foldSum(_ weightedSum: [Float], totalExamples examples: Int) throws {
        guard strategy.isStreaming else {
            throw FederationError(
                .invalidConfiguration,
                "\(strategy): a robust strategy needs every update, not a secure-aggregation sum"
            )
        }
        try checkExamples(examples, "secure-aggregation sum")
        guard weightedSum.count == parameterCount else {
            throw FederationError(
                .incompatibleUpdate,
                "secure-aggregation sum: expected \(parameterCount) values (the model's parameters), found \(weightedSum.count)"
            )
        }
        let acc = uniqueAccumulator()
        weightedSum.withUnsafeBufferPointer { sum in
            if let s = sum.baseAddress { FoldKernels.add(into: acc.pointer, s, count: parameterCount) }
        }
        updateCount += 1
        totalExamples += examples
    }

    private mutating func accept(_ source: UpdateSource) throws {
        updateCount += 1
        totalExamples += source.examples
        if strategy.isStreaming {
            pending.append(source)
            if pending.count == FoldKernels.maximumGroup { flush() }
        } else {
            kept.append(source)
        }
    }

    /// The accumulator, copied first if another copy of this aggregator shares it (copy on write).
    private mutating func uniqueAccumulator() -> AlignedFloats {
        if !isKnownUniquelyReferenced(&accumulator!) { accumulator = accumulator!.copy() }
        return accumulator!
    }

    /// Folds the updates that are waiting for a full group of 8 now, in one pass, and lets go of them (and of
    /// their file mappings). ``aggregateDelta()`` does this itself; call it to release files early.
    /// - Complexity: O(parameters × pending updates).
    public mutating func foldPending() {
        flush()
    }

    /// Folds the pending updates into the accumulator in one pass.
    private mutating func flush() {
        guard !pending.isEmpty else { return }
        let group = pending
        pending.removeAll(keepingCapacity: true)
        let offsets = self.offsets
        let sizes = global.tensors.map(\.values.count)
        let weights = group.map { Float($0.examples) }
        let acc = uniqueAccumulator()
        withExtendedLifetime((group, acc)) {
            do {
                let accBase = acc.pointer
                weights.withUnsafeBufferPointer { w in
                    var pointers = [UnsafeRawPointer](repeating: UnsafeRawPointer(accBase), count: group.count)
                    pointers.withUnsafeMutableBufferPointer { p in
                        for t in offsets.indices where sizes[t] > 0 {
                            for j in group.indices { p[j] = group[j].tensorBases[t] }
                            FoldKernels.fold(
                                into: accBase + offsets[t],
                                count: sizes[t],
                                sources: UnsafePointer(p.baseAddress!),
                                weights: w.baseAddress!,
                                group: group.count
                            )
                        }
                    }
                }
            }
        }
    }

    /// The round's aggregate delta: the weighted mean Σ nᵢΔᵢ / Σ nᵢ for the mean-based strategies, the
    /// coordinate-wise median or trimmed mean, or the Krum / Multi-Krum selection.
    /// - Returns: The delta, in the model's order and shapes.
    /// - Throws: ``FederationError`` `.invalidConfiguration` if there are no updates, the total weight is zero
    ///   (mean-based, Multi-Krum), or Krum's n > 2f + 2 and keep ≤ n − f do not hold; `.incompatibleUpdate` if
    ///   the result holds a non-finite value.
    /// - Complexity: O(parameters) for the mean; O(parameters × n log n) for median and trimmed mean;
    ///   O(parameters × n²) for Krum.
    public mutating func aggregateDelta() throws -> ModelWeights {
        try strategy.validate(updateCount: updateCount)
        let flat: [Float]
        switch strategy {
        case .fedAvg, .fedProx, .fedAvgM, .fedAdam:
            flush()
            guard totalExamples > 0 else {
                throw FederationError(
                    .invalidConfiguration,
                    "\(updateCount) updates with 0 examples in all: expected a positive total weight"
                )
            }
            return try meanWeights()
        case .fedMedian:
            flat = RobustAggregation.coordinateWise(kept, offsets: offsets, global: global) { values in
                let n = values.count
                RobustAggregation.select(values, n / 2, 0, n)
                guard n % 2 == 0 else { return values[n / 2] }
                // The lower middle is the largest value left of the upper one.
                var lowerMiddle = values[0]
                for k in 1..<(n / 2) where values[k] > lowerMiddle { lowerMiddle = values[k] }
                return Float((Double(lowerMiddle) + Double(values[n / 2])) / 2)
            }
        case .trimmedMean(let beta):
            let n = kept.count
            let cut = Int(beta * Double(n))
            flat = RobustAggregation.coordinateWise(kept, offsets: offsets, global: global) { values in
                if cut > 0 {
                    RobustAggregation.select(values, cut, 0, n)
                    RobustAggregation.select(values, n - cut - 1, cut, n)
                }
                var sum = 0.0
                for k in cut..<(n - cut) { sum += Double(values[k]) }
                return Float(sum / Double(n - 2 * cut))
            }
        case .krum(let byzantine, let keep):
            let choice = RobustAggregation.krum(
                kept,
                offsets: offsets,
                global: global,
                byzantine: byzantine,
                keep: keep
            )
            selected = choice
            let chosen = choice.map { kept[$0] }
            let weightTotal = chosen.reduce(0) { $0 + $1.examples }
            if keep == 1 {
                flat = RobustAggregation.weightedMean([chosen[0]], weights: [1], offsets: offsets, global: global)
            } else {
                guard weightTotal > 0 else {
                    throw FederationError(
                        .invalidConfiguration,
                        "multi-krum: the \(keep) selected updates have 0 examples in all: expected a positive total weight"
                    )
                }
                flat = RobustAggregation.weightedMean(
                    chosen,
                    weights: chosen.map { Float($0.examples) / Float(weightTotal) },
                    offsets: offsets,
                    global: global
                )
            }
        }
        return try unflatten(flat)
    }

    /// Aggregates and takes the server-optimizer step (see ``AggregationStrategy/apply(meanDelta:to:state:)``).
    /// - Parameter state: The server optimizer's state, updated in place.
    /// - Returns: The next global model.
    /// - Throws: As ``aggregateDelta()`` and ``AggregationStrategy/apply(meanDelta:to:state:)``.
    public mutating func finish(state: inout ServerOptimizerState) throws -> ModelWeights {
        let delta = try aggregateDelta()
        return try strategy.apply(meanDelta: delta, to: global, state: &state)
    }

    /// The accumulator divided by the total weight, straight into the result's tensors.
    private func meanWeights() throws -> ModelWeights {
        let acc = accumulator!
        let total = Float(totalExamples)
        let scale = SIMD16<Float>(repeating: total)
        return try withExtendedLifetime(acc) {
            var tensors: [ModelWeights.Tensor] = []
            tensors.reserveCapacity(global.tensors.count)
            for (t, tensor) in global.tensors.enumerated() {
                let count = tensor.values.count
                let source = acc.pointer + offsets[t]
                let values = [Float](unsafeUninitializedCapacity: count) { out, initialized in
                    let target = UnsafeMutableRawPointer(out.baseAddress)
                    let vectorEnd = count & ~15
                    var i = 0
                    while i < vectorEnd {
                        let sum = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Float>.self)
                        target!.storeBytes(of: sum / scale, toByteOffset: i &* 4, as: SIMD16<Float>.self)
                        i &+= 16
                    }
                    while i < count {
                        out[i] = source[i] / total
                        i &+= 1
                    }
                    initialized = count
                }
                tensors.append(.init(name: tensor.name, shape: tensor.shape, values: values))
            }
            let weights = ModelWeights(tensors)
            try checkFinite(weights)
            return weights
        }
    }

    private func checkFinite(_ weights: ModelWeights) throws {
        for tensor in weights.tensors {
            if let bad = tensor.values.firstIndex(where: { !$0.isFinite }) {
                throw FederationError(
                    .incompatibleUpdate,
                    "aggregate of \(updateCount) updates: tensor \(tensor.name) element \(bad): expected a finite value, "
                        + "found \(tensor.values[bad]) (an update carried NaN or infinity, or the sum overflowed float32)"
                )
            }
        }
    }

    private func unflatten(_ flat: [Float]) throws -> ModelWeights {
        var tensors: [ModelWeights.Tensor] = []
        tensors.reserveCapacity(global.tensors.count)
        for (t, tensor) in global.tensors.enumerated() {
            let values = Array(flat[offsets[t]..<(offsets[t] + tensor.values.count)])
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw FederationError(
                    .incompatibleUpdate,
                    "aggregate of \(updateCount) updates: tensor \(tensor.name) element \(bad): expected a finite value, "
                        + "found \(values[bad]) (an update carried NaN or infinity, or the sum overflowed float32)"
                )
            }
            tensors.append(.init(name: tensor.name, shape: tensor.shape, values: values))
        }
        return ModelWeights(tensors)
    }
}

/// An update's tensors as raw float32 pointers in model order, with what keeps them alive.
struct UpdateSource: @unchecked Sendable {
    // Safety: the pointers point into `owner` (an immutable SafetensorsFile or FloatStorage), which this
    // value keeps alive; nothing writes through them.
    let owner: any Sendable & AnyObject
    let tensorBases: [UnsafeRawPointer]
    let examples: Int
}

/// An in-memory update's values, at stable addresses.
final class FloatStorage: @unchecked Sendable {
    // Safety: written once in init, read-only afterwards, freed in deinit.
    let bases: [UnsafeRawPointer]
    private let allocations: [UnsafeMutablePointer<Float>]

    init(_ tensors: [[Float]]) {
        var allocations: [UnsafeMutablePointer<Float>] = []
        for values in tensors {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
            values.withUnsafeBufferPointer {
                if let base = $0.baseAddress { pointer.initialize(from: base, count: values.count) }
            }
            allocations.append(pointer)
        }
        self.allocations = allocations
        self.bases = allocations.map { UnsafeRawPointer($0) }
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }
}
