import SovereignKubernetes
import Testing

/// kube-scheduler 1.20 compatibility (issue 17, point 4): the start note and the opt-in `FailedNodes` copy.
struct ExtenderOptionsTests {
    @Test(arguments: [F.fullFilter, F.cacheFilter])
    func unresolvableNodesAreAlsoFailedOnlyWhenAsked(_ file: String) throws {
        let fleet = try F.fleet()
        let labels = try F.recordedNodeLabels()
        let body = try F.withPod(try F.recorded(file), annotations: ["sovereign.dev/datasets": "ke-health-records"])
        let reason = "sovereign residency: outside residency KE (dataset ke-health-records)"
        let expected = ["node-b1": reason, "node-b2": reason]

        let standard = try F.FilterResult(try F.extender(F.snapshot(fleet), nodes: labels).filter(body))
        #expect(standard.unresolvable == expected)
        #expect(standard.failed.isEmpty)

        let compatible = Extender(snapshot: F.snapshot(fleet), options: ExtenderOptions(unresolvableAlsoFailed: true))
        compatible.nodes.replace(with: labels.map { (name: $0.key, labels: $0.value) })
        let result = try F.FilterResult(try compatible.filter(body))
        #expect(result.unresolvable == expected)
        #expect(result.failed == expected)
        let passed = result.nodeNames ?? result.nodes?.map { ($0["metadata"] as? [String: Any])?["name"] as? String }
        #expect(passed?.count == 2)
    }

    @Test func theStartNoteNamesTheMinimumSchedulerAndTheFlag() {
        let standard = ExtenderOptions().startNote
        #expect(standard.contains("kube-scheduler 1.21 or later"))
        #expect(standard.contains("--extender-unresolvable-as-failed"))
        #expect(standard.contains("shows no reason"))
        let compatible = ExtenderOptions(unresolvableAlsoFailed: true).startNote
        #expect(compatible.contains("kube-scheduler 1.21 or later"))
        #expect(compatible.contains("listed in FailedNodes too"))
    }
}
