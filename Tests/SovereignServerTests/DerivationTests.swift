import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignAnonymisation
import SovereignLedger
import SovereignServer
import Testing

/// Anonymisation as a step before the work that uses its output: work on a derived dataset waits until a run
/// that made it is recorded; a run is recorded only when it took place inside its source's residency, by the
/// spec's method, to the policy's k; the ledger names the run, and the work that reads its output names it.
struct DerivationTests {
    typealias F = ControlFixtures

    /// The fixture fleet plus an anonymised derivative of `ke-records` that may also be processed in Rwanda.
    static let fleet =
        F.fleet + """
            ---
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: ke-records-anon}
            spec:
              size: 20 GB
              site: nairobi-1
              residency: [KE, RW]
              classification: internal
              derivedFrom:
                dataset: ke-records
                anonymise: {pseudonymise: [id], quasiIdentifiers: {age: numeric, district: categorical}, k: 10}
            ---
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: ke-keyed}
            spec: {size: 20 GB, site: nairobi-1, residency: [KE], classification: personal, keys: {jurisdiction: KE}}
            ---
            apiVersion: sovereign.dev/v1
            kind: Dataset
            metadata: {name: ke-keyed-anon}
            spec:
              size: 2 GB
              site: nairobi-1
              residency: [KE]
              classification: internal
              keys: {jurisdiction: KE}
              derivedFrom:
                dataset: ke-keyed
                anonymise: {pseudonymise: [id], quasiIdentifiers: {age: numeric, district: categorical}, k: 10}
            ---
            apiVersion: sovereign.dev/v1
            kind: Policy
            metadata: {name: anonymised-data}
            spec: {anonymised: {minK: 10, mayBeProcessedIn: [RW]}}

            """

    static let digest = String(repeating: "ab", count: 32)
    static let keyID = "hmac-sha256:0123456789abcdef"

    /// A run's report as `sovereign anonymise --report` writes it, with what a test changes.
    static func reportJSON(
        site: String = "nairobi-1",
        source: String = "ke-records",
        kAchieved: Int = 12,
        inputSHA256: String = digest
    ) -> String {
        """
        {"dataset": "ke-records-anon", "source": "\(source)", "site": "\(site)", "keyJurisdiction": null,
         "requiredK": 10, "meetsPolicy": true,
         "run": {"input": "/data/records.csv", "output": "/data/anon.csv", "inputSHA256": "\(inputSHA256)",
          "outputSHA256": "\(String(repeating: "cd", count: 32))", "rowsIn": 1000, "rowsOut": 990,
          "rowsSuppressed": 10, "classes": 60, "kRequested": 10, "kAchieved": \(kAchieved), "ncp": 0.25,
          "ncpByColumn": [{"column": "age", "ncp": 0.3}, {"column": "district", "ncp": 0.2}],
          "dropped": [], "pseudonymised": ["id"], "coarsened": [], "noised": [],
          "quasiIdentifiers": ["age:numeric", "district:categorical"], "keyID": "\(keyID)", "noiseSeed": 0}}
        """
    }

    static func report(
        site: String = "nairobi-1",
        source: String = "ke-records",
        kAchieved: Int = 12
    ) throws -> DerivationReport {
        try JSONDecoder().decode(
            DerivationReport.self,
            from: Data(reportJSON(site: site, source: source, kAchieved: kAchieved).utf8)
        )
    }

    /// The report with `text` replaced by `replacement` in its JSON.
    static func edited(_ text: String, _ replacement: String) throws -> DerivationReport {
        let json = reportJSON()
        guard json.contains(text) else { throw DerivationFixtureError(missing: text) }
        return try JSONDecoder().decode(
            DerivationReport.self,
            from: Data(json.replacingOccurrences(of: text, with: replacement).utf8)
        )
    }

    struct DerivationFixtureError: Error { let missing: String }

    /// Work that needs more accelerators than Kenya has: only Rwanda's site can run it.
    static let wideWork = F.workload("tune-anon", accelerators: 128, datasets: ["ke-records-anon"])

