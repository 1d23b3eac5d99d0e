import Foundation
import GRDB
import SovereignBase
import SovereignFederation
import SovereignLedger
import SovereignModel
import SovereignTesting
import Synchronization
import Testing

@testable import SovereignServer

/// The federation coordinator in process, with agents that call it directly: rounds, secure aggregation
/// against the plain weighted average, dropouts, refusals, the ledger, and what leaves a site.
@Suite(.timeLimit(.minutes(3)))
struct FederationTests {
    typealias F = ControlFixtures

    /// Three sites in three EAC countries, each holding one label-skewed share of the digits.
    static func fleet(rounds: Int = 3, secure: Bool = true, extra: String = "", cross: String = "[EAC]") -> String {
        var sites = ""
        for (name, country) in [("nairobi-1", "KE"), ("kampala-1", "UG"), ("dar-1", "TZ")] {
            sites += """
                apiVersion: sovereign.dev/v1
                kind: Site
                metadata: {name: \(name)}
                spec:
                  jurisdiction: \(country)
                  operator: {name: op-\(country), jurisdiction: \(country)}
                  power:
                    grid: {capacity: 100 kW, carbonIntensity: 300 g/kWh}
                  cooling: {capacity: 200 kW, designAmbient: 32 C, ambient: 24 C, pue: {base: 1.3}}
                  pools:
                    - {name: cpu, accelerator: nvidia-a100-80gb, count: 8, perNode: 8}
                ---
                apiVersion: sovereign.dev/v1
                kind: Dataset
                metadata: {name: \(country.lowercased())-notes}
                spec: {size: 1 GB, site: \(name), residency: [\(country)], classification: personal}
                ---

                """
        }
        return sites + """
            apiVersion: sovereign.dev/v1
            kind: JurisdictionGroup
            metadata: {name: EAC}
            spec: {members: [KE, UG, TZ, RW]}
            ---
            apiVersion: sovereign.dev/v1
            kind: Policy
            metadata: {name: rules}
            spec: {domesticOperatorFor: [personal], updatesMayCross: \(cross)}
            ---
            apiVersion: sovereign.dev/v1
            kind: Workload
            metadata: {name: digits}
            spec:
              type: federated
              model: {parameters: 650}
              datasets: [ke-notes, ug-notes, tz-notes]
              compute: {flops: 1e12}
              federation:
                coordinator: nairobi-1
                rounds: \(rounds)
                minSites: 2
                roundTimeout: 60 s
                trainer: {model: logistic-regression, features: 64, classes: 10, epochs: 1, batchSize: 16, learningRate: 0.1, featureScale: 16}
            \(secure ? "    secureAggregation: {threshold: 2, clip: 1}" : "")
            \(extra)
            """
    }

    static let sites = [("nairobi-1", "ke"), ("kampala-1", "ug"), ("dar-1", "tz")]

    static func data(_ share: String) throws -> TrainingData {
        try TrainingData.load(
            contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Examples/federated/data/\(share).csv")
        )
    }

    /// Calls the coordinator directly as `site`, recording every byte the site sends.
    final class DirectTransport: FederationTransport {
        let coordinator: FederationCoordinator
        let site: String
        let sent = Mutex<[[UInt8]]>([])
        /// When set, the site stops answering from this phase on (it "drops out").
        let silentFrom: FederationPhase?

        init(_ coordinator: FederationCoordinator, site: String, silentFrom: FederationPhase? = nil) {
            self.coordinator = coordinator
            self.site = site
            self.silentFrom = silentFrom
        }

        struct Silent: Error {}

