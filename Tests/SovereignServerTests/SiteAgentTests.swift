import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignModel
import SovereignTesting
import Testing

@testable import SovereignServer

/// Sites that run their work through site agents: the control plane's side (assignments, leases, dark
/// sites), the agent's decisions, and the poll route with every role's token.
struct SiteAgentControlTests {
    typealias F = ControlFixtures
    static let kenya: Set<String> = ["nairobi-1", "mombasa-1"]

    static func record(_ h: F.Harness, _ name: String) throws -> WorkloadRecord {
        try #require(try h.store.workload(named: name))
    }

    static func poll(
        _ h: F.Harness,
        _ site: String,
        _ attempts: [ReportedAttempt] = [],
        seen: Int64 = 0
    )
        async throws -> AgentAssignments
    {
        try await h.plane.agentPoll(
            site: site,
            report: AgentReport(agent: "test", seenThrough: seen, attempts: attempts, checkpoints: []),
            by: F.requester
        )
    }

    /// Submits `train` and returns its site and the assignment its agent is given.
    static func started(_ h: F.Harness) async throws -> (site: String, assignment: Assignment) {
        _ = try await h.plane.submit(document: F.workload("train"), by: F.requester)
        try await h.plane.reconcile()
        let site = try #require(try record(h, "train").site)
        let answer = try await poll(h, site)
        try #require(answer.attempts.count == 1)
        return (site, answer.attempts[0])
    }

    @Test func anAgentIsAssignedItsSitesWorkAndReportsHowItEnded() async throws {
        let h = try F.harness(agentSites: Self.kenya)
        let (site, assignment) = try await Self.started(h)
        #expect(Self.kenya.contains(site))
        #expect(h.executor.live.isEmpty, "nothing runs on the server's machine")
        #expect(assignment.workload == "train" && assignment.command == ["python3", "train.py"])
        #expect(!assignment.stop && !assignment.kill && !assignment.resume)
        #expect(assignment.gracePeriodSeconds == 30)
        let other = site == "nairobi-1" ? "mombasa-1" : "nairobi-1"
        #expect(try await Self.poll(h, other).attempts.isEmpty)
        _ = try await Self.poll(h, site, [.running(id: assignment.id, workload: "train")], seen: assignment.id)
        try await h.plane.reconcile()
        #expect(try Self.record(h, "train").state == .running)
        let done = ReportedAttempt.ended(id: assignment.id, workload: "train", status: ExitStatus(exit: 0))
        let after = try await Self.poll(h, site, [done], seen: assignment.id)
        #expect(try Self.record(h, "train").state == .completed)
        #expect(after.attempts.isEmpty)
    }

    @Test func aStopIsAnAssignmentAndAnExitAfterItIsAPause() async throws {
        let h = try F.harness(agentSites: Self.kenya)
        let (site, assignment) = try await Self.started(h)
        _ = try await h.plane.setHeld("train", held: true, by: F.requester)
        let answer = try await Self.poll(h, site, [.running(id: assignment.id, workload: "train")], seen: assignment.id)
        #expect(answer.attempts.first?.stop == true)
        #expect(answer.attempts.first?.kill == false)
        let paused = ReportedAttempt.ended(id: assignment.id, workload: "train", status: ExitStatus(exit: 143))
        _ = try await h.plane.agentPoll(
            site: site,
            report: AgentReport(
                agent: "test",
                seenThrough: assignment.id,
                attempts: [paused],
                checkpoints: [ReportedCheckpoint(workload: "train", bytes: 4096)]
            ),
            by: F.requester
        )
        let record = try Self.record(h, "train")
        #expect(record.state == .paused)
        #expect(record.checkpointSite == site)
    }

