import Foundation
public import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SovereignBase
import SovereignFederation
import SovereignLedger
import SovereignModel

/// One route of the HTTP API: its method, path (OpenAPI syntax, `{name}` for a parameter), the role a
/// caller needs (nil: none) and its handler. The table is the single source both of the router and of
/// the test that checks `openapi.yaml` against it.
public struct APIRoute: Sendable {
    public let method: HTTPRequest.Method
    public let path: String
    public let role: TokenStore.Role?
    let handler: @Sendable (Request, APIRequestContext, APIContext) async throws -> Response
}

/// What every handler needs.
struct APIContext: Sendable {
    let plane: ControlPlane
    let federation: FederationCoordinator
    let caller: ControlPlane.Requester
    let metrics: ServerMetrics
    let openAPI: String
}

/// The HTTP API of `sovereign serve`.
public enum API: Sendable {
    /// Largest request body accepted (a workload document or a power signal with its forecast).
    public static let bodyLimit = 1 << 20
    /// Most ledger entries one page returns.
    public static let pageLimit = 1000
    /// Largest index, size or attempt number a query may name (the document states it as `maximum`).
    public static let countLimit = 1_000_000_000_000

    /// Every route the server answers.
    public static let routes: [APIRoute] = coreRoutes + federationRoutes

