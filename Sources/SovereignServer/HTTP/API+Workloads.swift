import Foundation
import HTTPTypes
import Hummingbird
import SovereignLedger
import SovereignModel

extension API {
    /// Workloads: list, submit, read, log, pause, resume, cancel.
    static let workloadRoutes: [APIRoute] = [
        APIRoute(method: .get, path: "/v1/workloads", role: .reader) { request, _, api in
            let limit = try optionalInt(request, "limit", in: 1...pageLimit)
            let after = try request.uri.queryParameters.get("continue").map(WorkloadList.position) ?? 0
            let page = try await api.plane.workloadPage(after: after, limit: limit)
            return try json(WorkloadList(workloads: try await api.plane.views(page.records), next: page.next))
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
                // Committed, then handed to the control loop, whose next pass runs at once after the answer:
                // the answer does not wait for a plan of the whole fleet.
                let submitted = try await api.plane.submit(document: text, by: api.caller)
                api.plane.askForPass()
                var response = try json(["workloads": try await api.plane.views(submitted)])
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
            let record = try await api.plane.setHeld(name, held: true, by: api.caller)
            return try json(try await api.plane.views([record])[0])
        },
        APIRoute(method: .post, path: "/v1/workloads/{name}/resume", role: .operator) { _, context, api in
            let name = try objectName(context, "name")
            let record = try await api.plane.setHeld(name, held: false, by: api.caller)
            return try json(try await api.plane.views([record])[0])
        },
        APIRoute(method: .post, path: "/v1/workloads/{name}/cancel", role: .operator) { _, context, api in
            let name = try objectName(context, "name")
            let record = try await api.plane.cancel(name, by: api.caller)
            return try json(try await api.plane.views([record])[0])
        },
    ]
}

/// A page of `GET /v1/workloads`: the workloads, and `continue`, the token of the next page when there is one
/// (as Kubernetes lists paginate).
struct WorkloadList: Encodable {
    let workloads: [WorkloadView]
    let `continue`: String?

    init(workloads: [WorkloadView], next: Int64?) {
        self.workloads = workloads
        self.continue = next.map { "after-\($0)" }
    }

    /// The position a `continue` token names.
    /// - Throws: ``APIError`` (400, field `continue`) when it is not a token a page returned.
    static func position(_ token: some StringProtocol) throws -> Int64 {
        let digits = token.dropFirst(6)
        guard token.hasPrefix("after-"), (1...18).contains(digits.count),
            digits.allSatisfy({ $0.isASCII && $0.isNumber }), let position = Int64(digits)
        else {
            throw APIError(
                .badRequest,
                "expected continue to be the token a previous page returned, like \"after-100\", found \"\(token.prefix(40))\"",
                field: "continue"
            )
        }
        return position
    }
}

/// A workload as the API lists it: its record, and from its spec its priority, deadline and progress.
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
    let priority: Int?
    let deadline: String?
    /// The planner's estimate of the run time its work needs on its current or last placement, seconds.
    let estimatedSeconds: Double?
    /// The run time so far (`runSeconds` and the open attempt's) over `estimatedSeconds`, at most 1; 1 once
    /// completed.
    let progress: Double?

    init(_ r: WorkloadRecord, spec: Workload? = nil, estimatedSeconds: Double? = nil, ranSeconds: Double? = nil) {
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
        priority = spec?.priority
        deadline = spec?.deadline.map(LedgerEntry.formatTime)
        self.estimatedSeconds = estimatedSeconds
        let ran = ranSeconds ?? r.runSeconds
        progress = r.state == .completed ? 1 : estimatedSeconds.flatMap { $0 > 0 ? min(1, ran / $0) : nil }
    }
}
