import Foundation
public import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SovereignAssessment
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
    /// Whether a site's token (or certificate) may call the route too, besides tokens of ``role``; the handler
    /// then limits what it may do to its own site.
    public var site = false
    let handler: @Sendable (Request, APIRequestContext, APIContext) async throws -> Response

    init(
        method: HTTPRequest.Method,
        path: String,
        role: TokenStore.Role?,
        site: Bool = false,
        handler: @escaping @Sendable (Request, APIRequestContext, APIContext) async throws -> Response
    ) {
        self.method = method
        self.path = path
        self.role = role
        self.site = site
        self.handler = handler
    }
}

/// What every handler needs.
struct APIContext: Sendable {
    let plane: ControlPlane
    let federation: FederationCoordinator
    let caller: ControlPlane.Requester
    /// The caller's role (nil on a route that needs none).
    let role: TokenStore.Role?
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
    public static let routes: [APIRoute] =
        systemRoutes + workloadRoutes + siteRoutes + agentRoutes + ledgerRoutes + federationRoutes + eventRoutes
        + datasetRoutes

    /// Health, the API's own document, metrics and the plan.
    static let systemRoutes: [APIRoute] = [
        APIRoute(method: .get, path: "/healthz", role: nil) { _, _, _ in
            try json(["status": "ok"])
        },
        APIRoute(method: .get, path: "/openapi.yaml", role: .reader) { _, _, api in
            text(api.openAPI, type: "application/yaml")
        },
        APIRoute(method: .get, path: "/metrics", role: .reader) { _, _, api in
            text(await api.metrics.render(api.plane), type: "text/plain; version=0.0.4")
        },
        APIRoute(method: .get, path: "/v1/whoami", role: .reader) { _, _, api in
            // What a client (the console) needs to offer only what the token may do.
            try json(["role": api.role?.rawValue ?? "", "identity": api.caller.identity])
        },
        APIRoute(method: .get, path: "/v1/assessment", role: .reader) { request, _, api in
            do {
                return try json(try await api.plane.assessment(cuts: try cuts(request, fleet: api.plane.fleet)))
            } catch is StressTestsBusy {
                throw APIError(.serviceUnavailable, "expected no other stress tests running, found some; retry later")
            }
        },
        APIRoute(method: .get, path: "/v1/plan", role: .reader) { _, _, api in
            if await api.plane.currentPlan == nil { try await api.plane.reconcile() }
            guard let plan = await api.plane.currentPlan else {
                throw APIError(.serviceUnavailable, "no plan yet")
            }
            return try json(plan)
        },
    ]

    /// Most `cut` parameters one assessment takes (each is a simulation of the fleet).
    static let maxCuts = 4

    /// The query's `cut` parameters (`KIND=VALUE`, as `sovereign assess --cut`), in order.
    ///
    /// - Throws: ``APIError`` (400, field `cut`) for more than ``maxCuts``, a cut that cannot be read, or
    ///   any cut when the fleet has no Scenario to simulate; 404 for a well-written cut naming no country.
    static func cuts(_ request: Request, fleet: Fleet) throws -> [Cut] {
        let texts = request.uri.queryParameters.getAll("cut").map { String($0) }
        guard texts.count <= maxCuts else {
            throw APIError(
                .badRequest,
                "expected at most \(maxCuts) cut parameters, found \(texts.count)",
                field: "cut"
            )
        }
        var cuts: [Cut] = []
        for text in texts {
            do {
                let cut = try Cut.parse(text)
                // A cut named twice is one cut: the same scenarios, the same answer kept.
                if !cuts.contains(cut) { cuts.append(cut) }
            } catch {
                // Well written but naming no country, group or site there can be: not found, as a site is.
                throw APIError(isWellFormed(cut: text) ? .notFound : .badRequest, error.description, field: "cut")
            }
        }
        guard cuts.isEmpty || fleet.scenario != nil else {
            throw APIError(
                .badRequest,
                "expected a fleet with a Scenario document to run stress tests over, found none",
                field: "cut"
            )
        }
        return cuts
    }

