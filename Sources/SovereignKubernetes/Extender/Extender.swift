public import Foundation
import SovereignBase
public import SovereignModel
import SovereignPlanner
import Synchronization

/// kube-scheduler's extender (`k8s.io/kube-scheduler/extender/v1`) answered from the planner's own filters,
/// scorers and the live site budgets.
///
/// - `filter`: residency, operator policy and hardware fit are hard constraints preemption cannot fix, so
///   their failures go to `FailedAndUnresolvableNodes`; a site that cannot power or cool the pod now goes to
///   `FailedNodes`, with the reason and when the forecast says it clears.
/// - `prioritize`: the planner's weighted scorers, scaled to 0...10 per pool and fanned out to its nodes.
///
/// Both answer in both modes: `NodeNames` (with `nodeCacheCapable`, node labels read from the node watch)
/// and full `Nodes` objects (echoed byte for byte). A request's cost is O(body bytes + nodes + distinct
/// pools × filters); reads never wait for the control loop (the snapshot is swapped under a lock).
public final class Extender: Sendable {
    /// The last control-loop pass, with the pod watch's pods counted into it.
    private struct State {
        var snapshot: ExtenderSnapshot
        var pods: [BoundPod] = []
    }

    private let state: Mutex<State>
    /// Where the nodes named in `nodeCacheCapable` requests sit (the node watch keeps it current).
    public let nodes: NodeDirectory
    /// How answers are shaped for the scheduler's version.
    public let options: ExtenderOptions

    /// Makes an extender.
    ///
    /// - Parameters:
    ///   - snapshot: The state to answer from until ``update(_:)``.
    ///   - nodes: Where nodes sit by name, for `nodeCacheCapable` requests; empty when not given.
    ///   - options: How answers are shaped for the scheduler's version.
    public init(snapshot: ExtenderSnapshot, nodes: NodeDirectory? = nil, options: ExtenderOptions = .init()) {
        self.state = Mutex(State(snapshot: snapshot))
        self.nodes = nodes ?? NodeDirectory(locator: snapshot.locator)
        self.options = options
    }

    /// Replaces the state answers come from (after each control-loop pass), keeping the bound pods counted.
    public func update(_ snapshot: ExtenderSnapshot) {
        state.withLock { $0.snapshot = snapshot.with(bound: measure($0.pods, in: snapshot)) }
    }

    /// Replaces the pods Kubernetes bound (the pod watch's cache): their accelerators count against their
    /// sites' power from the next answer on, and in the site conditions the labeller writes.
    ///
    /// - Complexity: O(pods + pools + sites × steps).
    public func updateBoundPods(_ pods: [BoundPod]) {
        state.withLock { state in
            state.pods = pods
            state.snapshot = state.snapshot.with(bound: measure(pods, in: state.snapshot))
        }
    }

    /// Counts the bound pods again where their nodes now sit (after node labels changed).
    public func remeasureBoundPods() {
        state.withLock { $0.snapshot = $0.snapshot.with(bound: measure($0.pods, in: $0.snapshot)) }
    }

    private func measure(_ pods: [BoundPod], in snapshot: ExtenderSnapshot) -> BoundLoad {
        BoundLoad.measure(pods, placements: nodes.placements(of: pods.map(\.nodeName)), in: snapshot)
    }

    /// The state answers come from now.
    public var current: ExtenderSnapshot { state.withLock { $0.snapshot } }

    // MARK: What the pod asks

    /// What a pod's annotations ask of the fleet.
    enum Demand {
        /// No `sovereign.dev/*` annotation: only power and thermal limits apply.
        case none
        /// A declared workload (`declared`), or datasets and a classification.
        case workload(Workload, declared: Bool)
        /// The annotations are wrong; every node fails with this reason.
        case invalid(String)
    }

