public import SovereignModel

/// One accelerator pool a workload might run on. A class: the planner passes the same candidates to every
/// workload's filters and scorers, and copying a `Site` per look would cost more than the look.
public final class Candidate: Sendable {
    /// Index of the site in the fleet.
    public let siteIndex: Int
    /// Index of the pool among all the fleet's pools.
    public let poolIndex: Int
    public let site: Site
    public let pool: AcceleratorPool
    public let model: AcceleratorModel

    /// Where the candidate sits in the fleet, by index and by name.
    public let reference: PoolReference

    /// Makes a candidate.
    public init(siteIndex: Int, poolIndex: Int, site: Site, pool: AcceleratorPool, model: AcceleratorModel) {
        self.siteIndex = siteIndex
        self.poolIndex = poolIndex
        self.site = site
        self.pool = pool
        self.model = model
        // Pool names are unique within a site (the loader checks that): found once, then referred to.
        let inSite = site.pools.firstIndex { $0.name == pool.name } ?? 0
        reference = PoolReference(site: siteIndex, pool: inSite, siteName: site.name, poolName: pool.name)
    }
}

/// Why a filter turned a candidate down; equal reasons are counted together in explanations.
///
/// The words are made only when read: a scheduling cycle refuses hundreds of candidates and reads why only
/// when none is left. Copies of one refusal (a dataset's residency refuses every pool outside it) share their
/// words, so an explanation counts them by ``identity`` and words each once.
public struct Rejection: Sendable, Hashable {
    /// The filter that rejected.
    public let filter: String
    /// What a person reads, e.g. `outside residency KE (dataset ke-health-records)`.
    public var reason: String { words.make() }
    private let words: Words

    /// The words of one refusal, shared by its copies.
    private final class Words: Sendable {
        let make: @Sendable () -> String

        init(_ make: @escaping @Sendable () -> String) {
            self.make = make
        }
    }

    init(filter: String, reason: @autoclosure @escaping @Sendable () -> String) {
        self.filter = filter
        words = Words(reason)
    }

    /// The same for every copy of this refusal (copies have equal reasons; other refusals may too).
    var identity: ObjectIdentifier { ObjectIdentifier(words) }

    public static func == (a: Rejection, b: Rejection) -> Bool { a.filter == b.filter && a.reason == b.reason }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(filter)
        hasher.combine(reason)
    }
}

/// "May this workload run on this pool?" One small rule, as in the kube-scheduler framework: a pre-filter
/// builds what the rule needs of the workload once, and the filter asks it of each candidate.
public protocol Filter: Sendable {
    /// What the pre-filter computes once per workload.
    associatedtype State: Sendable
    /// The filter's name.
    var name: String { get }
    /// The per-workload part of the rule, computed once before any candidate is asked.
    func preFilter(_ workload: Workload, in fleet: Fleet) -> State
    /// `nil` when the candidate passes, or why it does not.
    func filter(_ state: State, _ candidate: Candidate) -> Rejection?
    /// The jurisdictions outside which this filter refuses every candidate, or `nil` when it has no such
    /// bound (the default). The planner then asks the filters only of candidates in those jurisdictions.
    func jurisdictions(_ state: State) -> Set<String>?
    /// Whether the filter passes every candidate inside ``jurisdictions(_:)``, refusing only for the country
    /// (residency); then the planner does not ask it of the candidates inside the bound. `false` by default.
    func passesInside(_ state: State) -> Bool
    /// What of the workload the state holds, as a value: two workloads whose states have equal shapes get the
    /// same outcome from every candidate, so a plan asks the candidates once per shape, as kube-scheduler's
    /// equivalence cache did per class of pods. `nil` (the default): outcomes are not shared.
    func shape(_ state: State) -> (any Hashable & Sendable)?
    /// The pre-filter run for `workload`, its state bound to the filter (a default is provided).
    func prepared(for workload: Workload, in fleet: Fleet) -> PreparedFilter
}

/// A filter that also sizes what passes (hardware fit): the fit is computed once per candidate and
/// travels with it to the scorers and the walk.
public protocol SizingFilter: Filter {
    /// How the workload would use the candidate, or `nil` when it does not fit.
    func fit(_ state: State, _ candidate: Candidate) -> Fit?
    /// Why the candidate does not fit (asked only when ``fit(_:_:)`` is `nil`).
    func rejection(_ state: State, _ candidate: Candidate) -> Rejection
}

/// What a prepared filter says of one candidate.
public enum FilterOutcome: Sendable {
    /// The candidate passes.
    case passes
    /// The candidate passes, and this is how the workload would use it.
    case fits(Fit)
    /// The candidate is refused.
    case rejected(Rejection)
}