        func tasks() async throws -> FederationTaskList {
            var list = await coordinator.tasks(for: site)
            if let silentFrom {
                let order: [FederationPhase] = [.advertiseKeys, .shareKeys, .maskedInput, .unmask]
                let cut = order.firstIndex(of: silentFrom) ?? 0
                list.tasks = list.tasks.filter { (order.firstIndex(of: $0.phase) ?? 0) < cut }
            }
            return list
        }
        func model(workload: String) async throws -> [UInt8] { try await coordinator.model(workload, for: site) }
        func uploadChunk(workload: String, round: Int, attempt: Int, index: Int, bytes: ArraySlice<UInt8>) async throws
        {
            sent.withLock { $0.append(Array(bytes)) }
            try await coordinator.receiveChunk(
                workload,
                site: site,
                round: round,
                attempt: attempt,
                index: index,
                bytes: Array(bytes)
            )
        }
        func commitUpdate(workload: String, round: Int, attempt: Int, _ commit: UpdateCommit) async throws {
            sent.withLock { $0.append(Array(try! JSONEncoder().encode(commit))) }
            try await coordinator.commitUpdate(workload, site: site, round: round, attempt: attempt, commit)
        }
        func send(_ message: SecureMessage, workload: String, round: Int, attempt: Int) async throws {
            sent.withLock { $0.append(Array(try! JSONEncoder().encode(message))) }
            try await coordinator.receive(message, workload, site: site, round: round, attempt: attempt)
        }
    }

    struct Federation {
        let harness: F.Harness
        let coordinator: FederationCoordinator
        let agents: [FederationAgent]
        let transports: [DirectTransport]
    }

    static func federation(_ text: String, silent: [String: FederationPhase] = [:]) throws -> Federation {
        try federation(over: try F.harness(fleetText: text), silent: silent)
    }

    /// Agents for the three sites, calling a coordinator over `h`'s plane (or `plane`, after a restart).
    static func federation(
        over h: F.Harness,
        plane: ControlPlane? = nil,
        silent: [String: FederationPhase] = [:]
    ) throws -> Federation {
        let coordinator = h.coordinator(for: plane)
        var agents: [FederationAgent] = []
        var transports: [DirectTransport] = []
        for (i, (site, share)) in sites.enumerated() {
            let transport = DirectTransport(coordinator, site: site, silentFrom: silent[site])
            transports.append(transport)
            agents.append(
                FederationAgent(
                    site: site,
                    transport: transport,
                    trainer: BuiltInSiteTrainer(data: try data(share)),
                    random: SeededGenerator(seed: UInt64(100 + i))
                )
            )
        }
        return Federation(harness: h, coordinator: coordinator, agents: agents, transports: transports)
    }

    /// Polls every agent until `done` holds; moves the test clock `step` seconds per sweep.
    static func drive(
        _ f: Federation,
        sweeps: Int = 400,
        step: Double = 1,
        until done: () async throws -> Bool
    ) async throws {
        for _ in 0..<sweeps {
            for agent in f.agents { _ = try await agent.pollOnce() }
            await f.coordinator.tick()
            if try await done() { return }
            f.harness.clock.advance(step)
        }
        Issue.record("the federation did not finish in \(sweeps) sweeps")
    }

    static func state(_ f: Federation) throws -> WorkloadRecord {
        try #require(try f.harness.store.workload(named: "digits"))
    }

    /// What plain FedAvg gives after one round from the initial model: each site trains exactly as its
    /// agent does, and the deltas are averaged weighted by examples.
    static func plainFirstRound(sites chosen: [String]) async throws -> ModelWeights {
        let seed = FederationRuntime.seed(of: "digits")
        let model = BuiltInModel.logisticRegression
        let global = try model.initialWeights(features: 64, classes: 10, seed: seed)
        var sum = [Double](repeating: 0, count: global.parameterCount)
        var total = 0.0
        for (site, share) in sites where chosen.contains(site) {
            let data = try data(share)
            let trainer = BuiltInSiteTrainer(data: data)
            let task = FederationTask(
                workload: "digits",
                round: 1,
                attempt: 1,
                phase: .maskedInput,
                deadline: 0,
                dataset: "",
                modelSHA256: "",
                modelBytes: 0,
                trainer: TrainerSettings(
                    model: model,
                    features: 64,
                    classes: 10,
                    local: LocalTrainingConfiguration(
                        epochs: 1,
                        batchSize: 16,
                        learningRate: 0.1,
                        featureScaling: .divide(by: 16),
                        seed: seed
                    )
                ),
                privacy: nil,
                exampleBound: 100_000,
                secure: nil,
                chunkBytes: 1 << 20
            )
            let (local, n) = try await trainer.train(global: global, task: task)
            var k = 0
            for (l, g) in zip(local.tensors, global.tensors) {
                for j in l.values.indices {
                    sum[k] += Double(n) * Double(l.values[j] - g.values[j])
                    k += 1
                }
            }
            total += Double(n)
        }
        var result = global
        var k = 0
        for t in result.tensors.indices {
            for j in result.tensors[t].values.indices {
                result.tensors[t].values[j] += Float(sum[k] / total)
                k += 1
            }
        }
        return result
    }