    static func demand(of pod: PodRequest, in state: ExtenderSnapshot) -> Demand {
        let annotations = pod.annotations
        let named = annotations[KubernetesLabels.workload]
        let datasetList = annotations[KubernetesLabels.datasets]
        let classificationText = annotations[KubernetesLabels.classification]
        guard named != nil || datasetList != nil || classificationText != nil else { return .none }
        var classification: Classification?
        if let text = classificationText {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let value = Classification(rawValue: trimmed) else {
                let options = Classification.allCases.map(\.rawValue).joined(separator: ", ")
                return .invalid(
                    "sovereign: annotation \(KubernetesLabels.classification): expected one of \(options), found \"\(text)\""
                )
            }
            classification = value
        }
        var datasets: [String] = []
        if let list = datasetList {
            for item in list.split(separator: ",", omittingEmptySubsequences: false) {
                let name = item.trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty, state.fleet.dataset(named: name) != nil else {
                    return .invalid(
                        "sovereign: annotation \(KubernetesLabels.datasets): expected datasets of the fleet, found \"\(name)\""
                    )
                }
                if !datasets.contains(name) { datasets.append(name) }
            }
        }
        if let named {
            guard var workload = state.workloads[named] else {
                return .invalid(
                    "sovereign: annotation \(KubernetesLabels.workload): expected a workload Sovereign knows, found \"\(named)\""
                )
            }
            // Extra annotations only add constraints: a pod never escapes its workload's.
            if !datasets.isEmpty || classification != nil {
                workload = workload.adding(datasets: datasets, classification: classification)
            }
            return .workload(workload, declared: true)
        }
        let constraint = Workload.podConstraint(
            name: pod.qualifiedName,
            datasets: datasets,
            classification: classification,
            priority: pod.priority
        )
        return .workload(constraint, declared: false)
    }

    // MARK: Filter

    /// Answers `POST <prefix>/filter`.
    ///
    /// - Parameter body: An `ExtenderArgs` JSON body.
    /// - Returns: An `ExtenderFilterResult` JSON body.
    /// - Throws: ``ExtenderRequestError`` when the body is not an `ExtenderArgs`.
    /// - Complexity: O(body bytes + nodes + distinct pools × filters).
    public func filter(_ body: [UInt8]) throws(ExtenderRequestError) -> [UInt8] {
        let args = try ExtenderArguments(body: body)
        let state = current
        let verdicts = Self.verdicts(args, state: state, placements: placements(args, state: state))
        let names = args.names
        var out = JSONWriter(capacity: 64 + names.count * 48)
        out.raw("{\"Nodes\":")
        if let nodes = args.nodes {
            out.raw("{\"metadata\":{},\"items\":[")
            var first = true
            for i in nodes.indices where verdicts[i] == nil {
                if !first { out.raw(",") }
                first = false
                out.bytes.append(contentsOf: body[nodes[i].raw])
            }
            out.raw("]}")
        } else {
            out.raw("null")
        }
        out.raw(",\"NodeNames\":")
        if args.nodeNames != nil {
            out.raw("[")
            var first = true
            for i in names.indices where verdicts[i] == nil {
                if !first { out.raw(",") }
                first = false
                out.string(names[i])
            }
            out.raw("]")
        } else {
            out.raw("null")
        }
        var failed: [(String, String)] = []
        var unresolvable: [(String, String)] = []
        for i in names.indices {
            switch verdicts[i] {
            case .failed(let reason)?: failed.append((names[i], reason))
            case .unresolvable(let reason)?:
                unresolvable.append((names[i], reason))
                if options.unresolvableAlsoFailed { failed.append((names[i], reason)) }
            case nil: break
            }
        }
        out.raw(",\"FailedNodes\":")
        out.stringMap(failed)
        out.raw(",\"FailedAndUnresolvableNodes\":")
        out.stringMap(unresolvable)
        out.raw(",\"Error\":\"\"}")
        return out.bytes
    }

