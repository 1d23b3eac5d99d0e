import Foundation
import SovereignKubernetes
import SovereignModel
import SovereignTesting
import Testing

/// The Alibaba trace's GPU pods bound one by one, as kube-scheduler would bind them with only Sovereign's
/// scores to choose by, under each fill policy (issue 17, point 3): how the pods spread over pools.
struct FillPolicyReplayTests {
    /// Pods per pool after binding, by candidate index, and the Kenyan-resident pods' share of their top pool.
    struct Distribution {
        var pods: [Int: Int] = [:]
        var kenyan: [Int: Int] = [:]

        var topShare: Double { share(pods) }
        var kenyanTopShare: Double { share(kenyan) }

        private func share(_ counts: [Int: Int]) -> Double {
            let total = counts.values.reduce(0, +)
            return total == 0 ? 0 : Double(counts.values.max() ?? 0) / Double(total)
        }
    }

    /// Binds the first `count` GPU pods of the trace: each is filtered and scored by the extender over a
    /// window of nodes with free GPUs (kube-scheduler's own resource fit runs first), bound to the best
    /// scored node (the first among equals), and reported to the extender as the pod watch would.
    static func replay(_ policy: FillPolicy, count: Int) throws -> Distribution {
        let replay = try ClusterReplay.alibaba()
        let fleet = try Fixtures.load(replay.fleetYAML, file: "replay.yaml")
        let extender = Extender(snapshot: F.snapshot(fleet), options: ExtenderOptions(fill: policy))
        extender.nodes.replace(with: replay.nodes.map { (name: $0.name, labels: $0.labels) })
        let byName = Dictionary(uniqueKeysWithValues: replay.nodes.map { ($0.name, $0) })
        var free = Dictionary(uniqueKeysWithValues: replay.nodes.map { ($0.name, $0.gpus) })
        var bound: [BoundPod] = []
        var distribution = Distribution()
        var start = 0
        for pod in replay.pods where pod.gpus > 0 {
            guard bound.count < count else { break }
            let window = (0..<485).map { replay.nodes[(start + $0) % replay.nodes.count] }
            start = (start + 485) % replay.nodes.count
            let fitting = window.filter { (free[$0.name] ?? 0) >= pod.gpus }
            let passed = try #require(
                try F.FilterResult(extender.filter(replay.arguments(pod, nodes: fitting, nodeCacheCapable: true)))
                    .nodeNames
            )
            guard !passed.isEmpty else { continue }
            let survivors = passed.compactMap { byName[$0] }
            let scores =
                try JSONSerialization.jsonObject(
                    with: Data(try extender.prioritize(replay.arguments(pod, nodes: survivors, nodeCacheCapable: true)))
                ) as? [[String: Any]] ?? []
            // kube-scheduler picks among equal scores at random; the replay takes the first, to stay deterministic.
            let top = scores.compactMap { $0["Score"] as? Int }.max() ?? 0
            let node = try #require(scores.first { $0["Score"] as? Int == top }?["Host"] as? String)
            free[node, default: 0] -= pod.gpus
            bound.append(
                BoundPod(namespace: "trace", name: pod.name, nodeName: node, accelerators: ["nvidia.com/gpu": pod.gpus])
            )
            extender.updateBoundPods(bound)
            guard case .pool(let c)? = extender.nodes.placements(of: [node]).first else { continue }
            distribution.pods[c, default: 0] += 1
            if pod.annotations["sovereign.dev/datasets"] == "ke-patient-records" {
                distribution.kenyan[c, default: 0] += 1
            }
        }
        return distribution
    }

    @Test func spreadSpreadsAndPackPacks() throws {
        let count = 1_200
        var results: [FillPolicy: Distribution] = [:]
        for policy in FillPolicy.allCases {
            let distribution = try Self.replay(policy, count: count)
            results[policy] = distribution
            #expect(distribution.pods.values.reduce(0, +) == count)
            let top = distribution.pods.values.sorted(by: >).prefix(5).map(String.init).joined(separator: ", ")
            print(
                "fill \(policy.rawValue): \(count) GPU pods over \(distribution.pods.count) pools, top pools \(top); "
                    + "top pool \(Int((100 * distribution.topShare).rounded())) %, Kenyan-resident pods' top pool "
                    + "\(Int((100 * distribution.kenyanTopShare).rounded())) %"
            )
        }
        let ignore = try #require(results[.ignore])
        let spread = try #require(results[.spread])
        let pack = try #require(results[.pack])
        #expect(spread.topShare < ignore.topShare)
        #expect(spread.kenyanTopShare < ignore.kenyanTopShare)
        #expect(spread.pods.count > ignore.pods.count)
        #expect(pack.pods.count <= spread.pods.count)
    }
}
