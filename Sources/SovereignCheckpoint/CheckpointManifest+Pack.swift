import Crypto
import Foundation
import SovereignBase

extension CheckpointManifest {
    /// The manifest of the checkpoint directory at `directory`, every file read once through a fixed-size
    /// buffer (never a whole file in memory).
    ///
    /// - Parameter directory: The checkpoint directory.
    /// - Throws: ``CheckpointError``: a symbolic link, device or other non-regular entry, a name that is not
    ///   a safe path component, or a file that cannot be read.
    /// - Complexity: O(*n*) in the checkpoint's bytes; memory O(files), not O(bytes).
    public static func pack(directory: String) throws(CheckpointError) -> CheckpointManifest {
        try packWithStamps(directory: directory).manifest
    }

    /// The manifest and, per file in its order, the file's stamp taken before it was read.
    static func packWithStamps(
        directory: String
    ) throws(CheckpointError) -> (
        manifest: CheckpointManifest, stamps: [FileStamp]
    ) {
        var found: [(File, FileStamp)] = []
        try walk(root: directory, relative: nil, into: &found)
        let manifest = try CheckpointManifest(files: found.map(\.0))
        let stampByPath = Dictionary(found.map { ($0.0.path, $0.1) }, uniquingKeysWith: { first, _ in first })
        return (manifest, manifest.files.compactMap { stampByPath[$0.path] })
    }

    private static func walk(
        root: String,
        relative: String?,
        into found: inout [(File, FileStamp)]
    )
        throws(CheckpointError)
    {
        let directory = relative.map { root + "/" + $0 } ?? root
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw CheckpointError(
                .fileSystem,
                file: relative,
                expected: "a readable directory",
                found: String(describing: error)
            )
        }
        for name in names {
            let path = relative.map { $0 + "/" + name } ?? name
            _ = try CheckpointPath.components(path)
            let stamp = try FileStamp.of(root + "/" + path, relative: path)
            switch stamp.type {
            case .typeDirectory:
                try walk(root: root, relative: path, into: &found)
            case .typeRegular:
                let (size, digest) = try FileDigest.sha256(of: root + "/" + path, relative: path)
                found.append((File(path: path, size: size, sha256: digest), stamp))
            default:
                throw CheckpointError(
                    .notRegularFile,
                    file: path,
                    expected: "a regular file or a directory",
                    found: FileStamp.describe(stamp.type)
                )
            }
        }
    }
}

/// What a file was when it was packed (never following a symbolic link): if any of it differs when a
/// chunk is sealed, the file changed, and sealing different bytes under the same key and nonce would break
/// AES-GCM, so the sender refuses instead.
struct FileStamp: Sendable, Hashable {
    let type: FileAttributeType
    let size: Int64
    let inode: UInt64
    let modified: Date?

    /// `a directory`, `a regular file`, `a symbolic link`, or the system's name of another type.
    static func describe(_ type: FileAttributeType) -> String {
        switch type {
        case .typeDirectory: "a directory"
        case .typeRegular: "a regular file"
        case .typeSymbolicLink: "a symbolic link"
        default: "a \(type.rawValue)"
        }
    }

    /// The stamp of the entry at `path` (`lstat`).
    static func of(_ path: String, relative: String) throws(CheckpointError) -> FileStamp {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw CheckpointError(.fileSystem, file: relative, expected: "a file", found: String(describing: error))
        }
        return FileStamp(
            type: attributes[.type] as? FileAttributeType ?? .typeUnknown,
            size: (attributes[.size] as? NSNumber)?.int64Value ?? -1,
            inode: (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0,
            modified: attributes[.modificationDate] as? Date
        )
    }
}

/// SHA-256 of a file read through one fixed-size buffer.
enum FileDigest {
    /// Bytes read at a time: small enough to stay in the CPU's cache between the read and the hash.
    static let bufferSize = 256 * 1024

    /// The size and SHA-256 (lowercase hex) of the file at `path` (never a symbolic link), read with
    /// positioned reads into one buffer that the hash reads in place.
    static func sha256(of path: String, relative: String) throws(CheckpointError) -> (Int64, String) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        do {
            let file = try POSIX.File(path, for: .reading)
            var hasher = SHA256()
            var size: Int64 = 0
            while case let count = try file.read(into: buffer, at: size), count > 0 {
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                size += Int64(count)
            }
            return (size, Hex.encode(hasher.finalize()))
        } catch {
            throw CheckpointError(.fileSystem, file: relative, expected: "a readable file", found: "\(error)")
        }
    }
}