    /// The ledger's entries as JSON objects.
    static func entries(_ h: F.Harness) throws -> [[String: JSONValue]] {
        try h.store.ledgerEntries(from: 0, limit: 10_000).map { entry in
            guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(entry.canonicalJSON))
            else { return [:] }
            return fields
        }
    }

    static func refusal(_ body: () async throws -> Void) async -> ControlError? {
        do {
            try await body()
            return nil
        } catch let error as ControlError {
            return error
        } catch {
            return nil
        }
    }

    @Test func workOnADerivedDatasetWaitsForItsRunThenTravelsAsFarAsTheDerivativeMay() async throws {
        let h = try F.harness(fleetText: Self.fleet)
        _ = try await h.plane.submit(document: Self.wideWork, by: F.requester)
        try await h.plane.reconcile()
        let waiting = try #require(try h.store.workload(named: "tune-anon"))
        #expect(waiting.state == .pending)
        #expect(waiting.detail.contains("waits for ke-records-anon"), "\(waiting.detail)")
        #expect(waiting.detail.contains("anonymisation ke-records → ke-records-anon at nairobi-1 (inside KE)"))
        #expect(waiting.detail.contains("has not produced it yet"))
        #expect(h.executor.live.isEmpty)
        #expect(await h.plane.currentPlan?.workloads.first { $0.name == "tune-anon" }?.status == "waiting")

        let recorded = try await h.plane.recordDerivation(
            try Self.report(),
            dataset: "ke-records-anon",
            by: ControlPlane.Requester(identity: "token:site", site: "nairobi-1")
        )
        #expect(recorded.jurisdiction == "KE")
        try await h.plane.reconcile()
        let live = h.executor.live
        try #require(live.count == 1)
        #expect(live[0].site == "kigali-1")  // outside the source's residency, inside the derivative's
        #expect(try h.store.workload(named: "tune-anon")?.state == .running)

        let entries = try Self.entries(h)
        let derived = try #require(entries.first { $0["kind"] == .string("dataset.derived") })
        #expect(derived["sequence"] == .number(Double(recorded.entry)))
        let fields = try #require(derived["fields"].flatMap { if case .object(let o) = $0 { o } else { nil } })
        #expect(fields["site"] == .string("nairobi-1") && fields["jurisdiction"] == .string("KE"))
        #expect(fields["inputSHA256"] == .string(Self.digest))
        #expect(fields["kAchieved"] == .number(12) && fields["rowsSuppressed"] == .number(10))
        #expect(fields["keyID"] == .string(Self.keyID))
        // Where the files were at the site is not recorded.
        #expect(fields["input"] == nil && fields["output"] == nil)
        let access = try #require(
            entries.first { entry in
                guard entry["kind"] == .string("dataset.accessed"), case .object(let f)? = entry["fields"] else {
                    return false
                }
                return f["dataset"] == .string("ke-records-anon")
            }
        )
        guard case .object(let accessFields)? = access["fields"] else { throw DerivationTestError.shape }
        #expect(accessFields["derivationEntry"] == .number(Double(recorded.entry)))
        let placed = try #require(entries.first { $0["kind"] == .string("workload.placed") })
        guard case .object(let placedFields)? = placed["fields"], case .string(let reasons)? = placedFields["reasons"]
        else { throw DerivationTestError.shape }
        #expect(
            reasons.contains(
                "ke-records-anon may be processed in KE,RW (made by the run in ledger entry \(recorded.entry))"
            )
        )
        #expect(accessFields["jurisdiction"] == .string("RW"))
        // A restarted server still knows the derivative was made.
        #expect(try h.store.derivationRuns() == ["ke-records-anon": recorded.entry])

        try await h.plane.signCheckpoint(force: true)
        var stored: [StoredEntry] = []
        try h.store.forEachLedgerEntry { stored.append($0) }
        let audit = LedgerAudit.audit(
            entries: stored,
            checkpoints: try h.store.checkpoints(),
            verifier: try NoteVerifier(verifierKey: h.signer.verifierKey)
        )
        #expect(audit.ok, "\(audit.problems)")
        #expect(audit.entries == stored.count)
    }

    @Test func aRunOutsideTheSourcesResidencyOrShortOfKIsRefusedAndTheWorkKeepsWaiting() async throws {
        let h = try F.harness(fleetText: Self.fleet)
        _ = try await h.plane.submit(document: Self.wideWork, by: F.requester)
        let cases: [(DerivationReport, ControlPlane.Requester, String, String)] = [
            (
                try Self.report(site: "kigali-1"), F.requester, "site",
                "ke-records's residency (KE), found kigali-1 in RW"
            ),
            (try Self.report(kAchieved: 9), F.requester, "run.kAchieved", "at least 10 rows"),
            (try Self.report(source: "ke-other"), F.requester, "source", "expected ke-records"),
            (
                try Self.report(), ControlPlane.Requester(identity: "token:rw", site: "kigali-1"), "Authorization",
                "ke-records's site (nairobi-1)"
            ),
            (
                try Self.report(site: "kigali-1"), ControlPlane.Requester(identity: "token:ke", site: "nairobi-1"),
                "site", "expected the site whose token records the run (nairobi-1), found \"kigali-1\""
            ),
            // The spec's method, every part of it: an identifier kept, a quasi-identifier of another kind, an
            // ℓ-diversity the spec does not ask for, a required k below the policies'.
            (
                try Self.edited(#""pseudonymised": ["id"]"#, #""pseudonymised": []"#), F.requester, "run.pseudonymised",
                "expected id"
            ),
            (try Self.edited("age:numeric", "age:categorical"), F.requester, "run.quasiIdentifiers", "age:numeric"),
            (
                try Self.edited(#""kRequested": 10,"#, #""kRequested": 10, "lRequested": 2, "sensitiveColumn": "x","#),
                F.requester, "run.lRequested", "expected none"
            ),
            (try Self.edited(#""requiredK": 10"#, #""requiredK": 2"#), F.requester, "requiredK", "expected 10"),
        ]
        for (report, requester, field, message) in cases {
            let refused = await Self.refusal {
                _ = try await h.plane.recordDerivation(report, dataset: "ke-records-anon", by: requester)
            }
            #expect(refused?.field == field, "\(field)")
            #expect(refused?.message.contains(message) == true, "\(refused?.message ?? "no refusal")")
        }
        // The key must be held where the source's keys are; a report that does not say where is refused.
        let keyed = try JSONDecoder().decode(
            DerivationReport.self,
            from: Data(
                Self.reportJSON(source: "ke-keyed").replacingOccurrences(of: "ke-records-anon", with: "ke-keyed-anon")
                    .utf8
            )
        )
        let unkeyed = await Self.refusal {
            _ = try await h.plane.recordDerivation(keyed, dataset: "ke-keyed-anon", by: F.requester)
        }
        #expect(unkeyed?.field == "keyJurisdiction")
        #expect(unkeyed?.message.contains("expected KE (where ke-keyed's keys are held), found none") == true)
        let unknown = await Self.refusal {
            _ = try await h.plane.recordDerivation(try Self.report(), dataset: "ke-records", by: F.requester)
        }
        #expect(unknown?.field == "dataset")
        try await h.plane.reconcile()
        #expect(try h.store.workload(named: "tune-anon")?.state == .pending)
        #expect(h.executor.live.isEmpty)
        #expect(try Self.entries(h).allSatisfy { $0["kind"] != .string("dataset.derived") })
        #expect(try h.store.derivationRuns().isEmpty)
    }

    // MARK: The route

    static let siteToken = "site-nairobi-0123456789"
    static let otherSiteToken = "site-kigali-0123456789"

    static func app(_ h: F.Harness) throws -> some ApplicationProtocol {
        let tokens = try TokenStore(
            text: """
                \(F.operatorToken) operator
                \(F.readerToken) reader
                \(F.powerToken) power
                \(siteToken) site nairobi-1
                \(otherSiteToken) site kigali-1

                """,
            file: "tokens"
        )
        return Application(router: SovereignServer.router(plane: h.plane, federation: h.coordinator(), tokens: tokens))
    }

    /// Every role's token against the route: operators and the source's own site record, nobody else does.
    @Test(
        arguments: [
            (nil, HTTPResponse.Status.unauthorized), (F.readerToken, .forbidden), (F.powerToken, .forbidden),
            (otherSiteToken, .forbidden), (F.operatorToken, .created), (siteToken, .created),
        ] as [(String?, HTTPResponse.Status)]
    )
    func theRouteTakesOperatorsAndTheSourcesSite(token: String?, expected: HTTPResponse.Status) async throws {
        let h = try F.harness(fleetText: Self.fleet)
        try await Self.app(h).test(.router) { client in
            try await client.execute(
                uri: "/v1/datasets/ke-records-anon/derivations",
                method: .post,
                headers: APITests.headers(token, json: true),
                body: ByteBuffer(string: Self.reportJSON())
            ) { response in
                #expect(response.status == expected)
                if expected == .created {
                    let body = try APITests.object(response.body)
                    #expect(body["dataset"] as? String == "ke-records-anon")
                    #expect(body["entry"] as? Int != nil)
                }
            }
        }
        #expect(try h.store.derivationRuns().isEmpty == (expected != .created))
    }

    /// Refusals name their field: a run outside the residency (422), a digest that is not one (400), a path
    /// that names another dataset than the body (422), a dataset the fleet lacks (404), a list over its limit.
    @Test func theRouteRefusesNamingTheField() async throws {
        let h = try F.harness(fleetText: Self.fleet)
        let cases: [(String, String, HTTPResponse.Status, String)] = [
            ("ke-records-anon", Self.reportJSON(site: "kigali-1"), .unprocessableContent, "site"),
            ("ke-records-anon", Self.reportJSON(inputSHA256: "00"), .badRequest, "run.inputSHA256"),
            ("ke-records", Self.reportJSON(), .unprocessableContent, "dataset"),
            (
                "nowhere", Self.reportJSON().replacingOccurrences(of: "ke-records-anon", with: "nowhere"), .notFound,
                "dataset"
            ),
            ("ke-records-anon", "{\"dataset\": 1}", .badRequest, "dataset"),
            (
                "ke-records-anon",
                Self.reportJSON().replacingOccurrences(
                    of: "\"dropped\": []",
                    with: "\"dropped\": [\(Array(repeating: "\"x\"", count: 257).joined(separator: ","))]"
                ), .badRequest, "run.dropped"
            ),
        ]
        try await Self.app(h).test(.router) { client in
            for (dataset, body, status, field) in cases {
                try await client.execute(
                    uri: "/v1/datasets/\(dataset)/derivations",
                    method: .post,
                    headers: APITests.headers(F.operatorToken, json: true),
                    body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == status, "\(field)")
                    #expect(APITests.errorField(response.body).field == field)
                }
            }
        }
        #expect(try h.store.derivationRuns().isEmpty)
    }
}

enum DerivationTestError: Error { case shape }
