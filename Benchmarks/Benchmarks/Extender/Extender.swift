import Benchmark
import Foundation
import SovereignKubernetes
import SovereignModel
import SovereignPlanner
import SovereignTesting

// kube-scheduler's extender calls, one request per iteration, on clusters of 100, 1,000 and 5,000 nodes
// made from the real Alibaba GPU cluster trace (Examples/data/cluster), in both modes. Each request carries
// the nodes kube-scheduler would send: numFeasibleNodesToFind with the adaptive percentageOfNodesToScore
// (all of 100; 42 % of 1,000 = 420; 10 % of 5,000 = 500). Pods rotate through the trace's 8,152, with their
// seeded sovereign.dev annotations. Latency percentiles are per request (parse, decide, encode).

let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]

/// kube-scheduler's `numFeasibleNodesToFind` with the default adaptive percentage.
func nodesSent(_ total: Int) -> Int {
    guard total >= 100 else { return total }
    let percentage = max(5, 50 - total / 125)
    return max(100, total * percentage / 100)
}

/// A cluster, its extender and the request bodies, built in setup.
final class Prepared: @unchecked Sendable {
    var extender: Extender?
    var filters: [[UInt8]] = []
    var prioritizes: [[UInt8]] = []
}

func register(nodes: Int, nodeCacheCapable: Bool) {
    let prepared = Prepared()
    let mode = nodeCacheCapable ? "nodeCacheCapable" : "full nodes"
    let setup: @Sendable () async throws -> Void = {
        if prepared.extender != nil { return }
        let replay = try ClusterReplay.alibaba(nodeCount: nodes, sites: max(4, nodes / 50))
        let fleet = try FleetLoader().load(sources: [(file: "replay.yaml", text: replay.fleetYAML)])
        let grid = TimeGrid(start: Date(timeIntervalSince1970: 1_688_169_600), horizon: .hours(24), step: .hours(1))
        let snapshot = ExtenderSnapshot(
            fleet: fleet,
            workloads: [:],
            policy: .powerAware,
            grid: grid,
            budgets: fleet.sites.map { SiteBudget(site: $0, grid: grid) },
            running: fleet.sites.map { _ in 0 }
        )
        let extender = Extender(snapshot: snapshot)
        extender.nodes.replace(with: replay.nodes.map { (name: $0.name, labels: $0.labels) })
        let sent = nodesSent(nodes)
        var start = 0
        for pod in replay.pods.prefix(nodeCacheCapable ? 2_000 : 200) {
            let window = (0..<sent).map { replay.nodes[(start + $0) % replay.nodes.count] }
            start = (start + sent) % replay.nodes.count
            prepared.filters.append(replay.arguments(pod, nodes: window, nodeCacheCapable: nodeCacheCapable))
            // kube-scheduler sends prioritize only the nodes that passed filter.
            let reply = try extender.filter(prepared.filters.last!)
            let object = try JSONSerialization.jsonObject(with: Data(reply)) as! [String: Any]
            let passed =
                (object["NodeNames"] as? [String])
                ?? ((object["Nodes"] as? [String: Any])?["items"] as? [[String: Any]] ?? []).map {
                    ($0["metadata"] as! [String: Any])["name"] as! String
                }
            let survivors = Set(passed)
            prepared.prioritizes.append(
                replay.arguments(pod, nodes: window.filter { survivors.contains($0.name) }, nodeCacheCapable: nodeCacheCapable)
            )
        }
        prepared.extender = extender
    }
    for verb in ["filter", "prioritize"] {
        Benchmark(
            "extender \(verb) \(nodes) nodes (\(nodesSent(nodes)) sent) \(mode)",
            configuration: .init(
                metrics: metrics,
                warmupIterations: 20,
                scalingFactor: .one,
                maxDuration: .seconds(20),
                maxIterations: nodeCacheCapable ? 20_000 : 400
            ),
            closure: { benchmark in
                guard let extender = prepared.extender else { return }
                let bodies = verb == "filter" ? prepared.filters : prepared.prioritizes
                var i = 0
                for _ in benchmark.scaledIterations {
                    let body = bodies[i % bodies.count]
                    i += 1
                    blackHole(verb == "filter" ? try extender.filter(body) : try extender.prioritize(body))
                }
            },
            setup: setup
        )
    }
}

let benchmarks: @Sendable () -> Void = {
    for nodes in [100, 1_000, 5_000] {
        register(nodes: nodes, nodeCacheCapable: true)
        register(nodes: nodes, nodeCacheCapable: false)
    }
}