    /// A poll that sends back the version of the answer its agent acted on, with a wait, is held while
    /// nothing changes for the site, and answered as soon as something does (here a stop the operator
    /// orders); a poll with another version is answered at once. The lease is long (its quarter, the most a
    /// poll is held, is 100 s), so an answer within 50 s came from the change, not from the hold running out.
    @Test func aHeldPollIsAnsweredWhenWhatTheSiteShouldDoChanges() async throws {
        let h = try F.harness(agentSites: Self.kenya, lease: .seconds(400))
        let (site, assignment) = try await Self.started(h)
        let running = [ReportedAttempt.running(id: assignment.id, workload: "train")]
        let first = try await Self.poll(h, site, running, seen: assignment.id)
        let version = try #require(first.version)
        #expect(version.count == 64)
        var stale = AgentReport(agent: "test", seenThrough: assignment.id, attempts: running, checkpoints: [])
        stale.wait = 60
        stale.answered = String(repeating: "0", count: 64)
        let atOnce = try await h.plane.agentPoll(site: site, report: stale, by: F.requester)
        #expect(atOnce.version == version)
        var current = stale
        current.answered = version
        let started = ContinuousClock.now
        let held = Task { try await h.plane.agentPoll(site: site, report: current, by: F.requester) }
        let agents = try #require(await h.plane.agents)
        while await agents.heldPolls[site, default: [:]].isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        _ = try await h.plane.setHeld("train", held: true, by: F.requester)
        try await h.plane.reconcile()
        let answer = try await held.value
        #expect(ContinuousClock.now - started < .seconds(50))
        #expect(answer.attempts.first?.stop == true)
        #expect(answer.version != version)
        #expect(await agents.heldPolls[site, default: [:]].isEmpty)
    }

    /// A held poll whose site sees no change is answered when its wait runs out, with the same answer.
    @Test func aHeldPollWithoutChangeIsAnsweredWhenItsWaitRunsOut() async throws {
        let h = try F.harness(agentSites: Self.kenya)
        let (site, assignment) = try await Self.started(h)
        let running = [ReportedAttempt.running(id: assignment.id, workload: "train")]
        let first = try await Self.poll(h, site, running, seen: assignment.id)
        var report = AgentReport(agent: "test", seenThrough: assignment.id, attempts: running, checkpoints: [])
        report.wait = 0.2
        report.answered = first.version
        var answer = try await h.plane.agentPoll(site: site, report: report, by: F.requester)
        #expect((answer.heldSeconds ?? 0) > 0, "the agent's lease runs from its report plus the hold")
        answer.heldSeconds = nil
        #expect(answer == first)
    }

    /// Past its lease without reaching the control plane, an agent checkpoints and stops its work itself;
    /// the control plane settles that as a pause, never as a failure.
    @Test func anAgentThatStoppedOnItsOwnLeftItsWorkPaused() async throws {
        let h = try F.harness(agentSites: Self.kenya)
        let (site, assignment) = try await Self.started(h)
        var status = ExitStatus(exit: 143)
        status.stoppedAt = h.clock.read().timeIntervalSince1970
        _ = try await Self.poll(
            h,
            site,
            [.ended(id: assignment.id, workload: "train", status: status)],
            seen: assignment.id
        )
        let record = try Self.record(h, "train")
        #expect(record.failures == 0)
        #expect(try h.store.attempts(of: "train").first?.outcome == "paused")
    }

    /// Between L and 2L of silence the work is still the silent site's (its agent may still be stopping
    /// it); after 2L it is gone, the site is planned with no power, and the work starts elsewhere in its
    /// residency, from scratch, since its checkpoint stays at the dark site.
    @Test func aSiteSilentForTwiceTheLeaseGoesDarkAndItsWorkMovesWithinItsResidency() async throws {
        let h = try F.harness(agentSites: Self.kenya, lease: .seconds(10))
        let (site, assignment) = try await Self.started(h)
        _ = try await h.plane.agentPoll(
            site: site,
            report: AgentReport(
                agent: "test",
                seenThrough: assignment.id,
                attempts: [.running(id: assignment.id, workload: "train")],
                checkpoints: [ReportedCheckpoint(workload: "train", bytes: 4096)]
            ),
            by: F.requester
        )
        h.clock.advance(15)
        let other = site == "nairobi-1" ? "mombasa-1" : "nairobi-1"
        _ = try await Self.poll(h, other)
        try await h.plane.reconcile()
        #expect(try Self.record(h, "train").site == site, "within 2L the work stays where it was")
        h.clock.advance(10)
        _ = try await Self.poll(h, other)
        try await h.plane.reconcile()
        let attempts = try h.store.attempts(of: "train")
        #expect(attempts.first?.outcome == "lost")
        let record = try Self.record(h, "train")
        #expect(record.site == other)
        let last = try #require(attempts.last)
        #expect(last.site == other && !last.resume)
        let history = try h.store.transitions(of: "train").map(\.reason)
        #expect(history.contains { $0.contains("from scratch: its checkpoint stays at \(site)") })
        let plan = try #require(await h.plane.currentPlan)
        let dark = try JSONSerialization.jsonObject(with: JSONEncoder().encode(plan)) as? [String: Any]
        let sites = dark?["sites"] as? [[String: Any]] ?? []
        #expect((sites.first { $0["name"] as? String == site }?["supplyWatts"] as? Double) == 0)
        #expect(await h.agents?.darkSites().keys.contains(site) == true)
        #expect((sites.first { $0["name"] as? String == site }?["agent"] as? String)?.hasPrefix("silent since") == true)
        #expect((sites.first { $0["name"] as? String == other }?["agent"] as? String) == "reporting")
        #expect((sites.first { $0["name"] as? String == "kigali-1" }?["agent"]) == nil)
    }

