import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SovereignServer
import Testing

/// The routes the console reads besides the rest of the API: who the caller is, and the fleet's
/// sovereignty matrix.
struct ConsoleAPITests {
    typealias F = ControlFixtures

    static func object(_ body: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
    }

    @Test func whoamiNamesTheRoleOfEveryReadingToken() async throws {
        let (app, _) = try EventsTests.app()
        try await app.test(.router) { client in
            for (token, role) in [(F.readerToken, "reader"), (F.powerToken, "power"), (F.operatorToken, "operator")] {
                try await client.execute(uri: "/v1/whoami", method: .get, headers: EventsTests.headers(token)) {
                    #expect($0.status == .ok)
                    #expect(Self.object($0.body)["role"] as? String == role)
                }
            }
            try await client.execute(
                uri: "/v1/whoami",
                method: .get,
                headers: EventsTests.headers(EventsTests.siteToken)
            ) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test func theAssessmentHasALevelPerSiteAndLayer() async throws {
        let (app, _) = try EventsTests.app()
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/assessment", method: .get, headers: EventsTests.headers(F.readerToken)) {
                #expect($0.status == .ok)
                let sites = Self.object($0.body)["sites"] as? [[String: Any]] ?? []
                #expect(sites.compactMap { $0["site"] as? String } == ["nairobi-1", "mombasa-1", "kigali-1"])
                #expect(sites.allSatisfy { ($0["layers"] as? [Any])?.count == 5 })
            }
            try await client.execute(
                uri: "/v1/assessment",
                method: .get,
                headers: EventsTests.headers(EventsTests.siteToken)
            ) {
                #expect($0.status == .forbidden)
            }
        }
    }
}
