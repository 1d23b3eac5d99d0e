public import SovereignModel
public import SovereignPlanner

/// Which countries count as domestic.
public enum Home: Sendable, Hashable {
    /// Each site's own country: a national reading (the default).
    case eachSitesCountry
    /// One jurisdiction for the whole fleet, as written (`EU`, `EAC`, `KE`), and the countries it stands for:
    /// a bloc reading, as the EU framework takes the EU as a whole.
    case jurisdiction(String, countries: Set<String>)

    /// The countries domestic to a site.
    func countries(for site: Site) -> Set<String> {
        switch self {
        case .eachSitesCountry: return [site.jurisdiction]
        case .jurisdiction(_, let countries): return countries
        }
    }

    /// How the home reads in a fact: `KE`, or `EU`.
    func label(for site: Site) -> String {
        switch self {
        case .eachSitesCountry: return site.jurisdiction
        case .jurisdiction(let name, _): return name
        }
    }

    /// How the home reads in a heading: `each site's own country`, or `EU`.
    public var description: String {
        switch self {
        case .eachSitesCountry: return "each site's own country"
        case .jurisdiction(let name, _): return name
        }
    }
}

/// Everything the assessment of one fleet found: the matrix (sites × layers), the fleet-wide row, the
/// framework's objectives and the most fragile layer.
public struct SovereigntyMatrix: Sendable {
    /// One row per site, in fleet order.
    public struct SiteRow: Sendable {
        /// The site's name.
        public let site: String
        /// The country it is in.
        public let jurisdiction: String
        /// Dense PFLOPS at the site, the weight it carries in fleet-wide shares.
        public let pflops: Double
        /// One entry per layer, in ``Layer`` order.
        public let layers: [LayerAssessment]
    }

    /// The most fragile layer and why.
    public struct Weakest: Sendable {
        /// The layer.
        public let layer: Layer
        /// Its fleet-wide level.
        public let level: SealLevel
        /// Its fleet-wide score.
        public let score: Double
        /// The facts that set its level, then what sets it apart from layers at the same level.
        public let why: [String]
    }

    /// What "domestic" meant.
    public let home: Home
    /// Site rows.
    public let sites: [SiteRow]
    /// The fleet-wide assessment of each layer, in ``Layer`` order.
    public let fleet: [LayerAssessment]
    /// The framework's eight objectives.
    public let objectives: [ObjectiveAssessment]
    /// The lowest fleet-wide level (lowest score among equals).
    public let weakest: Weakest
    /// Where the plan behind the per-site data and model layers came from (`power-aware plan`), or why there
    /// was none.
    public let placementBasis: String
}

/// Assesses a fleet's sovereignty layer by layer, for each site and for the fleet as a whole.
///
/// Facts come from the fleet alone: the accelerator catalog (designer, fabricator, export control), the
/// sites' operators, datasets (residency, keys), `SoftwareComponent` and `Model` documents, and a plan that
/// says where each workload runs. Whatever the specs leave unknown is counted as foreign, and said so.
public struct Assessor: Sendable {
    /// The fleet.
    public let fleet: Fleet
    /// What "domestic" means.
    public let home: Home
    /// Export-control classifications that replace the catalog's, by accelerator model id.
    public let exportControl: [String: ExportControl]
    /// Where workloads run: decides where data is processed and which models run at a site.
    public let plan: Plan?

    /// Makes an assessor.
    ///
    /// - Parameters:
    ///   - fleet: the fleet.
    ///   - home: what counts as domestic (each site's own country by default).
    ///   - exportControl: classifications overriding the catalog's, by accelerator id.
    ///   - plan: where workloads run; `nil` when the fleet has no Scenario (data processing and per-site
    ///     models are then not assessed, and the assessment says so).
    public init(
        fleet: Fleet,
        home: Home = .eachSitesCountry,
        exportControl: [String: ExportControl] = [:],
        plan: Plan?
    ) {
        self.fleet = fleet
        self.home = home
        self.exportControl = exportControl
        self.plan = plan
    }

    /// The export control that applies to an accelerator model: the override, else the catalog's.
    func control(of model: AcceleratorModel) -> ExportControl? {
        exportControl[model.id] ?? model.exportControl
    }

    /// Dense PFLOPS of a pool.
    func pflops(_ pool: AcceleratorPool) -> Double {
        Double(pool.count) * (fleet.catalog[pool.accelerator]?.tflops ?? 0) / 1000
    }