    /// An attempt the agent was given (its id at or below the agent's `seenThrough`) and has no record of
    /// is gone; one it has not been given yet is waiting for the agent's next poll.
    @Test func anAttemptItsAgentHasNoRecordOfIsGone() async {
        let agents = SiteAgentExecutor(
            sites: ["a"],
            lease: .seconds(10),
            relay: CheckpointRelay(root: URL(fileURLWithPath: "/nonexistent/relay")),
            clock: { Date(timeIntervalSince1970: 100) }
        )
        var attempt = AttemptRecord(
            workload: "w",
            number: 1,
            site: "a",
            pool: "p",
            accelerators: 1,
            resume: false,
            startedAt: 100,
            logPath: ""
        )
        attempt.id = 7
        #expect(await agents.observe([attempt]) == [.running])
        await agents.receive(AgentReport(agent: "x", seenThrough: 6, attempts: [], checkpoints: []), from: "a")
        #expect(await agents.observe([attempt]) == [.running])
        await agents.receive(AgentReport(agent: "x", seenThrough: 7, attempts: [], checkpoints: []), from: "a")
        #expect(await agents.observe([attempt]) == [.gone])
    }
}

/// The site agent's own decisions, as values: no process, no network.
struct SiteAgentStateTests {
    static func assignment(_ id: Int64, _ workload: String = "w", stop: Bool = false, kill: Bool = false) -> Assignment
    {
        Assignment(
            id: id,
            workload: workload,
            number: Int(id),
            pool: "p",
            accelerators: 1,
            resume: false,
            command: ["true"],
            environment: [:],
            gracePeriodSeconds: 30,
            stop: stop,
            kill: kill
        )
    }

    static func follow(_ state: inout SiteAgentState, _ assignments: [Assignment], at now: Double) -> [AgentAction] {
        state.follow(AgentAssignments(site: "a", leaseSeconds: 10, attempts: assignments), site: "a", now: now) {
            "\($0)/\($1)"
        }
    }

    static func started(_ actions: [AgentAction]) -> [Int64] {
        actions.compactMap { if case .start(let r, _) = $0 { r.id } else { nil } }
    }

    static func signals(_ actions: [AgentAction]) -> [AttemptSignal] {
        actions.compactMap { if case .signal(_, let s) = $0 { s } else { nil } }
    }

    @Test func itStartsWhatIsNewOnceAndStopsWhatIsNoLongerListed() {
        var state = SiteAgentState()
        #expect(Self.started(Self.follow(&state, [Self.assignment(1)], at: 0)) == [1])
        #expect(Self.follow(&state, [Self.assignment(1)], at: 1).isEmpty, "a second listing starts nothing")
        let unlisted = Self.follow(&state, [], at: 2)
        #expect(Self.signals(unlisted) == [.stop])
        #expect(Self.started(Self.follow(&state, [Self.assignment(1)], at: 3)).isEmpty, "never started again")
        #expect(Self.signals(Self.follow(&state, [], at: 40)) == [.kill], "killed after its grace period")
    }

    @Test func itStopsAndKillsAsAsked() {
        var state = SiteAgentState()
        _ = Self.follow(&state, [Self.assignment(1)], at: 0)
        #expect(Self.signals(Self.follow(&state, [Self.assignment(1, stop: true)], at: 1)) == [.stop])
        #expect(Self.signals(Self.follow(&state, [Self.assignment(1, stop: true)], at: 2)).isEmpty)
        #expect(Self.signals(Self.follow(&state, [Self.assignment(1, stop: true, kill: true)], at: 3)) == [.kill])
    }

