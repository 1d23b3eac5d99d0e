import Foundation
import HTTPTypes
import Hummingbird
import SovereignLedger
import SovereignModel

extension API {
    /// Sites: their views, and the power signals a site's meter or operator sends.
    static let siteRoutes: [APIRoute] = [
        APIRoute(method: .get, path: "/v1/sites", role: .reader) { _, _, api in
            try json(["sites": try await api.plane.siteViews()])
        },
        APIRoute(method: .get, path: "/v1/sites/{site}", role: .reader) { _, context, api in
            let site = try objectName(context, "site")
            guard let view = try await api.plane.siteViews().first(where: { $0.name == site }) else {
                throw APIError(.notFound, "no site named \"\(site)\" in the fleet", field: "site")
            }
            return try json(view)
        },
        APIRoute(method: .put, path: "/v1/sites/{site}/power", role: .power) { request, context, api in
            let site = try objectName(context, "site")
            let signal = try PowerSignalBody.parse(try await collect(request))
            let stored = try await api.plane.receivePower(
                site: site,
                available: signal.available,
                forecast: signal.forecast,
                ambient: signal.ambient,
                by: api.caller
            )
            return try json(stored)
        },
    ]
}

/// The body of `PUT /v1/sites/{site}/power`: `{"available": "120 kW", "forecast": [{"at": "...",
/// "available": "80 kW"}], "ambient": "31 C"}`; powers may also be plain numbers of watts.
struct PowerSignalBody {
    let available: Power
    let forecast: [(at: Date, available: Power)]
    let ambient: Temperature?

    static let maxForecastPoints = 10_000

    static func parse(_ data: Data) throws -> PowerSignalBody {
        let object: JSONValue
        do {
            object = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw APIError(.badRequest, "expected a JSON object, found malformed JSON", field: "body")
        }
        guard case .object(let fields) = object else {
            throw APIError(.badRequest, "expected a JSON object, found \(describe(object))", field: "body")
        }
        for key in fields.keys.sorted() where !["available", "forecast", "ambient"].contains(key) {
            throw APIError(.badRequest, "expected only available, forecast and ambient, found \"\(key)\"", field: key)
        }
        guard let availableValue = fields["available"] else {
            throw APIError(.badRequest, "expected available (a power like \"120 kW\"), found none", field: "available")
        }
        let available = try power(availableValue, field: "available")
        var forecast: [(at: Date, available: Power)] = []
        if let raw = fields["forecast"] {
            guard case .array(let points) = raw else {
                throw APIError(
                    .badRequest,
                    "expected forecast to be a list of {at, available}, found \(describe(raw))",
                    field: "forecast"
                )
            }
            guard points.count <= maxForecastPoints else {
                throw APIError(
                    .badRequest,
                    "expected at most \(maxForecastPoints) forecast points, found \(points.count)",
                    field: "forecast"
                )
            }
            for (i, point) in points.enumerated() {
                let path = "forecast[\(i)]"
                guard case .object(let p) = point else {
                    throw APIError(.badRequest, "expected {at, available}, found \(describe(point))", field: path)
                }
                for key in p.keys.sorted() where key != "at" && key != "available" {
                    throw APIError(
                        .badRequest,
                        "expected only at and available, found \"\(key)\"",
                        field: "\(path).\(key)"
                    )
                }
                guard case .string(let atText) = p["at"],
                    let seconds = ISO8601.parseEpochSeconds(ArraySlice(atText.utf8))
                else {
                    throw APIError(
                        .badRequest,
                        "expected an ISO 8601 time like \"2026-11-22T10:00:00Z\", found \(p["at"].map(describe) ?? "none")",
                        field: "\(path).at"
                    )
                }
                guard let value = p["available"] else {
                    throw APIError(.badRequest, "expected available, found none", field: "\(path).available")
                }
                forecast.append((Date(timeIntervalSince1970: seconds), try power(value, field: "\(path).available")))
            }
        }
        forecast = inTimeOrder(forecast)
        var ambient: Temperature?
        if let raw = fields["ambient"] {
            switch raw {
            case .number(let n): ambient = .celsius(n)
            case .string(let text): ambient = Temperature.parse(text)
            default: ambient = nil
            }
            guard let a = ambient, a.baseValue > -90, a.baseValue < 70 else {
                throw APIError(
                    .badRequest,
                    "expected a temperature in -90...70 °C like \"31 C\", found \(describe(raw))",
                    field: "ambient"
                )
            }
        }
        return PowerSignalBody(available: available, forecast: forecast, ambient: ambient)
    }

    /// Forecast points sorted by time; of points given for the same time, the last one given.
    static func inTimeOrder(_ points: [(at: Date, available: Power)]) -> [(at: Date, available: Power)] {
        var latest: [Date: Power] = [:]
        for point in points { latest[point.at] = point.available }
        return latest.sorted { $0.key < $1.key }.map { (at: $0.key, available: $0.value) }
    }

    static func power(_ raw: JSONValue, field: String) throws -> Power {
        var value: Power?
        switch raw {
        case .number(let n): value = .watts(n)
        case .string(let text): value = Power.parse(text)
        default: value = nil
        }
        guard let value, value.watts.isFinite, value.watts >= 0, value.watts < 1e12 else {
            throw APIError(
                .badRequest,
                "expected \(Power.expectation) (or watts as a number, not negative), found \(describe(raw))",
                field: field
            )
        }
        return value
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return "\(n)"
        case .string(let s): return "\"\(s.prefix(80))\""
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