    static func globalAfter(round: Int, _ f: Federation) throws -> ModelWeights {
        let path = f.harness.directory.appendingPathComponent("federation/digits/global-\(round).safetensors").path
        return try SafetensorsFile(path: path).modelWeights()
    }

    static func maxDifference(_ a: ModelWeights, _ b: ModelWeights) -> Float {
        var worst: Float = 0
        for (x, y) in zip(a.tensors, b.tensors) {
            for (u, v) in zip(x.values, y.values) { worst = max(worst, abs(u - v)) }
        }
        return worst
    }

    static func ledger(_ f: Federation, kind: String) throws -> [[String: Any]] {
        var found: [[String: Any]] = []
        try f.harness.store.forEachLedgerEntry { entry in
            if let object = try? JSONSerialization.jsonObject(with: Data(entry.canonicalJSON)) as? [String: Any],
                object["kind"] as? String == kind
            {
                found.append(object)
            }
        }
        return found
    }

    static func audit(_ f: Federation) async throws -> AuditReport {
        try await f.harness.plane.signCheckpoint(force: true)
        var entries: [StoredEntry] = []
        try f.harness.store.forEachLedgerEntry { entries.append($0) }
        return LedgerAudit.audit(
            entries: entries,
            checkpoints: try f.harness.store.checkpoints(),
            verifier: try NoteVerifier(verifierKey: f.harness.signer.verifierKey)
        )
    }

    @Test func securelyAggregatedRoundEqualsThePlainWeightedAverage() async throws {
        let f = try Self.federation(Self.fleet(rounds: 1))
        try await Self.drive(f) { try Self.state(f).state == .completed }
        let secure = try Self.globalAfter(round: 1, f)
        let plain = try await Self.plainFirstRound(sites: Self.sites.map(\.0))
        let difference = Self.maxDifference(secure, plain)
        // Quantisation: 3 sites, clip 1, scale ⌊(2³¹−1)/3⌋; weights Σnᵢ/100000 = 0.01438: error ≤ 1.5e-7,
        // plus float32 rounding of the weighted values.
        #expect(difference < 2e-6, "max |secure − plain| = \(difference)")
        // The coordinator saw only masked vectors: each site's update entry says so, and no plain update was kept.
        let updates = try Self.ledger(f, kind: "federation.update")
        #expect(updates.count == 3)
        for u in updates {
            let fields = try #require(u["fields"] as? [String: Any])
            #expect(fields["secureAggregation"] as? Bool == true)
            #expect((fields["sha256"] as? String)?.count == 64)
            #expect(fields["to"] as? String == "KE")
        }
        #expect(Set(updates.compactMap { ($0["fields"] as? [String: Any])?["from"] as? String }) == ["KE", "UG", "TZ"])
        let report = try await Self.audit(f)
        #expect(report.ok, "\(report.problems)")
    }

    @Test func aSiteThatDropsOutMidRoundDoesNotStopIt() async throws {
        // dar-1 advertises its keys and shares them, then never sends its masked update.
        let f = try Self.federation(Self.fleet(rounds: 1), silent: ["dar-1": .maskedInput])
        try await Self.drive(f) { try Self.state(f).state == .completed }
        let round = try #require(try Self.ledger(f, kind: "federation.round").first?["fields"] as? [String: Any])
        #expect(round["sites"] as? [String] == ["kampala-1", "nairobi-1"])
        #expect(round["dropped"] as? [String] == ["dar-1"])
        // Its pairwise masks were recovered from the survivors' shares: the sum is exactly the two sites'.
        let plain = try await Self.plainFirstRound(sites: ["nairobi-1", "kampala-1"])
        #expect(Self.maxDifference(try Self.globalAfter(round: 1, f), plain) < 2e-6)
    }

