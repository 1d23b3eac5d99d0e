import Foundation
import SovereignKubernetes
import SovereignModel
import Testing

/// Pods Kubernetes bound count against their site's power (issue 17, point 2): decoded from the API, watched
/// with the client's generic list/watch, and counted in the extender's verdicts and the site conditions.
@Suite(.timeLimit(.minutes(5)))
struct BoundPodTests {
    /// A `v1.Pod` as the API server lists it, with `gpus` GPUs in one app container.
    static func pod(_ name: String, node: String, gpus: Int, phase: String = "Running", version: Int = 7) -> String {
        """
        {"metadata":{"name":"\(name)","namespace":"ml","uid":"u-\(name)","resourceVersion":"\(version)"},\
        "spec":{"nodeName":"\(node)","containers":[{"name":"main","image":"x",\
        "resources":{"limits":{"cpu":"4","nvidia.com/gpu":"\(gpus)"},"requests":{"cpu":"4","nvidia.com/gpu":"\(gpus)"}}}]},\
        "status":{"phase":"\(phase)","conditions":[{"type":"Ready","status":"True"}]}}
        """
    }

    @Test func aPodDecodesWithItsAcceleratorsCountedAsKubeSchedulerCounts() throws {
        let json = """
            {"metadata":{"name":"train","namespace":"ml","resourceVersion":"12"},
             "spec":{"nodeName":"node-a1",
               "initContainers":[{"resources":{"limits":{"nvidia.com/gpu":"3"}}}],
               "containers":[{"resources":{"requests":{"nvidia.com/gpu":"1"},"limits":{"nvidia.com/gpu":"1"}}},
                             {"resources":{"limits":{"nvidia.com/gpu":"1","memory":"8Gi"}}},
                             {"resources":{"limits":{"amd.com/gpu":"2k"}}}]},
             "status":{"phase":"Running"}}
            """
        let pod = try JSONDecoder().decode(BoundPod.self, from: Data(json.utf8))
        #expect(pod.key == "ml/train")
        #expect(pod.nodeName == "node-a1")
        #expect(pod.phase == .Running)
        // The init container's 3 beat the app containers' 1 + 1; "2k" is not a whole number of devices.
        #expect(pod.accelerators == ["nvidia.com/gpu": 3])
        #expect(pod.holdsDevices)
        #expect(pod.resourceVersion == "12")
        let finished = BoundPod(
            namespace: "ml",
            name: "train",
            nodeName: "node-a1",
            phase: .Succeeded,
            accelerators: [:]
        )
        #expect(!finished.holdsDevices)
        #expect(finished.differs(from: pod))
        let heartbeat = BoundPod(
            namespace: "ml",
            name: "train",
            nodeName: "node-a1",
            phase: .Running,
            accelerators: ["nvidia.com/gpu": 3],
            resourceVersion: "13"
        )
        #expect(!heartbeat.differs(from: pod))
        #expect(pod.attemptID == nil && pod.drawsUncounted)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(BoundPod.self, from: Data(#"{"metadata":{},"spec":{}}"#.utf8))
        }
    }

    /// Site `a` (H100s, 525 W each at the training utilisation) holds three 1-GPU pods bound by Kubernetes.
    @Test func aSiteCutBelowWhatBoundPodsDrawIsConstrainedThenSheddingAndRefusesTheNextGPUPod() async throws {
        let fleet = try F.fleet()
        let a = try #require(fleet.siteIndex(named: "a"))
        let perGPU = PhysicalModel.runningPower(model: try #require(fleet.catalog["nvidia-h100-sxm"]), count: 1)
        // IT limit 2,000 W at site a: room for three GPUs (1,575 W), not four.
        func snapshot(itLimit: Double) -> ExtenderSnapshot {
            let plain = F.snapshot(fleet)
            var budgets = plain.budgets
            let site = fleet.sites[a]
            budgets[a] = F.budget(plain.grid.count, supply: itLimit * budgets[a].pue[0], site: site)
            return F.snapshot(fleet, budgets: budgets)
        }
        let extender = F.extender(snapshot(itLimit: 2_000), nodes: try F.recordedNodeLabels())
        #expect(extender.current.power[a] == .constrained)  // 2 kW cannot run all 16 GPUs
        let list =
            #"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"900"},"items":["#
            + [
                Self.pod("p1", node: "node-a1", gpus: 1), Self.pod("p2", node: "node-a1", gpus: 1),
                Self.pod("p3", node: "node-a2", gpus: 1), Self.pod("cpu", node: "node-b1", gpus: 0),
                // Sovereign's own attempt, run by its Kubernetes executor: the control plane counts it already.
                Self.pod("attempt", node: "node-a2", gpus: 4)
                    .replacingOccurrences(
                        of: #""uid":"u-attempt""#,
                        with: #""labels":{"sovereign.dev/attempt-id":"41"}"#
                    ),
            ].joined(separator: ",") + "]}"
        let server = FakeAPIServer { request, _ in
            request.query["watch"] == "1" ? .hang : .bytes(status: 200, Array(list.utf8))
        }
        let gpuPod = try F.withPod(try F.recorded(F.cacheFilter), limits: ["nvidia.com/gpu": "1"])
        // Before the pods are counted, a fourth GPU fits (2,000 W of room).
        #expect(try F.FilterResult(extender.filter(gpuPod)).failed.isEmpty)
        try await server.serve { client in
            let watcher = ResourceWatcher<BoundPod>(
                client: client,
                selector: BoundPod.boundAndUnfinished,
                logger: quietLogger
            ) { pods in extender.updateBoundPods(pods) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watcher.run() }
                try await eventually { extender.current.bound.watts[a] > 0 }
                group.cancelAll()
            }
            let listed = try #require(server.requests.first)
            #expect(listed.path == "/api/v1/pods")
            #expect(listed.query["fieldSelector"] == "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed")
        }
        #expect(extender.current.bound.watts[a] == 3 * perGPU)
        #expect(extender.current.power[a] == .constrained)
        let refused = try F.FilterResult(extender.filter(gpuPod))
        #expect(refused.nodeNames == ["node-b1", "node-b2"])
        let reason = "sovereign power: site a can supply 2 kW of IT power and needs 2.1 kW with this pod"
        #expect(refused.failed["node-a1"]?.hasPrefix(reason) == true)
        #expect(refused.failed["node-a2"]?.hasPrefix(reason) == true)
        // A pod asking for no accelerator still fits.
        #expect(try F.FilterResult(extender.filter(try F.recorded(F.cacheFilter))).failed.isEmpty)

        // Power drops below what the bound pods draw: the site is shedding, and stays counted across passes.
        extender.update(snapshot(itLimit: 1_200))
        #expect(extender.current.bound.watts[a] == 3 * perGPU)
        #expect(extender.current.power[a] == .shedding)
        #expect(extender.current.labels(forSite: a)[KubernetesLabels.powerState] == "shedding")
        // The pods finish: the site is back to what its supply allows.
        extender.updateBoundPods([])
        #expect(extender.current.power[a] == .constrained)
    }
}
