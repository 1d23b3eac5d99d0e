import Foundation
import SovereignKubernetes
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

    /// A site's power now, and what the plan expects of it over the horizon.
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
        /// Each pool's accelerators: the model, how many there are and how many are in use.
        public let accelerators: [PoolUse]
        /// Whether the supply comes from a power signal (else the grid's nameplate capacity).
        public let signalled: Bool
        /// For a site whose work runs through a site agent: `reporting`, or `silent since TIME` once the
        /// agent has been silent past twice its lease (the site is then planned with no power).
        public let agent: String?
        /// When the site's agent last reported (RFC 3339), once it has since this server started.
        public let agentReportedAt: String?
        /// When the site's latest power signal arrived (RFC 3339).
        public let powerReportedAt: String?
        /// Outside air temperature (°C): the latest signal's, else the site's design ambient.
        public let ambientCelsius: Double
        /// IT heat the site's cooling can reject at that ambient (W).
        public let coolingWatts: Double
        /// The power and thermal states the node labeller sets: `ok`, `constrained` or `shedding`.
        public let powerState: String
        public let thermalState: String
        /// The plan's supply and IT limit over the horizon, one point where either changes (the first at
        /// the start of the step holding now).
        public let forecast: [ForecastPoint]

        /// The same view without the agent's heartbeat, which alone does not make a `sites` event.
        var withoutHeartbeat: SiteView {
            SiteView(
                name: name,
                country: country,
                supplyWatts: supplyWatts,
                itLimitWatts: itLimitWatts,
                runningWatts: runningWatts,
                acceleratorsInUse: acceleratorsInUse,
                accelerators: accelerators,
                signalled: signalled,
                agent: agent,
                agentReportedAt: nil,
                powerReportedAt: powerReportedAt,
                ambientCelsius: ambientCelsius,
                coolingWatts: coolingWatts,
                powerState: powerState,
                thermalState: thermalState,
                forecast: forecast
            )
        }
    }

    /// A pool's accelerators in use.
    public struct PoolUse: Sendable, Codable, Hashable {
        public let pool: String
        /// The catalog's id and name of its accelerator model.
        public let model: String
        public let modelName: String
        public let count: Int
        public let inUse: Int
    }

    /// From `at` (RFC 3339) on: the power the site is expected to draw and the IT power that leaves.
    public struct ForecastPoint: Sendable, Codable, Hashable {
        public let at: String
        public let supplyWatts: Double
        public let itLimitWatts: Double
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
        /// When its last planned segment ends (RFC 3339; past the horizon when the plan runs beyond it).
        public let endsAt: String?
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
    /// Who runs the agent-run sites: the sites, the silent ones (since when) and when each last reported.
    typealias Agents = (sites: Set<String>, dark: [String: Double], reports: [String: Double])

    /// `reporting` or `silent since TIME` for a site run by an agent; nil for the server's own sites.
    static func agentState(of site: String, _ agents: Agents) -> String? {
        guard agents.sites.contains(site) else { return nil }
        return agents.dark[site].map { "silent since \(LedgerEntry.formatTime(Date(timeIntervalSince1970: $0)))" }
            ?? "reporting"
    }

    /// The view of one pass: every site's power and use, the plan's view of what it planned, and the
    /// stored state of every other active workload.
    init(
        at now: Date,
        fleet: Fleet,
        grid: TimeGrid,
        horizon: TimeSpan,
        budgets: [SiteBudget],
        signals: [String: PowerSignalRecord],
        agents: Agents,
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
                endsAt: nil,
                status: nil,
                explanation: record.detail
            )
        }
        self.init(
            at: LedgerEntry.formatTime(now),
            stepSeconds: grid.step,
            horizonSeconds: horizon.seconds,
            sites: fleet.sites.indices.map { s in
                Self.siteView(
                    fleet.sites[s],
                    fleet: fleet,
                    grid: grid,
                    budget: budgets[s],
                    signal: signals[fleet.sites[s].name],
                    agents: agents,
                    use: (use.running[s], use.inUse[s])
                )
            },
            workloads: views.values.sorted { $0.name < $1.name }
        )
    }

    static func siteView(
        _ site: Site,
        fleet: Fleet,
        grid: TimeGrid,
        budget: SiteBudget,
        signal: PowerSignalRecord?,
        agents: Agents,
        use: (running: Double, inUse: [String: Int])
    ) -> SiteView {
        let ambient = signal?.ambient ?? site.cooling.designAmbient.baseValue
        let nameplate = SiteCondition.nameplate(of: site, catalog: fleet.catalog)
        let states = SiteCondition.of(budget: budget, running: use.running, nameplate: nameplate)
        return SiteView(
            name: site.name,
            country: site.jurisdiction,
            supplyWatts: budget.supply[0],
            itLimitWatts: budget.itLimit(at: 0),
            runningWatts: use.running,
            acceleratorsInUse: use.inUse,
            accelerators: site.pools.map { pool in
                PoolUse(
                    pool: pool.name,
                    model: pool.accelerator,
                    modelName: fleet.catalog[pool.accelerator]?.displayName ?? pool.accelerator,
                    count: pool.count,
                    inUse: use.inUse[pool.name] ?? 0
                )
            },
            signalled: signal != nil,
            agent: Self.agentState(of: site.name, agents),
            agentReportedAt: agents.reports[site.name].map(Self.time),
            powerReportedAt: signal.map { Self.time($0.at) },
            ambientCelsius: ambient,
            coolingWatts: budget.cooling.first ?? 0,
            powerState: states.power.rawValue,
            thermalState: states.thermal.rawValue,
            forecast: forecast(budget, grid: grid)
        )
    }

    /// The budget's supply and IT limit, one point per step where either changes.
    ///
    /// - Complexity: O(steps).
    static func forecast(_ budget: SiteBudget, grid: TimeGrid) -> [ForecastPoint] {
        var points: [ForecastPoint] = []
        for t in budget.supply.indices {
            let supply = budget.supply[t]
            let limit = budget.itLimit(at: t)
            if let last = points.last, last.supplyWatts == supply, last.itLimitWatts == limit { continue }
            points.append(
                ForecastPoint(at: time(grid.start + Double(t) * grid.step), supplyWatts: supply, itLimitWatts: limit)
            )
        }
        return points
    }

    static func time(_ seconds: Double) -> String { LedgerEntry.formatTime(Date(timeIntervalSince1970: seconds)) }
}
