import Foundation
import HTTPTypes
import SovereignModel
import Testing

@testable import SovereignServer

/// `PUT /v1/sites/{site}/power` bodies, decoded strictly: each refusal names its field and what it found.
struct PowerSignalBodyTests {
    func refusal(_ body: String) -> (message: String, field: String?)? {
        do {
            _ = try API.strictDecode(PowerSignalBody.self, from: Data(body.utf8))
            return nil
        } catch let error as APIError {
            #expect(error.status == .badRequest)
            return (error.message, error.field)
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func aSignalDecodesWithItsForecastInTimeOrder() throws {
        let body = """
            {"available": "120 kW", "ambient": 31, "forecast": [
              {"at": "2026-11-22T12:00:00Z", "available": 80000},
              {"at": "2026-11-22T10:00:00Z", "available": "90 kW"},
              {"at": "2026-11-22T12:00:00Z", "available": "70 kW"}]}
            """
        let signal = try API.strictDecode(PowerSignalBody.self, from: Data(body.utf8))
        #expect(signal.available.watts == 120_000)
        #expect(signal.ambient?.baseValue == 31)
        #expect(signal.forecast.map(\.available.watts) == [90_000, 70_000])
        #expect(signal.forecast.map { $0.at.timeIntervalSince1970 } == [1_795_341_600, 1_795_348_800])
    }

    @Test func refusalsNameTheirFieldAndWhatWasFound() {
        let cases: [(String, String, String)] = [
            (#"{"forecast": []}"#, "expected field available, found none", "available"),
            (
                #"{"available": "lots"}"#,
                "available: expected a power like \"1.2 MW\" (or watts as a number, not negative), found \"lots\"",
                "available"
            ),
            (
                #"{"available": -5}"#,
                "available: expected a power like \"1.2 MW\" (or watts as a number, not negative), found -5.0",
                "available"
            ),
            (
                #"{"available": 1, "forecast": [{"at": "2026-11-22T10:00:00Z", "available": 1}, {"at": "noon", "available": 1}]}"#,
                "forecast[1].at: expected an ISO 8601 time like \"2026-11-22T10:00:00Z\", found \"noon\"",
                "forecast[1].at"
            ),
            (
                #"{"available": 1, "ambient": "300 C"}"#,
                "ambient: expected a temperature in -90...70 °C like \"31 C\", found \"300 C\"",
                "ambient"
            ),
            (
                #"{"available": 1, "voltage": 230}"#,
                "expected only the fields of the message, found unknown field voltage",
                "voltage"
            ),
            (
                #"{"available": 1, "forecast": [{"at": "2026-11-22T10:00:00Z", "available": 1, "p": 2}]}"#,
                "expected only the fields of the message, found unknown field forecast[0].p",
                "forecast[0].p"
            ),
        ]
        for (body, message, field) in cases {
            let found = refusal(body)
            #expect(found?.message == message, "\(body)")
            #expect(found?.field == field, "\(body)")
        }
        #expect(refusal(#"{"available": 1, "ambient": null}"#) != nil)
        #expect(refusal("[1, 2]")?.field == "body")
        #expect(refusal("{not json")?.message == "expected a JSON body, found malformed JSON")
    }
}
