/// How the coordinator turns a round's updates into the next global model.
///
/// Every update is a *delta* (a site's trained model minus the round's global model, float32) weighted by its
/// example count. The mean-based strategies (FedAvg, FedProx, FedAvgM, FedAdam) fold each update into a running
/// weighted sum as it arrives and then take one server-optimizer step (``apply(meanDelta:to:state:)``); the
/// robust ones (median, trimmed mean, Krum) need every update and compute coordinate block by coordinate block
/// at the end (see ``RoundAggregator``).
///
/// Compared with Flower's strategies (flwr `server/strategy`): FedAvg, FedProx, median, trimmed mean and
/// Krum/Multi-Krum compute the same thing (Flower averages parameters, we average deltas: the same model).
/// FedAvgM defaults to momentum 0.9 (Hsu et al. 2019) where Flower defaults to 0. FedAdam follows Reddi et al.
/// 2021 (no bias correction), as Flower's `fedadam.py` did before it added an optional correction; Flower's
/// defaults η = 0.1, β1 = 0.9, β2 = 0.99, τ = 1e-9 are kept. Krum requires n > 2f + 2, which Flower does not
/// check (it clamps the neighbour count to at least 1).
public enum AggregationStrategy: Sendable, Hashable, Codable {
    /// Federated averaging (McMahan et al. 2017): new global = global + Σ nᵢΔᵢ / Σ nᵢ.
    case fedAvg
    /// FedProx (Li et al. 2020): sites add (μ/2)‖w − w_global‖² to their loss; the server side is FedAvg.
    /// - Parameter mu: The proximal coefficient μ ≥ 0 the coordinator sends to sites.
    case fedProx(mu: Double)
    /// FedAvg with server momentum (Hsu et al. 2019): v ← β·v + meanΔ; w ← w + η·v.
    /// - Parameters:
    ///   - serverLearningRate: η > 0.
    ///   - momentum: β in [0, 1).
    case fedAvgM(serverLearningRate: Double = 1.0, momentum: Double = 0.9)
    /// FedAdam (Reddi et al. 2021, "Adaptive Federated Optimization"): m ← β1·m + (1−β1)·meanΔ,
    /// v ← β2·v + (1−β2)·meanΔ², w ← w + η·m / (√v + τ).
    /// - Parameters:
    ///   - serverLearningRate: η > 0.
    ///   - beta1: β1 in [0, 1).
    ///   - beta2: β2 in [0, 1).
    ///   - tau: τ > 0, the adaptivity floor.
    case fedAdam(serverLearningRate: Double = 0.1, beta1: Double = 0.9, beta2: Double = 0.99, tau: Double = 1e-9)
    /// The coordinate-wise median of the deltas (unweighted; the mean of the two middle values for even n).
    case fedMedian
    /// The coordinate-wise trimmed mean (unweighted): drop the ⌊β·n⌋ largest and ⌊β·n⌋ smallest values per
    /// coordinate and average the rest.
    /// - Parameter beta: The fraction cut at each end, 0 ≤ β < 0.5.
    case trimmedMean(beta: Double = 0.2)
    /// Krum and Multi-Krum (Blanchard et al. 2017): each update's score is the sum of squared distances to its
    /// n − f − 2 nearest neighbours; the `keep` lowest-scoring updates are averaged (weighted by examples), and
    /// `keep == 1` is plain Krum (that single update). Requires n > 2f + 2 and keep ≤ n − f.
    /// - Parameters:
    ///   - byzantine: f ≥ 0, the number of Byzantine sites tolerated.
    ///   - keep: m ≥ 1, how many of the best updates to average.
    case krum(byzantine: Int, keep: Int = 1)

    /// Whether updates are folded into a running sum as they arrive (mean-based strategies), so that memory
    /// stays O(parameters) whatever the number of updates, and a secure-aggregation sum can be folded too.
    public var isStreaming: Bool {
        switch self {
        case .fedAvg, .fedProx, .fedAvgM, .fedAdam: true
        case .fedMedian, .trimmedMean, .krum: false
        }
    }

    /// Checks the parameters' domains.
    /// - Throws: ``FederationError`` `.invalidConfiguration` naming the parameter, its domain and its value.
    public func validate() throws {
        func fail(_ message: String) -> FederationError { FederationError(.invalidConfiguration, message) }
        switch self {
        case .fedAvg, .fedMedian:
            return
        case .fedProx(let mu):
            guard mu.isFinite, mu >= 0 else { throw fail("fedProx: expected mu ≥ 0, found \(mu)") }
        case .fedAvgM(let rate, let momentum):
            guard rate.isFinite, rate > 0 else { throw fail("fedAvgM: expected serverLearningRate > 0, found \(rate)") }
            guard momentum >= 0, momentum < 1 else {
                throw fail("fedAvgM: expected momentum in [0, 1), found \(momentum)")
            }
        case .fedAdam(let rate, let beta1, let beta2, let tau):
            guard rate.isFinite, rate > 0 else { throw fail("fedAdam: expected serverLearningRate > 0, found \(rate)") }
            guard beta1 >= 0, beta1 < 1 else { throw fail("fedAdam: expected beta1 in [0, 1), found \(beta1)") }
            guard beta2 >= 0, beta2 < 1 else { throw fail("fedAdam: expected beta2 in [0, 1), found \(beta2)") }
            guard tau.isFinite, tau > 0 else { throw fail("fedAdam: expected tau > 0, found \(tau)") }
        case .trimmedMean(let beta):
            guard beta >= 0, beta < 0.5 else { throw fail("trimmedMean: expected beta in [0, 0.5), found \(beta)") }
        case .krum(let byzantine, let keep):
            guard byzantine >= 0 else { throw fail("krum: expected byzantine ≥ 0, found \(byzantine)") }
            guard keep >= 1 else { throw fail("krum: expected keep ≥ 1, found \(keep)") }
        }
    }

