import Foundation
import SovereignFederation
import SovereignLedger
import SovereignModel
import Testing

@testable import SovereignServer

/// Every kind of ledger event writes, byte for byte, the entry the control plane built by hand before events
/// were typed: the expected lines were captured from that code (the same inputs, sequence 7, the same time).
struct LedgerEventTests {
    /// The canonical JSON of `event` as the entry numbered 7.
    static func json(_ event: LedgerEvent) -> String {
        let entry = event.entry
        let stored = LedgerEntry(sequence: 7, time: "2026-12-04T10:00:00.123Z", kind: entry.kind, fields: entry.fields)
        return String(decoding: stored.canonicalJSON(), as: UTF8.self)
    }

    static let identity = "token:1a2b3c4d5e6f"

    /// Attempt 3 of `llm-7b` at `nairobi-1`, ended after `ran` seconds.
    static func ended(_ ran: Double = 12.3456, exit: Int32? = nil, signal: Int32? = nil) -> LedgerEvent.EndedAttempt {
        LedgerEvent.EndedAttempt(
            workload: "llm-7b",
            attempt: 3,
            site: "nairobi-1",
            ranSeconds: ran,
            exitStatus: exit,
            signal: signal
        )
    }

    /// The operators' and the power route's events.
    static func requests() throws -> [LedgerEvent] {
        let fleet = try FleetLoader().load(sources: [("fleet.yaml", FederationTests.fleet())])
        let digits = try #require(fleet.workload(named: "digits"))
        let signal = PowerSignalRecord(
            site: "nairobi-1",
            at: 1,
            available: 1_500_000.5,
            forecast: [.init(at: 1, available: 2), .init(at: 2, available: 3)],
            ambient: 31.5
        )
        var still = signal
        still.ambient = nil
        return [
            .submitted(.init(digits, by: identity)),
            .pauseRequested(workload: "llm-7b", by: identity),
            .resumeRequested(workload: "llm-7b", by: identity),
            .cancelRequested(workload: "llm-7b", by: identity),
            .powerSignal(.init(signal, by: identity)),
            .powerSignal(.init(still, by: identity)),
        ]
    }

    /// The settlements of ended attempts.
    static let settlements: [LedgerEvent] = [
        .completed(ended(exit: 0)),
        .attemptNotStarted(ended(0)),
        .attemptFailed(ended(exit: 0), .init(reason: "did not run: locked", failures: 1), retryInSeconds: 2),
        .paused(ended(signal: 9), .init(bytes: 4096, stale: true)),
        .paused(ended(exit: 143), .init(bytes: 0, stale: false)),
        .failed(ended(exit: 3), .init(reason: "exited with status 3", failures: 3)),
        .attemptFailed(ended(exit: 1), .init(reason: "exited with status 1", failures: 2), retryInSeconds: 4),
        .attemptFailed(
            ended(),
            .init(reason: "did not run: another instance holds the lock", failures: 1),
            retryInSeconds: 2
        ),
        .cancelled(.stopped(ended(exit: 143), .init(bytes: 4096, stale: false))),
    ]

    /// The control loop's placements, stops and kills.
    static let placements: [LedgerEvent] = {
        let placement = LedgerEvent.Placement(
            workload: "llm-7b",
            site: "kampala-1",
            pool: "a100",
            accelerators: 4,
            attempt: 2
        )
        return [
            .cancelled(.waiting(workload: "llm-7b")),
            .datasetAccessed(.init(dataset: "records", workload: "llm-7b", site: "nairobi-1", jurisdiction: "KE")),
            .placed(placement, reasons: "policy power-aware; site kampala-1 in UG; records may be processed in KE,UG"),
            .started(placement),
            .migrated(placement, checkpointBytes: 123_456_789_012, from: "nairobi-1"),
            .resumed(placement, checkpointBytes: 123_456_789_012),
            .killed(workload: "llm-7b", attempt: 2),
            .pausing(
                workload: "llm-7b",
                site: "nairobi-1",
                attempt: 2,
                reason: "power at nairobi-1: 1.2 MW for IT, 1.5 MW running"
            ),
        ]
    }()

