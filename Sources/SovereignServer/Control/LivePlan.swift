import Foundation
import SovereignLedger
import SovereignModel
import SovereignPlanner

/// What the planner decided at the last reconcile, for `GET /v1/plan`.
public struct LivePlan: Sendable, Codable {
    /// When it was made (RFC 3339).
    public let at: String
    /// The planning grid's step and horizon, seconds.
    public let stepSeconds: Double
    public let horizonSeconds: Double
    /// Per site: what it may draw and what runs there.
    public let sites: [SiteView]
    /// Per managed workload that is not finished.
    public let workloads: [WorkloadView]

    /// A site's power now.
    public struct SiteView: Sendable, Codable, Hashable {
        public let name: String
        public let country: String
        /// Power the site can draw now (W), and the IT power that leaves after PUE and cooling.
        public let supplyWatts: Double
        public let itLimitWatts: Double
        /// IT power of the attempts running there now (W).
        public let runningWatts: Double
        /// Accelerators in use, by pool.
        public let acceleratorsInUse: [String: Int]
        /// Whether the supply comes from a power signal (else the grid's nameplate capacity).
        public let signalled: Bool
        /// For a site whose work runs through a site agent: `reporting`, or `silent since TIME` once the
        /// agent has been silent past twice its lease (the site is then planned with no power).
        public let agent: String?
    }

    /// A workload's place in the plan.
    public struct WorkloadView: Sendable, Codable {
        public let name: String
        public let state: String
        /// Where it runs now or will start, and when (RFC 3339), if the plan places it.
        public let site: String?
        public let pool: String?
        public let accelerators: Int?
        public let startsAt: String?
        /// The planner's status and its explanation (why it waits, where it was refused).
        public let status: String?
        public let explanation: String?
    }
}

/// What the open attempts use at each site, by site index.
struct SiteUse: Sendable {
    /// Accelerators in use, by pool.
    var inUse: [[String: Int]]
    /// IT power running, W.
    var running: [Double]

    /// Sums the open attempts by site.
    init(fleet: Fleet, attempts: [AttemptRecord]) {
        inUse = [[String: Int]](repeating: [:], count: fleet.sites.count)
        running = [Double](repeating: 0, count: fleet.sites.count)
        for attempt in attempts {
            guard let s = fleet.siteIndex(named: attempt.site) else { continue }
            inUse[s][attempt.pool, default: 0] += attempt.accelerators
            running[s] += Reconcile.power(of: attempt, in: fleet)
        }
    }
}

extension LivePlan {
    /// `reporting` or `silent since TIME` for a site run by an agent; nil for the server's own sites.
    static func agentState(of site: String, _ agents: (sites: Set<String>, dark: [String: Double])) -> String? {
        guard agents.sites.contains(site) else { return nil }
        return agents.dark[site].map { "silent since \(LedgerEntry.formatTime(Date(timeIntervalSince1970: $0)))" }
            ?? "reporting"
    }

    /// The view of one pass: every site's power and use, the plan's view of what it planned, and the
    /// stored state of every other active workload.
    init(
        at now: Date,
        fleet: Fleet,
        grid: (step: TimeSpan, horizon: TimeSpan),
        budgets: [SiteBudget],
        signalled: Set<String>,
        agents: (sites: Set<String>, dark: [String: Double]),
        use: SiteUse,
        planned: [String: WorkloadView],
        workloads: [WorkloadRecord]
    ) {
        var views = planned
        for record in workloads where views[record.name] == nil {
            views[record.name] = WorkloadView(
                name: record.name,
                state: record.state.rawValue,
                site: record.site,
                pool: record.pool,
                accelerators: record.accelerators,
                startsAt: nil,
                status: nil,
                explanation: record.detail
            )
        }
        self.init(
            at: LedgerEntry.formatTime(now),
            stepSeconds: grid.step.seconds,
            horizonSeconds: grid.horizon.seconds,
            sites: fleet.sites.enumerated().map { s, site in
                SiteView(
                    name: site.name,
                    country: site.jurisdiction,
                    supplyWatts: budgets[s].supply[0],
                    itLimitWatts: budgets[s].itLimit(at: 0),
                    runningWatts: use.running[s],
                    acceleratorsInUse: use.inUse[s],
                    signalled: signalled.contains(site.name),
                    agent: Self.agentState(of: site.name, agents)
                )
            },
            workloads: views.values.sorted { $0.name < $1.name }
        )
    }
}
