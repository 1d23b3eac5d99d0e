import SovereignModel
import SovereignTesting
import Testing

/// `spec.derivedFrom` on a Dataset and `anonymised` on a Policy: a derivative may be processed beyond its
/// source's residency only as far as every policy lets a method of its k go, and `validate` says why not.
struct DerivedDatasetTests {
    static let derived = """
        ---
        apiVersion: sovereign.dev/v1
        kind: Dataset
        metadata: {name: ke-health-anonymised}
        spec:
          size: 1 TB
          site: nairobi-1
          residency: [EAC]
          classification: internal
          keys: {jurisdiction: KE}
          derivedFrom:
            dataset: ke-health-records
            anonymise:
              drop: [name, phone]
              pseudonymise: [patient_id]
              coarsenDates: {admitted: month}
              noise: {weight: 0.5}
              quasiIdentifiers: {age: numeric, sex: categorical, county: categorical}
              k: 10
              lDiversity: {column: diagnosis, l: 2}

        """
    static let rule = """
        ---
        apiVersion: sovereign.dev/v1
        kind: Policy
        metadata: {name: anonymised-data}
        spec: {anonymised: {minK: 10, mayBeProcessedIn: [EAC]}}

        """

    @Test func aDerivativeTheMethodAndPolicyAllowLoadsWithItsMethod() throws {
        let fleet = try Fixtures.load(Fixtures.constantFleet + Self.derived + Self.rule)
        let dataset = try #require(fleet.dataset(named: "ke-health-anonymised"))
        let method = try #require(dataset.derivedFrom).anonymisation
        #expect(dataset.derivedFrom?.source == "ke-health-records")
        #expect(method.drop == ["name", "phone"] && method.pseudonymise == ["patient_id"])
        #expect(method.coarsenDates == [.init(column: "admitted", granularity: .month)])
        #expect(method.noise == [.init(column: "weight", scale: 0.5)])
        #expect(method.quasiIdentifiers.map(\.column) == ["age", "sex", "county"])
        #expect(method.quasiIdentifiers.map(\.kind) == [.numeric, .categorical, .categorical])
        #expect(method.k == 10 && method.diversity == .init(column: "diagnosis", l: 2))
        #expect(
            dataset.mayBeProcessed(in: "UG") && !fleet.dataset(named: "ke-health-records")!.mayBeProcessed(in: "UG")
        )
        #expect(fleet.policies.compactMap(\.anonymised).first?.countries == ["KE", "UG", "TZ", "RW"])
    }

    @Test func withoutAPolicyADerivativeMayNotBeWiderThanItsSource() {
        #expect(
            Fixtures.diagnostics(Fixtures.constantFleet + Self.derived) == [
                "fleet.yaml:76:14: error: spec.residency: expected a residency inside its source \"ke-health-records\"'s "
                    + "[KE] (no Policy says where anonymised data may be processed: anonymised.mayBeProcessedIn), "
                    + "found [EAC], which adds RW, TZ, UG"
            ]
        )
    }

    @Test func aKBelowThePolicysMinimumIsReportedAtK() {
        let yaml = Fixtures.constantFleet + Self.derived.replacingOnce("k: 10", with: "k: 5") + Self.rule
        #expect(
            Fixtures.diagnostics(yaml) == [
                "fleet.yaml:87:10: error: spec.derivedFrom.anonymise.k: expected k of at least 10 (policy "
                    + "\"anonymised-data\": anonymised.minK) for a residency wider than its source's [KE], found 5"
            ]
        )
    }

    @Test func aResidencyBeyondThePolicysJurisdictionsIsReported() {
        let yaml =
            Fixtures.constantFleet + Self.derived.replacingOnce("residency: [EAC]", with: "residency: [EAC, FR]")
            + Self.rule
        #expect(
            Fixtures.diagnostics(yaml) == [
                "fleet.yaml:76:14: error: spec.residency: expected a residency inside its source's [KE] and policy "
                    + "\"anonymised-data\"'s anonymised.mayBeProcessedIn [EAC], found [EAC, FR], which adds FR"
            ]
        )
    }

    @Test func aMethodNamesEachColumnOnce() {
        let yaml =
            Fixtures.constantFleet + Self.derived.replacingOnce("drop: [name, phone]", with: "drop: [name, age]")
            + Self.rule
        #expect(
            Fixtures.diagnostics(yaml) == [
                "fleet.yaml:86:31: error: spec.derivedFrom.anonymise.quasiIdentifiers.age: expected one method per "
                    + "column (\"age\" is also at fleet.yaml:82:20), found \"age\" again"
            ]
        )
    }

    @Test func theSourceMustBeADeclaredRawDataset() {
        let misspelt =
            Fixtures.constantFleet
            + Self.derived.replacingOnce("dataset: ke-health-records", with: "dataset: ke-health-record") + Self.rule
        #expect(
            Fixtures.diagnostics(misspelt) == [
                "fleet.yaml:80:14: error: spec.derivedFrom.dataset: expected the name of a Dataset, found "
                    + "\"ke-health-record\"; did you mean \"ke-health-records\"?"
            ]
        )
        let chained =
            Fixtures.constantFleet + Self.derived + Self.rule
            + Self.derived.replacingOnce("name: ke-health-anonymised", with: "name: twice-anonymised")
            .replacingOnce("dataset: ke-health-records", with: "dataset: ke-health-anonymised")
        #expect(
            Fixtures.diagnostics(chained) == [
                "fleet.yaml:105:14: error: spec.derivedFrom.dataset: expected a raw Dataset (one not itself derived), "
                    + "found \"ke-health-anonymised\", derived from \"ke-health-records\""
            ]
        )
    }
}