    /// The control plane's routes.
    static let coreRoutes: [APIRoute] = [
        APIRoute(method: .get, path: "/healthz", role: nil) { _, _, _ in
            try json(["status": "ok"])
        },
        APIRoute(method: .get, path: "/openapi.yaml", role: .reader) { _, _, api in
            text(api.openAPI, type: "application/yaml")
        },
        APIRoute(method: .get, path: "/metrics", role: .reader) { _, _, api in
            text(await api.metrics.render(api.plane), type: "text/plain; version=0.0.4")
        },
        APIRoute(method: .get, path: "/v1/workloads", role: .reader) { _, _, api in
            let records = try await api.plane.workloadRecords()
            return try json(["workloads": records.map(WorkloadView.init)])
        },
        APIRoute(method: .post, path: "/v1/workloads", role: .operator) { request, _, api in
            let body = try await collect(request)
            guard let text = String(data: body, encoding: .utf8), !text.isEmpty else {
                throw APIError(
                    .badRequest,
                    "expected a Workload document (YAML or JSON) as UTF-8 text, found \(body.isEmpty ? "an empty body" : "bytes that are not UTF-8")",
                    field: "body"
                )
            }
            do {
                let submitted = try await api.plane.submit(document: text, by: api.caller)
                try await api.plane.reconcile()
                // As they are after the control loop has seen them (running, if it started them).
                let records = try await api.plane.workloadRecords(named: submitted.map(\.name))
                var response = try json(["workloads": records.map(WorkloadView.init)])
                response.status = .created
                return response
            } catch let error as SpecError {
                let first = error.diagnostics.first
                throw APIError(
                    .unprocessableContent,
                    first.map { "\($0.location): \($0.message)" } ?? "the document does not validate",
                    field: first?.path,
                    diagnostics: error.diagnostics
                )
            } catch let error as StoreError where error.isNameTaken {
                throw APIError(.conflict, error.message, field: "metadata.name")
            }
        },
        APIRoute(method: .get, path: "/v1/workloads/{name}", role: .reader) { _, context, api in
            let name = try objectName(context, "name")
            guard let detail = try await api.plane.workloadDetail(name) else {
                throw APIError(.notFound, "no workload named \"\(name)\"", field: "name")
            }
            return try json(detail)
        },
        APIRoute(method: .get, path: "/v1/workloads/{name}/log", role: .reader) { request, context, api in
            let name = try objectName(context, "name")
            let attempt = try optionalInt(request, "attempt", in: 1...countLimit)
            guard let log = try await api.plane.log(of: name, attempt: attempt, limit: bodyLimit) else {
                throw APIError(
                    .notFound,
                    "no attempt of a workload named \"\(name)\"\(attempt.map { " numbered \($0)" } ?? "")",
                    field: attempt == nil ? "name" : "attempt"
                )
            }
            return text(log, type: "text/plain; charset=utf-8")
        },
        APIRoute(method: .post, path: "/v1/workloads/{name}/pause", role: .operator) { _, context, api in
            let name = try objectName(context, "name")
            return try json(
                WorkloadView(try await api.plane.setHeld(name, held: true, by: api.caller))
            )
        },
        APIRoute(method: .post, path: "/v1/workloads/{name}/resume", role: .operator) { _, context, api in
            let name = try objectName(context, "name")
            return try json(
                WorkloadView(try await api.plane.setHeld(name, held: false, by: api.caller))
            )
        },
        APIRoute(method: .post, path: "/v1/workloads/{name}/cancel", role: .operator) { _, context, api in
            let name = try objectName(context, "name")
            return try json(WorkloadView(try await api.plane.cancel(name, by: api.caller)))
        },
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
        APIRoute(method: .get, path: "/v1/plan", role: .reader) { _, _, api in
            if await api.plane.currentPlan == nil { try await api.plane.reconcile() }
            guard let plan = await api.plane.currentPlan else {
                throw APIError(.serviceUnavailable, "no plan yet")
            }
            return try json(plan)
        },
        APIRoute(method: .get, path: "/v1/ledger", role: .reader) { _, _, api in
            let head = try await api.plane.ledgerHead()
            return try json(
                LedgerHeadView(
                    origin: api.plane.origin,
                    size: head.size,
                    root: head.root.hex,
                    verifierKey: await api.plane.verifierKey,
                    checkpoint: try await api.plane.latestCheckpoint()
                )
            )
        },
        APIRoute(method: .get, path: "/v1/ledger/entries", role: .reader) { request, _, api in
            let start = try optionalInt(request, "start", in: 0...countLimit) ?? 0
            let limit = try optionalInt(request, "limit", in: 1...pageLimit) ?? 100
            let entries = try await api.plane.ledgerEntries(from: start, limit: limit)
            return try json(["entries": entries])
        },
        APIRoute(method: .get, path: "/v1/ledger/checkpoint", role: .reader) { _, _, api in
            guard let note = try await api.plane.latestCheckpoint() else {
                throw APIError(.notFound, "no checkpoint signed yet")
            }
            return text(note, type: "text/plain; charset=utf-8")
        },
        APIRoute(method: .get, path: "/v1/ledger/checkpoints", role: .reader) { _, _, api in
            try json(["checkpoints": try await api.plane.storedCheckpoints()])
        },
        APIRoute(method: .get, path: "/v1/ledger/proof/inclusion", role: .reader) { request, _, api in
            let size = try requiredInt(request, "size", in: 1...countLimit)
            let index = try requiredInt(request, "index", in: 0...countLimit)
            let head = try await api.plane.ledgerHead()
            // A tree the ledger has not reached, or an entry outside the tree: no such proof exists.
            guard size <= head.size else {
                throw APIError(
                    .notFound,
                    "expected size at most \(head.size) (the ledger's size), found \(size)",
                    field: "size"
                )
            }
            guard index < size else {
                throw APIError(.notFound, "expected index below size \(size), found \(index)", field: "index")
            }
            let proof = try await api.plane.inclusionProof(index: index, size: size)
            return try json(
                InclusionView(
                    index: index,
                    size: size,
                    leafHash: proof.leaf.hex,
                    root: proof.root.hex,
                    proof: proof.proof.map(\.hex)
                )
            )
        },
        APIRoute(method: .get, path: "/v1/ledger/proof/consistency", role: .reader) { request, _, api in
            // From the empty tree there is nothing to prove, and verifiers refuse such a proof.
            let from = try requiredInt(request, "from", in: 1...countLimit)
            let to = try requiredInt(request, "to", in: 1...countLimit)
            let head = try await api.plane.ledgerHead()
            guard to <= head.size else {
                throw APIError(
                    .notFound,
                    "expected to at most \(head.size) (the ledger's size), found \(to)",
                    field: "to"
                )
            }
            guard from <= to else {
                throw APIError(.notFound, "expected from at most to (\(to)), found \(from)", field: "from")
            }
            let proof = try await api.plane.consistencyProof(from: from, to: to)
            return try json(
                ConsistencyView(
                    from: from,
                    to: to,
                    oldRoot: proof.old.hex,
                    newRoot: proof.new.hex,
                    proof: proof.proof.map(\.hex)
                )
            )
        },
    ]

