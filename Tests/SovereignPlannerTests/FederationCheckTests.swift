import Foundation
import SovereignModel
import SovereignPlanner
import SovereignTesting
import Testing

/// The federated workload's spec and the sovereignty rules checked before any round.
struct FederationCheckTests {
    /// The East-African fleet's files plus the federated example, with optional text replacements.
    static func load(_ replacements: [(String, String)] = [], extra: String = "") throws -> Fleet {
        let directory = Fixtures.example("east-africa")
        var sources: [(file: String, text: String)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        where name.hasSuffix(".yaml") {
            let path = "\(directory)/\(name)"
            sources.append((path, try String(contentsOfFile: path, encoding: .utf8)))
        }
        var federated = try String(contentsOfFile: Fixtures.example("federated/digits-eac.yaml"), encoding: .utf8)
        for (target, replacement) in replacements {
            if federated.contains(target) {
                federated = federated.replacingOccurrences(of: target, with: replacement)
            } else {
                for i in sources.indices where sources[i].text.contains(target) {
                    sources[i].text = sources[i].text.replacingOccurrences(of: target, with: replacement)
                }
            }
        }
        return try FleetLoader().load(sources: sources + [("digits-eac.yaml", federated + extra)])
    }

    static func diagnostics(_ replacements: [(String, String)]) -> [String] {
        do {
            _ = try load(replacements)
            return []
        } catch let error as SpecError {
            return error.diagnostics.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func theExampleDecodesAndEachSiteTrainsItsOwnDataAtHome() throws {
        let fleet = try Self.load()
        let w = try #require(fleet.workload(named: "digits-eac"))
        let f = try #require(w.federation)
        #expect(f.coordinator == "nairobi-1")
        #expect(f.rounds == 15 && f.minSites == 2 && f.roundTimeout == .seconds(30) && f.retries == 3)
        #expect(f.strategy == .fedAvg)
        #expect(f.trainer?.model == .logisticRegression && f.trainer?.features == 64 && f.trainer?.classes == 10)
        #expect(f.trainer?.featureScale == 16 && f.trainer?.epochs == 2 && f.trainer?.batchSize == 16)
        #expect(f.secureAggregation == Federation.SecureAggregation(threshold: 2, clip: 1))
        #expect(f.privacy == nil)
        #expect(f.exampleBound == Federation.defaultExampleBound)
        let participants = try FederationCheck.participants(of: w, in: fleet).get()
        #expect(
            participants == [
                FederationParticipant(dataset: "ke-clinical-notes", site: "nairobi-1", jurisdiction: "KE"),
                FederationParticipant(dataset: "ug-clinical-notes", site: "kampala-1", jurisdiction: "UG"),
                FederationParticipant(dataset: "tz-clinical-notes", site: "dar-1", jurisdiction: "TZ"),
            ]
        )
        // Every participant trains inside its dataset's residency: the hard constraint.
        for p in participants {
            #expect(fleet.dataset(named: p.dataset)!.mayBeProcessed(in: p.jurisdiction))
        }
    }

    @Test func strategiesAndPrivacyDecodeWithTheirParameters() throws {
        let cases: [(String, Federation.Strategy)] = [
            ("{name: fedprox, mu: 0.5}", .fedProx(mu: 0.5)),
            ("fedprox", .fedProx(mu: 0.01)),
            ("{name: fedavgm, momentum: 0.5}", .fedAvgM(serverLearningRate: 1, momentum: 0.5)),
            ("{name: fedadam, tau: 0.01}", .fedAdam(serverLearningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 0.01)),
        ]
        for (text, expected) in cases {
            let fleet = try Self.load([("strategy: fedavg", "strategy: \(text)")])
            #expect(fleet.workload(named: "digits-eac")?.federation?.strategy == expected, "\(text)")
        }
        let robust = try Self.load([
            ("strategy: fedavg", "strategy: {name: trimmed-mean, beta: 0.2}"),
            (
                "    secureAggregation: {threshold: 2, clip: 1}\n",
                "    privacy: {mode: local, clipNorm: 2, noiseMultiplier: 0.7}\n"
            ),
        ])
        let f = try #require(robust.workload(named: "digits-eac")?.federation)
        #expect(f.strategy == .trimmedMean(beta: 0.2))
        #expect(f.privacy == Federation.Privacy(mode: .local, clipNorm: 2, noiseMultiplier: 0.7, delta: 1e-5))
    }

    @Test(arguments: [
        (
            "coordinator: nairobi-1", "coordinator: nairobi-9",
            "digits-eac.yaml:17:18: error: spec.federation.coordinator: expected the name of a Site, found \"nairobi-9\"; did you mean \"nairobi-1\"?"
        ),
        (
            "rounds: 15", "rounds: 0",
            "digits-eac.yaml:18:13: error: spec.federation.rounds: expected 1 to 100000 rounds, found \"0\""
        ),
        (
            "minSites: 2", "minSites: 4",
            "digits-eac.yaml:19:15: error: spec.federation.minSites: expected 1 to 3 sites (one per dataset), found \"4\""
        ),
        (
            "strategy: fedavg", "strategy: {name: krum, byzantine: 1}",
            "digits-eac.yaml:21:39: error: spec.federation.strategy.byzantine: expected Krum with more than 2·byzantine + 2 sites (4), found 3 sites"
        ),
        (
            "strategy: fedavg", "strategy: fedmedian",
            "digits-eac.yaml:30:24: error: spec.federation.secureAggregation: expected secure aggregation only with fedavg, fedprox, fedavgm or fedadam (they need only the sum), found strategy fedmedian, which must see each update"
        ),
        (
            "strategy: fedavg", "strategy: {name: fedprox, beta: 0.1}",
            "digits-eac.yaml:21:37: error: spec.federation.strategy.beta: expected parameters of fedprox: mu, found \"beta\""
        ),
        (
            "threshold: 2", "threshold: 4",
            "digits-eac.yaml:30:36: error: spec.federation.secureAggregation.threshold: expected a threshold from 2 to 3 (the sites), found \"4\""
        ),
        (
            "model: logistic-regression", "model: transformer",
            "digits-eac.yaml:23:14: error: spec.federation.trainer.model: expected logistic-regression or mlp, found \"transformer\""
        ),
        (
            "  type: federated", "  type: training",
            "digits-eac.yaml:17:5: error: spec.federation: expected federation only on federated workloads, found it on a training workload"
        ),
    ])
    func brokenFederationsAreReportedWhereTheyAre(target: String, replacement: String, expected: String) {
        #expect(Self.diagnostics([(target, replacement)]) == [expected])
    }

    @Test func updatesMayNotCrossABorderNoPolicyAllows() throws {
        let fleet = try Self.load([("updatesMayCross: [EAC]", "updatesMayCross: [KE, UG]")])
        let w = try #require(fleet.workload(named: "digits-eac"))
        let refusal = try #require(FederationCheck.participants(of: w, in: fleet).failure)
        #expect(
            refusal.reasons == [
                "updates from dar-1 (TZ) to the coordinator nairobi-1 (KE) would cross a border that a policy's updatesMayCross does not allow"
            ]
        )
        #expect(refusal.field == "spec.federation.coordinator")
        let noPolicy = try Self.load([("  updatesMayCross: [EAC]\n", "")])
        let reasons = try #require(
            FederationCheck.participants(of: noPolicy.workload(named: "digits-eac")!, in: noPolicy).failure
        ).reasons
        #expect(reasons.count == 2)
        #expect(reasons.allSatisfy { $0.hasSuffix("and no policy's updatesMayCross allows any crossing") })
    }

    @Test func personalDataTrainsOnlyOnDomesticallyOperatedSites() throws {
        let extra = """

            ---
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: rw-clinical-notes}
            spec: {size: 100 GB, site: kigali-1, residency: [RW], classification: personal}
            """
        let fleet = try Self.load(
            [
                (
                    "datasets: [ke-clinical-notes, ug-clinical-notes, tz-clinical-notes]",
                    "datasets: [ke-clinical-notes, rw-clinical-notes]"
                )
            ],
            extra: extra
        )
        let w = try #require(fleet.workload(named: "digits-eac"))
        let refusal = try #require(FederationCheck.participants(of: w, in: fleet).failure)
        #expect(
            refusal.reasons == [
                "dataset rw-clinical-notes is personal: a policy reserves it for domestic operators, but kigali-1's operator is at home in US"
            ]
        )
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
