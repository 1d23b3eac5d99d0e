public import Foundation

/// The end of a file, read without reading the rest: what a log's tail needs.
public enum FileTail: Sendable {
    /// The last `limit` bytes of the file at `path` (all of it when shorter), or nil when it cannot be opened.
    public static func read(_ path: String, limit: Int) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let bound = UInt64(max(0, limit))
        try? handle.seek(toOffset: size > bound ? size - bound : 0)
        return (try? handle.readToEnd()) ?? Data()
    }
}