    /// Registers every route on a router, with authentication in front of each, and a 405 naming the
    /// allowed methods for every other method on a known path.
    ///
    /// - Parameter certificateSites: with mutual TLS, the sites a client certificate may name (see
    ///   ``SiteCertificate``); nil when the listener has no client CA and certificates mean nothing.
    static func register(
        on router: Router<APIRequestContext>,
        plane: ControlPlane,
        federation: FederationCoordinator,
        tokens: TokenStore,
        metrics: ServerMetrics,
        openAPI: String,
        certificateSites: Set<String>? = nil
    ) {
        for route in routes {
            router.on(RouterPath(route.path), method: route.method) { request, context -> Response in
                do {
                    let caller = try await authenticate(
                        request,
                        context: context,
                        tokens: tokens,
                        certificateSites: certificateSites,
                        needs: route.role
                    )
                    let api = APIContext(
                        plane: plane,
                        federation: federation,
                        caller: caller,
                        metrics: metrics,
                        openAPI: openAPI
                    )
                    let response = try await route.handler(request, context, api)
                    metrics.request(route, status: response.status.code)
                    return response
                } catch {
                    let answer = apiError(error, route: route, logger: context.logger)
                    metrics.request(route, status: answer.status.code)
                    throw answer
                }
            }
        }
        registerMethodNotAllowed(on: router, metrics: metrics)
    }

    /// Methods a client may try on a path; those a path does not serve are answered 405 with `Allow`.
    static let probedMethods: [HTTPRequest.Method] =
        [.get, .head, .put, .post, .delete, .patch, .options, .trace] + [HTTPRequest.Method("QUERY")].compactMap { $0 }

