import Foundation
public import HTTPTypes
public import Hummingbird
import NIOCore
public import SovereignModel

/// An error answered as JSON: `{"error": {"message": ..., "field": ...}}`, with the diagnostics of a
/// spec that did not validate when there are any.
public struct APIError: HTTPResponseError, CustomStringConvertible, Sendable {
    public let status: HTTPResponse.Status
    /// What went wrong, what was expected and what was found.
    public let message: String
    /// The request field (or spec path) at fault.
    public let field: String?
    /// Spec diagnostics (`request body:LINE:COL: error: ...`), for a submitted document.
    public let diagnostics: [Diagnostic]
    /// Headers the answer carries besides the content type (`Allow` on a 405).
    public let headers: HTTPFields

    /// Makes an error.
    public init(
        _ status: HTTPResponse.Status,
        _ message: String,
        field: String? = nil,
        diagnostics: [Diagnostic] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.message = message
        self.field = field
        self.diagnostics = diagnostics
        self.headers = headers
    }

    public var description: String { message }

    struct Body: Encodable {
        struct Inner: Encodable {
            let message: String
            let field: String?
            let diagnostics: [DiagnosticView]?
        }
        let error: Inner
    }

    struct DiagnosticView: Encodable {
        let line: Int
        let column: Int
        let path: String
        let rule: String
        let message: String
    }

    /// The JSON body the error is answered with.
    var jsonBody: [UInt8] {
        let body = Body(
            error: .init(
                message: message,
                field: field,
                diagnostics: diagnostics.isEmpty
                    ? nil
                    : diagnostics.map {
                        DiagnosticView(
                            line: $0.location.line,
                            column: $0.location.column,
                            path: $0.path,
                            rule: $0.rule.rawValue,
                            message: $0.description
                        )
                    }
            )
        )
        return [UInt8]((try? JSONEncoder.api.encode(body)) ?? Data())
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"sovereign\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }
}

extension JSONEncoder {
    /// Sorted keys, so that answers are stable.
    static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// The control plane's refusals meet HTTP here, and nowhere else: each kind of refusal has its status.
extension ControlError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch code {
        case .unknownWorkload, .unknownSite, .unknownTransfer, .unknownDataset: .notFound
        case .ended, .outOfTurn, .noSiteAgent: .conflict
        case .invalidName: .badRequest
        case .notParticipant, .wrongSite: .forbidden
        case .tooLarge: .contentTooLarge
        case .federationRefused, .invalidUpdate, .invalidCheckpoint, .derivationRefused: .unprocessableContent
        case .notLeader: .serviceUnavailable
        }
    }

    /// The refusal as the API's JSON error.
    var apiError: APIError { APIError(status, message, field: field) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try apiError.response(from: request, context: context)
    }
}
