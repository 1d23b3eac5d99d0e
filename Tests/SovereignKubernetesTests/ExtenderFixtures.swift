import Foundation
import SovereignKubernetes
import SovereignModel
import SovereignPlanner
import SovereignTesting

/// A fleet whose site names match the recorded kube-scheduler requests (`sovereign.dev/site: a` and `b`), plus
/// a site mapped by region and zone.
enum ExtenderFixtures {
    static let fleetYAML = Fixtures.kubernetesFleet

    static func fleet() throws -> Fleet { try Fixtures.load(fleetYAML) }

    /// A snapshot at nameplate grid capacity (every site `ok`) unless budgets are given.
    static func snapshot(
        _ fleet: Fleet,
        budgets: [SiteBudget]? = nil,
        running: [Double]? = nil
    ) -> ExtenderSnapshot {
        let grid = TimeGrid(
            start: Date(timeIntervalSince1970: 1_795_305_600),
            horizon: .hours(24),
            step: .hours(1)
        )
        let budgets =
            budgets
            ?? fleet.sites.map { site in
                budget(grid.count, supply: site.power.grid?.capacity.watts ?? 0, site: site)
            }
        return ExtenderSnapshot(
            fleet: fleet,
            workloads: Dictionary(uniqueKeysWithValues: fleet.workloads.map { ($0.name, $0) }),
            policy: .powerAware,
            grid: grid,
            budgets: budgets,
            running: running ?? fleet.sites.map { _ in 0 }
        )
    }

    /// A flat budget: `supply` watts every step (or per step), the site's design PUE and cooling.
    static func budget(
        _ steps: Int,
        supply: Double,
        perStep: [Double]? = nil,
        cooling: Double? = nil,
        site: Site
    )
        -> SiteBudget
    {
        let ambient = site.cooling.designAmbient
        return SiteBudget(
            supply: perStep.map(StepValues.init) ?? StepValues(repeating: supply, count: steps),
            pue: StepValues(repeating: site.cooling.pue.value(at: ambient), count: steps),
            cooling: StepValues(repeating: cooling ?? site.cooling.capacity(at: ambient).watts, count: steps),
            carbon: StepValues(repeating: 100, count: steps),
            solar: StepValues(repeating: 0, count: steps),
            gridCarbon: StepValues(repeating: 100, count: steps)
        )
    }

    /// An extender whose node directory holds `nodes` (name → labels), as the node watch would fill it.
    static func extender(_ snapshot: ExtenderSnapshot, nodes: [String: [String: String]] = [:]) -> Extender {
        let extender = Extender(snapshot: snapshot)
        extender.nodes.replace(with: nodes.map { (name: $0.key, labels: $0.value) })
        return extender
    }

    /// A recorded kube-scheduler request body (Examples/data/kubernetes).
    static func recorded(_ name: String) throws -> [UInt8] {
        let url = Fixtures.repositoryRoot.appendingPathComponent("Examples/data/kubernetes/\(name)")
        return Array(try Data(contentsOf: url))
    }

    static let fullFilter = "nodecache-false.raw.filter.pod-raw-false.json"
    static let cacheFilter = "nodecache-true.raw.filter.pod-raw-true.json"
    static let fullPrioritize = "nodecache-false.raw.prioritize.pod-raw-false.json"
    static let cachePrioritize = "nodecache-true.raw.prioritize.pod-raw-true.json"

    /// The recorded body with the pod's annotations and first container's resources replaced.
    static func withPod(
        _ body: [UInt8],
        annotations: [String: String] = [:],
        limits: [String: String] = [:]
    ) throws -> [UInt8] {
        var object = try JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
        var pod = object["Pod"] as! [String: Any]
        var metadata = pod["metadata"] as! [String: Any]
        var existing = metadata["annotations"] as? [String: String] ?? [:]
        existing.merge(annotations) { $1 }
        metadata["annotations"] = existing
        pod["metadata"] = metadata
        if !limits.isEmpty {
            var spec = pod["spec"] as! [String: Any]
            var containers = spec["containers"] as! [[String: Any]]
            containers[0]["resources"] = ["limits": limits, "requests": limits]
            spec["containers"] = containers
            pod["spec"] = spec
        }
        object["Pod"] = pod
        return Array(try JSONSerialization.data(withJSONObject: object, options: .sortedKeys))
    }

    /// The labels of the recorded nodes, as a node watch would hold them.
    static func recordedNodeLabels() throws -> [String: [String: String]] {
        let object = try JSONSerialization.jsonObject(with: Data(try recorded(fullFilter))) as! [String: Any]
        let items = (object["Nodes"] as! [String: Any])["items"] as! [[String: Any]]
        var out: [String: [String: String]] = [:]
        for item in items {
            let metadata = item["metadata"] as! [String: Any]
            out[metadata["name"] as! String] = metadata["labels"] as? [String: String] ?? [:]
        }
        return out
    }

    /// A decoded `ExtenderFilterResult`.
    struct FilterResult {
        var nodes: [[String: Any]]?
        var nodeNames: [String]?
        var failed: [String: String]
        var unresolvable: [String: String]
        var error: String

        init(_ bytes: [UInt8]) throws {
            let object = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
            nodes = (object["Nodes"] as? [String: Any]).map { $0["items"] as! [[String: Any]] }
            nodeNames = object["NodeNames"] as? [String]
            failed = object["FailedNodes"] as? [String: String] ?? [:]
            unresolvable = object["FailedAndUnresolvableNodes"] as? [String: String] ?? [:]
            error = object["Error"] as? String ?? "missing"
        }
    }
}