    /// Checks the parameters against the number of updates received.
    func validate(updateCount n: Int) throws {
        func fail(_ message: String) -> FederationError { FederationError(.invalidConfiguration, message) }
        guard n >= 1 else { throw fail("aggregation: expected at least 1 update, found none") }
        if case .krum(let f, let keep) = self {
            guard n > 2 * f + 2 else {
                throw fail("krum: expected more than 2f + 2 = \(2 * f + 2) updates for f = \(f), found \(n)")
            }
            guard keep <= n - f else {
                throw fail("krum: expected keep ≤ n − f = \(n - f), found keep = \(keep)")
            }
        }
    }

    /// The server-optimizer step shared by every strategy: the new global model from the round's aggregate
    /// delta (the weighted mean for the mean-based strategies, the robust aggregate otherwise).
    ///
    /// FedAvg, FedProx and the robust strategies add the delta; FedAvgM and FedAdam update their moments in
    /// `state` (starting from zeros) and step by them. `state.round` counts the steps taken.
    /// - Parameters:
    ///   - meanDelta: The aggregate delta, compatible with `global`.
    ///   - global: The round's global model.
    ///   - state: The optimizer's moments, carried from round to round.
    /// - Returns: The next global model.
    /// - Throws: ``FederationError`` `.incompatibleUpdate` if the delta or the stored moments do not match the
    ///   model, `.invalidConfiguration` if the parameters are invalid.
    /// - Complexity: O(parameters).
    public func apply(
        meanDelta: ModelWeights,
        to global: ModelWeights,
        state: inout ServerOptimizerState
    ) throws -> ModelWeights {
        try validate()
        guard meanDelta.isCompatible(with: global) else {
            throw FederationError(
                .incompatibleUpdate,
                "server step: expected a delta with the model's tensors and shapes, found \(Self.mismatch(meanDelta, global))"
            )
        }
        var next = global
        switch self {
        case .fedAvg, .fedProx, .fedMedian, .trimmedMean, .krum:
            for t in next.tensors.indices {
                let delta = meanDelta.tensors[t].values
                next.tensors[t].values.withUnsafeMutableBufferPointer { w in
                    for i in w.indices { w[i] += delta[i] }
                }
            }
        case .fedAvgM(let rate, let momentum):
            var velocity = try state.moment(state.firstMoment, named: "firstMoment", for: global)
            let beta = Float(momentum)
            let eta = Float(rate)
            for t in next.tensors.indices {
                let delta = meanDelta.tensors[t].values
                velocity.tensors[t].values.withUnsafeMutableBufferPointer { v in
                    next.tensors[t].values.withUnsafeMutableBufferPointer { w in
                        for i in w.indices {
                            v[i] = beta * v[i] + delta[i]
                            w[i] += eta * v[i]
                        }
                    }
                }
            }
            state.firstMoment = velocity
        case .fedAdam(let rate, let beta1, let beta2, let tau):
            var m = try state.moment(state.firstMoment, named: "firstMoment", for: global)
            var v = try state.moment(state.secondMoment, named: "secondMoment", for: global)
            let (b1, b2, eta, floor) = (Float(beta1), Float(beta2), Float(rate), Float(tau))
            for t in next.tensors.indices {
                let delta = meanDelta.tensors[t].values
                m.tensors[t].values.withUnsafeMutableBufferPointer { m in
                    v.tensors[t].values.withUnsafeMutableBufferPointer { v in
                        next.tensors[t].values.withUnsafeMutableBufferPointer { w in
                            for i in w.indices {
                                let d = delta[i]
                                m[i] = b1 * m[i] + (1 - b1) * d
                                v[i] = b2 * v[i] + (1 - b2) * d * d
                                w[i] += eta * m[i] / (v[i].squareRoot() + floor)
                            }
                        }
                    }
                }
            }
            state.firstMoment = m
            state.secondMoment = v
        }
        state.round += 1
        return next
    }

    /// Names the first difference between two models' tensor tables.
    static func mismatch(_ found: ModelWeights, _ expected: ModelWeights) -> String {
        for (index, tensor) in expected.tensors.enumerated() {
            guard index < found.tensors.count else { return "no tensor \(tensor.name)" }
            let other = found.tensors[index]
            if other.name != tensor.name { return "tensor \(other.name) where \(tensor.name) was expected" }
            if other.shape != tensor.shape {
                return "tensor \(tensor.name) of shape \(other.shape), not \(tensor.shape)"
            }
        }
        return "\(found.tensors.count) tensors, not \(expected.tensors.count)"
    }
}
