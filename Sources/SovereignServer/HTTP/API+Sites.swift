public import Foundation
import HTTPTypes
import Hummingbird
import SovereignBase
import SovereignLedger
public import SovereignModel

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
        APIRoute(method: .get, path: "/v1/sites/{site}/power", role: .reader) { request, context, api in
            let site = try objectName(context, "site")
            guard api.plane.fleet.siteIndex(named: site) != nil else {
                throw APIError(.notFound, "no site named \"\(site)\" in the fleet", field: "site")
            }
            let now = api.plane.clock().timeIntervalSince1970
            let since = try optionalTime(request, "since") ?? now - 86_400
            guard since < now, now - since <= powerHistoryReach else {
                throw APIError(
                    .badRequest,
                    "expected since to be a time in the last 7 days, found \(LivePlan.time(since)) (now is \(LivePlan.time(now)))",
                    field: "since"
                )
            }
            let buckets = try optionalInt(request, "points", in: 1...maxPowerPoints) ?? 288
            let points = try await api.plane.powerHistory(of: site, in: since...now, buckets: buckets)
            return try json(PowerHistory(site: site, window: since...now, buckets: buckets, points: points))
        },
        APIRoute(method: .put, path: "/v1/sites/{site}/power", role: .power) { request, context, api in
            let site = try objectName(context, "site")
            let signal = try strictDecode(PowerSignalBody.self, from: try await collect(request))
            let stored = try await api.plane.receivePower(
                site: site,
                available: signal.available,
                forecast: signal.forecast.map { (at: $0.at, available: $0.available) },
                ambient: signal.ambient,
                by: api.caller
            )
            return try json(stored)
        },
    ]
}

extension API {
    /// Most points `GET /v1/sites/{site}/power` returns (the document states it as `maximum`).
    static let maxPowerPoints = 1000
    /// How far back it reads, seconds: a week.
    static let powerHistoryReach: Double = 7 * 86_400

    /// The query parameter `name` as an RFC 3339 UTC time (seconds since 1970), or nil when left out.
    static func optionalTime(_ request: Request, _ name: String) throws -> Double? {
        guard let raw = request.uri.queryParameters.get(name) else { return nil }
        guard let seconds = ISO8601.parseEpochSeconds(ArraySlice(raw.utf8)) else {
            throw APIError(
                .badRequest,
                "expected \(name) to be a UTC time like \"2026-11-22T10:00:00Z\", found \"\(raw.prefix(40))\"",
                field: name
            )
        }
        return seconds
    }
}

/// The answer of `GET /v1/sites/{site}/power`: the window, the width of its buckets and a point per bucket
/// that holds a signal (after the signal in force when the window opens).
struct PowerHistory: Encodable {
    struct Point: Encodable {
        let at: String
        let available: Double
        let ambient: Double?
    }

    let site: String
    let since: String
    let until: String
    let bucketSeconds: Double
    let points: [Point]

    init(site: String, window: ClosedRange<Double>, buckets: Int, points: [PowerHistoryPoint]) {
        self.site = site
        since = LivePlan.time(window.lowerBound)
        until = LivePlan.time(window.upperBound)
        bucketSeconds = (window.upperBound - window.lowerBound) / Double(buckets)
        self.points = points.map { Point(at: LivePlan.time($0.at), available: $0.available, ambient: $0.ambient) }
    }
}

/// The body of `PUT /v1/sites/{site}/power`: `{"available": "120 kW", "forecast": [{"at": "...",
/// "available": "80 kW"}], "ambient": "31 C"}`; powers may also be plain numbers of watts. Decoded strictly
/// (``API/strictDecode(_:from:)``): every refusal names its field and says what it expected and found.
public struct PowerSignalBody: Codable, Sendable, Hashable {
    /// One point of a site's power forecast.
    public struct Point: Codable, Sendable, Hashable {
        public let at: Date
        public let available: Power