/// A filter with its per-workload state built: what a scheduling cycle asks of every candidate.
public struct PreparedFilter: Sendable {
    /// The filter's name.
    public let name: String
    /// The jurisdictions outside which the filter refuses every candidate (`nil`: no such bound).
    public var jurisdictions: Set<String>? = nil
    /// The state's shape (``Filter/shape(_:)``), `nil` when outcomes are not shared.
    public var shape: (any Hashable & Sendable)? = nil
    /// Whether the filter passes every candidate inside ``jurisdictions`` (``Filter/passesInside(_:)``).
    public var passesInside = false
    /// What the filter says of a candidate.
    public let check: @Sendable (Candidate) -> FilterOutcome
}

extension Filter {
    /// No bound: the planner asks the filter of every candidate.
    public func jurisdictions(_ state: State) -> Set<String>? { nil }

    /// No shape: every workload's candidates are asked afresh.
    public func shape(_ state: State) -> (any Hashable & Sendable)? { nil }

    /// Asked of every candidate, inside the bound too.
    public func passesInside(_ state: State) -> Bool { false }

    public func prepared(for workload: Workload, in fleet: Fleet) -> PreparedFilter {
        let state = preFilter(workload, in: fleet)
        return PreparedFilter(
            name: name,
            jurisdictions: jurisdictions(state),
            shape: shape(state),
            passesInside: passesInside(state)
        ) { self.filter(state, $0).map(FilterOutcome.rejected) ?? .passes }
    }
}

extension SizingFilter {
    public func filter(_ state: State, _ candidate: Candidate) -> Rejection? {
        fit(state, candidate) == nil ? rejection(state, candidate) : nil
    }

    public func prepared(for workload: Workload, in fleet: Fleet) -> PreparedFilter {
        let state = preFilter(workload, in: fleet)
        return PreparedFilter(
            name: name,
            jurisdictions: jurisdictions(state),
            shape: shape(state),
            passesInside: passesInside(state)
        ) { candidate in
            self.fit(state, candidate).map(FilterOutcome.fits) ?? .rejected(self.rejection(state, candidate))
        }
    }
}

extension [PreparedFilter] {
    /// The jurisdictions outside which some filter refuses every candidate: the intersection of the filters'
    /// bounds, or `nil` when none has one.
    public var jurisdictions: Set<String>? {
        compactMap(\.jurisdictions).reduce(nil) { bound, next in bound.map { $0.intersection(next) } ?? next }
    }

    /// The filters that may refuse a candidate inside their bound: all but those that pass every candidate there
    /// (``PreparedFilter/passesInside``), which the candidates inside ``jurisdictions`` all are.
    public var insideBound: [PreparedFilter] { filter { !($0.passesInside && $0.jurisdictions != nil) } }

    /// Every filter's shape with the jurisdictions they bound candidates to, or `nil` when some filter has no
    /// shape: workloads with equal keys get the same outcomes from the same candidates.
    public var shapes: [AnyHashable]? {
        var key: [AnyHashable] = [AnyHashable(jurisdictions)]
        for k in indices {
            guard let shape = self[k].shape else { return nil }
            key.append(AnyHashable(shape))
        }
        return key
    }

    /// The first filter's refusal of `candidate`, or the fit a sizing filter found (`nil` without one).
    public func check(_ candidate: Candidate) -> FilterOutcome {
        var fit: Fit?
        // By index: iterating would copy each prepared filter (its name, bound and closure) per candidate.
        for k in indices {
            switch self[k].check(candidate) {
            case .passes: continue
            case .fits(let found): fit = found
            case .rejected(let rejection): return .rejected(rejection)
            }
        }
        return fit.map(FilterOutcome.fits) ?? .passes
    }
}

/// How a workload would use a pool that fits it: the precision (for inference) and the accelerator counts.
public struct Fit: Sendable, Hashable {
    /// The precision an inference workload runs at; `nil` for training.
    public let precision: Precision?
    /// The fewest accelerators that hold the workload (or, after sizing, serve its demand).
    public let min: Int
    /// The most it may use.
    public let max: Int

    /// Makes a fit.
    public init(precision: Precision?, min: Int, max: Int) {
        self.precision = precision
        self.min = min
        self.max = max
    }
}

/// A candidate with its fit for the workload at hand (`nil` when it does not fit), as scorers see it.
public struct FittedCandidate: Sendable {
    public let candidate: Candidate
    public let fit: Fit?

    /// Makes a fitted candidate.
    public init(candidate: Candidate, fit: Fit?) {
        self.candidate = candidate
        self.fit = fit
    }
}

/// Ranks the candidates that passed every filter; higher is better, in 0...1.
public protocol Scorer: Sendable {
    /// The scorer's name.
    var name: String { get }
    /// Scores each candidate for the workload (all at once, so a scorer can normalise across them).
    func scores(_ workload: Workload, candidates: [FittedCandidate], context: PlanningContext) -> [Double]
}