    /// The federation's events for the `digits` workload, with secure aggregation or with central privacy.
    static func federation(privacy: Bool) throws -> [LedgerEvent] {
        let extra = privacy ? "    privacy: {mode: central, clipNorm: 0.5, noiseMultiplier: 1.1, delta: 1e-5}" : ""
        let machine = try RoundMachineTests.machine(rounds: 3, secure: !privacy, extra: extra)
        let runtime = machine.runtime
        let sites = ["kampala-1", "nairobi-1"]
        let roster = RoundMachineTests.roster
        func round(_ epsilon: Double?) -> LedgerEvent {
            .roundClosed(
                .init(
                    runtime,
                    round: 2,
                    attempt: 2,
                    sites: sites,
                    roster: roster,
                    modelSHA256: "ef56",
                    epsilon: epsilon
                )
            )
        }
        let plain = UpdateCommit(chunks: 2, bytes: 2048, sha256: "cd", examples: 300, preClipNorm: 0.75)
        let masked = UpdateCommit(chunks: 2, bytes: 2048, sha256: "cd", examples: 0, preClipNorm: nil)
        return [
            .federationRefused(workload: "digits", reason: "dataset records may not leave KE"),
            .federationStarted(.init(runtime, modelSHA256: "ab12")),
            .modelSent(.init(runtime, round: 2, site: "kampala-1", model: machine.model)),
            .updateReceived(
                .init(runtime, round: 2, attempt: 1, site: "kampala-1", commit: plain, sha256: "cd34", masked: false)
            ),
            .updateReceived(
                .init(runtime, round: 2, attempt: 1, site: "dar-1", commit: masked, sha256: "cd35", masked: true)
            ),
            round(1.25),
            round(.infinity),
            round(nil),
            .roundMissed(workload: "digits", round: 2, attempt: 1, reason: "1 of 2 sites answered"),
            .federationCompleted(.init(runtime, modelSHA256: "ef56", epsilon: 2.5)),
            .federationCompleted(.init(runtime, modelSHA256: "ef56", epsilon: nil)),
        ]
    }

    static func events() throws -> [LedgerEvent] {
        try requests() + settlements + placements + federation(privacy: false) + federation(privacy: true)
            + siteAgents
    }

    /// The events of sites run by site agents (added after the capture: their bytes are stated here).
    static let siteAgents: [LedgerEvent] = [
        .lost(ended(40), silentSince: "2026-12-04T09:59:00.000Z", checkpointBytes: 4096),
        .checkpointMoved(
            LedgerEvent.CheckpointArrival(
                workload: "llm-7b",
                transfer: "llm-7b.42",
                from: "nairobi-1",
                to: "mombasa-1",
                route: "relay",
                jurisdictions: ["KE"],
                manifest: "ab12",
                bytes: 4096
            )
        ),
        .completedLate(
            ended(40, exit: 0),
            LedgerEvent.LateCompletion(lostAt: "2026-12-04T10:00:20.000Z", superseded: 4, counted: true)
        ),
        .completedLate(
            ended(40, exit: 0),
            LedgerEvent.LateCompletion(lostAt: "2026-12-04T10:00:20.000Z", superseded: nil, counted: false)
        ),
    ]

    @Test func everyEventWritesTheBytesOfTheEntryBuiltByHandBefore() throws {
        let events = try Self.events()
        #expect(events.count == Self.expected.count)
        for (event, expected) in zip(events, Self.expected) {
            #expect(Self.json(event) == expected)
        }
    }

    @Test func theTableHoldsEveryKind() throws {
        let kinds = Set(try Self.events().map(\.kind))
        // One kind per case of LedgerEvent; `workload.completed` also for a completion reported late.
        #expect(kinds.count == 28)
    }