    static func registerMethodNotAllowed(on router: Router<APIRequestContext>, metrics: ServerMetrics) {
        let byPath = Dictionary(grouping: routes, by: \.path)
        for (path, served) in byPath {
            let allowed = served.map(\.method)
            let allow = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            for method in probedMethods where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    metrics.request(method: method, path: path, status: 405)
                    throw APIError(
                        .methodNotAllowed,
                        "expected one of \(allow) on \(path), found \(method.rawValue)",
                        headers: [.allow: allow]
                    )
                }
            }
        }
    }

    /// The answer for an error a route threw: the domain's own status where it has one; anything else is a
    /// 500 whose detail goes to the log only (it may name the server's files).
    static func apiError(_ error: any Error, route: APIRoute, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ControlError:
            return APIError(.init(code: error.status), error.message, field: error.field)
        case let error as LedgerError:
            return APIError(.badRequest, error.description)
        case let error as FederationRequestError:
            return APIError(.init(code: error.status), error.message, field: error.field)
        case let error as FederationError:
            // A site's message or update the federation refuses (malformed, forged, out of turn).
            return APIError(.unprocessableContent, error.message)
        default:
            logger.error(
                "request failed",
                metadata: ["route": "\(route.method) \(route.path)", "error": "\(error)"]
            )
            return APIError(.internalServerError, "the server failed to answer; its log says why")
        }
    }

    /// A bearer token when there is one; otherwise, with mutual TLS, a site's client certificate.
    static func authenticate(
        _ request: Request,
        context: APIRequestContext,
        tokens: TokenStore,
        certificateSites: Set<String>?,
        needs role: TokenStore.Role?
    ) async throws -> ControlPlane.Requester {
        guard let role, request.headers[.authorization] == nil, let certificateSites,
            let peer = await context.peerCertificate()
        else {
            return try authenticate(request, tokens: tokens, needs: role)
        }
        let sites = SiteCertificate.sites(in: peer.certificate)
        guard sites.count == 1, let site = sites.first, certificateSites.contains(site) else {
            throw APIError(
                .unauthorized,
                "expected a bearer token or a client certificate naming one site of the fleet (SAN URI \(SiteCertificate.uriPrefix)NAME), found a certificate naming \(sites.isEmpty ? "none" : sites.map { "\"\($0)\"" }.joined(separator: ", "))",
                field: "Authorization"
            )
        }
        // A site certificate acts as a site token does: on the federation routes, for its own site.
        guard role == .site else {
            throw APIError(
                .forbidden,
                "expected a token with role \(role.rawValue), found the client certificate of site \(site)",
                field: "Authorization"
            )
        }
        return ControlPlane.Requester(identity: SiteCertificate.fingerprint(derEncoded: peer.der), site: site)
    }

    static func authenticate(
        _ request: Request,
        tokens: TokenStore,
        needs role: TokenStore.Role?
    ) throws
        -> ControlPlane.Requester
    {
        guard let role else { return ControlPlane.Requester(identity: "anonymous") }
        guard let header = request.headers[.authorization] else {
            throw APIError(
                .unauthorized,
                "expected an Authorization: Bearer TOKEN header, found none",
                field: "Authorization"
            )
        }
        let prefix = "Bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix.lowercased() else {
            throw APIError(
                .unauthorized,
                "expected Authorization: Bearer TOKEN, found another scheme",
                field: "Authorization"
            )
        }
        guard let known = tokens.authenticate(header.dropFirst(prefix.count)) else {
            throw APIError(.unauthorized, "expected a valid bearer token, found an unknown one", field: "Authorization")
        }
        // A site token acts for its site on the federation routes and nowhere else; no other token does.
        guard role == .site ? known.role == .site : (known.role != .site && known.role >= role) else {
            throw APIError(
                .forbidden,
                "expected a token with role \(role.rawValue), found role \(known.role.rawValue)",
                field: "Authorization"
            )
        }
        return ControlPlane.Requester(identity: known.fingerprint, site: known.site)
    }

    // MARK: Helpers

    static func collect(_ request: Request, limit: Int = bodyLimit) async throws -> Data {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "expected a body of at most \(limit) bytes, found more", field: "body")
        }
    }

    /// A path parameter naming a workload, a site or another fleet object: a DNS-1123 name, refused before
    /// it reaches a lookup or becomes part of a path on disk.
    static func objectName(_ context: APIRequestContext, _ parameter: String) throws -> String {
        let raw = try context.parameters.require(parameter)
        guard SpecNames.isObjectName(raw) else {
            throw APIError(
                .badRequest,
                "expected \(parameter) to be a lowercase DNS-1123 name like \"nairobi-1\", found \"\(raw.prefix(80))\"",
                field: parameter
            )
        }
        return raw
    }

    static func json(_ value: some Encodable) throws -> Response {
        let data = try JSONEncoder.api.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func text(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func optionalInt(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            let bound = "in \(range.lowerBound)...\(range.upperBound)"
            throw APIError(.badRequest, "expected \(name) to be an integer \(bound), found \"\(raw)\"", field: name)
        }
        return value
    }

    static func requiredInt(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = try optionalInt(request, name, in: range) else {
            throw APIError(.badRequest, "expected query parameter \(name), found none", field: name)
        }
        return value
    }
}

/// A workload as the API lists it.
struct WorkloadView: Encodable {
    let name: String
    let source: String
    let state: String
    let site: String?
    let pool: String?
    let accelerators: Int?
    let checkpointSite: String?
    let failures: Int
    let held: Bool
    let cancelRequested: Bool
    let runSeconds: Double
    let detail: String
    let submittedAt: String
    let updatedAt: String

    init(_ r: WorkloadRecord) {
        name = r.name
        source = r.source
        state = r.state.rawValue
        site = r.site
        pool = r.pool
        accelerators = r.accelerators
        checkpointSite = r.checkpointSite
        failures = r.failures
        held = r.held
        cancelRequested = r.cancelRequested
        runSeconds = r.runSeconds
        detail = r.detail
        submittedAt = LedgerEntry.formatTime(Date(timeIntervalSince1970: r.submittedAt))
        updatedAt = LedgerEntry.formatTime(Date(timeIntervalSince1970: r.updatedAt))
    }
}

struct LedgerHeadView: Encodable {
    let origin: String
    let size: Int
    let root: String
    let verifierKey: String
    let checkpoint: String?
}

struct InclusionView: Encodable {
    let index: Int
    let size: Int
    let leafHash: String
    let root: String
    let proof: [String]
}

struct ConsistencyView: Encodable {
    let from: Int
    let to: Int
    let oldRoot: String
    let newRoot: String
    let proof: [String]
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
