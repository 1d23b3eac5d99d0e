import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignBase
import Synchronization
import Testing

@testable import SovereignServer

/// `GET /v1/sites/{site}/power` with every role's token, and what the console reads beside it: the site view's
/// cooling, states, accelerators and forecast, a workload's priority and progress.
struct PowerHistoryTests {
    typealias F = ControlFixtures
    static let siteToken = "site-nairobi-0123456789abcdef"

    static func app() throws -> (some ApplicationProtocol, F.Harness) {
        let h = try F.harness()
        let tokens = try TokenStore(
            text: """
                \(F.operatorToken) operator
                \(F.readerToken) reader
                \(F.powerToken) power
                \(siteToken) site nairobi-1

                """,
            file: "tokens",
            sites: ["nairobi-1", "mombasa-1", "kigali-1"]
        )
        let app = Application(
            router: SovereignServer.router(plane: h.plane, federation: h.coordinator(), tokens: tokens)
        )
        return (app, h)
    }

    static func put(_ client: some TestClientProtocol, _ body: String) async throws {
        try await client.execute(
            uri: "/v1/sites/nairobi-1/power",
            method: .put,
            headers: APITests.headers(F.powerToken, json: true),
            body: ByteBuffer(string: body)
        ) { #expect($0.status == .ok) }
    }

    static func get(
        _ client: some TestClientProtocol,
        _ uri: String,
        token: String? = F.readerToken
    ) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: uri, method: .get, headers: APITests.headers(token)) {
            ($0.status, (try? APITests.object($0.body)) ?? [:])
        }
    }

    /// Watts of each point, in order.
    static func available(_ answer: [String: Any]) -> [Double] {
        ((answer["points"] as? [[String: Any]]) ?? []).compactMap { $0["available"] as? Double }
    }

    static func time(_ seconds: Double) -> String { LivePlan.time(seconds) }

    @Test func everyRoleThatReadsSeesTheHistoryAndASiteTokenDoesNot() async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            for token in [F.operatorToken, F.readerToken, F.powerToken] {
                let (status, answer) = try await Self.get(client, "/v1/sites/nairobi-1/power", token: token)
                #expect(status == .ok)
                #expect(answer["site"] as? String == "nairobi-1")
                #expect(answer["bucketSeconds"] as? Double == 300)
            }
            #expect(try await Self.get(client, "/v1/sites/nairobi-1/power", token: Self.siteToken).0 == .forbidden)
            #expect(try await Self.get(client, "/v1/sites/nairobi-1/power", token: nil).0 == .unauthorized)
        }
    }

    /// Each bucket keeps its lowest power and highest ambient; the signal in force when the window opens
    /// comes first.
    @Test func signalsAreSummedUpByBucket() async throws {
        let (app, h) = try Self.app()
        let start = h.clock.read().timeIntervalSince1970
        try await app.test(.router) { client in
            try await Self.put(client, #"{"available": "50 kW", "ambient": "20 C"}"#)
            h.clock.advance(3600)
            try await Self.put(client, #"{"available": "20 kW", "ambient": "30 C"}"#)
            h.clock.advance(60)
            try await Self.put(client, #"{"available": "40 kW", "ambient": "25 C"}"#)
            // Two buckets of 12 h: every signal in the second, summed up.
            let (_, day) = try await Self.get(client, "/v1/sites/nairobi-1/power?points=2")
            #expect(Self.available(day) == [20_000])
            #expect((day["points"] as? [[String: Any]])?.first?["ambient"] as? Double == 30)
            #expect((day["points"] as? [[String: Any]])?.first?["at"] as? String == Self.time(start))
            // From half an hour after the first: it is in force at the start, then each later one alone.
            let since = ISO8601.format(epochSeconds: start + 1800)
            let (status, recent) = try await Self.get(client, "/v1/sites/nairobi-1/power?since=\(since)&points=1000")
            #expect(status == .ok)
            #expect(Self.available(recent) == [50_000, 20_000, 40_000])
            #expect(recent["since"] as? String == Self.time(start + 1800))
            #expect(recent["until"] as? String == Self.time(start + 3660))
            #expect(Self.available(try await Self.get(client, "/v1/sites/mombasa-1/power").1) == [])
        }
    }

    @Test(arguments: [
        ("/v1/sites/nairobi-1/power?since=yesterday", HTTPResponse.Status.badRequest, "since"),
        ("/v1/sites/nairobi-1/power?since=2026-01-01T00:00:00Z", .badRequest, "since"),  // more than a week ago
        ("/v1/sites/nairobi-1/power?since=2099-01-01T00:00:00Z", .badRequest, "since"),  // ahead of now
        ("/v1/sites/nairobi-1/power?points=0", .badRequest, "points"),
        ("/v1/sites/nairobi-1/power?points=1001", .badRequest, "points"),
        ("/v1/sites/atlantis/power", .notFound, "site"),
        ("/v1/sites/Atlantis/power", .badRequest, "site"),
    ])
    func malformedQueriesSayWhatTheyExpected(uri: String, status: HTTPResponse.Status, field: String) async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get, headers: APITests.headers(F.readerToken)) {
                #expect($0.status == status)
                #expect(APITests.errorField($0.body).field == field)
                #expect(APITests.errorField($0.body).message.contains("expected") || status == .notFound)
            }
        }
    }

    /// The view the fleet page draws: ambient and cooling from the signal, the labeller's states, pools by
    /// model and the plan's forecast of the supply.
    @Test func aSiteViewCarriesWhatTheFleetPageShows() async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            try await Self.put(client, #"{"available": "12 kW", "ambient": "35 C"}"#)
            let (status, site) = try await Self.get(client, "/v1/sites/nairobi-1")
            #expect(status == .ok)
            #expect(site["ambientCelsius"] as? Double == 35)
            #expect((site["coolingWatts"] as? Double ?? 0) > 0)
            // 12 kW cannot run 64 A100s, but nothing runs: constrained, not shedding.
            #expect(site["powerState"] as? String == "constrained")
            #expect(["ok", "constrained"].contains(site["thermalState"] as? String))
            let pools = site["accelerators"] as? [[String: Any]]
            #expect(pools?.first?["pool"] as? String == "a100")
            #expect(pools?.first?["count"] as? Int == 64)
            #expect(pools?.first?["inUse"] as? Int == 0)
            let forecast = site["forecast"] as? [[String: Any]]
            #expect(forecast?.first?["supplyWatts"] as? Double == 12_000)
            #expect(site["powerReportedAt"] as? String != nil)
            #expect(site["agentReportedAt"] == nil)
        }
    }

    @Test func aWorkloadShowsItsPriorityAndProgress() async throws {
        let (app, h) = try Self.app()
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/workloads",
                method: .post,
                headers: APITests.headers(F.operatorToken),
                body: ByteBuffer(string: F.workload("train", priority: 7))
            ) { #expect($0.status == .created) }
            await h.plane.askedPassesDone()
            let (_, list) = try await Self.get(client, "/v1/workloads")
            let train = (list["workloads"] as? [[String: Any]])?.first
            #expect(train?["priority"] as? Int == 7)
            #expect(train?["deadline"] == nil)
            // Placed on 8 A100s (312 TFLOPS, MFU 0.4): 1e20 FLOPs take 1e20 / 9.984e14 s; none has run yet.
            #expect(train?["site"] as? String != nil)
            let estimate = try #require(train?["estimatedSeconds"] as? Double)
            #expect(abs(estimate - 1e20 / (8 * 312e12 * 0.4)) < 1)
            #expect(train?["progress"] as? Double == 0)
        }
    }

    /// The API over the fixture fleet with a day's Scenario to simulate stress tests over, for a reader.
    static func simulatedApp() throws -> (some ApplicationProtocol, F.Harness) {
        let scenario = """
            ---
            apiVersion: sovereign.dev/v1
            kind: Scenario
            metadata: {name: s}
            spec: {start: 2026-03-02T00:00:00Z, horizon: 1 d, step: 1 h}

            """
        let h = try F.harness(fleetText: F.fleet + scenario)
        let tokens = try TokenStore(text: "\(F.readerToken) reader\n", file: "tokens")
        let app = Application(
            router: SovereignServer.router(plane: h.plane, federation: h.coordinator(), tokens: tokens)
        )
        return (app, h)
    }

    /// A well-written cut that names no country, group of the fleet's, or site there can be is not found, worded
    /// as `sovereign assess` words it.
    @Test(arguments: ["jurisdiction=P", "designer=QQ", "site=ABC"])
    func aCutNamingNothingIsNotFound(cut: String) async throws {
        let (app, _) = try Self.simulatedApp()
        try await app.test(.router) { client in
            let headers = APITests.headers(F.readerToken)
            try await client.execute(uri: "/v1/assessment?cut=\(cut)", method: .get, headers: headers) {
                #expect($0.status == .notFound)
                #expect(APITests.errorField($0.body).field == "cut")
                #expect(APITests.errorField($0.body).message.contains("found \"\(cut.split(separator: "=")[1])\""))
            }
        }
    }

    /// Stress tests are simulated one set at a time: while one runs, a request for another is refused for now,
    /// and a set already answered is still answered.
    @Test func stressTestsRunOneSetAtATime() async throws {
        let (app, h) = try Self.simulatedApp()
        try await app.test(.router) { client in
            let headers = APITests.headers(F.readerToken)
            let uri = "/v1/assessment?cut=site=kigali-1&cut=site=kigali-1"
            try await client.execute(uri: uri, method: .get, headers: headers) { #expect($0.status == .ok) }
            h.plane.stressRunning.withLock { $0 = true }
            // The same cut twice is the set just answered, kept; another set waits its turn.
            try await client.execute(uri: "/v1/assessment?cut=site=kigali-1", method: .get, headers: headers) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/assessment?cut=site=nairobi-1", method: .get, headers: headers) {
                #expect($0.status == .serviceUnavailable)
                #expect(APITests.errorField($0.body).message.contains("retry later"))
            }
            h.plane.stressRunning.withLock { $0 = false }
            try await client.execute(uri: "/v1/assessment?cut=site=nairobi-1", method: .get, headers: headers) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test(arguments: [
        ("cut=vendor", "KIND=VALUE"),
        ("cut=colour=red", "KIND=VALUE"),
        ("cut=site=a&cut=site=b&cut=site=c&cut=site=d&cut=site=e", "at most 4"),
        ("cut=site=nairobi-1", "Scenario"),  // the test fleet has none to simulate
    ])
    func stressTestsNeedCutsTheyCanRead(query: String, expected: String) async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            let headers = APITests.headers(F.readerToken)
            try await client.execute(uri: "/v1/assessment?\(query)", method: .get, headers: headers) {
                #expect($0.status == .badRequest)
                #expect(APITests.errorField($0.body).field == "cut")
                #expect(APITests.errorField($0.body).message.contains(expected))
            }
        }
    }
}
