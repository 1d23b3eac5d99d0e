public import ArgumentParser
import Foundation
import SovereignBase
import SovereignKubernetes
import SovereignModel
import SovereignPlanner

/// `sovereign k8s`: what Sovereign needs from a Kubernetes cluster.
public struct KubernetesCommand: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "k8s",
        abstract: "Kubernetes helpers: the node labels Sovereign reads and keeps.",
        subcommands: [KubernetesLabelsCommand.self]
    )

    public init() {}
}

/// `sovereign k8s labels`: the labels each node of each pool needs, for operators who label by hand.
public struct KubernetesLabelsCommand: ParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "Print the labels each pool's nodes need (site, pool, and the power and thermal state).",
        discussion: """
            sovereign.dev/site and sovereign.dev/pool place a node in the fleet (a site's only pool needs no pool \
            label; a site with kubernetes: {region, zones} and pools with kubernetes: {zone} need neither). \
            sovereign.dev/power-state and sovereign.dev/thermal-state are what `sovereign serve --kubernetes` \
            keeps current; here they are computed from the spec's traces at --at (default: the scenario's start).
            """
    )

    @Argument(help: "Spec files or directories.")
    public var paths: [String]

    @Option(help: "The time to compute power and thermal states at (ISO 8601 UTC; default: the scenario's start).")
    public var at: String?

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    public init() {}

    /// One pool's nodes and their labels.
    struct PoolLabels: Encodable {
        let site: String
        let pool: String
        let accelerator: String
        let accelerators: Int
        /// Nodes in the pool, when the spec says how many accelerators a node holds.
        let nodes: Int?
        let labels: [String: String]
        /// Labels that place the node without the site and pool labels, when the spec maps them.
        let topology: [String: String]?
        /// Why the power and thermal states are what they are.
        let conditions: String
    }

    public func run() throws {
        let fleet = try loadFleetOrExit(paths)
        let pools = try labels(fleet)
        if format == .json {
            print(try jsonText(pools))
            return
        }
        print(Self.render(pools, at: try start(fleet)))
    }

    func start(_ fleet: Fleet) throws -> Date {
        guard let at else {
            return fleet.scenario.map { Date(timeIntervalSince1970: $0.grid.start) } ?? Date(timeIntervalSince1970: 0)
        }
        guard let seconds = ISO8601.parseEpochSeconds(ArraySlice(at.utf8)) else {
            printError("--at: expected a time in ISO 8601 UTC like \"2026-03-02T06:00:00Z\", found \"\(at)\"")
            throw ExitCode.validationFailure
        }
        return Date(timeIntervalSince1970: seconds)
    }

    func labels(_ fleet: Fleet) throws -> [PoolLabels] {
        let snapshot = try snapshot(fleet)
        return snapshot.candidates.map { c in
            let site = c.site
            var labels = snapshot.labels(forSite: c.siteIndex)
            labels[KubernetesLabels.site] = site.name
            if site.pools.count > 1 || c.pool.kubernetesZone == nil { labels[KubernetesLabels.pool] = c.pool.name }
            var topology: [String: String]?
            if let mapping = site.kubernetes, site.pools.count == 1 || c.pool.kubernetesZone != nil {
                topology = [KubernetesLabels.region: mapping.region]
                if let zone = c.pool.kubernetesZone { topology?[KubernetesLabels.zone] = zone }
            }
            let s = c.siteIndex
            let budget = snapshot.budgets[s]
            let supplied = Power.watts(budget.supply[0] / budget.pue[0])
            let conditions =
                "power \(snapshot.power[s].rawValue): \(supplied) of IT power now, "
                + "\(Power.watts(snapshot.nameplate[s])) to run every accelerator; thermal \(snapshot.thermal[s].rawValue): "
                + "cooling for \(Power.watts(budget.cooling[0]))"
            return PoolLabels(
                site: site.name,
                pool: c.pool.name,
                accelerator: c.pool.accelerator,
                accelerators: c.pool.count,
                nodes: c.pool.perNode.map { c.pool.count / $0 },
                labels: labels,
                topology: topology,
                conditions: conditions
            )
        }
    }

    /// Site budgets from the spec's traces from `--at` to the scenario's end (nameplate and design
    /// conditions for a fleet without a scenario).
    func snapshot(_ fleet: Fleet) throws -> ExtenderSnapshot {
        let from = try start(fleet)
        let scenario = fleet.scenario?.grid ?? TimeGrid(start: from, horizon: .hours(1), step: .hours(1))
        let index = scenario.step(at: from, rounding: .down)
        guard index >= 0, index < scenario.count else {
            printError(
                "--at: expected a time within the scenario (\(ISO8601.format(epochSeconds: scenario.start)) to \(ISO8601.format(epochSeconds: scenario.end))), found \"\(at ?? "")\""
            )
            throw ExitCode.validationFailure
        }
        let steps = scenario.count - index
        let grid = TimeGrid(
            start: scenario.time(at: index),
            horizon: .seconds(Double(steps) * scenario.step),
            step: .seconds(scenario.step)
        )
        let budgets = fleet.sites.map { site -> SiteBudget in
            let full = SiteBudget(site: site, grid: scenario)
            func tail(_ values: StepValues) -> StepValues { StepValues(runs: values.runs(in: index..<values.count)) }
            return SiteBudget(
                supply: tail(full.supply),
                pue: tail(full.pue),
                cooling: tail(full.cooling),
                carbon: tail(full.carbon),
                solar: tail(full.solar),
                gridCarbon: tail(full.gridCarbon)
            )
        }
        return ExtenderSnapshot(
            fleet: fleet,
            workloads: Dictionary(fleet.workloads.map { ($0.name, $0) }) { first, _ in first },
            policy: .powerAware,
            grid: grid,
            budgets: budgets,
            running: fleet.sites.map { _ in 0 }
        )
    }

    static func render(_ pools: [PoolLabels], at: Date) -> String {
        var lines = [
            "Node labels for \(pools.count) pool\(pools.count == 1 ? "" : "s") "
                + "(power and thermal state at \(ISO8601.format(epochSeconds: at.timeIntervalSince1970)), from the spec's traces):"
        ]
        for p in pools {
            lines.append("")
            let nodes = p.nodes.map { ", \($0) node\($0 == 1 ? "" : "s")" } ?? ""
            lines.append("\(p.site)/\(p.pool): \(p.accelerators) × \(p.accelerator)\(nodes)")
            let pairs = p.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append("  kubectl label node NODE \(pairs) --overwrite")
            if let topology = p.topology {
                let match = topology.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                lines.append("  (nodes with \(match) need no site or pool label)")
            }
            lines.append("  \(p.conditions)")
        }
        return lines.joined(separator: "\n")
    }
}