    /// Attempt 3 of `llm-7b`, ended at 112.3456 s after starting at 100 s, settled with `status`.
    static func settle(
        exit: Int32? = nil,
        signal: Int32? = nil,
        refused: String? = nil,
        gone: Bool = false,
        started: Bool = true,
        term: Bool = false,
        kill: Bool = false,
        cancel: Bool = false,
        failures: Int = 0,
        checkpoint: Int64 = 0
    ) -> [LedgerEvent] {
        var attempt = AttemptRecord(
            workload: "llm-7b",
            number: 3,
            site: "nairobi-1",
            pool: "h100",
            accelerators: 8,
            resume: false,
            startedAt: 100,
            logPath: "/l"
        )
        if started { attempt.handle = AttemptHandle("1234") }
        attempt.endedAt = 112.3456
        if term { attempt.termAt = 105 }
        if kill { attempt.killAt = 110 }
        var record = WorkloadRecord(name: "llm-7b", source: "api", document: "", at: 1)
        record.state = .running
        record.cancelRequested = cancel
        record.failures = failures
        var change = StateChange()
        AttemptSettlement(
            status: ExitStatus(exit: exit, signal: signal, refused: refused),
            run: nil,
            checkpointBytes: checkpoint,
            now: 120,
            gone: gone
        )
        .apply(to: &attempt, record: &record, change: &change)
        return change.ledger
    }

    @Test func aSettlementRecordsTheEventOfHowTheAttemptEnded() {
        let settled = [
            Self.settle(exit: 0),
            Self.settle(gone: true, started: false),
            Self.settle(exit: 0, refused: "locked", term: true, cancel: true, checkpoint: 4096),
            Self.settle(signal: 9, term: true, kill: true, checkpoint: 4096),
            Self.settle(exit: 143, term: true),
            Self.settle(exit: 3, failures: 2),
            Self.settle(exit: 1, failures: 1, checkpoint: 10),
            Self.settle(refused: "another instance holds the lock"),
            Self.settle(exit: 143, term: true, cancel: true, checkpoint: 4096),
        ]
        #expect(settled.map { $0.count } == Array(repeating: 1, count: Self.settlements.count))
        for (events, expected) in zip(settled, Self.settlements) {
            #expect(events.map(Self.json) == [Self.json(expected)])
        }
    }

