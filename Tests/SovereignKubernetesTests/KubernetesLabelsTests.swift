import SovereignKubernetes
import Testing

struct KubernetesLabelsTests {
    /// Label keys must be valid Kubernetes qualified names: `prefix/name`, name ≤ 63 characters.
    @Test(arguments: [
        KubernetesLabels.site, KubernetesLabels.pool, KubernetesLabels.powerState, KubernetesLabels.thermalState,
    ])
    func labelKeysAreQualifiedNames(_ key: String) {
        let parts = key.split(separator: "/")
        #expect(parts.count == 2)
        #expect(parts[0] == "sovereign.dev")
        #expect(parts[1].count <= 63)
        #expect(parts[1].allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" })
    }
}
