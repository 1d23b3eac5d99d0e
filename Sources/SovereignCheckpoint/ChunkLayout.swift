/// How a checkpoint's files are cut into chunks: each file, in manifest order, into pieces of `chunkSize`
/// bytes (the last one shorter; an empty file is one empty chunk), numbered across the whole transfer.
/// Any chunk can be found from its index alone, so a sender can (re)produce chunk *i* on demand.
public struct ChunkLayout: Sendable, Hashable {
    /// One chunk: where its bytes are.
    public struct Chunk: Sendable, Hashable {
        /// Its index in the transfer.
        public let index: Int
        /// The index of its file in the manifest.
        public let file: Int
        /// Its first byte's offset in the file.
        public let offset: Int64
        /// Its length in bytes (at most the chunk size).
        public let length: Int
        /// Whether it is the transfer's last chunk.
        public let isLast: Bool
    }

    /// Plaintext bytes per chunk.
    public let chunkSize: Int
    /// The number of chunks in the transfer.
    public let chunkCount: Int
    private let sizes: [Int64]
    /// Per file, the index of its first chunk.
    private let firstChunk: [Int]

    /// The layout of `manifest` in chunks of `chunkSize` bytes.
    ///
    /// - Complexity: O(files).
    public init(_ manifest: CheckpointManifest, chunkSize: Int) {
        precondition(chunkSize > 0, "a chunk size is positive")
        self.chunkSize = chunkSize
        sizes = manifest.files.map(\.size)
        var first: [Int] = []
        var next = 0
        for size in sizes {
            first.append(next)
            next += Swift.max(1, Int((size + Int64(chunkSize) - 1) / Int64(chunkSize)))
        }
        firstChunk = first
        chunkCount = next
    }

    /// Chunk `index`.
    ///
    /// - Throws: ``CheckpointError`` of kind `badChunk` for an index outside the transfer.
    /// - Complexity: O(log files).
    public func chunk(_ index: Int) throws(CheckpointError) -> Chunk {
        guard index >= 0, index < chunkCount else {
            throw CheckpointError(
                .badChunk,
                chunk: index,
                expected: "a chunk index in 0..<\(chunkCount)",
                found: String(index)
            )
        }
        // The last file whose first chunk is at or before `index`.
        var low = 0
        var high = firstChunk.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if firstChunk[middle] <= index { low = middle } else { high = middle - 1 }
        }
        let offset = Int64(index - firstChunk[low]) * Int64(chunkSize)
        let length = Int(Swift.min(Int64(chunkSize), sizes[low] - offset))
        return Chunk(index: index, file: low, offset: offset, length: length, isLast: index == chunkCount - 1)
    }

    /// The chunks of file `file` (its index in the manifest).
    public func chunks(ofFile file: Int) -> Range<Int> {
        firstChunk[file]..<(file + 1 < firstChunk.count ? firstChunk[file + 1] : chunkCount)
    }
}