    /// Whether `text` is written as the document's pattern for a cut says: `KIND=VALUE`, a value of 1 to 63
    /// letters, digits, dots and hyphens that starts with a letter or digit.
    static func isWellFormed(cut text: String) -> Bool {
        guard let equals = text.firstIndex(of: "="), Cut.Kind(rawValue: String(text[..<equals])) != nil else {
            return false
        }
        let value = text[text.index(after: equals)...]
        let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "-") }
        return (1...63).contains(value.count) && value.first.map { $0.isASCII && ($0.isLetter || $0.isNumber) } == true
            && value.allSatisfy(allowed)
    }

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
                    let (caller, role) = try await authenticate(
                        request,
                        context: context,
                        tokens: tokens,
                        certificateSites: certificateSites,
                        needs: route.role,
                        orSite: route.site
                    )
                    let api = APIContext(
                        plane: plane,
                        federation: federation,
                        caller: caller,
                        role: role,
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
            return error.apiError
        case let error as CutError:
            // A stress test's cut naming a jurisdiction this fleet has nothing of, worded as `sovereign assess
            // --cut` words it: as a site the fleet lacks, not found.
            return APIError(.notFound, error.description, field: "cut")
        case let error as LedgerError:
            return APIError(.badRequest, error.description)
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
        needs role: TokenStore.Role?,
        orSite: Bool = false
    ) async throws -> (ControlPlane.Requester, TokenStore.Role?) {
        guard let role, request.headers[.authorization] == nil, let certificateSites,
            let peer = await context.peerCertificate()
        else {
            return try authenticate(request, tokens: tokens, needs: role, orSite: orSite)
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
        guard role == .site || orSite else {
            throw APIError(
                .forbidden,
                "expected a token with role \(role.rawValue), found the client certificate of site \(site)",
                field: "Authorization"
            )
        }
        return (ControlPlane.Requester(identity: SiteCertificate.fingerprint(derEncoded: peer.der), site: site), .site)
    }

    static func authenticate(
        _ request: Request,
        tokens: TokenStore,
        needs role: TokenStore.Role?,
        orSite: Bool = false
    ) throws
        -> (ControlPlane.Requester, TokenStore.Role?)
    {
        guard let role else { return (ControlPlane.Requester(identity: "anonymous"), nil) }
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
        // A site token acts for its site on the routes that take one and nowhere else; no other token does.
        let allowed =
            known.role == .site ? (role == .site || orSite) : (role != .site && known.role >= role)
        guard allowed else {
            let site = orSite && role != .site ? " or a site's token" : ""
            throw APIError(
                .forbidden,
                "expected a token with role \(role.rawValue)\(site), found role \(known.role.rawValue)",
                field: "Authorization"
            )
        }
        return (ControlPlane.Requester(identity: known.fingerprint, site: known.site), known.role)
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

    /// `raw`, the value of the query or path parameter `name`, as a whole number in `range`.
    ///
    /// - Throws: ``APIError`` (400) naming the parameter, the range and (the start of) what was found.
    static func int(_ raw: some StringProtocol, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(raw), range.contains(value) else {
            let bound = "in \(range.lowerBound)...\(range.upperBound)"
            throw APIError(
                .badRequest,
                "expected \(name) to be an integer \(bound), found \"\(raw.prefix(40))\"",
                field: name
            )
        }
        return value
    }

    /// The query parameter `name` as a whole number in `range`, or `nil` when the query leaves it out.
    static func optionalInt(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        try request.uri.queryParameters.get(name).map { try int($0, name, in: range) }
    }

    static func requiredInt(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = try optionalInt(request, name, in: range) else {
            throw APIError(.badRequest, "expected query parameter \(name), found none", field: name)
        }
        return value
    }
}
