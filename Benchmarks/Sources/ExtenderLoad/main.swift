import Foundation
import SovereignTesting

// Writes what scripts/extender-http.sh needs to load `sovereign serve --extender-listen` over HTTP: the
// fleet of a cluster made from the Alibaba trace, its NodeList (for a fake API server's node watch) and
// kube-scheduler request bodies in both modes.
//   swift run -c release ExtenderLoad DIR NODES
let arguments = CommandLine.arguments
guard arguments.count == 3, let nodes = Int(arguments[2]), nodes > 0 else {
    FileHandle.standardError.write(Data("usage: ExtenderLoad DIR NODES\n".utf8))
    exit(2)
}
let directory = URL(fileURLWithPath: arguments[1], isDirectory: true)
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let replay = try ClusterReplay.alibaba(nodeCount: nodes, sites: max(4, nodes / 50))
try replay.fleetYAML.write(to: directory.appendingPathComponent("fleet.yaml"), atomically: true, encoding: .utf8)
let list = #"{"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":["#
    + replay.nodes.map(\.json).joined(separator: ",") + "]}"
try list.write(to: directory.appendingPathComponent("nodes.json"), atomically: true, encoding: .utf8)
// kube-scheduler's numFeasibleNodesToFind with the adaptive percentage.
let sent = nodes < 100 ? nodes : max(100, nodes * max(5, 50 - nodes / 125) / 100)
for cache in [true, false] {
    var start = 0
    for (i, pod) in replay.pods.prefix(50).enumerated() {
        let window = (0..<sent).map { replay.nodes[(start + $0) % replay.nodes.count] }
        start = (start + sent) % replay.nodes.count
        let body = replay.arguments(pod, nodes: window, nodeCacheCapable: cache)
        try Data(body).write(to: directory.appendingPathComponent("\(cache ? "names" : "full")-\(i).json"))
    }
}
print("\(replay.nodes.count) nodes over \(max(4, nodes / 50)) sites, \(sent) per request, 50 bodies per mode")