    /// Dense PFLOPS of a site.
    func pflops(_ site: Site) -> Double { site.pools.reduce(0) { $0 + pflops($1) } }

    /// Assesses every layer for every site and for the fleet.
    ///
    /// - Returns: the matrix, the objectives and the weakest layer.
    /// - Complexity: O(pools + datasets + workload segments + software × sites + workloads).
    public func assess() -> SovereigntyMatrix {
        let placement = Placement(fleet: fleet, plan: plan)
        let all = Array(fleet.sites.indices)
        var rows: [SovereigntyMatrix.SiteRow] = []
        for (s, site) in fleet.sites.enumerated() {
            let layers = [
                compute(sites: [s]),
                data(sites: [s], placement: placement, fleetWide: false),
                software(sites: [s], placement: placement, fleetWide: false),
                models(sites: [s], placement: placement, fleetWide: false),
                operations(sites: [s]),
            ]
            rows.append(.init(site: site.name, jurisdiction: site.jurisdiction, pflops: pflops(site), layers: layers))
        }
        let fleetLayers = [
            compute(sites: all),
            data(sites: all, placement: placement, fleetWide: true),
            software(sites: all, placement: placement, fleetWide: true),
            models(sites: all, placement: placement, fleetWide: true),
            operations(sites: all),
        ]
        return SovereigntyMatrix(
            home: home,
            sites: rows,
            fleet: fleetLayers,
            objectives: Objectives.map(fleetLayers),
            weakest: Self.weakest(fleetLayers),
            placementBasis: plan.map { "the \($0.policy) plan" }
                ?? "no plan (the specs declare no Scenario): data processing and per-site models are not assessed"
        )
    }

    /// The lowest level, then the lowest score, then the lower layer.
    static func weakest(_ layers: [LayerAssessment]) -> SovereigntyMatrix.Weakest {
        let rated = layers.compactMap { a -> (LayerAssessment, SealLevel, Double)? in
            guard let level = a.level else { return nil }
            return (a, level, a.score ?? 0)
        }
        guard let first = rated.min(by: { $0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2 }) else {
            return .init(layer: .compute, level: .noSovereignty, score: 0, why: ["no layer could be assessed"])
        }
        var why = first.0.reasons
        let tied = rated.filter { $0.1 == first.1 && $0.0.layer != first.0.layer }
        if !tied.isEmpty {
            let others = tied.map { "\($0.0.layer.rawValue) \(Format.number($0.2))" }.joined(separator: ", ")
            why.append(
                "lowest score among the layers at level \(first.1.rawValue): \(Format.number(first.2)) against \(others)"
            )
        }
        return .init(layer: first.0.layer, level: first.1, score: first.2, why: why)
    }
}

/// Where each workload runs according to the plan: accelerator-steps per workload per site.
struct Placement {
    /// `[workload index: [site index: accelerator-steps]]`.
    let bySite: [[Int: Double]]
    /// Workload indices placed at each site.
    let workloadsAt: [Int: [Int]]
    /// Site indices at which each dataset is processed, by dataset name.
    let processedAt: [String: Set<Int>]
    let planned: Bool

    init(fleet: Fleet, plan: Plan?) {
        guard let plan else {
            bySite = Array(repeating: [:], count: fleet.workloads.count)
            workloadsAt = [:]
            processedAt = [:]
            planned = false
            return
        }
        var result: [[Int: Double]] = Array(repeating: [:], count: fleet.workloads.count)
        var processedAt: [String: Set<Int>] = [:]
        for (w, entry) in plan.workloads.enumerated() where w < result.count {
            for segment in entry.segments {
                guard let s = fleet.siteIndex(named: segment.site) else { continue }
                result[w][s, default: 0] += Double(segment.accelerators * (segment.end - segment.start))
                // A federated participant processes only its own dataset there.
                for name in segment.participant.map({ [$0] }) ?? fleet.workloads[w].datasets {
                    processedAt[name, default: []].insert(s)
                }
            }
        }
        bySite = result
        var workloadsAt: [Int: [Int]] = [:]
        for (w, sites) in result.enumerated() {
            for s in sites.keys.sorted() { workloadsAt[s, default: []].append(w) }
        }
        self.workloadsAt = workloadsAt
        self.processedAt = processedAt
        planned = true
    }
}
