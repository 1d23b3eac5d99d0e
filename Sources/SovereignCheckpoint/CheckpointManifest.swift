import Crypto
import Foundation
import SovereignBase

/// The files of a checkpoint directory: each one's relative path, size and SHA-256, in canonical order
/// (paths by UTF-16 code units, as RFC 8785 orders keys), and the digest of the manifest itself: the value
/// the ledger records for a move and the receiver checks before anything is put in place.
public struct CheckpointManifest: Sendable, Hashable, Codable {
    /// One file of a checkpoint.
    public struct File: Sendable, Hashable, Codable {
        /// Its path relative to the checkpoint directory, `/`-separated.
        public let path: String
        /// Its size in bytes.
        public let size: Int64
        /// Its SHA-256, lowercase hex.
        public let sha256: String

        /// Makes an entry; the path is checked when the manifest is made.
        public init(path: String, size: Int64, sha256: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }

    /// The format written into the canonical form, so a later layout gets another digest.
    public static let format = "sovereign-checkpoint/1"

    /// The files, in canonical order.
    public let files: [File]

    /// A manifest of `files`, checked and put in canonical order.
    ///
    /// - Throws: ``CheckpointError`` of kind `invalidPath` for an unsafe path, a path listed twice, a
    ///   path that is also another's directory, a negative size or a digest that is not 64 hex digits.
    public init(files: [File]) throws(CheckpointError) {
        let sorted = files.sorted { CanonicalJSON.keyPrecedes($0.path, $1.path) }
        try Self.check(sorted)
        self.files = sorted
    }

    /// Decodes a manifest (its ``canonicalJSON`` or any JSON of the same shape) and checks it as
    /// ``init(files:)`` does.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let format = try container.decode(String.self, forKey: .format)
        guard format == Self.format else {
            throw CheckpointError(.invalidPath, expected: "format \(Self.format)", found: JSONString.quoted(format))
        }
        try self.init(files: container.decode([File].self, forKey: .files))
    }

    /// Encodes `format` and `files`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.format, forKey: .format)
        try container.encode(files, forKey: .files)
    }

    private enum CodingKeys: String, CodingKey {
        case format, files
    }

    /// The total size of the files.
    public var totalSize: Int64 { files.reduce(0) { $0 + $1.size } }

    /// The manifest in RFC 8785 canonical JSON:
    /// `{"files":[{"path":…,"sha256":…,"size":…},…],"format":"sovereign-checkpoint/1"}`.
    public var canonicalJSON: [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"files":["#.utf8)
        for (index, file) in files.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"path":"#.utf8)
            CanonicalJSON.writeString(file.path, to: &out)
            out.append(contentsOf: #","sha256":"#.utf8)
            CanonicalJSON.writeString(file.sha256, to: &out)
            out.append(contentsOf: #","size":"#.utf8)
            CanonicalJSON.writeNumber(Double(file.size), to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"format":"#.utf8)
        CanonicalJSON.writeString(Self.format, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// SHA-256 of ``canonicalJSON``, lowercase hex: what the ledger records.
    public var digest: String { Hex.encode(SHA256.hash(data: canonicalJSON)) }

    private static func check(_ sorted: [File]) throws(CheckpointError) {
        var seen = Set<String>()
        for file in sorted {
            _ = try CheckpointPath.components(file.path)
            guard file.size >= 0 else {
                throw CheckpointError(.invalidPath, file: file.path, expected: "a size ≥ 0", found: String(file.size))
            }
            guard file.sha256.utf8.count == 64, Hex.decode(file.sha256) != nil else {
                throw CheckpointError(
                    .invalidPath,
                    file: file.path,
                    expected: "a SHA-256 of 64 hex digits",
                    found: JSONString.quoted(file.sha256)
                )
            }
            guard seen.insert(file.path).inserted else {
                throw CheckpointError(.invalidPath, file: file.path, expected: "each path once", found: "it twice")
            }
        }
        // A file may not also be a directory of another: `a` and `a/b` cannot both be files.
        for file in sorted {
            let components = file.path.split(separator: "/")
            for end in components.indices.dropLast() {
                let directory = components[...end].joined(separator: "/")
                guard !seen.contains(directory) else {
                    throw CheckpointError(
                        .invalidPath,
                        file: file.path,
                        expected: "no file inside another file",
                        found: "\(directory) listed as a file"
                    )
                }
            }
        }
    }
}
