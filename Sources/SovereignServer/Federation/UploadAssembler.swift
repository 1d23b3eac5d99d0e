import Crypto
import Foundation
import SovereignBase
import SovereignFederation

/// Sites' updates arriving in chunks: each written to its file as it comes, in order, hashed on the way,
/// until the site's commit closes it.
struct UploadAssembler {
    /// Whose upload: a site's, for a workload.
    struct Key: Hashable {
        let workload: String
        let site: String
    }

    /// An update that arrived whole and matched its commit.
    struct Assembled {
        /// The file holding it.
        let path: URL
        /// Its lowercase hex SHA-256.
        let sha256: String
    }

    private struct Upload {
        let path: URL
        let handle: FileHandle
        var nextIndex = 0
        var bytes = 0
        var lastChunk: [UInt8] = []
        var hasher = SHA256()
    }

    private var uploads: [Key: Upload] = [:]

    /// Takes chunk `index` of a site's update. Chunk 0 starts the upload again; a resend of the last chunk
    /// is accepted and ignored.
    ///
    /// - Parameters:
    ///   - file: Where the upload is written, asked for when chunk 0 starts it.
    ///   - limit: The largest update the model allows, in bytes.
    /// - Throws: ``ControlError`` `.outOfTurn` for a chunk out of order, `.tooLarge` past `limit`;
    ///   ``FederationError`` `.io` when the file cannot be written.
    mutating func receive(_ bytes: [UInt8], index: Int, for key: Key, limit: Int, file: () throws -> URL) throws {
        if index == 0, uploads[key].map({ $0.nextIndex > 0 }) ?? true {
            try start(key, at: try file())
        }
        guard var upload = uploads[key] else {
            throw ControlError(.outOfTurn, "expected chunk 0 first, found chunk \(index)", field: "chunk")
        }
        if index == upload.nextIndex - 1, bytes == upload.lastChunk { return }  // a resend of the last chunk
        guard index == upload.nextIndex else {
            throw ControlError(
                .outOfTurn,
                "expected chunk \(upload.nextIndex), found chunk \(index)",
                field: "chunk"
            )
        }
        guard upload.bytes + bytes.count <= limit else {
            throw ControlError(
                .tooLarge,
                "expected an update of at most \(limit) bytes for this model, found more than \(upload.bytes + bytes.count)",
                field: "body"
            )
        }
        try upload.handle.write(contentsOf: bytes)
        upload.hasher.update(data: bytes)
        upload.nextIndex += 1
        upload.bytes += bytes.count
        upload.lastChunk = bytes
        uploads[key] = upload
    }

    private mutating func start(_ key: Key, at path: URL) throws {
        if let old = uploads.removeValue(forKey: key) { try? old.handle.close() }
        _ = FileManager.default.createFile(atPath: path.path, contents: nil)
        guard let handle = try? FileHandle(forWritingTo: path) else {
            throw FederationError(.io, "cannot write \(path.path)")
        }
        uploads[key] = Upload(path: path, handle: handle)
    }

    /// Closes a site's upload and checks it against the site's commit.
    ///
    /// - Throws: ``ControlError`` `.outOfTurn` when no chunk came, `.invalidUpdate` when the chunks,
    ///   size or SHA-256 differ from the commit.
    mutating func finish(_ key: Key, as commit: UpdateCommit) throws -> Assembled {
        guard let upload = uploads[key] else {
            throw ControlError(.outOfTurn, "expected chunks before the commit, found none", field: "chunks")
        }
        try upload.handle.synchronize()
        try upload.handle.close()
        uploads[key] = nil
        guard commit.chunks == upload.nextIndex, commit.bytes == upload.bytes else {
            throw ControlError(
                .invalidUpdate,
                "expected \(upload.nextIndex) chunks of \(upload.bytes) bytes as received, found a commit of \(commit.chunks) chunks and \(commit.bytes) bytes",
                field: "bytes"
            )
        }
        let digest = Hex.encode(upload.hasher.finalize())
        guard digest == commit.sha256.lowercased() else {
            throw ControlError(
                .invalidUpdate,
                "expected the update's SHA-256 to be \(commit.sha256), found \(digest)",
                field: "sha256"
            )
        }
        return Assembled(path: upload.path, sha256: digest)
    }

    /// Closes every upload still open for `workload` (its round ended, or the workload did).
    mutating func discard(_ workload: String) {
        for (key, upload) in uploads where key.workload == workload { try? upload.handle.close() }
        uploads = uploads.filter { $0.key.workload != workload }
    }
}