    /// The canonical JSON the hand-built entries wrote for the inputs of ``events()``, in order.
    static let expected: [String] = [
        #"{"fields":{"by":"token:1a2b3c4d5e6f","datasets":["ke-notes","ug-notes","tz-notes"],"preemptible":true,"priority":0,"type":"federated","workload":"digits"},"kind":"workload.submitted","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"by":"token:1a2b3c4d5e6f","workload":"llm-7b"},"kind":"workload.pause-requested","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"by":"token:1a2b3c4d5e6f","workload":"llm-7b"},"kind":"workload.resume-requested","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"by":"token:1a2b3c4d5e6f","workload":"llm-7b"},"kind":"workload.cancel-requested","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"ambientCelsius":31.5,"availableWatts":1500000.5,"by":"token:1a2b3c4d5e6f","forecastPoints":2,"site":"nairobi-1"},"kind":"power.signal","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"availableWatts":1500000.5,"by":"token:1a2b3c4d5e6f","forecastPoints":2,"site":"nairobi-1"},"kind":"power.signal","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"exitStatus":0,"ranSeconds":12.346,"site":"nairobi-1","workload":"llm-7b"},"kind":"workload.completed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"ranSeconds":0,"reason":"the server stopped between recording the start and starting the process","site":"nairobi-1","workload":"llm-7b"},"kind":"workload.attempt-not-started","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"exitStatus":0,"failures":1,"ranSeconds":12.346,"reason":"did not run: locked","retryInSeconds":2,"site":"nairobi-1","workload":"llm-7b"},"kind":"workload.attempt-failed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"checkpointBytes":4096,"checkpointStale":true,"ranSeconds":12.346,"signal":9,"site":"nairobi-1","workload":"llm-7b"},"kind":"workload.paused","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"checkpointBytes":0,"checkpointStale":false,"exitStatus":143,"ranSeconds":12.346,"site":"nairobi-1","workload":"llm-7b"},"kind":"workload.paused","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"exitStatus":3,"failures":3,"ranSeconds":12.346,"reason":"exited with status 3","site":"nairobi-1","workload":"llm-7b"},"kind":"workload.failed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"exitStatus":1,"failures":2,"ranSeconds":12.346,"reason":"exited with status 1","retryInSeconds":4,"site":"nairobi-1","workload":"llm-7b"},"kind":"workload.attempt-failed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"failures":1,"ranSeconds":12.346,"reason":"did not run: another instance holds the lock","retryInSeconds":2,"site":"nairobi-1","workload":"llm-7b"},"kind":"workload.attempt-failed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"checkpointBytes":4096,"checkpointStale":false,"exitStatus":143,"ranSeconds":12.346,"site":"nairobi-1","workload":"llm-7b"},"kind":"workload.cancelled","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"workload":"llm-7b"},"kind":"workload.cancelled","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"dataset":"records","jurisdiction":"KE","site":"nairobi-1","workload":"llm-7b"},"kind":"dataset.accessed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"accelerators":4,"attempt":2,"pool":"a100","reasons":"policy power-aware; site kampala-1 in UG; records may be processed in KE,UG","site":"kampala-1","workload":"llm-7b"},"kind":"workload.placed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"accelerators":4,"attempt":2,"pool":"a100","site":"kampala-1","workload":"llm-7b"},"kind":"workload.started","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"accelerators":4,"attempt":2,"checkpointBytes":123456789012,"from":"nairobi-1","pool":"a100","site":"kampala-1","to":"kampala-1","workload":"llm-7b"},"kind":"workload.migrated","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"accelerators":4,"attempt":2,"checkpointBytes":123456789012,"pool":"a100","site":"kampala-1","workload":"llm-7b"},"kind":"workload.resumed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":2,"reason":"no exit within the grace period; its checkpoint may be stale","workload":"llm-7b"},"kind":"workload.killed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":2,"reason":"power at nairobi-1: 1.2 MW for IT, 1.5 MW running","site":"nairobi-1","workload":"llm-7b"},"kind":"workload.pausing","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"reason":"dataset records may not leave KE","workload":"digits"},"kind":"federation.refused","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"coordinator":"nairobi-1","datasets":["ke-notes","ug-notes","tz-notes"],"modelSHA256":"ab12","rounds":3,"secureAggregation":true,"sites":["nairobi-1","kampala-1","dar-1"],"strategy":"fedavg","workload":"digits"},"kind":"federation.started","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"bytes":2800,"from":"KE","round":2,"sha256":"c3ebceb1ed7e886e97c21f8dd7c85567fee4646568a2fd32a3304fe62b391df4","site":"kampala-1","to":"UG","workload":"digits"},"kind":"federation.model-sent","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":1,"bytes":2048,"dataset":"ug-notes","examples":300,"from":"UG","preClipNorm":0.75,"round":2,"secureAggregation":true,"sha256":"cd34","site":"kampala-1","to":"KE","workload":"digits"},"kind":"federation.update","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":1,"bytes":2048,"dataset":"tz-notes","from":"TZ","round":2,"secureAggregation":true,"sha256":"cd35","site":"dar-1","to":"KE","workload":"digits"},"kind":"federation.update","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":2,"dropped":["dar-1"],"modelSHA256":"ef56","round":2,"secureAggregation":true,"sites":["kampala-1","nairobi-1"],"strategy":"fedavg","workload":"digits"},"kind":"federation.round","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":2,"dropped":["dar-1"],"modelSHA256":"ef56","round":2,"secureAggregation":true,"sites":["kampala-1","nairobi-1"],"strategy":"fedavg","workload":"digits"},"kind":"federation.round","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":2,"dropped":["dar-1"],"modelSHA256":"ef56","round":2,"secureAggregation":true,"sites":["kampala-1","nairobi-1"],"strategy":"fedavg","workload":"digits"},"kind":"federation.round","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":1,"reason":"1 of 2 sites answered","round":2,"workload":"digits"},"kind":"federation.round-missed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"epsilon":2.5,"modelSHA256":"ef56","rounds":3,"workload":"digits"},"kind":"federation.completed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"modelSHA256":"ef56","rounds":3,"workload":"digits"},"kind":"federation.completed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"reason":"dataset records may not leave KE","workload":"digits"},"kind":"federation.refused","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"coordinator":"nairobi-1","datasets":["ke-notes","ug-notes","tz-notes"],"modelSHA256":"ab12","rounds":3,"secureAggregation":false,"sites":["nairobi-1","kampala-1","dar-1"],"strategy":"fedavg","workload":"digits"},"kind":"federation.started","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"bytes":2800,"from":"KE","round":2,"sha256":"c3ebceb1ed7e886e97c21f8dd7c85567fee4646568a2fd32a3304fe62b391df4","site":"kampala-1","to":"UG","workload":"digits"},"kind":"federation.model-sent","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":1,"bytes":2048,"clipNorm":0.5,"dataset":"ug-notes","examples":300,"from":"UG","noiseMultiplier":1.1,"preClipNorm":0.75,"privacy":"central","round":2,"secureAggregation":false,"sha256":"cd34","site":"kampala-1","to":"KE","workload":"digits"},"kind":"federation.update","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":1,"bytes":2048,"clipNorm":0.5,"dataset":"tz-notes","from":"TZ","noiseMultiplier":1.1,"privacy":"central","round":2,"secureAggregation":false,"sha256":"cd35","site":"dar-1","to":"KE","workload":"digits"},"kind":"federation.update","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":2,"delta":0.00001,"dropped":["dar-1"],"epsilon":1.25,"modelSHA256":"ef56","privacy":"central","round":2,"secureAggregation":false,"sites":["kampala-1","nairobi-1"],"strategy":"fedavg","workload":"digits"},"kind":"federation.round","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":2,"delta":0.00001,"dropped":["dar-1"],"epsilon":"infinity","modelSHA256":"ef56","privacy":"central","round":2,"secureAggregation":false,"sites":["kampala-1","nairobi-1"],"strategy":"fedavg","workload":"digits"},"kind":"federation.round","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":2,"dropped":["dar-1"],"modelSHA256":"ef56","round":2,"secureAggregation":false,"sites":["kampala-1","nairobi-1"],"strategy":"fedavg","workload":"digits"},"kind":"federation.round","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":1,"reason":"1 of 2 sites answered","round":2,"workload":"digits"},"kind":"federation.round-missed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"epsilon":2.5,"modelSHA256":"ef56","rounds":3,"workload":"digits"},"kind":"federation.completed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"modelSHA256":"ef56","rounds":3,"workload":"digits"},"kind":"federation.completed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"checkpointBytes":4096,"ranSeconds":40,"reason":"site nairobi-1 silent since 2026-12-04T09:59:00.000Z","site":"nairobi-1","workload":"llm-7b"},"kind":"workload.lost","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"bytes":4096,"from":"nairobi-1","jurisdictions":["KE"],"manifestSHA256":"ab12","purpose":"resume","route":"relay","to":"mombasa-1","transfer":"llm-7b.42","workload":"llm-7b"},"kind":"checkpoint.moved","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"exitStatus":0,"lostAt":"2026-12-04T10:00:20.000Z","ranSeconds":40,"reportedLate":true,"site":"nairobi-1","supersededAttempt":4,"workload":"llm-7b"},"kind":"workload.completed","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
        #"{"fields":{"attempt":3,"exitStatus":0,"lostAt":"2026-12-04T10:00:20.000Z","ranSeconds":40,"reason":"the workload had already ended: not counted again","reportedLate":true,"site":"nairobi-1","workload":"llm-7b"},"kind":"workload.completed-late","sequence":7,"time":"2026-12-04T10:00:00.123Z"}"#,
    ]
}