    /// Why a node fails, if it does.
    enum Verdict: Equatable {
        /// Preemption or time may fix it (power, thermal).
        case failed(String)
        /// Nothing the scheduler does fixes it (residency, policy, hardware, not in the fleet).
        case unresolvable(String)
    }

    /// Where each node of the request sits: from its labels in full mode, from the directory by name otherwise
    /// (`nil`: a name the node watch has not seen).
    func placements(_ args: ExtenderArguments, state: ExtenderSnapshot) -> [NodePlacement?] {
        if let full = args.nodes { return full.map { state.locate(labels: $0.labels) } }
        return nodes.placements(of: args.nodeNames ?? [])
    }

    /// One verdict per node of the request, in order (`nil`: the node passes).
    static func verdicts(
        _ args: ExtenderArguments,
        state: ExtenderSnapshot,
        placements: [NodePlacement?]
    ) -> [Verdict?] {
        let demand = demand(of: args.pod, in: state)
        if case .invalid(let reason) = demand {
            return [Verdict?](repeating: .unresolvable(reason), count: placements.count)
        }
        var workload: Workload?
        var declared = false
        if case .workload(let w, let isDeclared) = demand {
            workload = w
            declared = isDeclared
        }
        let filters = workload.map { state.policy.preparedFilters(for: $0, in: state.fleet) } ?? []
        // Per pool, computed at most once per request.
        var poolVerdicts: [Int: Verdict?] = [:]
        var verdicts: [Verdict?] = []
        verdicts.reserveCapacity(placements.count)
        for placement in placements {
            guard let placement else {
                verdicts.append(
                    workload == nil
                        ? nil : .unresolvable("sovereign: node not seen by Sovereign's node watch (not in the fleet)")
                )
                continue
            }
            let c: Int
            switch placement {
            case .outside(let why):
                verdicts.append(workload == nil ? nil : .unresolvable("sovereign: node not in the fleet (\(why))"))
                continue
            case .pool(let index):
                c = index
            }
            if let cached = poolVerdicts[c] {
                verdicts.append(cached)
                continue
            }
            let candidate = state.candidates[c]
            var verdict: Verdict?
            var fit: Fit?
            switch filters.check(candidate) {
            case .rejected(let rejection):
                verdict = .unresolvable("sovereign \(rejection.filter): \(rejection.reason)")
            case .fits(let found): fit = found
            case .passes: break
            }
            if verdict == nil {
                let need = demandWatts(args.pod, declared: declared ? fit : nil, on: candidate)
                verdict = powerVerdict(site: candidate.siteIndex, need: need, state: state)
            }
            poolVerdicts[c] = verdict
            verdicts.append(verdict)
        }
        return verdicts
    }

    /// IT power the pod adds on a pool: its accelerator requests, else (for a declared workload, with its
    /// fit on the pool) the fewest accelerators of the pool that hold it.
    static func demandWatts(_ pod: PodRequest, declared fit: Fit?, on candidate: Candidate) -> Double {
        var count = pod.acceleratorCount
        if count == 0, let fit {
            count = fit.min
        }
        return PhysicalModel.runningPower(model: candidate.model, count: count)
    }

    /// Whether the site can carry `need` more watts of IT power now, beside what Sovereign runs and what
    /// Kubernetes bound there; if not, which limit binds and when the forecast says it clears.
    static func powerVerdict(site s: Int, need: Double, state: ExtenderSnapshot) -> Verdict? {
        let budget = state.budgets[s]
        let running = state.draw(site: s)
        guard running + need > budget.itLimit(at: 0) * (1 + 1e-9) else { return nil }
        let site = state.fleet.sites[s]
        let supplied = budget.supply[0] / budget.pue[0]
        let thermal = budget.cooling[0] < supplied
        let limit = Power.watts(budget.itLimit(at: 0))
        let wanted = Power.watts(running + need)
        let clears = (1..<max(1, budget.supply.count)).first { budget.itLimit(at: $0) >= running + need }
        let when: String
        if let t = clears {
            when =
                "clears at \(ISO8601.format(epochSeconds: state.grid.start + Double(t) * state.grid.step)) by the forecast"
        } else if thermal {
            when =
                "does not clear within the \(TimeSpan.seconds(Double(budget.supply.count) * state.grid.step)) forecast; "
                + "clears when the site reports a lower ambient temperature"
        } else {
            when =
                "does not clear within the \(TimeSpan.seconds(Double(budget.supply.count) * state.grid.step)) forecast"
        }
        let kind = thermal ? "thermal" : "power"
        let what = thermal ? "can reject the heat of \(limit) of IT load" : "can supply \(limit) of IT power"
        return .failed("sovereign \(kind): site \(site.name) \(what) and needs \(wanted) with this pod; \(when)")
    }