/// Resizes a ranked candidate after scoring (kube-scheduler's reserve point has no time; this one sets the
/// fewest accelerators the workload needs there), or rejects it.
protocol Sizer: Sendable {
    /// The plug-in's name.
    var name: String { get }
    /// The fit with its minimum raised as the plug-in requires, or why the candidate cannot serve.
    func size(_ workload: Workload, _ candidate: Candidate, fit: Fit) -> Sizing
}

/// What a sizer makes of a candidate's fit.
enum Sizing: Equatable {
    /// The candidate serves with this fit.
    case sized(Fit)
    /// The candidate cannot serve, and why.
    case refused(Rejection)
}

/// A limit the walk applies at every step to a candidate with free accelerators.
protocol StepLimit: Sendable {
    /// The plug-in's name.
    var name: String { get }
    /// What a step refused by this limit is short of, for explanations.
    var shortage: Shortage { get }
    /// The most accelerators drawing `wattsEach` IT watts that may run at site `site` at step `t`.
    func limit(site: Int, step t: Int, wattsEach: Double, state: PlanningState) -> Int
    /// At least ``limit(site:step:wattsEach:state:)`` at every step of block `b` of the state's profiles
    /// (``FallingProfiles/blockSize`` steps): what lets a walk pass over a block where nothing fits.
    func bound(site: Int, block b: Int, wattsEach: Double, state: PlanningState) -> Int
    /// At most ``limit(site:step:wattsEach:state:)`` at every step of block `b` of the state's profiles: what
    /// lets a walk take a whole block at the width it wants in one look.
    func least(site: Int, block b: Int, wattsEach: Double, state: PlanningState) -> Int
}

/// When deferrable work runs within its window (carbon shifting), decided once per walk.
protocol TimeShifting: Sendable {
    /// The plug-in's name.
    var name: String { get }
    /// The steps the walk runs in, or `nil` when this walk is not shifted (no deadline, no room, a move).
    func shift(_ walk: Walk, state: PlanningState) -> Shift?
}

/// Where and when a shifted walk runs: one ranked option, and runs of consecutive steps with the accelerators
/// at each, in time order (a job shifted over a day of 5-second steps holds a few dozen runs, not one entry a
/// step).
struct Shift: Equatable {
    /// Consecutive steps at one width.
    struct Run: Equatable {
        let steps: Range<Int>
        let width: Int
    }

    /// The ranked option (index into the walk's ranking).
    let rank: Int
    /// The runs, ascending and disjoint, none empty.
    let runs: [Run]

    /// A shift at one width throughout, in `steps` (ascending, disjoint).
    init(rank: Int, count: Int, steps: [Range<Int>]) {
        self.init(rank: rank, runs: steps.map { Run(steps: $0, width: count) })
    }

    /// A shift whose width may change from run to run.
    init(rank: Int, runs: [Run]) {
        precondition(
            runs.allSatisfy { !$0.steps.isEmpty }
                && zip(runs, runs.dropFirst()).allSatisfy { $0.steps.upperBound <= $1.steps.lowerBound },
            "Shift: runs ascending, disjoint and not empty"
        )
        self.rank = rank
        self.runs = runs
    }
}

/// What a step that cannot run is short of.
enum Shortage: Hashable {
    case power
    case capacity
}

/// Everything filters and scorers may read: the fleet, the grid and each site's budget.
public struct PlanningContext: Sendable {
    public let fleet: Fleet
    public let grid: TimeGrid
    /// Budgets by site index.
    public let budgets: [SiteBudget]
    /// Mean PUE over the horizon, by site index (computed once: scorers read it for every candidate).
    public let meanPUE: [Double]
    /// Mean supply carbon intensity over the horizon, g/kWh, by site index.
    public let meanCarbon: [Double]

    /// Makes a context, averaging each budget once.
    ///
    /// - Complexity: O(sites × steps).
    public init(fleet: Fleet, grid: TimeGrid, budgets: [SiteBudget]) {
        self.fleet = fleet
        self.grid = grid
        self.budgets = budgets
        meanPUE = budgets.map { mean($0.pue, 0..<$0.pue.count) }
        meanCarbon = budgets.map { mean($0.carbon, 0..<$0.carbon.count) }
    }
}

/// Mean of a series over `range` (the whole series when the range is empty), summed step by step in order
/// (a run of `k` steps adds its value `k` times, so the sum is the one a dense series gives).
func mean(_ values: StepValues, _ range: Range<Int>) -> Double {
    let r = range.isEmpty ? 0..<values.count : range
    guard !r.isEmpty else { return 0 }
    var sum = 0.0
    for run in values.runs(in: r) {
        for _ in run.steps { sum += run.value }
    }
    return sum / Double(r.count)
}
