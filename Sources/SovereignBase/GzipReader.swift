import CZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file in chunks, decompressing it when it is gzip (recognised by its magic bytes, `1f 8b`) and
/// passing it through otherwise: the one place Sovereign reads gzip, through the system zlib.
///
/// ```swift
/// let reader = try GzipReader(path: "rows.csv.gz")
/// while case let count = try reader.read(into: chunk), count > 0 { consume(chunk[..<count]) }
/// ```
///
/// Not `Sendable`: zlib's file handle belongs to one thread at a time.
public final class GzipReader {
    /// The path it reads, for errors.
    public let path: String
    private let file: gzFile

    /// Opens `path`.
    ///
    /// - Throws: ``GzipReadError`` with the system's reason when the file cannot be opened.
    public init(path: String) throws(GzipReadError) {
        guard let file = gzopen(path, "rb") else {
            throw GzipReadError(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        gzbuffer(file, 1 << 17)
        self.path = path
        self.file = file
    }

    deinit { gzclose(file) }

    /// Reads the next bytes (decompressed) into `buffer`.
    ///
    /// - Returns: The bytes read; 0 only at the end of the file.
    /// - Throws: ``GzipReadError`` when a read fails, or the gzip stream is corrupt or truncated.
    public func read(into buffer: UnsafeMutableBufferPointer<UInt8>) throws(GzipReadError) -> Int {
        let read = gzread(file, buffer.baseAddress, UInt32(min(buffer.count, Int(Int32.max))))
        var errorNumber: Int32 = 0
        if read < 0 {
            let message = gzerror(file, &errorNumber).map { String(cString: $0) } ?? "unknown error"
            throw GzipReadError(path: path, message: "cannot read: \(message)")
        }
        if read == 0 {
            _ = gzerror(file, &errorNumber)
            if errorNumber == Z_BUF_ERROR {
                throw GzipReadError(path: path, message: "expected a complete gzip stream, found it truncated")
            }
        }
        return Int(read)
    }
}

@available(*, unavailable)
extension GzipReader: Sendable {}

/// A file that could not be read: which path and why.
public struct GzipReadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path.
    public let path: String
    /// What went wrong (`cannot open: No such file or directory`).
    public let message: String

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
}