    @Test func aLostLeaseStopsEverythingAndTheReportSaysTheAgentStoppedIt() {
        var state = SiteAgentState()
        _ = Self.follow(&state, [Self.assignment(1), Self.assignment(2, "v")], at: 0)
        #expect(Self.signals(state.leaseLost(now: 11)) == [.stop, .stop])
        #expect(state.leaseLost(now: 12).isEmpty)
        state.observe([.ended(ExitStatus(exit: 143)), .running])
        let report = state.report(agent: "x", checkpoints: ["w": 10, "v": 0], power: nil)
        #expect(report.attempts[0].status?.stoppedAt == 11)
        #expect(report.attempts[1].running)
        #expect(report.checkpoints == [ReportedCheckpoint(workload: "w", bytes: 10)])
        #expect(Self.started(Self.follow(&state, [Self.assignment(1), Self.assignment(2, "v")], at: 13)).isEmpty)
        // Once the control plane no longer lists an ended attempt, the agent forgets it.
        _ = Self.follow(&state, [Self.assignment(2, "v")], at: 14)
        #expect(state.attempts.map(\.record.id) == [2])
    }

    static func fetching(_ id: Int64, key: String? = "k", silent: Bool = false, stop: Bool = false) -> Assignment {
        var a = assignment(id, stop: stop)
        a.resume = true
        a.fetch = CheckpointFetch(transfer: "w.\(id)", from: "b", senderKey: key, sourceSilent: silent)
        return a
    }

    static func fetches(_ actions: [AgentAction]) -> [String] {
        actions.compactMap { if case .fetch(let f, _) = $0 { f.transfer } else { nil } }
    }

    static func follow(
        _ state: inout SiteAgentState,
        _ assignments: [Assignment],
        at now: Double,
        transfers: [String: TransferProgress]
    ) -> [AgentAction] {
        state.follow(
            AgentAssignments(site: "a", leaseSeconds: 10, attempts: assignments),
            site: "a",
            now: now,
            transfers: transfers
        ) { "\($0)/\($1)" }
    }

    /// An attempt whose checkpoint is at another site starts only once the checkpoint is in place; until
    /// then it is reported as holding its place, never observed as a process, and the arrival is reported.
    @Test func anAttemptWaitingForItsCheckpointStartsOnlyWhenItArrives() {
        var state = SiteAgentState()
        let first = Self.follow(&state, [Self.fetching(1, key: nil)], at: 0, transfers: [:])
        #expect(Self.started(first).isEmpty && Self.fetches(first).isEmpty, "no sender key yet: it waits")
        #expect(state.unsettled.isEmpty, "nothing to observe: nothing runs")
        #expect(Self.fetches(Self.follow(&state, [Self.fetching(1)], at: 1, transfers: [:])) == ["w.1"])
        let moving = Self.follow(&state, [Self.fetching(1)], at: 2, transfers: ["w.1": .moving])
        #expect(moving.isEmpty)
        #expect(state.report(agent: "x", checkpoints: [:], power: nil).attempts.first?.running == true)
        let arrival = ReceivedCheckpoint(transfer: "w.1", manifest: String(repeating: "a", count: 64), bytes: 9)
        let done = Self.follow(&state, [Self.fetching(1)], at: 3, transfers: ["w.1": .done(arrival)])
        #expect(Self.started(done) == [1])
        #expect(state.report(agent: "x", checkpoints: [:], power: nil).received == [arrival])
        state.started(state.attempts[0].record, handle: AttemptHandle("42"))
        #expect(state.unsettled.map(\.id) == [1], "once started it is observed like any other")
    }

    /// A stop, a lost lease, a failed transfer or a silent source ends a waiting attempt without a signal
    /// (nothing runs) and stops its fetch.
    @Test func aWaitingAttemptEndsWithoutASignalAndItsFetchStops() {
        var stopped = SiteAgentState()
        _ = Self.follow(&stopped, [Self.fetching(1)], at: 0, transfers: [:])
        let stop = Self.follow(&stopped, [Self.fetching(1, stop: true)], at: 1, transfers: ["w.1": .moving])
        #expect(Self.signals(stop).isEmpty)
        #expect(stop.contains(.cancelFetch(transfer: "w.1")))
        #expect(stopped.attempts[0].ended?.signal == 15)
        var lost = SiteAgentState()
        _ = Self.follow(&lost, [Self.fetching(1)], at: 0, transfers: [:])
        #expect(lost.leaseLost(now: 11) == [.cancelFetch(transfer: "w.1")])
        #expect(lost.report(agent: "x", checkpoints: [:], power: nil).attempts[0].status?.stoppedAt == 11)
        var failed = SiteAgentState()
        _ = Self.follow(&failed, [Self.fetching(1)], at: 0, transfers: [:])
        _ = Self.follow(&failed, [Self.fetching(1)], at: 1, transfers: ["w.1": .failed("digest mismatch")])
        #expect(failed.attempts[0].ended?.refused?.contains("did not arrive from b: digest mismatch") == true)
        var silent = SiteAgentState()
        _ = Self.follow(&silent, [Self.fetching(1)], at: 0, transfers: [:])
        let gaveUp = Self.follow(&silent, [Self.fetching(1, silent: true)], at: 1, transfers: ["w.1": .moving])
        #expect(gaveUp == [.cancelFetch(transfer: "w.1")])
        #expect(silent.attempts[0].ended?.refused?.contains("fell silent") == true)
        #expect(silent.attempts[0].ended?.sourceSilent == true)
        #expect(failed.attempts[0].ended?.sourceSilent == nil)
    }

