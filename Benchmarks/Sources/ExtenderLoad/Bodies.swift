import Foundation
import SovereignTesting

/// A cluster made from the Alibaba trace and the nodes kube-scheduler sends the extender for each pod.
struct Load {
    let replay: ClusterReplay
    /// Nodes sent per request.
    let sent: Int
    let sites: Int

    /// The cluster of `nodes` nodes; `sent` defaults to kube-scheduler's `numFeasibleNodesToFind` with the
    /// adaptive `percentageOfNodesToScore`.
    init(nodes: Int, sent: Int? = nil) throws {
        sites = max(4, nodes / 50)
        replay = try ClusterReplay.alibaba(nodeCount: nodes, sites: sites)
        self.sent = min(nodes, sent ?? (nodes < 100 ? nodes : max(100, nodes * max(5, 50 - nodes / 125) / 100)))
    }

    /// The nodes sent with the `i`th pod: consecutive windows round the cluster, as kube-scheduler's
    /// search resumes where the last one stopped.
    func window(_ i: Int) -> [ClusterReplay.Node] {
        let start = i * sent % replay.nodes.count
        return (0..<sent).map { replay.nodes[(start + $0) % replay.nodes.count] }
    }

    /// Writes the fleet, its NodeList (for a fake API server's node watch) and 50 request bodies per mode,
    /// `names-i.json` (`nodeCacheCapable`) and `full-i.json`.
    func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try replay.fleetYAML.write(
            to: directory.appendingPathComponent("fleet.yaml"),
            atomically: true,
            encoding: .utf8
        )
        let list =
            #"{"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":["#
            + replay.nodes.map(\.json).joined(separator: ",") + "]}"
        try list.write(to: directory.appendingPathComponent("nodes.json"), atomically: true, encoding: .utf8)
        for cache in [true, false] {
            for (i, pod) in replay.pods.prefix(50).enumerated() {
                let body = replay.arguments(pod, nodes: window(i), nodeCacheCapable: cache)
                try Data(body).write(to: directory.appendingPathComponent("\(cache ? "names" : "full")-\(i).json"))
            }
        }
        print("\(replay.nodes.count) nodes over \(sites) sites, \(sent) per request, 50 bodies per mode")
    }
}
