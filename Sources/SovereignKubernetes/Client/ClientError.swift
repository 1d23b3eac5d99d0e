import Foundation

/// A Kubernetes API call that did not get what it expected: an error status (with the server's `Status`
/// reason and message when the body carries one), an `ERROR` event in a watch, or a body that does not decode.
///
/// The description says which request failed, what was expected and what came back:
/// `GET /api/v1/nodes/gpu-9: expected 200 with a Node, got 404 NotFound: nodes "gpu-9" not found`.
public struct KubernetesAPIError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case unexpectedStatus
        case watchError
        case malformedResponse
    }

    private let code: Code
    /// The failed request, as `METHOD path?query`.
    public let request: String
    /// What the request expected, e.g. `200 with a Node`.
    public let expected: String
    /// The HTTP status, or the `code` of the `Status` in a watch `ERROR` event; `nil` when the body was at fault.
    public let statusCode: Int?
    /// The `Status` `reason` (`NotFound`, `Forbidden`, `Expired`, ...), when the server sent one.
    public let reason: String?
    /// The `Status` `message`, or what was wrong with the body.
    public let message: String

    /// The requested resource version is too old (410 Gone / `Expired`): list again, then watch from the list.
    public var isGone: Bool { statusCode == 410 || reason == "Expired" || reason == "Gone" }
    /// The object does not exist (404).
    public var isNotFound: Bool { statusCode == 404 }
    /// The write conflicted with another (409).
    public var isConflict: Bool { statusCode == 409 }
    /// The credentials were refused (401).
    public var isUnauthorized: Bool { statusCode == 401 }
    /// The credentials lack the permission (403): check the RBAC rules.
    public var isForbidden: Bool { statusCode == 403 }

    public var description: String {
        var found: String
        switch code {
        case .unexpectedStatus:
            found = "got \(statusCode.map(String.init) ?? "an error")"
        case .watchError:
            found = "got an ERROR event\(statusCode.map { " \($0)" } ?? "")"
        case .malformedResponse:
            found = "got a body that does not decode"
        }
        if let reason, !reason.isEmpty { found += " \(reason)" }
        if !message.isEmpty { found += ": \(message)" }
        return "\(request): expected \(expected), \(found)"
    }

    static func unexpectedStatus(
        request: String,
        expected: String,
        status: Int,
        body: [UInt8],
        decode: (([UInt8]) -> WireStatus?)
    ) -> Self {
        let wire = decode(body)
        let text = String(decoding: body.prefix(512), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Self(
            code: .unexpectedStatus,
            request: request,
            expected: expected,
            statusCode: status,
            reason: wire?.reason,
            message: wire?.message ?? text
        )
    }

    static func watchError(request: String, object: WireWatchObject?) -> Self {
        Self(
            code: .watchError,
            request: request,
            expected: "watch events",
            statusCode: object?.code,
            reason: object?.reason,
            message: object?.message ?? ""
        )
    }

    static func malformed(request: String, expected: String, detail: String) -> Self {
        Self(
            code: .malformedResponse,
            request: request,
            expected: expected,
            statusCode: nil,
            reason: nil,
            message: detail
        )
    }
}
