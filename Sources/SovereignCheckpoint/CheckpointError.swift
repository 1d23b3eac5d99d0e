/// Why a checkpoint could not be packed, sent, received or put in place: which file and chunk, what was
/// expected and what was found. A receiver that throws one leaves the previous checkpoint untouched.
public struct CheckpointError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a kind a caller can act on.
    public enum Kind: String, Sendable, Hashable {
        /// A path in a manifest or a checkpoint directory is not a safe relative path.
        case invalidPath
        /// An entry of a checkpoint directory is not a regular file (a symbolic link, a device, ...).
        case notRegularFile
        /// A file could not be read, written, created or renamed.
        case fileSystem
        /// A file changed at the source after it was packed, so sealing it again would reuse a nonce.
        case changedAtSource
        /// A chunk index outside the transfer, or a chunk whose length is not the layout's.
        case badChunk
        /// A chunk failed authentication: a flipped bit, another index, another transfer or another key.
        case unauthentic
        /// The receiver was asked to commit with chunks still missing.
        case incomplete
        /// A received file's size or SHA-256 differs from the manifest.
        case digestMismatch
        /// An offer (transfer id, workload, chunk size, key) that is not well formed.
        case invalidOffer
    }

    /// What went wrong.
    public let kind: Kind
    /// The checkpoint-relative path of the file at fault, when one is.
    public let file: String?
    /// The chunk at fault, when one is.
    public let chunk: Int?
    /// What was expected.
    public let expected: String
    /// What was found.
    public let found: String

    /// Makes an error.
    package init(_ kind: Kind, file: String? = nil, chunk: Int? = nil, expected: String, found: String) {
        self.kind = kind
        self.file = file
        self.chunk = chunk
        self.expected = expected
        self.found = found
    }

    /// `checkpoint file weights/a.bin, chunk 3: expected ..., found ...`.
    public var description: String {
        var place = "checkpoint"
        if let file { place += " file \(file)" }
        if let chunk { place += (file == nil ? " chunk " : ", chunk ") + String(chunk) }
        return "\(place): expected \(expected), found \(found)"
    }
}
