import Foundation
import HTTPTypes
import Hummingbird
import SovereignLedger

extension API {
    /// The ledger: its head, entries, signed checkpoints and RFC 9162 proofs.
    static let ledgerRoutes: [APIRoute] = [
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