    /// A hand-edited state file with an attempt that has no store id, or a name that would leave the work
    /// directory, is refused with the file and the field, never crashes the agent.
    @Test func aStateFileWithAnAttemptTheAgentCannotHoldIsRefusedAtItsField() throws {
        let directory = try Fixtures.temporaryDirectory()
        struct Unreachable: Error {}
        let agent = try SiteAgent(
            site: "a",
            directory: directory,
            transport: { _, _ in throw Unreachable() },
            relay: RelayTransport(
                putOffer: { _, _ in throw Unreachable() },
                putChunk: { _, _, _ in throw Unreachable() },
                offer: { _ in throw Unreachable() },
                chunk: { _, _ in throw Unreachable() }
            )
        )
        var state = SiteAgentState()
        _ = Self.follow(&state, [Self.assignment(1)], at: 0)
        for (edit, field) in [
            ({ (a: inout LocalAttempt) in a.record.id = nil }, "attempts[0].record.id"),
            ({ (a: inout LocalAttempt) in a.record.workload = "../etc" }, "attempts[0].record.workload"),
        ] {
            var broken = state
            edit(&broken.attempts[0])
            try JSONEncoder().encode(broken).write(to: URL(fileURLWithPath: agent.statePath))
            #expect(throws: SiteAgentError.self) { try agent.loadState() }
            do { _ = try agent.loadState() } catch {
                #expect("\(error)".contains("agent-state.json: \(field)"), "\(error)")
            }
        }
        try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: agent.statePath))
        #expect(try agent.loadState() == state)
    }

    @Test func aWorkloadNameThatWouldLeaveTheWorkDirectoryIsNeverStarted() {
        var state = SiteAgentState()
        #expect(Self.started(Self.follow(&state, [Self.assignment(1, "../etc")], at: 0)).isEmpty)
        #expect(state.attempts.first?.ended?.refused?.contains("DNS-1123") == true)
    }
}

/// `POST /v1/sites/{site}/agent` with every role's token.
struct SiteAgentRouteTests {
    typealias F = ControlFixtures
    static let nairobiToken = "site-nairobi-0123456789abcdef"
    static let kigaliToken = "site-kigali-0123456789abcdef"
    static let report = #"{"agent": "test", "seenThrough": 0, "attempts": [], "checkpoints": []}"#

    static func app() throws -> some ApplicationProtocol {
        let h = try F.harness(agentSites: ["nairobi-1"])
        let tokens = try TokenStore(
            text: """
                \(F.operatorToken) operator
                \(F.readerToken) reader
                \(F.powerToken) power
                \(nairobiToken) site nairobi-1
                \(kigaliToken) site kigali-1

                """,
            file: "tokens",
            sites: ["nairobi-1", "mombasa-1", "kigali-1"]
        )
        return Application(router: SovereignServer.router(plane: h.plane, federation: h.coordinator(), tokens: tokens))
    }