    // MARK: Prioritize

    /// Answers `POST <prefix>/prioritize` with a `HostPriorityList`: the planner's scorers, weighted,
    /// scaled to 0...10 over the pools of the request; nodes outside the fleet score 0.
    ///
    /// - Throws: ``ExtenderRequestError`` when the body is not an `ExtenderArgs`.
    /// - Complexity: O(body bytes + nodes + distinct pools × scorers).
    public func prioritize(_ body: [UInt8]) throws(ExtenderRequestError) -> [UInt8] {
        let args = try ExtenderArguments(body: body)
        let state = current
        let names = args.names
        // Each node's slot among the distinct pools of the request (`nil`: outside the fleet).
        var slots: [Int?] = []
        slots.reserveCapacity(names.count)
        var slot: [Int: Int] = [:]
        var pools: [Candidate] = []
        for placement in placements(args, state: state) {
            guard case .pool(let c)? = placement else {
                slots.append(nil)
                continue
            }
            if slot[c] == nil {
                slot[c] = pools.count
                pools.append(state.candidates[c])
            }
            slots.append(slot[c])
        }
        let workload: Workload
        switch Self.demand(of: args.pod, in: state) {
        case .workload(let w, _): workload = w
        case .none, .invalid:
            workload = .podConstraint(name: args.pod.qualifiedName, datasets: [], classification: nil)
        }
        let scores = Self.scores(workload, pools: pools, state: state, fill: options.fill)
        var out = JSONWriter(capacity: 16 + names.count * 40)
        out.raw("[")
        for (i, name) in names.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{\"Host\":")
            out.string(name)
            out.raw(",\"Score\":")
            out.integer(slots[i].map { scores[$0] } ?? 0)
            out.raw("}")
        }
        out.raw("]")
        return out.bytes
    }

    /// Each pool's score in 0...10: the planner's weighted scorers, and with a ``FillPolicy`` other than
    /// `ignore`, its fill term weighted as much as all of them together.
    ///
    /// - Complexity: O(pools × scorers).
    static func scores(_ workload: Workload, pools: [Candidate], state: ExtenderSnapshot, fill: FillPolicy) -> [Int] {
        let weights = state.policy.scorers.reduce(0) { $0 + $1.weight }
        guard !pools.isEmpty, weights > 0 else { return [Int](repeating: 0, count: pools.count) }
        let fitted = HardwareFitFilter().fitted(workload, pools, in: state.fleet)
        var total = [Double](repeating: 0, count: pools.count)
        for (scorer, weight) in state.policy.scorers {
            for (i, score) in scorer.scores(workload, candidates: fitted, context: state.context).enumerated() {
                total[i] += weight * (score.isFinite ? min(max(score, 0), 1) : 0)
            }
        }
        guard fill != .ignore else { return total.map { Int((10 * $0 / weights).rounded()) } }
        for (i, pool) in pools.enumerated() {
            total[i] +=
                weights
                * fill.score(fill: state.fill(pool: pool.poolIndex), headroom: state.headroom(site: pool.siteIndex))
        }
        return total.map { Int((10 * $0 / (2 * weights)).rounded()) }
    }
}
