import Foundation
import SovereignBase
import SovereignFederation
import SovereignLedger
import SovereignModel
import SovereignPlanner
import Testing

@testable import SovereignServer

/// The federation's round machine on its own, without HTTP, disk or a clock: rounds driven through
/// opening, model downloads, updates, dropouts, the four phases of secure aggregation, differential
/// privacy, deadlines, retries and completion, asserting the phase and the effects of every step.
struct RoundMachineTests {
    /// The roster, sorted as a round holds it.
    static let roster = ["dar-1", "kampala-1", "nairobi-1"]

    /// A machine for the `digits` workload of ``FederationTests/fleet(rounds:secure:extra:cross:)``
    /// (minSites 2, threshold 2, round timeout 60 s), before any round.
    static func machine(rounds: Int = 2, secure: Bool = false, extra: String = "") throws -> RoundMachine {
        let text = FederationTests.fleet(rounds: rounds, secure: secure, extra: extra)
        let fleet = try FleetLoader().load(sources: [("fleet.yaml", text)])
        let spec = try #require(fleet.workload(named: "digits"))
        let participants = try FederationCheck.participants(of: spec, in: fleet).get()
        let runtime = try FederationRuntime(
            name: "digits",
            federation: try #require(spec.federation),
            participants: participants,
            fleet: fleet
        )
        let model = try GlobalModel(
            weights: try runtime.initialWeights(),
            workload: "digits",
            round: 0,
            optimizer: ServerOptimizerState()
        )
        return try RoundMachine(runtime: runtime, finished: 0, model: model)
    }

    /// A plain update that moves every weight of `model` by `by`.
    static func update(_ model: GlobalModel, by delta: Float) throws -> SafetensorsFile {
        let tensors = model.weights.tensors.map {
            ModelWeights.Tensor(
                name: $0.name,
                shape: $0.shape,
                values: [Float](repeating: delta, count: $0.values.count)
            )
        }
        return try SafetensorsFile(bytes: try Safetensors.encode(ModelWeights(tensors)))
    }

    static func commit(examples: Int, preClipNorm: Double? = nil) -> UpdateCommit {
        UpdateCommit(chunks: 1, bytes: 1, sha256: "ab", examples: examples, preClipNorm: preClipNorm)
    }

    /// The ledger entries among `effects`, in order.
    static func entries(_ effects: [RoundEffect]) -> [LedgerEvent.Entry] {
        effects.flatMap { effect -> [LedgerEvent.Entry] in
            if case .record(let record) = effect { return record.entries.map(\.entry) }
            return []
        }
    }

    /// The records among `effects`, in order.
    static func records(_ effects: [RoundEffect]) -> [FederationRecord] {
        effects.compactMap { effect in
            if case .record(let record) = effect { return record }
            return nil
        }
    }

    /// The phase's case name, for a failure message (its data can be long).
    static func name(_ phase: RoundPhase) -> String {
        String(String(describing: phase).prefix { $0 != "(" })
    }

    /// Opens round 1 with every site at time 0.
    static func opened(_ machine: inout RoundMachine, random: inout SeededGenerator) throws {
        _ = try machine.advance(now: 0, live: roster, liveness: 10, using: &random)
    }

    @Test func aPendingWorkloadStartsRunningAndAFinishedOneCompletesAtOnce() throws {
        let fresh = try Self.machine()
        let started = Self.records(fresh.resume(pending: true))
        #expect(started.map(\.state) == [.running])
        #expect(started.first?.entries.map(\.kind) == ["federation.started"])
        #expect(fresh.resume(pending: false).isEmpty)

        let done = try RoundMachine(runtime: fresh.runtime, finished: 2, model: fresh.model)
        guard case .completed = done.phase else {
            Issue.record("expected completed, found \(Self.name(done.phase))")
            return
        }
        let completed = Self.records(done.resume(pending: false))
        #expect(completed.map(\.state) == [.completed])
        #expect(completed.first?.entries.map(\.kind) == ["federation.completed"])
    }

    @Test func aRoundOpensWithItsQuorumAfterOneLivenessWindow() throws {
        var machine = try Self.machine()
        var random = SeededGenerator(seed: 1)
        let alone = try machine.advance(now: 0, live: ["nairobi-1"], liveness: 10, using: &random)
        #expect(Self.records(alone).map(\.reason) == ["round 1 waits for sites: 1 of 2 needed are polling"])
        #expect(throws: ControlError.self) {
            try machine.expect(site: "nairobi-1", round: 1, attempt: 1, steps: [.train])
        }

