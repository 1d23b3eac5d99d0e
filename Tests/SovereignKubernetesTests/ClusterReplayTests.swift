import Foundation
import SovereignKubernetes
import SovereignModel
import SovereignTesting
import Testing

/// Every pod of the real Alibaba GPU cluster trace (8,152 pods, 1,213 nodes) through the extender as
/// kube-scheduler would send them, with residency checked independently of the extender's own code.
struct ClusterReplayTests {
    @Test func everyPodOfTheAlibabaTraceGetsAnAnswerAndNoneEscapesItsResidency() throws {
        let replay = try ClusterReplay.alibaba()
        #expect(replay.nodes.count == 1_213)
        #expect(replay.pods.count == 8_152)
        let fleet = try Fixtures.load(replay.fleetYAML, file: "replay.yaml")
        let snapshot = F.snapshot(fleet)
        let labels = Dictionary(uniqueKeysWithValues: replay.nodes.map { ($0.name, $0.labels) })
        let extender = F.extender(snapshot, nodes: labels)
        let byName = Dictionary(uniqueKeysWithValues: replay.nodes.map { ($0.name, $0) })
        // kube-scheduler's adaptive percentageOfNodesToScore at 1,213 nodes is 50 − 1213/125 ≈ 40 %: it
        // checks about 485 nodes per pod, starting where the last pod's search stopped.
        let window = 485
        var start = 0
        var passed = 0
        var residencyRefusals = 0
        var policyRefusals = 0
        var powerFailures = 0
        for (p, pod) in replay.pods.enumerated() {
            let nodes = (0..<window).map { replay.nodes[(start + $0) % replay.nodes.count] }
            start = (start + window) % replay.nodes.count
            // Every 200th pod in full mode (485 whole node objects, 1.2 MB), the others by name.
            let full = p % 200 == 0
            let reply = try extender.filter(replay.arguments(pod, nodes: nodes, nodeCacheCapable: !full))
            let result = try F.FilterResult(reply)
            #expect(result.error == "")
            let names =
                full
                ? try #require(result.nodes).map { ($0["metadata"] as! [String: Any])["name"] as! String }
                : try #require(result.nodeNames)
            // Every node asked about is answered exactly once.
            #expect(names.count + result.failed.count + result.unresolvable.count == window)
            // Independently of the extender: every passed node is inside every dataset's residency and, for
            // personal data, run by a domestic operator.
            let datasets = pod.annotations["sovereign.dev/datasets"]?.split(separator: ",").map(String.init) ?? []
            let personal =
                pod.annotations["sovereign.dev/classification"] == "personal" || datasets.contains("ke-patient-records")
            for name in names {
                let node = try #require(byName[name])
                for dataset in datasets where !replay.residency[dataset]!.contains(node.country) {
                    Issue.record("\(pod.name) passed \(name) in \(node.country), outside \(dataset)'s residency")
                }
                if personal, !node.domesticOperator {
                    Issue.record("\(pod.name) with personal data passed \(name), run by a foreign-owned operator")
                }
            }
            for reason in result.unresolvable.values {
                if reason.hasPrefix("sovereign residency: ") {
                    residencyRefusals += 1
                } else if reason.hasPrefix("sovereign domestic-operator: ") {
                    policyRefusals += 1
                } else {
                    Issue.record("unexpected unresolvable reason: \(reason)")
                }
            }
            for reason in result.failed.values {
                #expect(
                    reason.hasPrefix("sovereign power: site site-4 ")
                        || reason.hasPrefix("sovereign power: site site-9 ")
                )
                powerFailures += 1
            }
            passed += names.count
            // Scores for what passed, one per node, in 0...10.
            if !names.isEmpty, p % 10 == 0 {
                let survivors = names.map { byName[$0]! }
                let scores =
                    try JSONSerialization.jsonObject(
                        with: Data(
                            try extender.prioritize(replay.arguments(pod, nodes: survivors, nodeCacheCapable: true))
                        )
                    ) as! [[String: Any]]
                #expect(scores.map { $0["Host"] as! String } == names)
                #expect(scores.allSatisfy { (0...10).contains($0["Score"] as! Int) })
            }
        }
        // The replay exercised every kind of answer.
        #expect(passed > 1_000_000)
        #expect(residencyRefusals > 100_000)
        #expect(policyRefusals > 10_000)
        #expect(powerFailures > 0)
    }
}