    static func post(
        _ client: some TestClientProtocol,
        site: String,
        token: String,
        body: String = report
    ) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(
            uri: "/v1/sites/\(site)/agent",
            method: .post,
            headers: APITests.headers(token, json: true),
            body: ByteBuffer(string: body)
        ) { ($0.status, String(buffer: $0.body)) }
    }

    @Test func onlyTheSitesOwnTokenPollsAndOnlyForASiteRunByAgents() async throws {
        try await Self.app().test(.router) { client in
            for token in [F.operatorToken, F.readerToken, F.powerToken, Self.kigaliToken] {
                #expect(try await Self.post(client, site: "nairobi-1", token: token).0 == .forbidden)
            }
            #expect(try await Self.post(client, site: "kigali-1", token: Self.kigaliToken).0 == .conflict)
            let (status, body) = try await Self.post(client, site: "nairobi-1", token: Self.nairobiToken)
            #expect(status == .ok)
            #expect(body.contains(#""leaseSeconds":10"#))
        }
    }

    /// The relay's four routes: every role but a site's is refused; a site's token reaches only transfers
    /// the control plane ordered for it (none here: 404), and a malformed body or chunk index is a 400.
    @Test func theRelayAnswersOnlySitesAndOnlyForTheirTransfers() async throws {
        try await Self.app().test(.router) { client in
            let offer = #"{"offer": "e30=", "signature": "AAAA"}"#
            let calls: [(HTTPRequest.Method, String, String?)] = [
                (.put, "/v1/transfers/train.1/offer", offer), (.get, "/v1/transfers/train.1/offer", nil),
                (.put, "/v1/transfers/train.1/chunks/0", "sealed"), (.get, "/v1/transfers/train.1/chunks/0", nil),
            ]
            for (method, uri, body) in calls {
                for token in [F.operatorToken, F.readerToken, F.powerToken] {
                    let status = try await client.execute(
                        uri: uri,
                        method: method,
                        headers: APITests.headers(token, json: body != nil),
                        body: body.map { ByteBuffer(string: $0) }
                    ) { $0.status }
                    #expect(status == .forbidden, "\(method) \(uri) with a non-site token")
                }
                for token in [Self.nairobiToken, Self.kigaliToken] {
                    let status = try await client.execute(
                        uri: uri,
                        method: method,
                        headers: APITests.headers(token, json: body != nil),
                        body: body.map { ByteBuffer(string: $0) }
                    ) { $0.status }
                    #expect(status == .notFound, "\(method) \(uri): no such transfer")
                }
            }
            let malformed = try await client.execute(
                uri: "/v1/transfers/train.1/offer",
                method: .put,
                headers: APITests.headers(Self.nairobiToken, json: true),
                body: ByteBuffer(string: #"{"offer": 1}"#)
            ) { ($0.status, String(buffer: $0.body)) }
            #expect(malformed.0 == .badRequest && malformed.1.contains("offer"))
            let index = try await client.execute(
                uri: "/v1/transfers/train.1/chunks/-1",
                method: .get,
                headers: APITests.headers(Self.nairobiToken, json: false)
            ) { ($0.status, String(buffer: $0.body)) }
            #expect(index.0 == .badRequest && index.1.contains("chunk"))
        }
    }

    @Test(arguments: [
        (#"{"agent": "x", "seenThrough": -1, "attempts": [], "checkpoints": []}"#, "seenThrough"),
        (
            #"{"agent": "x", "seenThrough": 0, "attempts": [{"id": 1, "workload": "../x", "running": true}], "checkpoints": []}"#,
            "attempts[0].workload"
        ),
        (
            #"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [{"workload": "w", "bytes": -5}]}"#,
            "checkpoints[0].bytes"
        ),
        (#"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "extra": 1}"#, "extra"),
        (#"{"agent": "x", "attempts": [], "checkpoints": []}"#, "seenThrough"),
        (
            #"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "power": {"available": "lots"}}"#,
            "power.available"
        ),
        (
            #"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "peer": "http+unix://%2Ftmp%2Fs"}"#,
            "peer"
        ),
        (
            #"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "keys": {"agreement": "AA==", "signing": "AA=="}}"#,
            "keys.agreement"
        ),
        (
            #"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "received": [{"transfer": "../t", "manifest": "\#(String(repeating: "a", count: 64))", "bytes": 1}]}"#,
            "received[0].transfer"
        ),
        (
            #"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "received": [{"transfer": "t.1", "manifest": "XYZ", "bytes": 1}]}"#,
            "received[0].manifest"
        ),
        (#"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "wait": 61}"#, "wait"),
        (#"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "wait": -1}"#, "wait"),
        (
            #"{"agent": "x", "seenThrough": 0, "attempts": [], "checkpoints": [], "answered": "\#(String(repeating: "A", count: 64))"}"#,
            "answered"
        ),
    ])
    func aMalformedReportIs400AtItsField(_ body: String, _ field: String) async throws {
        try await Self.app().test(.router) { client in
            let (status, text) = try await Self.post(client, site: "nairobi-1", token: Self.nairobiToken, body: body)
            #expect(status == .badRequest)
            #expect(text.contains(#""field":"\#(field)""#), "\(text)")
        }
    }
}