        let pair = ["kampala-1", "nairobi-1"]
        #expect(try machine.advance(now: 1, live: pair, liveness: 10, using: &random).isEmpty)
        guard case .waiting(quorumSince: 1) = machine.phase else {
            Issue.record("expected to wait since 1, found \(Self.name(machine.phase))")
            return
        }
        #expect(try machine.advance(now: 10, live: pair, liveness: 10, using: &random).isEmpty)

        let opened = try machine.advance(now: 11, live: pair, liveness: 10, using: &random)
        #expect(opened.first == .prepareRound(folder: "round-1-1"))
        #expect(Self.records(opened).map(\.reason) == ["round 1 of 2 (attempt 1): train with kampala-1, nairobi-1"])
        guard case .training(let attendance, _) = machine.phase else {
            Issue.record("expected training, found \(Self.name(machine.phase))")
            return
        }
        #expect(attendance.roster == pair)
        #expect(attendance.expected == Set(pair))
        #expect(machine.task(for: "dar-1", chunkBytes: 1) == nil)
        #expect(machine.task(for: "nairobi-1", chunkBytes: 1)?.phase == .train)
    }

    @Test func aPlainRoundFoldsTheUpdatesAndDropsTheSiteThatMissedTheDeadline() throws {
        var machine = try Self.machine()
        var random = SeededGenerator(seed: 2)
        try Self.opened(&machine, random: &random)
        let before = machine.model

        #expect(Self.entries(machine.sendModel(to: "dar-1")).map(\.kind) == ["federation.model-sent"])
        #expect(machine.sendModel(to: "dar-1").isEmpty)

        let first = try machine.receiveUpdate(
            try Self.update(before, by: 1),
            site: "dar-1",
            round: 1,
            attempt: 1,
            commit: Self.commit(examples: 10),
            sha256: "ab"
        )
        #expect(Self.entries(first).first?.fields["examples"] == .number(10))
        #expect(Self.entries(first).first?.fields["to"] == .string("KE"))
        #expect(
            throws: ControlError(.outOfTurn, "site dar-1 already answered train this round", field: "phase")
        ) {
            try machine.expect(site: "dar-1", round: 1, attempt: 1, steps: [.train, .maskedInput])
        }
        #expect(
            throws: ControlError(.invalidUpdate, "expected at least 1 example, found 0", field: "examples")
        ) {
            _ = try machine.receiveUpdate(
                try Self.update(before, by: 1),
                site: "nairobi-1",
                round: 1,
                attempt: 1,
                commit: Self.commit(examples: 0),
                sha256: "ab"
            )
        }
        _ = try machine.receiveUpdate(
            try Self.update(before, by: 2),
            site: "nairobi-1",
            round: 1,
            attempt: 1,
            commit: Self.commit(examples: 30),
            sha256: "ab"
        )
        #expect(try machine.advance(now: 59, live: Self.roster, liveness: 10, using: &random).isEmpty)

        let closed = try machine.advance(now: 60, live: Self.roster, liveness: 10, using: &random)
        guard case .saveModel(1, let bytes, _) = closed.first else {
            Issue.record("expected the model saved first, found \(closed)")
            return
        }
        #expect(bytes == machine.model.bytes)
        #expect(closed.dropFirst().first == .discardRound(folder: "round-1-1"))
        let round = try #require(Self.entries(closed).first)
        #expect(round.kind == "federation.round")
        #expect(round.fields["sites"] == .array([.string("dar-1"), .string("nairobi-1")]))
        #expect(round.fields["dropped"] == .array([.string("kampala-1")]))
        #expect(Self.records(closed).map(\.reason) == ["round 1 of 2 done with dar-1, nairobi-1"])
        #expect(machine.round == 2)
        guard case .waiting(quorumSince: nil) = machine.phase else {
            Issue.record("expected to wait for round 2, found \(Self.name(machine.phase))")
            return
        }
        // FedAvg: the mean of the deltas weighted by examples, (10·1 + 30·2) / 40.
        for (old, new) in zip(before.weights.tensors, machine.model.weights.tensors) {
            for (a, b) in zip(old.values, new.values) { #expect(abs(b - a - 1.75) < 1e-5) }
        }
    }

    @Test func aRoundShortOfItsQuorumIsRetriedThenFailsTheWorkload() throws {
        var machine = try Self.machine(extra: "    retries: 1")
        var random = SeededGenerator(seed: 3)
        for attempt in 1...2 {
            _ = try machine.advance(now: Double(attempt) * 100, live: Self.roster, liveness: 10, using: &random)
            #expect(machine.attempt == attempt)
            _ = try machine.receiveUpdate(
                try Self.update(machine.model, by: 1),
                site: "dar-1",
                round: 1,
                attempt: attempt,
                commit: Self.commit(examples: 5),
                sha256: "ab"
            )
            let missed = try machine.advance(now: Double(attempt) * 100 + 60, live: [], liveness: 10, using: &random)
            #expect(missed.first == .discardRound(folder: "round-1-\(attempt)"))
            #expect(Self.entries(missed).map(\.kind) == ["federation.round-missed"])
            let why = "round 1: 1 of 3 sites sent an update by the deadline, quorum 2"
            if attempt == 1 {
                #expect(Self.records(missed).map(\.reason) == ["retrying round 1: \(why)"])
                guard case .waiting = machine.phase else {
                    Issue.record("expected waiting, found \(Self.name(machine.phase))")
                    return
                }
            } else {
                #expect(Self.records(missed).map(\.state) == [.failed])
                #expect(Self.records(missed).map(\.reason) == ["round 1 missed its quorum 2 times: \(why)"])
                guard case .failed = machine.phase else {
                    Issue.record("expected failed, found \(Self.name(machine.phase))")
                    return
                }
            }
        }
    }

    @Test func aSecureRoundUnmasksTheSurvivorsSumWhenASiteDropsOutBeforeItsMaskedInput() throws {
        var machine = try Self.machine(secure: true)
        var random = SeededGenerator(seed: 4)
        try Self.opened(&machine, random: &random)
        let before = machine.model
        let setup = try #require(machine.task(for: "dar-1", chunkBytes: 1)?.secure?.setup)
        var clients = try Dictionary(
            uniqueKeysWithValues: Self.roster.map { ($0, try SecureAggregationClient(site: $0, setup: setup)) }
        )
        func client<T>(_ site: String, _ step: (inout SecureAggregationClient) throws -> T) throws -> T {
            var client = try #require(clients[site])
            defer { clients[site] = client }
            return try step(&client)
        }
        func send(_ message: SecureMessage, from site: String) throws {
            try machine.receive(message, site: site, round: 1, attempt: 1)
        }

        for site in Self.roster {
            try send(.keys(try client(site) { try $0.advertiseKeys(using: &random) }), from: site)
        }
        #expect(try machine.advance(now: 1, live: Self.roster, liveness: 10, using: &random).isEmpty)
        guard case .sharingKeys = machine.phase else {
            Issue.record("expected share keys, found \(Self.name(machine.phase))")
            return
        }
        for site in Self.roster {
            let directory = try #require(machine.task(for: site, chunkBytes: 1)?.secure?.directory)
            try send(.shares(try client(site) { try $0.shareKeys(directory, using: &random) }), from: site)
        }
        _ = try machine.advance(now: 2, live: Self.roster, liveness: 10, using: &random)
        guard case .maskedInput = machine.phase else {
            Issue.record("expected masked input, found \(Self.name(machine.phase))")
            return
        }

        // dar-1 drops out: only kampala-1 (100 examples, Δ = 0.1) and nairobi-1 (300, Δ = 0.3) send.
        for (site, examples, delta) in [("kampala-1", 100, Float(0.1)), ("nairobi-1", 300, Float(0.3))] {
            let bundle = try #require(machine.task(for: site, chunkBytes: 1)?.secure?.bundle)
            // The agent's weighted vector: w·Δ for every parameter, then w·clip, with w = examples / bound.
            let w = Float(examples) / 100_000
            let vector = [Float](repeating: w * delta, count: before.weights.parameterCount) + [w]
            let quantised = try Quantisation(clip: 1, sites: 3).quantise(vector)
            let masked = try client(site) { try $0.maskedInput(bundle, input: quantised) }
            let tensor = try SafetensorsTensor(
                name: maskedUpdateTensorName,
                shape: [masked.maskedVector.count],
                uint32: masked.maskedVector
            )
            let file = try SafetensorsFile(bytes: try Safetensors.encode([tensor]))
            let effects = try machine.receiveUpdate(
                file,
                site: site,
                round: 1,
                attempt: 1,
                commit: Self.commit(examples: 0),
                sha256: "ab"
            )
            #expect(Self.entries(effects).first?.fields["secureAggregation"] == .bool(true))
            #expect(Self.entries(effects).first?.fields["examples"] == nil)
        }
        #expect(try machine.advance(now: 62, live: Self.roster, liveness: 10, using: &random).isEmpty)
        guard case .unmasking(_, _, let request) = machine.phase else {
            Issue.record("expected unmasking, found \(Self.name(machine.phase))")
            return
        }
        #expect(request.survivors == ["kampala-1", "nairobi-1"])
        #expect(request.dropped == ["dar-1"])
        let kampala = try client("kampala-1") { try $0.unmask(request) }
        #expect(
            throws: ControlError(
                .wrongSite,
                "expected a message from nairobi-1 (the token's site), found one from kampala-1",
                field: "site"
            )
        ) { try machine.receive(.unmask(kampala), site: "nairobi-1", round: 1, attempt: 1) }
        try send(.unmask(kampala), from: "kampala-1")
        try send(.unmask(try client("nairobi-1") { try $0.unmask(request) }), from: "nairobi-1")

        let closed = try machine.advance(now: 63, live: Self.roster, liveness: 10, using: &random)
        let round = try #require(Self.entries(closed).first { $0.kind == "federation.round" })
        #expect(round.fields["sites"] == .array([.string("kampala-1"), .string("nairobi-1")]))
        #expect(round.fields["dropped"] == .array([.string("dar-1")]))
        #expect(round.fields["secureAggregation"] == .bool(true))
        // The survivors' mean weighted by examples, (100·0.1 + 300·0.3) / 400, through quantisation.
        for (old, new) in zip(before.weights.tensors, machine.model.weights.tensors) {
            for (a, b) in zip(old.values, new.values) { #expect(abs(b - a - 0.25) < 1e-3) }
        }
    }

    @Test func centralPrivacyAddsSeededNoiseAndSpendsBudgetEveryRound() throws {
        let privacy = "    privacy: {mode: central, clipNorm: 0.5, noiseMultiplier: 1.1, delta: 1e-5}"
        func run(seed: UInt64) throws -> (RoundMachine, [RoundEffect]) {
            var machine = try Self.machine(rounds: 1, extra: privacy)
            var random = SeededGenerator(seed: seed)
            try Self.opened(&machine, random: &random)
            for site in Self.roster {
                let effects = try machine.receiveUpdate(
                    try Self.update(machine.model, by: 0.01),
                    site: site,
                    round: 1,
                    attempt: 1,
                    commit: Self.commit(examples: 50, preClipNorm: 0.2),
                    sha256: "ab"
                )
                let entry = try #require(Self.entries(effects).first)
                #expect(entry.fields["clipNorm"] == .number(0.5))
                #expect(entry.fields["preClipNorm"] == .number(0.2))
            }
            // Everyone answered: the round closes before its deadline.
            let effects = try machine.advance(now: 1, live: Self.roster, liveness: 10, using: &random)
            return (machine, effects)
        }
        let (machine, effects) = try run(seed: 7)
        let (again, _) = try run(seed: 7)
        let (other, _) = try run(seed: 8)
        #expect(machine.model.sha256 == again.model.sha256)
        #expect(machine.model.sha256 != other.model.sha256)

        let kinds = Self.entries(effects).map(\.kind)
        #expect(kinds == ["federation.round", "federation.completed"])
        let round = try #require(Self.entries(effects).first)
        guard case .number(let epsilon)? = round.fields["epsilon"] else {
            Issue.record("expected ε in \(round.fields)")
            return
        }
        #expect(epsilon > 0)
        #expect(round.fields["privacy"] == .string("central"))
        #expect(Self.records(effects).last?.state == .completed)
        #expect(Self.entries(effects).last?.fields["epsilon"] == .number(epsilon))
        guard case .completed = machine.phase else {
            Issue.record("expected completed, found \(Self.name(machine.phase))")
            return
        }
    }
}