    @Test func trainingOverRoundsReachesTheAccuracyOfTheHeldBackSplit() async throws {
        let f = try Self.federation(Self.fleet(rounds: 12, secure: false))
        try await Self.drive(f) { try Self.state(f).state == .completed }
        let final = try Self.globalAfter(round: 12, f)
        let test = try Self.data("test")
        let accuracy = try BuiltInModel.logisticRegression.evaluate(final, on: test, featureScaling: .divide(by: 16))
            .accuracy
        #expect(accuracy >= 0.9, "accuracy \(accuracy)")
        // Every round, and every model and update that moved, is in the ledger.
        #expect(try Self.ledger(f, kind: "federation.round").count == 12)
        #expect(try Self.ledger(f, kind: "federation.update").count == 36)
        #expect(try Self.ledger(f, kind: "federation.model-sent").count == 36)
        #expect(try Self.ledger(f, kind: "federation.completed").count == 1)
    }

    @Test func aRestartedServerContinuesFromTheLastFinishedRound() async throws {
        let first = try Self.federation(Self.fleet(rounds: 4))
        try await Self.drive(first) { try Self.ledger(first, kind: "federation.round").count == 2 }
        // The server stops mid-round 3 (some keys already sent); a new plane and coordinator start over the
        // same database and directory, and the agents (new processes: no state) poll the new coordinator.
        for agent in first.agents { _ = try await agent.pollOnce() }
        let plane = try first.harness.restarted()
        let second = try Self.federation(over: first.harness, plane: plane)
        try await Self.drive(second) { try Self.state(second).state == .completed }
        let rounds = try Self.ledger(second, kind: "federation.round").compactMap {
            ($0["fields"] as? [String: Any])?["round"] as? Int
        }
        #expect(rounds == [1, 2, 3, 4])
        #expect(try Self.ledger(second, kind: "federation.started").count == 1)
        // Round 3 started from round 2's model, not from scratch: its first model sent is round 2's result.
        let round2 = try #require(
            try Self.ledger(second, kind: "federation.round").first {
                ($0["fields"] as? [String: Any])?["round"] as? Int == 2
            }
        )
        let sent3 = try Self.ledger(second, kind: "federation.model-sent").filter {
            ($0["fields"] as? [String: Any])?["round"] as? Int == 3
        }
        #expect(!sent3.isEmpty)
        for entry in sent3 {
            #expect(
                (entry["fields"] as? [String: Any])?["sha256"] as? String
                    == (round2["fields"] as? [String: Any])?["modelSHA256"] as? String
            )
        }
        let report = try await Self.audit(second)
        #expect(report.ok, "\(report.problems)")
    }

    @Test(arguments: [("central", true), ("local", false)])
    func privacyIsAccountedRoundByRoundAndRecordedWithEveryUpdate(mode: String, secure: Bool) async throws {
        let privacy = "    privacy: {mode: \(mode), clipNorm: 0.5, noiseMultiplier: 1.1, delta: 1e-5}"
        let f = try Self.federation(Self.fleet(rounds: 3, secure: secure, extra: privacy))
        try await Self.drive(f) { try Self.state(f).state == .completed }
        let epsilons = try Self.ledger(f, kind: "federation.round").compactMap {
            ($0["fields"] as? [String: Any])?["epsilon"] as? Double
        }
        // The accountant composes one Gaussian mechanism per round over all sites (sampling rate 1).
        var accountant = try RDPAccountant()
        var expected: [Double] = []
        for _ in 0..<3 {
            try accountant.step(noiseMultiplier: 1.1, sampleRate: 1, steps: 1)
            expected.append(try accountant.privacySpent(delta: 1e-5).epsilon)
        }
        #expect(epsilons.count == 3)
        for (a, b) in zip(epsilons, expected) { #expect(abs(a - b) < 1e-9) }
        #expect(epsilons == epsilons.sorted())
        for update in try Self.ledger(f, kind: "federation.update") {
            let fields = try #require(update["fields"] as? [String: Any])
            #expect(fields["clipNorm"] as? Double == 0.5)
            #expect(fields["noiseMultiplier"] as? Double == 1.1)
            #expect(fields["privacy"] as? String == mode)
            #expect(fields["preClipNorm"] as? Double != nil)
        }
        let final = try Self.globalAfter(round: 3, f)
        #expect(final.tensors.allSatisfy { $0.values.allSatisfy(\.isFinite) })
    }

    @Test func noRowOfASitesDataIsInAnythingItSends() async throws {
        let f = try Self.federation(Self.fleet(rounds: 2, secure: false))
        try await Self.drive(f) { try Self.state(f).state == .completed }
        for (transport, (_, share)) in zip(f.transports, Self.sites) {
            let sent = transport.sent.withLock { $0 }
            #expect(!sent.isEmpty)
            let bytes = sent.flatMap { $0 }
            let text = String(decoding: bytes, as: UTF8.self)
            let csv = try String(
                contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Examples/federated/data/\(share).csv"),
                encoding: .utf8
            )
            let data = try Self.data(share)
            var leaked = 0
            for (i, line) in csv.split(separator: "\n").enumerated() {
                if text.contains(line) { leaked += 1 }
                // The row as float32 values, raw and as the trainer scales them.
                for scale: Float in [1, 16] {
                    let row = (0..<data.featureCount).map { data.features[i * data.featureCount + $0] / scale }
                    let pattern = row.withUnsafeBytes { Array($0) }
                    if Self.contains(bytes, pattern) { leaked += 1 }
                }
            }
            #expect(leaked == 0, "\(share): \(leaked) rows found in what the site sent")
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count, let first = needle.first else { return false }
        var i = 0
        while i + needle.count <= haystack.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// A poll reads the store only when a workload record changed since the last read: polls with nothing new
    /// leave the coordinator on the generation it matched, and a cancellation moves the generation, so the
    /// very next poll drops the cancelled run's tasks.
    @Test func pollsReadTheStoreOnlyAfterAWorkloadChanged() async throws {
        let f = try Self.federation(Self.fleet(rounds: 3))
        let site = Self.sites[0].0
        // Every site polls until the round has opened and the run's own records are read back.
        for _ in 0..<3 {
            for (each, _) in Self.sites { _ = await f.coordinator.tasks(for: each) }
        }
        #expect(await f.coordinator.tasks(for: site).tasks.map(\.workload) == ["digits"])
        let generation = await f.harness.plane.workloadGeneration
        #expect(await f.coordinator.matchedGeneration == generation)
        for _ in 0..<20 { _ = await f.coordinator.tasks(for: site) }
        #expect(await f.harness.plane.workloadGeneration == generation)
        #expect(await f.coordinator.matchedGeneration == generation)
        _ = try await f.harness.plane.cancel("digits", by: F.requester)
        #expect(await f.harness.plane.workloadGeneration > generation)
        #expect(await f.coordinator.tasks(for: site).tasks.isEmpty)
        #expect(await f.coordinator.matchedGeneration == f.harness.plane.workloadGeneration)
    }

    @Test func updatesThatWouldCrossABorderNoPolicyAllowsAreRefused() async throws {
        let h = try F.harness(fleetText: Self.fleet(cross: "[KE, UG]"))
        // Declared in the fleet: the coordinator refuses it before any round and says why.
        let coordinator = h.coordinator()
        await coordinator.tick()
        let record = try #require(try h.store.workload(named: "digits"))
        #expect(record.state == .failed)
        #expect(
            record.detail
                == "refused: updates from dar-1 (TZ) to the coordinator nairobi-1 (KE) would cross a border that a policy's updatesMayCross does not allow"
        )
        let tasks = await coordinator.tasks(for: "dar-1")
        #expect(tasks.tasks.isEmpty)
    }
}
