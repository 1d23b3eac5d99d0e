import Foundation
import HTTPTypes
import Hummingbird
import SovereignCheckpoint
import SovereignModel

extension API {
    /// The route site agents poll (`site` tokens, each for its own site only).
    static let agentRoutes: [APIRoute] = [
        APIRoute(method: .post, path: "/v1/sites/{site}/agent", role: .site) { request, context, api in
            let site = try objectName(context, "site")
            let own = try API.site(api)
            guard own == site else {
                throw APIError(
                    .forbidden,
                    "expected the site this token acts for (\(own)), found \"\(site)\"",
                    field: "site"
                )
            }
            let report = try strictDecode(AgentReport.self, from: try await collect(request))
            try checkReport(report)
            return try json(try await api.plane.agentPoll(site: site, report: report, by: api.caller))
        },
        APIRoute(method: .put, path: "/v1/transfers/{transfer}/offer", role: .site) { request, context, api in
            let transfer = try context.parameters.require("transfer")
            let body = try await collect(request, limit: SignedOffer.maximumSize * 2)
            let offer = try strictDecode(SignedOffer.self, from: body)
            try await api.plane.relayOffer(transfer, offer, from: try site(api))
            return try json(["transfer": transfer])
        },
        APIRoute(method: .put, path: "/v1/transfers/{transfer}/chunks/{chunk}", role: .site) {
            request,
            context,
            api in
            let transfer = try context.parameters.require("transfer")
            let chunk = try int(context.parameters.require("chunk"), "chunk", in: 0...countLimit)
            let limit = try await api.plane.relayChunkLimit(transfer, index: chunk, from: try site(api))
            let sealed = try await collect(request, limit: limit)
            try await api.plane.relayChunk(transfer, index: chunk, sealed: sealed, from: try site(api))
            return try json(["received": chunk])
        },
        APIRoute(method: .get, path: "/v1/transfers/{transfer}/offer", role: .site) { _, context, api in
            let transfer = try context.parameters.require("transfer")
            return try json(try await api.plane.relayedOffer(transfer, to: try site(api)))
        },
        APIRoute(method: .get, path: "/v1/transfers/{transfer}/chunks/{chunk}", role: .site) { _, context, api in
            let transfer = try context.parameters.require("transfer")
            let chunk = try int(context.parameters.require("chunk"), "chunk", in: 0...countLimit)
            return binary(try await api.plane.relayedChunk(transfer, index: chunk, to: try site(api)))
        },
    ]

    /// Most attempts and checkpoints one report may list (a site runs far fewer at once).
    static let reportLimit = 10_000

    /// Refuses a report with lists longer than any site's, numbers out of range or names that are not
    /// DNS-1123 names (the limits `openapi.yaml` states).
    static func checkReport(_ report: AgentReport) throws {
        let counts = [
            ("attempts", report.attempts.count), ("checkpoints", report.checkpoints.count),
            ("logs", report.logs?.count ?? 0), ("received", report.received?.count ?? 0),
        ]
        for (field, count) in counts where count > reportLimit {
            throw APIError(.badRequest, "expected at most \(reportLimit) \(field), found \(count)", field: field)
        }
        try checkCount(report.seenThrough, in: 0...Int64(countLimit), field: "seenThrough")
        if let wait = report.wait, !(0...60).contains(wait) {
            throw APIError(.badRequest, "expected a wait of 0 to 60 seconds, found \(wait)", field: "wait")
        }
        let hexDigit: (UInt8) -> Bool = { (48...57).contains($0) || (97...102).contains($0) }
        if let answered = report.answered, answered.utf8.count != 64 || !answered.utf8.allSatisfy(hexDigit) {
            throw APIError(
                .badRequest,
                "expected the version of an answer (64 hexadecimal digits), found \"\(answered.prefix(80))\"",
                field: "answered"
            )
        }
        for (i, attempt) in report.attempts.enumerated() {
            try checkCount(attempt.id, in: 1...Int64(countLimit), field: "attempts[\(i)].id")
            try checkName(attempt.workload, field: "attempts[\(i)].workload")
        }
        for (i, log) in (report.logs ?? []).enumerated() {
            try checkCount(log.id, in: 1...Int64(countLimit), field: "logs[\(i)].id")
        }
        for (i, checkpoint) in report.checkpoints.enumerated() {
            try checkCount(checkpoint.bytes, in: 0...Int64(countLimit), field: "checkpoints[\(i)].bytes")
            try checkName(checkpoint.workload, field: "checkpoints[\(i)].workload")
        }
        try checkArrivals(report)
    }

    /// A peer listener's URL, as `openapi.yaml` states it: scheme, lowercase host, optional port, no path.
    nonisolated(unsafe) static let peerPattern = /https?:\/\/[a-z0-9.-]{1,63}(:[0-9]{1,5})?/

    /// Refuses keys that are not 32 bytes in base64 and arrivals with malformed transfers or digests.
    static func checkArrivals(_ report: AgentReport) throws {
        if let keys = report.keys {
            for (field, text) in [("keys.agreement", keys.agreement), ("keys.signing", keys.signing)]
            where Data(base64Encoded: text)?.count != 32 {
                throw APIError(
                    .badRequest,
                    "expected \(field) to be base64 of 32 bytes, found \"\(text.prefix(60))\"",
                    field: field
                )
            }
        }
        if let peer = report.peer, peer.wholeMatch(of: peerPattern) == nil {
            throw APIError(
                .badRequest,
                "expected peer to be an http or https URL like \"http://10.1.2.3:9443\" (lowercase host, a port, no path), found \"\(peer.prefix(80))\"",
                field: "peer"
            )
        }
        for (i, arrival) in (report.received ?? []).enumerated() {
            let hex = arrival.manifest.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
            guard arrival.manifest.utf8.count == 64, hex else {
                throw APIError(
                    .badRequest,
                    "expected received[\(i)].manifest to be 64 lowercase hex digits, found \"\(arrival.manifest.prefix(80))\"",
                    field: "received[\(i)].manifest"
                )
            }
            try checkCount(arrival.bytes, in: 0...Int64(countLimit), field: "received[\(i)].bytes")
            guard CheckpointPath.isSafeName(arrival.transfer) else {
                throw APIError(
                    .badRequest,
                    "expected received[\(i)].transfer to be a transfer id like \"train.42\", found \"\(arrival.transfer.prefix(80))\"",
                    field: "received[\(i)].transfer"
                )
            }
        }
    }

    static func checkCount(_ value: Int64, in range: ClosedRange<Int64>, field: String) throws {
        guard range.contains(value) else {
            throw APIError(
                .badRequest,
                "expected \(field) in \(range.lowerBound)...\(range.upperBound), found \(value)",
                field: field
            )
        }
    }

    static func checkName(_ name: String, field: String) throws {
        guard SpecNames.isObjectName(name) else {
            throw APIError(
                .badRequest,
                "expected \(field) to be a lowercase DNS-1123 name, found \"\(name.prefix(80))\"",
                field: field
            )
        }
    }
}
