import SovereignModel
import SovereignTesting
import Testing

/// `kubernetes: {region, zones}` on sites and `kubernetes: {zone}` on pools: which Kubernetes nodes belong where.
struct KubernetesTopologyTests {
    static let mapped = Fixtures.constantFleet
        .replacingOnce(
            "  jurisdiction: KE\n",
            with: "  jurisdiction: KE\n  kubernetes: {region: ke-east, zones: [ke-east-1a, ke-east-1b]}\n"
        )
        .replacingOnce(
            "count: 64, perNode: 8}",
            with: "count: 64, perNode: 8, kubernetes: {zone: ke-east-1a}}"
        )

    @Test func sitesAndPoolsCarryTheirTopology() throws {
        let fleet = try Fixtures.load(Self.mapped)
        let nairobi = try #require(fleet.site(named: "nairobi-1"))
        #expect(nairobi.kubernetes == KubernetesTopology(region: "ke-east", zones: ["ke-east-1a", "ke-east-1b"]))
        #expect(nairobi.pools.map(\.kubernetesZone) == ["ke-east-1a", nil])
        #expect(nairobi.kubernetes?.contains(region: "ke-east", zone: "ke-east-1b") == true)
        #expect(nairobi.kubernetes?.contains(region: "ke-east", zone: "ke-east-1c") == false)
        #expect(nairobi.kubernetes?.contains(region: "ke-east", zone: nil) == false)
        #expect(fleet.site(named: "kigali-1")?.kubernetes == nil)
    }

    static let cases: [RuleCase] = [
        RuleCase(
            "label-value",
            replace: "region: ke-east,",
            with: "region: -ke-east,",
            expect: [
                "fleet.yaml:16:24: error: spec.kubernetes.region: expected a Kubernetes label value (≤ 63 letters, digits, '-', '_', '.'; alphanumeric ends), found \"-ke-east\""
            ]
        ),
        RuleCase(
            "overlapping-sites",
            replace: "  jurisdiction: RW\n",
            with: "  jurisdiction: RW\n  kubernetes: {region: ke-east, zones: [ke-east-1b]}\n",
            expect: [
                "fleet.yaml:32:24: error: spec.kubernetes.region: expected a region and zones no other site maps (nodes must belong to one site), found region \"ke-east\" overlapping site nairobi-1"
            ]
        ),
        RuleCase(
            "zone-outside-site",
            replace: "kubernetes: {zone: ke-east-1a}",
            with: "kubernetes: {zone: ke-east-1c}",
            expect: [
                "fleet.yaml:22:93: error: spec.pools[0].kubernetes.zone: expected one of the site's zones [ke-east-1a, ke-east-1b], found \"ke-east-1c\""
            ]
        ),
        RuleCase(
            "zone-taken",
            replace: "count: 48, perNode: 4}",
            with: "count: 48, perNode: 4, kubernetes: {zone: ke-east-1a}}",
            expect: [
                "fleet.yaml:23:84: error: spec.pools[1].kubernetes.zone: expected a zone no other pool of the site has (nodes must belong to one pool), found \"ke-east-1a\", also pool a100's"
            ]
        ),
        RuleCase(
            "zone-without-region",
            replace: "count: 32, perNode: 8}",
            with: "count: 32, perNode: 8, kubernetes: {zone: rw-1}}",
            expect: [
                "fleet.yaml:37:84: error: spec.pools[0].kubernetes.zone: expected a pool zone only on a site with kubernetes.region, found \"rw-1\""
            ]
        ),
        RuleCase(
            "missing-region",
            replace: "kubernetes: {region: ke-east, zones: [ke-east-1a, ke-east-1b]}",
            with: "kubernetes: {zones: [ke-east-1a]}",
            expect: [
                "fleet.yaml:16:15: error: spec.kubernetes.region: expected the nodes' topology.kubernetes.io/region label value, found nothing"
            ]
        ),
    ]

    @Test(arguments: cases)
    func rule(_ rule: RuleCase) {
        #expect(Fixtures.diagnostics(Self.mapped.replacingOnce(rule.target, with: rule.replacement)) == rule.expected)
    }
}