        /// A point: `available` from `at` on.
        public init(at: Date, available: Power) {
            self.at = at
            self.available = available
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let text = try container.decode(String.self, forKey: .at)
            guard let seconds = ISO8601.parseEpochSeconds(ArraySlice(text.utf8)) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .at,
                    in: container,
                    debugDescription:
                        "expected an ISO 8601 time like \"2026-11-22T10:00:00Z\", found \"\(text.prefix(80))\""
                )
            }
            at = Date(timeIntervalSince1970: seconds)
            available = try PowerSignalBody.power(in: container, forKey: .available)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ISO8601.format(epochSeconds: at.timeIntervalSince1970), forKey: .at)
            try container.encode(available.watts, forKey: .available)
        }

        enum CodingKeys: String, CodingKey { case at, available }
    }

    /// The power available now.
    public let available: Power
    /// In time order; of points given for the same time, the last one given.
    public let forecast: [Point]
    /// The ambient temperature at the site now.
    public let ambient: Temperature?

    /// A signal: `available` now, the `forecast` ahead (any order), and the `ambient` temperature.
    public init(available: Power, forecast: [Point] = [], ambient: Temperature? = nil) {
        self.available = available
        self.forecast = Self.inTimeOrder(forecast)
        self.ambient = ambient
    }

    static let maxForecastPoints = 10_000

    enum CodingKeys: String, CodingKey { case available, forecast, ambient }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        available = try Self.power(in: container, forKey: .available)
        let points = try container.decodeIfPresent([Point].self, forKey: .forecast) ?? []
        guard points.count <= Self.maxForecastPoints else {
            throw DecodingError.dataCorruptedError(
                forKey: .forecast,
                in: container,
                debugDescription: "expected at most \(Self.maxForecastPoints) forecast points, found \(points.count)"
            )
        }
        forecast = Self.inTimeOrder(points)
        ambient = try Self.ambient(in: container)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(available.watts, forKey: .available)
        try container.encode(forecast, forKey: .forecast)
        try container.encodeIfPresent(ambient?.baseValue, forKey: .ambient)
    }

    /// Forecast points sorted by time; of points given for the same time, the last one given.
    static func inTimeOrder(_ points: [Point]) -> [Point] {
        var latest: [Date: Power] = [:]
        for point in points { latest[point.at] = point.available }
        return latest.sorted { $0.key < $1.key }.map { Point(at: $0.key, available: $0.value) }
    }

    /// A power like `"120 kW"` or a number of watts, finite, not negative and below a terawatt.
    static func power<Key: CodingKey>(in container: KeyedDecodingContainer<Key>, forKey key: Key) throws -> Power {
        let value: Power?
        let found: String
        if let watts = try? container.decode(Double.self, forKey: key) {
            value = .watts(watts)
            found = "\(watts)"
        } else {
            let text = try container.decode(String.self, forKey: key)
            value = Power.parse(text)
            found = "\"\(text.prefix(80))\""
        }
        guard let value, value.watts.isFinite, value.watts >= 0, value.watts < 1e12 else {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: container,
                debugDescription: "expected \(Power.expectation) (or watts as a number, not negative), found \(found)"
            )
        }
        return value
    }

    /// `"31 C"` or a number of degrees Celsius, in -90...70 °C.
    static func ambient(in container: KeyedDecodingContainer<CodingKeys>) throws -> Temperature? {
        guard container.contains(.ambient) else { return nil }
        let value: Temperature?
        let found: String
        if let celsius = try? container.decode(Double.self, forKey: .ambient) {
            value = .celsius(celsius)
            found = "\(celsius)"
        } else {
            let text = try container.decode(String.self, forKey: .ambient)
            value = Temperature.parse(text)
            found = "\"\(text.prefix(80))\""
        }
        guard let value, value.baseValue > -90, value.baseValue < 70 else {
            throw DecodingError.dataCorruptedError(
                forKey: .ambient,
                in: container,
                debugDescription: "expected a temperature in -90...70 °C like \"31 C\", found \(found)"
            )
        }
        return value
    }
}
